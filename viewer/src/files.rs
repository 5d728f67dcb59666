//! Attachments on the open page: saved with visible progress. The service
//! worker (`www/sw.js`, module `sw.rs` in the `download` build) streams a file
//! to disk segment by segment, whatever its size; a browser without service
//! workers gets a Blob from a dedicated worker (`www/save.js`, the same
//! module), which holds the file in memory and fails above ~500 MB, so it is
//! used only up to [`BLOB_LIMIT`].

use std::cell::RefCell;
use std::rc::Rc;

use oneshare_web::Attachment;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlElement, MessageChannel, MessageEvent, ServiceWorker};

use crate::dom::{self, Result};
use crate::state::decimal;

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
    let size = decimal(a.size.max(1));
    bar.set_attribute("max", &size)?;
    bar.set_attribute("value", "0")?;
    bar.set_attribute("aria-label", &("Downloading ".to_owned() + &a.name))?;
    let outcome = match active_worker().await {
        Some(worker) => save(Saver::Streaming(worker), share_id, a, bar).await?,
        None if a.size <= BLOB_LIMIT => {
            let options = web_sys::WorkerOptions::new();
            options.set_type(web_sys::WorkerType::Module);
            let worker = web_sys::Worker::new_with_options("/save.js", &options)?;
            let outcome = save(Saver::InMemory(worker.clone()), share_id, a, bar).await;
            worker.terminate();
            outcome?
        }
        None => Err("no_service_worker".into()),
    };
    get.remove_attribute("disabled")?;
    match outcome {
        Ok(()) => {
            bar.set_attribute("value", &size)?;
            dom::set_text(get, "Download again");
            dom::announce(&(a.name.clone() + " downloaded"));
        }
        Err(code) => {
            bar.set_hidden(true);
            let msg = match code.as_str() {
                "attachment_uploading" => "Still uploading; try again in a moment",
                "no_service_worker" => {
                    "Too large for this browser; open the link in a normal window of Chrome, Edge, Firefox or Safari"
                }
                _ => "Download failed; try again",
            };
            dom::set_text(get, msg);
            dom::announce(msg);
        }
    }
    Ok(())
}

/// Who decrypts: the service worker, streaming to disk (`www/sw.js`), or,
/// without one, a dedicated worker that collects a Blob (`www/save.js`). Both
/// run the `download` module, so the open page's own module carries no
/// download code.
enum Saver {
    Streaming(ServiceWorker),
    InMemory(web_sys::Worker),
}

/// What a worker says on the job's port.
struct Said {
    kind: String,
    done: f64,
    code: String,
    blob: JsValue,
}

fn said(e: &MessageEvent) -> Said {
    let d = e.data();
    let field = |k: &str| js_sys::Reflect::get(&d, &k.into()).unwrap_or(JsValue::UNDEFINED);
    Said {
        kind: field("kind").as_string().unwrap_or_default(),
        done: field("done").as_f64().unwrap_or(0.0),
        code: field("code").as_string().unwrap_or_default(),
        blob: field("blob"),
    }
}

/// Saves the file through `saver`, showing progress on `bar`; the result is
/// the error code, if any. Streaming: the job goes to the service worker,
/// then the page navigates to `/download/JOB`, which the worker answers with
/// the decrypted stream as a file download (the page stays). In memory: the
/// worker sends back a Blob, saved through a Blob URL.
async fn save(
    saver: Saver,
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
    let streaming = matches!(saver, Saver::Streaming(_));
    // Settles on the end ("done" streaming, "blob" in memory) or "error".
    let finished: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let outcome: Rc<RefCell<core::result::Result<(), String>>> = Rc::new(RefCell::new(Ok(())));
    let end = js_sys::Promise::new(&mut |resolve, _| {
        *finished.borrow_mut() = Some(resolve);
    });
    let (bar2, finished2, outcome2, id2, name) = (
        bar.clone(),
        finished.clone(),
        outcome.clone(),
        job_id.clone(),
        a.name.clone(),
    );
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let s = said(&e);
        let ended = match s.kind.as_str() {
            "ready" => {
                // No `download` attribute: Chromium cancels that on a worker answer.
                let _ = navigate_to(&("/download/".to_owned() + &id2), None);
                false
            }
            "progress" => {
                // A byte count (whole, below 2^53) written as an integer:
                // formatting an f64 would link ~14 KB of float printing.
                let _ = bar2.set_attribute("value", &decimal(s.done as u64));
                false
            }
            "done" => streaming,
            "blob" => {
                if let Err(e) = save_blob(&s.blob, &name) {
                    *outcome2.borrow_mut() = Err(e.as_string().unwrap_or_default());
                }
                true
            }
            "error" => {
                *outcome2.borrow_mut() = Err(s.code);
                true
            }
            _ => false,
        };
        // Taken only at the end: earlier messages must leave it in place.
        let resolve = if ended {
            finished2.borrow_mut().take()
        } else {
            None
        };
        if let Some(f) = resolve {
            let _ = f.call0(&JsValue::NULL);
        }
    });
    channel
        .port1()
        .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let transfer = js_sys::Array::of1(&channel.port2());
    match &saver {
        Saver::Streaming(worker) => {
            let message = js_sys::Object::new();
            js_sys::Reflect::set(&message, &"id".into(), &job_id.into())?;
            js_sys::Reflect::set(&message, &"job".into(), &job)?;
            worker.post_message_with_transferable(&message, &transfer)?;
        }
        Saver::InMemory(worker) => worker.post_message_with_transfer(&job, &transfer)?,
    }
    JsFuture::from(end).await?;
    channel.port1().close();
    drop(on_message);
    Ok(outcome.replace(Ok(())))
}

/// Follows a link to `href` (saved as `download`, if given).
fn navigate_to(href: &str, download: Option<&str>) -> Result<()> {
    let link = dom::element("a", "", "")?;
    link.set_attribute("href", href)?;
    if let Some(name) = download {
        link.set_attribute("download", name)?;
    }
    link.click();
    Ok(())
}

/// Saves a Blob through a Blob URL, freed soon after.
fn save_blob(blob: &JsValue, name: &str) -> Result<()> {
    let blob: web_sys::Blob = blob.clone().dyn_into()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    navigate_to(&url, Some(name))?;
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(30_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}
