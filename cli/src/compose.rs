//! Turns the field flags into a record: secrets from stdin, a prompt or a file,
//! generated passwords.

use std::io::Read;

use oneshare_sdk::record::{Field, FieldType, Record};
use zeroize::Zeroizing;

use crate::args::RecordArgs;
use crate::error::{Error, Result};

/// Password alphabet: letters, digits and symbols that survive copy and paste.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@_";
/// Generated password length (~145 bits).
const GENERATED_LEN: usize = 24;

/// A random password, by rejection sampling (no modulo bias).
///
/// # Errors
/// [`Error::Core`] when the OS RNG fails.
pub fn generate_password() -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(GENERATED_LEN));
    let limit = 256 - 256 % ALPHABET.len();
    while out.len() < GENERATED_LEN {
        let bytes = Zeroizing::new(oneshare_sdk::random::bytes::<32>()?);
        for &b in bytes.iter() {
            if usize::from(b) < limit && out.len() < GENERATED_LEN {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// Reads a secret from standard input, trailing newline removed.
///
/// # Errors
/// [`Error::Usage`] when standard input cannot be read.
pub fn read_stdin(what: &str) -> Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::Usage(format!("cannot read {what} from standard input: {e}")))?;
    let trimmed = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
    Ok(trimmed)
}

/// Asks for a secret on the terminal, not echoed; `twice` to catch typos.
///
/// # Errors
/// [`Error::Usage`] when there is no terminal or the two entries differ.
pub fn prompt_secret(prompt: &str, twice: bool) -> Result<Zeroizing<String>> {
    let read = |p: &str| {
        rpassword::prompt_password(p)
            .map(Zeroizing::new)
            .map_err(|e| Error::Usage(format!("cannot read from the terminal: {e}")))
    };
    let first = read(prompt)?;
    if twice && *first != *read("Again: ")? {
        return Err(Error::Usage("the two entries differ; try again".into()));
    }
    Ok(first)
}

/// The passphrase of `oneshare create`, if one was asked for: from a prompt,
/// standard input, or (with a warning) the command line.
///
/// # Errors
/// [`Error::Usage`] for an empty one, two flags wanting standard input, or no terminal.
pub fn passphrase(args: &crate::args::CreateArgs) -> Result<Option<Zeroizing<String>>> {
    let stdin_taken = args.record.password_stdin
        || args
            .record
            .note_file
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-");
    let pass = if args.passphrase_stdin {
        if stdin_taken {
            return Err(Error::Usage(
                "--passphrase-stdin and another flag both want standard input; use --passphrase-prompt"
                    .into(),
            ));
        }
        Some(read_stdin("the passphrase")?)
    } else if args.passphrase_prompt {
        Some(prompt_secret("Passphrase for the recipient: ", true)?)
    } else if let Some(p) = &args.passphrase {
        eprintln!(
            "oneshare: warning: --passphrase puts the secret in the process list and shell history; \
             use --passphrase-prompt or --passphrase-stdin"
        );
        Some(Zeroizing::new(p.clone()))
    } else {
        None
    };
    if pass.as_ref().is_some_and(|p| p.is_empty()) {
        return Err(Error::Usage("the passphrase is empty".into()));
    }
    Ok(pass)
}

/// What [`build`] made.
pub struct Built {
    /// The record (attachments are added by the caller).
    pub record: Record,
    /// The password, when it was generated here.
    pub generated: Option<Zeroizing<String>>,
}

/// Builds the record from the flags; `fallback_title` when `--title` is absent.
///
/// # Errors
/// [`Error::Usage`] for bad flags or unreadable input.
pub fn build(args: &RecordArgs, fallback_title: &str) -> Result<Built> {
    if args.password.is_some() {
        eprintln!(
            "oneshare: warning: --password puts the secret in the process list and shell history; \
             use --password-stdin or --password-prompt"
        );
    }
    if args.password_stdin
        && args
            .note_file
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-")
    {
        return Err(Error::Usage(
            "--password-stdin and --note-file - both want standard input; put the note in a file"
                .into(),
        ));
    }
    let mut generated = None;
    let password: Option<Zeroizing<String>> = if args.password_stdin {
        Some(read_stdin("the password")?)
    } else if args.password_prompt {
        Some(prompt_secret("Password: ", true)?)
    } else if args.generate_password {
        let p = generate_password()?;
        generated = Some(p.clone());
        Some(p)
    } else {
        args.password.clone().map(Zeroizing::new)
    };
    let note: Option<Zeroizing<String>> = match (&args.note, &args.note_file) {
        (Some(n), _) => Some(Zeroizing::new(n.clone())),
        (None, Some(path)) if path.as_os_str() == "-" => Some(read_stdin("the note")?),
        (None, Some(path)) => Some(Zeroizing::new(std::fs::read_to_string(path).map_err(
            |e| Error::Usage(format!("cannot read the note file {}: {e}", path.display())),
        )?)),
        (None, None) => None,
    };
    let mut fields = Vec::new();
    let mut push = |kind, label: Option<String>, value: &str| {
        fields.push(Field {
            kind,
            label,
            value: value.to_owned(),
        });
    };
    if let Some(v) = &args.login {
        push(FieldType::Login, None, v);
    }
    if let Some(v) = &password {
        if v.is_empty() {
            return Err(Error::Usage("the password is empty".into()));
        }
        push(FieldType::Password, None, v);
    }
    if let Some(v) = &args.url {
        push(FieldType::Url, None, v);
    }
    if let Some(v) = &args.totp {
        push(FieldType::Totp, None, v);
    }
    for f in &args.fields {
        let (label, value) = f
            .split_once('=')
            .filter(|(l, _)| !l.trim().is_empty())
            .ok_or_else(|| {
                Error::Usage("--field needs LABEL=VALUE with a non-empty label".into())
            })?;
        push(FieldType::Custom, Some(label.trim().to_owned()), value);
    }
    if let Some(v) = &note {
        push(FieldType::Note, None, v);
    }
    Ok(Built {
        record: Record {
            title: args
                .title
                .clone()
                .unwrap_or_else(|| fallback_title.to_owned()),
            fields,
            attachments: Vec::new(),
        },
        generated,
    })
}

/// The next version of `old`: `new`'s title, each of `new`'s fields in place
/// of the old field of the same type and label (or added at the end), every
/// other field and every attachment kept.
pub fn merge(old: &Record, new: &Record) -> Record {
    let mut fields = old.fields.clone();
    for f in &new.fields {
        match fields
            .iter_mut()
            .find(|o| o.kind == f.kind && o.label == f.label)
        {
            Some(o) => o.value.clone_from(&f.value),
            None => fields.push(f.clone()),
        }
    }
    Record {
        title: new.title.clone(),
        fields,
        attachments: old.attachments.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldType, label: Option<&str>, value: &str) -> Field {
        Field {
            kind,
            label: label.map(str::to_owned),
            value: value.to_owned(),
        }
    }

    #[test]
    fn merge_replaces_given_fields_and_keeps_the_rest() {
        let old = Record {
            title: "Prod DB".into(),
            fields: vec![
                field(FieldType::Login, None, "alice"),
                field(FieldType::Password, None, "old"),
                field(FieldType::Custom, Some("port"), "5432"),
            ],
            attachments: Vec::new(),
        };
        let new = Record {
            title: "Prod DB v2".into(),
            fields: vec![
                field(FieldType::Password, None, "new"),
                field(FieldType::Custom, Some("host"), "db.internal"),
            ],
            attachments: Vec::new(),
        };
        let got = merge(&old, &new);
        assert_eq!(got.title, "Prod DB v2");
        let values: Vec<&str> = got.fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["alice", "new", "5432", "db.internal"]);
    }

    #[test]
    fn generated_passwords_use_the_alphabet() {
        let a = generate_password().unwrap_or_default();
        let b = generate_password().unwrap_or_default();
        assert_eq!(a.len(), GENERATED_LEN);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(*a, *b);
    }

    #[test]
    fn fields_in_order_and_custom_labels_checked() {
        let args = RecordArgs {
            login: Some("admin".into()),
            password: Some("pw".into()),
            fields: vec!["PIN=1234".into()],
            note: Some("n".into()),
            ..RecordArgs::default()
        };
        let built = build(&args, "t").unwrap_or_else(|_| unreachable!());
        let kinds: Vec<_> = built.record.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FieldType::Login,
                FieldType::Password,
                FieldType::Custom,
                FieldType::Note
            ]
        );
        assert_eq!(built.record.title, "t");
        let bad = RecordArgs {
            fields: vec!["=x".into()],
            ..RecordArgs::default()
        };
        assert!(matches!(build(&bad, "t"), Err(Error::Usage(_))));
    }
}
