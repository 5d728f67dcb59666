//! The reader: a serde `Deserializer` over a byte slice.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use zeroize::Zeroize;

use super::{Error, ErrorKind as K, MAX_DEPTH};

type Result<T> = core::result::Result<T, K>;

// serde's default methods format a message (and, through `Unexpected::Float`,
// link `f64` formatting); every one is overridden to keep only the kind.
impl de::Error for K {
    fn custom<T: core::fmt::Display>(_: T) -> Self {
        K::Value
    }
    fn invalid_type(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Self {
        K::Type
    }
    fn invalid_value(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Self {
        K::Value
    }
    fn invalid_length(_: usize, _: &dyn de::Expected) -> Self {
        K::Value
    }
    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        K::Value
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        K::Unknown
    }
    fn missing_field(_: &'static str) -> Self {
        K::Missing
    }
    fn duplicate_field(_: &'static str) -> Self {
        K::Duplicate
    }
}

pub(super) fn from_slice<'a, T: de::Deserialize<'a>>(
    input: &'a [u8],
) -> core::result::Result<T, Error> {
    let mut de = Reader {
        input,
        pos: 0,
        depth: 0,
        scratch: Vec::new(),
    };
    let value = T::deserialize(&mut de).and_then(|v| match de.peek() {
        None => Ok(v),
        Some(_) => Err(K::Trailing),
    });
    value.map_err(|kind| Error {
        kind,
        offset: de.pos,
    })
}

/// A number as read.
enum Num {
    /// An integer that fits 64 bits: negative, magnitude (at most 2^63 if negative).
    Int(bool, u64),
    /// A fraction, an exponent or `-0` (serde_json reads these as floats).
    Float,
    /// An integer beyond 64 bits.
    Big,
}

/// A string as read: borrowed from the input when it has no escapes.
enum Str<'a, 's> {
    Input(&'a str),
    Scratch(&'s str),
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    depth: usize,
    /// Unescaped strings (record values are secrets: wiped on drop).
    scratch: Vec<u8>,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.scratch.zeroize();
    }
}

impl<'a> Reader<'a> {
    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.input.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// [`Self::peek`], where the input may not end.
    fn next_token(&mut self) -> Result<u8> {
        self.peek().ok_or(K::Eof)
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.input.get(self.pos).ok_or(K::Eof)?;
        self.pos += 1;
        Ok(b)
    }

    /// Consumes `token` after whitespace.
    fn eat(&mut self, token: u8) -> Result<()> {
        if self.next_token()? != token {
            return Err(K::Syntax);
        }
        self.pos += 1;
        Ok(())
    }

    /// Consumes the literal `word` (`true`, `false`, `null`).
    fn literal(&mut self, word: &[u8]) -> Result<()> {
        let end = self.pos + word.len();
        match self.input.get(self.pos..end) {
            Some(got) if got == word => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(K::Syntax),
            None => Err(K::Eof),
        }
    }

    /// Enters an array or object after its opening byte.
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(K::Depth);
        }
        self.pos += 1;
        Ok(())
    }

    /// A string; the reader stands on its opening quote.
    fn string<'s>(&'s mut self) -> Result<Str<'a, 's>> {
        self.pos += 1;
        let mut start = self.pos;
        let mut escaped = false;
        loop {
            match self.byte()? {
                b'"' => break,
                b'\\' => {
                    if !escaped {
                        escaped = true;
                        self.scratch.clear();
                        // One allocation: no copy of a secret left behind by growth.
                        self.scratch.reserve(self.input.len() - start);
                    }
                    self.scratch
                        .extend_from_slice(&self.input[start..self.pos - 1]);
                    self.escape()?;
                    start = self.pos;
                }
                0..=0x1f => return Err(K::Control),
                _ => {}
            }
        }
        let tail = &self.input[start..self.pos - 1];
        if escaped {
            self.scratch.extend_from_slice(tail);
            core::str::from_utf8(&self.scratch)
                .map(Str::Scratch)
                .map_err(|_| K::Utf8)
        } else {
            core::str::from_utf8(tail)
                .map(Str::Input)
                .map_err(|_| K::Utf8)
        }
    }

    /// One escape after its backslash, appended to the scratch buffer.
    fn escape(&mut self) -> Result<()> {
        let c = match self.byte()? {
            b @ (b'"' | b'\\' | b'/') => b,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xd800..=0xdbff => {
                        if self.byte()? != b'\\' || self.byte()? != b'u' {
                            return Err(K::Escape);
                        }
                        let lo = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&lo) {
                            return Err(K::Escape);
                        }
                        0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                    }
                    _ => hi,
                };
                // None for a lone low surrogate.
                let ch = char::from_u32(code).ok_or(K::Escape)?;
                let mut buf = [0; 4];
                self.scratch
                    .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return Err(K::Escape),
        };
        self.scratch.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let d = char::from(self.byte()?).to_digit(16).ok_or(K::Escape)?;
            n = n * 16 + d;
        }
        Ok(n)
    }

    /// Digits from the current position; how many.
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.input.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number, checked against RFC 8259's grammar.
    fn number(&mut self) -> Result<Num> {
        let negative = self.input.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        let n = self.digits();
        if n == 0 || (n > 1 && self.input[start] == b'0') {
            return Err(K::Number);
        }
        let int = &self.input[start..self.pos];
        let mut float = negative && int == b"0";
        if self.input.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(K::Number);
            }
            float = true;
        }
        if matches!(self.input.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.input.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(K::Number);
            }
            float = true;
        }
        let magnitude = int.iter().try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        Ok(match magnitude {
            _ if float => Num::Float,
            Some(m) if !negative || m <= 1 << 63 => Num::Int(negative, m),
            _ => Num::Big,
        })
    }

    /// Reads a value of any type without keeping it, checking it all the same.
    fn skip(&mut self) -> Result<()> {
        match self.next_token()? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.enter()?;
                let mut first = true;
                while self.more(b'}', &mut first)? {
                    self.key()?;
                    self.string()?;
                    self.eat(b':')?;
                    self.skip()?;
                }
                self.leave(b'}')
            }
            b'[' => {
                self.enter()?;
                let mut first = true;
                while self.more(b']', &mut first)? {
                    self.skip()?;
                }
                self.leave(b']')
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => Err(K::Syntax),
        }
    }

    /// Whether another element follows in an array or object (consuming the
    /// comma before it); a trailing comma is an error.
    fn more(&mut self, close: u8, first: &mut bool) -> Result<bool> {
        let b = self.next_token()?;
        if b == close && *first {
            return Ok(false);
        }
        if !*first {
            if b == close {
                return Ok(false);
            }
            if b != b',' {
                return Err(K::Syntax);
            }
            self.pos += 1;
            if self.next_token()? == close {
                return Err(K::Syntax);
            }
        }
        *first = false;
        Ok(true)
    }

    /// Stands on an object key's opening quote.
    fn key(&mut self) -> Result<()> {
        if self.next_token()? == b'"' {
            Ok(())
        } else {
            Err(K::Syntax)
        }
    }

    /// Leaves an array or object at its closing byte.
    fn leave(&mut self, close: u8) -> Result<()> {
        self.depth -= 1;
        self.eat(close)
    }

    /// An array or object (`open` … `close`) read by `read`; another value is
    /// the wrong type.
    fn nested<T>(
        &mut self,
        open: u8,
        close: u8,
        read: impl FnOnce(Items<'_, 'a>) -> Result<T>,
    ) -> Result<T> {
        if self.next_token()? != open {
            return Err(K::Type);
        }
        self.enter()?;
        let value = read(Items {
            de: self,
            first: true,
        })?;
        self.leave(close)?;
        Ok(value)
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = K;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next_token()? {
            b'"' => match self.string()? {
                Str::Input(s) => visitor.visit_borrowed_str(s),
                Str::Scratch(s) => visitor.visit_str(s),
            },
            b'{' => self.deserialize_map(visitor),
            b'[' => self.deserialize_seq(visitor),
            b't' => self
                .literal(b"true")
                .and_then(|()| visitor.visit_bool(true)),
            b'f' => self
                .literal(b"false")
                .and_then(|()| visitor.visit_bool(false)),
            b'n' => self.literal(b"null").and_then(|()| visitor.visit_unit()),
            b'-' | b'0'..=b'9' => match self.number()? {
                Num::Int(false, m) => visitor.visit_u64(m),
                // m <= 2^63, so the two's-complement negation fits.
                #[allow(clippy::cast_possible_wrap)]
                Num::Int(true, m) => visitor.visit_i64((m as i64).wrapping_neg()),
                Num::Float => Err(K::Type),
                Num::Big => Err(K::Range),
            },
            _ => Err(K::Syntax),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.next_token()? == b'n' {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.nested(b'[', b']', |items| visitor.visit_seq(items))
    }

    /// Objects only: unlike serde_json, an array is not read as a struct.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.nested(b'{', b'}', |items| visitor.visit_map(items))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    /// Unit variants only, as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if self.next_token()? != b'"' {
            return Err(K::Type);
        }
        match self.string()? {
            Str::Input(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            Str::Scratch(s) => visitor.visit_enum(s.into_deserializer()),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(K::Unsupported)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(K::Unsupported)
    }

    // The type's own visitor refuses a value of the wrong kind (and checks an
    // integer's range), so one reader serves all of these.
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes
        byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

/// The elements of an array, or the entries of an object.
struct Items<'r, 'a> {
    de: &'r mut Reader<'a>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = K;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.de.more(b']', &mut self.first)? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = K;

    fn next_key_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.de.more(b'}', &mut self.first)? {
            return Ok(None);
        }
        self.de.key()?;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        self.de.eat(b':')?;
        seed.deserialize(&mut *self.de)
    }
}
