//! The binary's own subcommands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn rotate_key_keeps_the_previous_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
            .args(["rotate-key", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // As on a relay's first start.
    oneshare_server::keys::RelayKeys::load_or_create(dir.path(), 3600).unwrap();
    let first = run();
    let second = run();
    assert_ne!(first, second);
    let path = dir.path().join("relay-key.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["previous"].as_array().unwrap().len(), 2);
    let keys = oneshare_server::keys::RelayKeys::load_or_create(dir.path(), 3600).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(keys.response(now).accepted.len(), 3);
    assert!(second.contains(&keys.current().public().key_id));
}

#[test]
fn bad_config_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "listen = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("c.toml"));
}

/// Starts the binary on a free port with `args`; killed when dropped.
struct Running {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn run_relay(args: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_oneshare-server"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("db.sqlite").display()
        ))
        .arg("--data-dir")
        .arg(dir.path())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Owned at once, so the child is killed and reaped on every path.
    let relay = Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    for _ in 0..300 {
        if reqwest::get(format!("{}/healthz", relay.base))
            .await
            .is_ok()
        {
            return relay;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("relay did not start");
}

#[tokio::test]
async fn test_clock_only_with_its_flag() {
    let http = reqwest::Client::new();
    let advance = |base: &str, secs: u64| {
        http.post(format!("{base}/test/clock/advance/{secs}"))
            .send()
    };
    let plain = run_relay(&[]).await;
    assert_eq!(advance(&plain.base, 10).await.unwrap().status(), 404);
    drop(plain);

    let relay = run_relay(&["--insecure-test-clock"]).await;
    let now = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        body["now"].as_u64().unwrap()
    };
    let first = now(advance(&relay.base, 3_600).await.unwrap()).await;
    let second = now(advance(&relay.base, 86_400).await.unwrap()).await;
    assert!((86_400..86_500).contains(&(second - first)));
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(second >= real + 90_000);
    let r = advance(&relay.base, 10_000_000_000).await.unwrap();
    assert_eq!(r.status(), 400);
}
