//! Race: 64 devices bind the same share at once, many rounds, on both backends.
//! Exactly one wins each round, every other gets `already_bound` (409), the losers
//! leave `refused_device` events (at most `MAX_REFUSED_EVENTS` per share), and the
//! winner can confirm.
//!
//! Rounds per backend: `ONESHARE_RACE_ROUNDS` (default 200; `cargo xtask stress`
//! runs 1,000 in release mode). Figures are printed (see them with `--nocapture`).
//! A few rounds also go over real HTTP to the relay binary on each backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(unused_macros)]
mod conformance;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/relay.rs"]
mod relay;

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use oneshare_sdk::api::EventKind;
use oneshare_sdk::signing::SigningKey;
use oneshare_server::store::Store;
use oneshare_server::store::postgres::PgStore;
use oneshare_server::store::sqlite::SqliteStore;

const BINDERS: usize = 64;

fn rounds() -> u64 {
    std::env::var("ONESHARE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

async fn race(name: &str, store: Arc<dyn Store>) {
    let rounds = rounds();
    let started = Instant::now();
    for round in 0..rounds {
        let owner = conformance::key();
        let s = conformance::share(&owner, b"race");
        store.create_share(&s, 10, u64::MAX, None).await.unwrap();
        let devices: Vec<_> = (0..BINDERS)
            .map(|_| SigningKey::generate().unwrap().public_key())
            .collect();
        let now = conformance::T0 + 1 + round;
        let tasks: Vec<_> = devices
            .iter()
            .map(|d| {
                let (store, d, id) = (store.clone(), *d, s.share_id);
                tokio::spawn(async move {
                    (
                        d,
                        store.bind(&id, &conformance::good(), &d, now, None).await,
                    )
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                (d, Ok(outcome)) => {
                    assert!(
                        !outcome.retry,
                        "round {round}: a first bind reported a retry"
                    );
                    winners.push(d);
                }
                (_, Err(e)) => {
                    assert_eq!(e.code(), "already_bound", "round {round}: {e}");
                    assert_eq!(e.status_code(), StatusCode::CONFLICT);
                    refused += 1;
                }
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {} winners", winners.len());
        assert_eq!(refused, BINDERS - 1);
        let meta = store.share(&s.share_id).await.unwrap().unwrap();
        assert_eq!(meta.device_key, Some(winners[0]), "round {round}");
        store
            .confirm(&s.share_id, &winners[0], now, None)
            .await
            .unwrap();
        let events = store.events_since(&owner, 0, 1000).await.unwrap();
        let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count();
        assert_eq!(count(EventKind::Bound), 1, "round {round}");
        // Every loser proved the token, but a share reports a bounded number.
        let reported = (BINDERS as u64 - 1).min(oneshare_server::store::MAX_REFUSED_EVENTS);
        assert_eq!(
            count(EventKind::RefusedDevice) as u64,
            reported,
            "round {round}"
        );
        assert_eq!(count(EventKind::Confirmed), 1, "round {round}");
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "race {name}: {rounds} rounds x {BINDERS} binders, exactly one winner each, {secs:.1} s \
         ({:.0} binds/s)",
        (rounds as f64) * (BINDERS as f64) / secs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("race.db").display());
    race("sqlite", Arc::new(SqliteStore::open(&url).await.unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_postgres() {
    let url = pg::fresh_db().await;
    race("postgres", Arc::new(PgStore::open(&url).await.unwrap())).await;
}

/// Two relay instances on one PostgreSQL: binders split between them still
/// produce exactly one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_postgres_two_instances() {
    let url = pg::fresh_db().await;
    let a: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::open(&url).await.unwrap());
    for round in 0..20u64 {
        let s = conformance::share(&conformance::key(), b"race");
        a.create_share(&s, 10, u64::MAX, None).await.unwrap();
        let tasks: Vec<_> = (0..BINDERS)
            .map(|i| {
                let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                let id = s.share_id;
                tokio::spawn(async move {
                    let d = SigningKey::generate().unwrap().public_key();
                    store
                        .bind(
                            &id,
                            &conformance::good(),
                            &d,
                            conformance::T0 + 1 + round,
                            None,
                        )
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.code(), "already_bound", "{e}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

/// Rounds over HTTP against the relay binary: 64 signed, encrypted binds at once;
/// one 200, the rest 409 `already_bound`; the winner confirms.
async fn race_http(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = relay::free_port();
    let _server = relay::start(dir.path(), database, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let relay_key = relay::relay_key(&http, &base).await;
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    for round in 0..5 {
        let keys = Arc::new(
            relay::create_keys(&http, &base, &relay_key, &owner)
                .await
                .unwrap(),
        );
        let tasks: Vec<_> = (0..BINDERS)
            .map(|_| {
                let (http, base, relay_key, keys) =
                    (http.clone(), base.clone(), relay_key.clone(), keys.clone());
                tokio::spawn(async move {
                    let device = SigningKey::generate().unwrap();
                    let answer = relay::bind(&http, &base, &relay_key, &keys, &device).await;
                    (device, answer)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (device, (200, _)) => winners.push(device),
                (_, (409, code)) => assert_eq!(code, "already_bound", "round {round}"),
                (_, other) => panic!("round {round}: unexpected answer {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}");
        let status = relay::confirm(&http, &base, &relay_key, &keys, &winners[0]).await;
        assert_eq!(status, 200, "round {round}: the winner could not confirm");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_http_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    race_http(&format!(
        "sqlite://{}",
        dir.path().join("db/race.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn race_http_postgres() {
    race_http(&pg::fresh_db().await).await;
}
