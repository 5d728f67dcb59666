//! A relay process for the black-box stages (`interop`, `api-fuzz`): a fresh data
//! dir, a free loopback port, lifted rate limits (one client sends everything),
//! 2-segment attachment parts (so small files have several), and the published
//! test admin key; killed and cleaned up on every exit path.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, run, target_dir};

/// Public key of the RFC 6979 A.2.5 P-256 test key (`interop/client.py`,
/// `TEST_ADMIN_SCALAR`): the admin of relays started here, on loopback only.
const TEST_ADMIN_KEY: &str =
    "BGD-1LolWp0xyWHrdMY1bWjASbiSO2H6bOZpYi5g8p-2eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk";

/// A running relay.
pub struct Relay {
    child: Child,
    /// Its loopback port.
    pub port: u16,
    /// Its temporary directory (data, config; a good cwd for tools).
    pub dir: PathBuf,
}

impl Relay {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Builds the relay binary (`release` or debug) and returns its path.
pub fn build(release: bool) -> Result<PathBuf> {
    let mut args = vec!["build", "-p", "oneshare-server", "--bin", "oneshare-server"];
    if release {
        args.push("--release");
    }
    run("cargo", &args)?;
    Ok(target_dir()
        .join(if release { "release" } else { "debug" })
        .join("oneshare-server"))
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

/// Starts `binary` with extra arguments and environment; waits for `/healthz`.
pub fn start(binary: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Relay> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let dir = std::env::temp_dir().join(format!("oneshare-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let config = dir.join("oneshare.toml");
    std::fs::write(
        &config,
        format!(
            "admin_keys = [\"{TEST_ADMIN_KEY}\"]\n[limits]\nrequests_per_minute = 10000000\n\
             share_requests_per_minute = 10000000\nbinds_per_minute = 10000000\npart_segments = 2\n\
             max_in_flight_per_ip = 100000\nmax_connections_per_ip = 100000\n"
        ),
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
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let relay = Relay { child, port, dir };
    let started = Instant::now();
    while !healthy(port) {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the relay did not answer /healthz within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(relay)
}
