//! Project tasks: `cargo xtask test | serve | bench | fuzz`.

use std::process::{Command, ExitCode};

mod perf;
mod web;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("serve") => serve(&args[1..]),
        Some("bench") => perf::bench(),
        Some("fuzz") => perf::fuzz(&args[1..]),
        Some("npm") => web::npm(),
        Some("bench-browser") => web::bench_browser(),
        _ => {
            eprintln!(
                "usage: cargo xtask <test | serve | bench | fuzz [SECONDS] | npm | bench-browser>"
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
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Into::into)
        .unwrap_or_default()
}

fn test() -> Result {
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
    run(
        "cargo",
        &[
            "build",
            "-p",
            "oneshare-sdk",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    run("cargo", &["test", "--workspace"])?;
    web::browser_tests()
}

fn serve(_args: &[String]) -> Result {
    Err("the relay is not built yet (issue: relay)".into())
}
