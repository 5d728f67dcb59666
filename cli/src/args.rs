//! Command-line flags (clap derive; every global flag also reads an environment
//! variable).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0    ok
  1    other failure (local files, unexpected relay answer)
  2    usage: bad flags, bad link, bad input, not initialised
  3    not found: no such share, or not opened on this device
  4    ended: expired, revoked or self-destructed
  5    refused: opened on another device, or not allowed by the relay
  6    network: the relay cannot be reached
  7    the relay's key changed without an announced rotation
  8    integrity: data failed authentication, or transfer codes that differ
  9    a transfer request waits for the sender; run the same command again
  130  interrupted (Ctrl-C); `oneshare resume` continues an upload";

const EXAMPLES: &str = "\
Examples:
  oneshare init --relay https://share.example
  printf '%s' \"$DB_PASSWORD\" | oneshare create --title 'Prod DB' --login admin --password-stdin --expire 1h
  oneshare create --title 'VPN' --password-prompt --self-destruct --qr
  oneshare create --title 'Contract' --file contract.pdf --expire 7d --invite
  oneshare open 'https://share.example/s#…' --field password
  oneshare list
  oneshare events --follow
  oneshare open 'https://share.example/s#…' --request-transfer
  oneshare transfers
  oneshare approve SHARE_ID --code '123 456'
  oneshare revoke SHARE_ID";

/// oneshare: end-to-end encrypted one-time shares from a terminal.
#[derive(Debug, Parser)]
#[command(name = "oneshare", version, after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"))]
pub struct Cli {
    /// Relay URL (default: the one `init` saved).
    #[arg(long, env = "ONESHARE_RELAY", global = true)]
    pub relay: Option<String>,
    /// Where the owner identity and relay pins live.
    #[arg(long, env = "ONESHARE_CONFIG_HOME", global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Where device keys and unfinished uploads live.
    #[arg(long, env = "ONESHARE_DATA_HOME", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the owner identity (once) and set and pin the relay.
    Init {
        /// Accept a relay key that changed without an announced rotation
        /// (only after checking with the relay's operator).
        #[arg(long)]
        trust_new_key: bool,
    },
    /// Create a share and print its link.
    #[command(
        after_help = "Put secrets in through --password-stdin, --password-prompt or \
--note-file, never on the command line: argv is visible to other users of the machine."
    )]
    Create(Box<CreateArgs>),
    /// Open a link as this device (the first device to open it keeps it).
    Open(OpenArgs),
    /// List the shares you created.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// One share's state and events.
    Show {
        /// Share id (from `create` or `list`).
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Publish a new version of a share's record: the fields given replace those of
    /// the same type and label, everything else (attachments included) stays.
    Update {
        /// Share id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The new record.
        #[command(flatten)]
        record: RecordArgs,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Delete a share now, everywhere ("Delete Now").
    Revoke {
        /// Share id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Events of your shares: opened, refused devices, viewed, revoked, ...
    Events {
        /// Keep waiting for new events.
        #[arg(long, short)]
        follow: bool,
        /// Only events after this id.
        #[arg(long, value_name = "EVENT_ID")]
        since: Option<u64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Pending requests to move one of your shares to another device, with
    /// the comparison code each must show.
    Transfers {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Approve moving a share to the device that asked, after comparing codes:
    /// the share moves there and the device that held it loses it.
    Approve {
        /// Share id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// The code the recipient's device shows (read out to you); without it
        /// you are asked to compare on the terminal.
        #[arg(long, value_name = "DIGITS")]
        code: Option<String>,
    },
    /// Deny a pending request to move a share.
    Deny {
        /// Share id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Finish a create whose upload was interrupted.
    Resume {
        /// Share id (default: the only unfinished one).
        #[arg(allow_hyphen_values = true)]
        id: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Relay administration (needs an admin key the relay trusts).
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the admin key (once) and print its public key for the relay's --admin-key.
    Init,
    /// Print the relay policy (JSON).
    Policy,
    /// Replace the relay policy with a JSON file (`-` for stdin).
    SetPolicy {
        /// Policy JSON, as printed by `oneshare admin policy`.
        file: PathBuf,
    },
    /// List every share's metadata (never content).
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke any share.
    Revoke {
        /// Share id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// The record's fields.
#[derive(Debug, Args, Default)]
pub struct RecordArgs {
    /// Title shown at the top.
    #[arg(long)]
    pub title: Option<String>,
    /// User name or e-mail.
    #[arg(long)]
    pub login: Option<String>,
    /// Read the password from standard input (trailing newline removed).
    #[arg(long, conflicts_with_all = ["password_prompt", "generate_password", "password"])]
    pub password_stdin: bool,
    /// Ask for the password (not echoed).
    #[arg(long, conflicts_with_all = ["generate_password", "password"])]
    pub password_prompt: bool,
    /// Generate a random 24-character password (shown only with --json).
    #[arg(long, conflicts_with = "password")]
    pub generate_password: bool,
    /// The password on the command line: visible to other users of this machine; prefer --password-stdin.
    #[arg(long)]
    pub password: Option<String>,
    /// Web address.
    #[arg(long)]
    pub url: Option<String>,
    /// TOTP secret (otpauth:// URI or base32).
    #[arg(long)]
    pub totp: Option<String>,
    /// A custom field, LABEL=VALUE (repeatable).
    #[arg(long = "field", value_name = "LABEL=VALUE")]
    pub fields: Vec<String>,
    /// A note.
    #[arg(long, conflicts_with = "note_file")]
    pub note: Option<String>,
    /// A note read from a file (`-` for stdin).
    #[arg(long, value_name = "PATH")]
    pub note_file: Option<PathBuf>,
}

/// `oneshare create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The record.
    #[command(flatten)]
    pub record: RecordArgs,
    /// Attach a file (repeatable); streamed, resumable.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// How long the link (and access after opening) lasts: 30m, 1h, 7d, 2w, 1h30m.
    #[arg(long, default_value = "1h")]
    pub expire: String,
    /// End access five minutes after first view (or at --expire, whichever is first).
    #[arg(long)]
    pub self_destruct: bool,
    /// A label only you see in `oneshare list` (encrypted to you).
    #[arg(long)]
    pub label: Option<String>,
    /// Ask for the open code at every open (otherwise only when an open looks
    /// automated, e.g. a mail scanner). The code is printed with the link.
    #[arg(long)]
    pub require_code: bool,
    /// Ask for a passphrase the recipient must also type (not echoed, twice).
    #[arg(long, conflicts_with_all = ["passphrase_stdin", "passphrase"])]
    pub passphrase_prompt: bool,
    /// Read the passphrase from standard input (trailing newline removed).
    #[arg(long, conflicts_with = "passphrase")]
    pub passphrase_stdin: bool,
    /// The passphrase on the command line: visible to other users of this machine; prefer --passphrase-prompt.
    #[arg(long)]
    pub passphrase: Option<String>,
    /// Machine-readable output.
    #[arg(long, conflicts_with_all = ["qr", "invite"])]
    pub json: bool,
    /// Also draw the link as a QR code.
    #[arg(long)]
    pub qr: bool,
    /// Print invitation text to paste into a message.
    #[arg(long)]
    pub invite: bool,
}

/// `oneshare open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The link (`https://HOST/s#TOKEN`; quote it in the shell).
    #[arg(allow_hyphen_values = true)]
    pub link: String,
    /// Machine-readable output (includes secret values).
    #[arg(long, conflicts_with = "field")]
    pub json: bool,
    /// Print only this field's value: login, password, url, note, totp, title, or a custom label.
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// Show password and TOTP values (masked otherwise).
    #[arg(long)]
    pub reveal: bool,
    /// Save attachments into this directory.
    #[arg(long, value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
    /// The open code the sender passed on (without it, a terminal is asked
    /// when the relay wants it).
    #[arg(long, allow_hyphen_values = true)]
    pub code: Option<String>,
    /// Read the passphrase from standard input (without it, a terminal is
    /// asked when the share has one).
    #[arg(long)]
    pub passphrase_stdin: bool,
    /// Opened on another device already: ask the sender to move the share to
    /// this one (shows a code to compare with the sender, then waits).
    #[arg(long)]
    pub request_transfer: bool,
    /// How long to wait for the sender's answer, in seconds (0: ask and exit 9).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Share ids are base64url, so one in 32 starts with `-`; it must still
    /// parse as the id, not as a flag.
    #[test]
    fn ids_may_start_with_a_hyphen() {
        for argv in [
            ["oneshare", "show", "-Bq2x"].as_slice(),
            &["oneshare", "revoke", "-Bq2x"],
            &["oneshare", "update", "-Bq2x", "--title", "t"],
            &["oneshare", "resume", "-Bq2x"],
            &["oneshare", "admin", "revoke", "-Bq2x"],
            &["oneshare", "open", "-Bq2x"],
            &["oneshare", "approve", "-Bq2x", "--code", "1"],
            &["oneshare", "deny", "-Bq2x"],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            assert!(
                format!("{:?}", cli.command).contains("\"-Bq2x\""),
                "{argv:?}"
            );
        }
    }
}
