//! The relay's logs never contain a token, a share id, a key, a signature, a nonce
//! or a body, and never the path of a `/s…` request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Req, start};
use oneshare_sdk::encoding::b64;
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::signing::SigningKey;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_secrets_or_ids() {
    let buf = Buf::default();
    let w = buf.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || w.clone())
        .init();
    let relay = start(|_| {}).await;
    let o = OwnerIdentity::generate().unwrap();
    let sent = relay.create(&o, &[vec![1, 2, 3]]).await;
    let dev = SigningKey::generate().unwrap();
    let bind = relay.prepare(&relay.bind_req(&sent, &dev));
    assert_eq!(relay.send(&bind).await.status, 200);
    assert_eq!(relay.send(&bind).await.status, 401); // replay
    let token = sent.token.to_text();
    for path in [
        format!("/s%23{token}"),
        format!("/s%2523{token}"),
        format!("/s#{token}"),
    ] {
        relay.call(Req::new("GET", path)).await;
    }
    relay
        .call(Req::new("GET", format!("/v1/shares/{}/status", sent.id())))
        .await;
    relay
        .call(Req::new("GET", format!("/v1/nothing/{token}")))
        .await;
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("answered"), "no request logs at all: {text}");
    let forbidden = [
        token.clone(),
        sent.id(),
        o.public_key().to_string(),
        dev.public_key().to_string(),
        b64(sent.keys.bind_secret.expose()),
        "/s%23".to_owned(),
        "hunter2".to_owned(),
    ];
    for (k, v) in bind.headers() {
        if k.starts_with("oneshare-") {
            assert!(!text.contains(v.as_str()), "log contains header {k}");
        }
    }
    for f in forbidden {
        assert!(!text.contains(&f), "log contains {f}:\n{text}");
    }
}
