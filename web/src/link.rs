//! The link: parsed into its token, and taken from the address bar so the
//! token leaves the URL and the history before anything touches the network.

use oneshare_sdk::token::{ShareId, ShareKeys, Token};

use crate::error::{Error, Result};
use crate::platform::window;

/// A share link (its token). Secret: whoever holds it can open an unbound share.
#[derive(Clone)]
pub struct Link(Token);

impl core::fmt::Debug for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Link({})", self.share_id())
    }
}

impl Link {
    /// Parses `…/s#T`, a mail scanner's `…/s%23T` or `…/s%2523T`, or a bare token.
    ///
    /// # Errors
    /// `invalid_link` with advice for the user.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(Self(Token::parse(text)?))
    }

    /// The public share id.
    pub fn share_id(&self) -> ShareId {
        self.0.derive().share_id
    }

    pub(crate) fn keys(&self) -> ShareKeys {
        self.0.derive()
    }

    pub(crate) fn token(&self) -> &Token {
        &self.0
    }

    /// The Argon2id salt of this share's passphrase (PROTOCOL.md §12.3), for
    /// [`oneshare_sdk::passphrase::stretch`] run wherever the caller keeps
    /// Argon2id (the viewer loads it only for shares that have a passphrase).
    /// Derived from the token one way: it does not reveal the link.
    pub fn passphrase_salt(&self) -> [u8; oneshare_sdk::passphrase::SALT_LEN] {
        oneshare_sdk::passphrase::salt(&self.0)
    }

    /// The transfer secret of the share (PROTOCOL.md §12.2). Secret.
    pub(crate) fn transfer_secret(&self) -> oneshare_sdk::secret::Key256 {
        oneshare_sdk::transfer::transfer_secret(&self.0)
    }

    pub(crate) fn from_token(token: Token) -> Self {
        Self(token)
    }

    /// The link text `{base}/s#{token}`. Secret.
    pub fn to_url(&self, base: &str) -> String {
        self.0.to_link(base)
    }
}

/// Takes the link from the address bar: the fragment (`/s#T`) or a path a mail
/// scanner re-encoded (`/s%23T`, `/s%2523T`). The token is removed from the
/// address bar and from this history entry (`history.replaceState`) before this
/// returns, whatever it holds.
///
/// `Ok(None)` when there is no token (no fragment, not a window).
///
/// # Errors
/// `invalid_link` when the URL holds something that is not a whole token.
pub fn take_link_from_location() -> Result<Option<Link>> {
    let Some(win) = window() else {
        return Ok(None);
    };
    let location = win.location();
    let hash = location.hash().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    let mangled = lower.find("/s%23").or_else(|| lower.find("/s%2523"));
    let (raw, clean_path) = match mangled {
        Some(at) => (path[at..].to_owned(), format!("{}/s", &path[..at])),
        None if hash.len() > 1 => (hash.clone(), path.clone()),
        None => return Ok(None),
    };
    let history = win.history().map_err(|_| Error::Unsupported("history"))?;
    // The new URL keeps the path and query, without the token.
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{clean_path}{search}")),
        )
        .map_err(|_| Error::Unsupported("history.replaceState"))?;
    let text = if mangled.is_some() {
        raw
    } else {
        format!("#{}", raw.trim_start_matches('#'))
    };
    Link::parse(&text).map(Some)
}
