//! Browser side of the build: `cargo xtask npm` (wasm + the `@oneshare/sdk`
//! package), the wasm-bindgen tests in headless Chromium, the Playwright package
//! smoke test, and `cargo xtask bench-browser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{WASM_TARGET, npm_ci};
use crate::{Result, root, run, run_in, target_dir};

fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The npm client module's size budget, gzipped (`cargo xtask npm` fails over it).
const NPM_BUDGET_GZIP: u64 = 150_000;

fn gzip_len(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot start gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

/// `cargo xtask npm`: release wasm builds, wasm-bindgen, wasm-opt (binaryen from
/// npm, never Debian's: it miscompiles current wasm-bindgen output), into
/// `npm/dist/`, then the TypeScript check of the curated `index.d.ts`. Two
/// modules: the client (`oneshare_web`, feature `js`) and Argon2id alone
/// (`oneshare_stretch`, feature `stretch`), which `src/stretch.mjs` loads in a
/// worker only for passphrase shares.
pub fn npm() -> Result {
    crate::setup::wasm_tools()?;
    let npm_dir = root().join("npm");
    npm_ci(&npm_dir)?;
    let dist = npm_dir.join("dist");
    // Fresh output: nothing of an earlier build (or module name) is packed.
    let _ = std::fs::remove_dir_all(&dist);
    for (feature, name) in [("js", "oneshare_web"), ("stretch", "oneshare_stretch")] {
        npm_module(feature, name, &dist)?;
    }
    // Issue 10's budget for the client module apps load, gzipped as `gzip -9`.
    let client = gzip_len(&dist.join("oneshare_web_bg.wasm"))?;
    if client > NPM_BUDGET_GZIP {
        return Err(format!(
            "npm/dist/oneshare_web_bg.wasm is {client} bytes gzipped, over its {NPM_BUDGET_GZIP}-byte budget"
        ));
    }
    run_in(
        &npm_dir,
        "node_modules/.bin/tsc",
        &["--noEmit", "-p", "."],
        &[],
    )
}

/// One module of the package: `oneshare-web` with `feature`, as `dist/{name}*`.
fn npm_module(feature: &str, name: &str, dist: &Path) -> Result {
    let wasm = crate::shipped::build("oneshare-web", feature)?;
    let wasm_arg = wasm.to_string_lossy().into_owned();
    let dist_arg = dist.to_string_lossy().into_owned();
    let mut args = vec![
        "--target",
        "web",
        "--out-name",
        name,
        "--out-dir",
        &dist_arg,
    ];
    if feature == "stretch" {
        // Loaded by src/stretch-worker.mjs only; the package declares no types for it.
        args.push("--no-typescript");
    }
    args.push(&wasm_arg);
    run("wasm-bindgen", &args)?;
    let out = dist.join(format!("{name}_bg.wasm"));
    let before = file_len(&out)?;
    wasm_opt(&out)?;
    crate::imports::minify_files(&out, &dist.join(format!("{name}.js")))?;
    eprintln!(
        "{name}.wasm: {} bytes after wasm-bindgen, {} bytes after wasm-opt, {} bytes gzipped",
        before,
        file_len(&out)?,
        gzip_len(&out)?
    );
    Ok(())
}

/// The core's vector suite (every positive and negative case of `sdk/vectors/`)
/// compiled to wasm32, as the browser modules ship it, run in Node by
/// wasm-bindgen-test.
pub fn wasm_vectors() -> Result {
    crate::setup::wasm_tools()?;
    run(
        "cargo",
        &[
            "test",
            "-p",
            "oneshare-sdk",
            "--target",
            WASM_TARGET,
            "--test",
            "vectors",
        ],
    )
}

/// A relay process on a free port with a fresh SQLite database, stopped (and its
/// data removed) when dropped. `cors_origin` is the page origin allowed to call it.
struct TestRelay {
    child: std::process::Child,
    dir: PathBuf,
    url: String,
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A free port whose successor is free too (`tests/serve.mjs` serves on PORT and
/// runs the relay on PORT+1), so a run never collides with another on the machine.
fn free_port_pair() -> Result<u16> {
    for _ in 0..100 {
        let port = free_port()?;
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err("no two free consecutive ports".into())
}

impl TestRelay {
    fn start(binary: &Path, cors_origin: &str) -> Result<Self> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("oneshare-web-test-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Every test talks from 127.0.0.1: lift the per-client rate limits, and
        // use two-segment parts so small files upload in several parts.
        let config = dir.join("oneshare.toml");
        std::fs::write(
            &config,
            "[limits]\nrequests_per_minute = 100000\nbinds_per_minute = 10000\nshare_requests_per_minute = 100000\npart_segments = 2\n",
        )
        .map_err(|e| format!("{}: {e}", config.display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--database")
            .arg(format!("sqlite://{}", dir.join("oneshare.db").display()))
            .arg("--data-dir")
            .arg(&dir)
            .args(["--public-url", &url, "--cors-origin", cors_origin])
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let relay = Self { child, dir, url };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(relay);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err("the relay did not start".into())
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// wasm-bindgen tests of the browser client (`web/tests/client.rs`) in headless
/// Chromium against a real relay process.
pub fn client_tests() -> Result {
    crate::setup::wasm_tools()?;
    let relay_bin = relay_binary(false)?;
    let page = format!("127.0.0.1:{}", free_port()?);
    let relay = TestRelay::start(&relay_bin, &format!("http://{page}"))?;
    run_in(
        &root(),
        "cargo",
        &[
            "test",
            "-p",
            "oneshare-web",
            "--target",
            WASM_TARGET,
            // The lib's own Chromium tests (the CFRG HPKE vector through WebCrypto).
            "--lib",
            "--test",
            "client",
        ],
        &[
            ("ONESHARE_TEST_RELAY", relay.url.as_str()),
            ("WASM_BINDGEN_TEST_ADDRESS", page.as_str()),
            ("WASM_BINDGEN_TEST_TIMEOUT", "180"),
        ],
    )
}

/// Builds the viewer, then the relay binary that embeds it (release for
/// benchmarks), and returns the binary's path (the Playwright server starts it).
fn relay_binary(release: bool) -> Result<PathBuf> {
    crate::viewer::build()?;
    crate::relay::build(release)
}

/// The last commit whose `@oneshare/sdk` was the JavaScript client over the
/// core's bindings: `cargo xtask bench-browser` times it next to this one.
const PREVIOUS_PACKAGE: &str = "98dd6a3c917ca1fe43765c5aa558e2bee712cf2a";

/// Builds the previous package from git the way its own `cargo xtask npm` did
/// (release wasm of `oneshare-sdk --features wasm` at opt-level "z", fat LTO,
/// wasm-bindgen, wasm-opt -Oz) in its own target dir under ours, once per
/// commit; returns its `npm/` directory (the package files as packed).
fn previous_package() -> Result<PathBuf> {
    let work = target_dir().join("previous-package");
    let src = work.join("src");
    let npm_dir = src.join("npm");
    let wasm_out = npm_dir.join("dist/oneshare_sdk_bg.wasm");
    let stamp = work.join("built");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == PREVIOUS_PACKAGE) && wasm_out.is_file() {
        return Ok(npm_dir);
    }
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    eprintln!(
        "$ git archive {PREVIOUS_PACKAGE} | tar -x -C {}",
        src.display()
    );
    let mut archive = Command::new("git")
        .args(["archive", "--format=tar", PREVIOUS_PACKAGE])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start git: {e}"))?;
    let tar_in = archive.stdout.take().ok_or("git archive gave no output")?;
    let untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&src)
        .stdin(tar_in)
        .status()
        .map_err(|e| format!("cannot start tar: {e}"))?;
    let archived = archive.wait().map_err(|e| format!("git archive: {e}"))?;
    if !untar.success() || !archived.success() {
        return Err(format!(
            "cannot check out {PREVIOUS_PACKAGE} (a shallow clone?)"
        ));
    }
    let prev_target = work.join("target");
    let prev_target_arg = prev_target.to_string_lossy().into_owned();
    run_in(
        &src,
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
            ("CARGO_TARGET_DIR", prev_target_arg.as_str()),
            ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
            ("CARGO_PROFILE_RELEASE_LTO", "fat"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
        ],
    )?;
    let wasm = prev_target.join(format!("{WASM_TARGET}/release/oneshare_sdk.wasm"));
    let dist_arg = npm_dir.join("dist").to_string_lossy().into_owned();
    let wasm_arg = wasm.to_string_lossy().into_owned();
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
    wasm_opt(&wasm_out)?;
    eprintln!(
        "previous package ({}): wasm {} bytes, {} bytes gzipped",
        &PREVIOUS_PACKAGE[..7],
        file_len(&wasm_out)?,
        gzip_len(&wasm_out)?
    );
    std::fs::write(&stamp, PREVIOUS_PACKAGE).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(npm_dir)
}

/// Builds the `oneshare` CLI and returns its path (the interop spec runs it).
fn cli_binary() -> Result<PathBuf> {
    run(
        "cargo",
        &["build", "-p", "oneshare-cli", "--bin", "oneshare"],
    )?;
    Ok(target_dir().join("debug/oneshare"))
}

/// Playwright: the packed tarball in a Vite app and a plain module page, and
/// the relay's own web viewer (specs/viewer.spec.mjs), against a debug relay;
/// `bench` runs the `@bench` tests instead, against a release relay, with the
/// previous package served at `/prev/` for the side-by-side figures.
fn package_tests(bench: bool) -> Result {
    npm()?;
    let relay = relay_binary(bench)?;
    let previous = if bench {
        Some(previous_package()?.to_string_lossy().into_owned())
    } else {
        None
    };
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
    let cli_arg = cli_binary()?.to_string_lossy().into_owned();
    let args: &[&str] = if bench {
        &[
            "playwright",
            "test",
            "--grep",
            "@bench",
            "--reporter",
            "list",
        ]
    } else {
        &["playwright", "test", "--grep-invert", "@bench"]
    };
    let port = match std::env::var("PORT") {
        Ok(p) => p,
        Err(_) => free_port_pair()?.to_string(),
    };
    let mut env = vec![
        ("PORT", port.as_str()),
        ("ONESHARE_RELAY_BIN", relay_arg.as_str()),
        ("ONESHARE_CLI_BIN", cli_arg.as_str()),
        ("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    ];
    if let Some(dir) = previous.as_deref() {
        env.push(("ONESHARE_PREV_PKG", dir));
    }
    run_in(&tests_dir, "npx", args, &env)
}

/// The browser stage of `cargo xtask test`.
pub fn browser_tests() -> Result {
    wasm_vectors()?;
    client_tests()?;
    package_tests(false)
}

/// `cargo xtask bench-browser`: the browser benchmarks (Playwright `@bench`)
/// against a release relay in its own process, with the previous package side
/// by side. Fails when the open page is over its transfer budget.
pub fn bench_browser() -> Result {
    package_tests(true)
}

/// Shrinks a wasm-bindgen output in place with `wasm-opt -Oz` from the npm `binaryen`
/// package in `npm/` (never Debian's, which miscompiles; see TOOLCHAIN.md), with the
/// features rustc's wasm32 target emits. `--converge` (passes until nothing
/// shrinks) and dropping the `producers` and `target_features` sections save
/// 0.9 KB gzipped of the npm module; `-Os`, `--gufa` and `-O3` first were larger.
pub fn wasm_opt(wasm: &Path) -> Result {
    let arg = wasm.to_string_lossy().into_owned();
    run_in(
        &root().join("npm"),
        "node_modules/.bin/wasm-opt",
        &[
            "-Oz",
            "--converge",
            "--strip-producers",
            "--strip-target-features",
            "--enable-bulk-memory",
            "--enable-reference-types",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-multivalue",
            "--enable-mutable-globals",
            &arg,
            "-o",
            &arg,
        ],
        &[],
    )
}
