//! The store conformance suite on SQLite, plus SQLite's own durability checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod conformance;

use std::sync::Arc;

use oneshare_server::store::Store;
use oneshare_server::store::sqlite::SqliteStore;

async fn make() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sub/oneshare.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    (Arc::new(store), dir)
}

conformance_tests!(make);

/// Revoke + sweep leaves no trace of a record's ciphertext in any database file.
#[tokio::test]
async fn revoked_ciphertext_is_gone_from_disk() {
    let (store, dir) = make().await;
    let marker = b"MARKER-0f3c9a1e-ciphertext-that-must-vanish".repeat(50);
    let owner = conformance::key();
    let s = conformance::share(&owner, &marker);
    store.create_share(&s, 10).await.unwrap();
    let scan = || {
        let mut hits = 0;
        for e in std::fs::read_dir(dir.path().join("sub")).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            hits += bytes
                .windows(marker.len().min(40))
                .filter(|w| *w == &marker[..40])
                .count();
        }
        hits
    };
    assert!(scan() > 0, "the marker should be on disk before revoke");
    store
        .revoke(&s.share_id, Some(&owner), conformance::T0 + 1)
        .await
        .unwrap();
    store.sweep(conformance::T0 + 2).await.unwrap();
    assert_eq!(scan(), 0, "ciphertext left on disk after revoke + sweep");
}

/// Data survives closing and reopening the database.
#[tokio::test]
async fn reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db").display());
    let owner = conformance::key();
    let s = conformance::share(&owner, b"keep");
    {
        let store = SqliteStore::open(&url).await.unwrap();
        store.create_share(&s, 10).await.unwrap();
    }
    let store = SqliteStore::open(&url).await.unwrap();
    assert!(store.share(&s.share_id).await.unwrap().is_some());
}
