//! Project tasks: `cargo xtask test | setup | serve | bench | fuzz | …`.

use std::process::{Command, ExitCode};

mod hardening;
mod imports;
mod perf;
mod relay;
mod setup;
mod shipped;
mod viewer;
mod web;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("setup") => setup::all(),
        Some("serve") => serve(&args[1..]),
        Some("bench") => perf::bench(),
        Some("fuzz") => perf::fuzz(&args[1..]),
        Some("npm") => web::npm(),
        Some("viewer") => viewer::build(),
        Some("bench-browser") => web::bench_browser(),
        Some("test-web") => web::client_tests(),
        Some("test-browser") => web::browser_tests(),
        Some("stress") => hardening::stress(),
        Some("api-fuzz") => hardening::api_fuzz(),
        Some("interop") => hardening::interop(),
        _ => {
            eprintln!(
                "usage: cargo xtask <test | setup | serve | bench | fuzz [SECONDS] | npm | viewer | bench-browser | test-web | test-browser | stress | interop | api-fuzz>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// Runs a command from the workspace root, failing with its name if it fails.
fn run(program: &str, args: &[&str]) -> Result {
    run_in(&root(), program, args, &[])
}

/// Runs `program args` in `dir` with extra environment, failing with its name if it fails.
fn run_in(dir: &std::path::Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    if dir == root() {
        eprintln!("$ {program} {}", args.join(" "));
    } else {
        eprintln!("$ (cd {}) {program} {}", dir.display(), args.join(" "));
    }
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/`).
fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The workspace this xtask was started in. `cargo run` sets `CARGO_MANIFEST_DIR`
/// at run time; the compile-time value is only a fallback, because a build cache
/// shared by two checkouts can hand one checkout the xtask binary of the other.
fn root() -> std::path::PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    manifest.parent().map(Into::into).unwrap_or_default()
}

fn test() -> Result {
    setup::all()?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // What ships to browsers, linted for the target it ships to: the npm
    // package's module (oneshare-web with `js`, and its Chromium tests) and the
    // core with its vector tests as compiled for wasm32.
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "oneshare-web",
            "--features",
            "js,stretch",
            "--all-targets",
            "--target",
            setup::WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "oneshare-sdk",
            "--lib",
            "--test",
            "vectors",
            "--target",
            setup::WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The fuzz targets are their own workspace (run with nightly by `cargo xtask
    // fuzz`); a compile check on stable keeps them in step with the core.
    run(
        "cargo",
        &["check", "--manifest-path", "fuzz/Cargo.toml", "--bins"],
    )?;
    viewer::lint()?;
    run("cargo", &["test", "--workspace"])?;
    hardening::interop()?;
    hardening::api_fuzz()?;
    web::browser_tests()
}

/// Builds the viewer, then builds and runs the relay (which embeds it) on
/// http://127.0.0.1:8080 with SQLite under ./data; extra arguments go to
/// `oneshare-server`, and any flag given there replaces the default here.
fn serve(args: &[String]) -> Result {
    viewer::build()?;
    let mut all: Vec<String> = vec![
        "run".into(),
        "-p".into(),
        "oneshare-server".into(),
        "--bin".into(),
        "oneshare-server".into(),
        "--".into(),
    ];
    let defaults = [
        ("--listen", "127.0.0.1:8080".to_owned()),
        ("--public-url", "http://127.0.0.1:8080".to_owned()),
        ("--database", "sqlite://./data/oneshare.db".to_owned()),
        ("--data-dir", "./data".to_owned()),
    ];
    for (flag, value) in defaults {
        let given = args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")));
        if !given {
            all.push(flag.into());
            all.push(value);
        }
    }
    all.extend(args.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run("cargo", &refs)
}
