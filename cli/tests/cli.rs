//! The `oneshare` binary against a real relay process (SQLite): the whole share
//! life from a terminal, machine output, and the documented exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Relay, User, run};

const OK: i32 = 0;
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const ENDED: i32 = 4;
const REFUSED: i32 = 5;
const NETWORK: i32 = 6;
const RELAY_KEY: i32 = 7;

fn init(user: &User, relay: &Relay) {
    let mut c = user.cmd();
    c.args(["init", "--relay", &relay.url]);
    let out = run(c, "").code(OK);
    assert!(
        out.stdout.contains("created owner identity"),
        "{}",
        out.stdout
    );
}

/// create → open → the same machine opens again → another machine is refused →
/// the owner sees the refusal → revoke → the bound device is told it is revoked.
#[test]
fn share_life_from_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let relay = Relay::start(&tmp.path().join("relay"), None);
    let alice = User::new(tmp.path(), "alice");
    let bob = User::new(tmp.path(), "bob");
    let eve = User::new(tmp.path(), "eve");
    init(&alice, &relay);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(alice.config.join("identity.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "identity file mode");
    }

    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "Prod DB",
        "--login",
        "admin",
        "--password-stdin",
        "--field",
        "PIN=1234",
        "--expire",
        "2h",
        "--label",
        "for bob",
        "--json",
    ]);
    let created = run(c, "correct horse battery staple\n").code(OK).json();
    let link = created["link"].as_str().unwrap().to_owned();
    let id = created["share_id"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{}/s#", relay.url)), "{link}");
    assert!(created["expires_at"].as_u64().unwrap() > 0);

    // Bob opens: JSON record with every field.
    let mut c = bob.cmd();
    c.args(["open", &link, "--json"]);
    let opened = run(c, "").code(OK).json();
    assert_eq!(opened["share_id"], id.as_str());
    assert_eq!(opened["version"], 1);
    assert_eq!(opened["record"]["title"], "Prod DB");
    let fields = opened["record"]["fields"].as_array().unwrap();
    assert_eq!(fields[0]["type"], "login");
    assert_eq!(fields[1]["value"], "correct horse battery staple");
    assert_eq!(fields[2]["label"], "PIN");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dev = bob.data.join("devices").join(format!("{id}.json"));
        let mode = std::fs::metadata(dev).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "device key file mode");
    }

    // A second open on the same machine works (signed fetch), --field prints one value.
    let mut c = bob.cmd();
    c.args(["open", &link, "--field", "password"]);
    let out = run(c, "").code(OK);
    assert_eq!(out.stdout, "correct horse battery staple\n");
    // Without --reveal the password is masked.
    let mut c = bob.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(OK);
    assert!(out.stdout.contains("login: admin"), "{}", out.stdout);
    assert!(!out.stdout.contains("correct horse"), "{}", out.stdout);

    // Another machine is refused, with what to do.
    let mut c = eve.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("another device"), "{}", out.stderr);
    assert!(out.stderr.contains("new link"), "{}", out.stderr);

    // The owner's list: bound, opened, one refused device, the label decrypted.
    let mut c = alice.cmd();
    c.args(["list", "--json"]);
    let list = run(c, "").code(OK).json();
    let row = &list.as_array().unwrap()[0];
    assert_eq!(row["share_id"], id.as_str());
    assert_eq!(row["label"], "for bob");
    assert_eq!(row["state"], "bound");
    assert!(row["opened_at"].as_u64().is_some());
    assert_eq!(row["refused_devices"], 1);

    let mut c = alice.cmd();
    c.args(["show", &id, "--json"]);
    let shown = run(c, "").code(OK).json();
    let kinds: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["created", "bound", "confirmed", "refused_device"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // The sender's events name Bob's device by the fingerprint Bob's open showed;
    // the refused machine's differs.
    let bob_device = opened["device_fingerprint"].as_str().unwrap();
    let of = |kind: &str| {
        shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .and_then(|e| e["device_fingerprint"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(of("bound").as_deref(), Some(bob_device));
    assert_eq!(of("confirmed").as_deref(), Some(bob_device));
    assert!(of("refused_device").is_some_and(|f| f != bob_device));
    let mut c = alice.cmd();
    c.args(["show", &id]);
    let out = run(c, "").code(OK);
    assert!(
        out.stdout.contains(&format!("device {bob_device}")),
        "{}",
        out.stdout
    );

    // Update: the bound device sees version 2.
    let mut c = alice.cmd();
    c.args([
        "update",
        &id,
        "--title",
        "Prod DB",
        "--password-stdin",
        "--json",
    ]);
    assert_eq!(run(c, "rotated\n").code(OK).json()["version"], 2);
    let mut c = bob.cmd();
    c.args(["open", &link, "--json"]);
    let v2 = run(c, "").code(OK).json();
    assert_eq!(v2["version"], 2);
    // The password is replaced in place; the login and the custom field stay.
    let values: Vec<&str> = v2["record"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["admin", "rotated", "1234"]);
    // Nothing to change is a usage error, not an empty version.
    let mut c = alice.cmd();
    c.args(["update", &id]);
    run(c, "").code(USAGE);

    // Revoke: the device is told, and forgets its key.
    let mut c = alice.cmd();
    c.args(["revoke", &id]);
    run(c, "").code(OK);
    let mut c = bob.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(ENDED);
    assert!(out.stderr.contains("revoked"), "{}", out.stderr);
    assert!(!bob.data.join("devices").join(format!("{id}.json")).exists());
    let mut c = alice.cmd();
    c.args(["list", "--json"]);
    assert_eq!(run(c, "").code(OK).json()[0]["state"], "revoked");
}

/// Bad flags, bad links, no identity, an unreachable relay, an unknown share.
#[test]
fn errors_have_documented_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let user = User::new(tmp.path(), "u");

    let mut c = user.cmd();
    c.args(["create", "--no-such-flag"]);
    run(c, "").code(USAGE);

    let mut c = user.cmd();
    c.args(["open", "https://share.example/s#tooshort"]);
    let out = run(c, "").code(USAGE);
    assert!(out.stderr.contains("copy the whole link"), "{}", out.stderr);

    let mut c = user.cmd();
    c.args(["list"]);
    let out = run(c, "").code(USAGE);
    assert!(out.stderr.contains("oneshare init"), "{}", out.stderr);

    // Nothing listens on this port.
    let dead = format!("http://127.0.0.1:{}", support::free_port());
    let mut c = user.cmd();
    c.args(["init", "--relay", &dead]);
    let out = run(c, "").code(NETWORK);
    assert!(out.stderr.contains("cannot be reached"), "{}", out.stderr);
    let token = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let mut c = user.cmd();
    c.args(["open", &format!("{dead}/s#{token}")]);
    run(c, "").code(NETWORK);

    let relay = Relay::start(&tmp.path().join("relay"), None);
    init(&user, &relay);
    let mut c = user.cmd();
    c.args(["create", "--title", "x", "--expire", "soon"]);
    let out = run(c, "").code(USAGE);
    assert!(out.stderr.contains("duration"), "{}", out.stderr);
    let mut c = user.cmd();
    c.args(["create", "--title", "nothing"]);
    run(c, "").code(USAGE);
    // A well-formed link nobody created.
    let mut c = user.cmd();
    c.args(["open", &format!("{}/s#{token}", relay.url)]);
    run(c, "").code(NOT_FOUND);
    let mut c = user.cmd();
    c.args(["revoke", "AAECAwQFBgcICQoLDA0ODw"]);
    run(c, "").code(NOT_FOUND);
}

/// A rotation the relay announces is followed; any other key change is refused
/// until the user re-trusts it.
#[test]
fn relay_key_is_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("relay");
    let user = User::new(tmp.path(), "u");
    let relay = Relay::start(&dir, None);
    let port = relay.port;
    init(&user, &relay);
    drop(relay);

    // Announced rotation: the old key stays in `accepted`.
    Relay::rotate_key(&dir);
    let relay = Relay::start_on(&dir, port, None);
    let mut c = user.cmd();
    c.arg("list");
    let out = run(c, "").code(OK);
    assert!(out.stderr.contains("rotated its key"), "{}", out.stderr);
    drop(relay);

    // A different relay key on the same address: refused, then re-trusted.
    let other = Relay::start_on(&tmp.path().join("impostor"), port, None);
    let mut c = user.cmd();
    c.arg("list");
    let out = run(c, "").code(RELAY_KEY);
    assert!(out.stderr.contains("--trust-new-key"), "{}", out.stderr);
    let mut c = user.cmd();
    c.args(["init", "--relay", &other.url, "--trust-new-key"]);
    run(c, "").code(OK);
    let mut c = user.cmd();
    c.arg("list");
    run(c, "").code(OK);
}

/// Admin: policy read and write, every share's metadata, revoke any share.
#[test]
fn admin_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let admin = User::new(tmp.path(), "admin");
    let mut c = admin.cmd();
    c.args(["admin", "init"]);
    let key = run(c, "").code(OK).stdout.trim().to_owned();
    let relay = Relay::start(&tmp.path().join("relay"), Some(&key));
    let owner = User::new(tmp.path(), "owner");
    init(&owner, &relay);
    let mut c = owner.cmd();
    c.args(["create", "--title", "t", "--generate-password", "--json"]);
    let created = run(c, "").code(OK).json();
    assert_eq!(
        created["generated_password"].as_str().unwrap().len(),
        24,
        "{created}"
    );
    let id = created["share_id"].as_str().unwrap().to_owned();

    let mut c = admin.cmd();
    c.args(["--relay", &relay.url, "admin", "policy"]);
    let mut policy = run(c, "").code(OK).json();
    policy["max_expires_in"] = serde_json::json!(7200);
    let file = tmp.path().join("policy.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let mut c = admin.cmd();
    c.args(["--relay", &relay.url, "admin", "set-policy"]);
    c.arg(&file);
    assert_eq!(run(c, "").code(OK).json()["max_expires_in"], 7200);
    // The new maximum applies to owners.
    let mut c = owner.cmd();
    c.args([
        "create",
        "--title",
        "t",
        "--generate-password",
        "--expire",
        "1d",
    ]);
    let out = run(c, "").code(1);
    assert!(
        out.stderr.contains("longer than this relay allows"),
        "{}",
        out.stderr
    );

    let mut c = admin.cmd();
    c.args(["--relay", &relay.url, "admin", "list", "--json"]);
    let rows = run(c, "").code(OK).json();
    assert_eq!(rows[0]["share_id"], id.as_str());
    assert!(rows[0]["label"].is_null(), "admins never see labels");
    let mut c = admin.cmd();
    c.args(["--relay", &relay.url, "admin", "list"]);
    let table = run(c, "").code(OK).stdout;
    assert!(table.contains(&id) && !table.contains("LABEL"), "{table}");
    let mut c = admin.cmd();
    c.args(["--relay", &relay.url, "admin", "revoke", &id]);
    run(c, "").code(OK);
    let mut c = owner.cmd();
    c.args(["list", "--json"]);
    assert_eq!(run(c, "").code(OK).json()[0]["state"], "revoked");

    // The owner key is not an admin key.
    let mut c = owner.cmd();
    c.args(["admin", "init"]);
    run(c, "").code(OK);
    let mut c = owner.cmd();
    c.args(["admin", "list"]);
    run(c, "").code(REFUSED);
}

/// `events --follow` prints events as they happen.
#[test]
fn events_follow() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let relay = Relay::start(&tmp.path().join("relay"), None);
    let alice = User::new(tmp.path(), "alice");
    init(&alice, &relay);
    let mut follow = alice
        .std_cmd()
        .args(["events", "--follow", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut c = alice.cmd();
    c.args(["create", "--title", "t", "--generate-password", "--json"]);
    let id = run(c, "").code(OK).json()["share_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut c = alice.cmd();
    c.args(["revoke", &id]);
    run(c, "").code(OK);
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("no event arrived");
        let ev: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(ev["share_id"], id.as_str());
        kinds.push(ev["kind"].as_str().unwrap().to_owned());
    }
    assert_eq!(kinds, ["created", "revoked"]);
    let _ = follow.kill();
    let _ = follow.wait();
}

/// A code that differs from `code` (display form) in its first symbol.
fn other_code(code: &str) -> String {
    let first = if code.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &code[1..])
}

/// Protocol v2 from the command line: create prints the open code; open without
/// it is told to pass `--code` (exit 5), a wrong one says how many attempts are
/// left, the right one typed loosely opens; five wrong codes lock the share and
/// `list`/`show` say so; a passphrase share opens only with the passphrase, which
/// goes in through stdin (argv warns).
#[test]
fn open_code_and_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let relay = Relay::start(&tmp.path().join("relay"), None);
    let alice = User::new(tmp.path(), "alice");
    let bob = User::new(tmp.path(), "bob");
    let eve = User::new(tmp.path(), "eve");
    init(&alice, &relay);

    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "Vault",
        "--password-stdin",
        "--require-code",
    ]);
    let out = run(c, "s3cret\n").code(OK);
    let link = out.stdout.trim().to_owned();
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("open code "))
        .unwrap_or_else(|| panic!("no open code in {}", out.stderr));
    assert!(
        line.contains("send it separately") && line.contains("every open"),
        "{line}"
    );
    let code = line["open code ".len().."open code XXXX-XXXX".len()].to_owned();
    assert!(
        code.len() == 9 && code.as_bytes()[4] == b'-',
        "{code:?} in {line}"
    );

    let mut c = bob.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("(code_required)"), "{}", out.stderr);
    assert!(out.stderr.contains("--code"), "{}", out.stderr);
    let mut c = bob.cmd();
    c.args(["open", &link, "--code", &other_code(&code)]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("4 attempt(s) left"), "{}", out.stderr);
    let mut c = bob.cmd();
    c.args(["open", &link, "--code", "ABC-DEF"]);
    let out = run(c, "").code(USAGE);
    assert!(out.stderr.contains("invalid open code"), "{}", out.stderr);
    let mut c = bob.cmd();
    c.args(["open", &link, "--field", "password", "--code"]);
    c.arg(code.to_lowercase().replace('-', " "));
    assert_eq!(run(c, "").code(OK).stdout, "s3cret\n");

    // Five wrong codes: locked for everyone, and the sender's list says so.
    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "Alarm",
        "--password-stdin",
        "--require-code",
        "--json",
    ]);
    let created = run(c, "1234\n").code(OK).json();
    let (link2, id2) = (
        created["link"].as_str().unwrap().to_owned(),
        created["share_id"].as_str().unwrap().to_owned(),
    );
    let code2 = created["open_code"].as_str().unwrap().to_owned();
    assert_eq!(created["require_code"], true);
    for left in ["4", "3", "2", "1"] {
        let mut c = eve.cmd();
        c.args(["open", &link2, "--code", &other_code(&code2)]);
        let out = run(c, "").code(REFUSED);
        assert!(
            out.stderr.contains(&format!("{left} attempt(s) left")),
            "{}",
            out.stderr
        );
    }
    let mut c = eve.cmd();
    c.args(["open", &link2, "--code", &other_code(&code2)]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("(locked)"), "{}", out.stderr);
    assert!(
        out.stderr.contains("ask the sender for a new one"),
        "{}",
        out.stderr
    );
    let mut c = bob.cmd();
    c.args(["open", &link2, "--code", &code2]);
    run(c, "").code(REFUSED);
    let mut c = alice.cmd();
    c.args(["list", "--json"]);
    let list = run(c, "").code(OK).json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["share_id"] == id2.as_str())
        .unwrap();
    assert_eq!(row["state"], "locked");
    let mut c = alice.cmd();
    c.args(["show", &id2]);
    let out = run(c, "").code(OK);
    assert!(out.stdout.contains("locked"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("a wrong open code was entered (2 of 5 before the share locks)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("the share is locked and opens on no device"),
        "{}",
        out.stdout
    );

    // A passphrase share: from stdin here; on the command line it warns.
    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "Recovery",
        "--login",
        "root",
        "--passphrase-stdin",
        "--json",
    ]);
    let created = run(c, "blue tractor 19\n").code(OK).json();
    let link3 = created["link"].as_str().unwrap().to_owned();
    let mut c = bob.cmd();
    c.args(["open", &link3]);
    let out = run(c, "").code(REFUSED);
    assert!(
        out.stderr.contains("(passphrase_required)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--passphrase-stdin"), "{}", out.stderr);
    let mut c = bob.cmd();
    c.args(["open", &link3, "--passphrase-stdin"]);
    let out = run(c, "Blue tractor 19\n").code(REFUSED);
    assert!(out.stderr.contains("(wrong_passphrase)"), "{}", out.stderr);
    let mut c = bob.cmd();
    c.args(["open", &link3, "--passphrase-stdin", "--field", "login"]);
    assert_eq!(run(c, "blue tractor 19\n").code(OK).stdout, "root\n");

    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "t",
        "--login",
        "x",
        "--passphrase",
        "on argv",
    ]);
    let out = run(c, "").code(OK);
    assert!(
        out.stderr.contains("warning: --passphrase"),
        "{}",
        out.stderr
    );
    let mut c = alice.cmd();
    c.args([
        "create",
        "--login",
        "x",
        "--password-stdin",
        "--passphrase-stdin",
    ]);
    run(c, "x\n").code(USAGE);
}
