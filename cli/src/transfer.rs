//! Sender-approved device transfer from a terminal (PROTOCOL.md §12.2).
//!
//! Recipient: `oneshare open LINK --request-transfer` makes a device key and an
//! ECDH key, keeps them in `DATA/transfers/SHARE_ID.json` (0600) before asking,
//! shows the comparison code and polls; once approved it unwraps the record key
//! and becomes the share's device (`DATA/devices/`). Running `open` again
//! continues a request that is still waiting.
//!
//! Sender: `oneshare transfers` lists pending requests with their codes;
//! `oneshare approve ID` compares the code (typed with `--code`, or confirmed on
//! the terminal), signs the approval and re-wraps the record key to the device;
//! `oneshare deny ID` refuses.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oneshare_sdk::api::{
    ApproveTransfer, PendingTransfer, ShareList, TransferList, TransferRequest, TransferState,
    TransferStatus, TransferTicket,
};
use oneshare_sdk::encoding::{b64, unb64_array};
use oneshare_sdk::owner::{OwnerIdentity, open_owner_data};
use oneshare_sdk::secret::Secret;
use oneshare_sdk::signing::{Signer, SigningKey};
use oneshare_sdk::token::{ShareId, Token};
use oneshare_sdk::transfer::{self, ComparisonCode, EcdhKey, REQUEST_ID_LEN};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Ctx;
use crate::args::OpenArgs;
use crate::error::{Error, Result};
use crate::files;
use crate::identity::{self, owner_signer};
use crate::output;
use crate::recipient::{DeviceFile, device_path};
use crate::relay::{Call, Relay, Seal};

/// How often a waiting device asks the relay.
const POLL: Duration = Duration::from_secs(2);

/// A transfer request this device made and has not finished.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct Asking {
    version: u8,
    share_id: String,
    request_id: String,
    device_key: String,
    ecdh_key: String,
}

impl Asking {
    fn keys(&self) -> Result<(SigningKey, EcdhKey, [u8; REQUEST_ID_LEN])> {
        let bad = |_| oneshare_sdk::Error::InvalidKey("device");
        let device = SigningKey::from_bytes(&Secret::new(
            unb64_array(&self.device_key, "device key").map_err(bad)?,
        ))?;
        let ecdh = EcdhKey::from_bytes(&Secret::new(
            unb64_array(&self.ecdh_key, "ecdh key").map_err(bad)?,
        ))?;
        let rid = unb64_array(&self.request_id, "request id").map_err(bad)?;
        Ok((device, ecdh, rid))
    }
}

fn asking_path(ctx: &Ctx, id: &ShareId) -> PathBuf {
    ctx.dirs.data.join("transfers").join(format!("{id}.json"))
}

/// Whether this device asked for the share and waits for the answer.
pub fn asked(ctx: &Ctx, id: &ShareId) -> bool {
    asking_path(ctx, id).is_file()
}

/// What a waiting device reports (`--json`).
#[derive(Serialize)]
struct Waiting<'a> {
    share_id: String,
    state: &'a str,
    comparison_code: String,
    expires_at: u64,
}

/// Asks the sender to move the share to this device (or continues asking),
/// waits up to `--wait` seconds, and returns the device file once approved.
///
/// # Errors
/// `Pending` when the wait ends first (the same command continues), `Refused`
/// when denied or expired, relay and file errors.
pub fn ask_and_wait(
    ctx: &Ctx,
    relay: &Relay,
    token: &Token,
    args: &OpenArgs,
) -> Result<DeviceFile> {
    let id = token.derive().share_id;
    let path = asking_path(ctx, &id);
    let asking = match files::read_json::<Asking>(&path)? {
        Some(a) => a,
        None => ask(relay, token, &path)?,
    };
    let (device, ecdh, rid) = asking.keys()?;
    let code = transfer::comparison_code(
        &transfer::transfer_secret(token),
        &id,
        &device.public_key(),
        &ecdh.public_key()?,
    );
    let poll = || -> Result<TransferStatus> {
        relay.json(Call::new(
            "GET",
            format!("/v1/shares/{id}/transfer/{}", b64(rid)),
            (&device, Signer::Device(id)),
        ))
    };
    let mut status = poll()?;
    if status.state == TransferState::Pending && !args.json {
        eprintln!(
            "Asked the sender to move this share to this device.\n\
             Comparison code: {}\n\
             Tell the sender this code (by phone or in person); they approve only if theirs is the same.\n\
             The request expires {}.",
            code.display(),
            output::utc(status.expires_at)
        );
    }
    let until = Instant::now() + Duration::from_secs(args.wait);
    while status.state == TransferState::Pending && Instant::now() < until {
        std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        status = poll()?;
    }
    match status.state {
        TransferState::Pending => {
            if args.json {
                output::json(&Waiting {
                    share_id: id.to_string(),
                    state: "pending",
                    comparison_code: code.digits(),
                    expires_at: status.expires_at,
                })?;
            }
            Err(Error::Pending(format!(
                "the sender has not answered yet (comparison code {}); run the same command again to keep waiting",
                code.display()
            )))
        }
        TransferState::Denied | TransferState::Expired => {
            files::remove(&path)?;
            let what = if status.state == TransferState::Denied {
                "the sender denied moving this share to this device"
            } else {
                "the request expired before the sender answered; run the command again to ask anew"
            };
            Err(Error::Refused(what.to_owned()))
        }
        TransferState::Approved => {
            let sealed = status
                .transfer_key
                .ok_or_else(|| Error::NotFound("the approval carries no key".into()))?;
            let binding = transfer::Binding {
                share_id: &id,
                request_id: &rid,
                device_key: &device.public_key(),
                ecdh_key: &ecdh.public_key()?,
            };
            let record_key = transfer::open_transfer_key(
                &ecdh,
                &transfer::transfer_secret(token),
                &binding,
                &sealed,
            )?;
            let dev = DeviceFile::transferred(&relay.url, &id, &device, &record_key);
            files::write_json(&device_path(ctx, &id), &dev)?;
            files::remove(&path)?;
            if !args.json {
                eprintln!("The sender moved the share to this device.");
            }
            Ok(dev)
        }
    }
}

/// Makes this device's keys, stores them, then asks the relay.
fn ask(relay: &Relay, token: &Token, path: &std::path::Path) -> Result<Asking> {
    let keys = token.derive();
    let id = keys.share_id;
    let device = SigningKey::generate()?;
    let ecdh = EcdhKey::generate()?;
    let rid: [u8; REQUEST_ID_LEN] = oneshare_sdk::random::bytes()?;
    let asking = Asking {
        version: 1,
        share_id: id.to_string(),
        request_id: b64(rid),
        device_key: b64(device.to_bytes().expose()),
        ecdh_key: b64(ecdh.to_bytes().expose()),
    };
    // Stored first: a lost answer is retried with the same request.
    files::write_json(path, &asking)?;
    let body = Zeroizing::new(
        serde_json::to_vec(&TransferRequest {
            request_id: rid,
            bind_secret: *keys.bind_secret.expose(),
            device_key: device.public_key(),
            ecdh_key: ecdh.public_key()?,
        })
        .unwrap_or_default(),
    );
    let asked: Result<TransferTicket> = relay.json(
        Call::new(
            "POST",
            format!("/v1/shares/{id}/transfer"),
            (&device, Signer::Device(id)),
        )
        .json(body.to_vec())
        .seal(Seal::Body),
    );
    if let Err(Error::Relay { status, .. }) = &asked
        && (400..500).contains(status)
        && *status != 429
    {
        files::remove(path)?;
    }
    asked?;
    Ok(asking)
}

/// A pending request as the sender sees it: the share's label and the code.
#[derive(Serialize)]
struct Request {
    share_id: String,
    label: String,
    comparison_code: String,
    requested_at: u64,
    expires_at: u64,
}

fn pending(relay: &Relay, owner: &OwnerIdentity) -> Result<Vec<(PendingTransfer, Request)>> {
    let list: TransferList = relay.json(Call::new("GET", "/v1/transfers", owner_signer(owner)))?;
    let shares: ShareList = relay.json(Call::new("GET", "/v1/shares", owner_signer(owner)))?;
    list.transfers
        .into_iter()
        .map(|p| {
            let label = shares
                .shares
                .iter()
                .find(|s| s.share_id == p.share_id)
                .and_then(|s| open_owner_data(&owner.owner_key, &s.share_id, &s.owner_data).ok())
                .map(|d| d.label.clone())
                .unwrap_or_default();
            let code = code_of(owner, &p)?;
            let req = Request {
                share_id: p.share_id.to_string(),
                label,
                comparison_code: code.digits(),
                requested_at: p.requested_at,
                expires_at: p.expires_at,
            };
            Ok((p, req))
        })
        .collect()
}

/// The code of a request: from the transfer secret in the share's box and the
/// keys the relay says the device sent.
fn code_of(owner: &OwnerIdentity, p: &PendingTransfer) -> Result<ComparisonCode> {
    let secret = transfer::open_box(&owner.owner_key, &p.share_id, &p.transfer_box)?;
    Ok(transfer::comparison_code(
        &secret,
        &p.share_id,
        &p.device_key,
        &p.ecdh_key,
    ))
}

/// `oneshare transfers`.
///
/// # Errors
/// Relay and identity errors.
pub fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let rows: Vec<Request> = pending(&relay, &owner)?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    if json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        eprintln!("no pending transfer requests");
        return Ok(());
    }
    let mut t = output::table(&["ID", "LABEL", "CODE", "ASKED", "EXPIRES"]);
    for r in &rows {
        t.add_row(vec![
            r.share_id.clone(),
            r.label.clone(),
            format!("{} {}", &r.comparison_code[..3], &r.comparison_code[3..]),
            output::relative(r.requested_at),
            output::utc(r.expires_at),
        ]);
    }
    println!("{t}");
    eprintln!(
        "Approve only if the recipient's device shows the same code: `oneshare approve ID --code DIGITS`"
    );
    Ok(())
}

fn find(relay: &Relay, owner: &OwnerIdentity, id: &str) -> Result<PendingTransfer> {
    ShareId::parse(id).map_err(|_| Error::Usage(format!("{id:?} is not a share id")))?;
    let list: TransferList = relay.json(Call::new("GET", "/v1/transfers", owner_signer(owner)))?;
    list.transfers
        .into_iter()
        .find(|p| p.share_id.to_string() == id)
        .ok_or_else(|| Error::NotFound(format!("no pending transfer request for share {id}")))
}

/// Digits of a typed code: spaces and dashes dropped.
fn digits(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Asks on the terminal whether the recipient's code is `code`.
fn confirm_on_terminal(code: ComparisonCode) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "compare the code first: pass --code with the digits the recipient's device shows"
                .into(),
        ));
    }
    eprint!(
        "The device that asked must show {}. Is it the same on the recipient's device? [y/N] ",
        code.display()
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("cannot read", std::path::Path::new("stdin"), e))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// `oneshare approve ID`.
///
/// # Errors
/// No pending request, codes that differ, relay and identity errors.
pub fn approve(ctx: &Ctx, id: &str, code: Option<&str>) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let p = find(&relay, &owner, id)?;
    let computed = code_of(&owner, &p)?;
    match code {
        Some(typed) if digits(typed) != computed.digits() => {
            return Err(Error::CodeMismatch {
                share: id.to_owned(),
                given: digits(typed),
                computed: computed.display(),
            });
        }
        Some(_) => {}
        None => {
            if !confirm_on_terminal(computed)? {
                return Err(Error::Refused(format!(
                    "not approved; deny it with `oneshare deny {id}` if the codes differ"
                )));
            }
        }
    }
    let shares: ShareList = relay.json(Call::new("GET", "/v1/shares", owner_signer(&owner)))?;
    let summary = shares
        .shares
        .iter()
        .find(|s| s.share_id == p.share_id)
        .ok_or_else(|| Error::NotFound(format!("you have no share {id} on {}", relay.url)))?;
    let data = open_owner_data(&owner.owner_key, &p.share_id, &summary.owner_data)?;
    let secret = transfer::open_box(&owner.owner_key, &p.share_id, &p.transfer_box)?;
    let transfer_key = transfer::wrap_for_device(&secret, &p.binding(), &data.record_key()?)?
        .try_into()
        .map_err(|_| oneshare_sdk::Error::Malformed("transfer key"))?;
    let body = ApproveTransfer {
        approval: transfer::sign_approval(&owner.signing_key, &p.binding()),
        transfer_key,
    };
    relay.call(
        Call::new(
            "POST",
            format!("/v1/shares/{id}/transfer/{}/approve", b64(p.request_id)),
            owner_signer(&owner),
        )
        .json(serde_json::to_vec(&body).unwrap_or_default()),
    )?;
    println!("moved share {id} to the device that asked; the previous device no longer opens it");
    Ok(())
}

/// `oneshare deny ID`.
///
/// # Errors
/// No pending request, relay and identity errors.
pub fn deny(ctx: &Ctx, id: &str) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let p = find(&relay, &owner, id)?;
    relay.call(Call::new(
        "POST",
        format!("/v1/shares/{id}/transfer/{}/deny", b64(p.request_id)),
        owner_signer(&owner),
    ))?;
    println!("denied the request to move share {id}");
    Ok(())
}
