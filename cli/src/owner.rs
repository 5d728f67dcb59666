//! Sender commands: init, create, resume, list, show, update, revoke, events.

use std::collections::HashMap;

use oneshare_sdk::api::{
    AttachmentDecl, CreateShareRequest, CreateShareResponse, Event, EventKind, RecordCiphertext,
    RecordResponse, ShareList, ShareSummary, UpdateRecordRequest,
};
use oneshare_sdk::lifetime::State;
use oneshare_sdk::owner::{OwnerData, OwnerIdentity, open_owner_data, seal_owner_data};
use oneshare_sdk::record::{self, Attachment};
use oneshare_sdk::token::{ShareId, Token, verifier};
use oneshare_sdk::transfer;
use oneshare_sdk::{guard, passphrase};
use serde::Serialize;

use crate::Ctx;
use crate::args::{CreateArgs, RecordArgs};
use crate::compose;
use crate::error::{Error, Result};
use crate::events;
use crate::identity::{self, owner_signer};
use crate::output;
use crate::relay::{Call, Relay, Relays, Seal, normalize};
use crate::upload::{self, Pending};

/// `oneshare init`.
///
/// # Errors
/// Any failure to reach the relay or write the files.
pub fn init(ctx: &Ctx, trust_new_key: bool) -> Result<()> {
    let url = normalize(ctx.relay_flag.as_deref().ok_or_else(|| {
        Error::Usage("init needs the relay: `oneshare init --relay https://share.example`".into())
    })?)?;
    let relay = Relay::connect(&ctx.dirs, &url, trust_new_key)?;
    let (owner, created) = identity::ensure_owner(&ctx.dirs)?;
    let mut relays = Relays::load(&ctx.dirs)?;
    relays.default = Some(relay.url.clone());
    relays.save(&ctx.dirs)?;
    let path = ctx.dirs.config.join("identity.json");
    if created {
        println!("created owner identity {} (0600)", path.display());
    } else {
        println!("owner identity {} (kept)", path.display());
    }
    println!("owner key  {}", owner.public_key());
    println!("relay      {} (key {} pinned)", relay.url, relay.key_id());
    Ok(())
}

/// Machine output of create and resume.
#[derive(Serialize)]
struct Created<'a> {
    link: &'a str,
    share_id: &'a str,
    expires_at: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    open_code: &'a str,
    require_code: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    generated_password: Option<&'a str>,
}

fn print_created(
    pending: &Pending,
    generated: Option<&str>,
    args: (bool, bool, bool),
) -> Result<()> {
    let (json, qr, invite) = args;
    let (link, share_id, expires_at) = (&pending.link, &pending.share_id, pending.expires_at);
    if json {
        return output::json(&Created {
            link,
            share_id,
            expires_at,
            open_code: &pending.open_code,
            require_code: pending.require_code,
            generated_password: generated,
        });
    }
    if invite {
        println!(
            "I sent you something through oneshare. Open this link once, on the device where you \
             want to keep it; after that it works only there:\n\n{link}\n\nThe link stops working \
             at {} if unused. Please don't forward it. If the page asks for an open code, I will \
             send it to you separately.",
            output::utc(expires_at)
        );
    } else {
        println!("{link}");
    }
    if qr {
        println!("{}", output::qr(link)?);
    }
    eprintln!(
        "share {share_id}: one device can open it; the link expires {} ({})",
        output::relative(expires_at),
        output::utc(expires_at)
    );
    if !pending.open_code.is_empty() {
        let when = if pending.require_code {
            "asked for at every open"
        } else {
            "asked for when an open looks automated (a mail scanner)"
        };
        eprintln!(
            "open code {}: send it separately from the link; {when}",
            pending.open_code
        );
    }
    if generated.is_some() {
        eprintln!("a password was generated; it is in the share (use --json to see it here)");
    }
    Ok(())
}

fn mime_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map_or("", |(_, e)| e)
        .to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "log" | "md" => "text/plain",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "zip" => "application/zip",
        "pem" | "crt" | "key" => "application/x-pem-file",
        _ => "application/octet-stream",
    }
}

/// `oneshare create`.
///
/// # Errors
/// Usage, relay and file errors.
pub fn create(ctx: &Ctx, args: &CreateArgs) -> Result<()> {
    let expires_in = oneshare_sdk::duration::parse(&args.expire)?;
    let owner = identity::load_owner(&ctx.dirs)?;
    let built = compose::build(
        &args.record,
        args.label.as_deref().unwrap_or("Shared secret"),
    )?;
    let mut rec = built.record.clone();
    if rec.fields.is_empty() && args.files.is_empty() {
        return Err(Error::Usage(
            "nothing to share: give a field (--password-stdin, --login, --note-file, …) or --file"
                .into(),
        ));
    }
    let files = args
        .files
        .iter()
        .map(|p| upload::prepare_file(p))
        .collect::<Result<Vec<_>>>()?;
    let relay = ctx.relay()?;
    for f in &files {
        let name = f
            .path
            .file_name()
            .map_or_else(|| "attachment".into(), |n| n.to_string_lossy().into_owned());
        rec.attachments.push(Attachment {
            id: f.id.clone(),
            mime: mime_of(&name).into(),
            name,
            size: f.size,
            key: f.key.clone(),
        });
    }
    let token = Token::generate()?;
    let keys = token.derive();
    let pass = compose::passphrase(args)?;
    let pass = pass
        .map(|p| passphrase::derive(&token, &passphrase::Nfc::normalize(&p)))
        .transpose()?;
    let guarded = guard::create(&token, args.require_code, pass)?;
    let record_key = record::generate_key()?;
    let req = CreateShareRequest {
        share_id: keys.share_id,
        verifier: verifier(&keys.bind_secret),
        wrapped_key: record::wrap_key(&guarded.wrap_key, &keys.share_id, &record_key)?,
        record: record::seal_record(&record_key, &keys.share_id, 1, &rec)?,
        owner_data: seal_owner_data(
            &owner.owner_key,
            &keys.share_id,
            &OwnerData::new(args.label.clone().unwrap_or_default(), &record_key),
        )?,
        expires_in,
        self_destruct: args.self_destruct,
        attachments: files
            .iter()
            .map(|f| AttachmentDecl {
                id: f.id.clone(),
                size: oneshare_sdk::stream::ciphertext_len(f.size),
            })
            .collect(),
        guard: Some(guarded.guard),
        transfer_box: Some(transfer::seal_box(
            &owner.owner_key,
            &keys.share_id,
            &transfer::transfer_secret(&token),
        )?),
    };
    let body = serde_json::to_vec(&req).unwrap_or_default();
    let created: CreateShareResponse = relay.json(
        Call::new("POST", "/v1/shares", owner_signer(&owner))
            .json(body)
            .seal(Seal::Body),
    )?;
    let link = token.to_link(&relay.url);
    let share_id = keys.share_id.to_string();
    let pending = Pending {
        version: 1,
        relay: relay.url.clone(),
        link,
        share_id,
        expires_at: created.expires_at,
        files,
        open_code: guarded.open_code.display(),
        require_code: args.require_code,
    };
    let flags = (args.json, args.qr, args.invite);
    finish_upload(
        ctx,
        &relay,
        &owner,
        &pending,
        built.generated.as_deref().map(|s| s.as_str()),
        flags,
    )
}

fn finish_upload(
    ctx: &Ctx,
    relay: &Relay,
    owner: &OwnerIdentity,
    pending: &Pending,
    generated: Option<&str>,
    flags: (bool, bool, bool),
) -> Result<()> {
    if !pending.files.is_empty() {
        pending.save(&ctx.dirs)?;
        let total = pending
            .files
            .iter()
            .map(|f| oneshare_sdk::stream::ciphertext_len(f.size))
            .sum();
        let bar = output::bar(total, ctx.quiet, "upload");
        upload::upload_all(relay, owner, pending, &bar)?;
        bar.finish_and_clear();
        pending.remove(&ctx.dirs)?;
    }
    print_created(pending, generated, flags)
}

/// `oneshare resume`.
///
/// # Errors
/// As create.
pub fn resume(ctx: &Ctx, id: Option<&str>, json: bool) -> Result<()> {
    let pending = Pending::load(&ctx.dirs, id)?;
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = Relay::connect(&ctx.dirs, &pending.relay, false)?;
    finish_upload(ctx, &relay, &owner, &pending, None, (json, false, false))
}

/// A share as listed: with the label only the owner can read (none for admins).
#[derive(Serialize)]
pub struct Listed {
    share_id: String,
    label: Option<String>,
    state: &'static str,
    created_at: u64,
    expires_at: u64,
    opened_at: Option<u64>,
    refused_devices: Option<usize>,
    record_version: u64,
    self_destruct: bool,
}

/// A row; the label and refusal count only in the owner's view (admins have
/// neither the owner key nor the owner's events).
fn listed(
    s: &ShareSummary,
    owner: Option<(&OwnerIdentity, &HashMap<ShareId, Refusals>)>,
) -> Listed {
    let label = owner
        .filter(|_| !s.owner_data.is_empty())
        .and_then(|(o, _)| open_owner_data(&o.owner_key, &s.share_id, &s.owner_data).ok())
        .map(|d| d.label.clone());
    let refused = owner.and_then(|(_, r)| r.get(&s.share_id));
    // An unbound share after 5 wrong codes or passphrases opens nowhere.
    let locked = refused.is_some_and(|r| r.locked) && s.state == State::Unbound;
    Listed {
        share_id: s.share_id.to_string(),
        label,
        state: if locked { "locked" } else { s.state.as_str() },
        created_at: s.created_at,
        expires_at: s.expires_at,
        opened_at: s.bound_at,
        refused_devices: owner.map(|_| refused.map_or(0, |r| r.count)),
        record_version: s.record_version,
        self_destruct: s.self_destruct,
    }
}

/// A share's refused binds, from its events.
#[derive(Default)]
struct Refusals {
    /// `refused_device` events (other devices, open codes asked, wrong factors).
    count: usize,
    /// The relay locked the share after 5 wrong codes or passphrases
    /// (PROTOCOL.md §12.4; the event's detail says so).
    locked: bool,
}

fn refusals(events: &[Event]) -> HashMap<ShareId, Refusals> {
    let mut out: HashMap<ShareId, Refusals> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::RefusedDevice) {
        let r = out.entry(e.share_id).or_default();
        r.count += 1;
        r.locked |= e
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("the share is locked"));
    }
    out
}

fn summaries(relay: &Relay, owner: &OwnerIdentity) -> Result<Vec<ShareSummary>> {
    let list: ShareList = relay.json(Call::new("GET", "/v1/shares", owner_signer(owner)))?;
    Ok(list.shares)
}

/// Prints shares as a table (shared by `list` and `admin list`).
pub fn print_table(rows: &[Listed]) {
    let owner_view = rows.iter().any(|r| r.refused_devices.is_some());
    let mut header = vec![
        "ID", "LABEL", "STATE", "CREATED", "ENDS", "OPENED", "REFUSED", "V",
    ];
    if !owner_view {
        header.retain(|h| *h != "LABEL" && *h != "REFUSED");
    }
    let mut t = output::table(&header);
    for r in rows {
        let mut row = vec![r.share_id.clone()];
        if owner_view {
            row.push(r.label.clone().unwrap_or_default());
        }
        row.push(format!(
            "{}{}",
            r.state,
            if r.self_destruct { " (sd)" } else { "" }
        ));
        row.push(output::utc(r.created_at));
        row.push(output::relative(r.expires_at));
        row.push(r.opened_at.map(output::relative).unwrap_or_default());
        if let Some(n) = r.refused_devices {
            row.push(n.to_string());
        }
        row.push(r.record_version.to_string());
        t.add_row(row);
    }
    println!("{t}");
}

/// `oneshare list`.
///
/// # Errors
/// Relay errors.
pub fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let shares = summaries(&relay, &owner)?;
    let evs = events::stored(&relay, &events::open(&relay, &owner, None)?)?;
    let refused = refusals(&evs);
    let rows: Vec<Listed> = shares
        .iter()
        .map(|s| listed(s, Some((&owner, &refused))))
        .collect();
    if json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        eprintln!("no shares yet; create one with `oneshare create`");
        return Ok(());
    }
    print_table(&rows);
    Ok(())
}

fn find(relay: &Relay, owner: &OwnerIdentity, id: &str) -> Result<ShareSummary> {
    ShareId::parse(id).map_err(|_| Error::Usage(format!("{id:?} is not a share id")))?;
    summaries(relay, owner)?
        .into_iter()
        .find(|s| s.share_id.to_string() == id)
        .ok_or_else(|| Error::NotFound(format!("you have no share {id} on {}", relay.url)))
}

/// `oneshare show ID`.
///
/// # Errors
/// [`Error::NotFound`], relay errors.
pub fn show(ctx: &Ctx, id: &str, json: bool) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let s = find(&relay, &owner, id)?;
    let evs: Vec<Event> = events::stored(&relay, &events::open(&relay, &owner, None)?)?
        .into_iter()
        .filter(|e| e.share_id == s.share_id)
        .collect();
    let refused = refusals(&evs);
    let row = listed(&s, Some((&owner, &refused)));
    if json {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            share: &'a Listed,
            events: &'a [Event],
        }
        return output::json(&Shown {
            share: &row,
            events: &evs,
        });
    }
    print_table(std::slice::from_ref(&row));
    for e in &evs {
        println!("{}", events::line(e));
    }
    Ok(())
}

/// `oneshare update ID`.
///
/// # Errors
/// [`Error::NotFound`], relay errors.
pub fn update(ctx: &Ctx, id: &str, args: &RecordArgs, json: bool) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let s = find(&relay, &owner, id)?;
    let data = open_owner_data(&owner.owner_key, &s.share_id, &s.owner_data)?;
    let record_key = data.record_key()?;
    // The current version (owner-signed read): the new one starts from its
    // fields and keeps its attachments, whose keys live only in the record.
    let current: RecordResponse = relay.json(
        Call::new(
            "GET",
            format!("/v1/shares/{id}/record"),
            owner_signer(&owner),
        )
        .seal(Seal::Answer),
    )?;
    let old = record::open_record(
        &record_key,
        &s.share_id,
        current.record.version,
        &current.record.ciphertext,
    )?;
    let built = compose::build(args, &old.title)?;
    if built.record.fields.is_empty() && args.title.is_none() {
        return Err(Error::Usage(
            "give what changes (--title, --password-stdin, --note-file, --field, …)".into(),
        ));
    }
    let version = current.record.version + 1;
    let req = UpdateRecordRequest {
        record: RecordCiphertext {
            version,
            ciphertext: record::seal_record(
                &record_key,
                &s.share_id,
                version,
                &compose::merge(&old, &built.record),
            )?,
        },
    };
    let body = serde_json::to_vec(&req).unwrap_or_default();
    relay.call(
        Call::new(
            "PUT",
            format!("/v1/shares/{id}/record"),
            owner_signer(&owner),
        )
        .json(body)
        .seal(Seal::Body),
    )?;
    if json {
        #[derive(Serialize)]
        struct Updated<'a> {
            share_id: &'a str,
            version: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            generated_password: Option<&'a str>,
        }
        return output::json(&Updated {
            share_id: id,
            version,
            generated_password: built.generated.as_deref().map(|s| s.as_str()),
        });
    }
    println!("share {id} is now at version {version}");
    Ok(())
}

/// `oneshare revoke ID`.
///
/// # Errors
/// Relay errors.
pub fn revoke(ctx: &Ctx, id: &str) -> Result<()> {
    ShareId::parse(id).map_err(|_| Error::Usage(format!("{id:?} is not a share id")))?;
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    relay.call(Call::new(
        "DELETE",
        format!("/v1/shares/{id}"),
        owner_signer(&owner),
    ))?;
    println!("share {id} revoked; its data is deleted from the relay");
    Ok(())
}

/// `oneshare events`.
///
/// # Errors
/// Relay errors.
pub fn events(ctx: &Ctx, follow: bool, since: Option<u64>, json: bool) -> Result<()> {
    let owner = identity::load_owner(&ctx.dirs)?;
    let relay = ctx.relay()?;
    let rx = events::open(&relay, &owner, since)?;
    let print = |e: &Event| {
        if json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else {
            println!("{}", events::line(e));
        }
    };
    if follow {
        for e in rx {
            if let Some(e) = e? {
                print(&e);
            }
        }
        return Err(Error::Network {
            url: relay.url.clone(),
            reason: "the event stream ended".into(),
        });
    }
    for e in events::stored(&relay, &rx)? {
        print(&e);
    }
    Ok(())
}

/// Rows of an admin listing (metadata only).
pub(crate) fn admin_rows(shares: &[ShareSummary]) -> Vec<Listed> {
    shares.iter().map(|s| listed(s, None)).collect()
}
