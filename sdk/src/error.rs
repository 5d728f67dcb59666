//! The one error type of the core.
//!
//! Authentication failures are deliberately coarse: [`Error::Decrypt`] covers every
//! AEAD tag failure so that no caller (and no attacker watching one) learns which
//! byte was wrong. Structural problems that are visible without a key (truncated
//! STREAM, trailing data, a wrong key detected by the key commitment) get their
//! own variants because telling the user "the link is wrong" and "the data is
//! damaged" apart is useful and leaks nothing.

/// Result alias used throughout the core.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Every failure the protocol core can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input is not valid base64url without padding.
    #[error("invalid base64url encoding in {0}")]
    Encoding(&'static str),
    /// A link or token could not be parsed.
    #[error("invalid link: {0}")]
    InvalidLink(&'static str),
    /// A byte string has the wrong length for what it claims to be.
    #[error("wrong length for {what}: expected {expected}, got {got}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// A binary envelope or header is malformed (too short, bad layout).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A format version this implementation does not know.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// Which format.
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// The key commitment does not match: the data was sealed under another key
    /// (for a link: the link is wrong or belongs to another share).
    #[error("wrong key: this data was encrypted under a different key")]
    WrongKey,
    /// Authenticated decryption failed: the ciphertext, nonce or associated data
    /// was altered.
    #[error("decryption failed: the data was altered or corrupted")]
    Decrypt,
    /// A STREAM ended without its final segment.
    #[error("attachment is truncated: the final segment is missing")]
    Truncated,
    /// Data follows the final segment of a STREAM.
    #[error("attachment has data after its final segment")]
    TrailingData,
    /// A STREAM has more segments than the nonce counter can address.
    #[error("attachment is too large: segment counter overflow")]
    CounterOverflow,
    /// A JSON document did not match the schema.
    #[error("invalid {what}: {reason}")]
    Json {
        /// Which document.
        what: &'static str,
        /// serde's description, which never contains secret values.
        reason: String,
    },
    /// An elliptic-curve key could not be parsed.
    #[error("invalid {0} key")]
    InvalidKey(&'static str),
    /// An ECDSA signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A signed request header is missing or malformed.
    #[error("invalid signed-request header {0}")]
    InvalidHeader(&'static str),
    /// The request timestamp is outside the accepted window.
    #[error("request timestamp is outside the accepted window")]
    StaleTimestamp,
    /// HPKE sealing or opening failed.
    #[error("transmission key could not be opened")]
    Hpke,
    /// A duration string could not be parsed or is out of range.
    #[error("invalid duration: {0}")]
    Duration(String),
    /// The operating system's random number generator failed.
    #[error("random number generator unavailable")]
    Random,
    /// An open code could not be parsed (wrong character or length).
    #[error("invalid open code: {0}")]
    InvalidCode(&'static str),
    /// An open-code proof does not match the stored verifier.
    #[error("the open code is wrong")]
    WrongCode,
    /// A passphrase is empty, too long, or could not be stretched.
    #[error("passphrase: {0}")]
    Passphrase(&'static str),
    /// A passphrase proof does not match the stored verifier.
    #[error("the passphrase is wrong")]
    WrongPassphrase,
}

impl Error {
    /// A stable snake_case code for this error, the same across the relay's JSON
    /// errors, the CLI and the JavaScript `Error.code` of the npm package. Codes
    /// never change meaning; match on them rather than on messages.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Encoding(_) => "encoding",
            Self::InvalidLink(_) => "invalid_link",
            Self::Length { .. } => "length",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::WrongKey => "wrong_key",
            Self::Decrypt => "decrypt",
            Self::Truncated => "truncated",
            Self::TrailingData => "trailing_data",
            Self::CounterOverflow => "counter_overflow",
            Self::Json { .. } => "json",
            Self::InvalidKey(_) => "invalid_key",
            Self::BadSignature => "bad_signature",
            Self::InvalidHeader(_) => "invalid_header",
            Self::StaleTimestamp => "stale_timestamp",
            Self::Hpke => "hpke",
            Self::Duration(_) => "duration",
            Self::Random => "random",
            Self::InvalidCode(_) => "invalid_code",
            Self::WrongCode => "wrong_code",
            Self::Passphrase(_) => "passphrase",
            Self::WrongPassphrase => "wrong_passphrase",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case_and_distinct() {
        let all = [
            Error::Encoding("x"),
            Error::InvalidLink("x"),
            Error::Length {
                what: "x",
                expected: 1,
                got: 2,
            },
            Error::Malformed("x"),
            Error::UnsupportedVersion {
                what: "x",
                version: 9,
            },
            Error::WrongKey,
            Error::Decrypt,
            Error::Truncated,
            Error::TrailingData,
            Error::CounterOverflow,
            Error::Json {
                what: "x",
                reason: "y".into(),
            },
            Error::InvalidKey("x"),
            Error::BadSignature,
            Error::InvalidHeader("x"),
            Error::StaleTimestamp,
            Error::Hpke,
            Error::Duration("x".into()),
            Error::Random,
            Error::InvalidCode("x"),
            Error::WrongCode,
            Error::Passphrase("x"),
            Error::WrongPassphrase,
        ];
        let codes: Vec<&str> = all.iter().map(Error::code).collect();
        assert_eq!(
            codes,
            [
                "encoding",
                "invalid_link",
                "length",
                "malformed",
                "unsupported_version",
                "wrong_key",
                "decrypt",
                "truncated",
                "trailing_data",
                "counter_overflow",
                "json",
                "invalid_key",
                "bad_signature",
                "invalid_header",
                "stale_timestamp",
                "hpke",
                "duration",
                "random",
                "invalid_code",
                "wrong_code",
                "passphrase",
                "wrong_passphrase",
            ]
        );
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }
}
