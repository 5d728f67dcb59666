//! `oneshare create --file` and `oneshare open --save-dir` of 1 GiB against a
//! release relay on loopback (SQLite in a temp dir), each as a ratio to the same
//! HTTP client (reqwest, blocking) moving the same bytes already encrypted and
//! signed before the clock starts, to the same relay in the same run; and the
//! CLI's peak RSS (VmHWM) during both. `cargo xtask bench` builds the release
//! relay first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oneshare_sdk::api::{AttachmentDecl, CreateShareRequest, UploadStatus};
use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::owner::{OwnerData, OwnerIdentity, seal_owner_data};
use oneshare_sdk::parts::PartEncryptor;
use oneshare_sdk::record::{self, Record};
use oneshare_sdk::request::{self, Outgoing, Sealing};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{Signer, SigningKey};
use oneshare_sdk::stream;
use oneshare_sdk::token::{Token, verifier};
use oneshare_sdk::transmission::RelayPublicKey;
use support::{Relay, User};

/// 1 GiB.
const SIZE: u64 = 1 << 30;
/// Runs of each measurement (the best is reported: loopback noise only slows;
/// the download baseline runs before and after the CLI in each run).
const RUNS: usize = 2;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn write_file(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..(SIZE >> 20) {
        for c in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

/// Runs the CLI; seconds and peak RSS in KiB (polled from /proc VmHWM).
fn timed_cli(mut cmd: Command) -> (f64, u64, String) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            peak = peak.max(kb);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success(), "CLI failed");
    (secs, peak, out)
}

fn relay_key(http: &reqwest::blocking::Client, url: &str) -> RelayPublicKey {
    let body = http
        .get(format!("{url}/v1/relay-key"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let keys: oneshare_sdk::api::RelayKeyResponse = serde_json::from_slice(&body).unwrap();
    RelayPublicKey::from_bytes(&keys.current.public_key).unwrap()
}

fn send(
    http: &reqwest::blocking::Client,
    url: &str,
    method: &str,
    path: &str,
    out: Outgoing,
) -> reqwest::blocking::Response {
    let mut req = http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{url}{path}"),
    );
    for (k, v) in &out.headers {
        req = req.header(*k, v);
    }
    if !out.body.is_empty() {
        req = req
            .header("content-type", "application/octet-stream")
            .body(out.body);
    }
    let res = req.send().unwrap();
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        res.status()
    );
    res
}

/// The baseline upload: a share with one 1 GiB attachment, every part
/// encrypted and signed before timing; seconds to PUT them all and finalize.
fn baseline_upload(
    http: &reqwest::blocking::Client,
    url: &str,
    owner: &OwnerIdentity,
    file: &Path,
) -> f64 {
    let relay = relay_key(http, url);
    let token = Token::generate().unwrap();
    let keys = token.derive();
    let rk = record::generate_key().unwrap();
    let fk = record::generate_key().unwrap();
    let (_, header) = stream::Encryptor::new(&fk).unwrap();
    let aid = b64(oneshare_sdk::random::bytes::<16>().unwrap());
    let sid = keys.share_id;
    let create = CreateShareRequest {
        share_id: sid,
        verifier: verifier(&keys.bind_secret),
        wrapped_key: record::wrap_key(&keys.wrap_key, &sid, &rk).unwrap(),
        record: record::seal_record(&rk, &sid, 1, &Record::default()).unwrap(),
        owner_data: seal_owner_data(&owner.owner_key, &sid, &OwnerData::new("", &rk)).unwrap(),
        expires_in: 3600,
        self_destruct: false,
        attachments: vec![AttachmentDecl {
            id: aid.clone(),
            size: stream::ciphertext_len(SIZE),
        }],
        guard: None,
        transfer_box: None,
    };
    let signer = || (&owner.signing_key, Signer::Owner(owner.public_key()));
    let out = request::prepare(
        "POST",
        "/v1/shares",
        serde_json::to_vec(&create).unwrap(),
        signer(),
        Sealing::Body(&relay),
        now(),
    )
    .unwrap();
    send(http, url, "POST", "/v1/shares", out);
    let base = format!("/v1/shares/{sid}/attachments/{aid}");
    let get = request::prepare(
        "GET",
        &format!("{base}/upload"),
        Vec::new(),
        signer(),
        Sealing::Plain,
        now(),
    )
    .unwrap();
    let st: UploadStatus = serde_json::from_slice(
        &send(http, url, "GET", &format!("{base}/upload"), get)
            .bytes()
            .unwrap(),
    )
    .unwrap();
    let enc = PartEncryptor::new(&fk, header, SIZE, st.part_size).unwrap();
    let mut plain = std::fs::read(file).unwrap();
    let mut prepared = Vec::new();
    for part in 0..enc.part_count() {
        let r = enc.plaintext_range(part).unwrap();
        let bytes = enc
            .encrypt_part(part, &plain[r.start as usize..r.end as usize])
            .unwrap();
        let path = format!("{base}/parts/{part}");
        prepared.push((
            path.clone(),
            request::prepare("PUT", &path, bytes, signer(), Sealing::Plain, now()).unwrap(),
        ));
    }
    plain.clear();
    plain.shrink_to_fit();
    let fin = request::prepare(
        "POST",
        &format!("{base}/finalize"),
        Vec::new(),
        signer(),
        Sealing::Plain,
        now(),
    )
    .unwrap();
    let start = Instant::now();
    for (path, out) in prepared {
        send(http, url, "PUT", &path, out);
    }
    send(http, url, "POST", &format!("{base}/finalize"), fin);
    start.elapsed().as_secs_f64()
}

/// The baseline download: the bound device's signed GET of the ciphertext,
/// written to a file as it arrives (no decryption).
fn baseline_download(
    http: &reqwest::blocking::Client,
    url: &str,
    device: &SigningKey,
    sid: &str,
    aid: &str,
    dest: &Path,
) -> f64 {
    let id = oneshare_sdk::token::ShareId::parse(sid).unwrap();
    let path = format!("/v1/shares/{sid}/attachments/{aid}");
    let out = request::prepare(
        "GET",
        &path,
        Vec::new(),
        (device, Signer::Device(id)),
        Sealing::Plain,
        now(),
    )
    .unwrap();
    let start = Instant::now();
    let mut res = send(http, url, "GET", &path, out);
    let mut f = std::fs::File::create(dest).unwrap();
    // The same 1 MiB reads as the CLI.
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = res.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        f.write_all(&buf[..k]).unwrap();
        n += k as u64;
    }
    f.sync_all().unwrap();
    assert_eq!(n, stream::ciphertext_len(SIZE));
    start.elapsed().as_secs_f64()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("relay");
    std::fs::create_dir_all(&dir).unwrap();
    let relay = Relay::start_with(&dir, "[policy]\nmax_attachment_bytes = 2147483648\n");
    let alice = User::new(tmp.path(), "alice");
    let bob = User::new(tmp.path(), "bob");
    let file = tmp.path().join("big.bin");
    write_file(&file);
    let mut c = alice.cmd();
    c.args(["init", "--relay", &relay.url]);
    assert!(c.output().unwrap().status.success());
    let owner = OwnerIdentity::from_json(
        &std::fs::read_to_string(alice.config.join("identity.json")).unwrap(),
    )
    .unwrap();
    let http = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap();
    let mb = SIZE as f64 / 1e6;

    let (mut up_cli, mut up_base, mut down_cli, mut down_base) =
        (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut peak = 0u64;
    for run in 0..RUNS {
        up_base = up_base.min(baseline_upload(&http, &relay.url, &owner, &file));
        let mut c = alice.std_cmd();
        c.args(["create", "--title", "bench", "--json", "--file"])
            .arg(&file);
        let (secs, kb, out) = timed_cli(c);
        up_cli = up_cli.min(secs);
        peak = peak.max(kb);
        let created: serde_json::Value = serde_json::from_str(&out).unwrap();
        let link = created["link"].as_str().unwrap().to_owned();
        let sid = created["share_id"].as_str().unwrap().to_owned();

        // Bind (no download), then the baseline download with the device key.
        let mut c = bob.std_cmd();
        c.args(["open", "--json", &link]);
        let (_, _, opened) = timed_cli(c);
        let opened: serde_json::Value = serde_json::from_str(&opened).unwrap();
        let aid = opened["record"]["attachments"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        #[derive(serde::Deserialize)]
        struct Dev {
            device_key: String,
        }
        let dev: Dev = serde_json::from_slice(
            &std::fs::read(bob.data.join("devices").join(format!("{sid}.json"))).unwrap(),
        )
        .unwrap();
        let device =
            SigningKey::from_bytes(&Secret::new(unb64_array(&dev.device_key, "k").unwrap()))
                .unwrap();
        let raw = tmp.path().join(format!("raw{run}"));
        down_base = down_base.min(baseline_download(
            &http, &relay.url, &device, &sid, &aid, &raw,
        ));
        std::fs::remove_file(&raw).unwrap();

        let save = tmp.path().join(format!("save{run}"));
        let mut c = bob.std_cmd();
        c.args(["open", &link, "--field", "title", "--save-dir"])
            .arg(&save);
        let (secs, kb, _) = timed_cli(c);
        down_cli = down_cli.min(secs);
        peak = peak.max(kb);
        assert_eq!(std::fs::metadata(save.join("big.bin")).unwrap().len(), SIZE);
        std::fs::remove_dir_all(&save).unwrap();
        // The baseline again after the CLI, so neither side gets the warmer caches.
        down_base = down_base.min(baseline_download(
            &http, &relay.url, &device, &sid, &aid, &raw,
        ));
        std::fs::remove_file(&raw).unwrap();
    }
    println!();
    println!(
        "CLI transfer (1 GiB = {mb:.0} MB, release relay on SQLite, loopback, best of {RUNS})"
    );
    println!("| what | CLI | same client, pre-encrypted and pre-signed | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| create --file (encrypt + upload) | {:.0} MB/s | {:.0} MB/s | {:.2} |",
        mb / up_cli,
        mb / up_base,
        up_base / up_cli
    );
    println!(
        "| open --save-dir (download + decrypt + fsync) | {:.0} MB/s | {:.0} MB/s (download + fsync) | {:.2} |",
        mb / down_cli,
        mb / down_base,
        down_base / down_cli
    );
    println!(
        "| CLI peak RSS (VmHWM, both commands) | {:.1} MiB | | |",
        peak as f64 / 1024.0
    );
}
