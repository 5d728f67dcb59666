//! A real relay on port 0 with an injected clock, and a small native client that
//! signs and encrypts with the core (`oneshare-sdk`), so API tests stay short.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use oneshare_sdk::api::{AttachmentDecl, CreateShareRequest};
use oneshare_sdk::encoding::b64;
use oneshare_sdk::owner::{OwnerData, OwnerIdentity, seal_owner_data};
use oneshare_sdk::record::{self, Field, FieldType, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{self, HEADER_TRANSMISSION, Signer, SigningKey};
use oneshare_sdk::token::{ShareKeys, Token, verifier};
use oneshare_sdk::transmission::{self, RelayPublicKey};
use oneshare_server::config::Config;
use oneshare_server::http::{self, ConnLimits};
use oneshare_server::keys::RelayKeys;
use oneshare_server::state::AppState;
use oneshare_server::store::sqlite::SqliteStore;
use serde::de::DeserializeOwned;

/// A running relay.
pub struct Relay {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    pub clock: Arc<AtomicU64>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    relay_key: RelayPublicKey,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.begin_shutdown();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn real_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Starts a relay; `tweak` adjusts the configuration.
pub async fn start(tweak: impl FnOnce(&mut Config)) -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        database: format!("sqlite://{}", dir.path().join("db/oneshare.db").display()),
        data_dir: dir.path().join("keys"),
        ..Config::default()
    };
    config.limits.part_segments = 1;
    tweak(&mut config);
    let store = SqliteStore::open(&config.database).await.unwrap();
    let keys = RelayKeys::load_or_create(&config.data_dir, config.key_grace_secs).unwrap();
    let keys = oneshare_server::keys::KeyRing::fixed(keys);
    let relay_key = keys.get().current().public().clone();
    let clock = Arc::new(AtomicU64::new(real_now()));
    let c = clock.clone();
    let limits = ConnLimits::new(&config);
    let state = AppState::new(
        Arc::new(store),
        config,
        keys,
        Arc::new(move || c.load(Ordering::SeqCst)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let router = http::app(state.clone());
    tokio::spawn(async move {
        http::serve(listener, router, limits, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Relay {
        base: format!("http://{addr}"),
        addr,
        state,
        clock,
        dir,
        http: reqwest::Client::new(),
        relay_key,
        stop: Some(tx),
    }
}

/// One request to build.
#[derive(Clone)]
pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub signer: Option<(SigningKey, Signer)>,
    pub body: Vec<u8>,
    /// Seal the body under a transmission key.
    pub encrypt: bool,
    /// Send a transmission key (for an encrypted answer).
    pub transmission: bool,
    pub headers: Vec<(String, String)>,
    pub timestamp_offset: i64,
}

impl Req {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            signer: None,
            body: Vec::new(),
            encrypt: false,
            transmission: false,
            headers: Vec::new(),
            timestamp_offset: 0,
        }
    }
    pub fn signed(mut self, key: &SigningKey, signer: Signer) -> Self {
        self.signer = Some((key.clone(), signer));
        self
    }
    pub fn owner(self, o: &OwnerIdentity) -> Self {
        let s = Signer::Owner(o.public_key());
        self.signed(&o.signing_key, s)
    }
    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }
    pub fn json(self, v: &impl serde::Serialize) -> Self {
        self.body(serde_json::to_vec(v).unwrap())
    }
    pub fn encrypted(mut self) -> Self {
        self.encrypt = true;
        self.transmission = true;
        self
    }
    pub fn sealed_answer(mut self) -> Self {
        self.transmission = true;
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A request ready to send (and re-send, for replay tests).
#[derive(Clone)]
pub struct Prepared {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    tk: Option<Key256>,
    nonce: [u8; 16],
}

/// An answer.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    tk: Option<Key256>,
    nonce: [u8; 16],
}

impl Resp {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {e}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn open<T: DeserializeOwned>(&self) -> T {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        let plain = transmission::open_response(self.tk.as_ref().unwrap(), &self.nonce, &self.body)
            .unwrap();
        serde_json::from_slice(&plain).unwrap()
    }
    /// The error code, checking the common error shape.
    pub fn code(&self) -> String {
        let e: oneshare_sdk::api::ErrorBody = self.json();
        assert!(!e.message.is_empty());
        assert_eq!(
            self.headers.get("content-type").unwrap(),
            "application/json",
            "error bodies are JSON"
        );
        e.code
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Relay {
    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }
    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn prepare(&self, r: &Req) -> Prepared {
        let nonce: [u8; 16] = oneshare_sdk::random::bytes().unwrap();
        let mut headers = r.headers.clone();
        let mut body = r.body.clone();
        let mut tk = None;
        let mut th = None;
        if r.transmission {
            let key = Secret::new(oneshare_sdk::random::bytes().unwrap());
            let h = transmission::seal_transmission_key(&self.relay_key, &key).unwrap();
            if r.encrypt {
                body = transmission::seal_request(&key, &nonce, &body).unwrap();
            }
            headers.push((HEADER_TRANSMISSION.into(), h.clone()));
            th = Some(h);
            tk = Some(key);
        }
        if let Some((key, signer)) = &r.signer {
            let ts = self.now().saturating_add_signed(r.timestamp_offset);
            let req = signing::Request {
                method: r.method,
                path: &r.path,
                body: &body,
                transmission: th.as_deref(),
            };
            let h = signing::sign_with_nonce(key, signer.clone(), &req, ts, nonce);
            headers.extend(h.to_pairs().into_iter().map(|(k, v)| (k.to_owned(), v)));
        }
        Prepared {
            method: reqwest::Method::from_bytes(r.method.as_bytes()).unwrap(),
            url: format!("{}{}", self.base, r.path),
            headers,
            body,
            tk,
            nonce,
        }
    }

    pub async fn send(&self, p: &Prepared) -> Resp {
        let mut b = self.http.request(p.method.clone(), &p.url);
        for (k, v) in &p.headers {
            b = b.header(k, v);
        }
        if !p.body.is_empty() {
            b = b.body(p.body.clone());
        }
        let res = b.send().await.unwrap();
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.bytes().await.unwrap().to_vec(),
            tk: p.tk.clone(),
            nonce: p.nonce,
        }
    }

    pub async fn call(&self, r: Req) -> Resp {
        let p = self.prepare(&r);
        self.send(&p).await
    }
}

/// Everything a sender keeps about one share.
pub struct Sent {
    pub keys: ShareKeys,
    pub token: Token,
    pub record_key: Key256,
    pub owner: OwnerIdentity,
    pub attachments: Vec<(String, Vec<u8>, Key256, Vec<u8>)>, // id, plaintext, key, ciphertext
}

impl Sent {
    pub fn id(&self) -> String {
        self.keys.share_id.to_string()
    }
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/shares/{}{rest}", self.id())
    }
}

pub fn record_with(title: &str) -> Record {
    Record {
        title: title.into(),
        fields: vec![Field {
            kind: FieldType::Password,
            label: None,
            value: "hunter2".into(),
        }],
        attachments: Vec::new(),
    }
}

/// Builds a create request (attachments are plaintexts to encrypt and declare).
pub fn compose(
    owner: &OwnerIdentity,
    title: &str,
    expires_in: u64,
    self_destruct: bool,
    files: &[Vec<u8>],
) -> (Sent, CreateShareRequest) {
    let token = Token::generate().unwrap();
    let keys = token.derive();
    let record_key = record::generate_key().unwrap();
    let mut atts = Vec::new();
    for (i, plain) in files.iter().enumerate() {
        let k = record::generate_key().unwrap();
        let ct = oneshare_sdk::stream::seal(&k, plain).unwrap();
        atts.push((format!("att{i}"), plain.clone(), k, ct));
    }
    let rec = record_with(title);
    let req = CreateShareRequest {
        share_id: keys.share_id,
        verifier: verifier(&keys.bind_secret),
        wrapped_key: record::wrap_key(&keys.wrap_key, &keys.share_id, &record_key).unwrap(),
        record: record::seal_record(&record_key, &keys.share_id, 1, &rec).unwrap(),
        owner_data: seal_owner_data(
            &owner.owner_key,
            &keys.share_id,
            &OwnerData::new(title, &record_key),
        )
        .unwrap(),
        expires_in,
        self_destruct,
        attachments: atts
            .iter()
            .map(|(id, _, _, ct)| AttachmentDecl {
                id: id.clone(),
                size: ct.len() as u64,
            })
            .collect(),
        guard: None,
        transfer_box: Some(
            oneshare_sdk::transfer::seal_box(
                &owner.owner_key,
                &keys.share_id,
                &oneshare_sdk::transfer::transfer_secret(&token),
            )
            .unwrap(),
        ),
    };
    (
        Sent {
            keys,
            token,
            record_key,
            owner: owner.clone(),
            attachments: atts,
        },
        req,
    )
}

impl Relay {
    /// Creates a share and uploads its attachments; panics on failure.
    pub async fn create(&self, owner: &OwnerIdentity, files: &[Vec<u8>]) -> Sent {
        let (sent, req) = compose(owner, "test record", 3_600, false, files);
        let r = self.post_create(owner, &req).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        for (id, _, _, ct) in &sent.attachments {
            self.upload(&sent, id, ct).await;
        }
        sent
    }

    /// Sends a composed create request, owner-signed and encrypted, and returns
    /// the answer whatever it is.
    pub async fn post_create(&self, owner: &OwnerIdentity, req: &CreateShareRequest) -> Resp {
        self.call(
            Req::new("POST", "/v1/shares")
                .owner(owner)
                .json(req)
                .encrypted(),
        )
        .await
    }

    pub async fn upload(&self, sent: &Sent, id: &str, ct: &[u8]) {
        let part = self.state.config.limits.part_size() as usize;
        for (n, chunk) in ct.chunks(part).enumerate() {
            let r = self
                .call(
                    Req::new("PUT", sent.path(&format!("/attachments/{id}/parts/{n}")))
                        .owner(&sent.owner)
                        .body(chunk.to_vec()),
                )
                .await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        }
        let r = self
            .call(
                Req::new("POST", sent.path(&format!("/attachments/{id}/finalize")))
                    .owner(&sent.owner),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }

    pub fn bind_req(&self, sent: &Sent, device: &SigningKey) -> Req {
        self.bind_req_with(sent, device, None)
    }

    /// A bind request with v2 evidence (second-factor proofs, signals).
    pub fn bind_req_with(
        &self,
        sent: &Sent,
        device: &SigningKey,
        evidence: Option<oneshare_sdk::api::BindEvidence>,
    ) -> Req {
        let body = oneshare_sdk::api::BindRequest {
            bind_secret: *sent.keys.bind_secret.expose(),
            device_key: device.public_key(),
            evidence,
        };
        Req::new("POST", sent.path("/bind"))
            .signed(device, Signer::Device(sent.keys.share_id))
            .json(&body)
            .encrypted()
    }

    pub async fn bind(&self, sent: &Sent, device: &SigningKey) -> Resp {
        self.call(self.bind_req(sent, device)).await
    }

    pub fn device(
        &self,
        sent: &Sent,
        device: &SigningKey,
        method: &'static str,
        rest: &str,
    ) -> Req {
        Req::new(method, sent.path(rest)).signed(device, Signer::Device(sent.keys.share_id))
    }
}

pub fn b64s(bytes: &[u8]) -> String {
    b64(bytes)
}

impl Prepared {
    /// The headers that will be sent.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body that will be sent.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sends to another path than the one signed (tamper tests).
    pub fn set_path(&mut self, relay: &Relay, path: &str) {
        self.url = format!("{}{path}", relay.base);
    }
}

impl Relay {
    /// Sends and returns the streaming response (SSE).
    pub async fn send_streaming(&self, p: &Prepared) -> reqwest::Response {
        let mut b = self.http.request(p.method.clone(), &p.url);
        for (k, v) in &p.headers {
            b = b.header(k, v);
        }
        let res = b.send().await.unwrap();
        assert_eq!(res.status(), 200);
        res
    }
}

/// Reads an SSE stream until `needle` appears (10 s at most).
pub async fn read_sse_until(mut res: reqwest::Response, needle: &str) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("event did not arrive")
            .unwrap();
        match chunk {
            Some(c) => text.push_str(&String::from_utf8_lossy(&c)),
            None => break,
        }
    }
    assert!(text.contains(needle), "{text}");
    text
}
