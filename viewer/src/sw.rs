//! The service worker's module (`www/sw.js` loads it, feature `download`): it
//! answers the navigation to `/download/JOB` with an attachment decrypted
//! segment by segment as the browser writes it to disk. A Blob URL fails above
//! ~500 MB and holds the whole file in memory; this holds a few segments.
//!
//! The open page hands the job (share id, attachment metadata and file key) and
//! a `MessagePort` to the worker; progress, the end and failures go back on
//! that port as `{kind: "progress" | "done" | "error", …}`.

use std::cell::RefCell;
use std::rc::Rc;

use oneshare_web::{Attachment, Client, Download, DownloadOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessagePort, ReadableStreamDefaultController, Response, ResponseInit};

use crate::state::content_disposition;

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn text(o: &JsValue, key: &str) -> Result<String, JsValue> {
    get(o, key)
        .as_string()
        .ok_or_else(|| JsValue::from_str(key))
}

/// Posts `{kind, done, total, code}` to the page (a closed page ignores it).
fn tell(port: &MessagePort, kind: &str, done: u64, total: u64, code: &str) {
    let m = js_sys::Object::new();
    for (k, v) in [
        ("kind", JsValue::from_str(kind)),
        // Byte counts stay far below 2^53.
        ("done", JsValue::from_f64(done as f64)),
        ("total", JsValue::from_f64(total as f64)),
        ("code", JsValue::from_str(code)),
    ] {
        let _ = js_sys::Reflect::set(&m, &k.into(), &v);
    }
    let _ = port.post_message(&m);
}

/// A bodiless 204: the browser ignores it as a navigation, so the open page
/// stays; the reason goes to the page on `port`.
fn nothing(port: &MessagePort, code: &str) -> Result<Response, JsValue> {
    tell(port, "error", 0, 0, code);
    let init = ResponseInit::new();
    init.set_status(204);
    Response::new_with_opt_str_and_init(None, &init)
}

/// The answer to `/download/JOB`: `job` is `{share, id, name, mime, size,
/// key}` as the open page read them from the record.
///
/// # Errors
/// Only when the browser refuses to build a `Response` or stream.
#[wasm_bindgen]
pub async fn download_response(job: JsValue, port: MessagePort) -> Result<Response, JsValue> {
    let share_id = text(&job, "share")?;
    let a = Attachment {
        id: text(&job, "id")?,
        name: text(&job, "name")?,
        mime: text(&job, "mime")?,
        // A whole number of bytes, below 2^53.
        size: get(&job, "size").as_f64().unwrap_or(0.0) as u64,
        key: text(&job, "key")?,
    };
    let origin = text(&get(&js_sys::global(), "location"), "origin")?;
    let client = match Client::connect(&origin).await {
        Ok(c) => c,
        Err(e) => return nothing(&port, e.code()),
    };
    let progress_port = port.clone();
    let options = DownloadOptions {
        progress: Some(Box::new(move |done, total| {
            tell(&progress_port, "progress", done, total, "");
        })),
        ..DownloadOptions::default()
    };
    let download = match client.download(&share_id, &a, options).await {
        Ok(d) => d,
        Err(e) => return nothing(&port, e.code()),
    };
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/octet-stream")?;
    headers.set("content-disposition", &content_disposition(&a.name))?;
    headers.set("content-length", &a.size.to_string())?;
    let init = ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    let body = stream(download, port, a.size)?;
    Response::new_with_opt_readable_stream_and_init(Some(&body), &init)
}

/// Ends the stream with an error (the browser marks the file failed) and says why.
fn fail(
    controller: &ReadableStreamDefaultController,
    port: &MessagePort,
    dl: &Download,
    size: u64,
    code: &str,
) -> JsValue {
    tell(port, "error", dl.done(), size, code);
    controller.error_with_e(&JsValue::from_str(code));
    JsValue::UNDEFINED
}

/// A `ReadableStream` pulling one decrypted segment at a time (the default
/// high-water mark of one chunk keeps memory at the download's in-flight
/// segments plus one).
fn stream(
    download: Download,
    port: MessagePort,
    size: u64,
) -> Result<web_sys::ReadableStream, JsValue> {
    let state = Rc::new(RefCell::new(Some(download)));
    let pulling = state.clone();
    let pull = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |c: JsValue| {
        let (state, port) = (pulling.clone(), port.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let controller: ReadableStreamDefaultController = c.unchecked_into();
            // Taken out while awaiting: the browser pulls again only after this settles.
            let Some(mut dl) = state.borrow_mut().take() else {
                return Ok(JsValue::UNDEFINED);
            };
            let chunk = match dl.next_chunk().await {
                Ok(c) => c,
                Err(e) => return Ok(fail(&controller, &port, &dl, size, e.code())),
            };
            // Every byte is here: read on to the authenticated end before the
            // last bytes go out (the browser may stop reading at Content-Length),
            // so a saved file is complete only when the stream verified.
            if dl.done() >= size {
                loop {
                    match dl.next_chunk().await {
                        Ok(None) => break,
                        Ok(Some(c)) if c.length() == 0 => {}
                        Ok(Some(_)) => {
                            return Ok(fail(&controller, &port, &dl, size, "trailing_data"));
                        }
                        Err(e) => return Ok(fail(&controller, &port, &dl, size, e.code())),
                    }
                }
            }
            if let Some(chunk) = chunk {
                controller.enqueue_with_chunk(&chunk)?;
            }
            if dl.done() >= size {
                controller.close()?;
                tell(&port, "done", size, size, "");
            } else {
                *state.borrow_mut() = Some(dl);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    // The person cancelled the download: stop reading from the relay.
    let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        state.borrow_mut().take();
    });
    let source = js_sys::Object::new();
    js_sys::Reflect::set(&source, &"pull".into(), &pull.into_js_value())?;
    js_sys::Reflect::set(&source, &"cancel".into(), &cancel.into_js_value())?;
    web_sys::ReadableStream::new_with_underlying_source(&source)
}
