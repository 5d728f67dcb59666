//! `cargo xtask bench` (criterion benchmarks of the core, then a summary with
//! STREAM/raw AES-GCM ratios, then the relay bench and the CLI transfer bench,
//! each with its own summary) and
//! `cargo xtask fuzz [SECONDS]` (every cargo-fuzz target in turn). Fuzzing
//! needs the nightly toolchain and stays out of `cargo xtask test` and CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, root, run};

/// Bytes per iteration of the `bulk_16mib` benchmarks (see `sdk/benches/core.rs`).
const BULK_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Default seconds per fuzz target.
const DEFAULT_FUZZ_SECS: u64 = 60;

pub fn bench() -> Result {
    // `aws-lc`: both crypto backends of the core, measured in the same run.
    run(
        "cargo",
        &[
            "bench",
            "-p",
            "oneshare-sdk",
            "--features",
            "aws-lc",
            "--bench",
            "core",
        ],
    )?;
    summary(&criterion_dir())?;
    // The relay bench (server/benches/relay.rs) prints its own summary table.
    run(
        "cargo",
        &["bench", "-p", "oneshare-server", "--bench", "relay"],
    )?;
    // The CLI bench (cli/benches/transfer.rs) runs the release relay the relay
    // bench built, and prints its table last.
    run(
        "cargo",
        &["bench", "-p", "oneshare-cli", "--bench", "transfer"],
    )
}

/// Where criterion wrote its results, by criterion's own rules.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return root().join(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    root().join(target).join("criterion")
}

/// Time per iteration in nanoseconds of one benchmark: criterion's headline
/// figure, the slope of its linear regression, or the mean when there is none.
fn time_ns(dir: &Path, group: &str, function: &str) -> Result<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // {"mean":{"confidence_interval":{…},"point_estimate":123.4,…},…,"slope":{…} or null}
    let estimate = |name: &str| {
        let key = format!("\"{name}\":");
        let rest = &text[text.find(&key)? + key.len()..];
        let rest = rest.strip_prefix('{')?;
        let value = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
        value
            .split([',', '}'])
            .next()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0)
    };
    estimate("slope")
        .or_else(|| estimate("mean"))
        .ok_or_else(|| format!("no estimate in {}", path.display()))
}

fn summary(dir: &Path) -> Result {
    let mb_per_s = |function: &str| -> Result<f64> {
        Ok(BULK_BYTES / (time_ns(dir, "bulk_16mib", function)? * 1e-9) / 1e6)
    };
    let per_s =
        |group: &str, function: &str| -> Result<f64> { Ok(1e9 / time_ns(dir, group, function)?) };
    let micros =
        |group: &str, function: &str| -> Result<f64> { Ok(time_ns(dir, group, function)? / 1e3) };
    let stream_enc = mb_per_s("stream_encrypt")?;
    let raw_enc = mb_per_s("aesgcm_encrypt")?;
    let stream_dec = mb_per_s("stream_decrypt")?;
    let raw_dec = mb_per_s("aesgcm_decrypt")?;
    println!();
    println!("summary (criterion estimates; MB = 10^6 bytes; 16 MiB, 64 KiB segments)");
    println!(
        "  STREAM encrypt {stream_enc:8.1} MB/s  raw AES-256-GCM {raw_enc:8.1} MB/s  ratio {:.3}",
        stream_enc / raw_enc
    );
    println!(
        "  STREAM decrypt {stream_dec:8.1} MB/s  raw AES-256-GCM {raw_dec:8.1} MB/s  ratio {:.3}",
        stream_dec / raw_dec
    );
    println!(
        "  ECDSA P-256 sign   {:8.0} /s",
        per_s("ecdsa_p256", "sign")?
    );
    let (verify_rc, verify_lc) = (
        per_s("backend_verify", "rust_crypto")?,
        per_s("backend_verify", "aws_lc")?,
    );
    println!(
        "  ECDSA P-256 verify {verify_rc:8.0} /s RustCrypto (p256), {verify_lc:8.0} /s aws-lc: aws-lc ×{:.2}",
        verify_lc / verify_rc
    );
    let (open_rc, open_lc) = (
        micros("backend_hpke_open", "rust_crypto")?,
        micros("backend_hpke_open", "aws_lc")?,
    );
    println!(
        "  HPKE transmission-key open {open_rc:.1} µs RustCrypto (hpke), {open_lc:.1} µs aws-lc: aws-lc ×{:.2}",
        open_rc / open_lc
    );
    println!(
        "  record 1 KiB seal {:.2} µs, open {:.2} µs; key wrap {:.2} µs, unwrap {:.2} µs",
        micros("record_1kib", "seal")?,
        micros("record_1kib", "open")?,
        micros("key", "wrap")?,
        micros("key", "unwrap")?,
    );
    println!(
        "  HPKE transmission key seal {:.1} µs; token derive {:.2} µs",
        micros("hpke", "seal_transmission_key")?,
        micros("token", "derive")?,
    );
    println!(
        "  open code proof {:.2} µs; passphrase derive (Argon2id m=19 MiB, t=2, p=1) {:.1} ms",
        micros("second_factor", "open_code_proof")?,
        time_ns(dir, "second_factor", "passphrase_derive")? / 1e6,
    );
    Ok(())
}

/// `cargo +nightly fuzz …` from the workspace root, always in `fuzz/target`
/// (sanitizer builds must not mix with the caller's target dir).
fn cargo_fuzz(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(["+nightly", "fuzz"])
        .args(args)
        .current_dir(root())
        .env_remove("CARGO_TARGET_DIR");
    cmd
}

/// What one fuzz run reported.
struct FuzzRun {
    target: String,
    runs: Option<u64>,
    seconds: Option<u64>,
    ok: bool,
}

pub fn fuzz(args: &[String]) -> Result {
    let seconds = match args.first() {
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("SECONDS must be a positive number, not {s:?}"))?,
        None => DEFAULT_FUZZ_SECS,
    };
    let list = cargo_fuzz(&["list"]).output().map_err(|e| {
        format!("cannot run `cargo +nightly fuzz` ({e}); install it with `cargo +nightly install cargo-fuzz`")
    })?;
    if !list.status.success() {
        return Err(format!(
            "`cargo +nightly fuzz list` failed; install cargo-fuzz with `cargo +nightly install cargo-fuzz`: {}",
            String::from_utf8_lossy(&list.stderr).trim()
        ));
    }
    // `seeds` is the seed generator, not a target.
    let targets: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "seeds")
        .map(Into::into)
        .collect();

    eprintln!("$ (fuzz) cargo +nightly run --bin seeds -- corpus");
    let status = Command::new("cargo")
        .args([
            "+nightly", "run", "--quiet", "--bin", "seeds", "--", "corpus",
        ])
        .current_dir(root().join("fuzz"))
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !status.success() {
        return Err("writing the fuzz seeds failed".into());
    }

    let mut results = Vec::new();
    for target in &targets {
        let max_time = format!("-max_total_time={seconds}");
        eprintln!("$ cargo +nightly fuzz run {target} -- {max_time}");
        let output = cargo_fuzz(&["run", target, "--", &max_time])
            .output()
            .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        // libFuzzer ends a clean run with "Done 123456 runs in 60 second(s)".
        let done = log.lines().rev().find_map(|l| {
            let rest = l.strip_prefix("Done ")?;
            let (runs, rest) = rest.split_once(" runs in ")?;
            let secs = rest.split_whitespace().next()?;
            Some((runs.parse().ok()?, secs.parse().ok()?))
        });
        let ok = output.status.success() && done.is_some();
        if !ok {
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("{}", lines[lines.len().saturating_sub(60)..].join("\n"));
        }
        let run = FuzzRun {
            target: target.clone(),
            runs: done.map(|d| d.0),
            seconds: done.map(|d| d.1),
            ok,
        };
        eprintln!("{}", describe(&run));
        results.push(run);
    }

    println!();
    println!("fuzz summary ({seconds} s per target)");
    for run in &results {
        println!("  {}", describe(run));
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.target.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz targets failed: {} (inputs under fuzz/artifacts/)",
            failed.join(", ")
        ))
    }
}

fn describe(run: &FuzzRun) -> String {
    let runs = run.runs.map_or("?".into(), |r| r.to_string());
    let secs = run.seconds.map_or("?".into(), |s| s.to_string());
    let verdict = if run.ok { "clean" } else { "FAILED" };
    format!(
        "{:<20} {verdict:<6} {runs:>11} runs in {secs} s",
        run.target
    )
}
