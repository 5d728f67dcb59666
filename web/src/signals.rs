//! What the page can observe about itself at bind (L2, PROTOCOL.md §12.4):
//! browser automation, a headless browser, whether anyone has interacted with
//! the page, and how soon Open was pressed. The relay only ever answers these
//! with a request for the open code, never with a refusal, so a person behind
//! an unusual browser types the code and gets through.

use js_sys::{Array, Function, Reflect};
use oneshare_sdk::api::ClientSignals;
use wasm_bindgen::{JsCast, JsValue};

fn get(target: &JsValue, name: &str) -> JsValue {
    if target.is_object() {
        Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Observes the signals now. `press_after_ms` is the time from the Open control
/// appearing to its press when the caller knows it; otherwise the time since
/// the page's first paint stands in for it.
pub fn observe(press_after_ms: Option<u64>) -> ClientSignals {
    let nav = get(&js_sys::global(), "navigator");
    let agent = get(&nav, "userAgent").as_string().unwrap_or_default();
    // Client hints: `navigator.userAgentData.brands[].brand` ("HeadlessChrome").
    let brands = get(&get(&nav, "userAgentData"), "brands")
        .dyn_into::<Array>()
        .map(|a| {
            a.iter()
                .filter_map(|b| get(&b, "brand").as_string())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let headless = std::iter::once(&agent)
        .chain(&brands)
        .any(|s| s.to_ascii_lowercase().contains("headless"));
    ClientSignals {
        webdriver: get(&nav, "webdriver").is_truthy(),
        headless,
        user_activation: get(&get(&nav, "userActivation"), "hasBeenActive").as_bool(),
        press_after_ms: press_after_ms.or_else(since_first_paint),
    }
}

/// Milliseconds since the first paint (`performance`'s `first-paint` entry).
fn since_first_paint() -> Option<u64> {
    let perf = get(&js_sys::global(), "performance");
    let entries = get(&perf, "getEntriesByName")
        .dyn_into::<Function>()
        .ok()?
        .call1(&perf, &JsValue::from_str("first-paint"))
        .ok()?
        .dyn_into::<Array>()
        .ok()?;
    let painted = get(&entries.get(0), "startTime").as_f64()?;
    let now = get(&perf, "now")
        .dyn_into::<Function>()
        .ok()?
        .call0(&perf)
        .ok()?
        .as_f64()?;
    // Milliseconds of a page's life: far below 2^53 and never negative here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((now - painted).max(0.0) as u64)
}
