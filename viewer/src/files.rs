//! Attachments on the open page: saved with visible progress. The service
//! worker (`www/sw.js`, module [`crate::sw`] in the `download` build) streams a
//! file to disk segment by segment, whatever its size; a browser without
//! service workers gets a Blob URL, which holds the file in memory and fails
//! above ~500 MB, so it is used only up to [`BLOB_LIMIT`].

use std::cell::RefCell;
use std::rc::Rc;

use oneshare_web::{Attachment, DownloadOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlElement, MessageChannel, MessageEvent, ServiceWorker};

use crate::dom::{self, Result};

/// The largest file saved through a Blob URL when there is no service worker.
const BLOB_LIMIT: u64 = 256 * 1024 * 1024;

/// How long to wait for the service worker to become active.
const WORKER_WAIT_MS: i32 = 10_000;

/// Registers the service worker (once a record with files shows), so it is
/// active by the time someone presses Download.
pub fn prepare() {
    let _ = worker_container().map(|c| register(&c));
}

fn worker_container() -> Option<web_sys::ServiceWorkerContainer> {
    let w = web_sys::window()?;
    // Some browsers (private windows) have no service workers at all.
    js_sys::Reflect::has(&w.navigator(), &"serviceWorker".into())
        .ok()?
        .then(|| w.navigator().service_worker())
}

fn register(c: &web_sys::ServiceWorkerContainer) -> js_sys::Promise {
    let options = web_sys::RegistrationOptions::new();
    options.set_type("module");
    options.set_scope("/");
    c.register_with_options("/sw.js", &options)
}

/// The active service worker, or `None` when there is none (not supported,
/// refused, or not active within [`WORKER_WAIT_MS`]).
async fn active_worker() -> Option<ServiceWorker> {
    let c = worker_container()?;
    JsFuture::from(register(&c)).await.ok()?;
    let timeout = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, WORKER_WAIT_MS);
        }
    });
    let ready = c.ready().ok()?;
    let first = js_sys::Promise::race(&js_sys::Array::of2(&ready, &timeout));
    let registration: web_sys::ServiceWorkerRegistration =
        JsFuture::from(first).await.ok()?.dyn_into().ok()?;
    registration.active()
}

/// Wires a file row's Download button.
pub fn wire(
    share_id: &str,
    a: &Attachment,
    get: &HtmlElement,
    progress: &HtmlElement,
) -> Result<()> {
    let (id, a, get2, progress) = (
        share_id.to_owned(),
        a.clone(),
        get.clone(),
        progress.clone(),
    );
    dom::on_click(get, move |_| {
        let (id, a, get, progress) = (id.clone(), a.clone(), get2.clone(), progress.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = download(&id, &a, &get, &progress).await;
        });
    })
}

async fn download(
    share_id: &str,
    a: &Attachment,
    get: &HtmlElement,
    bar: &HtmlElement,
) -> Result<()> {
    get.set_attribute("disabled", "")?;
    bar.set_hidden(false);
    bar.set_attribute("max", &a.size.max(1).to_string())?;
    bar.set_attribute("value", "0")?;
    bar.set_attribute("aria-label", &format!("Downloading {}", a.name))?;
    let outcome = match active_worker().await {
        Some(worker) => through_worker(&worker, share_id, a, bar).await?,
        None if a.size <= BLOB_LIMIT => through_blob(share_id, a, bar).await?,
        None => Err("no_service_worker".into()),
    };
    get.remove_attribute("disabled")?;
    match outcome {
        Ok(()) => {
            bar.set_attribute("value", &a.size.max(1).to_string())?;
            dom::set_text(get, "Download again");
            dom::announce(&format!("{} downloaded", a.name));
        }
        Err(code) => {
            bar.set_hidden(true);
            let msg = match code.as_str() {
                "attachment_uploading" => "Still uploading; try again in a moment",
                "no_service_worker" => {
                    "Too large for this browser; open the link in Chrome, Edge or Firefox"
                }
                _ => "Download failed; try again",
            };
            dom::set_text(get, msg);
            dom::announce(msg);
        }
    }
    Ok(())
}

/// What the service worker says on the job's port.
struct Said {
    kind: String,
    done: f64,
    code: String,
}

fn said(e: &MessageEvent) -> Said {
    let d = e.data();
    let field = |k: &str| js_sys::Reflect::get(&d, &k.into()).unwrap_or(JsValue::UNDEFINED);
    Said {
        kind: field("kind").as_string().unwrap_or_default(),
        done: field("done").as_f64().unwrap_or(0.0),
        code: field("code").as_string().unwrap_or_default(),
    }
}

/// Hands the job to the service worker, then navigates to `/download/JOB`:
/// the worker answers with the decrypted stream as a file download (the page
/// stays), and reports progress and the end on the job's port. The result is
/// the error code, if any.
async fn through_worker(
    worker: &ServiceWorker,
    share_id: &str,
    a: &Attachment,
    bar: &HtmlElement,
) -> Result<core::result::Result<(), String>> {
    let channel = MessageChannel::new()?;
    let job_id = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .crypto()?
        .random_uuid();
    let job = js_sys::Object::new();
    for (k, v) in [
        ("share", JsValue::from_str(share_id)),
        ("id", JsValue::from_str(&a.id)),
        ("name", JsValue::from_str(&a.name)),
        ("mime", JsValue::from_str(&a.mime)),
        // Byte counts stay far below 2^53.
        ("size", JsValue::from_f64(a.size as f64)),
        ("key", JsValue::from_str(&a.key)),
    ] {
        js_sys::Reflect::set(&job, &k.into(), &v)?;
    }
    let message = js_sys::Object::new();
    js_sys::Reflect::set(&message, &"id".into(), &job_id.clone().into())?;
    js_sys::Reflect::set(&message, &"job".into(), &job)?;
    // Settles on "done" or "error"; "ready" starts the navigation.
    let finished: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let outcome: Rc<RefCell<core::result::Result<(), String>>> = Rc::new(RefCell::new(Ok(())));
    let end = js_sys::Promise::new(&mut |resolve, _| {
        *finished.borrow_mut() = Some(resolve);
    });
    let (bar2, finished2, outcome2, id2) = (
        bar.clone(),
        finished.clone(),
        outcome.clone(),
        job_id.clone(),
    );
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let s = said(&e);
        match s.kind.as_str() {
            "ready" => {
                if let Ok(link) = dom::element("a", "", "") {
                    // No `download` attribute: Chromium cancels that on a worker answer.
                    let _ = link.set_attribute("href", &format!("/download/{id2}"));
                    link.click();
                }
            }
            "progress" => {
                let _ = bar2.set_attribute("value", &s.done.to_string());
            }
            "done" | "error" => {
                if s.kind == "error" {
                    *outcome2.borrow_mut() = Err(s.code);
                }
                if let Some(f) = finished2.borrow_mut().take() {
                    let _ = f.call0(&JsValue::NULL);
                }
            }
            _ => {}
        }
    });
    channel
        .port1()
        .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.post_message_with_transferable(&message, &js_sys::Array::of1(&channel.port2()))?;
    JsFuture::from(end).await?;
    channel.port1().close();
    drop(on_message);
    Ok(outcome.replace(Ok(())))
}

/// Without a service worker: the whole file in a Blob, then a Blob URL.
async fn through_blob(
    share_id: &str,
    a: &Attachment,
    bar: &HtmlElement,
) -> Result<core::result::Result<(), String>> {
    let c = crate::open::client_for_files().await?;
    let bar2 = bar.clone();
    let options = DownloadOptions {
        progress: Some(Box::new(move |done: u64, _total: u64| {
            let _ = bar2.set_attribute("value", &done.to_string());
        })),
        ..DownloadOptions::default()
    };
    let blob = match c.download_blob(share_id, a, options).await {
        Ok(b) => b,
        Err(e) => return Ok(Err(e.code().to_owned())),
    };
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link = dom::element("a", "", "")?;
    link.set_attribute("href", &url)?;
    link.set_attribute("download", &a.name)?;
    link.click();
    // The browser has taken the file; free the Blob soon after.
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(30_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(Ok(()))
}
