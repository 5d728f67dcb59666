//! Relay benchmarks for `cargo xtask bench` (issue 4), loopback only and bounded:
//! create, bind + confirm and signed fetch throughput with N concurrent clients
//! over real HTTP against a relay on SQLite in a temp dir, each as a ratio to a
//! no-op endpoint (`GET /healthz`, same load generator, same run) and to the
//! single-core p256 verify ceiling (every signed request costs one verify);
//! then idle RSS and start-up time of the `oneshare-server` binary.
//!
//! Signed requests are prepared (sealed and signed, unique nonces) before the
//! timed loop; timestamps stay well inside the 300 s window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Prepared, Relay, Req};
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::signing::SigningKey;

/// Concurrent clients.
const CLIENTS: usize = 16;
/// Requests per throughput figure (bounded in count; each phase takes seconds).
const NOOP_N: usize = 4_000;
const CREATE_N: usize = 1_200;
const BIND_N: usize = 600;
const FETCH_N: usize = 2_000;
/// Start-up runs (median).
const START_RUNS: usize = 5;

/// Sends every prepared request (or pair, sent in order) with `CLIENTS` workers
/// and returns operations per second; any non-2xx answer aborts the bench.
async fn drive(relay: &Arc<Relay>, ops: Vec<Vec<Prepared>>) -> f64 {
    let n = ops.len();
    let queue = Arc::new(std::sync::Mutex::new(ops));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let queue = queue.clone();
        let relay = relay.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(op) = queue.lock().unwrap().pop() else {
                    break;
                };
                for p in &op {
                    let r = relay.send(p).await;
                    assert!(
                        (200..300).contains(&r.status),
                        "{} {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Single-core `PublicKey::verify` per second (about one second of work).
fn verify_ceiling() -> f64 {
    let key = SigningKey::generate().unwrap();
    let public = key.public_key();
    let message = b"POST /v1/shares/AAAAAAAAAAAAAAAAAAAAAA/bind benchmark canonical request";
    let signature = key.sign(message);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            public.verify(message, &signature).unwrap();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn throughput() -> Vec<(&'static str, f64)> {
    let relay = Arc::new(
        common::start(|c| {
            c.limits.requests_per_minute = u64::MAX / 2;
            c.limits.share_requests_per_minute = u64::MAX / 2;
            c.limits.binds_per_minute = u64::MAX / 2;
            c.policy.max_shares_per_owner = u64::MAX / 2;
        })
        .await,
    );
    let verify = tokio::task::spawn_blocking(verify_ceiling).await.unwrap();

    let noop: Vec<_> = (0..NOOP_N)
        .map(|_| vec![relay.prepare(&Req::new("GET", "/healthz"))])
        .collect();
    let noop = drive(&relay, noop).await;

    // Create: a few owners, each share composed and sealed beforehand.
    let owners: Vec<_> = (0..CLIENTS)
        .map(|_| OwnerIdentity::generate().unwrap())
        .collect();
    let mut sent = Vec::new();
    let mut creates = Vec::new();
    for i in 0..CREATE_N {
        let owner = &owners[i % owners.len()];
        let (s, req) = common::compose(owner, "bench", 86_400, false, &[]);
        creates.push(vec![
            relay.prepare(
                &Req::new("POST", "/v1/shares")
                    .owner(owner)
                    .json(&req)
                    .encrypted(),
            ),
        ]);
        sent.push(s);
    }
    let create = drive(&relay, creates).await;

    // Bind + confirm: one device per share, both requests prepared beforehand.
    let binds: Vec<_> = sent
        .iter()
        .take(BIND_N)
        .map(|s| {
            let dev = SigningKey::generate().unwrap();
            vec![
                relay.prepare(&relay.bind_req(s, &dev)),
                relay.prepare(&relay.device(s, &dev, "POST", "/confirm")),
            ]
        })
        .collect();
    let bind = drive(&relay, binds).await;

    // Signed fetch of the current record of one bound share.
    let s = &sent[BIND_N];
    let dev = SigningKey::generate().unwrap();
    assert_eq!(relay.bind(s, &dev).await.status, 200);
    assert_eq!(
        relay
            .call(relay.device(s, &dev, "POST", "/confirm"))
            .await
            .status,
        200
    );
    let fetches: Vec<_> = (0..FETCH_N)
        .map(|_| vec![relay.prepare(&relay.device(s, &dev, "GET", "/record").sealed_answer())])
        .collect();
    let fetch = drive(&relay, fetches).await;

    vec![
        ("verify", verify),
        ("noop", noop),
        ("create", create),
        ("bind", bind),
        ("fetch", fetch),
    ]
}

/// One raw `GET /healthz`; true on a 200.
fn healthz(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Start-up (spawn → `/healthz` answers, fresh data dir: key pair and database
/// created) and idle RSS one second later, medians of `START_RUNS`.
fn process_figures() -> (f64, f64) {
    let mut starts = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..START_RUNS {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t0 = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database")
            .arg(format!(
                "sqlite://{}",
                dir.path().join("db/oneshare.db").display()
            ))
            .arg("--data-dir")
            .arg(dir.path().join("keys"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        while !healthz(port) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "relay did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        starts.push(t0.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_secs(1));
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        rss.push(kb / 1024.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    (median(starts), median(rss))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs nothing here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let figures = rt.block_on(throughput());
    let (start_ms, rss_mib) = process_figures();
    let get = |k: &str| figures.iter().find(|(n, _)| *n == k).unwrap().1;
    let (verify, noop) = (get("verify"), get("noop"));
    println!();
    println!(
        "relay summary (loopback, SQLite in a temp dir, {CLIENTS} concurrent clients, \
         {} cores shared by relay and load generator)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("  p256 verify ceiling (1 core)   {verify:>9.0} /s");
    println!("  no-op GET /healthz             {noop:>9.0} req/s");
    for (name, key) in [
        ("create (owner-signed)         ", "create"),
        ("bind + confirm (pairs)        ", "bind"),
        ("signed fetch of the record    ", "fetch"),
    ] {
        let v = get(key);
        println!(
            "  {name} {v:>9.0} /s   {:>5.1}% of no-op   {:>5.1}% of verify",
            100.0 * v / noop,
            100.0 * v / verify
        );
    }
    println!(
        "  start-up (spawn → /healthz)    {start_ms:>9.1} ms (median of {START_RUNS}, fresh dir)"
    );
    println!("  idle RSS after start           {rss_mib:>9.1} MiB (median of {START_RUNS})");
}
