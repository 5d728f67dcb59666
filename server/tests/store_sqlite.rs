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
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
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
        .revoke(&s.share_id, Some(&owner), conformance::T0 + 1, None)
        .await
        .unwrap();
    store.sweep(conformance::T0 + 2).await.unwrap();
    assert_eq!(scan(), 0, "ciphertext left on disk after revoke + sweep");
}

/// Revoke alone (no sweep) already clears the record from every database file,
/// the `-wal` included (issue 8, item 11).
#[tokio::test]
async fn revoke_alone_clears_the_wal() {
    let (store, dir) = make().await;
    let marker = b"MARKER-7c2d5b90-revoked-at-once".repeat(50);
    let owner = conformance::key();
    let s = conformance::share(&owner, &marker);
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let scan = || {
        let mut hits = 0;
        for e in std::fs::read_dir(dir.path().join("sub")).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            hits += bytes.windows(40).filter(|w| *w == &marker[..40]).count();
        }
        hits
    };
    assert!(scan() > 0, "the marker should be on disk before revoke");
    store
        .revoke(&s.share_id, Some(&owner), conformance::T0 + 1, None)
        .await
        .unwrap();
    assert_eq!(scan(), 0, "ciphertext left on disk after revoke");
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
        store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    }
    let store = SqliteStore::open(&url).await.unwrap();
    assert!(store.share(&s.share_id).await.unwrap().is_some());
}

/// Reader connections opened (and recycled) while the writer is mid-transaction
/// never make a write fail: readers run no writing pragma (issue 8, item 0).
/// Before the fix this workload failed writes with SQLITE_BUSY or stalled, so it
/// runs on its own runtime and a stall past a minute fails the test too.
#[test]
fn readers_recycled_under_writes_cause_no_errors() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        let _ = tx.send(rt.block_on(readers_and_writers()));
    });
    let (ok, failed) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("reads and writes stalled");
    assert!(ok > 20, "too few writes to be a test: {ok}");
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
}

/// Writes (create, bind, confirm) for 3 s against 8 readers whose connections
/// live 5 ms; the number of writes done and every failure.
async fn readers_and_writers() -> (u32, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db").display());
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with(&url, std::time::Duration::from_millis(5))
            .await
            .unwrap(),
    );
    let owner = conformance::key();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = conformance::share(&owner, b"record");
                let dev = conformance::key();
                let r = async {
                    store.create_share(&s, u64::MAX, u64::MAX, None).await?;
                    store
                        .bind(
                            &s.share_id,
                            &conformance::good(),
                            &dev,
                            conformance::T0 + 1,
                            None,
                        )
                        .await?;
                    store
                        .confirm(&s.share_id, &dev, conformance::T0 + 2, None)
                        .await
                };
                match tokio::time::timeout(std::time::Duration::from_secs(5), r).await {
                    Ok(Ok(_)) => ok += 1,
                    Ok(Err(e)) => failed.push(e.to_string()),
                    Err(_) => failed.push("a write took more than 5 s".to_owned()),
                }
            }
            (ok, failed)
        })
    };
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                let mut failed = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let read = store.events_since(&owner, 0, 5);
                    match tokio::time::timeout(std::time::Duration::from_secs(5), read).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => failed.push(e.to_string()),
                        Err(_) => failed.push("a read took more than 5 s".to_owned()),
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                failed
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, mut failed) = writer.await.unwrap();
    for r in readers {
        failed.extend(r.await.unwrap());
    }
    (ok, failed)
}
