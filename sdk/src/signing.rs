//! ECDSA P-256 keys and signed requests (Keeper step 8).
//!
//! Every request after bind carries four headers:
//!
//! | header               | value                                                   |
//! |----------------------|---------------------------------------------------------|
//! | `oneshare-signer`    | `device:<share id>`, `owner:<pubkey>` or `admin:<pubkey>` |
//! | `oneshare-timestamp` | Unix seconds, canonical decimal (no leading zero)       |
//! | `oneshare-nonce`     | 16 random bytes, base64url                              |
//! | `oneshare-signature` | 64-byte IEEE P1363 `r || s`, base64url                  |
//!
//! The signature is ECDSA P-256 with SHA-256 over the canonical string
//!
//! ```text
//! oneshare/v1/request \n METHOD \n path?query \n signer \n timestamp \n nonce \n
//! base64url(SHA-256(body)) \n transmission-key header or "-"
//! ```
//!
//! (lines joined by a single `\n`, no trailing newline). Public keys are 65-byte
//! uncompressed SEC1 points, base64url.

#[cfg(not(target_arch = "wasm32"))]
use p256::ecdsa::signature::Signer as _;
#[cfg(not(target_arch = "wasm32"))]
use p256::ecdsa::{Signature, SigningKey as P256SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Active, Backend};
use crate::encoding::{b64, unb64_array};
#[cfg(not(target_arch = "wasm32"))]
use crate::random;
#[cfg(not(target_arch = "wasm32"))]
use crate::secret::Secret;
use crate::token::ShareId;
use crate::{Error, Result};

/// First line of the canonical string.
pub const LABEL: &str = "oneshare/v1/request";
/// Largest accepted difference between a request timestamp and the relay clock.
pub const MAX_SKEW_SECS: u64 = 300;
/// Header naming the signer.
pub const HEADER_SIGNER: &str = "oneshare-signer";
/// Header with the Unix timestamp.
pub const HEADER_TIMESTAMP: &str = "oneshare-timestamp";
/// Header with the request nonce.
pub const HEADER_NONCE: &str = "oneshare-nonce";
/// Header with the signature.
pub const HEADER_SIGNATURE: &str = "oneshare-signature";
/// Header with the HPKE-sealed transmission key (see [`crate::transmission`]).
pub const HEADER_TRANSMISSION: &str = "oneshare-transmission-key";
/// Length of an uncompressed SEC1 P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a P1363 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a request nonce.
pub const NONCE_LEN: usize = 16;

/// A P-256 public key (device, owner, admin, ECDH): its 65-byte uncompressed
/// SEC1 encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Parses a 65-byte uncompressed SEC1 point.
    ///
    /// Natively the point is also checked to be on the curve (`p256`). The wasm
    /// builds link no curve arithmetic: there the check is WebCrypto's
    /// `importKey`, where a key is used (the relay's key when it is pinned, an
    /// ECDH key when sealing to it), and the relay checks every key it accepts.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for any other length, encoding, or (natively) a
    /// point not on the curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes = match <[u8; PUBLIC_KEY_LEN]>::try_from(bytes) {
            Ok(b) if b[0] == 0x04 => b,
            _ => return Err(Error::InvalidKey("public")),
        };
        #[cfg(not(target_arch = "wasm32"))]
        VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| Error::InvalidKey("public"))?;
        Ok(Self(bytes))
    }

    /// Parses base64url text.
    ///
    /// # Errors
    /// [`Error::InvalidKey`].
    pub fn parse(text: &str) -> Result<Self> {
        let bytes = unb64_array::<PUBLIC_KEY_LEN>(text, "public key")
            .map_err(|_| Error::InvalidKey("public"))?;
        Self::from_bytes(&bytes)
    }

    /// The 65-byte uncompressed SEC1 encoding.
    pub const fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0
    }

    /// Verifies a P1363 signature over `message` (SHA-256 inside) with the
    /// [`Active`] backend.
    ///
    /// # Errors
    /// [`Error::BadSignature`] for a malformed or invalid signature.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        self.verify_with::<Active>(message, signature)
    }

    /// [`PublicKey::verify`] with backend `B` (for tests and benchmarks that
    /// compare backends).
    ///
    /// # Errors
    /// [`Error::BadSignature`] for a malformed or invalid signature.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn verify_with<B: Backend>(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        B::verify(self, message, signature)
    }
}

impl core::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&b64(self.to_bytes()))
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A P-256 private key for native clients (the CLI, tests). Browsers keep theirs
/// as non-extractable WebCrypto keys instead.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone)]
pub struct SigningKey(P256SigningKey);

#[cfg(not(target_arch = "wasm32"))]
impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "SigningKey(public {}, private redacted)",
            self.public_key()
        )
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl SigningKey {
    /// Generates a key from OS randomness.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        // A random 32-byte string is a valid scalar except with probability ~2^-32.
        loop {
            let seed = Secret::new(random::bytes::<32>()?);
            if let Ok(key) = Self::from_bytes(&seed) {
                return Ok(key);
            }
        }
    }

    /// Imports a 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for zero or a value not below the group order.
    pub fn from_bytes(bytes: &Secret<32>) -> Result<Self> {
        P256SigningKey::from_slice(bytes.expose())
            .map(Self)
            .map_err(|_| Error::InvalidKey("private"))
    }

    /// Exports the scalar. Secret.
    pub fn to_bytes(&self) -> Secret<32> {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0.to_bytes());
        Secret::new(out)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(self.0.verifying_key().to_sec1_point(false).as_bytes());
        PublicKey(out)
    }

    /// Signs `message` (deterministic ECDSA, RFC 6979) and returns P1363 `r || s`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let sig: Signature = self.0.sign(message);
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(&sig.to_bytes());
        out
    }
}

/// Who signs a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// The device bound to a share; its key is the one stored at bind.
    Device(ShareId),
    /// A share owner, identified by its public key.
    Owner(PublicKey),
    /// A relay administrator, identified by its public key.
    Admin(PublicKey),
}

impl Signer {
    /// Parses the `oneshare-signer` header value.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`].
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidHeader(HEADER_SIGNER);
        let (kind, value) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "device" => ShareId::parse(value).map(Self::Device).map_err(|_| bad()),
            "owner" => PublicKey::parse(value).map(Self::Owner).map_err(|_| bad()),
            "admin" => PublicKey::parse(value).map(Self::Admin).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl core::fmt::Display for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Device(id) => write!(f, "device:{id}"),
            Self::Owner(pk) => write!(f, "owner:{pk}"),
            Self::Admin(pk) => write!(f, "admin:{pk}"),
        }
    }
}

/// Everything a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Path and query exactly as sent (`/v1/shares/…?x=1`).
    pub path: &'a str,
    /// The request body (empty for GET).
    pub body: &'a [u8],
    /// The `oneshare-transmission-key` header, if any.
    pub transmission: Option<&'a str>,
}

/// The four signature headers, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Who signed.
    pub signer: Signer,
    /// Unix seconds.
    pub timestamp: u64,
    /// Request nonce (replay protection; also binds encrypted responses).
    pub nonce: [u8; NONCE_LEN],
    /// P1363 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl SignedHeaders {
    /// Parses the headers through a lookup function (case-insensitive names are
    /// the caller's concern).
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] naming the first missing or malformed header.
    pub fn parse<'h>(get: impl Fn(&str) -> Option<&'h str>) -> Result<Self> {
        let need = |name: &'static str| get(name).ok_or(Error::InvalidHeader(name));
        let signer = Signer::parse(need(HEADER_SIGNER)?)?;
        let ts = need(HEADER_TIMESTAMP)?;
        // Canonical decimal only (no sign, no leading zero), so the signed text
        // and the header value are one string.
        let canonical = ts.len() <= 12
            && ts.bytes().all(|b| b.is_ascii_digit())
            && (ts == "0" || !ts.is_empty() && !ts.starts_with('0'));
        if !canonical {
            return Err(Error::InvalidHeader(HEADER_TIMESTAMP));
        }
        let timestamp = ts
            .parse()
            .map_err(|_| Error::InvalidHeader(HEADER_TIMESTAMP))?;
        let nonce = unb64_array(need(HEADER_NONCE)?, "nonce")
            .map_err(|_| Error::InvalidHeader(HEADER_NONCE))?;
        let signature = unb64_array(need(HEADER_SIGNATURE)?, "signature")
            .map_err(|_| Error::InvalidHeader(HEADER_SIGNATURE))?;
        Ok(Self {
            signer,
            timestamp,
            nonce,
            signature,
        })
    }

    /// The header name/value pairs to send.
    pub fn to_pairs(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_SIGNER, self.signer.to_string()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, b64(self.nonce)),
            (HEADER_SIGNATURE, b64(self.signature)),
        ]
    }
}

/// The canonical string a request signature covers.
pub fn canonical(
    req: &Request<'_>,
    signer: &Signer,
    timestamp: u64,
    nonce: &[u8; NONCE_LEN],
) -> String {
    [
        LABEL.to_owned(),
        req.method.to_owned(),
        req.path.to_owned(),
        signer.to_string(),
        timestamp.to_string(),
        b64(nonce),
        b64(Sha256::digest(req.body)),
        req.transmission.unwrap_or("-").to_owned(),
    ]
    .join("\n")
}

/// Signs a request with a caller-chosen nonce (for vectors).
#[cfg(not(target_arch = "wasm32"))]
pub fn sign_with_nonce(
    key: &SigningKey,
    signer: Signer,
    req: &Request<'_>,
    timestamp: u64,
    nonce: [u8; NONCE_LEN],
) -> SignedHeaders {
    let signature = key.sign(canonical(req, &signer, timestamp, &nonce).as_bytes());
    SignedHeaders {
        signer,
        timestamp,
        nonce,
        signature,
    }
}

/// Signs a request.
///
/// # Errors
/// [`Error::Random`].
#[cfg(not(target_arch = "wasm32"))]
pub fn sign(
    key: &SigningKey,
    signer: Signer,
    req: &Request<'_>,
    timestamp: u64,
) -> Result<SignedHeaders> {
    Ok(sign_with_nonce(
        key,
        signer,
        req,
        timestamp,
        random::bytes()?,
    ))
}

/// Checks a request's signature and timestamp window. Replay (nonce reuse) is
/// checked by the relay's store, which sees every instance's nonces.
///
/// # Errors
/// [`Error::StaleTimestamp`] or [`Error::BadSignature`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify(key: &PublicKey, headers: &SignedHeaders, req: &Request<'_>, now: u64) -> Result<()> {
    verify_with::<Active>(key, headers, req, now)
}

/// [`verify`] with backend `B` (for tests that compare backends).
///
/// # Errors
/// [`Error::StaleTimestamp`] or [`Error::BadSignature`].
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_with<B: Backend>(
    key: &PublicKey,
    headers: &SignedHeaders,
    req: &Request<'_>,
    now: u64,
) -> Result<()> {
    if headers.timestamp.abs_diff(now) > MAX_SKEW_SECS {
        return Err(Error::StaleTimestamp);
    }
    let message = canonical(req, &headers.signer, headers.timestamp, &headers.nonce);
    key.verify_with::<B>(message.as_bytes(), &headers.signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&Secret::new([7; 32])).unwrap()
    }

    fn req(body: &[u8]) -> Request<'_> {
        Request {
            method: "POST",
            path: "/v1/shares/x/confirm",
            body,
            transmission: None,
        }
    }

    #[test]
    fn sign_verify_and_every_tamper_fails() {
        let k = key();
        let signer = Signer::Device(ShareId([1; 16]));
        let h = sign_with_nonce(&k, signer.clone(), &req(b"{}"), 1000, [2; 16]);
        let pk = k.public_key();
        assert_eq!(verify(&pk, &h, &req(b"{}"), 1000), Ok(()));
        assert_eq!(
            verify(&pk, &h, &req(b"{ }"), 1000),
            Err(Error::BadSignature)
        );
        let other_path = Request {
            path: "/v1/shares/y/confirm",
            ..req(b"{}")
        };
        assert_eq!(verify(&pk, &h, &other_path, 1000), Err(Error::BadSignature));
        let with_tk = Request {
            transmission: Some("k.x"),
            ..req(b"{}")
        };
        assert_eq!(verify(&pk, &h, &with_tk, 1000), Err(Error::BadSignature));
        assert_eq!(
            verify(&pk, &h, &req(b"{}"), 1000 + MAX_SKEW_SECS + 1),
            Err(Error::StaleTimestamp)
        );
        let mut bad = h.clone();
        bad.nonce[0] ^= 1;
        assert_eq!(
            verify(&pk, &bad, &req(b"{}"), 1000),
            Err(Error::BadSignature)
        );
        let other = SigningKey::from_bytes(&Secret::new([8; 32]))
            .unwrap()
            .public_key();
        assert_eq!(
            verify(&other, &h, &req(b"{}"), 1000),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn headers_round_trip() {
        let h = sign_with_nonce(
            &key(),
            Signer::Owner(key().public_key()),
            &req(b""),
            5,
            [3; 16],
        );
        let pairs = h.to_pairs();
        let parsed =
            SignedHeaders::parse(|n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()));
        assert_eq!(parsed, Ok(h));
        assert_eq!(
            SignedHeaders::parse(|_| None),
            Err(Error::InvalidHeader(HEADER_SIGNER))
        );
        assert_eq!(
            Signer::parse("robot:x"),
            Err(Error::InvalidHeader(HEADER_SIGNER))
        );
    }

    #[test]
    fn public_key_parsing_is_strict() {
        let pk = key().public_key().to_bytes();
        assert!(PublicKey::from_bytes(&pk).is_ok());
        assert!(PublicKey::from_bytes(&pk[..33]).is_err());
        let mut off_curve = pk;
        off_curve[64] ^= 1;
        assert_eq!(
            PublicKey::from_bytes(&off_curve),
            Err(Error::InvalidKey("public"))
        );
    }
}
