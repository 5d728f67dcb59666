//! The store conformance suite on PostgreSQL (a real server started by
//! `support/pg.rs`, one fresh database per test), plus what only a shared
//! database has: several relay instances on one database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod conformance;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/relay.rs"]
mod relay;

use std::sync::Arc;
use std::time::Duration;

use oneshare_server::store::Store;
use oneshare_server::store::postgres::PgStore;

async fn make() -> (Arc<dyn Store>, ()) {
    let url = pg::fresh_db().await;
    (Arc::new(PgStore::open(&url).await.unwrap()), ())
}

conformance_tests!(make);

/// An event written through one instance wakes the event signal of another
/// (LISTEN/NOTIFY), and the other instance reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_from_instance_b_wakes_instance_a() {
    let url = pg::fresh_db().await;
    let a = PgStore::open(&url).await.unwrap();
    let b = PgStore::open(&url).await.unwrap();
    let owner = conformance::key();
    let mut signal = a.event_signal(&owner);
    signal.borrow_and_update();
    let s = conformance::share(&owner, b"cross-instance");
    b.create_share(&s, 10, u64::MAX, None).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), signal.changed())
        .await
        .expect("instance A was not woken by instance B's event")
        .unwrap();
    let events = a.events_since(&owner, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].share_id, s.share_id);
}

/// Two instances migrating the same empty database at once both succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_start_migrates_once() {
    let url = pg::fresh_db().await;
    let (a, b) = tokio::join!(PgStore::open(&url), PgStore::open(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let owner = conformance::key();
    let s = conformance::share(&owner, b"x");
    a.create_share(&s, 10, u64::MAX, None).await.unwrap();
    assert!(b.share(&s.share_id).await.unwrap().is_some());
}

/// Revoke deletes ciphertext rows and columns: no table holds the marker after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_ciphertext_is_gone_from_tables() {
    let url = pg::fresh_db().await;
    let store = PgStore::open(&url).await.unwrap();
    let marker = b"MARKER-5d1e-ciphertext-that-must-vanish".repeat(20);
    let owner = conformance::key();
    let s = conformance::share(&owner, &marker);
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let count = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM shares WHERE position($1 in record) > 0 \
                     OR position($1 in owner_data) > 0) \
                  + (SELECT COUNT(*) FROM attachment_parts WHERE position($1 in data) > 0)",
        )
        .bind(&marker[..40])
        .fetch_one(&pool)
        .await
        .unwrap();
        n
    };
    assert_eq!(count().await, 1);
    store
        .revoke(&s.share_id, Some(&owner), conformance::T0 + 1, None)
        .await
        .unwrap();
    assert_eq!(count().await, 0);
    let left: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT verifier FROM shares WHERE share_id = $1")
            .bind(&s.share_id.0[..])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(left.is_none(), "verifier kept after revoke");
}

/// Two relay processes on one database: an SSE stream opened on instance A, idle,
/// receives the `created` event of a share created through instance B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_on_instance_a_sees_create_through_instance_b() {
    let url = pg::fresh_db().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (relay::free_port(), relay::free_port());
    let _a = relay::start(dir_a.path(), &url, port_a).await;
    let _b = relay::start(dir_b.path(), &url, port_b).await;
    let (base_a, base_b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let http = reqwest::Client::new();
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    let mut sse = relay::signed_get(&http, &base_a, &owner, "/v1/events")
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    // Let A's stream find no event and go idle on its wake-up signal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let relay_b = relay::relay_key(&http, &base_b).await;
    let id = relay::create(&http, &base_b, &relay_b, &owner)
        .await
        .unwrap();
    let mut text = String::new();
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = sse.chunk().await.unwrap().expect("stream ended");
            text.push_str(&String::from_utf8_lossy(&chunk));
            for line in text.lines() {
                if let Some(data) = line.strip_prefix("data:")
                    && let Ok(ev) = serde_json::from_str::<oneshare_sdk::api::Event>(data.trim())
                {
                    return ev;
                }
            }
        }
    })
    .await
    .expect("no event reached instance A's stream within 10 s");
    assert_eq!(event.share_id, id);
    assert_eq!(event.kind, oneshare_sdk::api::EventKind::Created);
}

/// A signed request accepted by instance A is refused as replayed by instance B:
/// the nonce table is shared through the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_across_instances_is_refused() {
    let url = pg::fresh_db().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (relay::free_port(), relay::free_port());
    let _a = relay::start(dir_a.path(), &url, port_a).await;
    let _b = relay::start(dir_b.path(), &url, port_b).await;
    let http = reqwest::Client::new();
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    let first = relay::signed_get(
        &http,
        &format!("http://127.0.0.1:{port_a}"),
        &owner,
        "/v1/shares",
    )
    .build()
    .unwrap();
    let mut again = http
        .get(format!("http://127.0.0.1:{port_b}/v1/shares"))
        .build()
        .unwrap();
    *again.headers_mut() = first.headers().clone();
    let r = http.execute(first).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.execute(again).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: oneshare_sdk::api::ErrorBody =
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body.code, "replayed");
}
