//! Benchmarks of the protocol core, with raw `aes-gcm` measured in the same run
//! so STREAM's overhead shows as a ratio rather than a machine-dependent figure.
//!
//! Run with `cargo xtask bench`, which also prints the ratios (and turns on the
//! `aws-lc` feature, so both crypto backends are measured side by side). Group and function
//! names use only `[a-z0-9_]` because `xtask` reads
//! `criterion/{group}/{function}/new/estimates.json` by those names.
// Setup runs on fixed, known-good inputs; a failure there is a broken benchmark.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[cfg(feature = "aws-lc")]
use oneshare_sdk::backend::AwsLc;
use oneshare_sdk::backend::RustCrypto;
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::passphrase;
use oneshare_sdk::record::{self, Field, FieldType, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{self, Request, Signer, SigningKey};
use oneshare_sdk::stream::{self, Decryptor, Encryptor, SEGMENT_SIZE};
use oneshare_sdk::token::{ShareId, Token};
use oneshare_sdk::transmission::{RelayKeyPair, seal_transmission_key};

/// Size of the bulk-encryption benchmarks.
const BULK: usize = 16 * 1024 * 1024;
/// Target size of the record's JSON.
const RECORD_JSON: usize = 1024;

fn key(byte: u8) -> Key256 {
    Secret::new([byte; 32])
}

/// A record whose canonical JSON is exactly [`RECORD_JSON`] bytes.
fn record_1k() -> Record {
    let mut record = Record {
        title: "Production database".into(),
        fields: vec![
            Field {
                kind: FieldType::Login,
                label: None,
                value: "admin@example.com".into(),
            },
            Field {
                kind: FieldType::Password,
                label: None,
                value: "correct horse battery staple".into(),
            },
            Field {
                kind: FieldType::Url,
                label: None,
                value: "https://db.example.com:5432".into(),
            },
            Field {
                kind: FieldType::Note,
                label: None,
                value: String::new(),
            },
        ],
        attachments: vec![],
    };
    let short = RECORD_JSON.saturating_sub(record.to_json().expect("json").len());
    record.fields[3].value = "n".repeat(short);
    record
}

fn bulk_plaintext() -> Vec<u8> {
    (0..BULK).map(|i| (i * 31 % 251) as u8).collect()
}

fn records(c: &mut Criterion) {
    let k = key(1);
    let id = ShareId([2; 16]);
    let rec = record_1k();
    let sealed = record::seal_record_with_nonce(&k, &id, 1, &rec, [3; 12]).expect("seal");
    assert_eq!(rec.to_json().expect("json").len(), RECORD_JSON);

    let mut g = c.benchmark_group("record_1kib");
    g.throughput(Throughput::Bytes(RECORD_JSON as u64));
    g.bench_function("seal", |b| {
        b.iter(|| record::seal_record(&k, &id, 1, black_box(&rec)))
    });
    g.bench_function("open", |b| {
        b.iter(|| record::open_record(&k, &id, 1, black_box(&sealed)))
    });
    g.finish();

    let wrap = key(4);
    let wrapped = record::wrap_key_with_nonce(&wrap, &id, &k, [5; 12]);
    let mut g = c.benchmark_group("key");
    g.throughput(Throughput::Elements(1));
    g.bench_function("wrap", |b| {
        b.iter(|| record::wrap_key(&wrap, &id, black_box(&k)))
    });
    g.bench_function("unwrap", |b| {
        b.iter(|| record::unwrap_key(&wrap, &id, black_box(&wrapped)))
    });
    g.finish();
}

/// STREAM through its streaming API, fed in 64 KiB reads as a file reader would,
/// next to raw AES-256-GCM over the same 64 KiB chunks.
fn bulk(c: &mut Criterion) {
    let k = key(6);
    let plaintext = bulk_plaintext();

    let (mut enc, header) = Encryptor::with_prefix(&k, [7; 7]);
    let mut sealed = header.to_vec();
    for chunk in plaintext.chunks(SEGMENT_SIZE) {
        sealed.extend(enc.push(chunk).expect("push"));
    }
    sealed.extend(enc.finish().expect("finish"));
    assert_eq!(sealed.len() as u64, stream::ciphertext_len(BULK as u64));
    assert_eq!(
        stream::open(&k, &sealed).as_deref(),
        Ok(plaintext.as_slice())
    );

    let aes = Aes256Gcm::new(k.expose().into());
    let nonce = |i: usize| {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&(i as u64).to_be_bytes());
        Nonce::from(n)
    };
    let raw_sealed: Vec<Vec<u8>> = plaintext
        .chunks(SEGMENT_SIZE)
        .enumerate()
        .map(|(i, chunk)| aes.encrypt(&nonce(i), chunk).expect("encrypt"))
        .collect();

    let mut g = c.benchmark_group("bulk_16mib");
    g.throughput(Throughput::Bytes(BULK as u64));
    g.bench_function("stream_encrypt", |b| {
        b.iter(|| {
            let (mut enc, header) = Encryptor::with_prefix(&k, [7; 7]);
            let mut out = Vec::with_capacity(sealed.len());
            out.extend_from_slice(&header);
            for chunk in black_box(&plaintext).chunks(SEGMENT_SIZE) {
                out.extend(enc.push(chunk)?);
            }
            out.extend(enc.finish()?);
            Ok::<_, oneshare_sdk::Error>(out)
        })
    });
    g.bench_function("aesgcm_encrypt", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(sealed.len());
            for (i, chunk) in black_box(&plaintext).chunks(SEGMENT_SIZE).enumerate() {
                out.extend(aes.encrypt(&nonce(i), chunk)?);
            }
            Ok::<_, aes_gcm::Error>(out)
        })
    });
    g.bench_function("stream_decrypt", |b| {
        b.iter(|| {
            let sealed = black_box(&sealed);
            let mut dec = Decryptor::new(&k, sealed)?;
            let mut out = Vec::with_capacity(BULK);
            for chunk in sealed[stream::HEADER_LEN..].chunks(SEGMENT_SIZE) {
                out.extend(dec.push(chunk)?);
            }
            out.extend(dec.finish()?);
            Ok::<_, oneshare_sdk::Error>(out)
        })
    });
    g.bench_function("aesgcm_decrypt", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(BULK);
            for (i, chunk) in black_box(&raw_sealed).iter().enumerate() {
                out.extend(aes.decrypt(&nonce(i), chunk.as_slice())?);
            }
            Ok::<_, aes_gcm::Error>(out)
        })
    });
    g.finish();
}

fn asymmetric(c: &mut Criterion) {
    let sk = SigningKey::from_bytes(&Secret::new([9; 32])).expect("fixed signing key is valid");
    let pk = sk.public_key();
    let body = br#"{"record":{"version":2,"ciphertext":"AQID"}}"#;
    let req = Request {
        method: "PUT",
        path: "/v1/shares/AAAAAAAAAAAAAAAAAAAAAA/record",
        body,
        transmission: None,
    };
    let message = signing::canonical(&req, &Signer::Owner(pk), 1_700_000_000, &[1; 16]);
    let signature = sk.sign(message.as_bytes());
    assert_eq!(pk.verify(message.as_bytes(), &signature), Ok(()));

    let mut g = c.benchmark_group("ecdsa_p256");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| sk.sign(black_box(message.as_bytes())))
    });
    g.finish();

    let relay = RelayKeyPair::derive(&Secret::new([10; 32])).expect("fixed relay key is valid");
    let tk = key(11);
    let header = seal_transmission_key(relay.public(), &tk).expect("relay key is valid");
    assert_eq!(relay.open_transmission_key(&header), Ok(tk.clone()));

    let mut g = c.benchmark_group("hpke");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal_transmission_key", |b| {
        b.iter(|| seal_transmission_key(relay.public(), black_box(&tk)))
    });
    g.finish();

    // The relay's per-request operations on each crypto backend, in the same
    // run: `cargo xtask bench` (which turns on `aws-lc`) prints the ratio.
    let mut g = c.benchmark_group("backend_verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rust_crypto", |b| {
        b.iter(|| {
            pk.verify_with::<RustCrypto>(black_box(message.as_bytes()), black_box(&signature))
        })
    });
    #[cfg(feature = "aws-lc")]
    g.bench_function("aws_lc", |b| {
        b.iter(|| pk.verify_with::<AwsLc>(black_box(message.as_bytes()), black_box(&signature)))
    });
    g.finish();

    let rc = RelayKeyPair::<RustCrypto>::for_backend(&relay.private_bytes()).expect("relay key");
    assert_eq!(rc.open_transmission_key(&header), Ok(tk.clone()));
    let mut g = c.benchmark_group("backend_hpke_open");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rust_crypto", |b| {
        b.iter(|| rc.open_transmission_key(black_box(&header)))
    });
    #[cfg(feature = "aws-lc")]
    {
        let lc = RelayKeyPair::<AwsLc>::for_backend(&relay.private_bytes()).expect("relay key");
        assert_eq!(lc.open_transmission_key(&header), Ok(tk.clone()));
        g.bench_function("aws_lc", |b| {
            b.iter(|| lc.open_transmission_key(black_box(&header)))
        });
    }
    g.finish();

    let token = Token::from_bytes([12; 32]);
    let mut g = c.benchmark_group("token");
    g.throughput(Throughput::Elements(1));
    g.bench_function("derive", |b| b.iter(|| black_box(&token).derive()));
    g.finish();
}

/// The v2 second factors: the open-code proof (two HKDF calls) and the
/// passphrase derivation, whose Argon2id run is the cost a phone pays once per
/// open and an attacker holding the link and the relay's data pays per guess.
fn second_factors(c: &mut Criterion) {
    let token = Token::from_bytes([12; 32]);
    let code = OpenCode::from_random([13; 5]);
    let mut g = c.benchmark_group("second_factor");
    g.throughput(Throughput::Elements(1));
    g.bench_function("open_code_proof", |b| {
        b.iter(|| black_box(&code).proof(black_box(&token)))
    });
    let phrase = passphrase::Nfc::normalize("correct horse battery staple");
    g.bench_function("passphrase_derive", |b| {
        b.iter(|| passphrase::derive(black_box(&token), black_box(&phrase)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = records, bulk, asymmetric, second_factors
}
criterion_main!(benches);
