//! The open page's second factors (protocol v2, PROTOCOL.md §12): the open-code
//! and passphrase prompts the relay's answers lead to, and Argon2id in a worker
//! (`www/stretch.js`, the `passphrase` module) started only for a share that
//! has a passphrase, so the open page's own module carries no Argon2id.

use std::cell::RefCell;
use std::rc::Rc;

use oneshare_sdk::secret::Secret;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlInputElement, MessageEvent};

use crate::dom::{self, Result};
use crate::state::{Page, factor_hint};

/// The prompt for `page` (`Code` or `Passphrase`): its input and hint.
fn parts(page: Page) -> (&'static str, &'static str) {
    if page == Page::Code {
        ("code-input", "code-hint")
    } else {
        ("pass-input", "pass-hint")
    }
}

/// Shows the prompt the relay's answer `code` asks for, saying how many
/// attempts are left after a wrong one, and puts the cursor in the field.
pub fn prompt(
    page: Page,
    code: &str,
    attempts_left: Option<u64>,
    show: impl Fn(Page) -> Result<()>,
) -> Result<()> {
    let (input, hint) = parts(page);
    show(page)?;
    dom::mark("oneshare:factor-asked");
    let hint_text = factor_hint(code, attempts_left).unwrap_or_default();
    dom::text(hint, &hint_text)?;
    let field: HtmlInputElement = dom::typed(input)?;
    field.set_attribute(
        "aria-invalid",
        if hint_text.is_empty() {
            "false"
        } else {
            "true"
        },
    )?;
    if !hint_text.is_empty() {
        // After a wrong answer the field keeps focus, its text selected to retype.
        let _ = field.focus();
        field.select();
    }
    Ok(())
}

/// The value typed into a prompt.
pub fn typed(page: Page) -> Result<String> {
    Ok(dom::typed::<HtmlInputElement>(parts(page).0)?.value())
}

/// Empties a prompt's field (after the share opened, nothing typed stays).
pub fn clear(page: Page) {
    if let Ok(field) = dom::typed::<HtmlInputElement>(parts(page).0) {
        field.set_value("");
    }
}

/// Runs Argon2id over `passphrase` and the share's `salt` in a dedicated worker
/// (`www/stretch.js`), which gets neither the link nor any key. The error is a
/// stable code (`passphrase` for an empty or too long one).
pub async fn stretch(
    passphrase: &str,
    salt: &[u8],
) -> Result<core::result::Result<Secret<32>, String>> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("/stretch.js", &options)?;
    let answer: Rc<RefCell<Option<JsValue>>> = Rc::default();
    let resolve: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let done = js_sys::Promise::new(&mut |ok, _| {
        *resolve.borrow_mut() = Some(ok);
    });
    let (answer2, resolve2) = (answer.clone(), resolve.clone());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        *answer2.borrow_mut() = Some(e.data());
        if let Some(f) = resolve2.borrow_mut().take() {
            let _ = f.call0(&JsValue::NULL);
        }
    });
    let (answer3, resolve3) = (answer.clone(), resolve.clone());
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        answer3.borrow_mut().take();
        if let Some(f) = resolve3.borrow_mut().take() {
            let _ = f.call0(&JsValue::NULL);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let message = js_sys::Object::new();
    js_sys::Reflect::set(&message, &"passphrase".into(), &passphrase.into())?;
    js_sys::Reflect::set(&message, &"salt".into(), &js_sys::Uint8Array::from(salt))?;
    worker.post_message(&message)?;
    JsFuture::from(done).await?;
    worker.terminate();
    drop((on_message, on_error));
    let data = answer.borrow_mut().take().unwrap_or(JsValue::UNDEFINED);
    let field = |k: &str| js_sys::Reflect::get(&data, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let key = js_sys::Uint8Array::new(&field("key")).to_vec();
    Ok(match <[u8; 32]>::try_from(key.as_slice()) {
        Ok(k) => Ok(Secret::new(k)),
        Err(_) => Err(field("code")
            .as_string()
            .unwrap_or_else(|| "passphrase_worker".into())),
    })
}
