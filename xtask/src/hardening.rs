//! Relay hardening stages: the interop check (an independent implementation of
//! PROTOCOL.md against the vectors and a live relay) and the API fuzz run
//! (schemathesis against the relay's own OpenAPI document), both part of
//! `cargo xtask test`, and `cargo xtask stress` (the 1,000-round bind race on both
//! backends, kept out of CI for its run time).

use std::process::Command;

use crate::{Result, relay, root, run, setup};

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

/// API fuzz: schemathesis generates requests from `/v1/openapi.json` against a
/// running relay and checks that no response is a 5xx and that every status code,
/// content type, header and body conforms to the document. The hooks in
/// `interop/schemathesis_hooks.py` sign every request and make half of the positive
/// cases valid (real shares, sealed bodies), so 2xx answers of signed routes are
/// checked too. `positive_data_acceptance` is left out: a schema-valid request for a
/// share that does not exist, or signed by the wrong party, is rightly refused.
pub fn api_fuzz() -> Result {
    setup::python_venv()?;
    let binary = relay::build(false)?;
    let relay = relay::start(&binary, "api-fuzz", &[], &[])?;
    let schema = format!("{}/v1/openapi.json", relay.url());
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
    let schemathesis = setup::venv_bin("schemathesis");
    let hooks = root().join("interop/schemathesis_hooks.py");
    eprintln!(
        "$ SCHEMATHESIS_HOOKS={} {} {}",
        hooks.display(),
        schemathesis.display(),
        args.join(" ")
    );
    // Run in the relay's temp dir: schemathesis leaves a `.schemathesis/` cache in its cwd.
    let status = Command::new(&schemathesis)
        .args(args)
        .env("SCHEMATHESIS_HOOKS", &hooks)
        .env("ONESHARE_RELAY", relay.url())
        .current_dir(&relay.dir)
        .status()
        .map_err(|e| format!("cannot start schemathesis: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "schemathesis found problems in the relay API ({status})"
        ))
    }
}

/// `cargo xtask interop`: the independent Python implementation of PROTOCOL.md
/// (`interop/`) checks every vector file, then runs the whole lifecycle against a
/// release relay with the test clock (for expiry and self-destruct).
pub fn interop() -> Result {
    setup::python_venv()?;
    let binary = relay::build(true)?;
    let relay = relay::start(
        &binary,
        "interop",
        &["--insecure-test-clock"],
        &[("ONESHARE_ALLOW_TEST_CLOCK", "1")],
    )?;
    let python = setup::venv_bin("python").to_string_lossy().into_owned();
    let url = relay.url();
    run(&python, &["interop/check.py", "--relay", &url])
}
