//! base64url without padding, the one text encoding of every binary value on the
//! wire, plus serde adapters so API types carry bytes, not strings.
//!
//! The codec is RustCrypto's `base64ct`: constant-time (no table lookups or
//! branches on the data), because tokens, keys and proofs pass through it, and
//! strict (no padding, no whitespace, canonical trailing bits). It is also
//! small: one codec for every encode and decode in the browser modules.

use base64ct::{Base64UrlUnpadded, Encoding as _};

use crate::{Error, Result};

/// Encodes bytes as base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    Base64UrlUnpadded::encode_string(bytes.as_ref())
}

/// Decodes strict base64url without padding (no whitespace, no `=`, canonical
/// trailing bits).
///
/// # Errors
/// [`Error::Encoding`] naming `what` when the text is not canonical base64url.
pub fn unb64(text: &str, what: &'static str) -> Result<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| Error::Encoding(what))
}

/// Decodes base64url into exactly `N` bytes.
///
/// # Errors
/// [`Error::Encoding`] or [`Error::Length`].
pub fn unb64_array<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N]> {
    let bytes = unb64(text, what)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| Error::Length {
        what,
        expected: N,
        got: bytes.len(),
    })
}

/// Serde adapter: `Vec<u8>` as base64url text.
pub mod serde_b64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Serializes bytes as base64url.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64(bytes))
    }

    /// Deserializes base64url text into bytes.
    ///
    /// # Errors
    /// When the text is not base64url.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::unb64(&text, "field").map_err(D::Error::custom)
    }
}

/// Serde adapter: `[u8; N]` as base64url text of exactly `N` bytes.
pub mod serde_b64_array {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    /// Serializes a fixed-size byte array as base64url.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64(bytes))
    }

    /// Deserializes base64url text of exactly `N` bytes.
    ///
    /// # Errors
    /// When the text is not base64url or has the wrong length.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::unb64_array::<N>(&text, "field").map_err(D::Error::custom)
    }
}

/// Serde adapter: `Option<[u8; N]>` as base64url text of exactly `N` bytes (use
/// with `#[serde(default, skip_serializing_if = "Option::is_none")]`).
pub mod serde_b64_array_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes a present value as base64url.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::serde_b64_array::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    /// Deserializes base64url text of exactly `N` bytes (`null` is `None`).
    ///
    /// # Errors
    /// When the text is not base64url or has the wrong length.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped<const M: usize>(#[serde(with = "super::serde_b64_array")] [u8; M]);
        Ok(Option::<Wrapped<N>>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_padding_and_standard_alphabet() {
        assert_eq!(unb64("AQ", "x"), Ok(vec![1]));
        assert!(unb64("AQ==", "x").is_err());
        assert!(unb64("+/", "x").is_err());
        assert!(unb64("A R", "x").is_err());
        // Non-canonical trailing bits are refused, so each value has one encoding.
        assert!(unb64("AR", "x").is_err());
    }

    #[test]
    fn array_length_is_checked() {
        assert_eq!(
            unb64_array::<2>("AQ", "id"),
            Err(Error::Length {
                what: "id",
                expected: 2,
                got: 1
            })
        );
    }
}
