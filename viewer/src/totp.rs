//! TOTP fields (RFC 6238): the value is an `otpauth://totp/…` URI or a bare
//! base32 secret. Codes come from `totp-rs`; this module only reads the URI's
//! parameters (form-encoded, decoded with `percent-encoding`, not a full URL
//! parser: the open page's wasm stays small) and checks them so generation can
//! never panic.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// A TOTP generator and what to call it.
#[derive(Debug, Clone)]
pub struct Otp {
    totp: Totp,
    step: u64,
    /// `Issuer: account` from the URI, if it names one.
    pub label: Option<String>,
}

/// One code and how long it stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The digits.
    pub code: String,
    /// Seconds until the next code.
    pub seconds_left: u64,
    /// Length of a step in seconds (for a countdown bar).
    pub step: u64,
}

/// Why a TOTP value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpError {
    /// Not an `otpauth://totp/` URI and not base32.
    NotTotp,
    /// The secret is missing or not base32.
    BadSecret,
    /// Digits outside 6–8, a zero period, or an unknown algorithm.
    BadParameters,
}

impl OtpError {
    /// What is wrong, for people (the open page shows it without `core::fmt`).
    pub const fn message(self) -> &'static str {
        match self {
            Self::NotTotp => "not an otpauth://totp/ link or a base32 secret",
            Self::BadSecret => "the secret is missing or is not base32",
            Self::BadParameters => "unsupported digits, period or algorithm",
        }
    }
}

impl core::fmt::Display for OtpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

fn secret(text: &str) -> Result<Secret, OtpError> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = Secret::try_from_base32(&clean).map_err(|_| OtpError::BadSecret)?;
    if secret.as_ref().is_empty() {
        return Err(OtpError::BadSecret);
    }
    Ok(secret)
}

impl Otp {
    /// Reads a TOTP field's value.
    ///
    /// # Errors
    /// [`OtpError`] saying what is wrong.
    pub fn parse(value: &str) -> Result<Self, OtpError> {
        let value = value.trim();
        let (mut algorithm, mut digits, mut step) = (Algorithm::SHA1, 6u8, 30u64);
        let mut label = None;
        let key = if let Some(rest) = strip_prefix_ci(value, "otpauth://totp/") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let name = decode(path);
            let mut secret_text = None;
            let mut issuer = None;
            for (k, v) in query.split('&').filter(|p| !p.is_empty()).map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            }) {
                match k.to_ascii_lowercase().as_str() {
                    "secret" => secret_text = Some(v),
                    "issuer" => issuer = Some(v).filter(|i| !i.is_empty()),
                    "digits" => digits = v.parse().map_err(|_| OtpError::BadParameters)?,
                    "period" => step = v.parse().map_err(|_| OtpError::BadParameters)?,
                    "algorithm" => {
                        algorithm = match v.to_ascii_uppercase().as_str() {
                            "SHA1" => Algorithm::SHA1,
                            "SHA256" => Algorithm::SHA256,
                            "SHA512" => Algorithm::SHA512,
                            _ => return Err(OtpError::BadParameters),
                        }
                    }
                    _ => {}
                }
            }
            label = match (issuer, name.is_empty()) {
                (Some(i), false) if !name.starts_with(&format!("{i}:")) => {
                    Some(format!("{i}: {name}"))
                }
                (Some(i), true) => Some(i),
                (_, false) => Some(name),
                (None, true) => None,
            };
            secret(&secret_text.ok_or(OtpError::BadSecret)?)?
        } else if value.contains("://") {
            return Err(OtpError::NotTotp);
        } else {
            secret(value).map_err(|_| OtpError::NotTotp)?
        };
        if !(6..=8).contains(&digits) || step == 0 || step > 86_400 {
            return Err(OtpError::BadParameters);
        }
        // Secrets shorter than RFC 4226's 128 bits are common (80-bit ones), so
        // the length check of `build()` is skipped; digits and step are checked above.
        let totp = Builder::new()
            .with_algorithm(algorithm)
            .with_digits(digits)
            .with_step_duration(step)
            .with_secret(key)
            .build_noncompliant();
        Ok(Self { totp, step, label })
    }

    /// The code at `unix` seconds.
    pub fn at(&self, unix: u64) -> Code {
        Code {
            code: self.totp.generate(unix).to_string(),
            seconds_left: self.totp.next_step(unix).saturating_sub(unix),
            step: self.step,
        }
    }
}

/// A form-encoded name or value: `+` is a space, `%XX` a byte, and bytes
/// that are not UTF-8 become U+FFFD.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // RFC 6238 appendix B: the ASCII secret "12345678901234567890" (SHA-1, 8 digits).
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        let otp = Otp::parse(&format!(
            "otpauth://totp/Example:alice%40example.com?secret={RFC_SECRET}&digits=8&issuer=Example"
        ))
        .unwrap();
        assert_eq!(otp.at(59).code, "94287082");
        assert_eq!(otp.at(1_111_111_109).code, "07081804");
        assert_eq!(otp.at(2_000_000_000).code, "69279037");
        assert_eq!(otp.label.as_deref(), Some("Example:alice@example.com"));
    }

    /// Names and values are form-encoded: `+` and `%20` are spaces, other
    /// escapes are bytes (UTF-8), bad UTF-8 is replaced, empty pieces are skipped.
    #[test]
    fn uri_parameters_are_decoded() {
        let otp = Otp::parse(&format!(
            "otpauth://totp/ACME%20Co:j%C3%B6rg+doe?&secret={RFC_SECRET}&&issuer=ACME+Co&"
        ))
        .unwrap();
        assert_eq!(otp.label.as_deref(), Some("ACME Co:jörg doe"));
        let other = Otp::parse(&format!(
            "otpauth://totp/%FF?secret={RFC_SECRET}&issuer=Bank"
        ))
        .unwrap();
        assert_eq!(other.label.as_deref(), Some("Bank: \u{FFFD}"));
        let flag = Otp::parse(&format!("otpauth://totp/x?secret={RFC_SECRET}&issuer")).unwrap();
        assert_eq!(flag.label.as_deref(), Some("x"));
    }

    #[test]
    fn bare_secrets_and_countdown() {
        let otp = Otp::parse("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap();
        let c = otp.at(59);
        assert_eq!((c.code.as_str(), c.seconds_left, c.step), ("287082", 1, 30));
        assert_eq!(otp.at(60).seconds_left, 30);
        assert_eq!(otp.label, None);
        // An 80-bit secret, as many sites issue.
        assert!(Otp::parse("JBSWY3DPEHPK3PXP").is_ok());
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        assert_eq!(Otp::parse("").unwrap_err(), OtpError::NotTotp);
        assert_eq!(Otp::parse("not base32!").unwrap_err(), OtpError::NotTotp);
        assert_eq!(
            Otp::parse("https://example.com/?secret=JBSWY3DP").unwrap_err(),
            OtpError::NotTotp
        );
        assert_eq!(
            Otp::parse("otpauth://totp/x?issuer=y").unwrap_err(),
            OtpError::BadSecret
        );
        for bad in ["digits=12", "digits=x", "period=0", "algorithm=MD5"] {
            assert_eq!(
                Otp::parse(&format!("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&{bad}")).unwrap_err(),
                OtpError::BadParameters,
                "{bad}"
            );
        }
        let sha256 =
            Otp::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&period=60")
                .unwrap();
        assert_eq!(sha256.at(0).step, 60);
    }
}
