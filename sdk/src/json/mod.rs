//! The clients' JSON: a strict RFC 8259 reader and a compact writer behind
//! serde, for exactly what the wire and record types use (structs, unit enums,
//! strings, integers, booleans, `null`/options, arrays).
//!
//! Why not serde_json: in the browser modules its number parser, its error
//! messages and the `f64` formatting they pull in cost 13–25 KB gzipped per
//! module, and none of it is needed here. What this reader accepts, and how it
//! differs from serde_json (PROTOCOL.md §10.1 states it for clients):
//!
//! * Strict RFC 8259 text: UTF-8, its four whitespace bytes, its escapes with
//!   `\uXXXX` surrogate pairs; a lone surrogate, a control character in a
//!   string, a leading zero, a trailing comma or data after the value is an
//!   error.
//! * **No floating point.** Integers only, up to `u64`/`i64`; a fraction or
//!   exponent (and `-0`) is a type error where an integer is expected, as with
//!   serde_json. A skipped (unknown) value may be any valid JSON number.
//! * Unknown object keys of lenient types are skipped, and the skipped value is
//!   *validated* like any other (serde_json checks neither UTF-8 nor surrogates
//!   there; this reader does).
//! * A struct field given twice is an error; an unknown key given twice is
//!   skipped twice (both as in serde_json).
//! * Arrays and objects nest at most [`MAX_DEPTH`] − 1 deep (serde_json's
//!   limit), ignored values included, so hostile input cannot exhaust the stack.
//! * A struct is read from an object only (serde_json also takes an array).
//! * Errors carry a kind and a byte offset, never input text, so no secret from
//!   a record reaches an error message.
//!
//! The writer's output is byte-for-byte serde_json's (`to_vec` and
//! `to_vec_pretty`), so record ciphertexts in the vectors do not change.

mod de;
mod ser;

use serde::{Deserialize, Serialize};

/// Nesting limit for arrays and objects: a document nests at most one less.
pub const MAX_DEPTH: usize = 128;

/// What went wrong, without any text from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a value.
    Eof,
    /// A byte that cannot start or continue a value here.
    Syntax,
    /// A bad escape sequence or a lone surrogate.
    Escape,
    /// A control character (U+0000 to U+001F) inside a string.
    Control,
    /// A string that is not UTF-8.
    Utf8,
    /// A malformed number (leading zero, missing digits).
    Number,
    /// An integer outside the target's range.
    Range,
    /// Arrays or objects nested [`MAX_DEPTH`] deep.
    Depth,
    /// Something other than whitespace after the value.
    Trailing,
    /// A value of the wrong JSON type (including a float for an integer).
    Type,
    /// A required field is missing.
    Missing,
    /// A key the type does not allow.
    Unknown,
    /// A field given twice.
    Duplicate,
    /// A value the type refused (bad base64, wrong length, unknown variant).
    Value,
    /// What this module does not read or write (floats, maps, data enums).
    Unsupported,
}

impl ErrorKind {
    fn text(self) -> &'static str {
        match self {
            Self::Eof => "unexpected end",
            Self::Syntax => "syntax error",
            Self::Escape => "invalid escape",
            Self::Control => "control character in string",
            Self::Utf8 => "invalid UTF-8",
            Self::Number => "invalid number",
            Self::Range => "number out of range",
            Self::Depth => "nested too deep",
            Self::Trailing => "trailing data",
            Self::Type => "wrong type",
            Self::Missing => "missing field",
            Self::Unknown => "unknown field",
            Self::Duplicate => "duplicate field",
            Self::Value => "invalid value",
            Self::Unsupported => "unsupported value",
        }
    }
}

// serde's error traits need these.
impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for ErrorKind {}

/// A JSON error: its kind and the byte offset where reading stopped (0 for
/// the writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset in the input.
    pub offset: usize,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} at byte {}", self.kind.text(), self.offset)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The core's error for document `what`.
    pub fn into_core(self, what: &'static str) -> crate::Error {
        crate::Error::Json {
            what,
            reason: self.to_string(),
        }
    }
}

/// Parses one JSON document (nothing but whitespace may follow it).
///
/// # Errors
/// [`Error`] with the kind and offset of the first problem.
pub fn from_slice<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, Error> {
    de::from_slice(json)
}

/// Compact JSON, byte-for-byte what `serde_json::to_vec` writes.
///
/// # Errors
/// [`ErrorKind::Unsupported`] for floats, maps and enums with data.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    ser::to_vec(value, false)
}

/// JSON indented by two spaces, as `serde_json::to_vec_pretty` writes it (for
/// files people read).
///
/// # Errors
/// As [`to_vec`].
pub fn to_vec_pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    ser::to_vec(value, true)
}

/// [`to_vec`] as a `String`.
///
/// # Errors
/// As [`to_vec`].
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    // The writer copies only UTF-8 strings and ASCII.
    to_vec(value).and_then(|v| {
        String::from_utf8(v).map_err(|_| Error {
            kind: ErrorKind::Utf8,
            offset: 0,
        })
    })
}

/// [`from_slice`] with the error as the core's [`crate::Error::Json`] naming `what`.
///
/// # Errors
/// [`crate::Error::Json`].
pub fn read<'a, T: Deserialize<'a>>(json: &'a [u8], what: &'static str) -> crate::Result<T> {
    from_slice(json).map_err(|e| e.into_core(what))
}

/// [`to_vec`] with the error as the core's [`crate::Error::Json`] naming `what`.
///
/// # Errors
/// [`crate::Error::Json`].
pub fn write<T: Serialize + ?Sized>(value: &T, what: &'static str) -> crate::Result<Vec<u8>> {
    to_vec(value).map_err(|e| e.into_core(what))
}
