//! The open code (L3, PROTOCOL.md §12.1): 8 symbols of Crockford's base32, which
//! has no `I`, `L`, `O` or `U`, shown as two groups of four (`7KQ2-M9XD`). Every
//! v2 share gets one at create; the sender passes it on separately from the link
//! and the relay asks for it when the sender requires it or a bind looks automated.
//!
//! People type codes: parsing ignores case, spaces and dashes, and reads `O` as
//! `0` and `I`/`L` as `1`, as Crockford's decoding does. The code is 40 random
//! bits; the relay allows 5 wrong attempts per share, and cannot test guesses
//! offline because the proof also needs the token ([`crate::factor`]).

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::factor::{Factor, Proof};
use crate::token::Token;
use crate::{Error, Result, random};

/// Crockford's base32 symbols, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code.
pub const CODE_LEN: usize = 8;
/// Random bytes a code encodes (8 symbols × 5 bits).
pub const CODE_BYTES: usize = 5;
/// Symbols per group in the display form.
pub const GROUP_LEN: usize = 4;

/// An open code in canonical form (8 upper-case symbols of [`ALPHABET`]). Secret.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct OpenCode([u8; CODE_LEN]);

impl core::fmt::Debug for OpenCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OpenCode(redacted)")
    }
}

impl OpenCode {
    /// Draws a fresh code.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        random::bytes().map(Self::from_random)
    }

    /// The code of 5 random bytes: their 40 bits, most significant first, 5 bits
    /// per symbol.
    pub fn from_random(bytes: [u8; CODE_BYTES]) -> Self {
        let bits = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Self(core::array::from_fn(|i| {
            let shift = 5 * (CODE_LEN - 1 - i);
            ALPHABET[((bits >> shift) & 0x1f) as usize]
        }))
    }

    /// Parses a code as typed or pasted.
    ///
    /// Ignores case, whitespace and dashes (`-` and the Unicode hyphens and dashes
    /// U+2010–U+2015, U+2212), reads `O` as `0` and `I`/`L` as `1`.
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for any other character or a length other than 8
    /// symbols; the message never echoes the input.
    pub fn parse(input: &str) -> Result<Self> {
        let mut out = [0u8; CODE_LEN];
        let mut len = 0;
        for c in input.chars() {
            if c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}') {
                continue;
            }
            let symbol = match c.to_ascii_uppercase() {
                'O' => b'0',
                'I' | 'L' => b'1',
                u if u.is_ascii() && ALPHABET.contains(&(u as u8)) => u as u8,
                _ => {
                    out.zeroize();
                    return Err(Error::InvalidCode(
                        "a code has only the digits 0-9 and the letters A-Z without U",
                    ));
                }
            };
            if len == CODE_LEN {
                out.zeroize();
                return Err(Error::InvalidCode(
                    "a code has 8 characters; this is longer",
                ));
            }
            out[len] = symbol;
            len += 1;
        }
        if len < CODE_LEN {
            out.zeroize();
            return Err(Error::InvalidCode(
                "a code has 8 characters; this is shorter",
            ));
        }
        Ok(Self(out))
    }

    /// The canonical text: 8 symbols, no separator. This is what the proof covers.
    pub fn as_str(&self) -> &str {
        // Only ALPHABET bytes are ever stored, which are ASCII.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The form to show: two groups of four joined by `-` (`7KQ2-M9XD`).
    pub fn display(&self) -> String {
        let (a, b) = self.as_str().split_at(GROUP_LEN);
        format!("{a}-{b}")
    }

    /// The proof of this code for the share of `token`:
    /// `HKDF-Expand(HKDF-Extract(salt = ASCII(code), IKM = T), "oneshare/v2/open-code-proof", 32)`.
    pub fn proof(&self, token: &Token) -> Proof {
        Proof::expand(Factor::OpenCode, &token.extract(Some(&self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_code_parses_back_from_its_display_form(bytes in any::<[u8; 5]>()) {
            let code = OpenCode::from_random(bytes);
            prop_assert_eq!(OpenCode::parse(&code.display())?, code.clone());
            prop_assert_eq!(OpenCode::parse(&code.display().to_lowercase())?, code.clone());
            prop_assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        }

        #[test]
        fn distinct_bytes_give_distinct_codes(a in any::<[u8; 5]>(), b in any::<[u8; 5]>()) {
            prop_assume!(a != b);
            prop_assert_ne!(OpenCode::from_random(a), OpenCode::from_random(b));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = OpenCode::parse(&s);
        }
    }

    #[test]
    fn look_alikes_read_as_digits_and_errors_do_not_echo() {
        assert_eq!(OpenCode::parse("oil0 - 1IL0"), OpenCode::parse("0110 1110"));
        let err = OpenCode::parse("SECRETU1").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| !e.contains("SECRET")));
        assert!(format!("{:?}", OpenCode::from_random([0xff; 5])).contains("redacted"));
    }
}
