//! What people see: times, tables, QR codes, progress bars, JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Error, Result};

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-11-30 14:05 UTC` (proleptic Gregorian, from days since the epoch).
pub fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `in 59m`, `3m ago`.
pub fn relative(secs: u64) -> String {
    let now = now();
    let fmt = |d: u64| {
        if d < 60 {
            format!("{d}s")
        } else {
            oneshare_sdk::duration::format(d - d % 60)
        }
    };
    if secs >= now {
        format!("in {}", fmt(secs - now))
    } else {
        format!("{} ago", fmt(now - secs))
    }
}

/// A table in the terminal's width.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// Prints pretty JSON to stdout.
///
/// # Errors
/// [`Error::Io`] when stdout is closed.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let text = zeroize::Zeroizing::new(serde_json::to_string_pretty(value).unwrap_or_default());
    println!("{}", *text);
    Ok(())
}

/// The link as a QR code drawn with half-height blocks.
///
/// # Errors
/// [`Error::Usage`] when the link is too long for a QR code.
pub fn qr(link: &str) -> Result<String> {
    let code = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| Error::Usage(format!("cannot draw a QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// A byte progress bar on stderr (hidden when `quiet` or stderr is not a terminal).
pub fn bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_796_048_100), "2026-11-30 14:15 UTC");
    }
}
