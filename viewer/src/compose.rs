//! The compose page (`/`): a form that becomes an encrypted share (through
//! `oneshare-web`'s owner API), the result with its link, QR code and
//! invitation, and "My shares" with live events, Delete now and Edit.

use std::cell::RefCell;
use std::rc::Rc;

use oneshare_sdk::api::{Event, EventKind};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::token::ShareId;
use oneshare_web::{
    Client, CreateOptions, Created, Field, FieldType, NewFile, NewPassphrase, OwnedShare,
    PendingShare, Record,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use crate::dom::{self, Result};
use crate::state::{
    self, REFUSED_DEVICE, duration_words, expiry_choices, invitation, is_lock, parse_custom_expiry,
    refusal_words,
};
use crate::totp::Otp;

/// The states of the page (`id="st-…"` in index.html).
const STATES: [&str; 6] = [
    "st-loading",
    "st-insecure",
    "st-compose",
    "st-result",
    "st-mine",
    "st-failed",
];

/// A share on the relay whose files are still being sent (or wait for Resume).
struct Uploading {
    share: PendingShare,
    /// Plaintext bytes of all its files.
    total: u64,
    expires_in: u64,
    self_destruct: bool,
    /// The open code is asked for at every open.
    require_code: bool,
    /// The share has a passphrase.
    passphrase: bool,
}

/// The form's introduction (index.html), put back after an edit.
const INTRO: &str = "Encrypted in this browser. The link opens on one device only, and the relay never sees the content.";

/// One field being edited.
struct Row {
    kind: FieldType,
    el: Element,
}

#[derive(Default)]
struct Page {
    client: Option<Rc<Client>>,
    rows: Vec<Row>,
    files: Vec<web_sys::File>,
    /// Share being edited (a new version) instead of a new share.
    editing: Option<ShareId>,
    /// The new share whose upload is under way or stopped.
    uploading: Option<Rc<Uploading>>,
    /// Events seen per share, newest last.
    events: Vec<Event>,
    /// The event stream is running.
    live: bool,
    /// Labels read while their shares were live: the relay erases a share's
    /// sealed label when it ends, and the list should still name it on this page.
    labels: Vec<(ShareId, String)>,
}

thread_local! {
    static PAGE: RefCell<Page> = RefCell::new(Page::default());
}

fn with<T>(f: impl FnOnce(&mut Page) -> T) -> T {
    PAGE.with(|p| f(&mut p.borrow_mut()))
}

fn show(id: &str) -> Result<()> {
    dom::show_one(&STATES, id)
}

fn fail(e: &oneshare_web::Error) -> Result<()> {
    let page = state::Page::for_code(e.code());
    dom::text(
        "failed-heading",
        if page == state::Page::Unreachable {
            "The relay cannot be reached"
        } else {
            "Something went wrong"
        },
    )?;
    dom::text("failed-detail", &state::sentence(&e.to_string()))?;
    dom::text("failed-code", e.code())?;
    let advice = match page {
        state::Page::Unreachable => "check your connection, then try again.",
        state::Page::StorageBlocked => {
            "use a normal (not private) window with site data allowed: your sender key is kept in this browser."
        }
        state::Page::Insecure => "open this page over https.",
        _ => "reload the page and try again.",
    };
    dom::text("failed-advice", advice)?;
    show("st-failed")
}

async fn client() -> core::result::Result<Rc<Client>, oneshare_web::Error> {
    if let Some(c) = with(|p| p.client.clone()) {
        return Ok(c);
    }
    let c = Rc::new(Client::connect(&dom::origin()).await?);
    with(|p| p.client = Some(c.clone()));
    Ok(c)
}

fn input(id: &str) -> Result<HtmlInputElement> {
    dom::typed(id)
}

/// Entry point of the compose page.
pub fn start() -> Result<()> {
    // Without a secure context there is no WebCrypto: say so before anything.
    if !web_sys::window().is_some_and(|w| w.is_secure_context()) {
        return show("st-insecure");
    }
    wire()?;
    route()?;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    dom::on(&window, "hashchange", |_| {
        let _ = route();
    })?;
    // Leaving while a new share's files are uploading (or stopped) would strand
    // it: its link exists only on this page. The browser asks first.
    dom::on(&window, "beforeunload", |e| {
        if with(|p| p.uploading.is_some()) {
            e.prevent_default();
            if let Some(e) = e.dyn_ref::<web_sys::BeforeUnloadEvent>() {
                e.set_return_value("");
            }
        }
    })?;
    Ok(())
}

/// `#mine` shows My shares, anything else the form.
fn route() -> Result<()> {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let mine = hash == "#mine";
    dom::by_id("tab-mine")?.toggle_attribute_with_force("aria-current", mine)?;
    dom::by_id("tab-new")?.toggle_attribute_with_force("aria-current", !mine)?;
    if mine {
        dom::by_id("tab-mine")?.set_attribute("aria-current", "page")?;
        wasm_bindgen_futures::spawn_local(async {
            let _ = mine_page().await;
        });
        Ok(())
    } else {
        dom::by_id("tab-new")?.set_attribute("aria-current", "page")?;
        let showing_result = !dom::by_id("st-result")?.hidden();
        if !showing_result {
            show("st-compose")?;
        }
        Ok(())
    }
}

fn wire() -> Result<()> {
    let doc = dom::document()?;
    let adders = doc.query_selector_all("[data-add]")?;
    for i in 0..adders.length() {
        let Some(b) = adders.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let kind = b.get_attribute("data-add").unwrap_or_default();
        dom::on_click(&b, move |_| {
            if let Some(k) = kind_of(&kind) {
                let _ = add_field(k, "", "", true);
            }
        })?;
    }
    // A sensible start: a login and a password.
    add_field(FieldType::Login, "", "", false)?;
    add_field(FieldType::Password, "", "", false)?;
    expiry_select(30 * 86_400)?;
    files_part()?;
    dom::on_click(&dom::by_id("create-button")?, |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = submit().await;
        });
    })?;
    dom::on_click(&dom::by_id("cancel-edit")?, |_| {
        let _ = reset_form();
        wasm_bindgen_futures::spawn_local(async {
            let _ = mine_page().await;
        });
    })?;
    dom::on_click(&dom::by_id("new-share")?, |_| {
        let _ = reset_form();
        let _ = show("st-compose");
        let _ = input("title").map(|t| t.focus());
    })?;
    dom::on_click(&dom::by_id("failed-retry")?, |_| {
        let _ = route();
    })?;
    dom::on_click(&dom::by_id("resume-upload")?, |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = resume().await;
        });
    })?;
    dom::on_click(&dom::by_id("discard-upload")?, |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = discard().await;
        });
    })?;
    for (button, source) in [
        ("copy-link", "result-link"),
        ("copy-code", "result-code"),
        ("copy-invitation", "invitation"),
    ] {
        let b = dom::by_id(button)?;
        let b2 = b.clone();
        dom::on_click(&b, move |_| copy_from(source, &b2))?;
    }
    Ok(())
}

fn copy_from(id: &str, button: &HtmlElement) {
    let text = if let Ok(t) = dom::typed::<HtmlTextAreaElement>(id) {
        t.value()
    } else {
        dom::by_id(id)
            .ok()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    dom::copy(&text, button);
}

fn kind_of(s: &str) -> Option<FieldType> {
    Some(match s {
        "login" => FieldType::Login,
        "password" => FieldType::Password,
        "url" => FieldType::Url,
        "note" => FieldType::Note,
        "totp" => FieldType::Totp,
        "custom" => FieldType::Custom,
        _ => return None,
    })
}

fn field_name(k: FieldType) -> &'static str {
    match k {
        FieldType::Login => "Login",
        FieldType::Password => "Password",
        FieldType::Url => "Website",
        FieldType::Note => "Note",
        FieldType::Totp => "One-time code (TOTP secret or otpauth:// link)",
        FieldType::Custom => "Field name",
    }
}

/// Field ids are unique per page so labels point at their inputs.
fn next_id() -> String {
    thread_local!(static N: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    N.with(|n| {
        n.set(n.get() + 1);
        format!("f{}", n.get())
    })
}

fn add_field(kind: FieldType, label: &str, value: &str, focus: bool) -> Result<()> {
    let el = dom::instance("tpl-compose-field")?;
    let id = next_id();
    let label_text = dom::find(&el, ".cf-label-text")?;
    let label_input: HtmlInputElement = dom::find(&el, ".cf-label")?.unchecked_into();
    let wrap = dom::find(&el, ".cf-value-wrap")?;
    let help = dom::find(&el, ".cf-help")?;
    let value_el: HtmlElement = if kind == FieldType::Note {
        dom::element("textarea", "", "")?
    } else {
        let i = dom::element("input", "", "")?;
        i.set_attribute(
            "type",
            match kind {
                FieldType::Password => "password",
                FieldType::Url => "url",
                _ => "text",
            },
        )?;
        i
    };
    value_el.set_id(&format!("{id}-value"));
    value_el.set_attribute("autocomplete", "off")?;
    value_el.set_attribute("spellcheck", "false")?;
    value_el.set_class_name("cf-value");
    if kind == FieldType::Custom {
        label_input.set_hidden(false);
        label_input.set_id(&format!("{id}-label"));
        label_text.set_attribute("for", &format!("{id}-label"))?;
        dom::set_text(&label_text, "Field name");
        label_input.set_value(label);
        let value_label = dom::element("label", "", "Value")?;
        value_label.set_attribute("for", &format!("{id}-value"))?;
        dom::append(&wrap, &value_label)?;
    } else {
        label_text.set_attribute("for", &format!("{id}-value"))?;
        dom::set_text(&label_text, field_name(kind));
    }
    dom::append(&wrap, &value_el)?;
    set_value(&value_el, value);
    let remove = dom::find(&el, ".cf-remove")?;
    remove.set_attribute("aria-label", &format!("Remove {}", field_name(kind)))?;
    let el2 = el.clone();
    dom::on_click(&remove, move |_| {
        el2.remove();
        with(|p| p.rows.retain(|r| r.el != el2));
    })?;
    match kind {
        FieldType::Password => password_tools(&el, &value_el)?,
        FieldType::Totp => totp_preview(&value_el, &help)?,
        FieldType::Url => dom::set_text(&help, "Starts with https://"),
        _ => {}
    }
    dom::append(&dom::by_id("fields")?, &el)?;
    with(|p| {
        p.rows.push(Row {
            kind,
            el: el.clone(),
        })
    });
    if focus {
        let _ = value_el.focus();
    }
    Ok(())
}

fn value_of(el: &HtmlElement) -> String {
    if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
        t.value()
    } else if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
        i.value()
    } else {
        String::new()
    }
}

fn set_value(el: &HtmlElement, v: &str) {
    if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
        t.set_value(v);
    } else if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
        i.set_value(v);
    }
}

/// Show/Hide and a generator for password fields.
fn password_tools(row: &Element, value: &HtmlElement) -> Result<()> {
    let line = dom::find(row, ".cf-value-wrap")?
        .parent_element()
        .ok_or_else(|| JsValue::from_str("no row"))?;
    let show = dom::button("Show", "small")?;
    show.set_attribute("aria-pressed", "false")?;
    let generate = dom::button("Generate", "small")?;
    generate.set_attribute("aria-label", "Generate a strong password")?;
    let (v, s) = (value.clone(), show.clone());
    dom::on_click(&show, move |_| {
        let shown = v.get_attribute("type").as_deref() == Some("text");
        let _ = v.set_attribute("type", if shown { "password" } else { "text" });
        dom::set_text(&s, if shown { "Show" } else { "Hide" });
        let _ = s.set_attribute("aria-pressed", if shown { "false" } else { "true" });
    })?;
    let v = value.clone();
    dom::on_click(&generate, move |_| {
        if let Some(pw) = generate_password() {
            set_value(&v, &pw);
            let _ = v.set_attribute("type", "text");
            dom::announce("A new password was generated");
        }
    })?;
    dom::append(&line, &show)?;
    dom::append(&line, &generate)?;
    Ok(())
}

/// 20 characters from an alphabet without look-alikes, by rejection sampling
/// on `crypto.getRandomValues` (no modulo bias).
fn generate_password() -> Option<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!%";
    let crypto = web_sys::window()?.crypto().ok()?;
    let mut out = String::new();
    let limit = 256 - 256 % ALPHABET.len();
    while out.len() < 20 {
        let mut buf = [0u8; 32];
        crypto.get_random_values_with_u8_array(&mut buf).ok()?;
        for b in buf {
            if (b as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Some(out)
}

/// A live preview of the code a TOTP secret gives, or what is wrong with it.
fn totp_preview(value: &HtmlElement, help: &HtmlElement) -> Result<()> {
    help.set_attribute("aria-live", "polite")?;
    dom::set_text(
        help,
        "Paste the setup key or the otpauth:// link; the current code shows here.",
    );
    let (v, h) = (value.clone(), help.clone());
    let update = move || {
        let text = value_of(&v);
        if text.trim().is_empty() {
            return;
        }
        match Otp::parse(&text) {
            Ok(otp) => {
                let c = otp.at(dom::now_secs());
                dom::set_text(
                    &h,
                    &format!("Current code: {} (changes in {} s)", c.code, c.seconds_left),
                );
            }
            Err(e) => dom::set_text(&h, &format!("Not usable: {e}.")),
        }
    };
    let u = update.clone();
    dom::on(value, "input", move |_| u())?;
    let alive = value.clone();
    dom::every_second(move || {
        if !alive.is_connected() {
            return false;
        }
        update();
        true
    });
    Ok(())
}

fn expiry_select(max: u64) -> Result<()> {
    let select: HtmlSelectElement = dom::typed("expiry")?;
    select.set_text_content(None);
    for e in expiry_choices(max) {
        let o = dom::element("option", "", e.label)?;
        o.set_attribute("value", &e.secs.to_string())?;
        if e.secs == 86_400 {
            o.set_attribute("selected", "")?;
        }
        dom::append(&select, &o)?;
    }
    let custom = dom::element("option", "", "Custom…")?;
    custom.set_attribute("value", "custom")?;
    dom::append(&select, &custom)?;
    let s = select.clone();
    dom::on(&select, "change", move |_| {
        let is_custom = s.value() == "custom";
        if let Ok(w) = dom::by_id("custom-expiry-wrap") {
            w.set_hidden(!is_custom);
        }
        if is_custom {
            let _ = input("custom-expiry").map(|i| i.focus());
        }
    })?;
    Ok(())
}

fn files_part() -> Result<()> {
    let picker = input("file-input")?;
    let p2 = picker.clone();
    dom::on(&picker, "change", move |_| {
        if let Some(list) = p2.files() {
            add_files(&list);
        }
        p2.set_value("");
    })?;
    let drop = dom::by_id("drop")?;
    for kind in ["dragenter", "dragover"] {
        let d = drop.clone();
        dom::on(&drop, kind, move |e| {
            e.prevent_default();
            let _ = d.class_list().add_1("over");
        })?;
    }
    let d = drop.clone();
    dom::on(&drop, "dragleave", move |_| {
        let _ = d.class_list().remove_1("over");
    })?;
    let d = drop.clone();
    dom::on(&drop, "drop", move |e| {
        e.prevent_default();
        let _ = d.class_list().remove_1("over");
        if let Some(list) = e
            .dyn_ref::<web_sys::DragEvent>()
            .and_then(|d| d.data_transfer())
            .and_then(|t| t.files())
        {
            add_files(&list);
        }
    })?;
    Ok(())
}

fn add_files(list: &web_sys::FileList) {
    for i in 0..list.length() {
        if let Some(f) = list.item(i) {
            with(|p| p.files.push(f));
        }
    }
    let _ = draw_files();
}

fn draw_files() -> Result<()> {
    let ul = dom::by_id("file-list")?;
    ul.set_text_content(None);
    let files = with(|p| p.files.clone());
    for (i, f) in files.iter().enumerate() {
        let li = dom::element("li", "file", "")?;
        dom::append(&li, &dom::element("span", "file-name", &f.name())?)?;
        dom::append(
            &li,
            &dom::element(
                "span",
                "file-size muted",
                &state::size_words(f.size() as u64),
            )?,
        )?;
        let rm = dom::button("Remove", "small")?;
        rm.set_attribute("aria-label", &format!("Remove {}", f.name()))?;
        dom::on_click(&rm, move |_| {
            with(|p| {
                if i < p.files.len() {
                    p.files.remove(i);
                }
            });
            let _ = draw_files();
        })?;
        dom::append(&li, &rm)?;
        dom::append(&ul, &li)?;
    }
    Ok(())
}

/// Reads the form into a record, or says what to fix.
fn read_form() -> core::result::Result<Record, String> {
    let title = input("title").map(|i| i.value()).unwrap_or_default();
    let mut fields = Vec::new();
    let rows = with(|p| {
        p.rows
            .iter()
            .map(|r| (r.kind, r.el.clone()))
            .collect::<Vec<_>>()
    });
    for (kind, el) in rows {
        let value = el
            .query_selector(".cf-value")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            .map(|e| value_of(&e))
            .unwrap_or_default();
        let label = el
            .query_selector(".cf-label")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            .map(|i| i.value())
            .filter(|l| !l.trim().is_empty());
        if value.is_empty() {
            continue;
        }
        if kind == FieldType::Custom && label.is_none() {
            return Err("Give each custom field a name.".into());
        }
        if kind == FieldType::Totp
            && let Err(e) = Otp::parse(&value)
        {
            return Err(format!("The one-time code secret is {e}."));
        }
        fields.push(Field {
            kind,
            label: if kind == FieldType::Custom {
                label
            } else {
                None
            },
            value,
        });
    }
    let has_files = with(|p| !p.files.is_empty());
    if title.trim().is_empty() && fields.is_empty() && !has_files {
        return Err("Write a title, fill in a field, or add a file.".into());
    }
    Ok(Record {
        title,
        fields,
        attachments: Vec::new(),
    })
}

fn expiry_secs() -> core::result::Result<u64, String> {
    let select: HtmlSelectElement = dom::typed("expiry").map_err(|_| "no expiry".to_owned())?;
    let v = select.value();
    if v == "custom" {
        let text = input("custom-expiry")
            .map(|i| i.value())
            .unwrap_or_default();
        parse_custom_expiry(&text, 30 * 86_400)
    } else {
        v.parse()
            .map_err(|_| "Choose when the link expires.".to_owned())
    }
}

async fn submit() -> Result<()> {
    dom::text("compose-error", "")?;
    let record = match read_form() {
        Ok(r) => r,
        Err(msg) => return dom::text("compose-error", &msg),
    };
    let button = dom::by_id("create-button")?;
    button.set_attribute("disabled", "")?;
    let result = send(record).await;
    button.remove_attribute("disabled")?;
    result
}

async fn send(mut record: Record) -> Result<()> {
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if let Some(id) = with(|p| p.editing) {
        // The files stay: their keys are in the current version's record.
        match c.owned_record(&id).await {
            Ok(current) => record.attachments.clone_from(&current.attachments),
            Err(e) => return dom::text("compose-error", &explain(&e)),
        }
        return match c.update(&id, &record).await {
            Ok(v) => {
                reset_form()?;
                mine_page().await?;
                dom::announce(&format!("Saved as version {v}"));
                Ok(())
            }
            Err(e) => dom::text("compose-error", &explain(&e)),
        };
    }
    let expires_in = match expiry_secs() {
        Ok(s) => s,
        Err(msg) => return dom::text("compose-error", &msg),
    };
    let self_destruct = input("self-destruct")?.checked();
    let passphrase = input("passphrase")?.value();
    let has_passphrase = !passphrase.is_empty();
    let require_code = input("require-code")?.checked();
    let options = CreateOptions {
        expires_in,
        self_destruct,
        label: input("label")?.value(),
        require_code,
        passphrase: has_passphrase.then(|| NewPassphrase {
            text: zeroize::Zeroizing::new(passphrase),
            stretch: Rc::new(|text, salt| {
                let stretched = oneshare_web::stretch(text, &salt);
                Box::pin(async move { stretched })
            }),
        }),
        signal: None,
    };
    let files: Vec<NewFile> = with(|p| p.files.iter().map(NewFile::from_file).collect());
    let total = files.iter().map(NewFile::size).sum();
    let share = match c.create_share(record, files, &options).await {
        Ok(s) => s,
        Err(e) => return dom::text("compose-error", &explain(&e)),
    };
    let up = Rc::new(Uploading {
        share,
        total,
        expires_in,
        self_destruct,
        require_code,
        passphrase: has_passphrase,
    });
    with(|p| p.uploading = Some(up.clone()));
    upload(&c, &up).await
}

/// Sends the files of the share being made from the first part the relay
/// lacks, then shows the link; after network trouble says so and offers Resume.
async fn upload(c: &Client, up: &Uploading) -> Result<()> {
    dom::by_id("upload-paused")?.set_hidden(true);
    dom::by_id("create-button")?.set_hidden(true);
    let (bar, words) = (dom::by_id("compose-progress")?, dom::by_id("upload-words")?);
    bar.set_hidden(up.total == 0);
    words.set_hidden(up.total == 0);
    let (bar2, words2) = (bar.clone(), words.clone());
    let progress: oneshare_web::UploadProgress = Box::new(move |done, total, _name| {
        let _ = bar2.set_attribute("max", &total.max(1).to_string());
        let _ = bar2.set_attribute("value", &done.to_string());
        dom::set_text(&words2, &state::upload_words(done, total));
    });
    match c.upload_attachments(&up.share, Some(progress)).await {
        Ok(created) => {
            with(|p| p.uploading = None);
            bar.set_hidden(true);
            words.set_hidden(true);
            dom::by_id("create-button")?.set_hidden(false);
            show_result(&created, up)
        }
        Err(e) if state::upload_can_resume(e.code()) => {
            dom::text(
                "upload-paused-detail",
                "The relay cannot be reached (your connection, or the relay restarting).",
            )?;
            dom::by_id("upload-paused")?.set_hidden(false);
            dom::announce("The upload stopped. Resume continues where it stopped.");
            dom::by_id("resume-upload")?.focus()
        }
        Err(e) => {
            with(|p| p.uploading = None);
            bar.set_hidden(true);
            words.set_hidden(true);
            dom::by_id("create-button")?.set_hidden(false);
            dom::text("compose-error", &explain(&e))
        }
    }
}

/// Resume: the upload goes on from what the relay already has.
async fn resume() -> Result<()> {
    let Some(up) = with(|p| p.uploading.clone()) else {
        return Ok(());
    };
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let button = dom::by_id("resume-upload")?;
    button.set_attribute("disabled", "")?;
    let result = upload(&c, &up).await;
    button.remove_attribute("disabled")?;
    result
}

/// Gives up on a stopped upload: the share is deleted if the relay can be
/// reached (else it expires unopened), and the form is back as it was.
async fn discard() -> Result<()> {
    let Some(up) = with(|p| p.uploading.take()) else {
        return Ok(());
    };
    if let Ok(c) = client().await {
        let _ = c.revoke(&up.share.share_id()).await;
    }
    dom::by_id("upload-paused")?.set_hidden(true);
    dom::by_id("compose-progress")?.set_hidden(true);
    dom::by_id("upload-words")?.set_hidden(true);
    dom::by_id("create-button")?.set_hidden(false);
    dom::announce("Discarded. Nothing was sent to anyone.");
    Ok(())
}

fn show_result(created: &Created, up: &Uploading) -> Result<()> {
    dom::text("result-link", &created.link)?;
    dom::text("result-code", &created.open_code)?;
    dom::text(
        "result-code-when",
        if up.require_code {
            "It is asked for every time."
        } else {
            "It is asked for only if the link is opened the way a mail scanner would (automated, or seconds after sending)."
        },
    )?;
    dom::by_id("result-passphrase")?.set_hidden(!up.passphrase);
    dom::typed::<HtmlTextAreaElement>("invitation")?.set_value(&invitation(
        &created.link,
        up.expires_in,
        up.self_destruct,
        up.passphrase,
    ));
    crate::qr::draw("qr", &created.link)?;
    reset_form()?;
    show("st-result")?;
    dom::announce("Your link is ready");
    Ok(())
}

/// A sentence for the form from an error of the client.
fn explain(e: &oneshare_web::Error) -> String {
    match e.code() {
        "network" => "The relay cannot be reached. Check your connection and try again.".into(),
        "too_large" => "This is larger than the relay allows. Remove a file or shorten the text.".into(),
        "quota" => "You have too many live shares. Delete some in My shares, then try again.".into(),
        "passphrase" => "The passphrase is too long: at most 1024 bytes.".into(),
        "storage_unavailable" => {
            "This browser refuses to keep your sender key (private window or blocked site data). Use a normal window.".into()
        }
        _ => format!("It did not work: {e} ({})", e.code()),
    }
}

fn reset_form() -> Result<()> {
    input("title")?.set_value("");
    input("label")?.set_value("");
    input("self-destruct")?.set_checked(false);
    input("require-code")?.set_checked(false);
    input("passphrase")?.set_value("");
    dom::by_id("fields")?.set_text_content(None);
    with(|p| {
        p.rows.clear();
        p.files.clear();
        p.editing = None;
    });
    draw_files()?;
    add_field(FieldType::Login, "", "", false)?;
    add_field(FieldType::Password, "", "", false)?;
    dom::text("compose-heading", "Share a secret once")?;
    dom::text("compose-intro", INTRO)?;
    dom::by_id("cancel-edit")?.set_hidden(true);
    dom::by_id("files-part")?.set_hidden(false);
    dom::by_id("options-part")?.set_hidden(false);
    dom::text("create-button", "Create link")?;
    dom::text("compose-error", "")
}

/// Opens the form on a new version of `share`, filled with the current one.
async fn edit(share: &OwnedShare) -> Result<()> {
    reset_form()?;
    with(|p| p.editing = Some(share.share_id));
    let current = match client().await {
        Ok(c) => c.owned_record(&share.share_id).await,
        Err(e) => Err(e),
    };
    match current {
        Ok(record) if !record.fields.is_empty() => {
            dom::by_id("fields")?.set_text_content(None);
            with(|p| p.rows.clear());
            input("title")?.set_value(&record.title);
            for f in &record.fields {
                add_field(f.kind, f.label.as_deref().unwrap_or(""), &f.value, false)?;
            }
        }
        Ok(record) => input("title")?.set_value(&record.title),
        Err(e) => dom::text("compose-error", &explain(&e))?,
    }
    let name = share.label.clone().unwrap_or_else(|| "share".into());
    dom::text("compose-heading", &format!("New version of “{name}”"))?;
    dom::text(
        "compose-intro",
        "Encrypted in this browser. The recipient sees this version the next time they look; files and options stay as they are.",
    )?;
    dom::text("create-button", "Save new version")?;
    dom::by_id("cancel-edit")?.set_hidden(false);
    // A new version replaces title and fields; files and options stay as they are.
    dom::by_id("files-part")?.set_hidden(true);
    dom::by_id("options-part")?.set_hidden(true);
    show("st-compose")?;
    input("title")?.focus()
}

fn state_words(s: &OwnedShare) -> (&'static str, &'static str) {
    match s.state {
        State::Unbound => ("Not opened yet", ""),
        State::Binding | State::Bound => ("Opened", "open"),
        State::Expired => ("Expired", "ended"),
        State::Revoked => ("Deleted", "ended"),
        State::SelfDestructed => ("Self-destructed", "ended"),
    }
}

fn event_words(e: &Event) -> Option<String> {
    let age = dom::now_secs().saturating_sub(e.at);
    let when = if age < 5 {
        "just now".to_owned()
    } else {
        format!("{} ago", duration_words(age))
    };
    // The device named by its fingerprint, which the recipient's page shows too.
    let device = |known: &str, unknown: &str| match &e.device_fingerprint {
        Some(f) => format!("{known} {f}"),
        None => unknown.to_owned(),
    };
    let detail = e.detail.as_deref();
    let (what, detail) = match e.kind {
        EventKind::Created => ("Created".to_owned(), detail),
        EventKind::Bound => (device("Opened on device", "Opened on a device"), detail),
        EventKind::Confirmed => return None,
        EventKind::RefusedDevice => match refusal_words(detail) {
            // v1: another device; the words name it by its fingerprint.
            (REFUSED_DEVICE, rest) => (
                format!(
                    "{} tried to open it and was refused",
                    device("Device", "Another device")
                ),
                rest,
            ),
            (headline, rest) => (headline.to_owned(), rest),
        },
        EventKind::Viewed => ("Viewed".to_owned(), detail),
        EventKind::Updated => ("New version saved".to_owned(), detail),
        EventKind::Revoked => ("Deleted".to_owned(), detail),
        EventKind::Expired => ("Expired".to_owned(), detail),
        EventKind::SelfDestructed => ("Self-destructed".to_owned(), detail),
        EventKind::TransferRequested => (
            "A device asked you to move it to that device".to_owned(),
            detail,
        ),
        EventKind::TransferApproved => ("Moved to another device".to_owned(), detail),
        EventKind::TransferDenied => ("Move to another device denied".to_owned(), detail),
        EventKind::TransferExpired => ("A request to move it expired".to_owned(), detail),
    };
    let detail = detail.map(|d| format!(" — {d}")).unwrap_or_default();
    Some(format!("{what} {when}{detail}"))
}

/// An event's line, its device fingerprint kept on one line (a phone would
/// break it at a dash).
fn event_item(text: &str, fingerprint: Option<&str>) -> Result<HtmlElement> {
    let li = dom::element("li", "", "")?;
    match fingerprint.and_then(|f| text.split_once(f).map(|(a, b)| (a, f, b))) {
        Some((before, f, after)) => {
            dom::append(&li, &dom::element("span", "", before)?)?;
            dom::append(&li, &dom::element("span", "fingerprint", f)?)?;
            dom::append(&li, &dom::element("span", "", after)?)?;
        }
        None => dom::set_text(&li, text),
    }
    Ok(li)
}

async fn mine_page() -> Result<()> {
    show("st-mine")?;
    let c = match client().await {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    draw_shares(&c).await?;
    if !with(|p| std::mem::replace(&mut p.live, true)) {
        let c2 = c.clone();
        wasm_bindgen_futures::spawn_local(async move {
            follow(c2).await;
        });
    }
    Ok(())
}

/// Follows the event stream; each event redraws the list.
async fn follow(c: Rc<Client>) {
    let mut last = None;
    loop {
        dom::text("mine-live", "Live: updates appear here as they happen.").ok();
        match c.events(last, None).await {
            Ok(mut events) => {
                while let Ok(Some(ev)) = events.next().await {
                    last = Some(ev.id);
                    with(|p| p.events.push(ev));
                    let _ = draw_shares(&c).await;
                }
            }
            Err(_) => {
                dom::text("mine-live", "Live updates paused; retrying…").ok();
            }
        }
        gloo_timers::future::TimeoutFuture::new(3_000).await;
    }
}

/// A device's request to move a share to it (PROTOCOL.md §12.2): its code, to
/// compare with the person the link was for, and Approve / Deny.
fn transfer_request(name: &str, t: &oneshare_web::IncomingTransfer) -> Result<HtmlElement> {
    let block = dom::element("div", "note transfer", "")?;
    dom::append(
        &block,
        &dom::element(
            "p",
            "",
            "A device asks you to move this share to it. It shows this code:",
        )?,
    )?;
    dom::append(&block, &dom::element("p", "big-code", &t.comparison_code)?)?;
    dom::append(
        &block,
        &dom::element(
            "p",
            "",
            "Approve only if the person you sent it to reads you this same code from their \
             device. The device that has it now loses it.",
        )?,
    )?;
    let approve = dom::button("Approve move", "primary")?;
    approve.set_attribute("aria-label", &format!("Approve moving {name}"))?;
    let deny = dom::button("Deny", "")?;
    deny.set_attribute("aria-label", &format!("Deny moving {name}"))?;
    let (id, code) = (t.share_id, t.comparison_code.clone());
    dom::on_click(&approve, move |_| {
        let code = code.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(c) = client().await else { return };
            match c.approve_transfer(&id, &code).await {
                Ok(()) => dom::announce("Moved. The other device can no longer open it."),
                Err(e) => dom::announce(&explain(&e)),
            }
            let _ = draw_shares(&c).await;
        });
    })?;
    dom::on_click(&deny, move |_| {
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(c) = client().await else { return };
            match c.deny_transfer(&id).await {
                Ok(()) => dom::announce("Denied. The share stays where it is."),
                Err(e) => dom::announce(&explain(&e)),
            }
            let _ = draw_shares(&c).await;
        });
    })?;
    dom::append(&block, &approve)?;
    dom::append(&block, &deny)?;
    Ok(block)
}

/// What the list calls a share: its label, the one this page read before the
/// share ended (the relay erases it then), or words that say why there is none.
fn share_name(s: &OwnedShare) -> String {
    let remembered = || {
        with(|p| {
            p.labels
                .iter()
                .find(|(id, _)| *id == s.share_id)
                .map(|(_, l)| l.clone())
        })
    };
    match s.label.as_deref() {
        Some(l) if !l.is_empty() => {
            let l = l.to_owned();
            with(|p| {
                if !p.labels.iter().any(|(id, _)| *id == s.share_id) {
                    p.labels.push((s.share_id, l.clone()));
                }
            });
            l
        }
        Some(_) => "Unlabelled share".into(),
        None => remembered().unwrap_or_else(|| {
            if s.state.is_live() {
                "Unlabelled share".into()
            } else {
                "Label erased when it ended".into()
            }
        }),
    }
}

async fn draw_shares(c: &Client) -> Result<()> {
    let shares = match c.list_shares().await {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // A failed read of transfer requests must not hide the list. Read before
    // the list is cleared: no await may come between clearing and filling, or
    // two redraws interleave and both fill it.
    let transfers = c.pending_transfers().await.unwrap_or_default();
    let ul = dom::by_id("shares")?;
    ul.set_text_content(None);
    dom::by_id("mine-empty")?.set_hidden(!shares.is_empty());
    let events = with(|p| p.events.clone());
    for s in shares {
        let li = dom::instance("tpl-share")?;
        let name = share_name(&s);
        dom::set_text(&dom::find(&li, ".share-label")?, &name);
        let locked = s.state == State::Unbound
            && events.iter().any(|e| {
                e.share_id == s.share_id
                    && e.kind == EventKind::RefusedDevice
                    && e.detail.as_deref().is_some_and(is_lock)
            });
        let (words, class) = if locked {
            ("Locked: send a new link", "ended")
        } else {
            state_words(&s)
        };
        let badge = dom::find(&li, ".badge")?;
        dom::set_text(&badge, words);
        if !class.is_empty() {
            badge.class_list().add_1(class)?;
        }
        let now = dom::now_secs();
        let mut times = format!(
            "Created {} ago · version {}",
            duration_words(now.saturating_sub(s.created_at)),
            s.record_version
        );
        if s.state.is_live() {
            times.push_str(&format!(
                " · ends in {}",
                duration_words(s.expires_at.saturating_sub(now))
            ));
        }
        if s.self_destruct {
            times.push_str(" · self-destructs");
        }
        dom::set_text(&dom::find(&li, ".share-times")?, &times);
        let list = dom::find(&li, ".share-events")?;
        for e in events.iter().filter(|e| e.share_id == s.share_id) {
            if let Some(text) = event_words(e) {
                dom::append(&list, &event_item(&text, e.device_fingerprint.as_deref())?)?;
            }
        }
        if let Some(t) = transfers.iter().find(|t| t.share_id == s.share_id) {
            dom::append(&li, &transfer_request(&name, t)?)?;
        }
        let edit_b = dom::find(&li, ".share-edit")?;
        let del = dom::find(&li, ".share-delete")?;
        edit_b.set_attribute("aria-label", &format!("Edit {name}"))?;
        del.set_attribute("aria-label", &format!("Delete {name} now"))?;
        edit_b.set_hidden(!s.state.is_live());
        del.set_hidden(!s.state.is_live());
        let s2 = s.clone();
        dom::on_click(&edit_b, move |_| {
            let s = s2.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = edit(&s).await;
            });
        })?;
        let id = s.share_id;
        dom::on_click(&del, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let Ok(c) = client().await else { return };
                match c.revoke(&id).await {
                    Ok(()) => dom::announce("Deleted. It can no longer be opened."),
                    Err(e) => dom::announce(&explain(&e)),
                }
                let _ = draw_shares(&c).await;
            });
        })?;
        dom::append(&ul, &li)?;
    }
    Ok(())
}
