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
use oneshare_sdk::signing::{self, HEADER_TRANSMISSION, Signer, SigningKey};
use oneshare_sdk::token::{ShareId, ShareKeys, Token, verifier};
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

/// Starts the relay binary, with request limits lifted, and waits until
/// `/healthz` answers.
pub async fn start(dir: &Path, database: &str, port: u16) -> Server {
    start_with(
        dir,
        database,
        port,
        "[limits]\nrequests_per_minute = 10000000\nshare_requests_per_minute = 10000000\n\
         binds_per_minute = 10000000\nmax_connections_per_ip = 100000\n\
         max_in_flight_per_ip = 100000\n",
    )
    .await
}

/// Starts the relay binary with this TOML configuration and waits until
/// `/healthz` answers.
pub async fn start_with(dir: &Path, database: &str, port: u16, toml: &str) -> Server {
    let config = dir.join("oneshare.toml");
    std::fs::write(&config, toml).unwrap();
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

pub fn compose(owner: &OwnerIdentity) -> (CreateShareRequest, ShareKeys) {
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
    let req = CreateShareRequest {
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
        guard: None,
        transfer_box: None,
    };
    (req, keys)
}

/// A signed request; the JSON body, if any, is sealed under a fresh transmission key.
pub fn signed(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    (key, signer): (&SigningKey, Signer),
    method: &'static str,
    path: &str,
    json: Option<Vec<u8>>,
) -> reqwest::RequestBuilder {
    let nonce: [u8; 16] = oneshare_sdk::random::bytes().unwrap();
    let mut th = None;
    let body = match json {
        Some(json) => {
            let tk = Secret::new(oneshare_sdk::random::bytes().unwrap());
            th = Some(transmission::seal_transmission_key(relay, &tk).unwrap());
            transmission::seal_request(&tk, &nonce, &json).unwrap()
        }
        None => Vec::new(),
    };
    let headers = signing::sign_with_nonce(
        key,
        signer,
        &signing::Request {
            method,
            path,
            body: &body,
            transmission: th.as_deref(),
        },
        now(),
        nonce,
    );
    let mut b = http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{base}{path}"),
    );
    if let Some(th) = th {
        b = b.header(HEADER_TRANSMISSION, th);
    }
    for (k, v) in headers.to_pairs() {
        b = b.header(k, v);
    }
    if !body.is_empty() {
        b = b.body(body);
    }
    b
}

/// One owner-signed, encrypted create; the share's keys when the relay answered 2xx.
pub async fn create_keys(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    owner: &OwnerIdentity,
) -> Result<ShareKeys, String> {
    let (req, keys) = compose(owner);
    let res = signed(
        http,
        base,
        relay,
        (&owner.signing_key, Signer::Owner(owner.public_key())),
        "POST",
        "/v1/shares",
        Some(serde_json::to_vec(&req).unwrap()),
    )
    .send()
    .await
    .map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(keys)
    } else {
        Err(format!("status {}", res.status()))
    }
}

/// As [`create_keys`], returning the share id.
pub async fn create(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    owner: &OwnerIdentity,
) -> Result<ShareId, String> {
    create_keys(http, base, relay, owner)
        .await
        .map(|k| k.share_id)
}

/// Device-signed bind; the status and, on an error, its code.
pub async fn bind(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    keys: &ShareKeys,
    device: &SigningKey,
) -> (u16, String) {
    let body = oneshare_sdk::api::BindRequest {
        bind_secret: *keys.bind_secret.expose(),
        device_key: device.public_key(),
        evidence: None,
    };
    let res = signed(
        http,
        base,
        relay,
        (device, Signer::Device(keys.share_id)),
        "POST",
        &format!("/v1/shares/{}/bind", keys.share_id),
        Some(serde_json::to_vec(&body).unwrap()),
    )
    .send()
    .await
    .unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    let code = serde_json::from_slice::<oneshare_sdk::api::ErrorBody>(&body)
        .map(|e| e.code)
        .unwrap_or_default();
    (status, code)
}

/// Device-signed confirm; the status.
pub async fn confirm(
    http: &reqwest::Client,
    base: &str,
    relay: &RelayPublicKey,
    keys: &ShareKeys,
    device: &SigningKey,
) -> u16 {
    signed(
        http,
        base,
        relay,
        (device, Signer::Device(keys.share_id)),
        "POST",
        &format!("/v1/shares/{}/confirm", keys.share_id),
        None,
    )
    .send()
    .await
    .unwrap()
    .status()
    .as_u16()
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
