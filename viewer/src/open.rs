//! The open page (`/s#TOKEN`): reads the link, says what waits and until when,
//! binds only on a real gesture ([`crate::state::check_gesture`]), then shows
//! the record. Every protocol step is `oneshare-web`'s; this module only draws.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::secret::Secret;
use oneshare_web::{Client, Link, OpenOptions, Opened};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlElement;

use crate::dom::{self, Result};
use crate::state::{self, Gesture, Page, check_gesture, duration_words};
use crate::{factors, record};

/// What the page holds between events.
struct OpenPage {
    client: RefCell<Option<Rc<Client>>>,
    link: RefCell<Option<Link>>,
    /// `performance.now()` when the Open button first showed.
    ready_at: Cell<Option<f64>>,
    /// Bumped whenever a new record view replaces the old one (stops its timers).
    generation: Cell<u32>,
    /// The share and record version on screen.
    shown: RefCell<Option<(String, u64)>>,
    /// The open code typed, kept while the relay still asks for a passphrase.
    code: RefCell<Option<OpenCode>>,
    /// The passphrase, stretched by the worker. Secret.
    passphrase: RefCell<Option<Secret<32>>>,
    /// Milliseconds from the Open button appearing to its press (sent at bind).
    pressed_after: Cell<Option<u64>>,
    /// The transfer module's `ask`, once loaded.
    ask: RefCell<Option<js_sys::Function>>,
}

thread_local! {
    static PAGE: Rc<OpenPage> = Rc::new(OpenPage {
        client: RefCell::new(None),
        link: RefCell::new(None),
        ready_at: Cell::new(None),
        generation: Cell::new(0),
        shown: RefCell::new(None),
        code: RefCell::new(None),
        passphrase: RefCell::new(None),
        pressed_after: Cell::new(None),
        ask: RefCell::new(None),
    });
}

fn page() -> Rc<OpenPage> {
    PAGE.with(Rc::clone)
}

fn ids() -> Vec<&'static str> {
    Page::ALL.iter().map(|p| p.element_id()).collect()
}

/// Shows one state of the page; leaving the record stops its timers.
fn show(p: Page) -> Result<()> {
    if p != Page::Record {
        let page = page();
        page.generation.set(page.generation.get().wrapping_add(1));
        page.shown.borrow_mut().take();
    }
    dom::show_one(&ids(), p.element_id())
}

/// Shows the state for an error of the client.
fn show_error(e: &oneshare_web::Error) -> Result<()> {
    show_failure(e.code(), &e.to_string())
}

/// Shows the state for an error code and its message.
fn show_failure(code: &str, message: &str) -> Result<()> {
    let p = Page::for_code(code);
    if p == Page::Failed {
        dom::text("failed-code", code)?;
        dom::text("failed-detail", &state::sentence(message))?;
    }
    if p == Page::OtherDevice {
        // The relay refused this device's bind and recorded it for the sender.
        return other_device(code == "already_bound");
    }
    show(p)
}

/// "Opened on another device": either the relay already refused this device
/// (and told the sender), or the status said so and the person may tell the
/// sender with a gesture-checked press (a bind attempt the relay refuses).
fn other_device(told: bool) -> Result<()> {
    dom::by_id("other-told")?.set_hidden(!told);
    let has_link = page().link.borrow().is_some();
    let can_tell = !told && has_link;
    dom::by_id("other-notify")?.set_hidden(!can_tell);
    // With the link, this device can ask the sender to move the share here.
    dom::by_id("transfer-ask")?.set_hidden(!has_link);
    dom::by_id("transfer-wait")?.set_hidden(true);
    show(Page::OtherDevice)?;
    if can_tell {
        page().ready_at.set(Some(dom::now_ms()));
    }
    Ok(())
}

/// The history entry remembers which share this page shows, so a reload finds
/// it again although the token left the address bar.
fn remember(share_id: &str) {
    if let Some(w) = web_sys::window()
        && let Ok(h) = w.history()
    {
        let state = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&state, &"share".into(), &share_id.into());
        let _ = h.replace_state(&state, "");
    }
}

fn remembered() -> Option<String> {
    let state = web_sys::window()?.history().ok()?.state().ok()?;
    js_sys::Reflect::get(&state, &"share".into())
        .ok()?
        .as_string()
}

async fn client() -> core::result::Result<Rc<Client>, oneshare_web::Error> {
    let p = page();
    if let Some(c) = p.client.borrow().as_ref() {
        return Ok(c.clone());
    }
    let c = Rc::new(Client::connect(&dom::origin()).await?);
    *p.client.borrow_mut() = Some(c.clone());
    Ok(c)
}

/// Entry point of the open page.
pub fn start() -> Result<()> {
    let secure = web_sys::window().is_some_and(|w| w.is_secure_context());
    // The token leaves the address bar first, whatever happens next.
    let taken = oneshare_web::take_link_from_location();
    if !secure {
        return show(Page::Insecure);
    }
    wire_buttons()?;
    match taken {
        Err(e) => show_error(&e),
        Ok(link) => {
            *page().link.borrow_mut() = link;
            wasm_bindgen_futures::spawn_local(async {
                if let Err(e) = load().await {
                    dom::log_error("open page", &e);
                }
            });
            Ok(())
        }
    }
}

/// Decides what to show: a share kept on this device, or the link's status.
async fn load() -> Result<()> {
    show(Page::Loading)?;
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return show_error(&e),
    };
    let link = page().link.borrow().clone();
    let Some(link) = link else {
        // No token: a reload of an opened share, or a bare /s.
        let id = match remembered() {
            Some(id) => Some(id),
            None => match c.shares_on_device().await {
                Ok(list) => {
                    let mine: Vec<_> = list
                        .into_iter()
                        .filter(|s| s.relay == c.relay_url() && s.confirmed)
                        .collect();
                    (mine.len() == 1).then(|| mine[0].share_id.clone())
                }
                Err(e) => return show_error(&e),
            },
        };
        return match id {
            Some(id) => show_kept(&c, &id).await,
            None => show(Page::NoLink),
        };
    };
    let status = match c.status(&link).await {
        Ok(s) => s,
        Err(e) => return show_error(&e),
    };
    if status.on_this_device {
        return show_kept(&c, &status.share_id.to_string()).await;
    }
    let p = Page::for_status(status.state.as_str());
    if p == Page::OtherDevice {
        return other_device(false);
    }
    if p == Page::Ready {
        let left = status.expires_at.saturating_sub(dom::now_secs());
        dom::text(
            "ready-expiry",
            &[
                "If nobody opens it, it expires in ",
                &duration_words(left),
                ".",
            ]
            .concat(),
        )?;
        show(Page::Ready)?;
        // The gesture clock starts when the button is on screen.
        page().ready_at.set(Some(dom::now_ms()));
        dom::mark("oneshare:open-ready");
        return Ok(());
    }
    show(p)
}

/// Shows a share this device already opened (a reload, a second visit).
async fn show_kept(c: &Client, share_id: &str) -> Result<()> {
    match c.record(share_id).await {
        Ok(opened) => show_record(opened),
        Err(e) if e.code() == "not_on_device" => show(Page::NoLink),
        Err(e) => show_error(&e),
    }
}

fn show_record(opened: Opened) -> Result<()> {
    let p = page();
    let id = opened.share_id.to_string();
    let same = p.shown.borrow().as_ref() == Some(&(id.clone(), opened.version));
    if same && !dom::by_id(Page::Record.element_id())?.hidden() {
        // Nothing changed: keep the view (and the reader's place), keep watching.
        watch(id, p.generation.get());
        return Ok(());
    }
    *p.shown.borrow_mut() = Some((id, opened.version));
    p.generation.set(p.generation.get().wrapping_add(1));
    let id = opened.share_id.to_string();
    remember(&id);
    watch(id.clone(), p.generation.get());
    record::render(
        &opened,
        p.generation.get(),
        || page().generation.get(),
        move || refresh(id.clone()),
    )?;
    show(Page::Record)?;
    dom::mark("oneshare:record-shown");
    dom::announce("The share is open.");
    Ok(())
}

/// Fetches the record again: a new version shows, an ended share shows why
/// (and the client has forgotten its keys).
fn refresh(share_id: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(c) = client().await else { return };
        let _ = match c.record(&share_id).await {
            Ok(opened) => show_record(opened),
            // A passing network failure keeps the record on screen.
            Err(e) if Page::for_code(e.code()) == Page::Unreachable => {
                watch(share_id, page().generation.get());
                Ok(())
            }
            Err(e) => show_error(&e),
        };
    });
}

/// While a record is shown, looks for changes (new version, revoked) when the
/// page comes back into view and every [`REFRESH_SECS`].
fn watch(share_id: String, generation: u32) {
    let mut waited = 0;
    dom::every_second(move || {
        if page().generation.get() != generation {
            return false;
        }
        waited += 1;
        if waited >= REFRESH_SECS {
            refresh(share_id.clone());
            return false;
        }
        true
    });
}

/// Seconds between refreshes of a shown record.
const REFRESH_SECS: u32 = 30;

fn gesture(e: &web_sys::Event) -> Gesture {
    let w = web_sys::window();
    let doc = w.as_ref().and_then(|w| w.document());
    Gesture {
        trusted: e.is_trusted(),
        user_active: w
            .as_ref()
            .map(|w| w.navigator().user_activation().is_active())
            .unwrap_or(false),
        visible: doc
            .as_ref()
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible),
        focused: doc.as_ref().is_some_and(|d| d.has_focus().unwrap_or(false)),
        since_paint_ms: page().ready_at.get().map_or(0.0, |t| dom::now_ms() - t),
    }
}

fn wire_buttons() -> Result<()> {
    let open: HtmlElement = dom::by_id("open-button")?;
    dom::on_click(&open, |e| {
        if let Err(why) = check_gesture(&gesture(&e)) {
            let _ = dom::text("open-hint", why.message());
            return;
        }
        let _ = dom::text("open-hint", "");
        let p = page();
        // Whole milliseconds of a page's life.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        p.pressed_after.set(
            p.ready_at
                .get()
                .map(|t| (dom::now_ms() - t).max(0.0) as u64),
        );
        dom::mark("oneshare:open-pressed");
        spawn_open();
    })?;
    let notify: HtmlElement = dom::by_id("notify-button")?;
    dom::on_click(&notify, |e| {
        if let Err(why) = check_gesture(&gesture(&e)) {
            let _ = dom::text("notify-hint", why.message());
            return;
        }
        wasm_bindgen_futures::spawn_local(async {
            let _ = open_now().await;
        });
    })?;
    let ask: HtmlElement = dom::by_id("transfer-button")?;
    dom::on_click(&ask, |e| {
        if let Err(why) = check_gesture(&gesture(&e)) {
            let _ = dom::text("transfer-hint", why.message());
            return;
        }
        let _ = dom::text("transfer-hint", "");
        wasm_bindgen_futures::spawn_local(async {
            if let Err(e) = ask_transfer().await {
                dom::log_error("transfer", &e);
            }
        });
    })?;
    let retry: HtmlElement = dom::by_id("retry-button")?;
    dom::on_click(&retry, |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = load().await;
        });
    })?;
    // Coming back to the tab: look for a new version or the end at once.
    let doc = dom::document()?;
    dom::on(&doc, "visibilitychange", |_| {
        let visible = dom::document()
            .is_ok_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
        if let (true, Some((id, _))) = (visible, page().shown.borrow().clone()) {
            refresh(id);
        }
    })?;
    let code_form: HtmlElement = dom::by_id("code-form")?;
    dom::on(&code_form, "submit", |e| {
        e.prevent_default();
        if let Err(why) = check_gesture(&gesture(&e)) {
            let _ = dom::text("code-hint", why.message());
            return;
        }
        let Ok(typed) = factors::typed(Page::Code) else {
            return;
        };
        match OpenCode::parse(&typed) {
            Ok(code) => {
                *page().code.borrow_mut() = Some(code);
                dom::mark("oneshare:factor-submitted");
                spawn_open();
            }
            Err(e) => {
                let _ = factors::prompt(Page::Code, e.code(), None, show);
            }
        }
    })?;
    let pass_form: HtmlElement = dom::by_id("pass-form")?;
    dom::on(&pass_form, "submit", |e| {
        e.prevent_default();
        if let Err(why) = check_gesture(&gesture(&e)) {
            let _ = dom::text("pass-hint", why.message());
            return;
        }
        dom::mark("oneshare:factor-submitted");
        wasm_bindgen_futures::spawn_local(async {
            if let Err(e) = stretch_then_open().await {
                dom::log_error("passphrase", &e);
            }
        });
    })?;
    let forget: HtmlElement = dom::by_id("forget-button")?;
    dom::on_click(&forget, |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = forget_now().await;
        });
    })?;
    Ok(())
}

fn spawn_open() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = open_now().await {
            dom::log_error("open", &e);
        }
    });
}

/// Stretches the typed passphrase in the worker, then opens with it.
async fn stretch_then_open() -> Result<()> {
    let Some(link) = page().link.borrow().clone() else {
        return show(Page::NoLink);
    };
    let typed = factors::typed(Page::Passphrase)?;
    show(Page::Opening)?;
    match factors::stretch(&typed, &link.passphrase_salt()).await? {
        Ok(key) => {
            *page().passphrase.borrow_mut() = Some(key);
            open_now().await
        }
        Err(code) => factors::prompt(Page::Passphrase, &code, None, show),
    }
}

async fn open_now() -> Result<()> {
    let Some(link) = page().link.borrow().clone() else {
        return show(Page::NoLink);
    };
    show(Page::Opening)?;
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return show_error(&e),
    };
    let p = page();
    let options = OpenOptions {
        code: p.code.borrow().clone(),
        passphrase: p.passphrase.borrow().clone(),
        press_after_ms: p.pressed_after.get(),
    };
    match c.open_with(&link, &options).await {
        Ok(opened) => {
            // The token is dead now; keep nothing of it or of the factors.
            p.link.borrow_mut().take();
            p.code.borrow_mut().take();
            p.passphrase.borrow_mut().take();
            factors::clear(Page::Code);
            factors::clear(Page::Passphrase);
            show_record(opened)
        }
        Err(e) => {
            let next = Page::for_code(e.code());
            match e.code() {
                "wrong_code" => drop(p.code.borrow_mut().take()),
                "wrong_passphrase" => drop(p.passphrase.borrow_mut().take()),
                _ => {}
            }
            if matches!(next, Page::Code | Page::Passphrase) {
                factors::prompt(next, e.code(), e.attempts_left(), show)
            } else {
                show_error(&e)
            }
        }
    }
}

/// Asks the sender to move the share to this device (PROTOCOL.md §12.2)
/// through the transfer module (`ask.rs`), loaded now; once approved, the
/// record, which this device keeps from then on.
async fn ask_transfer() -> Result<()> {
    let Some(link) = page().link.borrow().clone() else {
        return show(Page::NoLink);
    };
    let ask = transfer_module().await?;
    let url = JsValue::from(link.to_url(&dom::origin()));
    let asked = ask.call1(&JsValue::NULL, &url)?;
    match JsFuture::from(js_sys::Promise::from(asked)).await {
        Ok(outcome) if outcome.as_string().as_deref() == Some("approved") => {
            page().link.borrow_mut().take();
            let c = match client().await {
                Ok(c) => c,
                Err(e) => return show_error(&e),
            };
            show_kept(&c, &link.share_id().to_string()).await
        }
        // Denied, expired, or a hint: the module said so on the page.
        Ok(_) => Ok(()),
        Err(err) => {
            let field = |name: &str| {
                js_sys::Reflect::get(&err, &name.into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            show_failure(&field("code"), &field("message"))
        }
    }
}

/// The transfer module's `ask`, loading the module the first time: its URL is
/// the button's `data-module` (hashed by `cargo xtask viewer`); once loaded it
/// hands `ask` over in the `oneshare:transfer-module` event.
async fn transfer_module() -> Result<js_sys::Function> {
    if let Some(f) = page().ask.borrow().clone() {
        return Ok(f);
    }
    let src = dom::by_id("transfer-button")?
        .get_attribute("data-module")
        .ok_or_else(|| JsValue::from_str("no transfer module"))?;
    let doc = dom::document()?;
    let script = doc.create_element("script")?;
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        let _ = doc.add_event_listener_with_callback_and_add_event_listener_options(
            "oneshare:transfer-module",
            &resolve,
            &once,
        );
        let _ = script.add_event_listener_with_callback_and_add_event_listener_options(
            "error", &reject, &once,
        );
    });
    script.set_attribute("type", "module")?;
    script.set_attribute("src", &src)?;
    doc.body()
        .ok_or_else(|| JsValue::from_str("no body"))?
        .append_child(&script)?;
    let event: web_sys::CustomEvent = JsFuture::from(loaded).await?.unchecked_into();
    let ask: js_sys::Function = event.detail().unchecked_into();
    *page().ask.borrow_mut() = Some(ask.clone());
    Ok(ask)
}

async fn forget_now() -> Result<()> {
    let Some(id) = remembered() else {
        return show(Page::NoLink);
    };
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return show_error(&e),
    };
    if let Err(e) = c.forget(&id).await {
        return show_error(&e);
    }
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state(&JsValue::NULL, "");
    }
    dom::text("no-link-extra", "The share was removed from this device.")?;
    show(Page::NoLink)?;
    dom::announce("Removed from this device.");
    Ok(())
}
