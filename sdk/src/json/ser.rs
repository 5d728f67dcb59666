//! The writer: a serde `Serializer` into a byte vector, with serde_json's
//! compact and pretty layouts.

use serde::ser::{self, Impossible, Serialize};

use super::{Error, ErrorKind as K};

type Result<T = ()> = core::result::Result<T, K>;

impl ser::Error for K {
    fn custom<T: core::fmt::Display>(_: T) -> Self {
        K::Unsupported
    }
}

pub(super) fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    pretty: bool,
) -> core::result::Result<Vec<u8>, Error> {
    let mut w = Writer {
        out: Vec::new(),
        pretty,
        depth: 0,
    };
    value
        .serialize(&mut w)
        .map_err(|kind| Error { kind, offset: 0 })?;
    Ok(w.out)
}

struct Writer {
    out: Vec<u8>,
    pretty: bool,
    depth: usize,
}

impl Writer {
    fn open(&mut self, token: u8) -> Compound<'_> {
        self.out.push(token);
        self.depth += 1;
        Compound {
            w: self,
            first: true,
        }
    }

    fn newline(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    fn uint(&mut self, mut n: u64) {
        let mut buf = [0; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    /// A string with serde_json's escapes: `"`, `\` and control characters.
    fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x0c => b'f',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0..=0x1f => b'u',
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[start..i]);
            start = i + 1;
            self.out.extend_from_slice(&[b'\\', short]);
            if short == b'u' {
                self.out.extend_from_slice(&[
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]);
            }
        }
        self.out.extend_from_slice(&bytes[start..]);
        self.out.push(b'"');
    }
}

/// An array or object being written.
struct Compound<'w> {
    w: &'w mut Writer,
    first: bool,
}

impl Compound<'_> {
    /// Before each element: the comma, and the line break when pretty.
    fn item(&mut self) {
        if !self.first {
            self.w.out.push(b',');
        }
        self.first = false;
        if self.w.pretty {
            self.w.newline();
        }
    }

    fn close(self, token: u8) -> Result {
        self.w.depth -= 1;
        if self.w.pretty && !self.first {
            self.w.newline();
        }
        self.w.out.push(token);
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item();
        value.serialize(&mut *self.w)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result {
        self.item();
        self.w.string(key);
        self.w
            .out
            .extend_from_slice(if self.w.pretty { b": " } else { b":" });
        value.serialize(&mut *self.w)
    }
}

impl<'w> ser::Serializer for &'w mut Writer {
    type Ok = ();
    type Error = K;
    type SerializeSeq = Compound<'w>;
    type SerializeTuple = Impossible<(), K>;
    type SerializeTupleStruct = Impossible<(), K>;
    type SerializeTupleVariant = Impossible<(), K>;
    type SerializeMap = Impossible<(), K>;
    type SerializeStruct = Compound<'w>;
    type SerializeStructVariant = Impossible<(), K>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        if v < 0 {
            self.out.push(b'-');
        }
        self.uint(v.unsigned_abs());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.uint(v);
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result {
        Err(K::Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result {
        Err(K::Unsupported)
    }
    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(K::Unsupported)
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(K::Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w>> {
        Ok(self.open(b'['))
    }
    // No wire type is a tuple (fixed-size byte arrays are base64 strings).
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(K::Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(K::Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(K::Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(K::Unsupported)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'w>> {
        Ok(self.open(b'{'))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(K::Unsupported)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = K;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b']')
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = K;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn end(self) -> Result {
        self.close(b'}')
    }
}
