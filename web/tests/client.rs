//! The browser client in headless Chromium against a real relay process
//! (`cargo xtask test` starts it and passes its URL in `ONESHARE_TEST_RELAY`).
//! Each test uses its own IndexedDB databases: one database is one device.
//!
//! Faults a network can cause (an answer lost after the relay acted, a timeout
//! from a proxy) are injected by wrapping `fetch`: the real relay still does the
//! work, only its answer does not arrive.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::Uint8Array;
use oneshare_sdk::lifetime::State;
use oneshare_sdk::open_code::OpenCode;
use oneshare_web::{
    Client, CreateOptions, Created, DownloadOptions, Error, Field, FieldType, Link, NewFile,
    NewPassphrase, OpenOptions, Record, take_link_from_location,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const faults = [];
const real = globalThis.fetch.bind(globalThis);
globalThis.fetch = async (url, init) => {
  const method = init?.method ?? 'GET';
  const i = faults.findIndex((f) => f.method === method && String(url).endsWith(f.suffix));
  if (i < 0) return real(url, init);
  const f = faults.splice(i, 1)[0];
  const res = await real(url, init);
  await res.arrayBuffer();
  if (f.status === 0) throw new TypeError('Failed to fetch');
  return new Response(JSON.stringify({ code: 'timeout', message: 'the request took too long' }),
    { status: f.status, headers: { 'content-type': 'application/json' } });
};
export function loseAnswer(method, suffix, status) { faults.push({ method, suffix, status }); }
let savedIdb = null;
export function hideIndexedDb() {
  savedIdb = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
  Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true });
}
export function restoreIndexedDb() { Object.defineProperty(globalThis, 'indexedDB', savedIdb); }
export function pushUrl(u) { history.pushState(null, '', u); }
export function historyLength() { return history.length; }
export function href() { return location.href; }
export function pattern(n) { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = i % 251; return new Blob([b], { type: 'application/octet-stream' }); }
export function aborter() { return new AbortController(); }
export function abortNow(c) { c.abort(); }
export function signalOf(c) { return c.signal; }
export function unique() { return Math.random().toString(36).slice(2); }
export function countingFetch() {
  const f = (url, init) => { f.urls.push(String(url)); return globalThis.fetch(url, init); };
  f.urls = [];
  return f;
}
export function fetchCount(f, suffix) { return f.urls.filter((u) => u.endsWith(suffix)).length; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = loseAnswer)]
    fn lose_answer(method: &str, suffix: &str, status: u16);
    #[wasm_bindgen(js_name = hideIndexedDb)]
    fn hide_indexed_db();
    #[wasm_bindgen(js_name = restoreIndexedDb)]
    fn restore_indexed_db();
    #[wasm_bindgen(js_name = pushUrl)]
    fn push_url(u: &str);
    #[wasm_bindgen(js_name = historyLength)]
    fn history_length() -> u32;
    fn href() -> String;
    fn pattern(n: u32) -> web_sys::Blob;
    fn aborter() -> JsValue;
    #[wasm_bindgen(js_name = abortNow)]
    fn abort_now(c: &JsValue);
    #[wasm_bindgen(js_name = signalOf)]
    fn signal_of(c: &JsValue) -> web_sys::AbortSignal;
    fn unique() -> String;
    #[wasm_bindgen(js_name = countingFetch)]
    fn counting_fetch() -> js_sys::Function;
    #[wasm_bindgen(js_name = fetchCount)]
    fn fetch_count(f: &js_sys::Function, suffix: &str) -> u32;
}

fn relay_url() -> &'static str {
    match option_env!("ONESHARE_TEST_RELAY") {
        Some(url) => url,
        None => panic!("ONESHARE_TEST_RELAY: run through `cargo xtask test` (it starts the relay)"),
    }
}

/// A new device: its own key store.
async fn device() -> Client {
    Client::connect(relay_url())
        .await
        .unwrap()
        .with_store(&format!("device-{}", unique()))
}

fn record() -> Record {
    Record {
        title: "Production database".into(),
        fields: vec![
            Field {
                kind: FieldType::Login,
                label: None,
                value: "admin".into(),
            },
            Field {
                kind: FieldType::Password,
                label: None,
                value: "correct horse battery staple".into(),
            },
        ],
        attachments: Vec::new(),
    }
}

fn file(size: u32) -> NewFile {
    NewFile {
        name: "data.bin".into(),
        mime: "application/octet-stream".into(),
        blob: pattern(size),
    }
}

async fn blob_bytes(blob: &web_sys::Blob) -> Vec<u8> {
    Uint8Array::new(&JsFuture::from(blob.array_buffer()).await.unwrap()).to_vec()
}

fn expected(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// The open code of a share. This suite runs in a browser driven by
/// WebDriver, which is what a scanner looks like, so every open of a v2 share
/// is asked for the code (PROTOCOL.md §12.4) and the recipient gives it.
fn code_of(created: &Created) -> OpenOptions {
    OpenOptions {
        code: Some(OpenCode::parse(&created.open_code).unwrap()),
        ..OpenOptions::default()
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().to_owned(),
    }
}

/// Several segments and a short final one, over several upload parts.
const SIZE: u32 = 3 * 65536 + 12345;

/// The relay key comes with the status answer (the open page reads it before a
/// press), so the open needs no request for it; a client that read no status
/// fetches it once, by the first request that signs or seals.
#[wasm_bindgen_test]
async fn relay_key_comes_with_the_status_or_is_fetched_once() {
    let created = device()
        .await
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let fetch = counting_fetch();
    let recipient = Client::connect_with(relay_url(), Some(fetch.clone()))
        .await
        .unwrap()
        .with_store(&format!("device-{}", unique()));
    assert_eq!(recipient.relay_key_id(), None);
    assert_eq!(recipient.status(&link).await.unwrap().state, State::Unbound);
    assert_eq!(fetch_count(&fetch, "/status"), 1);
    assert!(recipient.relay_key_id().is_some_and(|id| !id.is_empty()));
    recipient
        .open_with(&link, &code_of(&created))
        .await
        .unwrap();
    recipient
        .record(&created.share_id.to_string())
        .await
        .unwrap();
    assert_eq!(fetch_count(&fetch, "/v1/relay-key"), 0);

    let fetch = counting_fetch();
    let sender = Client::connect_with(relay_url(), Some(fetch.clone()))
        .await
        .unwrap()
        .with_store(&format!("owner-{}", unique()));
    assert_eq!(sender.relay_key_id(), None);
    for _ in 0..2 {
        sender
            .create(record(), vec![], &CreateOptions::default(), None)
            .await
            .unwrap();
    }
    assert_eq!(fetch_count(&fetch, "/v1/relay-key"), 1);
    assert!(sender.relay_key_id().is_some_and(|id| !id.is_empty()));
}

#[wasm_bindgen_test]
async fn open_decrypts_keeps_keys_and_refuses_a_second_device() {
    let sender = device().await;
    let mut progress = Vec::new();
    let created = {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let s = seen.clone();
        let out = sender
            .create(
                record(),
                vec![file(SIZE)],
                &CreateOptions::default(),
                Some(Box::new(move |done, total, _| {
                    s.borrow_mut().push((done, total))
                })),
            )
            .await
            .unwrap();
        progress.extend(seen.borrow().iter().copied());
        out
    };
    assert_eq!(progress.last(), Some(&(u64::from(SIZE), u64::from(SIZE))));
    let link = Link::parse(&created.link.replace('#', "%23")).unwrap();
    assert_eq!(link.share_id(), created.share_id);

    let recipient = device().await;
    let before = recipient.status(&link).await.unwrap();
    assert_eq!(before.state, State::Unbound);
    assert!(!before.on_this_device);
    // Status consumed nothing: still unbound.
    assert_eq!(recipient.status(&link).await.unwrap().state, State::Unbound);

    let opened = recipient
        .open_with(&link, &code_of(&created))
        .await
        .unwrap();
    assert_eq!(opened.record.title, "Production database");
    assert_eq!(opened.record.fields, record().fields);
    assert_eq!(opened.version, 1);
    let meta = opened.record.attachments[0].clone();
    assert_eq!(meta.size, u64::from(SIZE));
    let id = created.share_id.to_string();
    let blob = recipient
        .download_blob(&id, &meta, DownloadOptions::default())
        .await
        .unwrap();
    assert_eq!(blob_bytes(&blob).await, expected(SIZE as usize));

    let after = recipient.status(&link).await.unwrap();
    assert_eq!(after.state, State::Bound);
    assert!(after.on_this_device);
    let on_device = recipient.shares_on_device().await.unwrap();
    assert_eq!(on_device.len(), 1);
    assert!(on_device[0].confirmed);
    assert_eq!(on_device[0].relay, recipient.relay_url());
    // The same link again on this device just reads the record.
    assert_eq!(
        recipient
            .open_with(&link, &code_of(&created))
            .await
            .unwrap()
            .record
            .title,
        opened.record.title
    );
    // A reload (a new connection to the same store) still reads it by id.
    recipient.close();
    assert_eq!(recipient.record(&id).await.unwrap().version, 1);

    // A second device is refused, and the key pair it made is dropped.
    let third = device().await;
    assert_eq!(
        code(third.open_with(&link, &code_of(&created)).await),
        "already_bound"
    );
    assert!(third.shares_on_device().await.unwrap().is_empty());
    assert_eq!(code(third.record(&id).await), "not_on_device");

    // The owner publishes version 2; the device sees it.
    let mut next = record();
    next.title = "Rotated".into();
    next.attachments = opened.record.attachments.clone();
    assert_eq!(sender.update(&created.share_id, &next).await.unwrap(), 2);
    let v2 = recipient.record(&id).await.unwrap();
    assert_eq!((v2.version, v2.record.title.as_str()), (2, "Rotated"));
    let listed = sender.list_shares().await.unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s.share_id == created.share_id && s.state == State::Bound)
    );

    // Revoked: the relay answers 410 and the device forgets the keys.
    sender.revoke(&created.share_id).await.unwrap();
    assert_eq!(code(recipient.record(&id).await), "revoked");
    assert!(recipient.shares_on_device().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn forget_drops_the_keys() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let recipient = device().await;
    recipient
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    let id = created.share_id.to_string();
    recipient.forget(&id).await.unwrap();
    assert_eq!(code(recipient.record(&id).await), "not_on_device");
}

#[wasm_bindgen_test]
async fn a_share_bound_through_another_relay_is_refused_not_forgotten() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let store = format!("device-{}", unique());
    let a = Client::connect(relay_url())
        .await
        .unwrap()
        .with_store(&store);
    let link = Link::parse(&created.link).unwrap();
    a.open_with(&link, &code_of(&created)).await.unwrap();
    // The same browser store, a client of another relay URL.
    let other = relay_url().replace("127.0.0.1", "localhost");
    let b = Client::connect(&other).await.unwrap().with_store(&store);
    let id = created.share_id.to_string();
    assert_eq!(code(b.record(&id).await), "other_relay");
    assert_eq!(
        code(b.open_with(&link, &code_of(&created)).await),
        "other_relay"
    );
    assert_eq!(b.shares_on_device().await.unwrap().len(), 1);
    assert_eq!(a.record(&id).await.unwrap().version, 1);
}

#[wasm_bindgen_test]
async fn an_abort_gives_aborted() {
    let sender = device().await;
    let controller = aborter();
    let c = controller.clone();
    let options = CreateOptions {
        signal: Some(signal_of(&controller)),
        ..CreateOptions::default()
    };
    // Aborted after the first part: the share exists, its attachment is not whole.
    let result = sender
        .create(
            record(),
            vec![file(SIZE)],
            &options,
            Some(Box::new(move |_, _, _| abort_now(&c))),
        )
        .await;
    assert_eq!(code(result), "aborted");

    let created = sender
        .create(record(), vec![file(SIZE)], &CreateOptions::default(), None)
        .await
        .unwrap();
    let recipient = device().await;
    let opened = recipient
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    let controller = aborter();
    abort_now(&controller);
    let r = recipient
        .download(
            &created.share_id.to_string(),
            &opened.record.attachments[0],
            DownloadOptions {
                signal: Some(signal_of(&controller)),
                ..DownloadOptions::default()
            },
        )
        .await;
    assert_eq!(code(r.map(|_| ())), "aborted");
}

#[wasm_bindgen_test]
async fn a_404_for_an_attachment_still_uploading_keeps_the_keys() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let recipient = device().await;
    recipient
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    // The owner lists a file before its upload is whole (the relay answers 404).
    let mut next = record();
    next.attachments.push(oneshare_web::Attachment {
        id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        name: "later.bin".into(),
        mime: "application/octet-stream".into(),
        size: 10,
        key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    });
    sender.update(&created.share_id, &next).await.unwrap();
    let id = created.share_id.to_string();
    let v2 = recipient.record(&id).await.unwrap();
    assert_eq!(
        code(
            recipient
                .download(&id, &v2.record.attachments[0], DownloadOptions::default())
                .await
                .map(|_| ())
        ),
        "attachment_uploading"
    );
    assert_eq!(recipient.record(&id).await.unwrap().version, 2);
    assert_eq!(recipient.shares_on_device().await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn a_bind_answered_408_keeps_the_device_key_and_the_next_open_succeeds() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let recipient = device().await;
    // The relay binds, a proxy answers 408.
    lose_answer("POST", "/bind", 408);
    assert_eq!(
        code(recipient.open_with(&link, &code_of(&created)).await),
        "timeout"
    );
    let pending = recipient.shares_on_device().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(!pending[0].confirmed);
    // The relay holds the share for this key: the retry re-binds with it.
    let opened = recipient
        .open_with(&link, &code_of(&created))
        .await
        .unwrap();
    assert_eq!(opened.record.title, "Production database");
    assert!(recipient.shares_on_device().await.unwrap()[0].confirmed);
}

#[wasm_bindgen_test]
async fn a_lost_confirm_answer_then_open_returns_the_record() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let recipient = device().await;
    // The relay confirms (the token is dead), the answer never arrives.
    lose_answer("POST", "/confirm", 0);
    assert_eq!(
        code(recipient.open_with(&link, &code_of(&created)).await),
        "network"
    );
    let opened = recipient
        .open_with(&link, &code_of(&created))
        .await
        .unwrap();
    assert_eq!(opened.record.title, "Production database");
    assert!(recipient.shares_on_device().await.unwrap()[0].confirmed);
}

/// Two tabs of one browser (one key store) open the same link at once (a
/// double-clicked mail link): both show the record, bound to one device key,
/// which the device keeps. Before, each tab stored its own key and the loser's
/// refusal deleted the entry, leaving the share unreadable on this device.
#[wasm_bindgen_test]
async fn two_tabs_opening_one_link_at_once_both_get_the_record() {
    let created = device()
        .await
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let store = format!("device-{}", unique());
    let tab = |created: &Created, store: &str| {
        let (link, code, store) = (created.link.clone(), code_of(created), store.to_owned());
        wasm_bindgen_futures::future_to_promise(async move {
            let c = Client::connect(relay_url())
                .await
                .unwrap()
                .with_store(&store);
            c.open_with(&Link::parse(&link).unwrap(), &code)
                .await
                .map(|o| JsValue::from(o.record.title.as_str()))
                .map_err(|e| JsValue::from(e.code()))
        })
    };
    let tabs = js_sys::Array::of2(&tab(&created, &store), &tab(&created, &store));
    let titles = JsFuture::from(js_sys::Promise::all(&tabs)).await;
    let titles = js_sys::Array::from(&titles.expect("both tabs open it"));
    for t in titles.iter() {
        assert_eq!(t.as_string().as_deref(), Some("Production database"));
    }
    let later = Client::connect(relay_url())
        .await
        .unwrap()
        .with_store(&store);
    let on_device = later.shares_on_device().await.unwrap();
    assert_eq!(on_device.len(), 1);
    assert!(on_device[0].confirmed);
    let opened = later
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    assert_eq!(opened.record.title, "Production database");
}

/// Two tabs of a new browser make the sender identity at once: they end up
/// with one (the first stored), not shares under a key the other overwrote.
#[wasm_bindgen_test]
async fn two_tabs_making_the_owner_identity_at_once_get_one() {
    let store = format!("owner-{}", unique());
    let tab = |store: &str| {
        let store = store.to_owned();
        wasm_bindgen_futures::future_to_promise(async move {
            let c = Client::connect(relay_url())
                .await
                .unwrap()
                .with_store(&store);
            c.owner_public_key()
                .await
                .map(JsValue::from)
                .map_err(|e| JsValue::from(e.code()))
        })
    };
    let tabs = js_sys::Array::of2(&tab(&store), &tab(&store));
    let keys = js_sys::Array::from(&JsFuture::from(js_sys::Promise::all(&tabs)).await.unwrap());
    let later = Client::connect(relay_url())
        .await
        .unwrap()
        .with_store(&store)
        .owner_public_key()
        .await
        .unwrap();
    assert_eq!(keys.get(0).as_string(), Some(later.clone()));
    assert_eq!(keys.get(1).as_string(), Some(later));
}

#[wasm_bindgen_test]
async fn a_bind_refused_for_good_drops_the_pending_key() {
    let recipient = device().await;
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    sender.revoke(&created.share_id).await.unwrap();
    assert_eq!(
        code(
            recipient
                .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
                .await
        ),
        "revoked"
    );
    assert!(recipient.shares_on_device().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn the_link_is_taken_from_the_address_bar_and_cleared() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let token = created.link.split('#').nth(1).unwrap().to_owned();
    let start = href();
    for url in [
        format!("/s#{token}"),
        format!("/s%23{token}"),
        format!("/s%2523{token}"),
    ] {
        push_url(&url);
        let entries = history_length();
        let link = take_link_from_location().unwrap().unwrap();
        assert_eq!(link.share_id(), created.share_id);
        assert!(!href().contains(&token), "token left in {}", href());
        assert!(href().ends_with("/s"), "{}", href());
        // Replaced, not pushed: the history holds no entry with the token.
        assert_eq!(history_length(), entries);
    }
    assert!(take_link_from_location().unwrap().is_none());
    push_url("/s#not-a-token");
    assert_eq!(code(take_link_from_location()), "invalid_link");
    assert!(!href().contains("not-a-token"));
    push_url(&start);
}

#[wasm_bindgen_test]
async fn storage_unavailable_and_not_on_device() {
    let recipient = device().await;
    assert_eq!(
        code(recipient.record("AAAAAAAAAAAAAAAAAAAAAA").await),
        "not_on_device"
    );
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let fresh = device().await;
    hide_indexed_db();
    let r = fresh
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await;
    restore_indexed_db();
    assert_eq!(code(r), "storage_unavailable");
    // Nothing was bound: a device with storage still opens it.
    assert!(
        device()
            .await
            .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
            .await
            .is_ok()
    );
}

#[wasm_bindgen_test]
async fn a_ranged_download_starts_at_a_segment() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![file(SIZE)], &CreateOptions::default(), None)
        .await
        .unwrap();
    let recipient = device().await;
    let opened = recipient
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    let id = created.share_id.to_string();
    let mut dl = recipient
        .download(
            &id,
            &opened.record.attachments[0],
            DownloadOptions {
                from_segment: 2,
                ..DownloadOptions::default()
            },
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = dl.next_chunk().await.unwrap() {
        got.extend(chunk.to_vec());
    }
    assert_eq!(got, expected(SIZE as usize)[2 * 65536..]);
}

#[wasm_bindgen_test]
async fn the_owner_sees_its_events_live() {
    let sender = device().await;
    let mut events = sender.events(None, None).await.unwrap();
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let recipient = device().await;
    recipient
        .open_with(&Link::parse(&created.link).unwrap(), &code_of(&created))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = events.next().await.unwrap().unwrap();
        if ev.share_id == created.share_id {
            kinds.push(ev.kind);
        }
    }
    use oneshare_web::EventKind::{Bound, Confirmed, Created};
    assert_eq!(kinds, [Created, Bound, Confirmed]);
    events.close();
}

/// Sender-approved transfer (PROTOCOL.md §12.2): a bot binds first; the
/// recipient's device asks and shows a code; the sender sees the same code, a
/// different one approves nothing, the right one moves the share; the recipient
/// reads the record, and the bot's device is told it moved and forgets it. The
/// bot asking back is denied.
#[wasm_bindgen_test]
async fn the_sender_moves_a_share_to_the_device_that_asked() {
    use oneshare_web::TransferProgress;
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let id = created.share_id.to_string();
    let bot = device().await;
    bot.open_with(&link, &code_of(&created)).await.unwrap();
    let me = device().await;
    assert_eq!(
        code(me.open_with(&link, &code_of(&created)).await),
        "already_bound"
    );
    let TransferProgress::Pending {
        comparison_code, ..
    } = me.request_transfer(&link).await.unwrap()
    else {
        panic!("a new request waits")
    };
    assert_eq!(comparison_code.len(), 7, "{comparison_code}");
    // Asking again (a lost answer) is the same request, with the same code.
    assert!(matches!(
        me.request_transfer(&link).await.unwrap(),
        TransferProgress::Pending { comparison_code: c, .. } if c == comparison_code
    ));
    let incoming = sender.pending_transfers().await.unwrap();
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0].share_id, created.share_id);
    assert_eq!(incoming[0].comparison_code, comparison_code);
    let wrong = if comparison_code.starts_with('0') {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        code(sender.approve_transfer(&created.share_id, wrong).await),
        "code_mismatch"
    );
    assert!(matches!(
        me.transfer_status(&link).await.unwrap(),
        TransferProgress::Pending { .. }
    ));
    sender
        .approve_transfer(&created.share_id, &comparison_code)
        .await
        .unwrap();
    let TransferProgress::Approved(opened) = me.transfer_status(&link).await.unwrap() else {
        panic!("approved")
    };
    assert_eq!(opened.record, record());
    assert_eq!(me.record(&id).await.unwrap().record, record());
    assert!(me.status(&link).await.unwrap().on_this_device);
    assert_eq!(code(me.transfer_status(&link).await), "not_on_device");

    assert_eq!(code(bot.record(&id).await), "moved");
    assert_eq!(code(bot.record(&id).await), "not_on_device");
    assert!(matches!(
        bot.request_transfer(&link).await.unwrap(),
        TransferProgress::Pending { .. }
    ));
    sender.deny_transfer(&created.share_id).await.unwrap();
    assert_eq!(
        bot.transfer_status(&link).await.unwrap(),
        TransferProgress::Denied
    );
    assert_eq!(code(bot.transfer_status(&link).await), "not_on_device");
}

/// A WebDriver browser (this suite's) pressing Open without the code is asked
/// for it, keeps nothing, and then opens with it; a wrong code says how many
/// attempts are left. The sender's events say what happened.
#[wasm_bindgen_test]
async fn an_automated_open_is_asked_for_the_code_and_opens_with_it() {
    let sender = device().await;
    let created = sender
        .create(record(), vec![], &CreateOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(
        OpenCode::parse(&created.open_code).unwrap().display(),
        created.open_code
    );
    let link = Link::parse(&created.link).unwrap();
    let recipient = device().await;
    assert_eq!(code(recipient.open(&link).await), "code_required");
    assert!(recipient.shares_on_device().await.unwrap().is_empty());
    let wrong = OpenOptions {
        code: Some(OpenCode::from_random([0; 5])),
        ..OpenOptions::default()
    };
    let err = recipient.open_with(&link, &wrong).await.unwrap_err();
    assert_eq!((err.code(), err.attempts_left()), ("wrong_code", Some(4)));
    // Typed the way people type it: lower case, no dash.
    let typed = OpenOptions {
        code: Some(OpenCode::parse(&created.open_code.to_lowercase().replace('-', " ")).unwrap()),
        ..OpenOptions::default()
    };
    let opened = recipient.open_with(&link, &typed).await.unwrap();
    assert_eq!(opened.record.title, "Production database");
    // The sender's events: created, the code asked for (and why), the wrong
    // code, then the bind with the code.
    let mut events = sender.events(None, None).await.unwrap();
    let mut details = Vec::new();
    while !details
        .iter()
        .any(|d: &String| d.contains("content delivered: yes"))
    {
        let ev = events.next().await.unwrap().unwrap();
        if ev.share_id == created.share_id {
            details.push(ev.detail.unwrap_or_default());
        }
    }
    events.close();
    assert!(
        details
            .iter()
            .any(|d| d.contains("navigator.webdriver") && d.contains("asked for the open code")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("wrong open code")),
        "{details:?}"
    );
}

/// Five wrong codes lock the share: the right code no longer opens it.
#[wasm_bindgen_test]
async fn five_wrong_codes_lock_the_share() {
    let created = device()
        .await
        .create(
            record(),
            vec![],
            &CreateOptions {
                require_code: true,
                ..CreateOptions::default()
            },
            None,
        )
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let guesser = device().await;
    let right = OpenCode::parse(&created.open_code).unwrap();
    let mut left = Vec::new();
    for i in 0..5u8 {
        let mut guess = OpenCode::from_random([i, 1, 2, 3, 4]);
        if guess == right {
            guess = OpenCode::from_random([i, 9, 9, 9, 9]);
        }
        let opts = OpenOptions {
            code: Some(guess),
            ..OpenOptions::default()
        };
        let err = guesser.open_with(&link, &opts).await.unwrap_err();
        left.push((err.code().to_owned(), err.attempts_left()));
    }
    assert_eq!(left[0], ("wrong_code".to_owned(), Some(4)));
    assert_eq!(left[3], ("wrong_code".to_owned(), Some(1)));
    assert_eq!(left[4].0, "locked");
    let err = device()
        .await
        .open_with(&link, &code_of(&created))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("locked", Some(423)));
    assert!(guesser.shares_on_device().await.unwrap().is_empty());
}

/// A passphrase share opens only with its passphrase: the relay asks for it,
/// counts a wrong one, and the record key is wrapped under the passphrase.
#[wasm_bindgen_test]
async fn a_passphrase_share_opens_only_with_the_passphrase() {
    let created = device()
        .await
        .create(
            record(),
            vec![],
            &CreateOptions {
                passphrase: Some(NewPassphrase {
                    text: zeroize::Zeroizing::new("caf\u{e9} au lait".into()),
                    stretch: std::rc::Rc::new(|text, salt| {
                        let stretched = oneshare_web::stretch(text, &salt);
                        Box::pin(async move { stretched })
                    }),
                }),
                ..CreateOptions::default()
            },
            None,
        )
        .await
        .unwrap();
    let link = Link::parse(&created.link).unwrap();
    let recipient = device().await;
    assert_eq!(
        code(recipient.open_with(&link, &code_of(&created)).await),
        "passphrase_required"
    );
    let with = |pass: &str| OpenOptions {
        passphrase: Some(oneshare_web::stretch(pass, &link.passphrase_salt()).unwrap()),
        ..code_of(&created)
    };
    let err = recipient
        .open_with(&link, &with("cafe au lait"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.attempts_left()),
        ("wrong_passphrase", Some(4))
    );
    // NFC (the browser's, in this build): the decomposed é is the same passphrase.
    let opened = recipient
        .open_with(&link, &with("cafe\u{301} au lait"))
        .await
        .unwrap();
    assert_eq!(opened.record.fields, record().fields);
}
