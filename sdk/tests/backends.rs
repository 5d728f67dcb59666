//! The two crypto backends (`oneshare_sdk::backend`) against each other, and
//! the core's RFC 9180 composition (`oneshare_sdk::hpke`) against the `hpke`
//! crate, an independent implementation:
//!
//! * property tests feed the same random inputs to both backends (valid,
//!   bit-flipped, wrong key, malformed, re-encoded) and require the same accept
//!   or reject and the same output: ECDSA verify, the bare HPKE open of what the
//!   `hpke` crate sealed, and the relay's `open_transmission_key` on whole
//!   headers;
//! * what the core seals, the `hpke` crate opens, on random keys and inputs.
//!
//! The CFRG vector of the suite (`vectors/hpke_rfc9180.json`), Wycheproof
//! (`tests/wycheproof.rs`) and every vector file (`tests/vectors.rs`) run on
//! both backends too.

// Test helpers: a broken fixture should panic.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use hpke::kem::DhP256HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use oneshare_sdk::Error;
use oneshare_sdk::backend::{AwsLc, Backend, RustCrypto};
use oneshare_sdk::hpke::{self as oneshare_hpke, dhkem};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{PublicKey, SigningKey};
use oneshare_sdk::transmission::{RelayKeyPair, seal_transmission_key};
use proptest::prelude::*;

type Kem = DhP256HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::AesGcm256;

/// The order of the P-256 group, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// A private scalar from 32 random bytes (out-of-range values, with
/// probability ~2^-32, are nudged into range).
fn signing_key(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&Secret::new(seed))
        .or_else(|_| SigningKey::from_bytes(&Secret::new([1; 32])))
        .expect("fallback key")
}

/// `ORDER - s` for `0 < s < ORDER`: the other valid `s` of an ECDSA signature.
fn negate_scalar(s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = d.rem_euclid(256) as u8;
    }
    out
}

/// How a signature case departs from a valid signature.
#[derive(Debug, Clone)]
enum SigCase {
    Valid,
    /// `(r, n - s)`: also valid (P-256 ECDSA has no low-S rule).
    HighS,
    FlipSignature(usize),
    FlipMessage(usize),
    WrongKey([u8; 32]),
    Resized(usize),
    ZeroR,
    ZeroS,
    ROrder,
    SOrder,
    Junk(Vec<u8>),
}

fn sig_case() -> impl Strategy<Value = SigCase> {
    prop_oneof![
        3 => Just(SigCase::Valid),
        1 => Just(SigCase::HighS),
        3 => (0usize..512).prop_map(SigCase::FlipSignature),
        2 => any::<usize>().prop_map(SigCase::FlipMessage),
        1 => any::<[u8; 32]>().prop_map(SigCase::WrongKey),
        1 => (0usize..100).prop_map(SigCase::Resized),
        1 => Just(SigCase::ZeroR),
        1 => Just(SigCase::ZeroS),
        1 => Just(SigCase::ROrder),
        1 => Just(SigCase::SOrder),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(SigCase::Junk),
    ]
}

/// Applies `case` and says whether the result must verify.
fn apply_sig_case(
    case: &SigCase,
    key: &mut PublicKey,
    message: &mut Vec<u8>,
    sig: &mut Vec<u8>,
) -> Option<bool> {
    match case {
        SigCase::Valid => Some(true),
        SigCase::HighS => {
            let high = negate_scalar(&sig[32..]);
            sig[32..].copy_from_slice(&high);
            Some(true)
        }
        SigCase::FlipSignature(bit) => {
            sig[bit / 8] ^= 1 << (bit % 8);
            Some(false)
        }
        SigCase::FlipMessage(bit) if !message.is_empty() => {
            let bit = bit % (message.len() * 8);
            message[bit / 8] ^= 1 << (bit % 8);
            Some(false)
        }
        SigCase::FlipMessage(_) => {
            message.push(0);
            Some(false)
        }
        SigCase::WrongKey(seed) => {
            let other = signing_key(*seed).public_key();
            let same = other == *key;
            *key = other;
            Some(same)
        }
        SigCase::Resized(len) => {
            sig.resize(*len, 0);
            Some(*len == 64)
        }
        SigCase::ZeroR => {
            sig[..32].fill(0);
            Some(false)
        }
        SigCase::ZeroS => {
            sig[32..].fill(0);
            Some(false)
        }
        SigCase::ROrder => {
            sig[..32].copy_from_slice(&ORDER);
            Some(false)
        }
        SigCase::SOrder => {
            sig[32..].copy_from_slice(&ORDER);
            Some(false)
        }
        SigCase::Junk(bytes) => {
            *sig = bytes.clone();
            None
        }
    }
}

/// How an HPKE case departs from a valid sealed message.
#[derive(Debug, Clone)]
enum OpenCase {
    Valid,
    FlipEnc(usize),
    /// The point's first byte set to another SEC1 tag (compressed, hybrid,
    /// infinity, junk): DHKEM takes only `0x04`.
    EncTag(u8),
    /// The same point in SEC1 hybrid form (`0x06`/`0x07` with both
    /// coordinates), which AWS-LC's own parser would accept.
    Hybrid,
    /// Another valid point: the relay's own public key.
    OtherPoint,
    EncLength(usize),
    FlipCiphertext(usize),
    Truncate(usize),
    Extend(u8),
    WrongInfo,
    WrongAad,
    WrongKey([u8; 32]),
    Junk(Vec<u8>),
}

fn open_case() -> impl Strategy<Value = OpenCase> {
    prop_oneof![
        3 => Just(OpenCase::Valid),
        2 => (0usize..520).prop_map(OpenCase::FlipEnc),
        1 => prop_oneof![Just(0u8), Just(2), Just(3), Just(5), Just(6), Just(7), any::<u8>()]
            .prop_map(OpenCase::EncTag),
        1 => Just(OpenCase::Hybrid),
        1 => Just(OpenCase::OtherPoint),
        1 => (0usize..100).prop_map(OpenCase::EncLength),
        2 => any::<usize>().prop_map(OpenCase::FlipCiphertext),
        1 => any::<usize>().prop_map(OpenCase::Truncate),
        1 => any::<u8>().prop_map(OpenCase::Extend),
        1 => Just(OpenCase::WrongInfo),
        1 => Just(OpenCase::WrongAad),
        1 => any::<[u8; 32]>().prop_map(OpenCase::WrongKey),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(OpenCase::Junk),
    ]
}

/// The bare open, inputs as one struct so a case can change any of them.
#[derive(Debug, Clone)]
struct Sealed {
    relay: [u8; 32],
    enc: Vec<u8>,
    info: Vec<u8>,
    aad: Vec<u8>,
    ct: Vec<u8>,
}

/// Applies `case`; says whether the result must open (`None`: cannot tell).
fn apply_open_case(case: &OpenCase, s: &mut Sealed, relay_public: &[u8; 65]) -> Option<bool> {
    let flip = |bytes: &mut Vec<u8>, bit: usize| {
        let bit = bit % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
    };
    match case {
        OpenCase::Valid => Some(true),
        OpenCase::FlipEnc(bit) => {
            flip(&mut s.enc, *bit);
            Some(false)
        }
        OpenCase::EncTag(tag) => {
            s.enc[0] = *tag;
            Some(*tag == 0x04)
        }
        OpenCase::Hybrid => {
            s.enc[0] = 0x06 | (s.enc[64] & 1);
            Some(false)
        }
        OpenCase::OtherPoint => {
            s.enc = relay_public.to_vec();
            Some(false)
        }
        OpenCase::EncLength(len) => {
            s.enc.resize(*len, 0);
            Some(*len == 65)
        }
        OpenCase::FlipCiphertext(bit) => {
            flip(&mut s.ct, *bit);
            Some(false)
        }
        OpenCase::Truncate(len) => {
            s.ct.truncate(len % s.ct.len());
            Some(false)
        }
        OpenCase::Extend(byte) => {
            s.ct.push(*byte);
            Some(false)
        }
        OpenCase::WrongInfo => {
            s.info.push(b'x');
            Some(false)
        }
        OpenCase::WrongAad => {
            s.aad.push(b'x');
            Some(false)
        }
        OpenCase::WrongKey(other) => {
            let same = *other == s.relay;
            s.relay = *other;
            Some(same)
        }
        OpenCase::Junk(bytes) => {
            s.enc = bytes.clone();
            Some(false)
        }
    }
}

/// Seals `pt` to the relay key derived from `ikm` with the `hpke` crate (the
/// sender side every client runs); returns the relay's scalar, its public key
/// and the sealed message.
fn seal(ikm: [u8; 32], info: &[u8], aad: &[u8], pt: &[u8]) -> (Sealed, [u8; 65]) {
    let relay = RelayKeyPair::derive(&Secret::new(ikm)).expect("derive");
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&relay.public().public_key).unwrap();
    let (enc, ct) =
        hpke::single_shot_seal::<Aead, Kdf, Kem>(&OpModeS::Base, &pk, info, pt, aad).unwrap();
    let sealed = Sealed {
        relay: *relay.private_bytes().expose(),
        enc: enc.to_bytes().to_vec(),
        info: info.to_vec(),
        aad: aad.to_vec(),
        ct,
    };
    (sealed, relay.public().public_key)
}

/// Opens on backend `B`; a relay scalar out of range counts as a failed open.
fn open_on<B: Backend>(s: &Sealed) -> oneshare_sdk::Result<Vec<u8>> {
    let private = Secret::new(s.relay);
    let pair = RelayKeyPair::<B>::for_backend(&private).map_err(|_| Error::Hpke)?;
    let key = B::hpke_key(&private, &pair.public().public_key)?;
    B::hpke_open(&key, &s.enc, &s.info, &s.aad, &s.ct).map(|pt| pt.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verify_agrees(
        seed in any::<[u8; 32]>(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        case in sig_case(),
    ) {
        let sk = signing_key(seed);
        let mut key = sk.public_key();
        let mut sig = sk.sign(&message).to_vec();
        let mut message = message;
        let must = apply_sig_case(&case, &mut key, &mut message, &mut sig);
        let rc = key.verify_with::<RustCrypto>(&message, &sig);
        let lc = key.verify_with::<AwsLc>(&message, &sig);
        prop_assert_eq!(&rc, &lc);
        if let Some(must) = must {
            prop_assert_eq!(rc.is_ok(), must, "{:?}", case);
        }
        if let Err(e) = rc {
            prop_assert_eq!(e, Error::BadSignature);
        }
    }

    #[test]
    fn hpke_open_agrees(
        ikm in any::<[u8; 32]>(),
        info in proptest::collection::vec(any::<u8>(), 0..64),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        pt in proptest::collection::vec(any::<u8>(), 0..96),
        case in open_case(),
    ) {
        let (mut sealed, relay_public) = seal(ikm, &info, &aad, &pt);
        let must = apply_open_case(&case, &mut sealed, &relay_public);
        let rc = open_on::<RustCrypto>(&sealed);
        let lc = open_on::<AwsLc>(&sealed);
        prop_assert_eq!(&rc, &lc);
        if let Some(must) = must {
            prop_assert_eq!(rc.is_ok(), must, "{:?}", case);
        }
        match rc {
            Ok(opened) => prop_assert_eq!(opened, pt),
            Err(e) => prop_assert_eq!(e, Error::Hpke),
        }
    }

    /// The core's seal (p256 `Encap`, then `oneshare_sdk::hpke`) opens with
    /// the `hpke` crate to the same plaintext.
    #[test]
    fn core_seal_opens_with_the_hpke_crate(
        ikm in any::<[u8; 32]>(),
        info in proptest::collection::vec(any::<u8>(), 0..64),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
        pt in proptest::collection::vec(any::<u8>(), 0..96),
    ) {
        let relay = RelayKeyPair::derive(&Secret::new(ikm)).unwrap();
        let pk_r = relay.public().public_key;
        let sealed = oneshare_hpke::seal(&dhkem::encap(&pk_r).unwrap(), &pk_r, &info, &aad, &pt);
        let (enc, ct) = sealed.split_at(oneshare_hpke::ENC_LEN);
        let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(relay.private_bytes().expose()).unwrap();
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
        let opened =
            hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &sk, &enc, &info, ct, &aad);
        prop_assert_eq!(opened.ok(), Some(pt));
    }

    /// Whole `oneshare-transmission-key` headers, valid and mangled as text,
    /// through the relay's one parsing path on each backend.
    #[test]
    fn transmission_header_agrees(
        ikm in any::<[u8; 32]>(),
        tk in any::<[u8; 32]>(),
        edits in proptest::collection::vec((any::<usize>(), any::<char>()), 0..3),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let relay = RelayKeyPair::derive(&Secret::new(ikm)).unwrap();
        let rc = RelayKeyPair::<RustCrypto>::for_backend(&relay.private_bytes()).unwrap();
        let lc = RelayKeyPair::<AwsLc>::for_backend(&relay.private_bytes()).unwrap();
        let mut header: Vec<char> =
            seal_transmission_key(relay.public(), &Secret::new(tk)).unwrap().chars().collect();
        for (at, c) in &edits {
            let at = at % header.len();
            header[at] = *c;
        }
        if let Some(cut) = cut {
            header.truncate(cut % (header.len() + 1));
        }
        let header: String = header.into_iter().collect();
        let (a, b) = (rc.open_transmission_key(&header), lc.open_transmission_key(&header));
        prop_assert_eq!(&a, &b);
        if edits.is_empty() && cut.is_none() {
            prop_assert_eq!(a, Ok(Secret::new(tk)));
        }
    }
}
