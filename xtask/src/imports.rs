//! Short import names for the shipped wasm modules (the viewer's and the npm
//! package's).
//!
//! wasm-bindgen names every imported JavaScript function after the method and
//! a 16-digit hash (`__wbg_set_body_877d5251e78ca815`), and that name is
//! written twice: in the wasm import section and as a key of the glue's import
//! object. Hex digits hardly compress, so the open page carried about 7 KB
//! gzipped of them (its module 105.2 → 100.8 KB, its glue 7.1 → 4.5 KB). This
//! pass renames each import to a short name (`a`, `b`, … `aa`, …) in both
//! files; nothing else changes, so the module behaves exactly as before.
//!
//! The glue must name each import exactly once, as an object key
//! (`NAME: function(…)`); anything else fails the build rather than ship a
//! module whose imports do not resolve.

use std::path::Path;

use crate::Result;

/// Letters only: every short name is a JavaScript identifier.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The `k`th short name.
fn short(mut k: usize) -> String {
    let mut name = vec![ALPHABET[k % ALPHABET.len()]];
    k /= ALPHABET.len();
    while k > 0 {
        name.push(ALPHABET[k % ALPHABET.len()]);
        k /= ALPHABET.len();
    }
    String::from_utf8(name).unwrap_or_default()
}

/// Reads an unsigned LEB128 number at `*at`.
fn leb(bytes: &[u8], at: &mut usize) -> Result<usize> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at).ok_or("wasm: truncated number")?;
        *at += 1;
        value |= usize::from(byte & 0x7f)
            .checked_shl(shift)
            .ok_or("wasm: number too large")?;
        if byte < 0x80 {
            return Ok(value);
        }
        shift += 7;
    }
}

/// Appends `value` as unsigned LEB128.
fn put_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        // The low seven bits.
        #[allow(clippy::cast_possible_truncation)]
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The `len`-prefixed bytes at `*at`.
fn name<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a [u8]> {
    let len = leb(bytes, at)?;
    let end = at.checked_add(len).ok_or("wasm: bad name")?;
    let name = bytes.get(*at..end).ok_or("wasm: truncated name")?;
    *at = end;
    Ok(name)
}

/// Skips resizable limits (a flags byte, the minimum, the maximum if flagged).
fn limits(bytes: &[u8], at: &mut usize) -> Result {
    let flags = leb(bytes, at)?;
    leb(bytes, at)?;
    if flags & 1 == 1 {
        leb(bytes, at)?;
    }
    Ok(())
}

/// Skips one import description (function, table, memory, global or tag).
fn skip_description(bytes: &[u8], at: &mut usize) -> Result {
    let kind = *bytes.get(*at).ok_or("wasm: truncated import")?;
    *at += 1;
    match kind {
        0 => leb(bytes, at).map(drop),
        1 => {
            *at += 1;
            limits(bytes, at)
        }
        2 => limits(bytes, at),
        3 => {
            *at += 2;
            Ok(())
        }
        4 => {
            *at += 1;
            leb(bytes, at).map(drop)
        }
        _ => Err(format!("wasm: unknown import kind {kind}")),
    }
}

/// [`minify`] on the files `wasm` and its glue `js`, in place.
///
/// # Errors
/// As [`minify`], or a file cannot be read or written.
pub fn minify_files(wasm: &Path, js: &Path) -> Result {
    fn io(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
        move |e| format!("{}: {e}", path.display())
    }
    let module = std::fs::read(wasm).map_err(io(wasm))?;
    let glue = std::fs::read_to_string(js).map_err(io(js))?;
    let (module, glue) = minify(&module, &glue)?;
    std::fs::write(wasm, module).map_err(io(wasm))?;
    std::fs::write(js, glue).map_err(io(js))
}

/// Renames every import of `wasm` (a module from wasm-bindgen) to a short name,
/// and its key in the glue `js`. Returns the new module and glue.
///
/// # Errors
/// The module does not parse, or the glue does not name an import exactly
/// once as an object key.
pub fn minify(wasm: &[u8], js: &str) -> Result<(Vec<u8>, String)> {
    if wasm.get(..4) != Some(b"\0asm".as_slice()) || wasm.len() < 8 {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut js = js.to_owned();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)?;
        let end = at.checked_add(size).ok_or("wasm: bad section size")?;
        let section = wasm.get(at..end).ok_or("wasm: truncated section")?;
        if id == 2 {
            let mut body = Vec::with_capacity(section.len());
            let mut p = 0;
            let count = leb(section, &mut p)?;
            put_leb(&mut body, count);
            for k in 0..count {
                let module = name(section, &mut p)?;
                let old = std::str::from_utf8(name(section, &mut p)?)
                    .map_err(|_| "wasm: import name is not UTF-8")?;
                let start = p;
                skip_description(section, &mut p)?;
                let new = short(k);
                js = rename_key(&js, old, &new)?;
                put_leb(&mut body, module.len());
                body.extend_from_slice(module);
                put_leb(&mut body, new.len());
                body.extend_from_slice(new.as_bytes());
                body.extend_from_slice(section.get(start..p).ok_or("wasm: bad import")?);
            }
            if p != section.len() {
                return Err("wasm: trailing bytes in the import section".into());
            }
            out.push(2);
            put_leb(&mut out, body.len());
            out.extend_from_slice(&body);
        } else {
            out.push(id);
            put_leb(&mut out, size);
            out.extend_from_slice(section);
        }
        at = end;
    }
    Ok((out, js))
}

/// `js` with the object key `old` (`old: …`, after white space) renamed to
/// `new`; it must occur exactly once.
fn rename_key(js: &str, old: &str, new: &str) -> Result<String> {
    let key = format!("{old}: ");
    let found: Vec<usize> = js
        .match_indices(&key)
        .map(|(i, _)| i)
        .filter(|&i| js[..i].ends_with(char::is_whitespace))
        .collect();
    match found.as_slice() {
        [i] => Ok(format!("{}{new}: {}", &js[..*i], &js[i + key.len()..])),
        _ => Err(format!(
            "the glue names the import {old} {} times, not once",
            found.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{minify, short};

    /// A module with a type section, two function imports of module `m` and a
    /// custom section after them.
    fn module(names: &[&str]) -> Vec<u8> {
        let mut imports = vec![u8::try_from(names.len()).unwrap_or(0)];
        for n in names {
            imports.extend_from_slice(&[1, b'm', u8::try_from(n.len()).unwrap_or(0)]);
            imports.extend_from_slice(n.as_bytes());
            imports.extend_from_slice(&[0, 0]);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        wasm.push(2);
        wasm.push(u8::try_from(imports.len()).unwrap_or(0));
        wasm.extend_from_slice(&imports);
        wasm.extend_from_slice(&[0, 3, 2, b'x', b'y']);
        wasm
    }

    #[test]
    fn renames_the_imports_in_module_and_glue() {
        let js = "{\n  __wbg_f_0123: function() {},\n  __wbg_f_01234: function() {},\n}";
        let (wasm, js) = minify(&module(&["__wbg_f_0123", "__wbg_f_01234"]), js).unwrap();
        assert_eq!(wasm, module(&["a", "b"]));
        assert_eq!(js, "{\n  a: function() {},\n  b: function() {},\n}");
    }

    #[test]
    fn refuses_glue_that_does_not_name_an_import_once() {
        let wasm = module(&["__wbg_f_0123"]);
        assert!(minify(&wasm, "{ other: function() {} }").is_err());
        assert!(minify(&wasm, "{ __wbg_f_0123: 1, __wbg_f_0123: 2 }").is_err());
        // A mention that is not a key (no white space before it) is no match.
        assert!(minify(&wasm, "{ x.__wbg_f_0123: 1 }").is_err());
    }

    #[test]
    fn refuses_what_is_not_a_module() {
        assert!(minify(b"not wasm", "").is_err());
        let mut cut = module(&["__wbg_f_0123"]);
        cut.truncate(20);
        assert!(minify(&cut, "{ __wbg_f_0123: 1 }").is_err());
    }

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..3000).map(short).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
        assert_eq!((short(0).as_str(), short(52).as_str()), ("a", "ab"));
    }
}
