//! The real `oneshare-server` binary as a child process, and a minimal native
//! client (owner-signed, encrypted create; signed GET), for tests that need
//! whole relay processes: crash recovery and several instances on one database.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oneshare_sdk::api::{CreateShareRequest, RelayKeyResponse};
use oneshare_sdk::owner::{OwnerData, OwnerIdentity, seal_owner_data};
use oneshare_sdk::record::{self, Field, FieldType, Record};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{self, HEADER_TRANSMISSION, Signer};
use oneshare_sdk::token::{ShareId, Token, verifier};
use oneshare_sdk::transmission::{self, RelayPublicKey};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A running relay process, killed (SIGKILL) and reaped on drop so a failing
/// test leaves no process behind.
pub struct Server(Child);

impl Server {
    pub fn kill_9(&mut self) {
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
pub async fn start(dir: &Path, database: &str, port: u16) -> Server {
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

pub fn compose(owner: &OwnerIdentity) -> CreateShareRequest {
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
pub async fn create(
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

/// The relay's current HPKE public key.
pub async fn relay_key(http: &reqwest::Client, base: &str) -> RelayPublicKey {
    let body = http
        .get(format!("{base}/v1/relay-key"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let keys: RelayKeyResponse = serde_json::from_slice(&body).unwrap();
    RelayPublicKey::from_bytes(&keys.current.public_key).unwrap()
}

/// An owner-signed GET without a body.
pub fn signed_get(
    http: &reqwest::Client,
    base: &str,
    owner: &OwnerIdentity,
    path: &str,
) -> reqwest::RequestBuilder {
    let nonce: [u8; 16] = oneshare_sdk::random::bytes().unwrap();
    let signed = signing::sign_with_nonce(
        &owner.signing_key,
        Signer::Owner(owner.public_key()),
        &signing::Request {
            method: "GET",
            path,
            body: &[],
            transmission: None,
        },
        now(),
        nonce,
    );
    let mut b = http.get(format!("{base}{path}"));
    for (k, v) in signed.to_pairs() {
        b = b.header(k, v);
    }
    b
}
