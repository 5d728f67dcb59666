//! The DOM helpers every page module uses (the transfer module only these):
//! find an element, set text (always `textContent`: record data never goes
//! through an HTML parser), announce in the live region.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, HtmlElement};

/// The viewer's error inside the page: a DOM call that should not fail did.
pub type Result<T> = core::result::Result<T, JsValue>;

/// The document.
pub fn document() -> Result<Document> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}

/// The page's origin, where its relay is.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The element with this id (an error naming it when missing).
pub fn by_id(id: &str) -> Result<HtmlElement> {
    document()?
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        .ok_or_else(|| JsValue::from_str(&["#", id, " is missing"].concat()))
}

/// Sets plain text (never HTML).
pub fn set_text(el: &impl AsRef<web_sys::Node>, text: &str) {
    el.as_ref().set_text_content(Some(text));
}

/// Sets the text of the element with this id.
pub fn text(id: &str, text: &str) -> Result<()> {
    set_text(&by_id(id)?, text);
    Ok(())
}

/// Announces a short message in the page's live region.
pub fn announce(message: &str) {
    if let Ok(el) = by_id("status") {
        set_text(&el, message);
    }
}
