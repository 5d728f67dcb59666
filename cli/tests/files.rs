//! Attachments through the `oneshare` binary and a real relay: a 200 MB file
//! round trip with a hash check, resumed after Ctrl-C, and an upload that
//! survives the relay going away mid-way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::{Relay, User, run};

/// A file whose every 8 bytes differ (a misplaced part cannot go unnoticed).
fn write_file(path: &Path, len: usize) -> Vec<u8> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hash = Sha256::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(block.len());
        f.write_all(&block[..n]).unwrap();
        hash.update(&block[..n]);
        left -= n;
    }
    f.flush().unwrap();
    hash.finalize().to_vec()
}

fn sha256_of(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return hash.finalize().to_vec();
        }
        hash.update(&buf[..n]);
    }
}

/// Starts `oneshare create --file` in the background.
fn spawn_create(user: &User, file: &Path) -> Child {
    let mut c = user.std_cmd();
    c.args(["create", "--title", "big", "--json", "--file"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// Waits until the upload state file exists (the share was created and parts
/// are going up).
fn wait_for_upload(user: &User) {
    let dir = user.data.join("uploads");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none()) {
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
}

fn finish(child: Child) -> support::Out {
    let out = child.wait_with_output().unwrap();
    support::Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// 200 MB: Ctrl-C mid-upload leaves a resumable state and says how to resume;
/// `oneshare resume` finishes it; the recipient saves a file with the same
/// SHA-256, and no partial file is left behind.
#[test]
fn large_file_survives_ctrl_c_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let relay = Relay::start(&tmp.path().join("relay"), None);
    let alice = User::new(tmp.path(), "alice");
    let bob = User::new(tmp.path(), "bob");
    let mut c = alice.cmd();
    c.args(["init", "--relay", &relay.url]);
    run(c, "").code(0);
    let file = tmp.path().join("big.bin");
    let want = write_file(&file, 200 * 1000 * 1000);

    let child = spawn_create(&alice, &file);
    wait_for_upload(&alice);
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = finish(child).code(130);
    assert!(out.stderr.contains("oneshare resume"), "{}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "no link before the upload is complete"
    );

    let mut c = alice.cmd();
    c.args(["resume", "--json"]);
    let link = run(c, "").code(0).json()["link"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        std::fs::read_dir(alice.data.join("uploads"))
            .unwrap()
            .next()
            .is_none(),
        "the state file (with keys) is removed once done"
    );

    let save = tmp.path().join("save");
    let mut c = bob.cmd();
    c.args(["open", &link, "--json", "--save-dir"]);
    c.arg(&save);
    let opened = run(c, "").code(0).json();
    assert_eq!(opened["record"]["attachments"][0]["size"], 200_000_000);
    assert_eq!(sha256_of(&save.join("big.bin")), want);
    let names: Vec<_> = std::fs::read_dir(&save)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["big.bin"], "no temporary file left");
}

/// The relay dies mid-upload and comes back: the CLI retries and resumes at the
/// part the relay asks for.
#[test]
fn upload_resumes_after_the_relay_comes_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("relay");
    let relay = Relay::start(&dir, None);
    let port = relay.port;
    let alice = User::new(tmp.path(), "alice");
    let mut c = alice.cmd();
    c.args(["init", "--relay", &relay.url]);
    run(c, "").code(0);
    let file = tmp.path().join("mid.bin");
    let want = write_file(&file, 40 * 1000 * 1000);

    let child = spawn_create(&alice, &file);
    wait_for_upload(&alice);
    drop(relay);
    std::thread::sleep(Duration::from_millis(500));
    let _relay = Relay::start_on(&dir, port, None);
    let out = finish(child).code(0);
    assert!(out.stderr.contains("retrying"), "{}", out.stderr);
    let created = out.json();
    let link = created["link"].as_str().unwrap().to_owned();
    let id = created["share_id"].as_str().unwrap().to_owned();

    let bob = User::new(tmp.path(), "bob");
    let save = tmp.path().join("save");
    let mut c = bob.cmd();
    c.args(["open", &link, "--save-dir"]);
    c.arg(&save);
    run(c, "").code(0);
    assert_eq!(sha256_of(&save.join("mid.bin")), want);

    // A new version keeps the attachment: the device downloads it again.
    let mut c = alice.cmd();
    c.args(["update", &id, "--title", "mid v2"]);
    run(c, "").code(0);
    let again = tmp.path().join("again");
    let mut c = bob.cmd();
    c.args(["open", &link, "--json", "--save-dir"]);
    c.arg(&again);
    let opened = run(c, "").code(0).json();
    assert_eq!(opened["version"], 2);
    assert_eq!(opened["record"]["title"], "mid v2");
    assert_eq!(sha256_of(&again.join("mid.bin")), want);
}
