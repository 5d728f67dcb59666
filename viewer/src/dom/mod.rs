//! Thin DOM helpers of the page modules.

mod base;
#[cfg(any(feature = "open", feature = "compose"))]
mod page;

pub use base::*;
#[cfg(any(feature = "open", feature = "compose"))]
pub use page::*;
