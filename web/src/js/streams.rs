//! JavaScript stream shapes: a `ReadableStream` over a [`Download`], an async
//! iterator over [`Events`], and attachment inputs turned into [`NewFile`]s.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::JsFuture as Boxed;
use web_sys::{AbortSignal, ReadableStream};

use super::convert::{JsResult, field, field_as, js, js_error, to_js, whole};
use crate::owner::NewFile;
use crate::{Client, Download, Error, Events};

/// Plaintext segments a download stream decrypts ahead of its reader.
const READ_AHEAD: u32 = 4;

/// A `ReadableStream<Uint8Array>` of the download's plaintext. The stream pulls
/// up to [`READ_AHEAD`] segments ahead of its reader, so decryption goes on
/// while the reader handles a chunk; memory stays at a few segments.
pub fn readable(download: Download) -> ReadableStream {
    let state = Rc::new(RefCell::new(Some(download)));
    let source = Object::new();
    let pull_state = state.clone();
    let pull = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |controller: JsValue| {
        let state = pull_state.clone();
        future_to_promise(Box::pin(async move {
            let controller: web_sys::ReadableStreamDefaultController = controller.unchecked_into();
            // Taken out while awaiting: the stream calls pull again only after
            // this promise settles.
            let Some(mut dl) = state.borrow_mut().take() else {
                return Ok(JsValue::UNDEFINED);
            };
            match dl.next_chunk().await {
                Ok(Some(chunk)) => {
                    controller.enqueue_with_chunk(&chunk)?;
                    *state.borrow_mut() = Some(dl);
                }
                Ok(None) => controller.close()?,
                Err(e) => controller.error_with_e(&super::convert::js_error(&e)),
            }
            Ok(JsValue::UNDEFINED)
        }) as Boxed)
    });
    let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
        state.borrow_mut().take();
    });
    let _ = Reflect::set(&source, &"pull".into(), &pull.into_js_value());
    let _ = Reflect::set(&source, &"cancel".into(), &cancel.into_js_value());
    let strategy = web_sys::QueuingStrategy::new();
    strategy.set_high_water_mark(f64::from(READ_AHEAD));
    // Building a ReadableStream from a plain source object cannot fail.
    ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy).unwrap_or_else(
        |_| ReadableStream::new().unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into()),
    )
}

/// `{ next, return, [Symbol.asyncIterator] }` over the owner's events; the
/// stream opens on the first `next()`.
pub fn event_iterator(
    client: Rc<Client>,
    last: Option<u64>,
    signal: Option<AbortSignal>,
) -> JsValue {
    let events: Rc<RefCell<Option<Events>>> = Rc::new(RefCell::new(None));
    let closed = Rc::new(RefCell::new(false));
    let iter = Object::new();
    let (ev, cl) = (events.clone(), closed.clone());
    let next = Closure::<dyn FnMut() -> Promise>::new(move || {
        let (events, closed, client, signal) =
            (ev.clone(), cl.clone(), client.clone(), signal.clone());
        future_to_promise(Box::pin(async move {
            if *closed.borrow() {
                return done();
            }
            let open = events.borrow_mut().take();
            let mut stream = match open {
                Some(s) => s,
                None => js(client.events(last, signal.as_ref()).await)?,
            };
            let item = js(stream.next().await)?;
            *events.borrow_mut() = Some(stream);
            match item {
                Some(e) => {
                    #[derive(serde::Serialize)]
                    #[serde(rename_all = "camelCase")]
                    struct Out {
                        id: u64,
                        share_id: String,
                        kind: oneshare_sdk::api::EventKind,
                        at: u64,
                        detail: Option<String>,
                        device_fingerprint: Option<String>,
                    }
                    let value = to_js(&Out {
                        id: e.id,
                        share_id: e.share_id.to_string(),
                        kind: e.kind,
                        at: e.at,
                        detail: e.detail,
                        device_fingerprint: e.device_fingerprint,
                    })?;
                    step(value, false)
                }
                None => done(),
            }
        }) as Boxed)
    });
    let ret = Closure::<dyn FnMut() -> Promise>::new(move || {
        *closed.borrow_mut() = true;
        if let Some(s) = events.borrow_mut().take() {
            s.close();
        }
        Promise::resolve(&step(JsValue::UNDEFINED, true).unwrap_or(JsValue::UNDEFINED))
    });
    let _ = Reflect::set(&iter, &"next".into(), &next.into_js_value());
    let _ = Reflect::set(&iter, &"return".into(), &ret.into_js_value());
    let this = Function::new_no_args("return this");
    let _ = Reflect::set(&iter, &js_sys::Symbol::async_iterator(), &this);
    iter.into()
}

fn step(value: JsValue, is_done: bool) -> JsResult<JsValue> {
    let out = Object::new();
    Reflect::set(&out, &"value".into(), &value)?;
    Reflect::set(&out, &"done".into(), &is_done.into())?;
    Ok(out.into())
}

fn done() -> JsResult<JsValue> {
    step(JsValue::UNDEFINED, true)
}

/// An attachment input: a `Blob`/`File`, or `{name, type?, data}` where `data`
/// is a `Blob`, `Uint8Array`, `ArrayBuffer`, or a `ReadableStream` with `size`.
pub async fn new_file(item: JsValue) -> JsResult<NewFile> {
    let bad = || {
        js_error(&Error::Core(oneshare_sdk::Error::Json {
            what: "attachment",
            reason: "must be a Blob/File or {name, data: Blob | Uint8Array | ReadableStream, size}"
                .into(),
        }))
    };
    let blob_of = |parts: &JsValue, mime: &str| {
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(mime);
        web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(parts), &bag)
            .map_err(|_| js_error(&Error::Unsupported("Blob")))
    };
    if let Some(file) = item.dyn_ref::<web_sys::File>() {
        return Ok(NewFile::from_file(file));
    }
    if let Some(blob) = item.dyn_ref::<web_sys::Blob>() {
        return Ok(NewFile {
            name: "attachment".into(),
            mime: non_empty(blob.type_()),
            blob: blob.clone(),
        });
    }
    let name = field(&item, "name").as_string().ok_or_else(bad)?;
    let data = field(&item, "data");
    let given = field(&item, "type").as_string().unwrap_or_default();
    let blob = if let Some(b) = data.dyn_ref::<web_sys::Blob>() {
        let mime = if given.is_empty() {
            b.type_()
        } else {
            given.clone()
        };
        NewFile {
            name,
            mime: non_empty(mime),
            blob: b.clone(),
        }
    } else if data.is_instance_of::<Uint8Array>() || data.is_instance_of::<js_sys::ArrayBuffer>() {
        let mime = non_empty(given);
        NewFile {
            name,
            blob: blob_of(&Uint8Array::new(&data).into(), &mime)?,
            mime,
        }
    } else if let Some(stream) = data.dyn_ref::<ReadableStream>() {
        let size = field_as::<js_sys::Number>(&item, "size")
            .and_then(|n| n.as_f64())
            .ok_or_else(|| {
                js_error(&Error::Core(oneshare_sdk::Error::Length {
                    what: "attachment stream (needs its exact `size`)",
                    expected: 0,
                    got: 0,
                }))
            })?;
        let size = whole(size, "size")?;
        // A Blob the browser may keep on disk: uploads read it part by part.
        let res = web_sys::Response::new_with_opt_readable_stream(Some(stream))
            .map_err(|_| js_error(&Error::Unsupported("Response")))?;
        let blob: web_sys::Blob = JsFuture::from(res.blob().map_err(|_| bad())?)
            .await
            .map_err(|e| js_error(&Error::fetch(&e)))?
            .unchecked_into();
        // A Blob's size is an integer number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if blob.size() as u64 != size {
            return Err(js_error(&Error::Core(oneshare_sdk::Error::Length {
                what: "attachment stream",
                expected: usize::try_from(size).unwrap_or(usize::MAX),
                got: blob.size() as usize,
            })));
        }
        NewFile {
            name,
            mime: non_empty(given),
            blob,
        }
    } else {
        return Err(bad());
    };
    Ok(blob)
}

fn non_empty(mime: String) -> String {
    if mime.is_empty() {
        "application/octet-stream".into()
    } else {
        mime
    }
}
