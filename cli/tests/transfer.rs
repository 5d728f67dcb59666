//! Sender-approved device transfer from a terminal (PROTOCOL.md §12.2), the
//! `oneshare` binary against a real relay process: a device that got there
//! first (a scanner), the recipient asking, the sender comparing codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Relay, User, run};

const OK: i32 = 0;
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const ENDED: i32 = 4;
const REFUSED: i32 = 5;
const INTEGRITY: i32 = 8;
const PENDING: i32 = 9;

/// The scanner opens first; the recipient asks (exit 9 while waiting, the code
/// in its output); a wrong code is refused; the right one moves the share; the
/// recipient reads it and the scanner is told it moved. A second request is
/// denied.
#[test]
fn the_sender_moves_a_share_after_comparing_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let relay = Relay::start(&tmp.path().join("relay"), None);
    let alice = User::new(tmp.path(), "alice");
    let bob = User::new(tmp.path(), "bob");
    let scanner = User::new(tmp.path(), "scanner");
    let mut c = alice.cmd();
    c.args(["init", "--relay", &relay.url]);
    run(c, "").code(OK);
    let mut c = alice.cmd();
    c.args([
        "create",
        "--title",
        "Wi-Fi",
        "--password-stdin",
        "--label",
        "for bob",
        "--json",
    ]);
    let created = run(c, "hunter2\n").code(OK).json();
    let link = created["link"].as_str().unwrap().to_owned();
    let id = created["share_id"].as_str().unwrap().to_owned();

    let mut c = scanner.cmd();
    c.args(["open", &link, "--json"]);
    run(c, "").code(OK);
    let mut c = bob.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("--request-transfer"), "{}", out.stderr);

    let mut c = bob.cmd();
    c.args(["open", &link, "--request-transfer", "--wait", "0", "--json"]);
    let waiting = run(c, "").code(PENDING).json();
    assert_eq!(waiting["state"], "pending");
    let code = waiting["comparison_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    let mut c = alice.cmd();
    c.args(["transfers", "--json"]);
    let pending = run(c, "").code(OK).json();
    assert_eq!(pending[0]["share_id"], id.as_str());
    assert_eq!(pending[0]["label"], "for bob");
    assert_eq!(pending[0]["comparison_code"], code.as_str());

    // A code that differs is refused and approves nothing; no code and no
    // terminal to compare on is a usage error.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let mut c = alice.cmd();
    c.args(["approve", &id, "--code", wrong]);
    let out = run(c, "").code(INTEGRITY);
    assert!(out.stderr.contains("oneshare deny"), "{}", out.stderr);
    let mut c = alice.cmd();
    c.args(["approve", &id]);
    run(c, "").code(USAGE);
    let mut c = bob.cmd();
    c.args(["open", &link, "--wait", "0", "--json"]);
    run(c, "").code(PENDING);

    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let mut c = alice.cmd();
    c.args(["approve", &id, "--code", &spaced]);
    run(c, "").code(OK);
    // Bob's next open continues the request and reads the record.
    let mut c = bob.cmd();
    c.args(["open", &link, "--json"]);
    let opened = run(c, "").code(OK).json();
    assert_eq!(opened["record"]["title"], "Wi-Fi");
    assert_eq!(opened["record"]["fields"][0]["value"], "hunter2");
    let mut c = bob.cmd();
    c.args(["open", &link, "--field", "password"]);
    assert_eq!(run(c, "").code(OK).stdout.trim(), "hunter2");

    // The scanner's device is told, and forgets the share.
    let mut c = scanner.cmd();
    c.args(["open", &link]);
    let out = run(c, "").code(ENDED);
    assert!(out.stderr.contains("moved"), "{}", out.stderr);
    assert!(
        !scanner
            .data
            .join("devices")
            .join(format!("{id}.json"))
            .exists()
    );

    // The scanner asks back; Alice denies.
    let mut c = scanner.cmd();
    c.args(["open", &link, "--request-transfer", "--wait", "0"]);
    let out = run(c, "").code(PENDING);
    assert!(out.stderr.contains("Comparison code"), "{}", out.stderr);
    let mut c = alice.cmd();
    c.args(["deny", &id]);
    run(c, "").code(OK);
    let mut c = alice.cmd();
    c.args(["deny", &id]);
    run(c, "").code(NOT_FOUND);
    let mut c = scanner.cmd();
    c.args(["open", &link, "--wait", "0"]);
    let out = run(c, "").code(REFUSED);
    assert!(out.stderr.contains("denied"), "{}", out.stderr);
    let mut c = alice.cmd();
    c.args(["events", "--json"]);
    let events = run(c, "").code(OK).stdout;
    for kind in ["transfer_requested", "transfer_approved", "transfer_denied"] {
        assert!(events.contains(kind), "{kind}: {events}");
    }
}
