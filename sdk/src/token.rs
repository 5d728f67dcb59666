//! The one-time token, its link syntax, and everything derived from it.
//!
//! `T` (32 random bytes) travels only in the URL fragment. HKDF-SHA256 with no
//! salt (T is already uniform) and one versioned `info` label per output derives:
//!
//! | output        | info                         | bytes |
//! |---------------|------------------------------|-------|
//! | `share_id`    | `oneshare/v1/share-id`       | 16    |
//! | `wrap_key`    | `oneshare/v1/wrap-key`       | 32    |
//! | `bind_secret` | `oneshare/v1/bind-secret`    | 32    |
//!
//! The relay stores `verifier = SHA-256(bind_secret)`, never `bind_secret`. At
//! bind it also keeps [`alarm_verifier`], a separately labelled hash that outlives
//! confirm, so that only a holder of the token can raise a "link leaked" alarm.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use crate::encoding::{b64, unb64_array};
use crate::secret::{Key256, Secret};
use crate::{Error, Result, random};

/// Length of the token in bytes.
pub const TOKEN_LEN: usize = 32;
/// Length of the public share id in bytes.
pub const SHARE_ID_LEN: usize = 16;
/// Length of a token in base64url characters.
pub const TOKEN_TEXT_LEN: usize = 43;

/// HKDF info label for the share id.
pub const INFO_SHARE_ID: &[u8] = b"oneshare/v1/share-id";
/// HKDF info label for the wrap key.
pub const INFO_WRAP_KEY: &[u8] = b"oneshare/v1/wrap-key";
/// HKDF info label for the bind secret.
pub const INFO_BIND_SECRET: &[u8] = b"oneshare/v1/bind-secret";

/// The public identifier of a share: 16 bytes, shown as 22 base64url characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShareId(pub [u8; SHARE_ID_LEN]);

impl ShareId {
    /// Parses the base64url form.
    ///
    /// # Errors
    /// [`Error::Encoding`] or [`Error::Length`].
    pub fn parse(text: &str) -> Result<Self> {
        unb64_array(text, "share id").map(Self)
    }
}

impl core::fmt::Display for ShareId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&b64(self.0))
    }
}

impl core::fmt::Debug for ShareId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ShareId({self})")
    }
}

impl serde::Serialize for ShareId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for ShareId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The one-time access token. Secret: it opens the share until bound.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Token(Secret<TOKEN_LEN>);

/// What a token derives. All but `share_id` are secret.
#[derive(Debug)]
pub struct ShareKeys {
    /// Public id of the share.
    pub share_id: ShareId,
    /// Key that wraps the record key.
    pub wrap_key: Key256,
    /// Proof of holding the token, sent once at bind.
    pub bind_secret: Secret<32>,
}

impl Token {
    /// Generates a fresh random token.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        random::bytes().map(Self::from_bytes)
    }

    /// Wraps 32 token bytes.
    pub const fn from_bytes(bytes: [u8; TOKEN_LEN]) -> Self {
        Self(Secret::new(bytes))
    }

    /// The token's base64url text (43 characters). Secret.
    pub fn to_text(&self) -> String {
        b64(self.0.expose())
    }

    /// The share link: `{base}/s#{token}`. `base` is the relay's public URL
    /// without a trailing slash (one is removed if present).
    pub fn to_link(&self, base: &str) -> String {
        format!("{}/s#{}", base.trim_end_matches('/'), self.to_text())
    }

    /// Parses a link or a bare token.
    ///
    /// Accepts `…/s#T`, a fragment a mail scanner re-encoded as `…/s%23T` or
    /// double-encoded as `…/s%2523T`, surrounding whitespace or angle brackets,
    /// and a bare 43-character token.
    ///
    /// # Errors
    /// [`Error::InvalidLink`] describing what is wrong; never echoes the input.
    pub fn parse(input: &str) -> Result<Self> {
        let text = input.trim().trim_start_matches('<').trim_end_matches('>');
        let candidate = locate_token(text).ok_or(Error::InvalidLink(
            "no token found: copy the whole link, including the part after '#'",
        ))?;
        if candidate.len() != TOKEN_TEXT_LEN {
            return Err(Error::InvalidLink(
                "the token after '#' is incomplete: copy the whole link",
            ));
        }
        let bytes = unb64_array::<TOKEN_LEN>(candidate, "token")
            .map_err(|_| Error::InvalidLink("the token contains characters that do not belong"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Derives the share id, wrap key and bind secret.
    pub fn derive(&self) -> ShareKeys {
        let hk = self.extract(None);
        ShareKeys {
            share_id: ShareId(expand(&hk, INFO_SHARE_ID)),
            wrap_key: Secret::new(expand(&hk, INFO_WRAP_KEY)),
            bind_secret: Secret::new(expand(&hk, INFO_BIND_SECRET)),
        }
    }
}

impl Token {
    /// `HKDF-Extract(salt, IKM = T)`: `None` for the v1 derivations above; the
    /// v2 second factors use the factor as the salt (PROTOCOL.md §12), so what
    /// they derive needs both the token and the factor.
    pub(crate) fn extract(&self, salt: Option<&[u8]>) -> Hkdf<Sha256> {
        Hkdf::<Sha256>::new(salt, self.0.expose())
    }
}

/// `HKDF-Expand(hk, info, N)` for the fixed small lengths of the protocol.
pub(crate) fn expand<const N: usize>(hk: &Hkdf<Sha256>, info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    // HKDF-SHA256 can expand up to 8160 bytes; N is at most 32 here.
    if hk.expand(info, &mut out).is_err() {
        unreachable!("HKDF output length {N} is within bounds");
    }
    out
}

/// The relay-side verifier of a bind secret: `SHA-256(bind_secret)`.
pub fn verifier(bind_secret: &Secret<32>) -> [u8; 32] {
    Sha256::digest(bind_secret.expose()).into()
}

/// Label of the alarm verifier (PROTOCOL.md §9.3).
pub const ALARM_VERIFIER_LABEL: &[u8] = b"oneshare/v1/alarm-verifier";

/// The relay-side proof that a late bind holds the token:
/// `SHA-256("oneshare/v1/alarm-verifier" || bind_secret)`. Computed by the relay
/// at bind (when it has just checked `bind_secret`) and kept after confirm, when
/// `verifier` is gone; distinct from `verifier` so neither reveals the other.
pub fn alarm_verifier(bind_secret: &Secret<32>) -> [u8; 32] {
    labelled_sha256(ALARM_VERIFIER_LABEL, bind_secret.expose())
}

/// `SHA-256(label || data)`: a relay-side hash that cannot be confused with
/// another one of the same input.
pub(crate) fn labelled_sha256(label: &[u8], data: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(label)
        .chain_update(data)
        .finalize()
        .into()
}

/// Finds the token text inside a link: after `#`, `%23` or `%2523`, or the whole
/// input when it looks like a bare token.
/// The relay base URL of a link: what precedes `/s#`, `/s%23` or `/s%2523`
/// (the path the viewer is served at), for clients that are given only a link.
/// `None` for a bare token or anything without an `http(s)://` base.
pub fn link_base(link: &str) -> Option<&str> {
    let text = link.trim().trim_start_matches('<');
    let cut = text
        .find("/s#")
        .or_else(|| find_ascii_ci(text, "/s%2523"))
        .or_else(|| find_ascii_ci(text, "/s%23"))?;
    let base = &text[..cut];
    let scheme_ok = base.starts_with("https://") || base.starts_with("http://");
    let host = base.split_once("://").map_or("", |(_, h)| h);
    (scheme_ok && !host.is_empty()).then_some(base)
}

fn locate_token(text: &str) -> Option<&str> {
    let after = if let Some(i) = text.find('#') {
        &text[i + 1..]
    } else if let Some(i) = find_ascii_ci(text, "%2523") {
        &text[i + 5..]
    } else if let Some(i) = find_ascii_ci(text, "%23") {
        &text[i + 3..]
    } else if !text.contains('/') {
        text
    } else {
        return None;
    };
    // A token is followed by nothing, or by junk a mailer appended (quote, dot).
    let end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(after.len());
    let token = &after[..end];
    (!token.is_empty()).then_some(token)
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_base_finds_the_relay() {
        let t = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        assert_eq!(
            link_base(&format!("https://share.example/s#{t}")),
            Some("https://share.example")
        );
        assert_eq!(
            link_base(&format!(" <http://127.0.0.1:8080/s%2523{t}> ")),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            link_base(&format!("https://h.example/sub/s%23{t}")),
            Some("https://h.example/sub")
        );
        assert_eq!(link_base(t), None);
        assert_eq!(link_base(&format!("ftp://x/s#{t}")), None);
        assert_eq!(link_base(&format!("https:///s#{t}")), None);
    }

    use super::*;

    fn sample() -> Token {
        Token::from_bytes(core::array::from_fn(|i| i as u8))
    }

    #[test]
    fn link_round_trip_and_scanner_mangling() {
        let t = sample();
        let link = t.to_link("https://share.example/");
        assert_eq!(link, format!("https://share.example/s#{}", t.to_text()));
        for variant in [
            link.clone(),
            link.replace('#', "%23"),
            link.replace('#', "%2523"),
            link.replace('#', "%2523")
                .to_uppercase()
                .replace(&t.to_text().to_uppercase(), &t.to_text()),
            format!("  <{link}>  "),
            format!("{link}."),
            t.to_text(),
        ] {
            assert_eq!(Token::parse(&variant), Ok(t.clone()), "{variant}");
        }
    }

    #[test]
    fn bad_links_are_refused_with_a_reason() {
        let t = sample().to_text();
        assert!(matches!(
            Token::parse("https://x/s"),
            Err(Error::InvalidLink(_))
        ));
        assert!(matches!(
            Token::parse(&format!("https://x/s#{}", &t[..40])),
            Err(Error::InvalidLink(_))
        ));
        assert!(matches!(Token::parse(""), Err(Error::InvalidLink(_))));
        // Non-canonical last character (trailing bits set).
        let mut bad = t.clone();
        bad.replace_range(42.., "B");
        assert!(matches!(Token::parse(&bad), Err(Error::InvalidLink(_))));
    }

    #[test]
    fn errors_never_echo_the_token() {
        let t = sample().to_text();
        let err = Token::parse(&format!("https://x/s#{}", &t[..30]))
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| !e.contains(&t[..30])));
    }

    #[test]
    fn derivations_are_distinct() {
        let keys = sample().derive();
        assert_ne!(keys.wrap_key.expose(), keys.bind_secret.expose());
        assert_ne!(&keys.share_id.0[..], &keys.wrap_key.expose()[..16]);
        assert_ne!(verifier(&keys.bind_secret), *keys.bind_secret.expose());
    }
}
