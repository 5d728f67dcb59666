//! Prometheus counters, rendered as text at `/metrics`. Labels are route templates
//! (never concrete paths, which carry share ids). Share counts per state come
//! from the store, which keeps them incrementally, so a scrape reads a few rows
//! however many shares there are.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use oneshare_sdk::lifetime::State;

use crate::store::WriteStats;

/// Counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Successful first binds.
    pub binds: AtomicU64,
    /// Binds refused because another device holds the share.
    pub refusals: AtomicU64,
    /// Binds with a wrong token.
    pub bad_tokens: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_insert(0) += 1;
        }
    }

    /// Prometheus text format.
    pub fn render(&self, shares: &[(State, u64)], writes: Option<WriteStats>) -> String {
        let mut out = String::new();
        out.push_str("# HELP oneshare_requests_total Requests by route and status.\n");
        out.push_str("# TYPE oneshare_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "oneshare_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP oneshare_shares Shares by stored state.\n# TYPE oneshare_shares gauge\n",
        );
        for (state, n) in shares {
            let _ = writeln!(out, "oneshare_shares{{state=\"{}\"}} {n}", state.as_str());
        }
        for (name, help, v) in [
            ("oneshare_binds_total", "First binds.", &self.binds),
            (
                "oneshare_bind_refusals_total",
                "Binds refused: another device holds the share.",
                &self.refusals,
            ),
            (
                "oneshare_bad_tokens_total",
                "Binds with a wrong token.",
                &self.bad_tokens,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        if let Some(w) = writes {
            for (name, help, v) in [
                (
                    "oneshare_write_transactions_total",
                    "Write transactions committed (one fsync each).",
                    w.transactions,
                ),
                (
                    "oneshare_write_operations_total",
                    "Write operations those transactions carried.",
                    w.operations,
                ),
            ] {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
                );
            }
        }
        out
    }
}
