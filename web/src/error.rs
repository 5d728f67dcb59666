//! The one error type of the browser client. Every failure has a stable
//! snake_case [`Error::code`]: the core's codes, the relay's codes, and the
//! browser's own (`aborted`, `network`, `webcrypto`, `storage_unavailable`, …).

use wasm_bindgen::{JsCast, JsValue};

/// What a user can do when keys cannot be kept (shown as the message).
const STORAGE_ADVICE: &str = "This browser cannot keep the keys for this share on this device \
(private window, blocked site data, or an unsupported browser). Open the link in a normal \
window with site data allowed for this site, then try again.";

/// Everything the browser client can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The protocol core refused (bad link, wrong key, damaged data, …).
    #[error(transparent)]
    Core(#[from] oneshare_sdk::Error),
    /// The relay answered with an error; `code` is the relay's (`already_bound`,
    /// `expired`, …) or `http_{status}` when the answer had no error body.
    #[error("{message}")]
    Relay {
        /// The relay's stable code.
        code: String,
        /// The HTTP status.
        status: u16,
        /// The relay's message, for people.
        message: String,
        /// With `wrong_code` and `wrong_passphrase`: attempts left before the
        /// share locks.
        attempts_left: Option<u64>,
    },
    /// The relay could not be reached (offline, DNS, TLS, CORS).
    #[error("the relay cannot be reached")]
    Network,
    /// The caller aborted (an `AbortSignal` fired).
    #[error("the operation was aborted")]
    Aborted,
    /// A WebCrypto call failed for a reason other than a bad tag.
    #[error("WebCrypto {operation} failed ({name})")]
    WebCrypto {
        /// What was being done (`sign`, `import`, …).
        operation: &'static str,
        /// The `DOMException` name.
        name: String,
    },
    /// No `crypto.subtle`: the page is not a secure context.
    #[error("WebCrypto is unavailable: serve the page over https (or http://localhost)")]
    InsecureContext,
    /// IndexedDB cannot store the keys here.
    #[error("{STORAGE_ADVICE}")]
    StorageUnavailable,
    /// The share has no keys on this device.
    #[error("this share is not open on this device: open its link first")]
    NotOnDevice,
    /// The share was opened through another relay than this client's.
    #[error(
        "this share was opened through another relay ({relay}); connect to that relay to read it"
    )]
    OtherRelay {
        /// The relay the device entry belongs to.
        relay: String,
    },
    /// The attachment is listed in the record but not uploaded completely yet.
    #[error("this attachment is still being uploaded; try again in a moment")]
    AttachmentUploading,
    /// The record has no attachment with this id.
    #[error("no attachment with this id in the record")]
    NoSuchAttachment,
    /// An upload did not complete after retries.
    #[error("the relay did not accept the whole attachment; try again")]
    UploadIncomplete,
    /// The relay's public page URL or an argument is not usable.
    #[error("invalid argument: {0}")]
    Argument(&'static str),
    /// The comparison code typed for a transfer differs from the request's:
    /// its keys may have been swapped (PROTOCOL.md §12.2); nothing was approved.
    #[error("the codes differ: the device that asked shows another code; deny the request")]
    CodeMismatch,
    /// The on-demand Argon2id module (npm `src/stretch.mjs`) or its worker
    /// could not be loaded.
    #[error("the passphrase module (Argon2id) could not be loaded")]
    PassphraseModule,
    /// The browser lacks something this client needs (named).
    #[error("this browser does not support {0}")]
    Unsupported(&'static str),
}

/// Result alias of the browser client.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The stable code (documented in `npm/README.md` and the `ErrorCode` type).
    pub fn code(&self) -> &str {
        match self {
            Self::Core(e) => e.code(),
            Self::Relay { code, .. } => code,
            Self::Network => "network",
            Self::Aborted => "aborted",
            Self::WebCrypto { .. } => "webcrypto",
            Self::InsecureContext => "insecure_context",
            Self::StorageUnavailable => "storage_unavailable",
            Self::NotOnDevice => "not_on_device",
            Self::OtherRelay { .. } => "other_relay",
            Self::AttachmentUploading => "attachment_uploading",
            Self::NoSuchAttachment => "no_such_attachment",
            Self::UploadIncomplete => "upload_incomplete",
            Self::Argument(_) => "argument",
            Self::Unsupported(_) => "unsupported",
            Self::CodeMismatch => "code_mismatch",
            Self::PassphraseModule => "passphrase_module",
        }
    }

    /// The HTTP status of a relay error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Relay { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Attempts left before the share locks, after `wrong_code` or
    /// `wrong_passphrase`.
    pub fn attempts_left(&self) -> Option<u64> {
        match self {
            Self::Relay { attempts_left, .. } => *attempts_left,
            _ => None,
        }
    }

    /// Whether the relay said the share has ended for good (410 with its state):
    /// the only relay answer after which a device forgets a share's keys.
    pub fn share_ended(&self) -> bool {
        self.status() == Some(410)
    }

    /// Maps a rejected browser promise: `AbortError` is [`Error::Aborted`], any
    /// other `DOMException` a WebCrypto failure of `operation`.
    pub(crate) fn webcrypto(operation: &'static str, e: &JsValue) -> Self {
        match exception_name(e).as_deref() {
            Some("AbortError") => Self::Aborted,
            Some(name) => Self::WebCrypto {
                operation,
                name: name.to_owned(),
            },
            None => Self::WebCrypto {
                operation,
                name: "Error".to_owned(),
            },
        }
    }

    /// Maps a rejected `fetch` or body read: abort, else network.
    pub(crate) fn fetch(e: &JsValue) -> Self {
        if exception_name(e).as_deref() == Some("AbortError") {
            Self::Aborted
        } else {
            Self::Network
        }
    }
}

/// The `name` of a `DOMException` or `Error`.
pub(crate) fn exception_name(e: &JsValue) -> Option<String> {
    if let Some(d) = e.dyn_ref::<web_sys::DomException>() {
        return Some(d.name());
    }
    e.dyn_ref::<js_sys::Error>()
        .map(|err| String::from(err.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_typescript_union() {
        use oneshare_sdk::Error as C;
        // The union is declared in js/types.rs (emitted into the package's .d.ts).
        let union = include_str!("js/types.rs");
        let listed = |code: &str| union.contains(&format!("'{code}'"));
        let core = [
            C::Encoding("x"),
            C::InvalidLink("x"),
            C::Length {
                what: "x",
                expected: 1,
                got: 2,
            },
            C::Malformed("x"),
            C::UnsupportedVersion {
                what: "x",
                version: 9,
            },
            C::WrongKey,
            C::Decrypt,
            C::Truncated,
            C::TrailingData,
            C::CounterOverflow,
            C::Json {
                what: "x",
                reason: "y".into(),
            },
            C::InvalidKey("x"),
            C::BadSignature,
            C::InvalidHeader("x"),
            C::StaleTimestamp,
            C::Hpke,
            C::Duration("x".into()),
            C::Random,
            C::InvalidCode("x"),
            C::Passphrase("x"),
        ];
        let web = [
            Error::Network,
            Error::Aborted,
            Error::WebCrypto {
                operation: "sign",
                name: "OperationError".into(),
            },
            Error::InsecureContext,
            Error::StorageUnavailable,
            Error::NotOnDevice,
            Error::OtherRelay { relay: "x".into() },
            Error::AttachmentUploading,
            Error::NoSuchAttachment,
            Error::UploadIncomplete,
            Error::Argument("x"),
            Error::Unsupported("x"),
            Error::CodeMismatch,
            Error::PassphraseModule,
        ];
        for e in core.into_iter().map(Error::from).chain(web) {
            assert!(listed(e.code()), "{} is not in ErrorCode", e.code());
        }
        // Every code the relay answers with: read from its `code()` (each
        // `=> "…"` arm of server/src/error.rs), so a new relay code fails here
        // until the union lists it; then its ended states and the package's own.
        let relay = include_str!("../../server/src/error.rs");
        let body = &relay[relay
            .find("pub fn code(&self)")
            .expect("the relay's code()")..];
        let body = &body[..body.find("\n    }\n").expect("the end of code()")];
        let relay_codes: Vec<&str> = body
            .split("=> \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(relay_codes.len() > 20, "read {relay_codes:?}");
        for code in relay_codes.into_iter().chain([
            "expired",
            "revoked",
            "self_destructed",
            "not_initialized",
            "wasm_load",
        ]) {
            assert!(listed(code), "{code} is not in ErrorCode");
        }
    }

    #[test]
    fn codes_are_stable() {
        let relay = Error::Relay {
            code: "already_bound".into(),
            status: 409,
            message: "m".into(),
            attempts_left: None,
        };
        assert_eq!(relay.code(), "already_bound");
        assert!(!relay.share_ended());
        let gone = Error::Relay {
            code: "expired".into(),
            status: 410,
            message: "m".into(),
            attempts_left: None,
        };
        assert!(gone.share_ended());
        assert_eq!(
            Error::from(oneshare_sdk::Error::Truncated).code(),
            "truncated"
        );
        assert_eq!(Error::Aborted.code(), "aborted");
        assert_eq!(Error::NotOnDevice.code(), "not_on_device");
        assert_eq!(
            Error::OtherRelay { relay: "x".into() }.code(),
            "other_relay"
        );
    }
}
