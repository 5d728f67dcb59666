//! The open page's "move it to this device" request (PROTOCOL.md §12.2), a
//! module of its own (feature `transfer`): few recipients ever ask, so its
//! code is fetched only when one presses the button, not with every page.
//!
//! When loaded it hands the open page an `ask(link)` function through the
//! `oneshare:transfer-module` event (no global, nothing in the DOM). `ask`
//! shows the comparison code, waits for the sender and resolves to what
//! happened; the open page then shows the record, which this device now keeps.

use oneshare_web::{Client, Link, TransferProgress};
use wasm_bindgen::prelude::*;

use crate::dom::{self, Result};

/// Milliseconds between polls of a transfer request.
const POLL_MS: u32 = 2_000;

/// Announces `ask` to the open page, which loaded this module.
pub fn start() -> Result<()> {
    let ask = Closure::<dyn FnMut(String) -> js_sys::Promise>::new(|link: String| {
        wasm_bindgen_futures::future_to_promise(async move { ask(&link).await })
    })
    .into_js_value();
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&ask);
    let event = web_sys::CustomEvent::new_with_event_init_dict("oneshare:transfer-module", &init)?;
    dom::document()?.dispatch_event(&event)?;
    Ok(())
}

/// Asks, then waits. Resolves to `"approved"`, `"denied"`, `"expired"` or
/// `"hint"` (the reason is on the page); rejects with `{code, message}` for
/// the open page to explain.
async fn ask(link: &str) -> core::result::Result<JsValue, JsValue> {
    match run(link).await {
        Ok(outcome) => Ok(outcome.into()),
        Err(e) => {
            let err = js_sys::Object::new();
            js_sys::Reflect::set(&err, &"code".into(), &e.code().into())?;
            js_sys::Reflect::set(&err, &"message".into(), &e.to_string().into())?;
            Err(err.into())
        }
    }
}

async fn run(link: &str) -> core::result::Result<&'static str, oneshare_web::Error> {
    let link = Link::parse(link)?;
    let c = Client::connect(&dom::origin()).await?;
    let mut progress = match c.request_transfer(&link).await {
        Ok(p) => p,
        Err(e) => {
            let why = match e.code() {
                "transfer_pending" => {
                    "Another device already asked the sender. Try again later.".to_owned()
                }
                "conflict" => e.to_string(),
                _ => return Err(e),
            };
            let _ = dom::text("transfer-hint", &why);
            return Ok("hint");
        }
    };
    let _ = waiting();
    loop {
        match progress {
            TransferProgress::Pending {
                ref comparison_code,
                ..
            } => {
                let _ = dom::text("transfer-code", comparison_code);
                gloo_timers::future::TimeoutFuture::new(POLL_MS).await;
                progress = c.transfer_status(&link).await?;
            }
            TransferProgress::Approved(_) => return Ok("approved"),
            TransferProgress::Denied => {
                let words = "The sender did not move the share here.";
                let _ = dom::text("transfer-state", words);
                dom::announce(words);
                return Ok("denied");
            }
            TransferProgress::Expired => {
                let _ = dom::text(
                    "transfer-state",
                    "The sender did not answer in time. Reload the page to ask again.",
                );
                return Ok("expired");
            }
        }
    }
}

/// The waiting view in place of the buttons.
fn waiting() -> Result<()> {
    dom::by_id("transfer-ask")?.set_hidden(true);
    dom::by_id("other-notify")?.set_hidden(true);
    dom::by_id("transfer-wait")?.set_hidden(false);
    Ok(())
}
