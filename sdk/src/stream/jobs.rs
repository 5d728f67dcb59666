//! STREAM as sans-io jobs: the state machines that decide every segment's nonce,
//! final flag and length, and what a failed AEAD call means, while the AEAD runs
//! elsewhere (SubtleCrypto in the browser, `aes-gcm` in [`super::Decryptor`]).
//!
//! Opening: give [`Opener`] the header, tell it how many ciphertext bytes arrived
//! ([`Opener::feed`]), take [`SegmentJob`]s (each covers the next `len` bytes of
//! the input, in order), run them, and hand each result to
//! [`SegmentJob::verdict`]. A failed segment is decrypted once more with the
//! other final flag (a probe) so that a cut-off or extended stream is reported as
//! [`Error::Truncated`] or [`Error::TrailingData`] rather than [`Error::Decrypt`].
//! When the input ends, [`Opener::finish`] hands out the final segment's job.
//!
//! Sealing: [`Sealer`] gives the job of any segment of a plaintext of known size,
//! so resumed uploads re-encrypt only the segments they send.

use super::{ENCRYPTED_SEGMENT_SIZE, HEADER_LEN, Header, NONCE_PREFIX_LEN, SEGMENT_SIZE};
use super::{MAX_PLAINTEXT_LEN, SegmentNonce, ciphertext_len};
use crate::envelope::{COMMITMENT_LEN, TAG_LEN};
use crate::{Error, Result};

/// One AEAD call: AES-256-GCM under the file key with `nonce` and an empty AAD,
/// over the next `len` bytes of the input (ciphertext with tag when opening,
/// plaintext when sealing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentJob {
    /// Segment index (the nonce counter).
    pub index: u32,
    /// Whether the nonce carries the final flag.
    pub last: bool,
    /// The 12-byte nonce.
    pub nonce: [u8; 12],
    /// Input bytes this job covers.
    pub len: usize,
    /// Set on the re-try of a failed segment with the other final flag.
    probe: bool,
}

/// What the result of a [`SegmentJob`] means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The plaintext is authentic: use it.
    Plaintext,
    /// Decrypt the same bytes once more with this job, then ask its verdict.
    Probe(SegmentJob),
    /// The stream is bad; stop.
    Failed(Error),
}

impl SegmentJob {
    fn new(prefix: [u8; NONCE_PREFIX_LEN], index: u64, last: bool, len: usize) -> Result<Self> {
        let counter = u32::try_from(index).map_err(|_| Error::CounterOverflow)?;
        Ok(Self {
            index: counter,
            last,
            nonce: SegmentNonce {
                prefix,
                counter,
                last,
            }
            .to_bytes(),
            len,
            probe: false,
        })
    }

    /// Judges the AEAD result of this job when opening: `Some(plaintext length)`
    /// when the tag verified, `None` when it did not.
    pub fn verdict(&self, plaintext_len: Option<usize>) -> Verdict {
        match (self.probe, plaintext_len) {
            // An empty final segment is only valid as the whole of an empty file.
            (false, Some(0)) if self.last && self.index > 0 => Verdict::Failed(Error::TrailingData),
            (false, Some(_)) => Verdict::Plaintext,
            (false, None) => {
                let mut probe = *self;
                probe.probe = true;
                probe.last = !self.last;
                probe.nonce[11] = u8::from(probe.last);
                Verdict::Probe(probe)
            }
            // Authentic with the other flag: a final segment where a middle one
            // belongs means data was appended; a middle one at the end means the
            // real final segment was cut off.
            (true, Some(_)) if self.last => Verdict::Failed(Error::TrailingData),
            (true, Some(_)) => Verdict::Failed(Error::Truncated),
            (true, None) => Verdict::Failed(Error::Decrypt),
        }
    }
}

/// The opening state machine of one stream.
#[derive(Debug, Clone)]
pub struct Opener {
    prefix: [u8; NONCE_PREFIX_LEN],
    next: u64,
    buffered: u64,
    done: bool,
}

impl Opener {
    /// Checks the header against the commitment of the file key the caller holds
    /// (constant-time compare).
    ///
    /// # Errors
    /// [`Error::Truncated`] for a short header, [`Error::UnsupportedVersion`],
    /// [`Error::WrongKey`] when the header commits to another key.
    pub fn new(key_commitment: &[u8; COMMITMENT_LEN], header: &[u8]) -> Result<Self> {
        let header = Header::parse(header)?;
        if !crate::secret::ct_eq(&header.commitment, key_commitment) {
            return Err(Error::WrongKey);
        }
        Ok(Self {
            prefix: header.prefix,
            next: 0,
            buffered: 0,
            done: false,
        })
    }

    /// Starts at segment `index` instead of 0, for a ranged read whose input
    /// begins at that segment's offset ([`Opener::segment_at`]). Segments are
    /// authenticated by their index, so skipping some weakens nothing.
    ///
    /// # Errors
    /// [`Error::Length`] once input was fed; [`Error::CounterOverflow`].
    pub fn resume_at(&mut self, index: u64) -> Result<()> {
        if self.buffered > 0 || self.next > 0 || self.done {
            return Err(Error::Length {
                what: "resume point (input already fed)",
                expected: 0,
                got: usize::try_from(self.buffered).unwrap_or(usize::MAX),
            });
        }
        u32::try_from(index).map_err(|_| Error::CounterOverflow)?;
        self.next = index;
        Ok(())
    }

    /// Records that `len` more ciphertext bytes (after the header) arrived.
    pub fn feed(&mut self, len: usize) {
        self.buffered = self.buffered.saturating_add(len as u64);
    }

    /// The next segment known not to be the final one (a full segment with more
    /// input after it), or `None` until more input arrives.
    ///
    /// # Errors
    /// [`Error::TrailingData`] after the final segment, [`Error::CounterOverflow`].
    pub fn next_job(&mut self) -> Result<Option<SegmentJob>> {
        if self.done {
            return if self.buffered > 0 {
                Err(Error::TrailingData)
            } else {
                Ok(None)
            };
        }
        if self.buffered <= ENCRYPTED_SEGMENT_SIZE as u64 {
            return Ok(None);
        }
        let job = SegmentJob::new(self.prefix, self.next, false, ENCRYPTED_SEGMENT_SIZE)?;
        self.next += 1;
        self.buffered -= ENCRYPTED_SEGMENT_SIZE as u64;
        Ok(Some(job))
    }

    /// The input ended: the job of the final segment (what is left after
    /// [`Opener::next_job`] returned `None`).
    ///
    /// # Errors
    /// [`Error::Truncated`] when what is left cannot be a final segment,
    /// [`Error::TrailingData`] when called twice with more input in between.
    pub fn finish(&mut self) -> Result<SegmentJob> {
        if self.done {
            return Err(Error::TrailingData);
        }
        let left = usize::try_from(self.buffered).map_err(|_| Error::TrailingData)?;
        if !(TAG_LEN..=ENCRYPTED_SEGMENT_SIZE).contains(&left) {
            return Err(if left > ENCRYPTED_SEGMENT_SIZE {
                // `next_job` was not drained: a caller bug, reported as bad data.
                Error::TrailingData
            } else {
                Error::Truncated
            });
        }
        let job = SegmentJob::new(self.prefix, self.next, true, left)?;
        self.done = true;
        self.buffered = 0;
        Ok(job)
    }

    /// The job of segment `index` of a stream of `plaintext_size` bytes, and the
    /// byte offset of that segment in the whole stream (header included), for
    /// ranged reads. The size comes from the authenticated record, so a relay
    /// that serves fewer bytes is caught by the length check of the caller.
    ///
    /// # Errors
    /// [`Error::Length`] for an index past the end, [`Error::CounterOverflow`].
    pub fn segment_at(&self, plaintext_size: u64, index: u64) -> Result<(u64, SegmentJob)> {
        segment_at(self.prefix, plaintext_size, index, TAG_LEN)
    }
}

/// Number of segments of a plaintext of `size` bytes (at least one).
pub fn segments_of(size: u64) -> u64 {
    size.div_ceil(SEGMENT_SIZE as u64).max(1)
}

fn segment_at(
    prefix: [u8; NONCE_PREFIX_LEN],
    size: u64,
    index: u64,
    extra: usize,
) -> Result<(u64, SegmentJob)> {
    if size > MAX_PLAINTEXT_LEN {
        return Err(Error::CounterOverflow);
    }
    let count = segments_of(size);
    if index >= count {
        return Err(Error::Length {
            what: "segment index",
            expected: usize::try_from(count).unwrap_or(usize::MAX),
            got: usize::try_from(index).unwrap_or(usize::MAX),
        });
    }
    let last = index + 1 == count;
    let plain = if last {
        size - index * SEGMENT_SIZE as u64
    } else {
        SEGMENT_SIZE as u64
    };
    // At most SEGMENT_SIZE: fits every usize.
    let len = usize::try_from(plain).map_err(|_| Error::CounterOverflow)? + extra;
    let offset = HEADER_LEN as u64 + index * ENCRYPTED_SEGMENT_SIZE as u64;
    Ok((offset, SegmentJob::new(prefix, index, last, len)?))
}

/// The sealing plan of a plaintext of known size.
#[derive(Debug, Clone)]
pub struct Sealer {
    prefix: [u8; NONCE_PREFIX_LEN],
    size: u64,
}

impl Sealer {
    /// A plan for `size` plaintext bytes under a file key with this commitment
    /// and nonce prefix (draw it at random per file; keep it to resume an
    /// upload); returns the stream header too.
    ///
    /// # Errors
    /// [`Error::CounterOverflow`] for a size past [`MAX_PLAINTEXT_LEN`].
    pub fn new(
        key_commitment: &[u8; COMMITMENT_LEN],
        prefix: [u8; NONCE_PREFIX_LEN],
        size: u64,
    ) -> Result<(Self, [u8; HEADER_LEN])> {
        if size > MAX_PLAINTEXT_LEN {
            return Err(Error::CounterOverflow);
        }
        let mut header = [0u8; HEADER_LEN];
        header[0] = super::VERSION;
        header[1..1 + COMMITMENT_LEN].copy_from_slice(key_commitment);
        header[1 + COMMITMENT_LEN..].copy_from_slice(&prefix);
        Ok((Self { prefix, size }, header))
    }

    /// Number of segments.
    pub fn segment_count(&self) -> u64 {
        segments_of(self.size)
    }

    /// Total ciphertext length, header included.
    pub fn ciphertext_len(&self) -> u64 {
        ciphertext_len(self.size)
    }

    /// The job of segment `index` (its `len` is the plaintext length) and the
    /// plaintext offset where its input starts.
    ///
    /// # Errors
    /// [`Error::Length`] for an index past the end.
    pub fn job(&self, index: u64) -> Result<(u64, SegmentJob)> {
        let (_, job) = segment_at(self.prefix, self.size, index, 0)?;
        Ok((index * SEGMENT_SIZE as u64, job))
    }

    /// The segments whose ciphertext overlaps stream bytes `start..end` (header
    /// included), for sending one upload part.
    pub fn segments_in(&self, start: u64, end: u64) -> core::ops::Range<u64> {
        let seg = ENCRYPTED_SEGMENT_SIZE as u64;
        let first = start.saturating_sub(HEADER_LEN as u64) / seg;
        let last = end.saturating_sub(HEADER_LEN as u64).div_ceil(seg);
        first.min(self.segment_count())..last.min(self.segment_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::commitment;
    use crate::secret::Secret;

    #[test]
    fn jobs_cover_a_stream_in_order() {
        let key = Secret::new([3; 32]);
        let (sealer, header) =
            Sealer::new(&commitment(&key), [5; 7], 2 * SEGMENT_SIZE as u64 + 9).unwrap();
        let mut opener = Opener::new(&commitment(&key), &header).unwrap();
        opener.feed((sealer.ciphertext_len() - HEADER_LEN as u64) as usize);
        let mut jobs = Vec::new();
        while let Ok(Some(job)) = opener.next_job() {
            jobs.push(job);
        }
        jobs.push(opener.finish().unwrap());
        assert_eq!(jobs.len(), 3);
        for (i, job) in jobs.iter().enumerate() {
            let (_, seal) = sealer.job(i as u64).unwrap();
            assert_eq!(seal.nonce, job.nonce);
            assert_eq!(seal.len + TAG_LEN, job.len);
            let (offset, at) = opener
                .segment_at(2 * SEGMENT_SIZE as u64 + 9, i as u64)
                .unwrap();
            assert_eq!(at, *job);
            assert_eq!(offset, (HEADER_LEN + i * ENCRYPTED_SEGMENT_SIZE) as u64);
        }
        assert!(jobs[2].last && !jobs[1].last);
        assert_eq!(opener.next_job(), Ok(None));
        opener.feed(1);
        assert_eq!(opener.next_job(), Err(Error::TrailingData));
    }

    #[test]
    fn a_ranged_read_resumes_at_its_segment() {
        let key = Secret::new([3; 32]);
        let size = 3 * SEGMENT_SIZE as u64 + 1;
        let (sealer, header) = Sealer::new(&commitment(&key), [5; 7], size).unwrap();
        let mut opener = Opener::new(&commitment(&key), &header).unwrap();
        let (offset, _) = opener.segment_at(size, 2).unwrap();
        opener.resume_at(2).unwrap();
        opener.feed((sealer.ciphertext_len() - offset) as usize);
        let middle = opener.next_job().unwrap().unwrap();
        assert_eq!((middle.index, middle.last), (2, false));
        let last = opener.finish().unwrap();
        assert_eq!((last.index, last.last, last.len), (3, true, 1 + TAG_LEN));
        assert!(opener.resume_at(0).is_err());
    }

    #[test]
    fn verdicts_classify_failures() {
        let job = SegmentJob::new([0; 7], 1, false, ENCRYPTED_SEGMENT_SIZE).unwrap();
        assert_eq!(job.verdict(Some(SEGMENT_SIZE)), Verdict::Plaintext);
        let Verdict::Probe(probe) = job.verdict(None) else {
            panic!("a failed segment is probed")
        };
        assert!(probe.last);
        assert_eq!(probe.nonce[11], 1);
        assert_eq!(probe.verdict(Some(1)), Verdict::Failed(Error::TrailingData));
        assert_eq!(probe.verdict(None), Verdict::Failed(Error::Decrypt));
        let last = SegmentJob::new([0; 7], 1, true, TAG_LEN).unwrap();
        assert_eq!(last.verdict(Some(0)), Verdict::Failed(Error::TrailingData));
        let Verdict::Probe(probe) = last.verdict(None) else {
            panic!("a failed final segment is probed")
        };
        assert_eq!(probe.verdict(Some(0)), Verdict::Failed(Error::Truncated));
    }

    #[test]
    fn short_input_is_truncated_and_sizes_are_bounded() {
        let key = Secret::new([3; 32]);
        let (_, header) = Sealer::new(&commitment(&key), [5; 7], 0).unwrap();
        let mut opener = Opener::new(&commitment(&key), &header).unwrap();
        opener.feed(TAG_LEN - 1);
        assert_eq!(opener.finish(), Err(Error::Truncated));
        assert_eq!(
            Opener::new(&[0; 16], &header).map(|_| ()),
            Err(Error::WrongKey)
        );
        assert!(Sealer::new(&[0; 16], [0; 7], MAX_PLAINTEXT_LEN + 1).is_err());
        let (sealer, _) = Sealer::new(&[0; 16], [0; 7], 3 * SEGMENT_SIZE as u64).unwrap();
        assert!(sealer.job(3).is_err());
        assert_eq!(sealer.segments_in(0, HEADER_LEN as u64), 0..0);
        assert_eq!(sealer.segments_in(0, HEADER_LEN as u64 + 1), 0..1);
        assert_eq!(
            sealer.segments_in(HEADER_LEN as u64 + ENCRYPTED_SEGMENT_SIZE as u64, u64::MAX),
            1..3
        );
    }
}
