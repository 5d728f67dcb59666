//! `oneshare open LINK`: this machine as a recipient device (PROTOCOL.md §9.3).
//! The device key for a share lives in `DATA/devices/SHARE_ID.json` (0600),
//! written before bind so a retry after a lost answer re-binds with the same
//! key; once confirmed, later opens fetch the current record with a signed
//! request. Attachments stream to a temporary file next to the target and are
//! renamed into place only after the whole STREAM authenticated.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use oneshare_sdk::api::{
    BindRequest, BindResponse, ClientSignals, ConfirmResponse, RecordResponse,
};
use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::fingerprint::fingerprint;
use oneshare_sdk::guard;
use oneshare_sdk::open_code::OpenCode;
use oneshare_sdk::passphrase::{self, PassphraseKeys};
use oneshare_sdk::record::{self, FieldType, Record};
use oneshare_sdk::secret::{Key256, Secret};
use oneshare_sdk::signing::{Signer, SigningKey};
use oneshare_sdk::stream::{self, Decryptor, HEADER_LEN};
use oneshare_sdk::token::{ShareId, Token, link_base};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Ctx;
use crate::args::OpenArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::relay::{Call, Relay, Seal};
use crate::{compose, files};

/// A device key for one share, and the record key once bound.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceFile {
    version: u8,
    relay: String,
    share_id: String,
    device_key: String,
    #[serde(default)]
    record_key: Option<String>,
    #[serde(default)]
    confirmed: bool,
    #[serde(default)]
    self_destruct: bool,
}

impl DeviceFile {
    /// A device the sender moved the share to (PROTOCOL.md §12.2): bound and
    /// confirmed by the relay's approval, with the record key it unwrapped.
    pub(crate) fn transferred(
        relay: &str,
        id: &ShareId,
        device: &SigningKey,
        record_key: &Key256,
    ) -> Self {
        Self {
            version: 1,
            relay: relay.to_owned(),
            share_id: id.to_string(),
            device_key: b64(device.to_bytes().expose()),
            record_key: Some(b64(record_key.expose())),
            confirmed: true,
            self_destruct: false,
        }
    }

    fn signing_key(&self) -> Result<SigningKey> {
        let bytes = unb64_array(&self.device_key, "device key")
            .map_err(|_| oneshare_sdk::Error::InvalidKey("device"))?;
        Ok(SigningKey::from_bytes(&Secret::new(bytes))?)
    }

    fn record_key(&self) -> Result<Option<Key256>> {
        self.record_key
            .as_deref()
            .map(|k| {
                unb64_array(k, "record key")
                    .map(Secret::new)
                    .map_err(|_| oneshare_sdk::Error::InvalidKey("record").into())
            })
            .transpose()
    }
}

pub(crate) fn device_path(ctx: &Ctx, id: &ShareId) -> PathBuf {
    ctx.dirs.data.join("devices").join(format!("{id}.json"))
}

/// What a recipient gets.
#[derive(Serialize)]
struct Opened {
    share_id: String,
    version: u64,
    record: Record,
    access_expires_at: u64,
    self_destruct: bool,
    /// This device's fingerprint (PROTOCOL.md §9.6), as the sender's events name it.
    device_fingerprint: String,
}

/// Whether the relay ended the share for good (drop the device key then).
fn is_final(e: &Error) -> bool {
    matches!(e, Error::Relay { status, .. } if *status == 404 || *status == 410)
}

/// `oneshare open`.
///
/// # Errors
/// Usage (bad link), refused (another device), ended, network, integrity.
pub fn open(ctx: &Ctx, args: &OpenArgs) -> Result<()> {
    let token = Token::parse(&args.link)?;
    let keys = token.derive();
    let id = keys.share_id;
    let url = match link_base(&args.link) {
        Some(base) => base.to_owned(),
        None => ctx.relay_url().map_err(|_| {
            Error::BadLink("it has no relay address; pass --relay URL with a bare token")
        })?,
    };
    let relay = Relay::connect(&ctx.dirs, &url, false)?;
    let path = device_path(ctx, &id);
    let mut existing: Option<DeviceFile> = files::read_json(&path)?;
    if existing.is_none() && (args.request_transfer || crate::transfer::asked(ctx, &id)) {
        existing = Some(crate::transfer::ask_and_wait(ctx, &relay, &token, args)?);
    }
    let (view, device) = match existing {
        Some(dev) if dev.confirmed => {
            let key = dev.signing_key()?;
            let rk = dev
                .record_key()?
                .ok_or_else(|| Error::NotFound("device file has no record key".into()))?;
            let resp: RecordResponse = match relay.json(
                Call::new(
                    "GET",
                    format!("/v1/shares/{id}/record"),
                    (&key, Signer::Device(id)),
                )
                .seal(Seal::Answer),
            ) {
                Ok(r) => r,
                Err(e) => {
                    if is_final(&e) {
                        files::remove(&path)?;
                    }
                    return Err(e);
                }
            };
            let record =
                record::open_record(&rk, &id, resp.record.version, &resp.record.ciphertext)?;
            let view = Opened {
                share_id: id.to_string(),
                version: resp.record.version,
                record,
                access_expires_at: resp.access_expires_at,
                self_destruct: dev.self_destruct,
                device_fingerprint: fingerprint(&key.public_key()),
            };
            (view, key)
        }
        other => bind_asking(&relay, &token, other, &path, args)?,
    };
    if let Some(dir) = &args.save_dir {
        save_attachments(ctx, &relay, &id, &view.record, dir, &device)?;
    }
    print_record(&view, args)
}

/// Second factors for a bind (protocol v2, PROTOCOL.md §12).
#[derive(Default)]
struct Factors {
    code: Option<OpenCode>,
    passphrase: Option<PassphraseKeys>,
}

/// The relay code of an error, if the relay answered one.
fn relay_code(e: &Error) -> Option<&str> {
    match e {
        Error::Relay { code, .. } => Some(code),
        _ => None,
    }
}

/// [`bind`] with the factors given on the command line; when the relay asks
/// for one that was not given (or refuses a wrong one) and a terminal is
/// attached, asks there and binds again. Without a terminal the relay's
/// answer is the error (`code_required`, `passphrase_required`, …).
fn bind_asking(
    relay: &Relay,
    token: &Token,
    mut existing: Option<DeviceFile>,
    path: &Path,
    args: &OpenArgs,
) -> Result<(Opened, SigningKey)> {
    let mut factors = Factors {
        code: args.code.as_deref().map(OpenCode::parse).transpose()?,
        passphrase: None,
    };
    if args.passphrase_stdin {
        let text = compose::read_stdin("the passphrase")?;
        factors.passphrase = Some(passphrase::derive(
            token,
            &passphrase::Nfc::normalize(&text),
        )?);
    }
    let terminal = std::io::stdin().is_terminal();
    loop {
        let err = match bind(relay, token, existing.take(), path, &factors) {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        let code = relay_code(&err).unwrap_or_default();
        let given = match code {
            "code_required" | "wrong_code" => args.code.is_some(),
            "passphrase_required" | "wrong_passphrase" => args.passphrase_stdin,
            _ => true,
        };
        if !terminal || given {
            return Err(err);
        }
        if code.starts_with("wrong_") {
            eprintln!("oneshare: {err}");
        }
        if matches!(code, "code_required" | "wrong_code") {
            let typed = compose::prompt_secret("Open code (from the sender): ", false)?;
            factors.code = Some(OpenCode::parse(&typed)?);
        } else {
            let typed = compose::prompt_secret("Passphrase (from the sender): ", false)?;
            factors.passphrase = Some(passphrase::derive(
                token,
                &passphrase::Nfc::normalize(&typed),
            )?);
        }
        // The refused bind dropped its key file; the next bind starts afresh.
        existing = files::read_json(path)?;
    }
}

/// Two-phase bind: bind → unwrap and decrypt → store the record key → confirm.
fn bind(
    relay: &Relay,
    token: &Token,
    existing: Option<DeviceFile>,
    path: &Path,
    factors: &Factors,
) -> Result<(Opened, SigningKey)> {
    let keys = token.derive();
    let id = keys.share_id;
    let mut dev = match existing {
        Some(d) => d,
        None => {
            let d = DeviceFile {
                version: 1,
                relay: relay.url.clone(),
                share_id: id.to_string(),
                device_key: b64(SigningKey::generate()?.to_bytes().expose()),
                record_key: None,
                confirmed: false,
                self_destruct: false,
            };
            // Stored before bind: a retry after a lost answer uses the same key.
            files::write_json(path, &d)?;
            d
        }
    };
    let device = dev.signing_key()?;
    let body = serde_json::to_vec(&BindRequest {
        bind_secret: *keys.bind_secret.expose(),
        device_key: device.public_key(),
        // A command line has no page signals to report (PROTOCOL.md §12.4).
        evidence: Some(guard::evidence(
            token,
            factors.code.as_ref(),
            factors.passphrase.as_ref(),
            ClientSignals::default(),
        )),
    })
    .unwrap_or_default();
    let body = Zeroizing::new(body);
    let bound: BindResponse = match relay.json(
        Call::new(
            "POST",
            format!("/v1/shares/{id}/bind"),
            (&device, Signer::Device(id)),
        )
        .json(body.to_vec())
        .seal(Seal::Both),
    ) {
        Ok(b) => b,
        Err(e) => {
            // Refused for good: the key made for this bind is useless. A network
            // failure or rate limit keeps it for the retry.
            if let Error::Relay { status, .. } = &e
                && (400..500).contains(status)
                && *status != 429
                && dev.record_key.is_none()
            {
                files::remove(path)?;
            }
            return Err(e);
        }
    };
    let rk = guard::unwrap_record_key(token, factors.passphrase.as_ref(), &bound.wrapped_key)?;
    let rec = record::open_record(&rk, &id, bound.record.version, &bound.record.ciphertext)?;
    dev.record_key = Some(b64(rk.expose()));
    dev.self_destruct = bound.self_destruct;
    files::write_json(path, &dev)?;
    let confirmed: ConfirmResponse = relay.json(Call::new(
        "POST",
        format!("/v1/shares/{id}/confirm"),
        (&device, Signer::Device(id)),
    ))?;
    dev.confirmed = true;
    files::write_json(path, &dev)?;
    let view = Opened {
        share_id: id.to_string(),
        version: bound.record.version,
        record: rec,
        access_expires_at: confirmed.access_expires_at,
        self_destruct: bound.self_destruct,
        device_fingerprint: fingerprint(&device.public_key()),
    };
    Ok((view, device))
}

fn field_name(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Login => "login",
        FieldType::Password => "password",
        FieldType::Url => "url",
        FieldType::Note => "note",
        FieldType::Totp => "totp",
        FieldType::Custom => "custom",
    }
}

fn print_record(opened: &Opened, args: &OpenArgs) -> Result<()> {
    let rec = &opened.record;
    if args.json {
        return output::json(opened);
    }
    if let Some(name) = &args.field {
        let value = if name == "title" {
            Some(rec.title.as_str())
        } else {
            rec.fields
                .iter()
                .find(|f| {
                    field_name(f.kind) == name.as_str() || f.label.as_deref() == Some(name.as_str())
                })
                .map(|f| f.value.as_str())
        };
        return match value {
            Some(v) => {
                println!("{v}");
                Ok(())
            }
            None => Err(Error::NotFound(format!(
                "the record has no field {name:?}; run `oneshare open LINK` to see its fields"
            ))),
        };
    }
    println!("{}", rec.title);
    for f in &rec.fields {
        let label = f
            .label
            .clone()
            .unwrap_or_else(|| field_name(f.kind).to_owned());
        let secret = matches!(f.kind, FieldType::Password | FieldType::Totp);
        let value = if secret && !args.reveal {
            format!("•••••••• (--reveal or --field {label})")
        } else {
            f.value.clone()
        };
        if value.contains('\n') {
            println!("  {label}:");
            for l in value.lines() {
                println!("    {l}");
            }
        } else {
            println!("  {label}: {value}");
        }
    }
    for a in &rec.attachments {
        println!("  file: {} ({} bytes, {})", a.name, a.size, a.mime);
    }
    let sd = if opened.self_destruct {
        " (self-destructing)"
    } else {
        ""
    };
    eprintln!(
        "share {}, version {}: readable on this device (device {}) until {}{sd}",
        opened.share_id,
        opened.version,
        opened.device_fingerprint,
        output::utc(opened.access_expires_at)
    );
    Ok(())
}

/// A file name safe to create in the save directory.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    match cleaned.trim() {
        "" | "." | ".." => "attachment".into(),
        n => n.to_owned(),
    }
}

fn save_attachments(
    ctx: &Ctx,
    relay: &Relay,
    id: &ShareId,
    rec: &Record,
    dir: &Path,
    device: &SigningKey,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    for a in &rec.attachments {
        let key: Key256 = Secret::new(
            unb64_array(&a.key, "file key").map_err(|_| oneshare_sdk::Error::InvalidKey("file"))?,
        );
        let target = dir.join(safe_name(&a.name));
        let tmp = dir.join(format!(".{}.oneshare-part", safe_name(&a.name)));
        let (res, _) = relay.send(
            Call::new(
                "GET",
                format!("/v1/shares/{id}/attachments/{}", a.id),
                (device, Signer::Device(*id)),
            )
            .streaming(),
        )?;
        let expected = stream::ciphertext_len(a.size);
        if res.content_length().is_some_and(|n| n != expected) {
            return Err(oneshare_sdk::Error::Truncated.into());
        }
        let bar = output::bar(a.size, ctx.quiet, &safe_name(&a.name));
        let result = decrypt_to(relay, res, &key, &tmp, &bar);
        bar.finish_and_clear();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, &target).map_err(|e| Error::io("cannot write", &target, e))?;
        if !ctx.quiet {
            eprintln!("saved {}", target.display());
        }
    }
    Ok(())
}

/// Streams a STREAM ciphertext through the decryptor into `tmp` (fsynced).
fn decrypt_to(
    relay: &Relay,
    mut res: reqwest::blocking::Response,
    key: &Key256,
    tmp: &Path,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let mut header = [0u8; HEADER_LEN];
    res.read_exact(&mut header)
        .map_err(|_| oneshare_sdk::Error::Truncated)?;
    let mut dec = Decryptor::new(key, &header)?;
    let file = File::create(tmp).map_err(|e| Error::io("cannot write", tmp, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = res.read(&mut buf).map_err(|e| relay.io_error(&e))?;
        if n == 0 {
            break;
        }
        let pt = dec.push(&buf[..n])?;
        out.write_all(&pt)
            .map_err(|e| Error::io("cannot write", tmp, e))?;
        bar.inc(pt.len() as u64);
    }
    let last = dec.finish()?;
    out.write_all(&last)
        .map_err(|e| Error::io("cannot write", tmp, e))?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io("cannot write", tmp, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("cannot write", tmp, e))?;
    Ok(())
}
