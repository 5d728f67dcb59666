//! Configuration: one typed struct from flags, `ONESHARE_*` environment variables
//! and an optional TOML file (`--config`), with every default in [`Config::default`].
//! Precedence: flag or environment > file > default.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ipnet::IpNet;
use oneshare_sdk::api::{CreatePolicy, Policy};
use oneshare_sdk::signing::PublicKey;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "oneshare-server", version, about = "oneshare relay")]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings.
    #[command(flatten)]
    pub flags: Flags,
}

/// Subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run the relay.
    Serve,
    /// Make a new relay HPKE key current; the old one stays accepted for the grace period.
    RotateKey,
}

/// Settings that flags and environment variables may set.
#[derive(Debug, Default, clap::Args)]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long, env = "ONESHARE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Listen address.
    #[arg(long, env = "ONESHARE_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Public base URL of the relay (links are built on it).
    #[arg(long, env = "ONESHARE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// `sqlite://PATH` or `postgres://…`.
    #[arg(long, env = "ONESHARE_DATABASE", global = true)]
    pub database: Option<String>,
    /// Directory of the relay key file (`relay-key.json`).
    #[arg(long, env = "ONESHARE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Static files of the viewer (served for `/s`).
    #[arg(long, env = "ONESHARE_WWW_DIR", global = true)]
    pub www_dir: Option<PathBuf>,
    /// Admin public keys (base64url, comma separated).
    #[arg(
        long = "admin-key",
        env = "ONESHARE_ADMIN_KEYS",
        value_delimiter = ',',
        global = true
    )]
    pub admin_keys: Vec<String>,
    /// Origins allowed to call the API from a browser (comma separated).
    #[arg(
        long = "cors-origin",
        env = "ONESHARE_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
    /// Reverse proxies (addresses or CIDR blocks, comma separated) whose
    /// `X-Forwarded-For` / `Forwarded` headers name the client.
    #[arg(
        long = "trusted-proxy",
        env = "ONESHARE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,
    /// Bearer token that `/metrics` requires (unset: `/metrics` is off).
    #[arg(
        long,
        env = "ONESHARE_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Seconds between sweeps.
    #[arg(long, env = "ONESHARE_SWEEP_INTERVAL_SECS", global = true)]
    pub sweep_interval_secs: Option<u64>,
    /// End-to-end tests only: `POST /test/clock/advance/{secs}` moves the relay's
    /// clock forward. Anyone can then end every share: never in production.
    #[arg(long, global = true)]
    pub insecure_test_clock: bool,
}

/// Request limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Requests per minute per client IP.
    pub requests_per_minute: u64,
    /// Bind attempts per minute per share.
    pub binds_per_minute: u64,
    /// Requests per minute per share (signed share routes).
    pub share_requests_per_minute: u64,
    /// Open connections.
    pub max_connections: usize,
    /// Open connections per client IP (IPv6: per /64).
    pub max_connections_per_ip: usize,
    /// Requests handled at once (health checks are not counted).
    pub max_in_flight: usize,
    /// Requests handled at once per client IP, checked before `max_in_flight`.
    pub max_in_flight_per_ip: usize,
    /// Open event streams (`GET /v1/events`), well below `max_connections`.
    pub max_streams: usize,
    /// Open event streams per owner key.
    pub max_streams_per_owner: usize,
    /// Open event streams per client IP.
    pub max_streams_per_ip: usize,
    /// Seconds an event stream stays open (the client resumes with `Last-Event-ID`).
    pub stream_max_secs: u64,
    /// Seconds a connection may leave written bytes unread before it is closed.
    pub write_timeout_secs: u64,
    /// Seconds to read the request and produce the response head.
    pub request_timeout_secs: u64,
    /// Seconds to receive the request headers.
    pub header_timeout_secs: u64,
    /// Seconds to receive a small body; larger ones get one more second per
    /// `min_body_bytes_per_sec` bytes (within `request_timeout_secs`).
    pub body_timeout_secs: u64,
    /// Slowest accepted upload rate of a large body.
    pub min_body_bytes_per_sec: u64,
    /// Largest JSON body of ordinary routes.
    pub json_body_bytes: usize,
    /// Attachment part size, in STREAM segments.
    pub part_segments: u64,
    /// Bytes all live shares together may reserve (records, owner data, wrapped
    /// keys, declared attachments): fresh owner keys get fresh per-owner quotas,
    /// so this is the relay's overall bound.
    pub max_stored_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_minute: 600,
            binds_per_minute: 30,
            share_requests_per_minute: 600,
            max_connections: 1024,
            max_connections_per_ip: 64,
            max_in_flight: 256,
            max_in_flight_per_ip: 32,
            max_streams: 256,
            max_streams_per_owner: 4,
            max_streams_per_ip: 16,
            stream_max_secs: 3_600,
            write_timeout_secs: 30,
            request_timeout_secs: 60,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            min_body_bytes_per_sec: 32 * 1024,
            json_body_bytes: 64 * 1024,
            part_segments: 64,
            max_stored_bytes: 64 * 1024 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Bytes per attachment part (every part but the last).
    pub fn part_size(&self) -> u64 {
        self.part_segments.max(1) * oneshare_sdk::stream::ENCRYPTED_SEGMENT_SIZE as u64
    }
}

/// Link-scanner step-up (PROTOCOL.md §12.4): what makes the relay ask a v2
/// share's open code even when its sender did not require it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scanners {
    /// A first bind this many seconds after create or sooner looks automated (0: off).
    pub quick_bind_secs: u64,
    /// Scanner and cloud networks: a file of CIDR blocks, one per line, `#`
    /// comments (`server/scanner-networks.example.txt`). Unset: off.
    pub networks_file: Option<PathBuf>,
}

impl Default for Scanners {
    fn default() -> Self {
        Self {
            quick_bind_secs: 15,
            networks_file: None,
        }
    }
}

/// Reads a scanner-network list: one address or CIDR block per line; blank
/// lines and everything after `#` are ignored.
///
/// # Errors
/// An unreadable file, or a line that is not an address or CIDR block (named
/// by its number).
pub fn read_networks(path: &std::path::Path) -> Result<Vec<IpNet>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split('#').next().unwrap_or_default().trim()))
        .filter(|(_, entry)| !entry.is_empty())
        .map(|(n, entry)| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    Error::Config(format!(
                        "{} line {n}: not an IP address or CIDR block",
                        path.display()
                    ))
                })
        })
        .collect()
}

/// The default policy (until an admin stores one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyDefaults {
    /// `anyone` or `enrolled`.
    pub create: CreatePolicy,
    /// Enrolled owner keys.
    pub enrolled_owners: Vec<PublicKey>,
    /// Longest expiry in seconds.
    pub max_expires_in: u64,
    /// Largest record envelope.
    pub max_record_bytes: u64,
    /// Largest attachment total per share.
    pub max_attachment_bytes: u64,
    /// Most live shares per owner.
    pub max_shares_per_owner: u64,
}

impl Default for PolicyDefaults {
    fn default() -> Self {
        Self {
            create: CreatePolicy::Anyone,
            enrolled_owners: Vec::new(),
            max_expires_in: oneshare_sdk::duration::MAX_SECS,
            max_record_bytes: 1024 * 1024,
            max_attachment_bytes: 1024 * 1024 * 1024,
            max_shares_per_owner: 1000,
        }
    }
}

impl From<PolicyDefaults> for Policy {
    fn from(p: PolicyDefaults) -> Self {
        Self {
            create: p.create,
            enrolled_owners: p.enrolled_owners,
            max_expires_in: p.max_expires_in,
            max_record_bytes: p.max_record_bytes,
            max_attachment_bytes: p.max_attachment_bytes,
            max_shares_per_owner: p.max_shares_per_owner,
        }
    }
}

/// The TOML file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    database: Option<String>,
    data_dir: Option<PathBuf>,
    www_dir: Option<PathBuf>,
    admin_keys: Vec<String>,
    cors_origins: Vec<String>,
    trusted_proxies: Vec<String>,
    metrics_token: Option<String>,
    sweep_interval_secs: Option<u64>,
    key_grace_secs: Option<u64>,
    limits: Limits,
    scanners: Scanners,
    policy: PolicyDefaults,
}

/// The relay configuration.
#[derive(Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL.
    pub public_url: String,
    /// Database URL (may hold a password: redacted in `Debug`).
    pub database: String,
    /// Relay key directory.
    pub data_dir: PathBuf,
    /// Viewer files.
    pub www_dir: Option<PathBuf>,
    /// Admin keys.
    pub admin_keys: Vec<PublicKey>,
    /// CORS allowlist.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Bearer token of `/metrics` (secret: redacted in `Debug`); without one,
    /// `/metrics` answers 404.
    pub metrics_token: Option<String>,
    /// Seconds between sweeps.
    pub sweep_interval_secs: u64,
    /// How long a rotated relay key stays accepted.
    pub key_grace_secs: u64,
    /// Limits.
    pub limits: Limits,
    /// Link-scanner step-up settings.
    pub scanners: Scanners,
    /// The networks of `scanners.networks_file`, read at start-up.
    pub scanner_networks: Vec<IpNet>,
    /// Policy until an admin sets one.
    pub policy: Policy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            database: "sqlite://./data/oneshare.db".to_owned(),
            data_dir: PathBuf::from("./data"),
            www_dir: None,
            admin_keys: Vec::new(),
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            sweep_interval_secs: 30,
            key_grace_secs: 7 * 86_400,
            limits: Limits::default(),
            scanners: Scanners::default(),
            scanner_networks: Vec::new(),
            policy: PolicyDefaults::default().into(),
        }
    }
}

/// What of a database URL may be logged: scheme, host and database. User
/// info and the query (`?password=…`, `sslkey=…`) are dropped.
fn redact(url: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .or_else(|| url.split_once(':'))
        .unwrap_or(("?", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{scheme}://{rest}")
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database", &redact(&self.database))
            .field("data_dir", &self.data_dir)
            .field("www_dir", &self.www_dir)
            .field("admin_keys", &self.admin_keys)
            .field("cors_origins", &self.cors_origins)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("key_grace_secs", &self.key_grace_secs)
            .field("limits", &self.limits)
            .field("scanners", &self.scanners)
            .field("scanner_networks", &self.scanner_networks.len())
            .field("policy", &self.policy)
            .finish()
    }
}

fn parse_keys(keys: &[String]) -> Result<Vec<PublicKey>> {
    keys.iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            PublicKey::parse(k.trim())
                .map_err(|_| Error::Config("an admin key is not a valid P-256 public key".into()))
        })
        .collect()
}

/// Origins for the CORS allowlist: each exactly `scheme://host[:port]`. A
/// wildcard would let any site drive the API with a visitor's browser, and the
/// allowlist is the point, so `*` is a configuration error.
fn parse_origins(origins: Vec<String>) -> Result<Vec<String>> {
    origins
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let valid = (o.starts_with("https://") || o.starts_with("http://"))
                && !o.contains('*')
                && !o.trim_end_matches('/').contains(['?', '#', ' '])
                && axum::http::HeaderValue::from_str(&o).is_ok();
            if valid {
                Ok(o.trim_end_matches('/').to_owned())
            } else {
                Err(Error::Config(format!(
                    "cors origin {o:?} must be a plain origin such as https://app.example \
                     (a wildcard is not allowed)"
                )))
            }
        })
        .collect()
}

fn parse_proxies(list: &[String]) -> Result<Vec<IpNet>> {
    list.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    Error::Config(format!(
                        "trusted proxy {p:?} is not an IP address or CIDR block"
                    ))
                })
        })
        .collect()
}

impl Config {
    /// Builds the configuration from flags/environment and the optional file.
    ///
    /// # Errors
    /// Unreadable or invalid file, invalid admin keys.
    pub fn load(flags: &Flags) -> Result<Self> {
        let file = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let d = Self::default();
        let admin = if flags.admin_keys.is_empty() {
            &file.admin_keys
        } else {
            &flags.admin_keys
        };
        let cors = if flags.cors_origins.is_empty() {
            file.cors_origins
        } else {
            flags.cors_origins.clone()
        };
        let cors = parse_origins(cors)?;
        let proxies = if flags.trusted_proxies.is_empty() {
            &file.trusted_proxies
        } else {
            &flags.trusted_proxies
        };
        let metrics_token = flags.metrics_token.clone().or(file.metrics_token);
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(Error::Config(
                "metrics_token must be at least 16 characters".into(),
            ));
        }
        Ok(Self {
            listen: flags.listen.or(file.listen).unwrap_or(d.listen),
            public_url: flags
                .public_url
                .clone()
                .or(file.public_url)
                .unwrap_or(d.public_url),
            database: flags
                .database
                .clone()
                .or(file.database)
                .unwrap_or(d.database),
            data_dir: flags
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(d.data_dir),
            www_dir: flags.www_dir.clone().or(file.www_dir),
            admin_keys: parse_keys(admin)?,
            cors_origins: cors,
            trusted_proxies: parse_proxies(proxies)?,
            metrics_token,
            sweep_interval_secs: flags
                .sweep_interval_secs
                .or(file.sweep_interval_secs)
                .unwrap_or(d.sweep_interval_secs)
                .max(1),
            key_grace_secs: file.key_grace_secs.unwrap_or(d.key_grace_secs),
            limits: file.limits,
            scanner_networks: match &file.scanners.networks_file {
                Some(path) => read_networks(path)?,
                None => Vec::new(),
            },
            scanners: file.scanners,
            policy: file.policy.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_and_reads_files() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite://./x.db"), "sqlite://./x.db");
        assert_eq!(
            redact("postgresql://h:5432/db?user=u&password=hunter2"),
            "postgresql://h:5432/db"
        );
        assert_eq!(redact("sqlite:x.db?mode=rwc"), "sqlite://x.db");
        let c = Config {
            database: "postgres://u:hunter2@h/db".into(),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9\"\n[limits]\nrequests_per_minute = 7\n[policy]\ncreate = \"enrolled\"\n",
        )
        .unwrap();
        let flags = Flags {
            config: Some(path),
            public_url: Some("https://x".into()),
            ..Flags::default()
        };
        let c = Config::load(&flags).unwrap();
        assert_eq!(c.listen.port(), 9);
        assert_eq!(c.public_url, "https://x");
        assert_eq!(c.limits.requests_per_minute, 7);
        assert_eq!(c.limits.binds_per_minute, 30);
        assert_eq!(c.policy.create, CreatePolicy::Enrolled);
        assert_eq!(c.database, "sqlite://./data/oneshare.db");
    }

    #[test]
    fn origins_and_proxies_are_checked() {
        let load = |f: Flags| Config::load(&f).map(|c| (c.cors_origins, c.trusted_proxies));
        for bad in [
            "*",
            "https://*.example",
            "app.example",
            "https://a.example/?x",
        ] {
            let f = Flags {
                cors_origins: vec![bad.into()],
                ..Flags::default()
            };
            assert!(matches!(load(f), Err(Error::Config(_))), "{bad}");
        }
        let f = Flags {
            cors_origins: vec!["https://app.example/".into()],
            trusted_proxies: vec!["10.0.0.0/8".into(), "::1".into()],
            ..Flags::default()
        };
        let (origins, proxies) = load(f).unwrap();
        assert_eq!(origins, ["https://app.example"]);
        assert_eq!(proxies.len(), 2);
        let f = Flags {
            trusted_proxies: vec!["10.0.0.0/33".into()],
            ..Flags::default()
        };
        assert!(matches!(load(f), Err(Error::Config(_))));
        let f = Flags {
            metrics_token: Some("short".into()),
            ..Flags::default()
        };
        assert!(matches!(load(f), Err(Error::Config(_))));
    }

    #[test]
    fn example_file_matches_the_defaults() {
        let flags = Flags {
            config: Some(PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/oneshare.example.toml"
            ))),
            ..Flags::default()
        };
        let c = Config::load(&flags).unwrap();
        let d = Config::default();
        assert_eq!(c.limits, d.limits);
        assert_eq!(c.scanners, d.scanners);
        assert_eq!(c.policy, d.policy);
        assert_eq!(
            (c.listen, c.database, c.key_grace_secs),
            (d.listen, d.database, d.key_grace_secs)
        );
    }

    #[test]
    fn scanner_networks_are_read_and_bad_lines_named() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/scanner-networks.example.txt");
        let nets = read_networks(std::path::Path::new(example)).unwrap();
        assert!(nets.len() >= 5, "{nets:?}");
        assert!(
            nets.iter()
                .any(|n| n.contains(&"40.107.1.2".parse::<std::net::IpAddr>().unwrap()))
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.txt");
        std::fs::write(
            &path,
            "# c\n10.0.0.0/8  # office\n\n192.0.2.7\n2001:db8::/32\nnot-a-net\n",
        )
        .unwrap();
        let err = read_networks(&path).unwrap_err().to_string();
        assert!(err.contains("line 6"), "{err}");
        std::fs::write(&path, "10.0.0.0/8 # office\n192.0.2.7\n").unwrap();
        assert_eq!(read_networks(&path).unwrap().len(), 2);
        let toml = dir.path().join("c.toml");
        std::fs::write(
            &toml,
            format!(
                "[scanners]\nquick_bind_secs = 0\nnetworks_file = {:?}\n",
                path
            ),
        )
        .unwrap();
        let flags = Flags {
            config: Some(toml),
            ..Flags::default()
        };
        let c = Config::load(&flags).unwrap();
        assert_eq!(
            (c.scanners.quick_bind_secs, c.scanner_networks.len()),
            (0, 2)
        );
    }
}
