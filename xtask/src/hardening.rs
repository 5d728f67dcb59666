//! Relay hardening stages: the API fuzz run (schemathesis against the relay's own
//! OpenAPI document, part of `cargo xtask test`) and `cargo xtask stress` (the
//! 1,000-round bind race on both backends, kept out of CI for its run time).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, root, run, setup, target_dir};

/// `cargo xtask stress`: 1,000 rounds of 64 concurrent binders per backend, in
/// release mode, one backend at a time so each figure is measured alone.
pub fn stress() -> Result {
    eprintln!("$ ONESHARE_RACE_ROUNDS=1000 cargo test -p oneshare-server --release --test race");
    let status = Command::new("cargo")
        .args([
            "test",
            "-p",
            "oneshare-server",
            "--release",
            "--test",
            "race",
            "--",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("ONESHARE_RACE_ROUNDS", "1000")
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the stress run failed ({status})"))
    }
}

/// The relay process, killed on every exit path.
struct Relay(Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

fn start_relay(binary: &Path, dir: &Path) -> Result<(Relay, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    // schemathesis talks from one address: lift the per-client rate limits.
    let config = dir.join("oneshare.toml");
    std::fs::write(
        &config,
        "[limits]\nrequests_per_minute = 10000000\nshare_requests_per_minute = 10000000\n\
         binds_per_minute = 10000000\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let child = Command::new(binary)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("db/oneshare.db").display()))
        .arg("--data-dir")
        .arg(dir.join("keys"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let relay = Relay(child);
    let started = Instant::now();
    while !healthy(port) {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the relay did not answer /healthz within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((relay, port))
}

/// API fuzz: schemathesis generates requests from `/v1/openapi.json` against a
/// running relay and checks that no response is a 5xx and that every status code,
/// content type, header and body conforms to the document. `positive_data_acceptance`
/// is left out: signed endpoints rightly refuse schema-valid but unsigned requests.
pub fn api_fuzz() -> Result {
    setup::python_venv()?;
    run("cargo", &["build", "-p", "oneshare-server", "--bins"])?;
    let binary = target_dir().join("debug/oneshare-server");
    let dir = std::env::temp_dir().join(format!("oneshare-api-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = (|| {
        let (_relay, port) = start_relay(&binary, &dir)?;
        let schema = format!("http://127.0.0.1:{port}/v1/openapi.json");
        let args = [
            "run",
            &schema,
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "100",
            "--suppress-health-check",
            "all",
            "--warnings",
            "off",
            "--no-color",
            "--generation-database",
            "none",
        ];
        eprintln!(
            "$ {} {}",
            setup::venv_bin("schemathesis").display(),
            args.join(" ")
        );
        // Run in the temp dir: schemathesis leaves a `.schemathesis/` cache in its cwd.
        let status = Command::new(setup::venv_bin("schemathesis"))
            .args(args)
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("cannot start schemathesis: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "schemathesis found problems in the relay API ({status})"
            ))
        }
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
