//! The web viewer's files: embedded in the binary at build time (`www/dist`, built
//! by `cargo xtask viewer`), or read from `--www-dir` instead.
//!
//! * `/` is the compose page (`index.html`), `/s` and `/s…` the open page
//!   (`s.html`); both are `no-store`.
//! * `/assets/…` names carry a content hash: cached for a year, `immutable`.
//! * Each file may have `.br` and `.gz` siblings, chosen by `Accept-Encoding`.
//! * Only plain names are served: no dotfile, no `..`, no escaped byte, and a
//!   `--www-dir` file must resolve (symlinks followed) inside that directory.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// The built viewer, embedded (an empty folder when it was not built).
#[derive(rust_embed::RustEmbed)]
#[folder = "$ONESHARE_WWW_DIST"]
struct Embedded;

/// Cache policy of hashed assets.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Where the viewer's files come from.
#[derive(Debug, Clone)]
pub enum Www {
    /// Compiled into the binary.
    Embedded,
    /// A directory given by `--www-dir`.
    Dir(PathBuf),
}

/// A compression the client accepts and a stored variant may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
}

impl Coding {
    fn suffix(self) -> &'static str {
        match self {
            Self::Br => ".br",
            Self::Gzip => ".gz",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// The codings `Accept-Encoding` allows, best first (q=0 excludes one).
fn accepted(headers: &HeaderMap) -> Vec<Coding> {
    let Some(value) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Vec::new();
    };
    let allows = |want: &str| {
        value.split(',').any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(want) && !refused
        })
    };
    [Coding::Br, Coding::Gzip]
        .into_iter()
        .filter(|c| allows(c.name()))
        .collect()
}

/// The file name a request path maps to, or `None` for anything not plainly
/// named: dot segments and dotfiles, escapes, backslashes, empty segments.
fn file_for(path: &str) -> Option<String> {
    if path == "/" {
        return Some("index.html".into());
    }
    if path == "/s" || path.starts_with("/s/") || path.starts_with("/s%") {
        return Some("s.html".into());
    }
    let rel = path.strip_prefix('/')?;
    let plain = rel.split('/').all(|seg| {
        !seg.is_empty()
            && !seg.starts_with('.')
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    });
    // Compressed variants are chosen by negotiation, never asked for by name.
    let variant = rel.ends_with(".br") || rel.ends_with(".gz");
    (plain && !variant).then(|| rel.to_owned())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl Www {
    /// The configured directory, else the embedded files.
    pub fn new(dir: Option<&Path>) -> Self {
        dir.map_or(Self::Embedded, |d| Self::Dir(d.to_owned()))
    }

    /// Whether the viewer is there at all (its open page exists).
    pub async fn has_viewer(&self) -> bool {
        self.read("s.html").await.is_some()
    }

    async fn read(&self, name: &str) -> Option<Cow<'static, [u8]>> {
        match self {
            Self::Embedded => Embedded::get(name).map(|f| f.data),
            Self::Dir(dir) => {
                let root = tokio::fs::canonicalize(dir).await.ok()?;
                let file = tokio::fs::canonicalize(root.join(name)).await.ok()?;
                if !file.starts_with(&root) {
                    return None;
                }
                let meta = tokio::fs::metadata(&file).await.ok()?;
                if !meta.is_file() {
                    return None;
                }
                tokio::fs::read(&file).await.ok().map(Cow::Owned)
            }
        }
    }

    /// The answer for a GET or HEAD of `path`, or `None` when there is no such
    /// file (the caller answers 404 its own way).
    pub async fn respond(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        let name = file_for(path)?;
        let mut chosen = None;
        for coding in accepted(headers) {
            if let Some(bytes) = self.read(&format!("{name}{}", coding.suffix())).await {
                chosen = Some((bytes, Some(coding)));
                break;
            }
        }
        let (bytes, coding) = match chosen {
            Some(c) => c,
            None => (self.read(&name).await?, None),
        };
        let cache = if name.starts_with("assets/") {
            IMMUTABLE
        } else if name.ends_with(".html") {
            "no-store"
        } else {
            // Stable names (the service worker): revalidate every time.
            "no-cache"
        };
        let mut res = Response::new(Body::from(bytes));
        *res.status_mut() = StatusCode::OK;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&name)),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(c) = coding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c.name()));
        }
        Some(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_only_plain_names() {
        assert_eq!(file_for("/").as_deref(), Some("index.html"));
        for p in ["/s", "/s/x", "/s%23abc", "/s%2523abc"] {
            assert_eq!(file_for(p).as_deref(), Some("s.html"), "{p}");
        }
        assert_eq!(
            file_for("/assets/open-1a2b.js").as_deref(),
            Some("assets/open-1a2b.js")
        );
        for p in [
            "/.env",
            "/assets/.hidden",
            "/../etc/passwd",
            "/assets/../s.html",
            "/a//b",
            "/a%2e%2e/b",
            "/a\\b",
            "/index.html.br",
            "/x.gz",
            "",
            "/assets/",
        ] {
            assert_eq!(file_for(p), None, "{p}");
        }
    }

    #[test]
    fn negotiates_codings() {
        let mut h = HeaderMap::new();
        assert!(accepted(&h).is_empty());
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br, zstd"),
        );
        assert_eq!(accepted(&h), [Coding::Br, Coding::Gzip]);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0, GZIP;q=0.5"),
        );
        assert_eq!(accepted(&h), [Coding::Gzip]);
    }
}
