//! The set-up of `cargo xtask test` on a fresh Debian machine with Rust: each tool
//! a stage needs is probed first and installed only when missing, with a line
//! saying what and why, so a warm run spends well under a second here. Where an
//! install cannot work (no root for apt, no Node.js) it stops with what to do.
//!
//! A stage that needs something new adds it here: a Debian package to [`DEBIAN`],
//! a Python package to `interop/requirements.txt`, an npm project to [`NPM_DIRS`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Result, root, run, run_in, target_dir};

/// The Rust target of the browser SDK.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// A Debian package, the stage that needs it, and how to tell it is there.
struct Apt {
    package: &'static str,
    why: &'static str,
    present: fn() -> bool,
}

/// Debian packages the stages need.
const DEBIAN: &[Apt] = &[
    Apt {
        package: "chromium",
        why: "wasm-bindgen and Playwright tests in headless Chromium",
        present: || on_path("chromium"),
    },
    Apt {
        package: "chromium-driver",
        why: "wasm-bindgen-test-runner drives Chromium through chromedriver",
        present: || on_path("chromedriver"),
    },
    Apt {
        package: "postgresql",
        why: "relay tests start a throw-away PostgreSQL cluster",
        present: postgres_present,
    },
    Apt {
        package: "python3-venv",
        why: "schemathesis and the interop checker run in a Python venv",
        present: || quiet("python3", &["-c", "import ensurepip, venv"]),
    },
];

/// npm projects whose committed lock files `npm ci` installs.
const NPM_DIRS: &[&str] = &["npm", "tests"];

/// Everything `cargo xtask test` needs.
///
/// # Errors
/// An install failed or cannot be done here; the message says what to do.
pub fn all() -> Result {
    debian()?;
    wasm_tools()?;
    python_venv()?;
    for dir in NPM_DIRS {
        npm_ci(&root().join(dir))?;
    }
    Ok(())
}

/// Runs `program args` with no output and tells whether it succeeded.
fn quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The trimmed standard output of a successful command.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn postgres_present() -> bool {
    std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .filter_map(|v| v.ok())
            .any(|v| v.path().join("bin/initdb").is_file())
    })
}

/// The wasm32 target and the matching wasm-bindgen CLI (`cargo xtask npm` and the
/// wasm tests need only these).
///
/// # Errors
/// No rustup, or an install failed.
pub fn wasm_tools() -> Result {
    wasm_target()?;
    wasm_bindgen_cli()
}

/// `rustup target add wasm32-unknown-unknown` and `rustup component add rust-src`
/// when they are not installed.
fn wasm_target() -> Result {
    let Some(installed) = output("rustup", &["target", "list", "--installed"]) else {
        return Err(format!(
            "rustup is missing: install Rust with rustup, or add the {WASM_TARGET} target \
             to your toolchain by hand"
        ));
    };
    if !installed.lines().any(|t| t == WASM_TARGET) {
        eprintln!("setup: adding the {WASM_TARGET} target (the browser SDK's build)");
        run("rustup", &["target", "add", WASM_TARGET])?;
    }
    let components = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    if !components.lines().any(|c| c.starts_with("rust-src")) {
        eprintln!("setup: adding rust-src (the shipped wasm modules rebuild std for size)");
        run("rustup", &["component", "add", "rust-src"])?;
    }
    Ok(())
}

/// Installs the missing Debian packages with apt-get, as root or through
/// password-less sudo.
fn debian() -> Result {
    let missing: Vec<&Apt> = DEBIAN.iter().filter(|a| !(a.present)()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|a| a.package).collect();
    for a in &missing {
        eprintln!("setup: Debian package {} is missing ({})", a.package, a.why);
    }
    let sudo = if output("id", &["-u"]).as_deref() == Some("0") {
        false
    } else if quiet("sudo", &["-n", "true"]) {
        true
    } else {
        return Err(format!(
            "installing Debian packages needs root; run as root \
             `apt-get update && apt-get install -y {}`, then `cargo xtask test` again",
            names.join(" ")
        ));
    };
    let apt = |args: &[&str]| {
        let (program, all): (&str, Vec<&str>) = if sudo {
            ("sudo", [&["-n", "apt-get"][..], args].concat())
        } else {
            ("apt-get", args.to_vec())
        };
        run_in(
            &root(),
            program,
            &all,
            &[("DEBIAN_FRONTEND", "noninteractive")],
        )
    };
    apt(&["update"])?;
    apt(&[&["install", "-y", "--no-install-recommends"][..], &names].concat())
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

/// The wasm-bindgen CLI at the version in Cargo.lock. `--locked` is left off on
/// purpose: the registry here lacks one locked transitive version (TOOLCHAIN.md).
fn wasm_bindgen_cli() -> Result {
    let version = locked_wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have != format!("wasm-bindgen {version}") {
        eprintln!(
            "setup: installing wasm-bindgen-cli {version} to match Cargo.lock \
             (found: {}; takes a few minutes)",
            if have.is_empty() { "none" } else { &have }
        );
        run(
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &version],
        )?;
    }
    Ok(())
}

/// The Python venv (under the target dir) with `interop/requirements.txt`.
pub fn venv() -> PathBuf {
    target_dir().join("python")
}

/// A program of the venv, e.g. `python` or `schemathesis`.
pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// Creates the venv and installs the pinned requirements when they changed (a
/// copy of the installed requirements file is the marker).
///
/// # Errors
/// venv or pip failed.
pub fn python_venv() -> Result {
    let wanted = root().join("interop/requirements.txt");
    let requirements = std::fs::read_to_string(&wanted)
        .map_err(|e| format!("cannot read {}: {e}", wanted.display()))?;
    let marker = venv().join("requirements.txt");
    if venv_bin("python").is_file()
        && std::fs::read_to_string(&marker).is_ok_and(|m| m == requirements)
    {
        return Ok(());
    }
    eprintln!(
        "setup: installing the Python packages of interop/requirements.txt into {} \
         (schemathesis, the interop checker)",
        venv().display()
    );
    let dir = venv().to_string_lossy().into_owned();
    if !venv_bin("python").is_file() {
        run("python3", &["-m", "venv", &dir])?;
    }
    let python = venv_bin("python").to_string_lossy().into_owned();
    let req = wanted.to_string_lossy().into_owned();
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            &req,
        ],
    )?;
    std::fs::write(&marker, requirements)
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))
}

/// `npm ci` from the committed lock file, skipped while `node_modules` is at least
/// as new as the lock (npm writes `node_modules/.package-lock.json` on install).
pub fn npm_ci(dir: &Path) -> Result {
    if !on_path("npm") {
        return Err("npm is missing: install Node.js 20 or newer with npm".into());
    }
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    let locked = modified(dir.join("package-lock.json"));
    if locked.is_none() || (installed.is_some() && installed >= locked) {
        return Ok(());
    }
    eprintln!(
        "setup: installing the npm packages of {} from its lock file",
        dir.display()
    );
    run_in(
        dir,
        "npm",
        &["ci", "--no-audit", "--no-fund"],
        &[("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")],
    )
}
