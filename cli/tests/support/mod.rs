//! A real relay process (the `oneshare-server` binary of this workspace) and
//! the `oneshare` binary with private config and data directories.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The relay binary: `ONESHARE_SERVER_BIN`, else next to this test's target dir
/// (built by `cargo test --workspace`, or `cargo build -p oneshare-server`).
pub fn server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ONESHARE_SERVER_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("oneshare-server");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p oneshare-server` first (cargo xtask test does)",
        bin.display()
    );
    bin
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running relay, killed on drop.
pub struct Relay {
    child: Child,
    pub port: u16,
    pub url: String,
    pub dir: PathBuf,
}

impl Relay {
    /// Starts a relay with its keys and SQLite database in `dir`.
    pub fn start(dir: &Path, admin_key: Option<&str>) -> Self {
        Self::start_on(dir, free_port(), admin_key)
    }

    pub fn start_on(dir: &Path, port: u16, admin_key: Option<&str>) -> Self {
        Self::start_full(dir, port, admin_key, "")
    }

    /// With more TOML configuration (e.g. a `[policy]` section).
    pub fn start_with(dir: &Path, extra_config: &str) -> Self {
        Self::start_full(dir, free_port(), None, extra_config)
    }

    /// Tests open links right after creating them, which the relay would
    /// take for a scanner (PROTOCOL.md §12.4): that signal is off here.
    fn start_full(dir: &Path, port: u16, admin_key: Option<&str>, extra_config: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("oneshare.toml");
        std::fs::write(
            &config,
            format!(
                "[limits]\nrequests_per_minute = 10000000\nshare_requests_per_minute = 10000000\n\
                 binds_per_minute = 10000000\n[scanners]\nquick_bind_secs = 0\n{extra_config}"
            ),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(server_bin());
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(&url)
            .arg("--database")
            .arg(format!("sqlite://{}", dir.join("db.sqlite").display()))
            .arg("--data-dir")
            .arg(dir.join("keys"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .env_remove("ONESHARE_ADMIN_KEYS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(k) = admin_key {
            cmd.arg("--admin-key").arg(k);
        }
        let child = cmd.spawn().unwrap();
        let mut relay = Self {
            child,
            port,
            url,
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the relay did not start");
            std::thread::sleep(Duration::from_millis(30));
        }
        // Someone else may own the port (another test's relay got it first):
        // then ours exited, and the answer came from theirs.
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            relay.child.try_wait().unwrap().is_none(),
            "the relay exited: port {port} was taken"
        );
        relay
    }

    /// `oneshare-server rotate-key` on this relay's key directory (the relay
    /// must be restarted to serve the new key).
    pub fn rotate_key(dir: &Path) {
        let ok = Command::new(server_bin())
            .arg("rotate-key")
            .arg("--data-dir")
            .arg(dir.join("keys"))
            .arg("--database")
            .arg(format!("sqlite://{}", dir.join("db.sqlite").display()))
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "rotate-key failed");
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One user of the CLI: its own config dir (owner identity, pins) and data dir
/// (device keys) — another `User` is another machine.
pub struct User {
    pub config: PathBuf,
    pub data: PathBuf,
}

impl User {
    pub fn new(root: &Path, name: &str) -> Self {
        Self {
            config: root.join(name).join("config"),
            data: root.join(name).join("data"),
        }
    }

    /// `oneshare ARGS` as this user, as a plain process (to spawn and watch).
    pub fn std_cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_oneshare"));
        c.env("ONESHARE_CONFIG_HOME", &self.config)
            .env("ONESHARE_DATA_HOME", &self.data)
            .env_remove("ONESHARE_RELAY")
            .arg("--quiet");
        c
    }

    /// `oneshare ARGS` as this user.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_oneshare"));
        c.env("ONESHARE_CONFIG_HOME", &self.config)
            .env("ONESHARE_DATA_HOME", &self.data)
            .env_remove("ONESHARE_RELAY")
            .arg("--quiet");
        c
    }
}

/// Output of a finished command.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn code(self, want: i32) -> Self {
        assert_eq!(
            self.code, want,
            "exit code {} (want {want})\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs `cmd` with `stdin` and collects its output.
pub fn run(mut cmd: assert_cmd::Command, stdin: &str) -> Out {
    let out = cmd
        .write_stdin(stdin.as_bytes().to_vec())
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
