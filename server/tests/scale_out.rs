//! Scale-out (issue 8, item 15): two relay processes on one PostgreSQL read one
//! key file, so a client that pinned the relay key on instance A is served by
//! instance B, and `rotate-key` reaches both while they run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/pg.rs"]
mod pg;
#[path = "support/relay.rs"]
mod relay;

use std::process::Command;

use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::signing::SigningKey;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_share_the_key_and_follow_a_rotation() {
    let db = pg::fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (relay::free_port(), relay::free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let _sa = relay::start(dir.path(), &db, pa).await;
    let _sb = relay::start(dir.path(), &db, pb).await;
    let http = reqwest::Client::new();
    let owner = OwnerIdentity::generate().unwrap();
    // The client pins A's key, creates on A and binds on B.
    let pinned = relay::relay_key(&http, &a).await;
    assert_eq!(relay::relay_key(&http, &b).await, pinned);
    let keys = relay::create_keys(&http, &a, &pinned, &owner)
        .await
        .unwrap();
    // Rotation while both run.
    let out = Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
        .args(["rotate-key", "--data-dir"])
        .arg(dir.path().join("keys"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The pinned (now previous) key still works on B during the grace period.
    let device = SigningKey::generate().unwrap();
    let (status, code) = relay::bind(&http, &b, &pinned, &keys, &device).await;
    assert_eq!(status, 200, "{code}");
    // A announces the new key without a restart...
    let fresh = relay::relay_key(&http, &a).await;
    assert_ne!(fresh, pinned, "A still announces the rotated key");
    // ...and B accepts it before it was even asked for its key.
    relay::create_keys(&http, &b, &fresh, &owner)
        .await
        .expect("B refused the new key");
    assert_eq!(relay::relay_key(&http, &b).await, fresh);
}
