//! Crash: the real `oneshare-server` binary is killed with SIGKILL while clients
//! stream creates at it, then restarted on the same data. Every create that was
//! answered 2xx must be intact after the restart (its status answers `unbound`),
//! and so must its replay nonce: the same request sent again is `replayed`
//! (PROTOCOL.md §6, "Replay after a crash").
//! Run on SQLite (a temp data dir) and on PostgreSQL (`support/pg.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/pg.rs"]
mod pg;

#[path = "support/relay.rs"]
mod relay;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oneshare_sdk::api::ShareStatus;
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::signing::Signer;
use oneshare_sdk::token::ShareId;
use relay::{compose, free_port, relay_key, signed, start};

const CLIENTS: usize = 8;

async fn crash_and_restart(database: &str, dir: &Path) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir, database, port).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let relay = relay_key(&http, &base).await;
    // Each acknowledged create, with a copy of the request to replay later.
    let acked: Arc<Mutex<Vec<(ShareId, reqwest::RequestBuilder)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, base, relay, acked, stop) = (
                http.clone(),
                base.clone(),
                relay.clone(),
                acked.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let owner = OwnerIdentity::generate().unwrap();
                let mut failed = 0u64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let (req, keys) = compose(&owner);
                    let body = serde_json::to_vec(&req).unwrap();
                    let signer = (&owner.signing_key, Signer::Owner(owner.public_key()));
                    let send = signed(
                        &http,
                        &base,
                        &relay,
                        signer,
                        "POST",
                        "/v1/shares",
                        Some(body),
                    );
                    let replay = send.try_clone().unwrap();
                    match send.send().await {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().push((keys.share_id, replay));
                        }
                        _ => failed += 1,
                    }
                }
                failed
            })
        })
        .collect();
    // Let the stream run, then kill -9 in the middle of it.
    let t = Instant::now();
    while acked.lock().unwrap().len() < 100 && t.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill_9();
    // Requests in flight at the kill fail; wait for every client to see that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut failed = 0;
    for c in clients {
        failed += c.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.len() >= 100, "too few creates before the kill");
    assert!(failed > 0, "no request was cut off by the kill");

    let mut server = start(dir, database, port).await;
    let mut intact = 0;
    for (id, _) in &acked {
        let r = http
            .get(format!("{base}/v1/shares/{id}/status"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "acknowledged create {id} lost after kill -9"
        );
        let s: ShareStatus = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(s.state, State::Unbound, "{id}");
        intact += 1;
    }
    // The last acknowledged creates (those nearest the kill) replayed byte for
    // byte: their nonces were committed with them, so each is refused as a replay.
    let replays = acked.len().min(20);
    for (id, replay) in acked.into_iter().rev().take(replays) {
        let r = replay.send().await.unwrap();
        let status = r.status();
        let body = String::from_utf8_lossy(&r.bytes().await.unwrap()).into_owned();
        assert_eq!(status, 401, "replay of create {id} after restart: {body}");
        assert!(
            body.contains("\"replayed\""),
            "replay of create {id}: {body}"
        );
    }
    eprintln!(
        "crash ({}): {intact} acknowledged creates intact after kill -9 and restart, \
         {failed} requests failed at or after the kill, {replays} replays refused",
        database.split(':').next().unwrap_or("")
    );
    server.kill_9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_creates_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db/oneshare.db").display());
    crash_and_restart(&db, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_creates_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg::fresh_db().await;
    crash_and_restart(&db, dir.path()).await;
}
