//! Browser side of the build: `cargo xtask npm` (wasm + the `@oneshare/sdk`
//! package), the wasm-bindgen tests in headless Chromium, the Playwright package
//! smoke test, and `cargo xtask bench-browser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, root, run, run_in};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The exact `wasm-bindgen` version in Cargo.lock: the CLI must match it.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(v.to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// Installs the wasm32 target and the matching wasm-bindgen CLI when missing.
/// `--locked` is left off on purpose (see TOOLCHAIN.md).
pub fn ensure_tools() -> Result {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == WASM_TARGET) {
        run("rustup", &["target", "add", WASM_TARGET])?;
    }
    let version = locked_wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have != format!("wasm-bindgen {version}") {
        run(
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &version],
        )?;
    }
    Ok(())
}

pub fn npm_ci(dir: &Path) -> Result {
    if dir.join("node_modules").is_dir() {
        return Ok(());
    }
    run_in(
        dir,
        "npm",
        &["ci", "--no-audit", "--no-fund"],
        &[("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")],
    )
}

fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn gzip_len(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot start gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

/// `cargo xtask npm`: release wasm build, wasm-bindgen, wasm-opt (binaryen from
/// npm, never Debian's: it miscompiles current wasm-bindgen output), into
/// `npm/dist/`, then the TypeScript check of the curated `index.d.ts`.
pub fn npm() -> Result {
    ensure_tools()?;
    let npm_dir = root().join("npm");
    npm_ci(&npm_dir)?;
    // Size over speed for the wasm: bulk AES runs in SubtleCrypto, so opt-level
    // "z" with fat LTO costs little (HPKE seal 1.1 → 1.5 ms) and saves ~35 KB
    // gzipped. Set through the environment so the workspace profile (the relay's
    // release build) is untouched.
    run_in(
        &root(),
        "cargo",
        &[
            "build",
            "-p",
            "oneshare-sdk",
            "--lib",
            "--features",
            "wasm",
            "--target",
            WASM_TARGET,
            "--release",
        ],
        &[
            ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
            ("CARGO_PROFILE_RELEASE_LTO", "fat"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
        ],
    )?;
    let wasm = target_dir().join(format!("{WASM_TARGET}/release/oneshare_sdk.wasm"));
    let dist = npm_dir.join("dist");
    let wasm_arg = wasm.to_string_lossy().into_owned();
    let dist_arg = dist.to_string_lossy().into_owned();
    run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "oneshare_sdk",
            "--out-dir",
            &dist_arg,
            &wasm_arg,
        ],
    )?;
    let out = dist.join("oneshare_sdk_bg.wasm");
    let before = file_len(&out)?;
    let out_arg = out.to_string_lossy().into_owned();
    run_in(
        &npm_dir,
        "node_modules/.bin/wasm-opt",
        &[
            "-Oz",
            "--enable-bulk-memory",
            "--enable-reference-types",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-multivalue",
            "--enable-mutable-globals",
            &out_arg,
            "-o",
            &out_arg,
        ],
        &[],
    )?;
    eprintln!(
        "wasm: {} bytes after wasm-bindgen, {} bytes after wasm-opt, {} bytes gzipped",
        before,
        file_len(&out)?,
        gzip_len(&out)?
    );
    run_in(
        &npm_dir,
        "node_modules/.bin/tsc",
        &["--noEmit", "-p", "."],
        &[],
    )
}

/// wasm-bindgen tests of the bindings in headless Chromium.
pub fn wasm_tests() -> Result {
    ensure_tools()?;
    run(
        "cargo",
        &[
            "test",
            "-p",
            "oneshare-sdk",
            "--features",
            "wasm",
            "--target",
            WASM_TARGET,
            "--test",
            "web",
        ],
    )
}

/// Builds the relay binary and returns its path (the smoke test starts it).
fn relay_binary() -> Result<PathBuf> {
    run("cargo", &["build", "-p", "oneshare-server", "--bins"])?;
    Ok(target_dir().join("debug/oneshare-server"))
}

/// Playwright against the packed tarball in a Vite app and a plain module page.
pub fn package_tests(extra: &[&str]) -> Result {
    npm()?;
    let relay = relay_binary()?;
    let npm_dir = root().join("npm");
    let tests_dir = root().join("tests");
    let pack_dir = tests_dir.join(".pack");
    // A fresh directory each time, so exactly one tarball is found below.
    let _ = std::fs::remove_dir_all(&pack_dir);
    std::fs::create_dir_all(&pack_dir).map_err(|e| format!("{}: {e}", pack_dir.display()))?;
    run_in(
        &npm_dir,
        "npm",
        &["pack", "--pack-destination", "../tests/.pack"],
        &[],
    )?;
    npm_ci(&tests_dir)?;
    // The tarball changes on every build: install it over whatever is there.
    let tarball = std::fs::read_dir(tests_dir.join(".pack"))
        .map_err(|e| format!("tests/.pack: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or("npm pack produced no tarball")?;
    let tarball_arg = tarball.to_string_lossy().into_owned();
    run_in(
        &tests_dir,
        "npm",
        &[
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            &tarball_arg,
        ],
        &[],
    )?;
    run_in(&tests_dir, "npx", &["vite", "build"], &[])?;
    let relay_arg = relay.to_string_lossy().into_owned();
    let mut args = vec!["playwright", "test"];
    args.extend_from_slice(extra);
    run_in(
        &tests_dir,
        "npx",
        &args,
        &[
            ("ONESHARE_RELAY_BIN", relay_arg.as_str()),
            ("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
        ],
    )
}

/// The browser stage of `cargo xtask test`.
pub fn browser_tests() -> Result {
    wasm_tests()?;
    package_tests(&["--grep-invert", "@bench"])
}

/// `cargo xtask bench-browser`: the browser benchmarks (Playwright `@bench`).
pub fn bench_browser() -> Result {
    package_tests(&["--grep", "@bench", "--reporter", "list"])
}
