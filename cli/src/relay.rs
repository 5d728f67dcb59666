//! HTTP to one relay: its HPKE key, fetched and checked against the pin on
//! every connect (PROTOCOL.md §7), and signed, optionally sealed requests built
//! by the core ([`oneshare_sdk::request`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oneshare_sdk::api::{ErrorBody, RelayKeyResponse};
use oneshare_sdk::encoding::b64;
use oneshare_sdk::request::{self, Sealing};
use oneshare_sdk::signing::{Signer, SigningKey};
use oneshare_sdk::transmission::RelayPublicKey;
use reqwest::blocking::{Client, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{self, Dirs};

/// `relays.json`: the default relay and each relay's pinned key.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Relays {
    /// Relay used when no `--relay` is given.
    #[serde(default)]
    pub default: Option<String>,
    /// Pinned key per relay URL.
    #[serde(default)]
    pub pins: BTreeMap<String, Pin>,
}

/// A pinned relay key: the whole public key, not only its 8-byte id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Key id (what the relay lists in `accepted` while a rotation is in grace).
    pub key_id: String,
    /// 65-byte public key, b64.
    pub public_key: String,
}

impl Relays {
    fn path(dirs: &Dirs) -> std::path::PathBuf {
        dirs.config.join("relays.json")
    }

    /// Loads `relays.json` (empty when missing).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn load(dirs: &Dirs) -> Result<Self> {
        Ok(files::read_json(&Self::path(dirs))?.unwrap_or_default())
    }

    /// Saves `relays.json`.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, dirs: &Dirs) -> Result<()> {
        files::write_json(&Self::path(dirs), self)
    }
}

/// A relay URL without trailing slashes; only http(s).
///
/// # Errors
/// [`Error::Usage`].
pub fn normalize(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
        return Err(Error::Usage(format!(
            "relay URL must start with https:// (or http:// for a local relay), got {url:?}"
        )));
    }
    Ok(url.to_owned())
}

/// How a request is protected beyond its signature (fixed per route, PROTOCOL.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seal {
    /// Signature only.
    Plain,
    /// The answer comes sealed under a transmission key (get record).
    Answer,
    /// The body is sealed; the answer is plain (create, update record).
    Body,
    /// Body and answer are sealed (bind).
    Both,
}

/// One signed request to send: built with [`Call::new`] and the setters.
pub struct Call<'a> {
    method: &'a str,
    path: String,
    signer: (&'a SigningKey, Signer),
    body: Vec<u8>,
    seal: Seal,
    raw: bool,
    streaming: bool,
    headers: Vec<(&'static str, String)>,
}

impl<'a> Call<'a> {
    /// `method path`, signed by `signer`, no body, no sealing.
    pub fn new(method: &'a str, path: impl Into<String>, signer: (&'a SigningKey, Signer)) -> Self {
        Self {
            method,
            path: path.into(),
            signer,
            body: Vec::new(),
            seal: Seal::Plain,
            raw: false,
            streaming: false,
            headers: Vec::new(),
        }
    }

    /// A JSON body (sealed or not, as [`Call::seal`] says).
    pub fn json(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// A raw `application/octet-stream` body (attachment parts).
    pub fn raw(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self.raw = true;
        self
    }

    /// What travels under a transmission key.
    pub fn seal(mut self, seal: Seal) -> Self {
        self.seal = seal;
        self
    }

    /// A long-lived answer (event stream, downloads): no overall timeout.
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    /// An extra header.
    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A connected relay with its checked key.
pub struct Relay {
    /// Base URL.
    pub url: String,
    http: Client,
    stream_http: Client,
    /// The relay's current HPKE key.
    pub key: RelayPublicKey,
    /// Seconds to add to the local clock (from the relay's `Date`).
    clock_offset: i64,
}

fn network(url: &str, e: &reqwest::Error) -> Error {
    // reqwest's Display includes the URL, which never holds a token here.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    Error::Network {
        url: url.to_owned(),
        reason,
    }
}

/// Turns an error answer into [`Error::Relay`].
fn relay_error(res: Response) -> Error {
    let status = res.status().as_u16();
    let mut body = Vec::new();
    let _ = res.take(64 * 1024).read_to_end(&mut body);
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) => Error::Relay {
            status,
            code: e.code,
            message: e.message,
        },
        Err(_) => Error::Relay {
            status,
            code: format!("http_{status}"),
            message: format!("the relay answered HTTP {status}"),
        },
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Relay {
    /// Fetches the relay key and checks it against the pin: the same key, or a
    /// rotation the relay announces (the pinned key id is still in `accepted`),
    /// or `trust_new`. Pins on first use.
    ///
    /// # Errors
    /// [`Error::Network`], [`Error::RelayKeyChanged`], [`Error::Relay`].
    pub fn connect(dirs: &Dirs, url: &str, trust_new: bool) -> Result<Self> {
        let url = normalize(url)?;
        let build = |timeout: Option<Duration>| {
            Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(timeout)
                .user_agent(concat!("oneshare-cli/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| network(&url, &e))
        };
        let http = build(Some(Duration::from_secs(300)))?;
        let stream_http = build(None)?;
        let res = http
            .get(format!("{url}/v1/relay-key"))
            .header("accept", "application/json")
            .send()
            .map_err(|e| network(&url, &e))?;
        if !res.status().is_success() {
            return Err(relay_error(res));
        }
        let clock_offset = res
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| {
                let skew = i64::try_from(d.as_secs()).unwrap_or(0)
                    - i64::try_from(unix_now()).unwrap_or(0);
                if skew.abs() > 30 { skew } else { 0 }
            });
        let body = res.bytes().map_err(|e| network(&url, &e))?;
        let keys: RelayKeyResponse = serde_json::from_slice(&body).map_err(|_| Error::Relay {
            status: 200,
            code: "json".into(),
            message: format!("{url} does not look like a oneshare relay (bad /v1/relay-key)"),
        })?;
        let key = RelayPublicKey::from_bytes(&keys.current.public_key)?;
        if key.key_id != keys.current.key_id {
            return Err(oneshare_sdk::Error::InvalidKey("relay").into());
        }
        let mut relays = Relays::load(dirs)?;
        let pin = Pin {
            key_id: key.key_id.clone(),
            public_key: b64(key.public_key),
        };
        match relays.pins.get(&url) {
            Some(pinned) if *pinned == pin => {}
            Some(pinned)
                if (pinned.key_id != pin.key_id && keys.accepted.contains(&pinned.key_id))
                    || trust_new =>
            {
                eprintln!(
                    "oneshare: relay {url} rotated its key {} -> {}; pinned the new key",
                    pinned.key_id, pin.key_id
                );
                relays.pins.insert(url.clone(), pin);
                relays.save(dirs)?;
            }
            Some(pinned) => {
                return Err(Error::RelayKeyChanged {
                    url,
                    pinned: pinned.key_id.clone(),
                    new: key.key_id,
                });
            }
            None => {
                relays.pins.insert(url.clone(), pin);
                relays.save(dirs)?;
            }
        }
        Ok(Self {
            url,
            http,
            stream_http,
            key,
            clock_offset,
        })
    }

    /// Now on the relay's clock.
    fn now(&self) -> u64 {
        unix_now().saturating_add_signed(self.clock_offset)
    }

    /// Sends one signed request; the raw answer (2xx) and the prepared request
    /// (to open a sealed answer).
    ///
    /// # Errors
    /// [`Error::Network`], [`Error::Relay`] for non-2xx answers.
    pub fn send(&self, call: Call<'_>) -> Result<(Response, request::Outgoing)> {
        let sealing = match call.seal {
            Seal::Plain => Sealing::Plain,
            Seal::Answer => Sealing::Key(&self.key),
            Seal::Body | Seal::Both => Sealing::Body(&self.key),
        };
        let mut out = request::prepare(
            call.method,
            &call.path,
            call.body,
            call.signer,
            sealing,
            self.now(),
        )?;
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|_| Error::Usage(format!("bad HTTP method {}", call.method)))?;
        let http = if call.streaming {
            &self.stream_http
        } else {
            &self.http
        };
        let mut req = http.request(method, format!("{}{}", self.url, call.path));
        for (k, v) in out.headers.iter().chain(&call.headers) {
            req = req.header(*k, v);
        }
        if !out.body.is_empty() {
            let ct = if matches!(call.seal, Seal::Body | Seal::Both) || call.raw {
                "application/octet-stream"
            } else {
                "application/json"
            };
            req = req
                .header("content-type", ct)
                .body(std::mem::take(&mut out.body));
        }
        let res = req.send().map_err(|e| network(&self.url, &e))?;
        if !res.status().is_success() {
            return Err(relay_error(res));
        }
        Ok((res, out))
    }

    /// Sends a signed request and returns the answer body, opened when sealed.
    ///
    /// # Errors
    /// As [`Relay::send`], and the envelope errors of a sealed answer.
    pub fn call(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let seal = call.seal;
        let (res, out) = self.send(call)?;
        let bytes = res.bytes().map_err(|e| network(&self.url, &e))?;
        match seal {
            Seal::Plain | Seal::Body => Ok(bytes.to_vec()),
            Seal::Answer | Seal::Both => Ok(out.open_response(&bytes)?),
        }
    }

    /// [`Relay::call`] with a JSON answer.
    ///
    /// # Errors
    /// As [`Relay::call`]; [`Error::Relay`] with code `json` for an answer
    /// that does not parse.
    pub fn json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        parse(&self.call(call)?)
    }

    /// `GET` without a signature (public routes).
    ///
    /// # Errors
    /// [`Error::Network`], [`Error::Relay`].
    pub fn get_public<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .map_err(|e| network(&self.url, &e))?;
        if !res.status().is_success() {
            return Err(relay_error(res));
        }
        parse(&res.bytes().map_err(|e| network(&self.url, &e))?)
    }

    /// The pinned key id, for people.
    pub fn key_id(&self) -> &str {
        &self.key.key_id
    }

    /// A network error on this relay (for readers of streamed bodies).
    pub fn io_error(&self, e: &std::io::Error) -> Error {
        Error::Network {
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }
}

/// Parses a JSON answer of the relay.
///
/// # Errors
/// [`Error::Relay`] with code `json`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Relay {
        status: 200,
        code: "json".into(),
        message: format!(
            "unexpected answer from the relay ({:?} error); is the CLI older than the relay?",
            e.classify()
        ),
    })
}
