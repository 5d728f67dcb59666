//! Sender-approved device transfer over HTTP (PROTOCOL.md §12.2), with the
//! core's real crypto on both sides: a bot binds first, the recipient's device
//! asks, the sender compares codes and approves, the recipient reads the record
//! and the bot's device is told `moved`. Then a relay that swaps the device's
//! keys (a tampering proxy that holds the relay's key) is caught by the codes,
//! and an approval given anyway does not give it the record key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use common::{Relay, Req, Resp, Sent};
use oneshare_sdk::api::{
    ApproveTransfer, EventKind, RecordResponse, TransferList, TransferRequest, TransferState,
    TransferStatus, TransferTicket,
};
use oneshare_sdk::signing::{SignedHeaders, Signer, SigningKey};
use oneshare_sdk::transfer::{self, ComparisonCode, EcdhKey};
use oneshare_sdk::{record, transmission};

/// A device asking for a share: its keys and request id.
struct Asking {
    device: SigningKey,
    ecdh: EcdhKey,
    request_id: [u8; 16],
}

impl Asking {
    fn new() -> Self {
        Self {
            device: SigningKey::generate().unwrap(),
            ecdh: EcdhKey::generate().unwrap(),
            request_id: oneshare_sdk::random::bytes().unwrap(),
        }
    }

    fn request(&self, sent: &Sent) -> Req {
        let body = TransferRequest {
            request_id: self.request_id,
            bind_secret: *sent.keys.bind_secret.expose(),
            device_key: self.device.public_key(),
            ecdh_key: self.ecdh.public_key().unwrap(),
        };
        Req::new("POST", sent.path("/transfer"))
            .signed(&self.device, Signer::Device(sent.keys.share_id))
            .json(&body)
            .encrypted()
    }

    /// The code this device shows: from its link and its own keys.
    fn code(&self, sent: &Sent) -> ComparisonCode {
        transfer::comparison_code(
            &transfer::transfer_secret(&sent.token),
            &sent.keys.share_id,
            &self.device.public_key(),
            &self.ecdh.public_key().unwrap(),
        )
    }

    fn poll(&self, sent: &Sent) -> Req {
        let rid = oneshare_sdk::encoding::b64(self.request_id);
        Req::new("GET", sent.path(&format!("/transfer/{rid}")))
            .signed(&self.device, Signer::Device(sent.keys.share_id))
    }
}

/// The sender's side: its pending request, and the code it computes from the
/// keys the relay gave it and the transfer secret in its box.
async fn sender_view(
    relay: &Relay,
    sent: &Sent,
) -> (oneshare_sdk::api::PendingTransfer, ComparisonCode) {
    let list: TransferList = relay
        .call(Req::new("GET", "/v1/transfers").owner(&sent.owner))
        .await
        .json();
    assert_eq!(list.transfers.len(), 1);
    let p = list.transfers[0].clone();
    let secret = transfer::open_box(&sent.owner.owner_key, &p.share_id, &p.transfer_box).unwrap();
    let code = transfer::comparison_code(&secret, &p.share_id, &p.device_key, &p.ecdh_key);
    (p, code)
}

/// The sender approves the pending request: signature and `K_r` re-wrapped.
async fn approve(relay: &Relay, sent: &Sent, p: &oneshare_sdk::api::PendingTransfer) -> Resp {
    let secret = transfer::open_box(&sent.owner.owner_key, &p.share_id, &p.transfer_box).unwrap();
    let signing = SigningKey::from_bytes(&sent.owner.signing_key.to_bytes()).unwrap();
    let body = ApproveTransfer {
        approval: transfer::sign_approval(&signing, &p.binding()),
        transfer_key: transfer::wrap_for_device(&secret, &p.binding(), &sent.record_key)
            .unwrap()
            .try_into()
            .unwrap(),
    };
    let rid = oneshare_sdk::encoding::b64(p.request_id);
    relay
        .call(
            Req::new("POST", sent.path(&format!("/transfer/{rid}/approve")))
                .owner(&sent.owner)
                .json(&body),
        )
        .await
}

async fn kinds(relay: &Relay, sent: &Sent) -> Vec<EventKind> {
    let events = relay
        .state
        .store
        .events_since(&sent.owner.public_key(), 0, 100)
        .await
        .unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

/// A bot that bound (and confirmed) first, as a scanner would.
async fn bot_binds(relay: &Relay, sent: &Sent) -> SigningKey {
    let bot = SigningKey::generate().unwrap();
    assert_eq!(relay.bind(sent, &bot).await.status, 200);
    let r = relay
        .call(relay.device(sent, &bot, "POST", "/confirm"))
        .await;
    assert_eq!(r.status, 200);
    bot
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_moves_the_share_to_the_device_that_asked() {
    let relay = common::start(|_| {}).await;
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    let sent = relay.create(&owner, &[]).await;
    let bot = bot_binds(&relay, &sent).await;
    // The real recipient is refused, then asks.
    let me = Asking::new();
    assert_eq!(relay.bind(&sent, &me.device).await.code(), "already_bound");
    let r = relay.call(me.request(&sent)).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let ticket: TransferTicket = r.json();
    assert_eq!(ticket.request_id, me.request_id);
    assert_eq!(ticket.expires_at, relay.now() + 600);
    // A second device asking meanwhile waits its turn.
    let other = Asking::new();
    assert_eq!(
        relay.call(other.request(&sent)).await.code(),
        "transfer_pending"
    );
    let status: TransferStatus = relay.call(me.poll(&sent)).await.json();
    assert_eq!(
        (status.state, status.transfer_key),
        (TransferState::Pending, None)
    );
    // Somebody else cannot poll it.
    let r = relay
        .call(
            Req::new("GET", me.poll(&sent).path)
                .signed(&other.device, Signer::Device(sent.keys.share_id)),
        )
        .await;
    assert_eq!(r.code(), "bad_signature");

    // Both sides show the same code; the sender approves.
    let (pending, code) = sender_view(&relay, &sent).await;
    assert_eq!(code, me.code(&sent));
    assert_eq!(code.digits().len(), 6);
    assert_eq!(approve(&relay, &sent, &pending).await.status, 204);
    assert_eq!(approve(&relay, &sent, &pending).await.code(), "conflict");

    // The device unwraps K_r and reads the record.
    let status: TransferStatus = relay.call(me.poll(&sent)).await.json();
    assert_eq!(status.state, TransferState::Approved);
    let kr = transfer::open_transfer_key(
        &me.ecdh,
        &transfer::transfer_secret(&sent.token),
        &transfer::Binding {
            share_id: &sent.keys.share_id,
            request_id: &me.request_id,
            device_key: &me.device.public_key(),
            ecdh_key: &me.ecdh.public_key().unwrap(),
        },
        &status.transfer_key.unwrap(),
    )
    .unwrap();
    assert_eq!(kr, sent.record_key);
    let rec: RecordResponse = relay
        .call(
            relay
                .device(&sent, &me.device, "GET", "/record")
                .sealed_answer(),
        )
        .await
        .open();
    let opened = record::open_record(
        &kr,
        &sent.keys.share_id,
        rec.record.version,
        &rec.record.ciphertext,
    )
    .unwrap();
    assert_eq!(opened.title, "test record");

    // The bot's device is told the share moved, on every device route.
    for (method, rest) in [("GET", "/record"), ("POST", "/confirm")] {
        let r = relay.call(relay.device(&sent, &bot, method, rest)).await;
        assert_eq!((r.status, r.code().as_str()), (410, "moved"), "{rest}");
    }
    // A stranger's signature is still just a bad signature.
    let r = relay
        .call(relay.device(&sent, &other.device, "GET", "/record"))
        .await;
    assert_eq!(r.code(), "bad_signature");
    let k = kinds(&relay, &sent).await;
    for want in [
        EventKind::RefusedDevice,
        EventKind::TransferRequested,
        EventKind::TransferApproved,
    ] {
        assert!(k.contains(&want), "{want:?} in {k:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_and_bad_requests_answer_precisely() {
    let relay = common::start(|_| {}).await;
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    let sent = relay.create(&owner, &[]).await;
    let me = Asking::new();
    // Nobody opened it yet: bind instead.
    assert_eq!(relay.call(me.request(&sent)).await.code(), "conflict");
    bot_binds(&relay, &sent).await;
    // Signed by another key than the one in the body.
    let mut forged = me.request(&sent);
    forged.signer = Some((
        SigningKey::generate().unwrap(),
        Signer::Device(sent.keys.share_id),
    ));
    assert_eq!(relay.call(forged).await.code(), "bad_signature");
    let bad_rid = Req::new("GET", sent.path("/transfer/short"))
        .signed(&me.device, Signer::Device(sent.keys.share_id));
    assert_eq!(relay.call(bad_rid).await.code(), "bad_request");
    assert_eq!(relay.call(me.request(&sent)).await.status, 202);
    let rid = oneshare_sdk::encoding::b64(me.request_id);
    let deny = |who: &oneshare_sdk::owner::OwnerIdentity| {
        Req::new("POST", sent.path(&format!("/transfer/{rid}/deny"))).owner(who)
    };
    let stranger = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    assert_eq!(relay.call(deny(&stranger)).await.code(), "not_found");
    assert_eq!(relay.call(deny(&owner)).await.status, 204);
    let status: TransferStatus = relay.call(me.poll(&sent)).await.json();
    assert_eq!(status.state, TransferState::Denied);
    assert!(
        kinds(&relay, &sent)
            .await
            .contains(&EventKind::TransferDenied)
    );
}

/// The proxy's state: where the relay is, and the keys it swaps in.
struct Proxy {
    relay: Arc<Relay>,
    attacker: SigningKey,
    attacker_ecdh: EcdhKey,
}

/// Forwards every request to the relay; a transfer request is opened with the
/// relay's key, its keys replaced with the attacker's, and sent on re-sealed and
/// re-signed, as a relay (or anything holding its key) could.
async fn proxy(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = uri.path().to_owned();
    let resp = if method == Method::POST && path.ends_with("/transfer") {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let signed = SignedHeaders::parse(get).unwrap();
        let tk = p
            .relay
            .state
            .keys
            .open_header(get("oneshare-transmission-key").unwrap(), p.relay.now())
            .unwrap();
        let plain = transmission::open_request(&tk, &signed.nonce, &body).unwrap();
        let mut req: TransferRequest = serde_json::from_slice(&plain).unwrap();
        req.device_key = p.attacker.public_key();
        req.ecdh_key = p.attacker_ecdh.public_key().unwrap();
        let forged = Req::new("POST", path)
            .signed(&p.attacker, signed.signer)
            .json(&req)
            .encrypted();
        p.relay.call(forged).await
    } else {
        let mut out = Req::new("GET", path).body(body.to_vec());
        out.method = match method.as_str() {
            "POST" => "POST",
            _ => "GET",
        };
        out.transmission = false;
        out.headers = headers
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("oneshare-"))
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        p.relay.call(out).await
    };
    (
        StatusCode::from_u16(resp.status).unwrap(),
        [(
            "content-type",
            resp.header("content-type").unwrap_or("").to_owned(),
        )],
        resp.body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_swaps_the_keys_is_caught_by_the_codes() {
    let relay = Arc::new(common::start(|_| {}).await);
    let owner = oneshare_sdk::owner::OwnerIdentity::generate().unwrap();
    let sent = relay.create(&owner, &[]).await;
    bot_binds(&relay, &sent).await;
    let state = Arc::new(Proxy {
        relay: relay.clone(),
        attacker: SigningKey::generate().unwrap(),
        attacker_ecdh: EcdhKey::generate().unwrap(),
    });
    let app = axum::Router::new()
        .fallback(proxy)
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The recipient's device asks through the proxy.
    let me = Asking::new();
    let p = relay.prepare(&me.request(&sent));
    let mut b = relay
        .http
        .post(format!("{proxy_url}{}", sent.path("/transfer")))
        .body(p.body().to_vec());
    for (k, v) in p.headers() {
        b = b.header(k, v);
    }
    let r = b.send().await.unwrap();
    assert_eq!(r.status(), 202);

    // The sender sees the attacker's keys, so its code differs from the device's.
    let (pending, code) = sender_view(&relay, &sent).await;
    assert_eq!(pending.device_key, state.attacker.public_key());
    assert_ne!(code, me.code(&sent), "a swapped key gave the same code");
    // Without the link, the attacker cannot compute the code the device shows
    // for its keys (it would need the transfer secret): nothing to match.

    // A careless sender approves anyway: the attacker's device is bound and gets
    // the transfer key, but it opens only the HPKE layer, never K_r.
    assert_eq!(approve(&relay, &sent, &pending).await.status, 204);
    let poll = Req::new("GET", me.poll(&sent).path)
        .signed(&state.attacker, Signer::Device(sent.keys.share_id));
    let status: TransferStatus = relay.call(poll).await.json();
    let sealed = status.transfer_key.unwrap();
    for guess in [
        oneshare_sdk::secret::Secret::new([0; 32]),
        transfer::transfer_secret(&oneshare_sdk::token::Token::generate().unwrap()),
    ] {
        let opened = transfer::open_transfer_key(
            &state.attacker_ecdh,
            &guess,
            &transfer::Binding {
                share_id: &sent.keys.share_id,
                request_id: &me.request_id,
                device_key: &state.attacker.public_key(),
                ecdh_key: &state.attacker_ecdh.public_key().unwrap(),
            },
            &sealed,
        );
        assert_eq!(opened.unwrap_err().code(), "wrong_key");
    }
    // The real device's own poll does not verify: the relay holds other keys.
    assert_eq!(relay.call(me.poll(&sent)).await.code(), "bad_signature");
}
