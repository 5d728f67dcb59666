//! Admin commands (PROTOCOL.md §10): signed `admin:PK` with a key listed in the
//! relay's `--admin-key`; policy, every share's metadata, revoke any share.
//! Admins never see content or owner data.

use std::io::Read;
use std::path::Path;

use oneshare_sdk::api::{Policy, ShareList};
use oneshare_sdk::token::ShareId;

use crate::Ctx;
use crate::args::AdminCommand;
use crate::error::{Error, Result};
use crate::identity;
use crate::output;
use crate::owner;
use crate::relay::Call;

/// Runs one admin subcommand.
///
/// # Errors
/// Usage, relay errors (403 when the relay does not know the admin key).
pub fn run(ctx: &Ctx, cmd: &AdminCommand) -> Result<()> {
    if let AdminCommand::Init = cmd {
        let admin = identity::ensure_admin(&ctx.dirs)?;
        println!("{}", admin.0.public_key());
        eprintln!(
            "admin key in {} (0600); start the relay with --admin-key {}",
            ctx.dirs.config.join("admin.json").display(),
            admin.0.public_key()
        );
        return Ok(());
    }
    let admin = identity::load_admin(&ctx.dirs)?;
    let relay = ctx.relay()?;
    match cmd {
        AdminCommand::Init => Ok(()),
        AdminCommand::Policy => {
            let p: Policy = relay.json(Call::new("GET", "/v1/admin/policy", admin.signer()))?;
            output::json(&p)
        }
        AdminCommand::SetPolicy { file } => {
            let text = read_input(file)?;
            let policy: Policy = serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "the policy is not valid JSON for a policy ({e}); start from `oneshare admin policy`"
                ))
            })?;
            let body = serde_json::to_vec(&policy).unwrap_or_default();
            let stored: Policy =
                relay.json(Call::new("PUT", "/v1/admin/policy", admin.signer()).json(body))?;
            output::json(&stored)
        }
        AdminCommand::List { json } => {
            let list: ShareList =
                relay.json(Call::new("GET", "/v1/admin/shares", admin.signer()))?;
            let rows = owner::admin_rows(&list.shares);
            if *json {
                return output::json(&rows);
            }
            owner::print_table(&rows);
            Ok(())
        }
        AdminCommand::Revoke { id } => {
            ShareId::parse(id).map_err(|_| Error::Usage(format!("{id:?} is not a share id")))?;
            relay.call(Call::new(
                "DELETE",
                format!("/v1/admin/shares/{id}"),
                admin.signer(),
            ))?;
            println!("share {id} revoked by admin");
            Ok(())
        }
    }
}

fn read_input(path: &Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Usage(format!("cannot read standard input: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))
}
