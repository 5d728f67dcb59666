//! The CLI's one error type: every failure says what happened and what to do,
//! and maps to one documented exit code ([`Error::exit_code`]).

/// Exit codes (documented in `oneshare --help` and the README).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other failure (local files, an unexpected relay answer).
    pub const FAILURE: u8 = 1;
    /// Bad flags, a bad link or bad input (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// No such share on the relay, or not opened on this device.
    pub const NOT_FOUND: u8 = 3;
    /// The share has ended: expired, revoked or self-destructed.
    pub const ENDED: u8 = 4;
    /// Refused: opened on another device, an open code or passphrase needed,
    /// wrong or locked, not allowed by the relay's policy.
    pub const REFUSED: u8 = 5;
    /// The relay cannot be reached.
    pub const NETWORK: u8 = 6;
    /// The relay's key changed without an announced rotation.
    pub const RELAY_KEY: u8 = 7;
    /// Data failed authentication (altered, or not for this link).
    pub const INTEGRITY: u8 = 8;
    /// A transfer request waits for the sender; the same command continues it.
    pub const PENDING: u8 = 9;
    /// Interrupted (Ctrl-C); what was done can be resumed.
    pub const INTERRUPTED: u8 = 130;
}

/// Every failure of the CLI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or input; the message says which.
    #[error("{0}")]
    Usage(String),
    /// A link that is not a oneshare link.
    #[error("this is not a oneshare link ({0}); copy the whole link, including the part after '#'")]
    BadLink(&'static str),
    /// A local file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Which file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// No identity yet.
    #[error("no owner identity in {0}; run `oneshare init --relay URL` first")]
    NoIdentity(String),
    /// No relay configured.
    #[error("no relay configured; run `oneshare init --relay URL` or set ONESHARE_RELAY")]
    NoRelay,
    /// The relay is unreachable.
    #[error(
        "the relay at {url} cannot be reached ({reason}); check the URL and your network, then try again"
    )]
    Network {
        /// Relay URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The relay's key changed in a way it did not announce.
    #[error(
        "the relay at {url} now presents key {new}, but key {pinned} was pinned and the relay does not list it as rotated.\n\
         Someone may be impersonating the relay. Ask its operator whether the key was replaced; if so, run\n\
         `oneshare init --relay {url} --trust-new-key` to trust the new key"
    )]
    RelayKeyChanged {
        /// Relay URL.
        url: String,
        /// The pinned key id.
        pinned: String,
        /// The key id now served.
        new: String,
    },
    /// The relay answered with an error.
    #[error("{message} ({code})")]
    Relay {
        /// HTTP status.
        status: u16,
        /// Stable code from the relay.
        code: String,
        /// The relay's message (what happened and what to do).
        message: String,
    },
    /// The share is not on this device.
    #[error("{0}")]
    NotFound(String),
    /// Interrupted by the user.
    #[error("{0}")]
    Interrupted(String),
    /// A transfer request still waits for the sender.
    #[error("{0}")]
    Pending(String),
    /// The sender denied a transfer, or it expired.
    #[error("{0}")]
    Refused(String),
    /// The comparison codes of a transfer differ: its keys may have been swapped.
    #[error(
        "the codes differ: the recipient's device shows {given}, the request you got gives {computed}. \
         Someone (possibly the relay) may have replaced the device's keys; deny it with `oneshare deny {share}`"
    )]
    CodeMismatch {
        /// The share.
        share: String,
        /// What the recipient read out.
        given: String,
        /// What this request's keys give.
        computed: String,
    },
    /// A protocol or crypto failure from the core.
    #[error("{0}")]
    Core(#[from] oneshare_sdk::Error),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::BadLink(_) | Self::NoIdentity(_) | Self::NoRelay => exit::USAGE,
            Self::Io { .. } => exit::FAILURE,
            Self::Network { .. } => exit::NETWORK,
            Self::RelayKeyChanged { .. } => exit::RELAY_KEY,
            Self::NotFound(_) => exit::NOT_FOUND,
            Self::Interrupted(_) => exit::INTERRUPTED,
            Self::Pending(_) => exit::PENDING,
            Self::Refused(_) => exit::REFUSED,
            Self::CodeMismatch { .. } => exit::INTEGRITY,
            Self::Relay { status, code, .. } => match (status, code.as_str()) {
                (_, "expired" | "revoked" | "self_destructed") | (410, _) => exit::ENDED,
                (404, _) | (_, "not_found") => exit::NOT_FOUND,
                (_, "already_bound" | "bad_token" | "locked") | (403 | 409 | 423, _) => {
                    exit::REFUSED
                }
                _ => exit::FAILURE,
            },
            Self::Core(e) => match e {
                oneshare_sdk::Error::InvalidLink(_)
                | oneshare_sdk::Error::Duration(_)
                | oneshare_sdk::Error::InvalidCode(_)
                | oneshare_sdk::Error::Passphrase(_) => exit::USAGE,
                oneshare_sdk::Error::WrongKey
                | oneshare_sdk::Error::Decrypt
                | oneshare_sdk::Error::Truncated
                | oneshare_sdk::Error::TrailingData
                | oneshare_sdk::Error::BadSignature => exit::INTEGRITY,
                _ => exit::FAILURE,
            },
        }
    }

    /// Whether a network failure: an upload may resume after it.
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Network { .. })
    }

    /// A local I/O error on `path`.
    pub fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            what,
            path: path.display().to_string(),
            source,
        }
    }
}
