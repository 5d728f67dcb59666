//! The viewer's decisions, free of the DOM so they are tested natively: which page
//! state to show for a status or an error code, whether a click may bind (layer
//! L1 of the link-scanner defences), how to word a duration, which URLs become
//! links, and the compose page's expiry choices.

/// One state of the open page; each has its own element in `s.html`
/// (`id="st-…"`, see [`Page::element_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Reading the link and asking the relay about it.
    Loading,
    /// An unused share waits for the Open button.
    Ready,
    /// The relay asks for the open code (the sender required it, or the open
    /// looked automated), or the one typed was wrong.
    Code,
    /// The share has a passphrase, or the one typed was wrong.
    Passphrase,
    /// Too many wrong codes or passphrases: the link opens nowhere now.
    Locked,
    /// Binding and decrypting.
    Opening,
    /// The record is shown.
    Record,
    /// Another device opened it first.
    OtherDevice,
    /// The link or the access time ran out.
    Expired,
    /// The sender deleted it.
    Revoked,
    /// It self-destructed after viewing.
    SelfDestructed,
    /// The relay does not know this share (mistyped, or deleted long ago).
    NotFound,
    /// The link is incomplete or was altered.
    BadLink,
    /// `/s` without a token and nothing kept on this device.
    NoLink,
    /// The relay could not be reached (retry).
    Unreachable,
    /// The browser refuses storage (private window, blocked site data).
    StorageBlocked,
    /// Not a secure context: no WebCrypto.
    Insecure,
    /// Anything else; the error code is shown.
    Failed,
}

impl Page {
    /// The id of the element that shows this state.
    pub const fn element_id(self) -> &'static str {
        match self {
            Self::Loading => "st-loading",
            Self::Ready => "st-ready",
            Self::Code => "st-code",
            Self::Passphrase => "st-passphrase",
            Self::Locked => "st-locked",
            Self::Opening => "st-opening",
            Self::Record => "st-record",
            Self::OtherDevice => "st-other-device",
            Self::Expired => "st-expired",
            Self::Revoked => "st-revoked",
            Self::SelfDestructed => "st-self-destructed",
            Self::NotFound => "st-not-found",
            Self::BadLink => "st-bad-link",
            Self::NoLink => "st-no-link",
            Self::Unreachable => "st-unreachable",
            Self::StorageBlocked => "st-storage",
            Self::Insecure => "st-insecure",
            Self::Failed => "st-failed",
        }
    }

    /// Every state, for hiding all but one.
    pub const ALL: [Self; 18] = [
        Self::Loading,
        Self::Ready,
        Self::Code,
        Self::Passphrase,
        Self::Locked,
        Self::Opening,
        Self::Record,
        Self::OtherDevice,
        Self::Expired,
        Self::Revoked,
        Self::SelfDestructed,
        Self::NotFound,
        Self::BadLink,
        Self::NoLink,
        Self::Unreachable,
        Self::StorageBlocked,
        Self::Insecure,
        Self::Failed,
    ];

    /// The state for a share's public status (`unbound`, `bound`, …) on a device
    /// that does not hold it.
    pub fn for_status(state: &str) -> Self {
        match state {
            "unbound" => Self::Ready,
            // A device bound (or is binding); it is not this one.
            "binding" | "bound" => Self::OtherDevice,
            other => Self::for_code(other),
        }
    }

    /// The state for a client or relay error code.
    pub fn for_code(code: &str) -> Self {
        match code {
            // `moved`: the sender moved the share to another device (PROTOCOL.md
            // §12.2); this device's keys are already forgotten.
            "already_bound" | "not_on_device" | "moved" => Self::OtherDevice,
            "code_required" | "wrong_code" | "invalid_code" => Self::Code,
            "passphrase_required" | "wrong_passphrase" | "passphrase" => Self::Passphrase,
            "locked" => Self::Locked,
            "expired" => Self::Expired,
            "revoked" => Self::Revoked,
            "self_destructed" => Self::SelfDestructed,
            "not_found" => Self::NotFound,
            "bad_token" | "bad_link" | "invalid_link" | "malformed_link" => Self::BadLink,
            "network" | "timeout" | "unreachable" | "rate_limited" | "internal" => {
                Self::Unreachable
            }
            "storage_unavailable" | "storage_blocked" => Self::StorageBlocked,
            "insecure_context" => Self::Insecure,
            _ => Self::Failed,
        }
    }

    /// Whether the share is over for this device, so its keys may go.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Expired | Self::Revoked | Self::SelfDestructed)
    }
}

/// What the code or passphrase prompt says under its field after an answer
/// of the relay (`None`: the first ask, nothing to add).
pub fn factor_hint(code: &str, attempts_left: Option<u64>) -> Option<String> {
    let what = match code {
        "wrong_code" => "That code is not right.",
        "wrong_passphrase" => "That passphrase is not right.",
        "invalid_code" => {
            return Some(
                "A code has 8 letters and digits, like 7KQ2-M9XD. Check it and try again.".into(),
            );
        }
        "passphrase" => return Some("Type the passphrase (at most 1024 bytes).".into()),
        _ => return None,
    };
    Some(match attempts_left {
        Some(1) => [
            what,
            " 1 attempt left: after one more wrong try the link locks.",
        ]
        .concat(),
        Some(n) => [
            what,
            " ",
            &decimal(n),
            " attempts left before the link locks.",
        ]
        .concat(),
        None => [what, " Check it and try again."].concat(),
    })
}

/// What the browser says about a click on Open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gesture {
    /// `event.isTrusted`: not made by script.
    pub trusted: bool,
    /// `navigator.userActivation.isActive`: a real activation just happened.
    pub user_active: bool,
    /// `document.visibilityState == "visible"`.
    pub visible: bool,
    /// `document.hasFocus()`.
    pub focused: bool,
    /// Milliseconds since the page first showed the button.
    pub since_paint_ms: f64,
}

/// The shortest time between first paint and a click that may bind.
pub const MIN_MS_AFTER_PAINT: f64 = 1_000.0;

/// Why a click did not bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Script made the event (`el.click()`, `dispatchEvent`).
    Synthetic,
    /// No user activation is active.
    NoActivation,
    /// The page is hidden or not focused.
    NotInView,
    /// Too soon after the page appeared.
    TooSoon,
}

impl Refusal {
    /// Polite text for the person (a real one only sees `TooSoon` or `NotInView`).
    pub const fn message(self) -> &'static str {
        match self {
            Self::Synthetic | Self::NoActivation => {
                "Press the button yourself (mouse, touch or keyboard) to open it."
            }
            Self::NotInView => "Bring this window to the front, then press Open.",
            Self::TooSoon => "One moment — press Open again.",
        }
    }
}

/// Layer L1: a click binds only if a person made it, in a visible, focused page,
/// at least [`MIN_MS_AFTER_PAINT`] after the button appeared. Keyboard
/// activation (Enter, Space) passes like a pointer: both are trusted activations.
///
/// # Errors
/// The first [`Refusal`] that applies.
pub fn check_gesture(g: &Gesture) -> Result<(), Refusal> {
    if !g.trusted {
        return Err(Refusal::Synthetic);
    }
    if !g.user_active {
        return Err(Refusal::NoActivation);
    }
    if !g.visible || !g.focused {
        return Err(Refusal::NotInView);
    }
    if g.since_paint_ms < MIN_MS_AFTER_PAINT {
        return Err(Refusal::TooSoon);
    }
    Ok(())
}

/// A duration in words, largest two units ("2 days 3 hours", "4 minutes",
/// "less than a minute" under 60 s).
pub fn duration_words(secs: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if secs == 0 {
        return "no time".into();
    }
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in UNITS {
        if parts.len() == 2 {
            break;
        }
        let n = rest / size;
        if n > 0 {
            parts.push(
                [
                    decimal(n).as_str(),
                    " ",
                    name,
                    if n == 1 { "" } else { "s" },
                ]
                .concat(),
            );
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    parts.join(" ")
}

/// "12.3 MB" with integer arithmetic (float formatting would add ~15 KB of wasm).
pub fn size_words(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1_000 {
        return decimal(bytes) + " bytes";
    }
    let mut scale = 1_000u64;
    let mut unit = 0;
    while bytes / scale >= 1_000 && unit < UNITS.len() - 1 {
        scale *= 1_000;
        unit += 1;
    }
    let tenths = bytes * 10 / scale;
    [
        &decimal(tenths / 10),
        ".",
        &decimal(tenths % 10),
        " ",
        UNITS[unit],
    ]
    .concat()
}

/// `n` in decimal digits. The open page formats its numbers with this instead
/// of `format!` or `to_string`, whose formatting machinery costs bytes at every
/// call site.
pub fn decimal(mut n: u64) -> String {
    let mut digits = Vec::with_capacity(20);
    loop {
        // One decimal digit.
        #[allow(clippy::cast_possible_truncation)]
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Whether an upload that failed with `code` can resume where it stopped: the
/// network or the relay was down (a proxy answers 5xx while it restarts), not a
/// refusal that another try would meet again.
pub fn upload_can_resume(code: &str) -> bool {
    matches!(
        code,
        "network" | "timeout" | "upload_incomplete" | "rate_limited" | "internal"
    ) || code.starts_with("http_5")
}

/// A message as a sentence: first letter upper case, a full stop at the end.
/// ASCII case only: the client's messages are English, and Unicode case
/// tables would add kilobytes to the open page.
pub fn sentence(text: &str) -> String {
    let mut out = text.trim().to_owned();
    if out.is_empty() {
        return out;
    }
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// "12.3 MB of 104.8 MB sent".
pub fn upload_words(done: u64, total: u64) -> String {
    format!("{} of {} sent", size_words(done), size_words(total))
}

/// The `Content-Disposition` of a saved attachment: RFC 6266 `filename*` in
/// UTF-8, every byte but RFC 5987's unreserved ones percent-encoded (so a
/// sender's file name can never add a header line or a quote).
pub fn content_disposition(name: &str) -> String {
    let mut out = String::from("attachment; filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 15] {
                out.push(char::from(b"0123456789ABCDEF"[usize::from(nibble)]));
            }
        }
    }
    out
}

/// A countdown in `m:ss` (or `h:mm:ss`), for live timers.
pub fn clock_words(secs: u64) -> String {
    let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
    let two = |n: u64| {
        if n < 10 {
            "0".to_owned() + &decimal(n)
        } else {
            decimal(n)
        }
    };
    if h > 0 {
        [decimal(h), two(m), two(s)].join(":")
    } else {
        [decimal(m), two(s)].join(":")
    }
}

/// Whether a URL field may become a clickable link: `http:` or `https:` only
/// (no `javascript:`, `data:`, `file:`), with a host.
pub fn linkable(url: &str) -> bool {
    let url = url.trim();
    let rest = ["https://", "http://"].iter().find_map(|p| {
        (url.len() > p.len() && url[..p.len()].eq_ignore_ascii_case(p)).then(|| &url[p.len()..])
    });
    rest.is_some_and(|r| {
        !r.starts_with('/')
            && !r.is_empty()
            && !url.chars().any(|c| c.is_control() || c.is_whitespace())
    })
}

/// An expiry choice on the compose page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Seconds.
    pub secs: u64,
    /// What the person reads.
    pub label: &'static str,
}

/// The presets, 5 minutes to 30 days.
pub const EXPIRY_PRESETS: [Expiry; 7] = [
    Expiry {
        secs: 300,
        label: "5 minutes",
    },
    Expiry {
        secs: 3_600,
        label: "1 hour",
    },
    Expiry {
        secs: 86_400,
        label: "1 day",
    },
    Expiry {
        secs: 3 * 86_400,
        label: "3 days",
    },
    Expiry {
        secs: 7 * 86_400,
        label: "7 days",
    },
    Expiry {
        secs: 14 * 86_400,
        label: "14 days",
    },
    Expiry {
        secs: 30 * 86_400,
        label: "30 days",
    },
];

/// The presets a relay allowing at most `max_secs` offers.
pub fn expiry_choices(max_secs: u64) -> Vec<Expiry> {
    EXPIRY_PRESETS
        .iter()
        .copied()
        .filter(|e| e.secs <= max_secs)
        .collect()
}

/// Reads a custom expiry like `90m`, `12h`, `2d` or a number of minutes.
///
/// # Errors
/// A sentence for the form when it is not a duration between 1 minute and `max_secs`.
pub fn parse_custom_expiry(text: &str, max_secs: u64) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t.as_str(), "m"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "Write a number with m, h or d, like 90m, 12h or 2d.".to_owned())?;
    let unit_secs = match unit {
        "m" | "min" | "minutes" | "minute" => 60,
        "h" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        _ => return Err("Use m (minutes), h (hours) or d (days), like 90m or 2d.".into()),
    };
    let secs = n.saturating_mul(unit_secs);
    if secs < 60 {
        return Err("The shortest is 1 minute.".into());
    }
    if secs > max_secs {
        return Err(format!(
            "This relay allows at most {}.",
            duration_words(max_secs)
        ));
    }
    Ok(secs)
}

/// The headline of a v1 refusal: another device tried to open the share.
pub const REFUSED_DEVICE: &str = "Another device tried to open it and was refused";

/// How My shares words a `refused_device` event: a headline and the part of
/// the relay's detail that adds to it (PROTOCOL.md §9.3, §12.4). Protocol v2
/// refusals (the open code asked for, a wrong code or passphrase, the lock)
/// keep the whole detail: it says when, what looked automated, and that no
/// content was delivered.
pub fn refusal_words(detail: Option<&str>) -> (&'static str, Option<&str>) {
    match detail {
        Some(d) if is_lock(d) => ("Locked", Some(d)),
        Some(d) if d.contains("wrong open code") || d.contains("wrong passphrase") => {
            ("Wrong code or passphrase", Some(d))
        }
        Some(d) if d.contains("asked for the open code") => ("Asked for the open code", Some(d)),
        // v1: "another device tried …; further attempts …": the headline says the first part.
        d => (
            REFUSED_DEVICE,
            d.and_then(|d| d.split_once("; ").map(|(_, rest)| rest)),
        ),
    }
}

/// Whether a refusal's detail says the share locked (5 wrong factors).
pub fn is_lock(detail: &str) -> bool {
    detail.contains("the share is locked")
}

/// The text a sender pastes into a message next to the link.
pub fn invitation(link: &str, expires_in: u64, self_destruct: bool, passphrase: bool) -> String {
    let mut text = format!(
        "I shared something with you securely: {link}\n\nIt opens on one device only \
         (the first one that opens it), and the link stops working in {}.",
        duration_words(expires_in)
    );
    if self_destruct {
        text.push_str(" It deletes itself five minutes after you first view it.");
    }
    text.push_str(" Please don't forward it.");
    // The code and the passphrase travel another way, never in this message.
    if passphrase {
        text.push_str(
            "\n\nYou will also need a passphrase, and maybe an open code: I will send them separately.",
        );
    } else {
        text.push_str("\n\nIf the page asks for an open code, I will send it to you separately.");
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uploads_resume_after_network_trouble_only() {
        for code in [
            "network",
            "upload_incomplete",
            "timeout",
            "http_502",
            "internal",
        ] {
            assert!(upload_can_resume(code), "{code}");
        }
        for code in [
            "too_large",
            "quota",
            "forbidden",
            "aborted",
            "http_404",
            "storage_full",
        ] {
            assert!(!upload_can_resume(code), "{code}");
        }
        assert_eq!(
            upload_words(1_500_000, 104_857_600),
            "1.5 MB of 104.8 MB sent"
        );
    }

    #[test]
    fn messages_become_sentences() {
        assert_eq!(
            sentence("the relay cannot be reached"),
            "The relay cannot be reached."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
        assert_eq!(sentence("échec"), "échec.");
    }

    #[test]
    fn saved_file_names_are_percent_encoded() {
        assert_eq!(
            content_disposition("report-2026_v1.pdf"),
            "attachment; filename*=UTF-8''report-2026_v1.pdf"
        );
        assert_eq!(
            content_disposition("a b\"\r\nSet-Cookie: x;é.txt"),
            "attachment; filename*=UTF-8''a%20b%22%0D%0ASet-Cookie%3A%20x%3B%C3%A9.txt"
        );
    }

    #[test]
    fn status_and_codes_choose_a_state() {
        assert_eq!(Page::for_status("unbound"), Page::Ready);
        assert_eq!(Page::for_status("bound"), Page::OtherDevice);
        assert_eq!(Page::for_status("binding"), Page::OtherDevice);
        assert_eq!(Page::for_status("self_destructed"), Page::SelfDestructed);
        assert_eq!(Page::for_code("already_bound"), Page::OtherDevice);
        assert_eq!(Page::for_code("moved"), Page::OtherDevice);
        assert_eq!(Page::for_code("expired"), Page::Expired);
        assert_eq!(Page::for_code("revoked"), Page::Revoked);
        assert_eq!(Page::for_code("network"), Page::Unreachable);
        assert_eq!(Page::for_code("storage_unavailable"), Page::StorageBlocked);
        assert_eq!(Page::for_code("bad_token"), Page::BadLink);
        assert_eq!(Page::for_code("something_new"), Page::Failed);
        assert_eq!(Page::for_code("code_required"), Page::Code);
        assert_eq!(Page::for_code("wrong_code"), Page::Code);
        assert_eq!(Page::for_code("passphrase_required"), Page::Passphrase);
        assert_eq!(Page::for_code("wrong_passphrase"), Page::Passphrase);
        assert_eq!(Page::for_code("locked"), Page::Locked);
        assert!(Page::Revoked.is_final() && !Page::Unreachable.is_final());
        let ids: std::collections::HashSet<_> = Page::ALL.iter().map(|p| p.element_id()).collect();
        assert_eq!(ids.len(), Page::ALL.len());
    }

    #[test]
    fn refusals_are_worded_for_the_sender() {
        let asked = "opened 3s after creation; the browser is driven by automation \
                     (navigator.webdriver); looks automated; asked for the open code; content delivered: no";
        assert_eq!(
            refusal_words(Some(asked)),
            ("Asked for the open code", Some(asked))
        );
        let wrong =
            "a wrong open code was entered (2 of 5 before the share locks); content delivered: no";
        assert_eq!(refusal_words(Some(wrong)).0, "Wrong code or passphrase");
        let lock = "a wrong passphrase was entered (5 of 5): the share is locked and opens on no device; \
                    send a new link; content delivered: no";
        assert_eq!(refusal_words(Some(lock)).0, "Locked");
        assert!(is_lock(lock) && !is_lock(wrong));
        let v1 =
            "another device tried to open the link and was refused; further attempts are refused";
        assert_eq!(
            refusal_words(Some(v1)),
            (
                "Another device tried to open it and was refused",
                Some("further attempts are refused")
            )
        );
    }

    #[test]
    fn factor_hints_say_how_many_attempts_remain() {
        assert_eq!(factor_hint("code_required", None), None);
        assert_eq!(
            factor_hint("wrong_code", Some(3)).as_deref(),
            Some("That code is not right. 3 attempts left before the link locks.")
        );
        assert!(
            factor_hint("wrong_passphrase", Some(1)).is_some_and(|h| h.contains("1 attempt left"))
        );
        assert!(factor_hint("invalid_code", None).is_some_and(|h| h.contains("8 letters")));
    }

    #[test]
    fn only_a_real_settled_gesture_binds() {
        let ok = Gesture {
            trusted: true,
            user_active: true,
            visible: true,
            focused: true,
            since_paint_ms: 1_500.0,
        };
        assert_eq!(check_gesture(&ok), Ok(()));
        let cases = [
            (
                Gesture {
                    trusted: false,
                    ..ok
                },
                Refusal::Synthetic,
            ),
            (
                Gesture {
                    user_active: false,
                    ..ok
                },
                Refusal::NoActivation,
            ),
            (
                Gesture {
                    visible: false,
                    ..ok
                },
                Refusal::NotInView,
            ),
            (
                Gesture {
                    focused: false,
                    ..ok
                },
                Refusal::NotInView,
            ),
            (
                Gesture {
                    since_paint_ms: 400.0,
                    ..ok
                },
                Refusal::TooSoon,
            ),
        ];
        for (g, why) in cases {
            assert_eq!(check_gesture(&g), Err(why));
            assert!(!why.message().is_empty());
        }
    }

    #[test]
    fn words_for_time() {
        assert_eq!(duration_words(0), "no time");
        assert_eq!(duration_words(1), "1 second");
        assert_eq!(duration_words(300), "5 minutes");
        assert_eq!(duration_words(3_661), "1 hour 1 minute");
        assert_eq!(duration_words(2 * 86_400 + 3 * 3_600 + 5), "2 days 3 hours");
        assert_eq!(duration_words(86_400 + 59), "1 day");
        assert_eq!(clock_words(299), "4:59");
        assert_eq!(size_words(999), "999 bytes");
        assert_eq!(size_words(1_234), "1.2 KB");
        assert_eq!(size_words(100_000_000), "100.0 MB");
        assert_eq!(size_words(4_500_000_000), "4.5 GB");
        assert_eq!(clock_words(3_725), "1:02:05");
        assert_eq!(clock_words(0), "0:00");
        assert_eq!(clock_words(36_000), "10:00:00");
        for n in [0, 7, 10, 99, 1_000, 4_294_967_296, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn only_web_urls_are_links() {
        for good in [
            "https://example.com",
            "http://x.y/path?q=1",
            "HTTPS://EXAMPLE.COM",
        ] {
            assert!(linkable(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "https://",
            "https:///x",
            "example.com",
            "https://exa mple.com",
            " java\nscript:x",
        ] {
            assert!(!linkable(bad), "{bad}");
        }
    }

    #[test]
    fn expiry_choices_and_custom_values() {
        assert_eq!(expiry_choices(u64::MAX).len(), 7);
        assert_eq!(expiry_choices(86_400).last().unwrap().label, "1 day");
        assert_eq!(parse_custom_expiry("90m", 86_400), Ok(5_400));
        assert_eq!(parse_custom_expiry("2 d", 30 * 86_400), Ok(172_800));
        assert_eq!(parse_custom_expiry("45", 86_400), Ok(2_700));
        assert!(
            parse_custom_expiry("3d", 86_400)
                .unwrap_err()
                .contains("1 day")
        );
        assert!(parse_custom_expiry("0m", 86_400).is_err());
        assert!(parse_custom_expiry("soon", 86_400).is_err());
        assert!(parse_custom_expiry("5w", 86_400).is_err());
    }

    #[test]
    fn invitation_says_what_the_recipient_must_know() {
        let t = invitation("https://r/s#T", 86_400, true, false);
        assert!(t.contains("https://r/s#T") && t.contains("1 day") && t.contains("five minutes"));
        assert!(t.contains("open code") && !t.contains("passphrase"));
        assert!(!invitation("x", 300, false, false).contains("five minutes"));
        assert!(invitation("x", 300, false, true).contains("passphrase"));
    }
}
