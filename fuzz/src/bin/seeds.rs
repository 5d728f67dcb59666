//! Writes seed inputs built from real values to `<dir>/<target>/seed-<name>`
//! (default dir `corpus`, relative to the current directory), so the fuzzers
//! start from valid links, envelopes, headers and JSON rather than from nothing.
//! The stream target's input is structured (`arbitrary`) and builds its own
//! real streams, so it has no seeds.

use std::path::Path;

use oneshare_fuzz::{AAD, NONCE, SHARE_ID, header_lines, key, record, relay, request, signing_key};
use oneshare_sdk::api::*;
use oneshare_sdk::envelope::{self, aad};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::{self, OwnerData, OwnerIdentity};
use oneshare_sdk::record as rec;
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{self, Signer};
use oneshare_sdk::token::{ShareId, Token, verifier};
use oneshare_sdk::transmission::{self, seal_transmission_key};

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let mut n = 0;
    for (target, name, bytes) in seeds() {
        // The JSON reader's own target starts from every JSON seed too.
        let reader = matches!(target, "api_json" | "record_json").then_some("json");
        for target in std::iter::once(target).chain(reader) {
            let folder = Path::new(&dir).join(target);
            std::fs::create_dir_all(&folder)?;
            std::fs::write(folder.join(format!("seed-{name}")), &bytes)?;
            n += 1;
        }
    }
    println!("wrote {n} seeds under {dir}");
    Ok(())
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| panic!("seed JSON: {e}"))
}

fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let key = key();

    let token = Token::from_bytes(core::array::from_fn(|i| i as u8 * 7));
    let link = token.to_link("https://share.example");
    out.push(("token_parse", "link", link.clone().into_bytes()));
    out.push((
        "token_parse",
        "pct23",
        link.replace('#', "%23").into_bytes(),
    ));
    out.push((
        "token_parse",
        "pct2523",
        link.replace('#', "%2523").into_bytes(),
    ));
    out.push(("token_parse", "angle", format!(" <{link}>.").into_bytes()));
    out.push(("token_parse", "bare", token.to_text().into_bytes()));
    out.push(("token_parse", "open_code", b"y6hq - q2lo".to_vec()));
    out.push(("token_parse", "share_id", SHARE_ID.to_string().into_bytes()));

    let record = record();
    let record_key = Secret::new([0x33; 32]);
    out.push((
        "envelope",
        "plain",
        envelope::seal_with_nonce(&key, [1; 12], AAD, b"hello"),
    ));
    out.push((
        "envelope",
        "empty",
        envelope::seal_with_nonce(&key, [2; 12], AAD, b""),
    ));
    out.push((
        "envelope",
        "record",
        rec::seal_record_with_nonce(&key, &SHARE_ID, 1, &record, [3; 12]).expect("seal"),
    ));
    out.push((
        "envelope",
        "wrapped_key",
        rec::wrap_key_with_nonce(&key, &SHARE_ID, &record_key, [4; 12]),
    ));
    let owner_data = OwnerData::new("DB password for Alice", &record_key);
    out.push((
        "envelope",
        "owner_data",
        owner::seal_owner_data_with_nonce(&key, &SHARE_ID, &owner_data, [5; 12]).expect("seal"),
    ));
    let request_aad = aad(transmission::REQUEST_LABEL, &[&NONCE]);
    out.push((
        "envelope",
        "request",
        envelope::seal_with_nonce(&key, [6; 12], &request_aad, b"{}"),
    ));
    let response_aad = aad(transmission::RESPONSE_LABEL, &[&NONCE]);
    out.push((
        "envelope",
        "response",
        envelope::seal_with_nonce(&key, [7; 12], &response_aad, b"{}"),
    ));

    let sk = signing_key();
    let pk = sk.public_key();
    for (name, signer) in [
        ("device", Signer::Device(SHARE_ID)),
        ("owner", Signer::Owner(pk)),
        ("admin", Signer::Admin(pk)),
    ] {
        let headers = signing::sign_with_nonce(&sk, signer, &request(), 1_700_000_000, [8; 16]);
        out.push(("signed_headers", name, header_lines(&headers).into_bytes()));
    }

    out.push((
        "record_json",
        "record",
        record.to_json().expect("json").to_vec(),
    ));
    out.push(("record_json", "minimal", br#"{"title":""}"#.to_vec()));
    out.push(("record_json", "owner_data", json(&owner_data)));
    let identity = OwnerIdentity {
        signing_key: sk.clone(),
        owner_key: key.clone(),
    };
    out.push((
        "record_json",
        "identity",
        identity.to_json().expect("json").as_bytes().to_vec(),
    ));

    for (name, text) in [
        ("m", "30m"),
        ("hm", "1h30m"),
        ("w", "2w"),
        ("all", "1w2d3h4m5s"),
        ("max", "365d"),
    ] {
        out.push(("duration", name, text.as_bytes().to_vec()));
    }

    let relay = relay();
    if let Ok(header) = seal_transmission_key(relay.public(), &key) {
        out.push(("transmission_header", "header", header.into_bytes()));
    }
    out.push((
        "transmission_header",
        "public_key",
        relay.public().public_key.to_vec(),
    ));

    let keys = token.derive();
    let create = CreateShareRequest {
        share_id: keys.share_id,
        verifier: verifier(&keys.bind_secret),
        wrapped_key: rec::wrap_key_with_nonce(&keys.wrap_key, &keys.share_id, &record_key, [9; 12]),
        record: rec::seal_record_with_nonce(&record_key, &keys.share_id, 1, &record, [10; 12])
            .expect("seal"),
        owner_data: owner::seal_owner_data_with_nonce(&key, &keys.share_id, &owner_data, [11; 12])
            .expect("seal"),
        expires_in: 86_400,
        self_destruct: true,
        attachments: vec![AttachmentDecl {
            id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            size: 1_300,
        }],
        guard: None,
        transfer_box: None,
    };
    out.push(("api_json", "create", json(&create)));
    let bind = BindRequest {
        bind_secret: *keys.bind_secret.expose(),
        device_key: pk,
        evidence: None,
    };
    out.push(("api_json", "bind", json(&bind)));
    let ciphertext = RecordCiphertext {
        version: 2,
        ciphertext: create.record.clone(),
    };
    out.push((
        "api_json",
        "bind_response",
        json(&BindResponse {
            wrapped_key: create.wrapped_key.clone(),
            record: ciphertext.clone(),
            attachments: vec![AttachmentInfo {
                id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                size: 1_300,
            }],
            access_expires_at: 1_700_086_400,
            self_destruct: false,
        }),
    ));
    out.push((
        "api_json",
        "update",
        json(&UpdateRecordRequest { record: ciphertext }),
    ));
    out.push((
        "api_json",
        "list",
        json(&ShareList {
            shares: vec![ShareSummary {
                share_id: ShareId([1; 16]),
                state: State::Unbound,
                created_at: 1,
                expires_at: 2,
                bound_at: Some(3),
                record_version: 1,
                self_destruct: true,
                owner_data: create.owner_data.clone(),
            }],
        }),
    ));
    out.push((
        "api_json",
        "event",
        json(&Event {
            id: 7,
            share_id: SHARE_ID,
            kind: EventKind::RefusedDevice,
            at: 1_700_000_000,
            detail: Some("from a cloud network".into()),
            device_fingerprint: Some("HXTN-GGVC-GTF5-Z377".into()),
        }),
    ));
    out.push((
        "api_json",
        "policy",
        json(&Policy {
            create: CreatePolicy::Enrolled,
            enrolled_owners: vec![pk],
            max_expires_in: 604_800,
            max_record_bytes: 65_536,
            max_attachment_bytes: 1 << 30,
            max_shares_per_owner: 100,
        }),
    ));
    out.push((
        "api_json",
        "relay_key",
        json(&RelayKeyResponse {
            current: RelayKeyInfo {
                key_id: relay.public().key_id.clone(),
                public_key: relay.public().public_key.to_vec(),
                suite: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM".into(),
            },
            accepted: vec![relay.public().key_id.clone()],
        }),
    ));
    out.push((
        "api_json",
        "error",
        json(&ErrorBody {
            code: "already_bound".into(),
            message: "This link was already opened on another device.".into(),
            attempts_left: None,
        }),
    ));
    out
}
