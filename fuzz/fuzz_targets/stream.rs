//! The STREAM Decryptor under a fixed key: arbitrary bytes (after a real or an
//! arbitrary header) and tampered real streams, pushed in arbitrary chunkings.
//!
//! Checks: no panic; the result (plaintext or the exact error) does not depend on
//! the chunking; whatever decrypts re-encrypts to the same bytes; any change to
//! a real stream is rejected; `plaintext_len` and `ciphertext_len` agree.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oneshare_fuzz::key;
use oneshare_sdk::Result;
use oneshare_sdk::stream::{
    self, Decryptor, Encryptor, HEADER_LEN, Header, MAX_SEGMENTS, SEGMENT_SIZE, ciphertext_len,
    plaintext_len, segment_count,
};

#[derive(Arbitrary, Debug)]
enum Input {
    /// Arbitrary bytes, behind the fixed key's header or taken whole.
    Raw {
        real_header: bool,
        chunks: Vec<u16>,
        bytes: Vec<u8>,
    },
    /// A real stream of up to three segments, then changed. Its length is
    /// `full` whole segments plus a short tail, or minus a short tail, so
    /// segment boundaries come up often.
    Sealed {
        full: u8,
        tail: i16,
        fill: u8,
        chunks: Vec<u16>,
        tamper: Tamper,
    },
    /// Length arithmetic only.
    Lengths { len: u64 },
}

#[derive(Arbitrary, Debug)]
enum Tamper {
    None,
    Flip { at: u32, bit: u8 },
    Truncate { to: u32 },
    Append(Vec<u8>),
    Insert { at: u32, bytes: Vec<u8> },
    Remove { at: u32, len: u16 },
    SwapSegments { a: u8, b: u8 },
    DropSegment(u8),
    DuplicateSegment(u8),
}

const PREFIX: [u8; 7] = [3; 7];

/// Decrypts through `push` with the given piece sizes (cycled), then `finish`.
fn decrypt_chunked(bytes: &[u8], chunks: &[u16]) -> Result<Vec<u8>> {
    let mut dec = Decryptor::new(&key(), bytes)?;
    let mut rest = &bytes[HEADER_LEN..];
    let mut sizes = chunks.iter().cycle();
    let mut out = dec.push(&[])?;
    while !rest.is_empty() {
        let n = sizes.next().map_or(rest.len(), |&n| usize::from(n).max(1));
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        out.extend(dec.push(piece)?);
        rest = tail;
    }
    out.extend(dec.finish()?);
    Ok(out)
}

fn encrypt(plaintext: &[u8], prefix: [u8; 7], chunks: &[u16]) -> Vec<u8> {
    let (mut enc, header) = Encryptor::with_prefix(&key(), prefix);
    let mut out = header.to_vec();
    let mut rest = plaintext;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().map_or(rest.len(), |&n| usize::from(n).max(1));
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        out.extend(enc.push(piece).unwrap_or_else(|e| panic!("push: {e}")));
        rest = tail;
    }
    out.extend(enc.finish().unwrap_or_else(|e| panic!("finish: {e}")));
    out
}

/// Decrypts both ways and checks they agree; returns the result.
fn check_decrypt(bytes: &[u8], chunks: &[u16]) -> Result<Vec<u8>> {
    let whole = stream::open(&key(), bytes);
    let chunked = decrypt_chunked(bytes, chunks);
    assert_eq!(whole, chunked, "chunking changed the result");
    if let Ok(plaintext) = &whole {
        assert_eq!(
            plaintext_len(bytes.len() as u64),
            Ok(plaintext.len() as u64)
        );
        let prefix = Header::parse(bytes).map(|h| h.prefix);
        let Ok(prefix) = prefix else {
            panic!("decrypted without a header");
        };
        assert_eq!(encrypt(plaintext, prefix, &[]), bytes, "re-encryption");
    }
    whole
}

fn check_lengths(len: u64) {
    let max_plaintext = MAX_SEGMENTS * SEGMENT_SIZE as u64;
    let ct = ciphertext_len(len);
    if len <= max_plaintext {
        assert_eq!(plaintext_len(ct), Ok(len), "plaintext_len(ciphertext_len)");
    }
    if let Ok(pt) = plaintext_len(len) {
        assert_eq!(ciphertext_len(pt), len, "ciphertext_len(plaintext_len)");
        let segments = segment_count(len);
        assert!(segments.is_ok_and(|s| (1..=MAX_SEGMENTS).contains(&s)));
    }
}

fn segments(stream: &[u8]) -> Vec<&[u8]> {
    stream[HEADER_LEN..]
        .chunks(stream::ENCRYPTED_SEGMENT_SIZE)
        .collect()
}

fn tamper(original: &[u8], tamper: &Tamper) -> Vec<u8> {
    let mut out = original.to_vec();
    let at = |i: u32| (i as usize) % (out.len() + 1);
    match tamper {
        Tamper::None => {}
        Tamper::Flip { at: i, bit } => {
            let i = (*i as usize) % out.len();
            out[i] ^= 1 << (bit % 8);
        }
        Tamper::Truncate { to } => out.truncate(at(*to)),
        Tamper::Append(bytes) => out.extend_from_slice(bytes),
        Tamper::Insert { at: i, bytes } => {
            let i = at(*i);
            out.splice(i..i, bytes.iter().copied());
        }
        Tamper::Remove { at: i, len } => {
            let i = at(*i);
            let end = (i + usize::from(*len)).min(out.len());
            out.drain(i..end);
        }
        Tamper::SwapSegments { a, b } => {
            let mut segs = segments(original);
            let n = segs.len();
            segs.swap(usize::from(*a) % n, usize::from(*b) % n);
            out = [&original[..HEADER_LEN]]
                .into_iter()
                .chain(segs)
                .flatten()
                .copied()
                .collect();
        }
        Tamper::DropSegment(i) => {
            let mut segs = segments(original);
            let n = segs.len();
            segs.remove(usize::from(*i) % n);
            out = [&original[..HEADER_LEN]]
                .into_iter()
                .chain(segs)
                .flatten()
                .copied()
                .collect();
        }
        Tamper::DuplicateSegment(i) => {
            let mut segs = segments(original);
            let i = usize::from(*i) % segs.len();
            segs.insert(i, segs[i]);
            out = [&original[..HEADER_LEN]]
                .into_iter()
                .chain(segs)
                .flatten()
                .copied()
                .collect();
        }
    }
    out
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw {
            real_header,
            chunks,
            bytes,
        } => {
            let data = if real_header {
                let (_, header) = Encryptor::with_prefix(&key(), PREFIX);
                [header.as_slice(), &bytes].concat()
            } else {
                bytes
            };
            let _ = check_decrypt(&data, &chunks);
            check_lengths(data.len() as u64);
        }
        Input::Sealed {
            full,
            tail,
            fill,
            chunks,
            tamper: how,
        } => {
            let full = usize::from(full % 4) * SEGMENT_SIZE;
            let tail_len = usize::from(tail.unsigned_abs() % 300);
            let len = if tail < 0 {
                full.saturating_sub(tail_len)
            } else {
                full + tail_len
            };
            let plaintext: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(fill)).collect();
            let original = encrypt(&plaintext, PREFIX, &chunks);
            assert_eq!(original.len() as u64, ciphertext_len(len as u64));
            let changed = tamper(&original, &how);
            let result = check_decrypt(&changed, &chunks);
            if changed == original {
                assert_eq!(result, Ok(plaintext));
            } else {
                assert!(result.is_err(), "tampered stream accepted: {how:?}");
            }
        }
        Input::Lengths { len } => check_lengths(len),
    }
});
