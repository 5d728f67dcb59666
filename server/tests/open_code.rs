//! Protocol v2 second factors over real HTTP (PROTOCOL.md §12): a share created
//! with an open code and a passphrase by the core's own derivations, and binds
//! that the relay steps up (quick bind, page signals, headless user agent, a
//! listed network), counts and locks, with the events the sender reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Relay, Sent, compose, start};
use oneshare_sdk::api::{BindEvidence, BindGuard, BindResponse, ClientSignals, EventKind};
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::passphrase::{self, Nfc};
use oneshare_sdk::record::{self, open_record, unwrap_key};
use oneshare_sdk::signing::SigningKey;

fn device() -> SigningKey {
    SigningKey::generate().unwrap()
}

/// Creates a share with an open code (required or not) and optionally a
/// passphrase, the way a v2 client does; returns it with its code.
async fn create(
    relay: &Relay,
    owner: &OwnerIdentity,
    require_code: bool,
    passphrase: Option<&str>,
) -> (Sent, OpenCode) {
    let (sent, mut req) = compose(owner, "guarded", 3_600, false, &[]);
    let code = OpenCode::generate().unwrap();
    let pass = passphrase.map(|p| passphrase::derive(&sent.token, &Nfc::normalize(p)).unwrap());
    if let Some(keys) = &pass {
        req.wrapped_key =
            record::wrap_key(&keys.wrap_key, &sent.keys.share_id, &sent.record_key).unwrap();
    }
    req.guard = Some(BindGuard {
        code_verifier: Some(code.proof(&sent.token).verifier()),
        require_code,
        passphrase_verifier: pass.map(|k| k.proof.verifier()),
    });
    let r = relay.post_create(owner, &req).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    (sent, code)
}

/// Bind with these proofs and page signals; `ua` as the User-Agent.
async fn bind(
    relay: &Relay,
    sent: &Sent,
    dev: &SigningKey,
    code: Option<&OpenCode>,
    passphrase: Option<&str>,
    signals: ClientSignals,
    ua: &str,
) -> common::Resp {
    let evidence = BindEvidence {
        code_proof: code.map(|c| *c.proof(&sent.token).expose()),
        passphrase_proof: passphrase.map(|p| {
            *passphrase::derive(&sent.token, &Nfc::normalize(p))
                .unwrap()
                .proof
                .expose()
        }),
        signals,
    };
    let req = relay
        .bind_req_with(sent, dev, Some(evidence))
        .header("user-agent", ua);
    relay.call(req).await
}

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36";

async fn refusals(relay: &Relay, owner: &OwnerIdentity) -> Vec<String> {
    relay
        .state
        .store
        .events_since(&owner.public_key(), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::RefusedDevice)
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_quick_bind_needs_the_code_and_wrong_codes_lock() {
    let relay = start(|_| {}).await;
    let o = OwnerIdentity::generate().unwrap();
    let quiet = ClientSignals::default;

    // Opened within seconds of sending: asked for the code, nothing delivered.
    let (sent, code) = create(&relay, &o, false, None).await;
    let dev = device();
    let r = bind(&relay, &sent, &dev, None, None, quiet(), BROWSER).await;
    assert_eq!((r.status, r.code().as_str()), (403, "code_required"));
    let told = refusals(&relay, &o).await;
    assert!(told[0].contains("asked for the open code"), "{told:?}");
    // The code as a person types it works; the record opens with the link.
    let typed = OpenCode::parse(&code.display().to_lowercase()).unwrap();
    let b: BindResponse = bind(&relay, &sent, &dev, Some(&typed), None, quiet(), BROWSER)
        .await
        .open();
    let rk = unwrap_key(&sent.keys.wrap_key, &sent.keys.share_id, &b.wrapped_key).unwrap();
    let rec = open_record(&rk, &sent.keys.share_id, 1, &b.record.ciphertext).unwrap();
    assert_eq!(rec.title, "guarded");

    // Five wrong codes lock the share; the sender reads what happened.
    let (sent, code) = create(&relay, &o, false, None).await;
    let wrong = OpenCode::from_random([0; 5]);
    assert_ne!(wrong, code);
    for left in ["4", "3", "2", "1"] {
        let r = bind(&relay, &sent, &dev, Some(&wrong), None, quiet(), BROWSER).await;
        let e: oneshare_sdk::api::ErrorBody = r.json();
        assert_eq!((r.status, e.code.as_str()), (403, "wrong_code"));
        assert!(e.message.contains(left), "{}", e.message);
    }
    let r = bind(&relay, &sent, &dev, Some(&wrong), None, quiet(), BROWSER).await;
    assert_eq!((r.status, r.code().as_str()), (423, "locked"));
    let r = bind(
        &relay,
        &sent,
        &device(),
        Some(&code),
        None,
        quiet(),
        BROWSER,
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (423, "locked"));
    let told = refusals(&relay, &o).await;
    let last = told.last().unwrap();
    assert!(last.contains("locked") && last.contains("5 of 5"), "{last}");
}

#[tokio::test]
async fn page_signals_and_the_user_agent_step_up_a_later_bind() {
    let relay = start(|_| {}).await;
    let o = OwnerIdentity::generate().unwrap();
    let cases = [
        (
            ClientSignals {
                webdriver: true,
                ..ClientSignals::default()
            },
            BROWSER,
            "navigator.webdriver",
        ),
        (
            ClientSignals::default(),
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0",
            "headless browser",
        ),
        (
            ClientSignals {
                press_after_ms: Some(82),
                ..ClientSignals::default()
            },
            BROWSER,
            "82 ms",
        ),
    ];
    let mut shares = Vec::new();
    for _ in &cases {
        shares.push(create(&relay, &o, false, None).await);
    }
    relay.advance(600); // well past the quick-bind window
    for ((signals, ua, why), (sent, code)) in cases.into_iter().zip(&shares) {
        let dev = device();
        let r = bind(&relay, sent, &dev, None, None, signals.clone(), ua).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "code_required"),
            "{why}"
        );
        let told = refusals(&relay, &o).await;
        assert!(told.last().unwrap().contains(why), "{why}: {told:?}");
        let r = bind(&relay, sent, &dev, Some(code), None, signals, ua).await;
        assert_eq!(r.status, 200, "{why}");
    }
    // A quiet page later on binds without the code; a required code is asked anyway.
    let (sent, _) = create(&relay, &o, false, None).await;
    let (required, code) = create(&relay, &o, true, None).await;
    relay.advance(600);
    let quiet = ClientSignals {
        user_activation: Some(true),
        press_after_ms: Some(2_500),
        ..ClientSignals::default()
    };
    let r = bind(&relay, &sent, &device(), None, None, quiet.clone(), BROWSER).await;
    assert_eq!(r.status, 200);
    let dev = device();
    let r = bind(&relay, &required, &dev, None, None, quiet.clone(), BROWSER).await;
    assert_eq!(r.code(), "code_required");
    let r = bind(&relay, &required, &dev, Some(&code), None, quiet, BROWSER).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_listed_network_steps_up_and_v1_shares_bind_as_before() {
    let relay = start(|c| {
        c.scanners.quick_bind_secs = 0;
        c.scanner_networks = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let o = OwnerIdentity::generate().unwrap();
    let (sent, code) = create(&relay, &o, false, None).await;
    let dev = device();
    let r = bind(
        &relay,
        &sent,
        &dev,
        None,
        None,
        ClientSignals::default(),
        BROWSER,
    )
    .await;
    assert_eq!(r.code(), "code_required");
    let r = bind(
        &relay,
        &sent,
        &dev,
        Some(&code),
        None,
        ClientSignals::default(),
        BROWSER,
    )
    .await;
    assert_eq!(r.status, 200);
    let events = relay
        .state
        .store
        .events_since(&o.public_key(), 0, 100)
        .await
        .unwrap();
    let bound = events.iter().find(|e| e.kind == EventKind::Bound).unwrap();
    let detail = bound.detail.as_deref().unwrap();
    assert!(
        detail.contains("scanner list") && detail.contains("the open code was given"),
        "{detail}"
    );
    // A v1 client's share has no code to ask for: it binds from the same network.
    let plain = relay.create(&o, &[]).await;
    assert_eq!(relay.bind(&plain, &device()).await.status, 200);
}

#[tokio::test]
async fn a_passphrase_share_needs_the_passphrase_to_bind_and_to_decrypt() {
    let relay = start(|_| {}).await;
    let o = OwnerIdentity::generate().unwrap();
    let phrase = "correct horse battery staple";
    let (sent, code) = create(&relay, &o, false, Some(phrase)).await;
    relay.advance(600);
    let dev = device();
    let quiet = ClientSignals::default;
    let r = bind(&relay, &sent, &dev, None, None, quiet(), BROWSER).await;
    assert_eq!((r.status, r.code().as_str()), (403, "passphrase_required"));
    let r = bind(
        &relay,
        &sent,
        &dev,
        None,
        Some("Correct horse"),
        quiet(),
        BROWSER,
    )
    .await;
    assert_eq!(r.code(), "wrong_passphrase");
    let b: BindResponse = bind(
        &relay,
        &sent,
        &dev,
        Some(&code),
        Some(phrase),
        quiet(),
        BROWSER,
    )
    .await
    .open();
    // The link alone does not unwrap the key; the link and the passphrase do.
    let sid = &sent.keys.share_id;
    assert!(unwrap_key(&sent.keys.wrap_key, sid, &b.wrapped_key).is_err());
    let keys = passphrase::derive(&sent.token, &Nfc::normalize(phrase)).unwrap();
    let rk = unwrap_key(&keys.wrap_key, sid, &b.wrapped_key).unwrap();
    assert_eq!(
        open_record(&rk, sid, 1, &b.record.ciphertext)
            .unwrap()
            .title,
        "guarded"
    );
}

#[tokio::test]
async fn require_code_without_a_code_is_a_bad_request() {
    let relay = start(|_| {}).await;
    let o = OwnerIdentity::generate().unwrap();
    let (_, mut req) = compose(&o, "x", 3_600, false, &[]);
    req.guard = Some(BindGuard {
        require_code: true,
        ..BindGuard::default()
    });
    assert_eq!(relay.post_create(&o, &req).await.code(), "bad_request");
}
