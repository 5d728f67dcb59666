//! The owner's events over `fetch` with a streaming reader (`EventSource`
//! cannot sign requests), parsed by the core's [`EventParser`].

use std::collections::VecDeque;

use oneshare_sdk::api::Event;
use oneshare_sdk::sse::EventParser;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::relay::{Call, read_chunk};

/// An open event stream: call [`Events::next`] until it returns `None` (the
/// relay closed it); abort the signal given to [`Client::events`] to stop.
pub struct Events {
    reader: ReadableStreamDefaultReader,
    decoder: js_sys::Function,
    parser: EventParser,
    ready: VecDeque<Event>,
}

impl Events {
    /// The next event, waiting for it; `None` when the stream ended.
    ///
    /// # Errors
    /// `aborted`, `network`, `json`.
    pub async fn next(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Ok(Some(ev));
            }
            let Some(chunk) = read_chunk(&self.reader).await? else {
                return Ok(None);
            };
            // TextDecoder with {stream: true} keeps a character split across chunks.
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"stream".into(), &true.into());
            let text = self
                .decoder
                .call2(&wasm_bindgen::JsValue::UNDEFINED, &chunk, &options)
                .ok()
                .and_then(|t| t.as_string())
                .ok_or(Error::Unsupported("TextDecoder"))?;
            self.ready.extend(self.parser.push(&text)?);
        }
    }

    /// Stops reading (the relay sees the connection close).
    pub fn close(&self) {
        let _ = self.reader.cancel();
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.close();
    }
}

impl Client {
    /// Opens the owner's event stream, resuming after `last_event_id` when given.
    ///
    /// # Errors
    /// `network`, relay codes, `storage_unavailable`.
    pub async fn events(
        &self,
        last_event_id: Option<u64>,
        signal: Option<&AbortSignal>,
    ) -> Result<Events> {
        let owner = self.owner().await?;
        let mut call = Call::new("GET", "/v1/events".into());
        call.headers.push(("accept", "text/event-stream".into()));
        if let Some(id) = last_event_id {
            call.headers.push(("last-event-id", id.to_string()));
        }
        call.signal = signal;
        let (res, _) = self
            .relay
            .send(&call.signed(owner.signer(), &owner.private_key))
            .await?;
        let body = res.body().ok_or(Error::Network)?;
        let reader = body
            .get_reader()
            .dyn_into()
            .map_err(|_| Error::Unsupported("ReadableStream readers"))?;
        Ok(Events {
            reader,
            decoder: text_decoder()?,
            parser: EventParser::new(),
            ready: VecDeque::new(),
        })
    }
}

/// `new TextDecoder().decode` bound to its decoder.
fn text_decoder() -> Result<js_sys::Function> {
    let ctor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"TextDecoder".into())
        .ok()
        .and_then(|c| c.dyn_into().ok())
        .ok_or(Error::Unsupported("TextDecoder"))?;
    let decoder = js_sys::Reflect::construct(&ctor, &js_sys::Array::new())
        .map_err(|_| Error::Unsupported("TextDecoder"))?;
    let decode: js_sys::Function = js_sys::Reflect::get(&decoder, &"decode".into())
        .ok()
        .and_then(|d| d.dyn_into().ok())
        .ok_or(Error::Unsupported("TextDecoder"))?;
    Ok(decode.bind0(&decoder))
}
