//! The relay over real HTTP on port 0, with the core as client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Req, compose, start};
use oneshare_sdk::api::{
    BindResponse, ConfirmResponse, CreatePolicy, Event, EventKind, Policy, RecordCiphertext,
    RecordResponse, ShareList, ShareStatus, UpdateRecordRequest, UploadStatus,
};
use oneshare_sdk::lifetime::{SELF_DESTRUCT_AFTER_VIEW_SECS, State};
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::record::{self, open_record, unwrap_key};
use oneshare_sdk::signing::{Signer, SigningKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn owner() -> OwnerIdentity {
    OwnerIdentity::generate().unwrap()
}

fn device() -> SigningKey {
    SigningKey::generate().unwrap()
}

#[tokio::test]
async fn full_lifecycle() {
    let relay = start(|_| {}).await;
    let part = relay.state.config.limits.part_size() as usize;
    let o = owner();
    let file: Vec<u8> = (0..(2 * part + 1234))
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let (sent, req) = compose(&o, "lifecycle", 3_600, false, std::slice::from_ref(&file));
    let r = relay.post_create(&o, &req).await;
    assert_eq!(r.status, 201);
    let (aid, _, fkey, ct) = &sent.attachments[0];
    let base = sent.path(&format!("/attachments/{aid}"));
    // Upload part 0, re-put it (idempotent), skip ahead (refused), resume from status.
    let put = |n: usize| {
        Req::new("PUT", format!("{base}/parts/{n}"))
            .owner(&o)
            .body(ct[n * part..((n + 1) * part).min(ct.len())].to_vec())
    };
    assert_eq!(relay.call(put(0)).await.json::<UploadStatus>().next_part, 1);
    assert_eq!(relay.call(put(0)).await.json::<UploadStatus>().next_part, 1);
    assert_eq!(relay.call(put(2)).await.code(), "conflict");
    let st: UploadStatus = relay
        .call(Req::new("GET", format!("{base}/upload")).owner(&o))
        .await
        .json();
    assert_eq!(
        (st.next_part, st.received, st.size, st.complete),
        (1, part as u64, ct.len() as u64, false)
    );
    assert_eq!(st.part_size, part as u64);
    let r = relay
        .call(Req::new("POST", format!("{base}/finalize")).owner(&o))
        .await;
    assert_eq!(r.code(), "conflict");
    for n in st.next_part as usize..ct.len().div_ceil(part) {
        assert_eq!(relay.call(put(n)).await.status, 200);
    }
    let st: UploadStatus = relay
        .call(Req::new("POST", format!("{base}/finalize")).owner(&o))
        .await
        .json();
    assert!(st.complete);

    // Status is public and changes nothing; it carries the relay key to seal to,
    // the one `/v1/relay-key` names current.
    let s: ShareStatus = relay
        .call(Req::new("GET", sent.path("/status")))
        .await
        .json();
    assert_eq!(s.state, State::Unbound);
    let keys: oneshare_sdk::api::RelayKeyResponse =
        relay.call(Req::new("GET", "/v1/relay-key")).await.json();
    assert_eq!(s.relay_key, Some(keys.current));

    // Bind, decrypt, confirm.
    let dev = device();
    let b: BindResponse = relay.bind(&sent, &dev).await.open();
    let rk = unwrap_key(&sent.keys.wrap_key, &sent.keys.share_id, &b.wrapped_key).unwrap();
    let rec = open_record(
        &rk,
        &sent.keys.share_id,
        b.record.version,
        &b.record.ciphertext,
    )
    .unwrap();
    assert_eq!(rec.title, "lifecycle");
    assert_eq!(b.attachments.len(), 1);
    let c: ConfirmResponse = relay
        .call(relay.device(&sent, &dev, "POST", "/confirm"))
        .await
        .json();
    assert_eq!(c.access_expires_at, b.access_expires_at);
    assert_eq!(
        relay
            .call(Req::new("GET", sent.path("/status")))
            .await
            .json::<ShareStatus>()
            .state,
        State::Bound
    );

    // Signed fetch of the record.
    let rr: RecordResponse = relay
        .call(relay.device(&sent, &dev, "GET", "/record").sealed_answer())
        .await
        .open();
    assert_eq!(rr.record.version, 1);

    // Download and decrypt; then a range.
    let r = relay
        .call(relay.device(&sent, &dev, "GET", &format!("/attachments/{aid}")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body, ct);
    assert_eq!(oneshare_sdk::stream::open(fkey, &r.body).unwrap(), file);
    let r = relay
        .call(
            relay
                .device(&sent, &dev, "GET", &format!("/attachments/{aid}"))
                .header("range", &format!("bytes={}-{}", part - 10, part + 9)),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, ct[part - 10..part + 10]);
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes {}-{}/{}", part - 10, part + 9, ct.len())
    );
    let r = relay
        .call(
            relay
                .device(&sent, &dev, "GET", &format!("/attachments/{aid}"))
                .header("range", "bytes=99999999-"),
        )
        .await;
    assert_eq!(r.code(), "range_not_satisfiable");

    // Owner publishes version 2; the device sees it.
    let v2 = record::seal_record(
        &sent.record_key,
        &sent.keys.share_id,
        2,
        &common::record_with("second"),
    )
    .unwrap();
    let upd = UpdateRecordRequest {
        record: RecordCiphertext {
            version: 2,
            ciphertext: v2,
        },
    };
    let r = relay
        .call(
            Req::new("PUT", sent.path("/record"))
                .owner(&o)
                .json(&upd)
                .encrypted(),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = relay
        .call(
            Req::new("PUT", sent.path("/record"))
                .owner(&o)
                .json(&upd)
                .encrypted(),
        )
        .await;
    assert_eq!(r.code(), "conflict");
    let rr: RecordResponse = relay
        .call(relay.device(&sent, &dev, "GET", "/record").sealed_answer())
        .await
        .open();
    assert_eq!(
        open_record(&rk, &sent.keys.share_id, 2, &rr.record.ciphertext)
            .unwrap()
            .title,
        "second"
    );
    // The owner reads the current version too (to start the next from it),
    // which appends no `viewed` event; another owner learns nothing (404).
    let viewed = |events: &[Event]| {
        events
            .iter()
            .filter(|e| e.kind == EventKind::Viewed)
            .count()
    };
    let before = viewed(
        &relay
            .state
            .store
            .events_since(&o.public_key(), 0, 100)
            .await
            .unwrap(),
    );
    let own: RecordResponse = relay
        .call(
            Req::new("GET", sent.path("/record"))
                .owner(&o)
                .sealed_answer(),
        )
        .await
        .open();
    assert_eq!(own.record, rr.record);
    let after = relay
        .state
        .store
        .events_since(&o.public_key(), 0, 100)
        .await
        .unwrap();
    assert_eq!(viewed(&after), before);
    let r = relay
        .call(
            Req::new("GET", sent.path("/record"))
                .owner(&owner())
                .sealed_answer(),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));

    // Owner list, then revoke: 410 for the device, tombstone in the list.
    let list: ShareList = relay
        .call(Req::new("GET", "/v1/shares").owner(&o))
        .await
        .json();
    assert_eq!(list.shares.len(), 1);
    assert_eq!(list.shares[0].record_version, 2);
    assert_eq!(
        relay
            .call(Req::new("DELETE", sent.path("")).owner(&o))
            .await
            .status,
        204
    );
    let r = relay
        .call(relay.device(&sent, &dev, "GET", "/record").sealed_answer())
        .await;
    assert_eq!((r.status, r.code().as_str()), (410, "revoked"));
    assert_eq!(relay.bind(&sent, &device()).await.code(), "revoked");
    let list: ShareList = relay
        .call(Req::new("GET", "/v1/shares").owner(&o))
        .await
        .json();
    assert_eq!(list.shares[0].state, State::Revoked);
    // The revoked share's parts are gone.
    assert!(
        relay
            .state
            .store
            .read_part(&sent.keys.share_id, aid, 0)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn bind_retry_refusal_and_event_stream() {
    let relay = start(|_| {}).await;
    let o = owner();
    let sent = relay.create(&o, &[]).await;
    let (a, b) = (device(), device());
    let first: BindResponse = relay.bind(&sent, &a).await.open();
    let again: BindResponse = relay.bind(&sent, &a).await.open();
    assert_eq!(first.wrapped_key, again.wrapped_key);
    let r = relay.bind(&sent, &b).await;
    assert_eq!((r.status, r.code().as_str()), (409, "already_bound"));
    // Wrong token: 403 bad_token.
    let (other, _) = compose(&o, "x", 3_600, false, &[]);
    let mut req = relay.bind_req(&sent, &b);
    req.body = serde_json::to_vec(&oneshare_sdk::api::BindRequest {
        bind_secret: *other.keys.bind_secret.expose(),
        device_key: b.public_key(),
        evidence: None,
    })
    .unwrap();
    let r = relay.call(req).await;
    assert_eq!((r.status, r.code().as_str()), (403, "bad_token"));
    // Unknown share: 404.
    let r = relay.bind(&other, &b).await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));

    // The owner's SSE stream shows the refusal; Last-Event-ID resumes.
    let p = relay.prepare(&Req::new("GET", "/v1/events").owner(&o));
    let r = relay.send_streaming(&p).await;
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    // Every stored event comes before the relay's `caught-up` comment.
    let text = common::read_sse_until(r, "\n: caught-up\n").await;
    for kind in ["created", "bound", "refused_device"] {
        assert!(text.contains(&format!("\"{kind}\"")), "{kind}: {text}");
    }
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id:"))
        .map(|v| v.trim().parse().unwrap())
        .collect();
    let p = relay.prepare(
        &Req::new("GET", "/v1/events")
            .owner(&o)
            .header("last-event-id", &ids[1].to_string()),
    );
    let r = relay.send_streaming(&p).await;
    let text = common::read_sse_until(r, "refused_device").await;
    assert!(!text.contains("\"created\""));
    // Live: a confirm arrives on an open stream.
    let p = relay.prepare(
        &Req::new("GET", "/v1/events")
            .owner(&o)
            .header("last-event-id", &ids[2].to_string()),
    );
    let r = relay.send_streaming(&p).await;
    assert_eq!(
        relay
            .call(relay.device(&sent, &a, "POST", "/confirm"))
            .await
            .status,
        200
    );
    let text = common::read_sse_until(r, "confirmed").await;
    assert!(text.contains(&format!("{:?}", EventKind::Confirmed).to_lowercase()));
}

#[tokio::test]
async fn signatures_replay_and_staleness() {
    let relay = start(|_| {}).await;
    let o = owner();
    let p = relay.prepare(&Req::new("GET", "/v1/shares").owner(&o));
    assert_eq!(relay.send(&p).await.status, 200);
    let r = relay.send(&p).await;
    assert_eq!((r.status, r.code().as_str()), (401, "replayed"));
    let mut stale = Req::new("GET", "/v1/shares").owner(&o);
    stale.timestamp_offset = -301;
    let r = relay.call(stale).await;
    assert_eq!((r.status, r.code().as_str()), (401, "stale_timestamp"));
    // Signed for another path.
    let mut p = relay.prepare(&Req::new("GET", "/v1/shares?x=1").owner(&o));
    p.set_path(&relay, "/v1/shares");
    let r = relay.send(&p).await;
    assert_eq!((r.status, r.code().as_str()), (401, "bad_signature"));
    // Missing or malformed headers.
    let r = relay.call(Req::new("GET", "/v1/shares")).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_header"));
    let r = relay
        .call(
            Req::new("GET", "/v1/shares")
                .header("oneshare-signer", "owner:AAAA")
                .header("oneshare-timestamp", "1")
                .header("oneshare-nonce", "x")
                .header("oneshare-signature", "y"),
        )
        .await;
    assert_eq!(r.status, 400);
    // A device signature where an owner one is needed.
    let d = device();
    let r = relay
        .call(Req::new("GET", "/v1/shares").signed(&d, Signer::Admin(d.public_key())))
        .await;
    assert_eq!(r.code(), "forbidden");
}

#[tokio::test]
async fn expiry_and_self_destruct_with_the_clock() {
    let relay = start(|_| {}).await;
    let o = owner();
    let sent = relay.create(&o, &[]).await; // 1 h
    relay.advance(3_600);
    let r = relay.bind(&sent, &device()).await;
    assert_eq!((r.status, r.code().as_str()), (410, "expired"));
    assert_eq!(
        relay
            .call(Req::new("GET", sent.path("/status")))
            .await
            .json::<ShareStatus>()
            .state,
        State::Expired
    );
    oneshare_server::sweeper::sweep_once(&relay.state).await;
    let list: ShareList = relay
        .call(Req::new("GET", "/v1/shares").owner(&o))
        .await
        .json();
    assert_eq!(list.shares[0].state, State::Expired);

    let (sd, req) = compose(&o, "sd", 86_400, true, &[]);
    assert_eq!(relay.post_create(&o, &req).await.status, 201);
    let dev = device();
    let b: BindResponse = relay.bind(&sd, &dev).await.open();
    assert!(b.self_destruct);
    assert_eq!(
        b.access_expires_at,
        relay.now() + SELF_DESTRUCT_AFTER_VIEW_SECS
    );
    relay
        .call(relay.device(&sd, &dev, "POST", "/confirm"))
        .await;
    relay.advance(SELF_DESTRUCT_AFTER_VIEW_SECS - 1);
    assert_eq!(
        relay
            .call(relay.device(&sd, &dev, "GET", "/record").sealed_answer())
            .await
            .status,
        200
    );
    relay.advance(1);
    let r = relay
        .call(relay.device(&sd, &dev, "GET", "/record").sealed_answer())
        .await;
    assert_eq!((r.status, r.code().as_str()), (410, "self_destructed"));
}

#[tokio::test]
async fn policy_quota_and_admin() {
    let admin = device();
    let ak = admin.public_key();
    let relay = start(move |c| {
        c.admin_keys = vec![ak];
        c.policy.max_shares_per_owner = 2;
    })
    .await;
    let o = owner();
    relay.create(&o, &[]).await;
    let s2 = relay.create(&o, &[]).await;
    let (_, req) = compose(&o, "3", 3_600, false, &[]);
    let r = relay.post_create(&o, &req).await;
    assert_eq!((r.status, r.code().as_str()), (409, "quota"));
    // Too long an expiry, too big a record.
    let (_, mut req) = compose(&owner(), "x", 400 * 86_400, false, &[]);
    let r = relay.post_create(&owner(), &req).await;
    assert_eq!(r.status, 400);
    req.expires_in = 3_600;
    req.record = vec![0; 1024 * 1024 + 1];
    let r = relay.post_create(&owner(), &req).await;
    assert_eq!(r.code(), "too_large");

    // Admin: only configured keys.
    let stranger = device();
    let r = relay
        .call(
            Req::new("GET", "/v1/admin/policy")
                .signed(&stranger, Signer::Admin(stranger.public_key())),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let adm =
        |m, p: &str| Req::new(m, p.to_owned()).signed(&admin, Signer::Admin(admin.public_key()));
    let mut p: Policy = relay.call(adm("GET", "/v1/admin/policy")).await.json();
    assert_eq!(p.max_shares_per_owner, 2);
    let enrolled = owner();
    p.create = CreatePolicy::Enrolled;
    p.enrolled_owners = vec![enrolled.public_key()];
    p.max_shares_per_owner = 10;
    assert_eq!(
        relay
            .call(adm("PUT", "/v1/admin/policy").json(&p))
            .await
            .status,
        200
    );
    let r = relay
        .call(adm("PUT", "/v1/admin/policy").body(b"{\"create\":1}".to_vec()))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_request"));
    let (_, req) = compose(&o, "not enrolled", 3_600, false, &[]);
    let r = relay.post_create(&o, &req).await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    relay.create(&enrolled, &[]).await;

    let all: ShareList = relay.call(adm("GET", "/v1/admin/shares")).await.json();
    assert_eq!(all.shares.len(), 3);
    assert!(all.shares.iter().all(|s| s.owner_data.is_empty()));
    let r = relay
        .call(adm("DELETE", &format!("/v1/admin/shares/{}", s2.id())))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        relay
            .call(Req::new("GET", s2.path("/status")))
            .await
            .json::<ShareStatus>()
            .state,
        State::Revoked
    );
    // Someone else's share looks like no share at all.
    let r = relay
        .call(Req::new("DELETE", s2.path("")).owner(&enrolled))
        .await;
    assert_eq!(r.code(), "not_found");
}

#[tokio::test]
async fn limits_errors_and_headers() {
    // An empty --www-dir: this relay has no viewer, whether or not one is embedded.
    let no_viewer = tempfile::tempdir().unwrap();
    let dir = no_viewer.path().to_owned();
    let relay = start(move |c| {
        c.limits.json_body_bytes = 1024;
        c.www_dir = Some(dir);
    })
    .await;
    let o = owner();
    // 413 on an ordinary route.
    let r = relay
        .call(
            Req::new("POST", "/v1/shares/AAAAAAAAAAAAAAAAAAAAAA/confirm")
                .owner(&o)
                .body(vec![b'x'; 4096]),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "too_large"));
    // Part bigger than the part size.
    let sent = relay.create(&o, &[]).await;
    let part = relay.state.config.limits.part_size() as usize;
    let r = relay
        .call(
            Req::new("PUT", sent.path("/attachments/a/parts/0"))
                .owner(&o)
                .body(vec![0; part + 1]),
        )
        .await;
    assert_eq!(r.status, 413);
    // Malformed input is a 4xx JSON error, never a 500.
    for (m, p) in [
        ("GET", "/v1/shares/not-an-id/status"),
        ("GET", "/v1/nope"),
        ("GET", "/v1/shares/%zz/status"),
    ] {
        let r = relay.call(Req::new(m, p)).await;
        assert!((400..500).contains(&r.status), "{p}: {}", r.status);
        r.code();
    }
    let r = relay.call(Req::new("PATCH", "/v1/shares")).await;
    assert_eq!((r.status, r.code().as_str()), (405, "method_not_allowed"));
    let r = relay
        .call(
            Req::new("POST", "/v1/shares")
                .owner(&o)
                .body(b"garbage".to_vec())
                .encrypted(),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = relay
        .call(
            Req::new("POST", "/v1/shares")
                .owner(&o)
                .body(b"{\"share_id\": 5}".to_vec())
                .encrypted(),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_request"));
    let r = relay
        .call(
            Req::new("POST", "/v1/shares")
                .owner(&o)
                .body(b"{}".to_vec()),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_header"));
    // Security headers on every answer, errors included.
    // The pages' policy on HTML; nothing may run from any other answer.
    for (path, csp) in [
        ("/v1/relay-key", oneshare_server::http::CSP_NONE),
        ("/healthz", oneshare_server::http::CSP_NONE),
        ("/v1/nope", oneshare_server::http::CSP_NONE),
        ("/s", oneshare_server::http::CSP),
    ] {
        let r = relay.call(Req::new("GET", path)).await;
        assert_eq!(r.header("content-security-policy"), Some(csp), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("cross-origin-opener-policy"), Some("same-origin"));
        assert_eq!(
            r.header("cross-origin-resource-policy"),
            Some("same-origin")
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    let r = relay.call(Req::new("GET", "/s%23abcdef")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    // Without a viewer the recipient is told the link was not used and what to do,
    // and the mangled token is never echoed back.
    let page = String::from_utf8_lossy(&r.body);
    assert!(page.contains("Nothing was opened") && page.contains("viewport"));
    assert!(!page.contains("abcdef"));
}

/// `/metrics` is for operators: off without a token, refused with a wrong one
/// (rate limited like any route), and its share counts are the sweeper's
/// snapshot, not a query per scrape (issue 8, item 6).
#[tokio::test]
async fn metrics_need_the_operator_token() {
    let relay = start(|_| {}).await;
    assert_eq!(relay.call(Req::new("GET", "/metrics")).await.status, 404);
    let token = "operator-token-0123456789";
    let relay = start(|c| c.metrics_token = Some(token.into())).await;
    relay.create(&owner(), &[]).await;
    let _ = relay.call(Req::new("GET", "/v1/shares/x/status")).await;
    let r = relay
        .call(Req::new("GET", "/metrics").header("authorization", "Bearer wrong"))
        .await;
    assert_eq!(r.status, 403);
    let scrape = || {
        relay.call(Req::new("GET", "/metrics").header("authorization", &format!("Bearer {token}")))
    };
    let m = String::from_utf8(scrape().await.body).unwrap();
    assert!(
        m.contains("oneshare_requests_total{route=\"/v1/shares/{id}/status\",status=\"400\"}"),
        "{m}"
    );
    // Share counts follow creates and revokes at once, without a sweep.
    assert!(m.contains("oneshare_shares{state=\"unbound\"} 1"), "{m}");
    let o = owner();
    let sent = relay.create(&o, &[]).await;
    let m = String::from_utf8(scrape().await.body).unwrap();
    assert!(m.contains("oneshare_shares{state=\"unbound\"} 2"), "{m}");
    let r = relay
        .call(Req::new("DELETE", sent.path("")).owner(&o))
        .await;
    assert_eq!(r.status, 204);
    let m = String::from_utf8(scrape().await.body).unwrap();
    assert!(m.contains("oneshare_shares{state=\"unbound\"} 1"), "{m}");
    assert!(m.contains("oneshare_shares{state=\"revoked\"} 1"), "{m}");
    // A sweep folds the counts without changing them.
    oneshare_server::sweeper::sweep_once(&relay.state).await;
    let again = String::from_utf8(scrape().await.body).unwrap();
    let shares = |m: &str| {
        m.lines()
            .filter(|l| l.starts_with("oneshare_shares{"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(shares(&again), shares(&m));
}

#[tokio::test]
async fn rate_limits_answer_429() {
    let relay = start(|c| {
        c.limits.requests_per_minute = 5;
    })
    .await;
    let mut last = None;
    for _ in 0..6 {
        last = Some(relay.call(Req::new("GET", "/v1/relay-key")).await);
    }
    let r = last.unwrap();
    assert_eq!((r.status, r.code().as_str()), (429, "rate_limited"));
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let relay = start(|c| {
        c.limits.header_timeout_secs = 1;
        c.limits.request_timeout_secs = 1;
    })
    .await;
    // Headers trickled one byte at a time never complete.
    let mut s = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    for b in b"GET /v1/relay-key HTTP/1.1\r\nHost: x\r\n"
        .iter()
        .cycle()
        .take(40)
    {
        if s.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let mut buf = [0u8; 256];
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(1), s.read(&mut buf)).await
        {
            closed = true;
            let _ = n;
            break;
        }
    }
    assert!(closed, "the slow client was not cut off");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    // Well-formed signed headers, then a body that never completes: 408.
    let admin = device();
    let p = relay.prepare(
        &Req::new("PUT", "/v1/admin/policy")
            .signed(&admin, Signer::Admin(admin.public_key()))
            .body(b"{}".to_vec()),
    );
    let mut head =
        String::from("PUT /v1/admin/policy HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n");
    for (k, v) in p.headers() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n{");
    let mut s = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"timeout\""), "{text}");
}

#[tokio::test]
async fn cors_allowlist() {
    let relay = start(|c| c.cors_origins = vec!["https://vault.example".into()]).await;
    let pre = |origin: &str| {
        Req::new("OPTIONS", "/v1/shares")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "oneshare-signature,content-type",
            )
    };
    let r = relay.call(pre("https://vault.example")).await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://vault.example")
    );
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("oneshare-signature")
    );
    let r = relay.call(pre("https://evil.example")).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Without an allow-list, answers carry no CORS headers at all.
    let plain = start(|_| {}).await;
    let r = plain.call(Req::new("GET", "/v1/relay-key")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("vary"), None);
    assert_eq!(r.header("access-control-expose-headers"), None);
    let r = plain.call(pre("https://vault.example")).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn shutdown_ends_event_streams() {
    let relay = start(|_| {}).await;
    let o = owner();
    relay.create(&o, &[]).await;
    let p = relay.prepare(&Req::new("GET", "/v1/events").owner(&o));
    let mut res = relay.send_streaming(&p).await;
    let first = res.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("created"));
    relay.state.begin_shutdown();
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(_c) = res.chunk().await.unwrap() {}
    })
    .await;
    assert!(end.is_ok(), "the event stream did not end on shutdown");
}

#[tokio::test]
async fn serves_viewer_files_when_installed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "outside").unwrap();
    let www = tempfile::tempdir().unwrap();
    let w = www.path();
    std::fs::write(
        w.join("index.html"),
        "<!doctype html><title>compose</title>",
    )
    .unwrap();
    std::fs::write(w.join("s.html"), "<!doctype html><title>open</title>").unwrap();
    std::fs::write(w.join("sw.js"), "self.x = 1").unwrap();
    std::fs::write(w.join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir(w.join("assets")).unwrap();
    std::fs::write(w.join("assets/app-1a2b.js"), "console.log(1)").unwrap();
    std::fs::write(w.join("assets/app-1a2b.js.br"), "brotli bytes").unwrap();
    std::fs::write(w.join("assets/app-1a2b.js.gz"), "gzip bytes").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), w.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), w.join("out")).unwrap();
    let dir = w.to_owned();
    let relay = start(move |c| c.www_dir = Some(dir)).await;
    let get = |path: &'static str, enc: Option<&'static str>| {
        let mut r = Req::new("GET", path);
        if let Some(e) = enc {
            r = r.header("accept-encoding", e);
        }
        relay.call(r)
    };
    // `/` is the compose page, `/s` (also with a mangled fragment) the open page.
    for (path, title) in [
        ("/", "compose"),
        ("/s", "open"),
        ("/s%23abc", "open"),
        ("/s%2523abc", "open"),
    ] {
        let r = get(path, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains(title), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert_eq!(
            r.header("content-security-policy"),
            Some(oneshare_server::http::CSP)
        );
    }
    // Hashed assets: immutable, the precompressed variant the client prefers.
    let r = get("/assets/app-1a2b.js", Some("gzip, deflate, br")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"brotli bytes");
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    let r = get("/assets/app-1a2b.js", Some("gzip")).await;
    assert_eq!(
        (r.body.as_slice(), r.header("content-encoding")),
        (&b"gzip bytes"[..], Some("gzip"))
    );
    let r = get("/assets/app-1a2b.js", None).await;
    assert_eq!(
        (r.body.as_slice(), r.header("content-encoding")),
        (&b"console.log(1)"[..], None)
    );
    // A stable name (the service worker) revalidates, and a worker's script
    // carries the pages' policy (a worker takes its own response's).
    let r = get("/sw.js", None).await;
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(
        r.header("content-security-policy"),
        Some(oneshare_server::http::CSP)
    );
    // Dotfiles, traversal, symlinks out of the directory, variants by name: 404.
    for path in [
        "/.env",
        "/../../etc/passwd",
        "/assets/../.env",
        "/leak.txt",
        "/out/secret.txt",
        "/assets/app-1a2b.js.br",
        "/missing.js",
    ] {
        let r = get(path, None).await;
        assert_eq!((r.status, r.code().as_str()), (404, "not_found"), "{path}");
    }
    // Nothing but GET and HEAD reads files.
    let r = relay.call(Req::new("POST", "/s")).await;
    assert_eq!(r.status, 404);
    let r = relay.call(Req::new("HEAD", "/s")).await;
    assert_eq!(r.status, 200);
}

/// PROTOCOL.md §10: every API route in `http.rs` is in the OpenAPI document with its
/// methods, and every documented path and method is routed (a documented path
/// answers another method with 405, a documented method never with 405).
#[tokio::test]
async fn openapi_describes_every_route() {
    let source = include_str!("../src/http.rs");
    let mut routed: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|s| s.trim_start().strip_prefix('"')?.split('"').next())
        .filter(|p| p.starts_with("/v1/") || *p == "/healthz" || *p == "/metrics")
        .collect();
    routed.sort_unstable();
    routed.dedup();
    assert!(routed.len() >= 15, "{routed:?}");
    let relay = start(|_| {}).await;
    let doc: serde_json::Value = relay.call(Req::new("GET", "/v1/openapi.json")).await.json();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort_unstable();
    assert_eq!(
        routed, documented,
        "routes in http.rs vs paths in openapi.rs"
    );
    let concrete = |p: &str| {
        p.replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA")
            .replace("{aid}", "a")
            .replace("{n}", "0")
    };
    for (path, ops) in paths {
        let url = concrete(path);
        let r = relay.call(Req::new("PATCH", url.clone())).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (405, "method_not_allowed"),
            "PATCH {path}"
        );
        for method in ops.as_object().unwrap().keys() {
            let method = ["GET", "POST", "PUT", "DELETE"]
                .into_iter()
                .find(|m| m.eq_ignore_ascii_case(method))
                .unwrap();
            let r = relay.call(Req::new(method, url.clone())).await;
            assert_ne!(
                r.status, 405,
                "{method} {path} is documented but not routed"
            );
        }
    }
    // Every schema a document reference names exists.
    let text = doc.to_string();
    for name in text.split("#/components/schemas/").skip(1) {
        let name = name.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}

/// Issue 8, items 8 and 9: after confirm, a bind raises the "link leaked" alarm
/// only when it carries the token; the bound device's own re-bind is answered
/// distinctly; and a signed `HEAD` of the record neither answers nor records `viewed`.
#[tokio::test]
async fn alarms_need_the_token_and_head_records_nothing() {
    let relay = start(|_| {}).await;
    let o = owner();
    let sent = relay.create(&o, &[]).await;
    let dev = device();
    let _: BindResponse = relay.bind(&sent, &dev).await.open();
    let r = relay
        .call(relay.device(&sent, &dev, "POST", "/confirm"))
        .await;
    assert_eq!(r.status, 200);
    let kinds = || async {
        relay
            .state
            .store
            .events_since(&o.public_key(), 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect::<Vec<_>>()
    };
    let before = kinds().await;
    // The bound device binding again: its own answer, no event.
    let r = relay.bind(&sent, &dev).await;
    assert_eq!((r.status, r.code().as_str()), (409, "already_confirmed"));
    // A stranger who knows only the share id: refused, no alarm.
    let (other, _) = compose(&o, "x", 3_600, false, &[]);
    let stranger = device();
    let mut req = relay.bind_req(&sent, &stranger);
    req.body = serde_json::to_vec(&oneshare_sdk::api::BindRequest {
        bind_secret: *other.keys.bind_secret.expose(),
        device_key: stranger.public_key(),
        evidence: None,
    })
    .unwrap();
    let r = relay.call(req).await;
    assert_eq!((r.status, r.code().as_str()), (403, "bad_token"));
    // A signed HEAD of the record: refused, nothing recorded.
    let r = relay
        .call(relay.device(&sent, &dev, "HEAD", "/record"))
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(kinds().await, before);
    // The real token on another device: the alarm.
    let r = relay.bind(&sent, &device()).await;
    assert_eq!((r.status, r.code().as_str()), (409, "already_bound"));
    let after = kinds().await;
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(&after[before.len()..], &[EventKind::RefusedDevice]);
}

/// Issue 8, item 3: someone who knows only a share id cannot spend the
/// recipient's budgets. Junk binds count per (share, client) and unverified
/// device requests do not count at all. Clients are told apart by
/// `X-Forwarded-For` from a trusted proxy (the test's loopback address).
#[tokio::test]
async fn a_share_id_alone_cannot_lock_out_the_recipient() {
    let relay = start(|c| {
        c.limits.binds_per_minute = 3;
        c.limits.share_requests_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let o = owner();
    let sent = relay.create(&o, &[]).await;
    let (junk, _) = compose(&o, "x", 3_600, false, &[]);
    let attacker = device();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let mut req = relay
            .bind_req(&sent, &attacker)
            .header("x-forwarded-for", "203.0.113.9");
        req.body = serde_json::to_vec(&oneshare_sdk::api::BindRequest {
            bind_secret: *junk.keys.bind_secret.expose(),
            device_key: attacker.public_key(),
            evidence: None,
        })
        .unwrap();
        statuses.push(relay.call(req).await.status);
    }
    assert_eq!(statuses, [403, 403, 403, 429, 429]);
    // The recipient, elsewhere, still binds.
    let dev = device();
    let r = relay
        .call(
            relay
                .bind_req(&sent, &dev)
                .header("x-forwarded-for", "198.51.100.7"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Device requests signed by someone else are refused without counting.
    for _ in 0..5 {
        let r = relay
            .call(
                relay
                    .device(&sent, &attacker, "GET", "/record")
                    .sealed_answer(),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = relay
        .call(relay.device(&sent, &dev, "GET", "/record").sealed_answer())
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Issue 8, item 13: HSTS only when the public URL is https.
#[tokio::test]
async fn hsts_follows_the_public_url() {
    let plain = start(|_| {}).await;
    let r = plain.call(Req::new("GET", "/healthz")).await;
    assert!(r.header("strict-transport-security").is_none());
    let tls = start(|c| c.public_url = "https://share.example".into()).await;
    let r = tls.call(Req::new("GET", "/healthz")).await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

/// Issue 8, item 10: every create field is checked, and the record body limit
/// follows the policy in force, not the start-up one.
#[tokio::test]
async fn create_checks_every_field_and_the_current_policy() {
    let admin = device();
    let relay = start(|c| {
        c.admin_keys = vec![admin.public_key()];
        c.limits.json_body_bytes = 4096;
        c.policy.max_record_bytes = 1000;
    })
    .await;
    let o = owner();
    let bad = |edit: &dyn Fn(&mut oneshare_sdk::api::CreateShareRequest)| {
        let (_, mut req) = compose(&o, "x", 3_600, false, &[]);
        edit(&mut req);
        req
    };
    for (what, req) in [
        ("short wrapped key", bad(&|r| r.wrapped_key.truncate(5))),
        ("huge owner data", bad(&|r| r.owner_data = vec![0; 20_000])),
        (
            "1-byte attachment",
            bad(&|r| {
                r.attachments = vec![oneshare_sdk::api::AttachmentDecl {
                    id: "a".into(),
                    size: 1,
                }]
            }),
        ),
        (
            "duplicate attachment ids",
            bad(&|r| {
                let a = oneshare_sdk::api::AttachmentDecl {
                    id: "a".into(),
                    size: 1000,
                };
                r.attachments = vec![a.clone(), a];
            }),
        ),
    ] {
        let r = relay.post_create(&o, &req).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "bad_request"),
            "{what}"
        );
    }
    // A 20 kB record: too large under the start-up policy...
    let big = bad(&|r| r.record = vec![1; 20_000]);
    let r = relay.post_create(&o, &big).await;
    assert_eq!((r.status, r.code().as_str()), (413, "too_large"));
    // ...accepted once the admin raises the limit, without a restart.
    let adm =
        |m, p: &str| Req::new(m, p.to_owned()).signed(&admin, Signer::Admin(admin.public_key()));
    let mut p: Policy = relay.call(adm("GET", "/v1/admin/policy")).await.json();
    p.max_record_bytes = 100_000;
    assert_eq!(
        relay
            .call(adm("PUT", "/v1/admin/policy").json(&p))
            .await
            .status,
        200
    );
    let r = relay.post_create(&o, &big).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}
