//! Attachment upload parts (PROTOCOL.md §10). The relay stores an attachment's
//! STREAM ciphertext (§5) in parts of `part_size` bytes, a whole number of
//! encrypted segments; the 24-byte header shifts every part boundary into the
//! middle of a segment. [`PartEncryptor`] builds any part on its own from the
//! plaintext segments it overlaps, so an upload resumes at whatever part the
//! relay asks for, and parts can be prepared ahead (in parallel) with one part
//! of memory each. Which segments a part overlaps and their nonces come from
//! the STREAM plan ([`Sealer`]); the bytes are exactly those of
//! [`crate::stream::Encryptor`] with the same key and header.

use core::ops::Range;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

use crate::envelope::commitment;
use crate::secret::{Key256, ct_eq};
use crate::stream::Sealer;
use crate::stream::{ENCRYPTED_SEGMENT_SIZE, HEADER_LEN, Header, SEGMENT_SIZE};
use crate::{Error, Result};

const SEG: u64 = SEGMENT_SIZE as u64;
const ENC_SEG: u64 = ENCRYPTED_SEGMENT_SIZE as u64;
const HEADER: u64 = HEADER_LEN as u64;

/// Encrypts the parts of one attachment, in any order.
pub struct PartEncryptor {
    cipher: Aes256Gcm,
    sealer: Sealer,
    header: [u8; HEADER_LEN],
    plaintext_len: u64,
    part_size: u64,
}

impl core::fmt::Debug for PartEncryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartEncryptor")
            .field("plaintext_len", &self.plaintext_len)
            .field("part_size", &self.part_size)
            .finish_non_exhaustive()
    }
}

impl PartEncryptor {
    /// Prepares the parts of a `plaintext_len`-byte file under `key`, with the
    /// stream `header` fixed for this file (keep it with the key so a resumed
    /// upload produces the same bytes) and the relay's `part_size`.
    ///
    /// # Errors
    /// [`Error::WrongKey`] when the header commits to another key;
    /// [`Error::UnsupportedVersion`] for a bad header; [`Error::Length`] when
    /// `part_size` is not a positive multiple of the encrypted segment size;
    /// [`Error::CounterOverflow`] for a file too large for one stream.
    pub fn new(
        key: &Key256,
        header: [u8; HEADER_LEN],
        plaintext_len: u64,
        part_size: u64,
    ) -> Result<Self> {
        let parsed = Header::parse(&header)?;
        if !ct_eq(&parsed.commitment, &commitment(key)) {
            return Err(Error::WrongKey);
        }
        if part_size == 0 || !part_size.is_multiple_of(ENC_SEG) {
            return Err(Error::Length {
                what: "part size",
                expected: ENCRYPTED_SEGMENT_SIZE,
                got: usize::try_from(part_size).unwrap_or(usize::MAX),
            });
        }
        let (sealer, planned) = Sealer::new(&parsed.commitment, parsed.prefix, plaintext_len)?;
        debug_assert_eq!(planned, header);
        Ok(Self {
            cipher: Aes256Gcm::new(key.expose().into()),
            sealer,
            header,
            plaintext_len,
            part_size,
        })
    }

    /// Length of the whole ciphertext (what create declares as the size).
    pub fn ciphertext_len(&self) -> u64 {
        self.sealer.ciphertext_len()
    }

    /// Number of parts.
    pub fn part_count(&self) -> u64 {
        self.ciphertext_len().div_ceil(self.part_size)
    }

    /// Ciphertext byte range of `part`.
    fn byte_range(&self, part: u64) -> Result<Range<u64>> {
        if part >= self.part_count() {
            return Err(Error::Malformed("part index past the end"));
        }
        let start = part * self.part_size;
        Ok(start..(start + self.part_size).min(self.ciphertext_len()))
    }

    /// Segments that `part` overlaps (never empty: a part is longer than the header).
    fn segment_range(&self, part: u64) -> Result<Range<u64>> {
        let bytes = self.byte_range(part)?;
        Ok(self.sealer.segments_in(bytes.start, bytes.end))
    }

    /// The plaintext bytes `part` is made from: read exactly this range of the
    /// file and pass it to [`PartEncryptor::encrypt_part`].
    ///
    /// # Errors
    /// [`Error::Malformed`] for a part past the end.
    pub fn plaintext_range(&self, part: u64) -> Result<Range<u64>> {
        let segs = self.segment_range(part)?;
        Ok((segs.start * SEG).min(self.plaintext_len)..(segs.end * SEG).min(self.plaintext_len))
    }

    /// The ciphertext of `part` from the plaintext of [`PartEncryptor::plaintext_range`].
    ///
    /// # Errors
    /// [`Error::Length`] when `plaintext` is not exactly that range;
    /// [`Error::Malformed`] for a part past the end.
    pub fn encrypt_part(&self, part: u64, plaintext: &[u8]) -> Result<Vec<u8>> {
        let bytes = self.byte_range(part)?;
        let segs = self.segment_range(part)?;
        let want = self.plaintext_range(part)?;
        let want_len = usize::try_from(want.end - want.start).unwrap_or(usize::MAX);
        if plaintext.len() != want_len {
            return Err(Error::Length {
                what: "part plaintext",
                expected: want_len,
                got: plaintext.len(),
            });
        }
        // Ciphertext offset of the first byte we produce: the header for part
        // 0, else the start of the first overlapped segment.
        let mut out = Vec::with_capacity(
            usize::try_from(self.part_size).unwrap_or(0) + ENCRYPTED_SEGMENT_SIZE,
        );
        let origin = if segs.start == 0 {
            out.extend_from_slice(&self.header);
            0
        } else {
            HEADER + segs.start * ENC_SEG
        };
        let mut offset = 0;
        for i in segs {
            let (_, job) = self.sealer.job(i)?;
            let chunk = plaintext
                .get(offset..offset + job.len)
                .ok_or(Error::Malformed("part layout"))?;
            offset += job.len;
            out.extend(
                self.cipher
                    .encrypt(&Nonce::from(job.nonce), chunk)
                    .map_err(|_| Error::Malformed("segment too large"))?,
            );
        }
        let from = usize::try_from(bytes.start - origin).unwrap_or(usize::MAX);
        let to = usize::try_from(bytes.end - origin).unwrap_or(usize::MAX);
        let kept = out
            .get(from..to)
            .ok_or(Error::Malformed("part layout"))?
            .to_vec();
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::stream::{self, Encryptor, MAX_PLAINTEXT_LEN};
    use proptest::prelude::*;

    fn key() -> Key256 {
        Secret::new([5; 32])
    }

    fn whole_stream(pt: &[u8]) -> (Vec<u8>, [u8; HEADER_LEN]) {
        let (mut enc, header) = Encryptor::with_prefix(&key(), [3; 7]);
        let mut ct = header.to_vec();
        ct.extend(enc.push(pt).unwrap());
        ct.extend(enc.finish().unwrap());
        (ct, header)
    }

    fn parts_of(pt: &[u8], part_size: u64, header: [u8; HEADER_LEN]) -> Vec<Vec<u8>> {
        let p = PartEncryptor::new(&key(), header, pt.len() as u64, part_size).unwrap();
        (0..p.part_count())
            .map(|i| {
                let r = p.plaintext_range(i).unwrap();
                p.encrypt_part(i, &pt[r.start as usize..r.end as usize])
                    .unwrap()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn parts_concatenate_to_the_stream(len in 0usize..(5 * SEGMENT_SIZE + 3), segs in 1u64..4) {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            let (ct, header) = whole_stream(&pt);
            let part_size = segs * ENC_SEG;
            let parts = parts_of(&pt, part_size, header);
            for (i, part) in parts.iter().enumerate() {
                if i + 1 < parts.len() {
                    prop_assert_eq!(part.len() as u64, part_size);
                }
            }
            let joined: Vec<u8> = parts.concat();
            prop_assert_eq!(&joined, &ct);
            prop_assert_eq!(stream::open(&key(), &joined).unwrap(), pt);
        }
    }

    #[test]
    fn boundaries_and_misuse() {
        // Exactly one segment of plaintext, one segment per part: the tag and the
        // header push the stream into a second part.
        let pt = vec![9u8; SEGMENT_SIZE];
        let (ct, header) = whole_stream(&pt);
        let p = PartEncryptor::new(&key(), header, pt.len() as u64, ENC_SEG).unwrap();
        assert_eq!(p.part_count(), 2);
        assert_eq!(p.ciphertext_len(), ct.len() as u64);
        assert_eq!(p.plaintext_range(1).unwrap(), 0..SEG);
        assert!(matches!(
            p.encrypt_part(0, &pt[1..]),
            Err(Error::Length { .. })
        ));
        assert!(matches!(p.plaintext_range(2), Err(Error::Malformed(_))));
        assert!(matches!(
            PartEncryptor::new(&key(), header, 1, ENC_SEG + 1),
            Err(Error::Length { .. })
        ));
        assert!(matches!(
            PartEncryptor::new(&key(), header, 1, 0),
            Err(Error::Length { .. })
        ));
        assert_eq!(
            PartEncryptor::new(&Secret::new([6; 32]), header, 1, ENC_SEG).err(),
            Some(Error::WrongKey)
        );
        assert_eq!(
            PartEncryptor::new(&key(), header, MAX_PLAINTEXT_LEN + 1, ENC_SEG).err(),
            Some(Error::CounterOverflow)
        );
        let mut bad = header;
        bad[0] = 2;
        assert!(matches!(
            PartEncryptor::new(&key(), bad, 1, ENC_SEG),
            Err(Error::UnsupportedVersion { .. })
        ));
    }
}
