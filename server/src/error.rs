//! The one error type of the relay. Its HTTP status is decided in exactly one place
//! ([`Error::status_code`]) and every failure answers with the same JSON shape
//! ([`oneshare_sdk::api::ErrorBody`]). Internal details are logged, never returned.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oneshare_sdk::api::ErrorBody;
use oneshare_sdk::lifetime::State;

/// Everything that can go wrong in the relay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such share or attachment (or it belongs to someone else).
    #[error("not found")]
    NotFound,
    /// The share has ended; the state says how.
    #[error("the share has ended ({})", .0.as_str())]
    Gone(State),
    /// The bind secret did not match.
    #[error("the link is not valid")]
    BadToken,
    /// The share asks for its open code before binding (PROTOCOL.md §12.4).
    #[error("this share asks for its open code: the sender can tell you what it is")]
    CodeRequired,
    /// The share is protected by a passphrase the binder did not give.
    #[error("this share is protected by a passphrase: the sender can tell you what it is")]
    PassphraseRequired,
    /// The open code was wrong; this many attempts are left.
    #[error("the open code is wrong; {0} attempt(s) left before the share locks")]
    WrongCode(u64),
    /// The passphrase was wrong; this many attempts are left.
    #[error("the passphrase is wrong; {0} attempt(s) left before the share locks")]
    WrongPassphrase(u64),
    /// Too many wrong codes or passphrases: the share no longer binds.
    #[error("too many wrong codes or passphrases: this share is locked and the sender was told")]
    Locked,
    /// Another device holds the share.
    #[error("this share was already opened on another device")]
    AlreadyBound,
    /// The sender moved the share to another device (PROTOCOL.md §12.2).
    #[error("the sender moved this share to another device; it no longer opens here")]
    Moved,
    /// Another transfer request of this share waits for the sender.
    #[error(
        "another device already asked for this share; try again once the sender answered or it expired"
    )]
    TransferPending,
    /// This device already opened and confirmed the share: fetch the record instead.
    #[error("this device already opened this share; fetch the record with a signed request")]
    AlreadyConfirmed,
    /// The request conflicts with the current state (version, part order, …).
    #[error("{0}")]
    Conflict(&'static str),
    /// The signed request's nonce was seen before.
    #[error("this request was already received (replayed nonce)")]
    Replayed,
    /// The signature did not verify, or the signer may not do this.
    #[error("signature verification failed")]
    BadSignature,
    /// The request timestamp is outside the window.
    #[error("request timestamp is outside the accepted window; check the clock")]
    StaleTimestamp,
    /// A required header is missing or malformed.
    #[error("invalid or missing header {0}")]
    InvalidHeader(&'static str),
    /// The transmission key could not be opened.
    #[error("the transmission key could not be opened")]
    Hpke,
    /// The signer is valid but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Known route, wrong method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The body is larger than this route or policy allows.
    #[error("{0}")]
    TooLarge(&'static str),
    /// The owner has too many live shares.
    #[error("share quota reached: revoke or wait for shares to end")]
    Quota,
    /// The relay's storage quota is used up (every owner together).
    #[error("this relay's storage is full; try again later")]
    StorageFull,
    /// Malformed input.
    #[error("{0}")]
    BadRequest(String),
    /// Range not satisfiable.
    #[error("requested range is not satisfiable")]
    Range,
    /// Too many requests; retry after this many seconds.
    #[error("too many requests; retry later")]
    RateLimited(u64),
    /// The request took too long.
    #[error("the request took too long")]
    Timeout,
    /// Storage or I/O failure (logged, never shown).
    #[error("internal error: {0}")]
    Internal(String),
    /// Bad configuration at start-up.
    #[error("configuration: {0}")]
    Config(String),
}

/// Relay result.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The one place that maps errors to HTTP statuses.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Gone(_) | Self::Moved => StatusCode::GONE,
            Self::BadToken
            | Self::Forbidden(_)
            | Self::CodeRequired
            | Self::PassphraseRequired
            | Self::WrongCode(_)
            | Self::WrongPassphrase(_) => StatusCode::FORBIDDEN,
            Self::Locked => StatusCode::LOCKED,
            Self::AlreadyBound
            | Self::AlreadyConfirmed
            | Self::TransferPending
            | Self::Conflict(_)
            | Self::Quota => StatusCode::CONFLICT,
            Self::Replayed | Self::BadSignature | Self::StaleTimestamp => StatusCode::UNAUTHORIZED,
            Self::InvalidHeader(_) | Self::Hpke | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::Range => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) | Self::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Gone(state) => state.as_str(),
            Self::BadToken => "bad_token",
            Self::CodeRequired => "code_required",
            Self::PassphraseRequired => "passphrase_required",
            Self::WrongCode(_) => "wrong_code",
            Self::WrongPassphrase(_) => "wrong_passphrase",
            Self::Locked => "locked",
            Self::AlreadyBound => "already_bound",
            Self::AlreadyConfirmed => "already_confirmed",
            Self::Moved => "moved",
            Self::TransferPending => "transfer_pending",
            Self::Conflict(_) => "conflict",
            Self::Replayed => "replayed",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp => "stale_timestamp",
            Self::InvalidHeader(_) => "invalid_header",
            Self::Hpke => "hpke",
            Self::Forbidden(_) => "forbidden",
            Self::TooLarge(_) => "too_large",
            Self::Quota => "quota",
            Self::StorageFull => "storage_full",
            Self::BadRequest(_) => "bad_request",
            Self::Range => "range_not_satisfiable",
            Self::RateLimited(_) => "rate_limited",
            Self::Timeout => "timeout",
            Self::Internal(_) | Self::Config(_) => "internal",
        }
    }

    /// Wraps a storage error; the detail is only logged.
    pub fn internal(e: impl core::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::internal(e)
    }
}

impl From<oneshare_sdk::Error> for Error {
    fn from(e: oneshare_sdk::Error) -> Self {
        use oneshare_sdk::Error as E;
        match e {
            E::BadSignature => Self::BadSignature,
            E::StaleTimestamp => Self::StaleTimestamp,
            E::InvalidHeader(h) => Self::InvalidHeader(h),
            E::Hpke | E::Decrypt | E::WrongKey => Self::Hpke,
            other => Self::BadRequest(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let message = if matches!(self, Self::Internal(_) | Self::Config(_)) {
            tracing::error!(error = %self, "internal error");
            "internal error; the request id is in the relay's log".to_owned()
        } else {
            self.to_string()
        };
        let attempts_left = match self {
            Self::WrongCode(n) | Self::WrongPassphrase(n) => Some(n),
            _ => None,
        };
        let body = ErrorBody {
            code: self.code().to_owned(),
            message,
            attempts_left,
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Self::RateLimited(secs) = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every variant; the `match` fails to compile when a variant is added
    /// without being listed here (and so in PROTOCOL.md §10.5).
    fn every() -> Vec<Error> {
        let all = vec![
            Error::NotFound,
            Error::Gone(State::Expired),
            Error::Gone(State::Revoked),
            Error::Gone(State::SelfDestructed),
            Error::BadToken,
            Error::CodeRequired,
            Error::PassphraseRequired,
            Error::WrongCode(4),
            Error::WrongPassphrase(1),
            Error::Locked,
            Error::AlreadyBound,
            Error::AlreadyConfirmed,
            Error::Moved,
            Error::TransferPending,
            Error::Conflict("x"),
            Error::Replayed,
            Error::BadSignature,
            Error::StaleTimestamp,
            Error::InvalidHeader("x"),
            Error::Hpke,
            Error::Forbidden("x"),
            Error::MethodNotAllowed,
            Error::TooLarge("x"),
            Error::Quota,
            Error::StorageFull,
            Error::BadRequest("x".into()),
            Error::Range,
            Error::RateLimited(1),
            Error::Timeout,
            Error::Internal("x".into()),
            Error::Config("x".into()),
        ];
        for e in &all {
            match e {
                Error::NotFound
                | Error::Gone(_)
                | Error::BadToken
                | Error::CodeRequired
                | Error::PassphraseRequired
                | Error::WrongCode(_)
                | Error::WrongPassphrase(_)
                | Error::Locked
                | Error::AlreadyBound
                | Error::Moved
                | Error::TransferPending
                | Error::AlreadyConfirmed
                | Error::Conflict(_)
                | Error::Replayed
                | Error::BadSignature
                | Error::StaleTimestamp
                | Error::InvalidHeader(_)
                | Error::Hpke
                | Error::Forbidden(_)
                | Error::MethodNotAllowed
                | Error::TooLarge(_)
                | Error::Quota
                | Error::StorageFull
                | Error::BadRequest(_)
                | Error::Range
                | Error::RateLimited(_)
                | Error::Timeout
                | Error::Internal(_)
                | Error::Config(_) => {}
            }
        }
        all
    }

    /// The `| code | status | meaning |` rows of PROTOCOL.md §10.5.
    fn protocol_table() -> std::collections::BTreeMap<String, u16> {
        let spec = include_str!("../../PROTOCOL.md");
        let section = spec
            .split("### 10.5 Errors")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_default();
        section
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code.to_owned(), cells.get(2)?.parse().ok()?))
            })
            .collect()
    }

    #[test]
    fn every_code_has_the_status_protocol_md_gives() {
        let table = protocol_table();
        assert!(table.len() > 15, "PROTOCOL.md §10.5 table not found");
        let mut seen = std::collections::BTreeMap::new();
        for e in every() {
            let (code, status) = (e.code(), e.status_code().as_u16());
            assert_eq!(
                table.get(code),
                Some(&status),
                "{code} answers {status}; PROTOCOL.md §10.5 must say the same"
            );
            if let Some(other) = seen.insert(code, status) {
                assert_eq!(other, status, "{code} has two statuses");
            }
        }
        let documented: Vec<&String> = table.keys().collect();
        let built: Vec<&str> = seen.keys().copied().collect();
        assert_eq!(
            documented, built,
            "PROTOCOL.md §10.5 lists a code the relay never sends"
        );
    }
}
