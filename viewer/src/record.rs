//! The record view of the open page: fields with copy buttons, passwords hidden
//! until revealed, a live TOTP code, URLs as safe links, files, and the time
//! left. Record text is only ever set with `textContent`.

use oneshare_sdk::record::{Field, FieldType};
use oneshare_web::Opened;
use web_sys::{Element, HtmlElement};

use crate::dom::{self, Result};
use crate::state::{clock_words, decimal, duration_words, linkable, size_words};
use crate::totp::Otp;

/// How a field is titled when the sender gave no label.
fn default_label(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Login => "Login",
        FieldType::Password => "Password",
        FieldType::Url => "Website",
        FieldType::Note => "Note",
        FieldType::Totp => "One-time code",
        FieldType::Custom => "Field",
    }
}

/// Draws `opened` into `#st-record`. Timers run while `current()` still returns
/// `generation` (a newer view or a removal stops them); `on_end` runs once when
/// access time is over.
pub fn render(
    opened: &Opened,
    generation: u32,
    current: impl Fn() -> u32 + Clone + 'static,
    on_end: impl Fn() + 'static,
) -> Result<()> {
    let rec = &opened.record;
    dom::text(
        "record-title",
        if rec.title.trim().is_empty() {
            "Untitled share"
        } else {
            &rec.title
        },
    )?;
    let list = dom::by_id("record-fields")?;
    list.set_text_content(None);
    for f in &rec.fields {
        dom::append(&list, &field(f, generation, current.clone())?)?;
    }
    files(opened)?;
    dom::text("record-device", &opened.device_fingerprint)?;
    times(opened, generation, current, on_end)
}

fn field(f: &Field, generation: u32, current: impl Fn() -> u32 + 'static) -> Result<Element> {
    let row = dom::instance("tpl-field")?;
    let label = f
        .label
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or(default_label(f.kind));
    dom::set_text(&dom::find(&row, ".field-label")?, label);
    let value = dom::find(&row, ".field-value")?;
    let actions = dom::find(&row, ".field-actions")?;
    let copy_label = "Copy ".to_owned() + &label.to_ascii_lowercase();
    match f.kind {
        FieldType::Password => {
            password(&value, &actions, &f.value, label)?;
            let v = f.value.clone();
            copy(&actions, "Copy", &copy_label, move || v.clone())?;
        }
        FieldType::Url if linkable(&f.value) => {
            let a = dom::element("a", "", &f.value)?;
            a.set_attribute("href", f.value.trim())?;
            a.set_attribute("rel", "noopener noreferrer")?;
            a.set_attribute("target", "_blank")?;
            dom::append(&value, &a)?;
            let v = f.value.clone();
            copy(&actions, "Copy", &copy_label, move || v.clone())?;
        }
        FieldType::Totp => match Otp::parse(&f.value) {
            Ok(otp) => totp(&row, &value, &actions, otp, generation, current)?,
            Err(e) => {
                dom::set_text(
                    &value,
                    &["This code generator cannot be used (", e.message(), ")."].concat(),
                );
                let v = f.value.clone();
                copy(&actions, "Copy secret", &copy_label, move || v.clone())?;
            }
        },
        _ => {
            dom::set_text(&value, &f.value);
            let v = f.value.clone();
            copy(&actions, "Copy", &copy_label, move || v.clone())?;
        }
    }
    Ok(row)
}

/// A Copy button: it reads "Copy", screen readers hear which field.
fn copy(
    actions: &HtmlElement,
    text: &str,
    aria: &str,
    value: impl Fn() -> String + 'static,
) -> Result<()> {
    let b = dom::copy_button(text, value)?;
    b.set_attribute("aria-label", aria)?;
    dom::append(actions, &b)
}

/// A masked value with a Show/Hide toggle.
fn password(value: &HtmlElement, actions: &HtmlElement, secret: &str, label: &str) -> Result<()> {
    const MASK: &str = "••••••••••";
    value.set_class_name("field-value secret");
    dom::set_text(value, MASK);
    let toggle = dom::button("Show", "small")?;
    toggle.set_attribute("aria-pressed", "false")?;
    toggle.set_attribute(
        "aria-label",
        &("Show ".to_owned() + &label.to_ascii_lowercase()),
    )?;
    let (v, t, s, l) = (
        value.clone(),
        toggle.clone(),
        secret.to_owned(),
        label.to_ascii_lowercase(),
    );
    dom::on_click(&toggle, move |_| {
        let shown = t.get_attribute("aria-pressed").as_deref() == Some("true");
        dom::set_text(&v, if shown { MASK } else { &s });
        dom::set_text(&t, if shown { "Show" } else { "Hide" });
        let _ = t.set_attribute("aria-pressed", if shown { "false" } else { "true" });
        let _ = t.set_attribute(
            "aria-label",
            &[if shown { "Show " } else { "Hide " }, &l].concat(),
        );
    })?;
    dom::append(&actions, &toggle)?;
    Ok(())
}

/// The current code, its countdown, and a copy button that copies the code.
fn totp(
    row: &Element,
    value: &HtmlElement,
    actions: &HtmlElement,
    otp: Otp,
    generation: u32,
    current: impl Fn() -> u32 + 'static,
) -> Result<()> {
    value.set_class_name("field-value totp");
    if let Some(l) = &otp.label {
        dom::set_text(
            &dom::find(row, ".field-label")?,
            &("One-time code · ".to_owned() + l),
        );
    }
    let countdown = dom::element("span", "countdown", "")?;
    let bar = dom::element("progress", "", "")?;
    bar.set_attribute("aria-label", "Time left for this code")?;
    let secs = dom::element("span", "", "")?;
    dom::append(&countdown, &bar)?;
    dom::append(&countdown, &secs)?;
    let dd = dom::find(row, ".field-row")?;
    dom::append(&dd, &countdown)?;
    let otp2 = otp.clone();
    copy(actions, "Copy", "Copy one-time code", move || {
        otp2.at(dom::now_secs()).code
    })?;
    let value = value.clone();
    dom::every_second(move || {
        if current() != generation {
            return false;
        }
        let c = otp.at(dom::now_secs());
        dom::set_text(&value, &c.code);
        let left = decimal(c.seconds_left);
        let _ = bar.set_attribute("max", &decimal(c.step));
        let _ = bar.set_attribute("value", &left);
        dom::set_text(&secs, &(left + " s"));
        true
    });
    Ok(())
}

fn files(opened: &Opened) -> Result<()> {
    let wrap = dom::by_id("record-files-wrap")?;
    let list = dom::by_id("record-files")?;
    list.set_text_content(None);
    wrap.set_hidden(opened.record.attachments.is_empty());
    if !opened.record.attachments.is_empty() {
        crate::files::prepare();
    }
    for a in &opened.record.attachments {
        let item = dom::instance("tpl-file")?;
        dom::set_text(&dom::find(&item, ".file-name")?, &a.name);
        dom::set_text(&dom::find(&item, ".file-size")?, &size_words(a.size));
        let get = dom::find(&item, ".file-get")?;
        get.set_attribute("aria-label", &("Download ".to_owned() + &a.name))?;
        let progress = dom::find(&item, ".file-progress")?;
        crate::files::wire(&opened.share_id.to_string(), a, &get, &progress)?;
        dom::append(&list, &item)?;
    }
    Ok(())
}

/// "Access ends in …" and, for self-destructing shares, a live countdown.
fn times(
    opened: &Opened,
    generation: u32,
    current: impl Fn() -> u32 + 'static,
    on_end: impl Fn() + 'static,
) -> Result<()> {
    let ends = opened.access_expires_at;
    let times = dom::by_id("record-times")?;
    let destruct = dom::by_id("record-destruct")?;
    destruct.set_hidden(!opened.self_destruct);
    let self_destruct = opened.self_destruct;
    let tick = move || {
        let left = ends.saturating_sub(dom::now_secs());
        if self_destruct {
            dom::set_text(
                &destruct,
                &[
                    "This share deletes itself in ",
                    &clock_words(left),
                    ". Copy what you need now.",
                ]
                .concat(),
            );
            dom::set_text(&times, "Opened on this device.");
        } else {
            dom::set_text(
                &times,
                &[
                    "Opened on this device. Access ends in ",
                    &duration_words(left),
                    ".",
                ]
                .concat(),
            );
        }
        left
    };
    tick();
    dom::every_second(move || {
        if current() != generation {
            return false;
        }
        if tick() == 0 {
            on_end();
            return false;
        }
        true
    });
    Ok(())
}
