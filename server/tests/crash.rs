//! Crash: the real `oneshare-server` binary is killed with SIGKILL while clients
//! stream creates at it, then restarted on the same data. Every create that was
//! answered 2xx must be intact after the restart (its status answers `unbound`).
//! Run on SQLite (a temp data dir) and on PostgreSQL (`support/pg.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/pg.rs"]
mod pg;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oneshare_sdk::api::{CreateShareRequest, RelayKeyResponse, ShareStatus};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::{OwnerData, OwnerIdentity, seal_owner_data};
use oneshare_sdk::record::{self, Field, FieldType, Record};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{self, HEADER_TRANSMISSION, Signer};
use oneshare_sdk::token::{ShareId, Token, verifier};
use oneshare_sdk::transmission::{self, RelayPublicKey};

const CLIENTS: usize = 8;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A running relay process, killed (SIGKILL) and reaped on drop so a failing
/// test leaves no process behind.
struct Server(Child);

impl Server {
    fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Starts the relay binary and waits until `/healthz` answers.
async fn start(dir: &Path, database: &str, port: u16) -> Server {
    let config = dir.join("oneshare.toml");
    std::fs::write(
        &config,
        "[limits]\nrequests_per_minute = 10000000\nshare_requests_per_minute = 10000000\n",
    )
    .unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database")
            .arg(database)
            .arg("--data-dir")
            .arg(dir.join("keys"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return server;
        }
        assert!(Instant::now() < deadline, "the relay did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn compose(owner: &OwnerIdentity) -> CreateShareRequest {
    let token = Token::generate().unwrap();
    let keys = token.derive();
    let record_key = record::generate_key().unwrap();
    let rec = Record {
        title: "crash test".into(),
        fields: vec![Field {
            kind: FieldType::Password,
            label: None,
            value: "hunter2".into(),
        }],
        attachments: Vec::new(),
    };
    CreateShareRequest {
        share_id: keys.share_id,
        verifier: verifier(&keys.bind_secret),
        wrapped_key: record::wrap_key(&keys.wrap_key, &keys.share_id, &record_key).unwrap(),
        record: record::seal_record(&record_key, &keys.share_id, 1, &rec).unwrap(),
        owner_data: seal_owner_data(
            &owner.owner_key,
            &keys.share_id,
            &OwnerData::new("crash test", &record_key),
        )
        .unwrap(),
        expires_in: 86_400,
        self_destruct: false,
        attachments: Vec::new(),
    }
}

/// One signed, encrypted create; `Some(id)` when the relay answered 2xx.
async fn create(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    owner: &OwnerIdentity,
) -> Result<ShareId, String> {
    let req = compose(owner);
    let body = serde_json::to_vec(&req).unwrap();
    let nonce: [u8; 16] = oneshare_sdk::random::bytes().unwrap();
    let tk = Secret::new(oneshare_sdk::random::bytes().unwrap());
    let th = transmission::seal_transmission_key(relay, &tk).unwrap();
    let body = transmission::seal_request(&tk, &nonce, &body).unwrap();
    let signed = signing::sign_with_nonce(
        &owner.signing_key,
        Signer::Owner(owner.public_key()),
        &signing::Request {
            method: "POST",
            path: "/v1/shares",
            body: &body,
            transmission: Some(&th),
        },
        now(),
        nonce,
    );
    let mut b = http
        .post(format!("{base}/v1/shares"))
        .header(HEADER_TRANSMISSION, th.as_str());
    for (k, v) in signed.to_pairs() {
        b = b.header(k, v);
    }
    let res = b.body(body).send().await.map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(req.share_id)
    } else {
        Err(format!("status {}", res.status()))
    }
}

async fn crash_and_restart(database: &str, dir: &Path) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir, database, port).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let keys: RelayKeyResponse = http
        .get(format!("{base}/v1/relay-key"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let relay = RelayPublicKey::from_bytes(&keys.current.public_key).unwrap();
    let acked: Arc<Mutex<Vec<ShareId>>> = Arc::default();
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
                    match create(&http, &base, &relay, &owner).await {
                        Ok(id) => acked.lock().unwrap().push(id),
                        Err(_) => failed += 1,
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
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100, "too few creates before the kill");
    assert!(failed > 0, "no request was cut off by the kill");

    let mut server = start(dir, database, port).await;
    let mut intact = 0;
    for id in &acked {
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
    eprintln!(
        "crash ({}): {intact} acknowledged creates intact after kill -9 and restart, \
         {failed} requests failed at or after the kill",
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
