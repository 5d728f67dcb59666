//! `oneshare`: create, list, update, revoke and open one-time shares from a
//! terminal, on the native core `oneshare-sdk`, speaking HTTP to a relay.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::Parser;

mod admin;
mod args;
mod compose;
mod error;
mod events;
mod files;
mod identity;
mod output;
mod owner;
mod recipient;
mod relay;
mod transfer;
mod upload;

use args::{Cli, Command};
use error::{Error, Result, exit};
use files::Dirs;
use relay::{Relay, Relays};

/// What every command needs.
pub struct Ctx {
    /// Config and data directories.
    pub dirs: Dirs,
    /// `--relay` / `ONESHARE_RELAY`.
    pub relay_flag: Option<String>,
    /// No progress bars.
    pub quiet: bool,
}

impl Ctx {
    /// The relay URL: the flag, else the one `init` saved.
    ///
    /// # Errors
    /// [`Error::NoRelay`].
    pub fn relay_url(&self) -> Result<String> {
        match &self.relay_flag {
            Some(u) => Ok(u.clone()),
            None => Relays::load(&self.dirs)?.default.ok_or(Error::NoRelay),
        }
    }

    /// Connects to the relay, checking its pinned key.
    ///
    /// # Errors
    /// As [`Relay::connect`].
    pub fn relay(&self) -> Result<Relay> {
        Relay::connect(&self.dirs, &self.relay_url()?, false)
    }
}

/// What to do next, for errors whose code says it.
fn hint(e: &Error) -> Option<&'static str> {
    let Error::Relay { code, .. } = e else {
        return None;
    };
    Some(match code.as_str() {
        "already_bound" => {
            "only the device that opened it first can read it; ask the sender to move it here \
             with `oneshare open LINK --request-transfer`, or for a new link"
        }
        "expired" | "revoked" | "self_destructed" => {
            "the record is gone for good; ask the sender for a new link"
        }
        "bad_token" => "the link is damaged or not for this relay; copy it again",
        "code_required" | "wrong_code" => {
            "ask the sender for the open code and pass it with --code (or run in a terminal to be asked)"
        }
        "passphrase_required" | "wrong_passphrase" => {
            "ask the sender for the passphrase and pipe it to --passphrase-stdin (or run in a terminal to be asked)"
        }
        "locked" => "nobody can open this link any more; ask the sender for a new one",
        "moved" => "the sender moved this share to another device; this device forgot it",
        "transfer_pending" => "another device's request waits for the sender; try again later",
        "stale_timestamp" => "this machine's clock is off; set it right and retry",
        "rate_limited" => "wait a minute, then retry",
        "quota" => "revoke shares you no longer need (`oneshare list`, `oneshare revoke ID`)",
        "forbidden" => "the relay does not allow this key; ask its operator",
        _ => return None,
    })
}

fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        dirs: Dirs::new(cli.config_dir, cli.data_dir)?,
        relay_flag: cli.relay,
        quiet: cli.quiet,
    };
    match &cli.command {
        Command::Init { trust_new_key } => owner::init(&ctx, *trust_new_key),
        Command::Create(args) => owner::create(&ctx, args),
        Command::Open(args) => recipient::open(&ctx, args),
        Command::List { json } => owner::list(&ctx, *json),
        Command::Show { id, json } => owner::show(&ctx, id, *json),
        Command::Update { id, record, json } => owner::update(&ctx, id, record, *json),
        Command::Revoke { id } => owner::revoke(&ctx, id),
        Command::Events {
            follow,
            since,
            json,
        } => owner::events(&ctx, *follow, *since, *json),
        Command::Transfers { json } => transfer::list(&ctx, *json),
        Command::Approve { id, code } => transfer::approve(&ctx, id, code.as_deref()),
        Command::Deny { id } => transfer::deny(&ctx, id),
        Command::Resume { id, json } => owner::resume(&ctx, id.as_deref(), *json),
        Command::Admin(cmd) => admin::run(&ctx, cmd),
    }
}

fn main() -> ExitCode {
    // Ctrl-C during an upload stops between parts (resumable); otherwise exit now.
    let _ = ctrlc::set_handler(|| {
        if upload::UPLOADING.load(Ordering::SeqCst) {
            upload::INTERRUPTED.store(true, Ordering::SeqCst);
        } else {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    });
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("oneshare: {e}");
            if let Some(h) = hint(&e) {
                eprintln!("  {h}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
