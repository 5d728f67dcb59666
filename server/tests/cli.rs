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
