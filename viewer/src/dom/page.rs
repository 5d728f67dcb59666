//! The open and compose pages' DOM helpers: templates, elements, one state
//! shown at a time, buttons that copy, reveal and count down.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, HtmlTemplateElement};

use super::{Result, announce, by_id, document, set_text};

/// The element with this id, cast to a concrete type.
pub fn typed<T: JsCast>(id: &str) -> Result<T> {
    by_id(id)?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&["#", id, " has the wrong type"].concat()))
}

/// Appends `child` to `parent`.
pub fn append(parent: &impl AsRef<web_sys::Node>, child: &impl AsRef<web_sys::Node>) -> Result<()> {
    parent.as_ref().append_child(child.as_ref())?;
    Ok(())
}

/// The first descendant matching `selector`.
pub fn find(root: &Element, selector: &str) -> Result<HtmlElement> {
    root.query_selector(selector)?
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        .ok_or_else(|| JsValue::from_str(&[selector, " is missing"].concat()))
}

/// A fresh copy of a `<template>`'s first element.
pub fn instance(template_id: &str) -> Result<Element> {
    let t: HtmlTemplateElement = typed(template_id)?;
    t.content()
        .first_element_child()
        .ok_or_else(|| JsValue::from_str("empty template"))?
        .clone_node_with_deep(true)?
        .dyn_into::<Element>()
        .map_err(|_| JsValue::from_str("template is not an element"))
}

/// A new element with a class and text.
pub fn element(tag: &str, class: &str, text: &str) -> Result<HtmlElement> {
    let el = document()?
        .create_element(tag)?
        .dyn_into::<HtmlElement>()
        .map_err(|_| JsValue::from_str("not an HTML element"))?;
    if !class.is_empty() {
        el.set_class_name(class);
    }
    if !text.is_empty() {
        set_text(&el, text);
    }
    Ok(el)
}

/// A small button with a label.
pub fn button(label: &str, class: &str) -> Result<HtmlElement> {
    let b = element("button", class, label)?;
    b.set_attribute("type", "button")?;
    Ok(b)
}

/// Shows the element with id `show` among `ids`, hiding the others, and moves
/// focus to it so screen readers read the new state.
pub fn show_one(ids: &[&str], show: &str) -> Result<()> {
    for id in ids {
        by_id(id)?.set_hidden(*id != show);
    }
    let el = by_id(show)?;
    if let Some(h) = el.query_selector("h1")?
        && let Ok(h) = h.dyn_into::<HtmlElement>()
    {
        h.set_attribute("tabindex", "-1")?;
        let _ = h.focus();
    }
    Ok(())
}

/// Adds a click listener that lives as long as the page.
pub fn on_click(
    el: &impl AsRef<web_sys::EventTarget>,
    f: impl FnMut(web_sys::Event) + 'static,
) -> Result<()> {
    on(el.as_ref(), "click", f)
}

/// Adds an event listener that lives as long as the page.
pub fn on(
    el: &web_sys::EventTarget,
    kind: &str,
    f: impl FnMut(web_sys::Event) + 'static,
) -> Result<()> {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    el.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

/// Copies text to the clipboard, then says so in the live region and, for a
/// moment, on `button`.
pub fn copy(text: &str, button: &HtmlElement) {
    let Some(w) = web_sys::window() else { return };
    let promise = w.navigator().clipboard().write_text(text);
    let b = button.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        let original = b.text_content().unwrap_or_default();
        set_text(&b, if ok { "Copied" } else { "Copy failed" });
        announce(if ok {
            "Copied to the clipboard"
        } else {
            "Could not copy"
        });
        gloo_timers::future::TimeoutFuture::new(1_500).await;
        set_text(&b, &original);
    });
}

/// A small button that copies `value()`.
#[cfg(feature = "open")]
pub fn copy_button(label: &str, value: impl Fn() -> String + 'static) -> Result<HtmlElement> {
    let b = button(label, "small")?;
    let b2 = b.clone();
    on_click(&b, move |_| copy(&value(), &b2))?;
    Ok(b)
}

/// Unix seconds now (the browser's clock).
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1_000.0) as u64
}

/// Milliseconds since the page started (`performance.now()`).
#[cfg(feature = "open")]
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Runs `tick` every second for as long as it returns `true`.
pub fn every_second(mut tick: impl FnMut() -> bool + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        while tick() {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
        }
    });
}

/// A `performance.mark` (read by `cargo xtask bench-browser`).
#[cfg(feature = "open")]
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Logs to the console without failing (for developer detail; never secrets).
#[cfg(feature = "open")]
pub fn log_error(what: &str, e: &JsValue) {
    web_sys::console::error_2(&JsValue::from_str(what), e);
}
