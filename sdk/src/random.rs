//! The single source of randomness. Every function that needs random bytes has a
//! twin taking them as an argument, so test vectors are reproducible; this module
//! is only called by those convenience twins.

use crate::{Error, Result};

/// Returns `N` bytes from the operating system (or `crypto.getRandomValues` in
/// the browser).
///
/// # Errors
/// [`Error::Random`] when the platform generator fails.
pub fn bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| Error::Random)?;
    Ok(out)
}
