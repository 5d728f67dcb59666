//! One outgoing API request of a native client (PROTOCOL.md §6–§7), sans-io:
//! [`prepare`] seals the body under a fresh transmission key when asked, signs
//! the exact bytes that will be sent (so the signature covers the sealed body
//! and the transmission header), and returns the headers and body to send;
//! [`Outgoing::open_response`] opens the relay's sealed answer, which must
//! answer this request's nonce. The caller does the HTTP.

use crate::secret::Key256;
use crate::signing::{self, HEADER_TRANSMISSION, NONCE_LEN, Signer, SigningKey};
use crate::transmission::{self, RelayPublicKey};
use crate::{Error, Result, random};

/// Whether a request carries a transmission key, and whether its body is sealed
/// under it. Which answers come sealed is fixed per route (PROTOCOL.md §7): the
/// caller opens those with [`Outgoing::open_response`].
#[derive(Debug, Clone, Copy)]
pub enum Sealing<'a> {
    /// No transmission key (attachment parts, lists, revoke: no key material).
    Plain,
    /// A transmission key for a sealed answer; the body is not sealed (get record).
    Key(&'a RelayPublicKey),
    /// The body is sealed under a transmission key (create, bind, update record).
    Body(&'a RelayPublicKey),
}

/// A request ready to send.
pub struct Outgoing {
    /// Headers to add (signature headers, transmission key).
    pub headers: Vec<(&'static str, String)>,
    /// The body exactly as signed.
    pub body: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    key: Option<Key256>,
}

impl core::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing")
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Outgoing {
    /// Opens a sealed answer to this request.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] when the request had no transmission key; the
    /// envelope errors ([`Error::WrongKey`], [`Error::Decrypt`], …) otherwise.
    pub fn open_response(&self, body: &[u8]) -> Result<Vec<u8>> {
        let key = self.key.as_ref().ok_or(Error::InvalidKey("transmission"))?;
        transmission::open_response(key, &self.nonce, body)
    }
}

/// Builds a request: `body` is the plaintext (JSON or raw part bytes),
/// `signer` the key and identity that sign it, `now` the Unix time to sign with.
///
/// # Errors
/// [`Error::Random`], [`Error::Hpke`], [`Error::InvalidKey`] for a bad relay key.
pub fn prepare(
    method: &str,
    path: &str,
    body: Vec<u8>,
    signer: (&SigningKey, Signer),
    sealing: Sealing<'_>,
    now: u64,
) -> Result<Outgoing> {
    let nonce: [u8; NONCE_LEN] = random::bytes()?;
    prepare_with_nonce(method, path, body, signer, sealing, now, nonce)
}

/// [`prepare`] with a caller-chosen request nonce (tests).
///
/// # Errors
/// As [`prepare`].
pub fn prepare_with_nonce(
    method: &str,
    path: &str,
    body: Vec<u8>,
    (key, signer): (&SigningKey, Signer),
    sealing: Sealing<'_>,
    now: u64,
    nonce: [u8; NONCE_LEN],
) -> Result<Outgoing> {
    let mut headers = Vec::with_capacity(5);
    let (relay, seal_body) = match sealing {
        Sealing::Plain => (None, false),
        Sealing::Key(r) => (Some(r), false),
        Sealing::Body(r) => (Some(r), true),
    };
    let mut tk = None;
    let mut body = body;
    if let Some(relay) = relay {
        let k = crate::record::generate_key()?;
        let header = transmission::seal_transmission_key(relay, &k)?;
        if seal_body {
            body = transmission::seal_request(&k, &nonce, &body)?;
        }
        headers.push((HEADER_TRANSMISSION, header));
        tk = Some(k);
    }
    let transmission = headers.first().map(|(_, v)| v.as_str());
    let signed = signing::sign_with_nonce(
        key,
        signer,
        &signing::Request {
            method,
            path,
            body: &body,
            transmission,
        },
        now,
        nonce,
    );
    headers.extend(signed.to_pairs());
    Ok(Outgoing {
        headers,
        body,
        nonce,
        key: tk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::signing::{PublicKey, SignedHeaders};
    use crate::token::ShareId;
    use crate::transmission::RelayKeyPair;

    fn header<'a>(o: &'a Outgoing, name: &str) -> Option<&'a str> {
        o.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The relay side of the exchange, with the relay's own functions: the
    /// signature verifies over the sent bytes, the body opens, the answer opens
    /// only for this request.
    #[test]
    fn relay_accepts_and_answers() {
        let relay = RelayKeyPair::derive(&Secret::new([4; 32])).unwrap();
        let device = SigningKey::from_bytes(&Secret::new([7; 32])).unwrap();
        let signer = Signer::Device(ShareId([1; 16]));
        let out = prepare_with_nonce(
            "POST",
            "/v1/shares/x/bind",
            b"{\"a\":1}".to_vec(),
            (&device, signer),
            Sealing::Body(relay.public()),
            1_000,
            [9; 16],
        )
        .unwrap();
        let sh = SignedHeaders::parse(|n| header(&out, n)).unwrap();
        let th = header(&out, HEADER_TRANSMISSION).unwrap();
        let req = signing::Request {
            method: "POST",
            path: "/v1/shares/x/bind",
            body: &out.body,
            transmission: Some(th),
        };
        let pk: PublicKey = device.public_key();
        assert_eq!(signing::verify(&pk, &sh, &req, 1_000), Ok(()));
        let tk = relay.open_transmission_key(th).unwrap();
        assert_eq!(
            transmission::open_request(&tk, &sh.nonce, &out.body).unwrap(),
            b"{\"a\":1}"
        );
        let answer = transmission::seal_response(&tk, &sh.nonce, b"ok").unwrap();
        assert_eq!(out.open_response(&answer).unwrap(), b"ok");
        let other = transmission::seal_response(&tk, &[0; 16], b"ok").unwrap();
        assert_eq!(out.open_response(&other), Err(Error::Decrypt));
    }

    #[test]
    fn plain_requests_carry_no_key() {
        let owner = SigningKey::from_bytes(&Secret::new([7; 32])).unwrap();
        let out = prepare(
            "GET",
            "/v1/shares",
            Vec::new(),
            (&owner, Signer::Owner(owner.public_key())),
            Sealing::Plain,
            5,
        )
        .unwrap();
        assert!(header(&out, HEADER_TRANSMISSION).is_none());
        assert_eq!(
            out.open_response(b"x"),
            Err(Error::InvalidKey("transmission"))
        );
        let relay = RelayKeyPair::derive(&Secret::new([4; 32])).unwrap();
        let sealed_answer = prepare(
            "GET",
            "/v1/shares/x/record",
            Vec::new(),
            (&owner, Signer::Owner(owner.public_key())),
            Sealing::Key(relay.public()),
            5,
        )
        .unwrap();
        assert!(sealed_answer.body.is_empty());
        assert!(header(&sealed_answer, HEADER_TRANSMISSION).is_some());
    }
}
