//! `cargo xtask viewer`: builds the web viewer into `www/dist`, which the relay
//! embeds (server/build.rs) and `--www-dir` can replace.
//!
//! * four wasm modules from `viewer/`: `open` (the only code `/s` loads),
//!   `compose` (only `/` loads it), `download` (the open page's service
//!   worker `sw.js`, or the `save.js` worker where there is no service
//!   worker, loads it when a file is saved) and `passphrase` (Argon2id in the
//!   `stretch.js` worker the open page starts only for a share with a
//!   passphrase), each size-optimized,
//!   through wasm-bindgen and wasm-opt from npm `binaryen` (never Debian's: it
//!   miscompiles), with short import names ([`crate::imports`]);
//! * content-hashed names under `assets/`, and the HTML rewritten to them;
//! * `.br` and `.gz` next to every file, chosen by the relay per request.
//!
//! A module whose wasm did not change since the last run is not re-processed,
//! so later runs take seconds.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::setup::{WASM_TARGET, npm_ci, wasm_tools};
use crate::{Result, root, run, run_in, target_dir};

/// The pages' modules: cargo feature and output name.
const MODULES: [&str; 5] = ["open", "compose", "download", "passphrase", "transfer"];

/// Modules that start themselves when loaded (the service worker's module,
/// `download`, is started by `sw.js`; `passphrase` by `stretch.js`).
const STARTED: [&str; 3] = ["open", "compose", "transfer"];

/// Files of `www/` copied as they are, with a hashed name (referenced from HTML).
const HASHED: [&str; 1] = ["style.css"];

/// Files of `www/` kept at a stable name (pages, the service worker).
const STABLE: [&str; 5] = ["index.html", "s.html", "sw.js", "save.js", "stretch.js"];

fn io(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(io(path))
}

fn write(path: &Path, bytes: &[u8]) -> Result {
    std::fs::write(path, bytes).map_err(io(path))
}

/// The first 16 hex digits of SHA-256: the content part of an asset name.
fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `name.ext` → `name-HASH.ext`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("{stem}-{}.{ext}", short_hash(bytes))
}

/// Builds one module; returns the wasm-bindgen JS and the optimized wasm.
fn module(feature: &str, work: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let wasm = crate::shipped::build("oneshare-viewer", feature)?;
    let raw = read(&wasm)?;
    // The stamp also names the post-processing, so older outputs are redone.
    let fingerprint = format!("{} short-imports", short_hash(&raw));
    let out = work.join(feature);
    let stamp = out.join("fingerprint");
    let js_path = out.join(format!("{feature}.js"));
    let wasm_path = out.join(format!("{feature}_bg.wasm"));
    let fresh = std::fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint)
        && js_path.is_file()
        && wasm_path.is_file();
    if !fresh {
        let out_arg = out.to_string_lossy().into_owned();
        let wasm_arg = wasm.to_string_lossy().into_owned();
        run_in(
            &root(),
            "wasm-bindgen",
            &[
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                feature,
                "--out-dir",
                &out_arg,
                &wasm_arg,
            ],
            &[],
        )?;
        crate::web::wasm_opt(&wasm_path)?;
        crate::imports::minify_files(&wasm_path, &js_path)?;
        write(&stamp, fingerprint.as_bytes())?;
    }
    Ok((read(&js_path)?, read(&wasm_path)?))
}

/// `js` minified by terser (npm, pure JavaScript), through a file in `dir`:
/// the open page's glue goes from 8.5 to 6.8 KB gzipped.
fn minified(dir: &Path, js: &str) -> Result<String> {
    let path = dir.join("shipped.js");
    write(&path, js.as_bytes())?;
    let arg = path.to_string_lossy().into_owned();
    run_in(
        &root().join("npm"),
        "node_modules/.bin/terser",
        &[&arg, "--module", "--compress", "--mangle", "--output", &arg],
        &[],
    )?;
    String::from_utf8(read(&path)?).map_err(|_| "terser wrote non-UTF-8 JS".into())
}

/// `bytes` gzipped by Zopfli: a standard gzip stream that any client
/// inflates, 5 % smaller than zlib's best level (the open page's module
/// 100.6 → 95.5 KB), but seconds per file, so each result is kept under the
/// target dir by content hash and a rebuild compresses only what changed.
fn gzipped(bytes: &[u8]) -> Result<Vec<u8>> {
    let dir = target_dir().join("viewer/zopfli");
    let cached = dir.join(
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    if let Ok(gz) = std::fs::read(&cached) {
        return Ok(gz);
    }
    let mut gz = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut gz,
    )
    .map_err(io(&cached))?;
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write(&cached, &gz)?;
    Ok(gz)
}

/// Writes `bytes` as `dist/name` with its `.br` and `.gz` variants.
fn emit(dist: &Path, name: &str, bytes: &[u8]) -> Result {
    let path = dist.join(name);
    write(&path, bytes)?;
    write(&dist.join(format!("{name}.gz")), &gzipped(bytes)?)?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(bytes).map_err(io(&path))?;
    }
    write(&dist.join(format!("{name}.br")), &br)
}

/// `cargo xtask viewer`: `www/dist` from `viewer/` and `www/`.
pub fn build() -> Result {
    wasm_tools()?;
    npm_ci(&root().join("npm"))?;
    let www = root().join("www");
    let work = target_dir().join("viewer");
    let staging = www.join("dist.new");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(staging.join("assets")).map_err(io(&staging))?;
    // (source reference in the HTML, hashed path) pairs.
    let mut renames: Vec<(String, String)> = Vec::new();
    for feature in MODULES {
        std::fs::create_dir_all(work.join(feature)).map_err(io(&work))?;
        let (js, wasm) = module(feature, &work)?;
        let wasm_name = hashed_name(&format!("{feature}.wasm"), &wasm);
        emit(&staging, &format!("assets/{wasm_name}"), &wasm)?;
        let mut js = String::from_utf8(js).map_err(|_| "wasm-bindgen wrote non-UTF-8 JS")?;
        let wanted = format!("'{feature}_bg.wasm'");
        if !js.contains(&wanted) {
            return Err(format!("{feature}.js does not load {wanted}"));
        }
        js = js.replace(&wanted, &format!("'{wasm_name}'"));
        if STARTED.contains(&feature) {
            // No inline script under the CSP: the module starts itself.
            js.push_str("\n__wbg_init();\n");
        }
        let js = minified(&work.join(feature), &js)?;
        let js_name = hashed_name(&format!("{feature}.js"), js.as_bytes());
        emit(&staging, &format!("assets/{js_name}"), js.as_bytes())?;
        renames.push((format!("/{feature}.js"), format!("/assets/{js_name}")));
    }
    for name in HASHED {
        let bytes = read(&www.join(name))?;
        let hashed = hashed_name(name, &bytes);
        emit(&staging, &format!("assets/{hashed}"), &bytes)?;
        renames.push((format!("/{name}"), format!("/assets/{hashed}")));
    }
    for name in STABLE {
        let mut text = String::from_utf8(read(&www.join(name))?)
            .map_err(|_| format!("{name} is not UTF-8"))?;
        for (from, to) in &renames {
            text = text.replace(&format!("\"{from}\""), &format!("\"{to}\""));
        }
        emit(&staging, name, text.as_bytes())?;
    }
    let dist = www.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::rename(&staging, &dist).map_err(io(&dist))?;
    report(&dist)
}

/// Clippy on the wasm code of both modules (the workspace run is native, where
/// the DOM code is not compiled).
pub fn lint() -> Result {
    for feature in MODULES {
        run(
            "cargo",
            &[
                "clippy",
                "-p",
                "oneshare-viewer",
                "--features",
                feature,
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    Ok(())
}

/// Prints each file's size, gzipped and brotli, for the record.
fn report(dist: &Path) -> Result {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [dist.to_owned(), dist.join("assets")] {
        for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let p = e.map_err(io(&dir))?.path();
            let name = p.to_string_lossy();
            if p.is_file() && !name.ends_with(".gz") && !name.ends_with(".br") {
                files.push(p);
            }
        }
    }
    files.sort();
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    for f in files {
        let gz = PathBuf::from(format!("{}.gz", f.display()));
        let br = PathBuf::from(format!("{}.br", f.display()));
        eprintln!(
            "viewer: {:<40} {:>8} B, {:>7} B gzip, {:>7} B brotli",
            f.strip_prefix(dist).unwrap_or(&f).display(),
            len(&f),
            len(&gz),
            len(&br)
        );
    }
    Ok(())
}
