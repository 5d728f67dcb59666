//! Expiry durations as people type them: `30m`, `1h`, `7d`, `2w`, or
//! combinations such as `1h30m`.

use crate::{Error, Result};

/// Shortest accepted expiry.
pub const MIN_SECS: u64 = 60;
/// Longest accepted expiry (the relay's policy may lower it).
pub const MAX_SECS: u64 = 365 * 86_400;

/// Parses a duration into seconds, within [`MIN_SECS`]..=[`MAX_SECS`].
///
/// Units: `s`, `m`, `h`, `d`, `w`. Each number needs a unit; units may repeat
/// only in descending order.
///
/// # Errors
/// [`Error::Duration`] saying what is wrong and what is accepted.
pub fn parse(text: &str) -> Result<u64> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Duration("empty; use e.g. 30m, 1h, 7d or 2w".into()));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut last_unit = u64::MAX;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = number
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d)));
            number = Some(n.ok_or_else(|| Error::Duration("number too large".into()))?);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(Error::Duration(format!(
                    "unknown unit {c:?}; use s, m, h, d or w"
                )));
            }
        };
        let n = number
            .take()
            .ok_or_else(|| Error::Duration(format!("unit {c:?} without a number")))?;
        if unit >= last_unit {
            return Err(Error::Duration(
                "units must go from largest to smallest, each once".into(),
            ));
        }
        last_unit = unit;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| Error::Duration("too long".into()))?;
    }
    if number.is_some() {
        return Err(Error::Duration(
            "number without a unit; write e.g. 30m, not 30".into(),
        ));
    }
    check(total)
}

/// Checks a number of seconds against the limits.
///
/// # Errors
/// [`Error::Duration`].
pub fn check(secs: u64) -> Result<u64> {
    if secs < MIN_SECS {
        return Err(Error::Duration(
            "shorter than the minimum of 1 minute".into(),
        ));
    }
    if secs > MAX_SECS {
        return Err(Error::Duration(
            "longer than the maximum of 365 days".into(),
        ));
    }
    Ok(secs)
}

/// Formats seconds compactly (`1w2d`, `90m` → `1h30m`).
pub fn format(mut secs: u64) -> String {
    let mut out = String::new();
    for (unit, name) in [
        (604_800, 'w'),
        (86_400, 'd'),
        (3_600, 'h'),
        (60, 'm'),
        (1, 's'),
    ] {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_forms() {
        assert_eq!(parse("30m"), Ok(1_800));
        assert_eq!(parse("1h"), Ok(3_600));
        assert_eq!(parse(" 7d "), Ok(604_800));
        assert_eq!(parse("2w"), Ok(1_209_600));
        assert_eq!(parse("1h30m"), Ok(5_400));
    }

    #[test]
    fn refuses_bad_forms() {
        for bad in [
            "",
            "30",
            "m",
            "1x",
            "30s",
            "53w",
            "1m1h",
            "1h1h",
            "99999999999999999999d",
            "-1h",
        ] {
            assert!(matches!(parse(bad), Err(Error::Duration(_))), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_parses_back(secs in MIN_SECS..=MAX_SECS) {
            prop_assert_eq!(parse(&format(secs)), Ok(secs));
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse(&s);
        }
    }
}
