//! Relay benchmark for `cargo xtask bench` (issue 12): the optimised
//! `oneshare-server` binary in its own process, SQLite on disk (under the
//! target dir, not tmpfs), default logging (`info`, written to a file), driven
//! over loopback HTTP by this process as the load generator. For 4 and 16
//! concurrent clients it measures creates, bind + confirm pairs and signed record
//! fetches spread over many shares: throughput, p50/p99 latency, and the CPU the
//! relay and the generator used per operation. The calibration is single-core
//! p256 verifies per second, measured in the same run, so the figures can be read
//! as ratios on another machine. Then one unloaded fetch, start-up and idle RSS.
//!
//! Every request is prepared (sealed and signed, unique nonce) before its phase
//! is timed; timestamps stay well inside the 300 s window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/relay.rs"]
mod relay;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oneshare_sdk::api::BindRequest;
use oneshare_sdk::backend::RustCrypto;
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::request::{Sealing, prepare};
use oneshare_sdk::signing::{Signer, SigningKey};
use oneshare_sdk::token::ShareKeys;
use oneshare_sdk::transmission::RelayPublicKey;
use relay::{compose, free_port, now};

/// Client counts measured.
const CLIENTS: [usize; 2] = [4, 16];
/// Operations per phase (bounded in count; each phase takes a few seconds).
const CREATE_N: usize = 3_000;
const BIND_N: usize = 1_500;
const FETCH_N: usize = 4_000;
/// Owners the creates are spread over (below the per-owner quota).
const OWNERS: usize = 64;
/// Sequential fetches for the unloaded latency.
const UNLOADED_N: usize = 300;
/// Start-up runs (median).
const START_RUNS: usize = 5;
/// Limits lifted so the bench measures work, not the limiter.
const CONFIG: &str = "metrics_token = \"bench-metrics-token\"\n[limits]\nrequests_per_minute = 100000000\n\
    share_requests_per_minute = 100000000\nbinds_per_minute = 100000000\n\
    max_connections_per_ip = 100000\nmax_in_flight_per_ip = 100000\n";

/// The relay process, killed on drop.
struct Relay {
    child: Child,
    base: String,
    key: RelayPublicKey,
    http: reqwest::Client,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory on disk for the bench's databases (`CARGO_TARGET_TMPDIR` is under
/// the target dir).
fn disk_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the relay with the default log level (whatever `RUST_LOG` says is
/// ignored) and waits for `/healthz`.
fn spawn(dir: &Path, port: u16, log: Stdio) -> Child {
    let config = dir.join("oneshare.toml");
    std::fs::write(&config, CONFIG).unwrap();
    Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("db/oneshare.db").display()))
        .arg("--data-dir")
        .arg(dir.join("keys"))
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
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

fn wait_healthy(port: u16) {
    let t0 = Instant::now();
    while !healthz(port) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "relay did not start"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

async fn start(dir: &Path) -> Relay {
    let port = free_port();
    let log = std::fs::File::create(dir.join("relay.log")).unwrap();
    let child = spawn(dir, port, Stdio::from(log));
    wait_healthy(port);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let key = relay::relay_key(&http, &base).await;
    Relay {
        child,
        base,
        key,
        http,
    }
}

impl Relay {
    /// A request ready to send: `body` sealed when `sealing` says so, signed.
    fn prepare(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        signer: (&SigningKey, Signer),
        sealing: Sealing<'_>,
    ) -> reqwest::Request {
        let out = prepare(method, path, body, signer, sealing, now()).unwrap();
        let mut b = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        for (k, v) in out.headers {
            b = b.header(k, v);
        }
        if !out.body.is_empty() {
            b = b.body(out.body);
        }
        b.build().unwrap()
    }

    fn create(&self, owner: &OwnerIdentity) -> (ShareKeys, reqwest::Request) {
        let (req, keys) = compose(owner);
        let signer = (&owner.signing_key, Signer::Owner(owner.public_key()));
        let body = serde_json::to_vec(&req).unwrap();
        let r = self.prepare("POST", "/v1/shares", body, signer, Sealing::Body(&self.key));
        (keys, r)
    }

    fn bind(&self, keys: &ShareKeys, device: &SigningKey) -> Vec<reqwest::Request> {
        let id = keys.share_id;
        let body = BindRequest {
            bind_secret: *keys.bind_secret.expose(),
            device_key: device.public_key(),
            evidence: None,
        };
        let body = serde_json::to_vec(&body).unwrap();
        let signer = || (device, Signer::Device(id));
        vec![
            self.prepare(
                "POST",
                &format!("/v1/shares/{id}/bind"),
                body,
                signer(),
                Sealing::Body(&self.key),
            ),
            self.prepare(
                "POST",
                &format!("/v1/shares/{id}/confirm"),
                Vec::new(),
                signer(),
                Sealing::Plain,
            ),
        ]
    }

    fn fetch(&self, keys: &ShareKeys, device: &SigningKey) -> reqwest::Request {
        let id = keys.share_id;
        self.prepare(
            "GET",
            &format!("/v1/shares/{id}/record"),
            Vec::new(),
            (device, Signer::Device(id)),
            Sealing::Key(&self.key),
        )
    }

    /// Write transactions and the operations they carried (`/metrics`).
    async fn commits(&self) -> (f64, f64) {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth("bench-metrics-token")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let get = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (
            get("oneshare_write_transactions_total"),
            get("oneshare_write_operations_total"),
        )
    }
}

/// CPU seconds (user + system) a process (or `thread-self`) used so far.
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Context switches so far of the thread that runs the writer connection's
/// statements: sqlx runs each connection on a thread of its own, and the
/// writer's is the first SQLite one the relay starts (before the reader pool).
fn writer_switches(pid: &str) -> f64 {
    let mut tasks: Vec<u64> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tasks.sort_unstable();
    let status = tasks
        .iter()
        .find(|t| {
            std::fs::read_to_string(format!("/proc/{pid}/task/{t}/comm"))
                .is_ok_and(|c| c.starts_with("sqlx-sqlite"))
        })
        .and_then(|t| std::fs::read_to_string(format!("/proc/{pid}/task/{t}/status")).ok())
        .unwrap_or_default();
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        })
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum()
}

/// Microseconds per statement round trip through sqlx to a SQLite connection's
/// thread (`SELECT 1` on a file database, this process otherwise idle): the
/// writer pays one per statement, in series.
async fn statement_round_trip_us() -> f64 {
    use sqlx::Connection;
    let dir = disk_dir("relay-bench-round-trip");
    let url = format!("sqlite://{}?mode=rwc", dir.join("rt.db").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let n = 5_000u32;
    let t0 = Instant::now();
    for _ in 0..n {
        sqlx::query("SELECT 1").execute(&mut c).await.unwrap();
    }
    t0.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

/// One phase's figures.
struct Measured {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU seconds per operation.
    relay_cpu: f64,
    gen_cpu: f64,
    /// Operations per write transaction (fsync).
    per_commit: f64,
    /// Context switches of the writer's connection thread per operation: one
    /// per statement handed to it (and one per fsync it waits for).
    handoffs: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Sends every operation (its requests in order) with `clients` workers; any
/// non-2xx answer aborts the bench.
async fn drive(relay: &Relay, clients: usize, ops: Vec<Vec<reqwest::Request>>) -> Measured {
    let n = ops.len();
    let queue = Arc::new(Mutex::new(ops));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let relay_pid = relay.child.id().to_string();
    let (relay0, gen0) = (cpu_secs(&relay_pid), cpu_secs("self"));
    let (tx0, op0) = relay.commits().await;
    let switches0 = writer_switches(&relay_pid);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, latencies, http) = (queue.clone(), latencies.clone(), relay.http.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(op) = queue.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                for req in op {
                    let r = http.execute(req).await.unwrap();
                    let status = r.status();
                    let body = r.bytes().await.unwrap();
                    assert!(
                        status.is_success(),
                        "{status} {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                latencies
                    .lock()
                    .unwrap()
                    .push(t.elapsed().as_secs_f64() * 1e3);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let wall = start.elapsed().as_secs_f64();
    let (relay1, gen1) = (cpu_secs(&relay_pid), cpu_secs("self"));
    let switches1 = writer_switches(&relay_pid);
    let (tx1, op1) = relay.commits().await;
    let mut l = std::mem::take(&mut *latencies.lock().unwrap());
    l.sort_by(f64::total_cmp);
    Measured {
        per_sec: n as f64 / wall,
        p50_ms: percentile(&l, 0.50),
        p99_ms: percentile(&l, 0.99),
        relay_cpu: (relay1 - relay0) / n as f64,
        gen_cpu: (gen1 - gen0) / n as f64,
        per_commit: (op1 - op0) / (tx1 - tx0).max(1.0),
        handoffs: (switches1 - switches0) / n as f64,
    }
}

/// p256 (the RustCrypto reference backend, whatever backend the relay runs)
/// verifies per CPU-second of this thread: CPU time, not wall time, so that
/// other processes on the machine slow the calibration no more than they slow
/// the relay's CPU figures (both are CPU time).
fn verify_per_cpu_sec() -> f64 {
    let key = SigningKey::generate().unwrap();
    let public = key.public_key();
    let message = b"POST /v1/shares/AAAAAAAAAAAAAAAAAAAAAA/bind benchmark canonical request";
    let signature = key.sign(message);
    let cpu0 = cpu_secs("thread-self");
    let mut n = 0u64;
    while cpu_secs("thread-self") - cpu0 < 1.0 {
        for _ in 0..100 {
            public
                .verify_with::<RustCrypto>(message, &signature)
                .unwrap();
        }
        n += 100;
    }
    n as f64 / (cpu_secs("thread-self") - cpu0)
}

/// The three phases at `clients` concurrent clients, on a fresh relay.
async fn phases(clients: usize) -> Vec<(&'static str, Measured)> {
    let relay = start(&disk_dir(&format!("relay-bench-{clients}"))).await;
    let owners: Vec<_> = (0..OWNERS)
        .map(|_| OwnerIdentity::generate().unwrap())
        .collect();
    let (keys, creates): (Vec<_>, Vec<_>) = (0..CREATE_N)
        .map(|i| {
            let (k, r) = relay.create(&owners[i % OWNERS]);
            (k, vec![r])
        })
        .unzip();
    let create = drive(&relay, clients, creates).await;

    let devices: Vec<_> = (0..BIND_N)
        .map(|_| SigningKey::generate().unwrap())
        .collect();
    let binds = keys
        .iter()
        .zip(&devices)
        .map(|(k, d)| relay.bind(k, d))
        .collect();
    let bind = drive(&relay, clients, binds).await;

    let fetches = (0..FETCH_N)
        .map(|i| vec![relay.fetch(&keys[i % BIND_N], &devices[i % BIND_N])])
        .collect();
    let fetch = drive(&relay, clients, fetches).await;
    vec![("create", create), ("bind", bind), ("fetch", fetch)]
}

/// Median latency of fetches sent one at a time (no other load).
async fn unloaded() -> f64 {
    let relay = start(&disk_dir("relay-bench-unloaded")).await;
    let owner = OwnerIdentity::generate().unwrap();
    let (keys, create) = relay.create(&owner);
    let device = SigningKey::generate().unwrap();
    drive(&relay, 1, vec![vec![create]]).await;
    drive(&relay, 1, vec![relay.bind(&keys, &device)]).await;
    let fetches = (0..UNLOADED_N)
        .map(|_| vec![relay.fetch(&keys, &device)])
        .collect();
    drive(&relay, 1, fetches).await.p50_ms
}

/// The 1-minute load average (other work on the machine skews every figure).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
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
    for i in 0..START_RUNS {
        let dir = disk_dir(&format!("relay-bench-start-{i}"));
        let port = free_port();
        let t0 = Instant::now();
        let mut child = spawn(&dir, port, Stdio::null());
        wait_healthy(port);
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
    let verify = verify_per_cpu_sec();
    let round_trip_us = rt.block_on(statement_round_trip_us());
    let runs: Vec<_> = CLIENTS
        .iter()
        .map(|&c| (c, rt.block_on(phases(c))))
        .collect();
    let unloaded_ms = rt.block_on(unloaded());
    let verify_after = verify_per_cpu_sec();
    let (start_ms, rss_mib) = process_figures();
    let v_us = 1e6 / verify;
    println!();
    println!(
        "relay bench: release oneshare-server in its own process, SQLite (WAL, synchronous=FULL) \
         on disk, default logging to a file; this process generates the load over loopback \
         HTTP; {} cores shared by both",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "  calibration: p256 verify, one core     {verify:>8.0} per CPU-second (v = {v_us:.0} µs \
         of CPU; {verify_after:.0} after the load phases); machine load average {}",
        load_average()
    );
    println!(
        "  calibration: sqlx statement round trip {round_trip_us:>8.1} µs (SELECT 1 on a file \
         database, this process, unloaded)"
    );
    println!(
        "  {:<16} {:>7} {:>9} {:>9} {:>8} {:>8} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "operation",
        "clients",
        "per s",
        "per s / v",
        "p50 ms",
        "p99 ms",
        "relay CPU",
        "load CPU",
        "ops/fsync",
        "hand-offs",
        "bound/s"
    );
    for (clients, figures) in &runs {
        for (name, m) in figures {
            let label = match *name {
                "create" => "create",
                "bind" => "bind+confirm",
                _ => "fetch",
            };
            println!(
                "  {label:<16} {clients:>7} {:>9.0} {:>9.3} {:>8.2} {:>8.2} {:>9.1} v {:>9.1} v {:>9.1} {:>9.1} {:>9.0}",
                m.per_sec,
                m.per_sec / verify,
                m.p50_ms,
                m.p99_ms,
                m.relay_cpu * 1e6 / v_us,
                m.gen_cpu * 1e6 / v_us,
                m.per_commit,
                m.handoffs,
                1e6 / (m.handoffs * round_trip_us)
            );
        }
    }
    println!(
        "  (per s / v: throughput over the calibration; CPU per operation in verifies of CPU; \
         ops/fsync: operations per SQLite commit; hand-offs: context switches of the writer's \
         connection thread per operation, about one per statement; bound/s: the serial writer's \
         ceiling, 1 / (hand-offs × round trip))"
    );
    println!("  one unloaded fetch (p50 of {UNLOADED_N}, one client)  {unloaded_ms:.2} ms");
    println!(
        "  start-up (spawn → /healthz)    {start_ms:>7.1} ms (median of {START_RUNS}, fresh dir)"
    );
    println!("  idle RSS after start           {rss_mib:>7.1} MiB (median of {START_RUNS})");
}
