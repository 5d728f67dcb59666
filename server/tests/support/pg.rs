//! A real PostgreSQL for tests: one throw-away cluster per test binary (initdb into
//! a temp dir as the `postgres` user when running as root, a free port on
//! 127.0.0.1, trust auth), and a fresh database per test so tests stay independent.
//! A watchdog process stops the cluster and removes its directory as soon as the
//! test binary exits (normally, by panic or by a signal), so no postgres is leaked.
//! `ONESHARE_TEST_POSTGRES` (a URL to a server where the user may create
//! databases) replaces the throw-away cluster. If neither works the test fails.

#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

/// The admin URL of the cluster (or the error that prevented starting it).
static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();

fn bin_dir() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e}); run `apt-get install -y postgresql` or set ONESHARE_TEST_POSTGRES"))?
        .filter_map(|d| d.ok().map(|d| d.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin; run `apt-get install -y postgresql` or set ONESHARE_TEST_POSTGRES".to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root.
fn pg_tool(root: bool, tool: &Path, args: &[&str]) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool).args(args);
        c
    } else {
        let mut c = Command::new(tool);
        c.args(args);
        c
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn start_cluster() -> Result<String, String> {
    let bin = bin_dir()?;
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("oneshare-pg-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let dir_s = dir.to_string_lossy().into_owned();
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.args(["postgres:postgres", &dir_s]);
                c
            },
            "chown",
        )?;
    }
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    run(
        pg_tool(
            root,
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        ),
        "initdb",
    )?;
    // The watchdog: waits for this process to end, then stops the cluster.
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- {} -D {data_s} -m immediate stop",
            pg_ctl.display()
        )
    } else {
        format!("{} -D {data_s} -m immediate stop", pg_ctl.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; {stop} >/dev/null 2>&1; rm -rf {dir_s}",
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {dir_s} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        );
        let log = dir.join("log").to_string_lossy().into_owned();
        match run(
            pg_tool(
                root,
                &pg_ctl,
                &[
                    "-D", &data_s, "-l", &log, "-o", &opts, "-w", "-t", "60", "start",
                ],
            ),
            "pg_ctl start",
        ) {
            Ok(()) => return Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres")),
            Err(e) => {
                last = format!(
                    "{e}\n{}",
                    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
                );
            }
        }
    }
    Err(last)
}

/// The admin URL of the test server (starting the cluster on first use).
///
/// # Panics
/// When no PostgreSQL is available: the test must fail, never skip.
pub fn admin_url() -> String {
    let r = CLUSTER.get_or_init(|| match std::env::var("ONESHARE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => start_cluster(),
    });
    match r {
        Ok(url) => url.clone(),
        Err(e) => panic!(
            "no PostgreSQL for the tests (set ONESHARE_TEST_POSTGRES or install postgresql): {e}"
        ),
    }
}

/// Creates a fresh, empty database and returns its URL.
pub async fn fresh_db() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = admin_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE failed: {e}"));
    let _ = conn.close().await;
    match admin.rfind('/') {
        Some(i) if !admin[i + 1..].contains('@') && !admin[..i].ends_with('/') => {
            let (base, rest) = admin.split_at(i);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{base}/{name}{query}")
        }
        _ => format!("{}/{name}", admin.trim_end_matches('/')),
    }
}
