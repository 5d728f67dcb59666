//! L2 risk signals (PROTOCOL.md §12.4): does a bind look automated? Only ever a
//! reason to ask for the open code, never to refuse: a person with the code gets
//! through whatever the signals say.
//!
//! Pure: the relay supplies what it observed (the page's own report, its user
//! agent, whether the address is in the operator's scanner-network list, how
//! long after create the bind came) and gets back the reasons, which also make
//! the event the sender reads.

use crate::api::ClientSignals;
use crate::duration;

/// A press sooner than this after the Open button appeared is not a person's
/// (the web viewer itself waits this long, PROTOCOL.md §11).
pub const MIN_PRESS_MS: u64 = 1_000;

/// What the relay observed about one bind attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// The page's own report (default: nothing reported, as from a v1 client).
    pub signals: ClientSignals,
    /// The request's `User-Agent`.
    pub user_agent: Option<String>,
    /// The client address is in the operator's scanner/cloud network list.
    pub listed_network: bool,
}

/// Why a bind looks automated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The page reported `navigator.webdriver`.
    Webdriver,
    /// The page reported a headless browser.
    HeadlessClient,
    /// The user agent names a headless browser.
    HeadlessUserAgent,
    /// The page reported no user activation.
    NoUserActivation,
    /// The press came this many milliseconds after the button appeared.
    FastPress(u64),
    /// The bind came this many seconds after create.
    QuickBind(u64),
    /// The address is in the operator's scanner/cloud network list.
    ListedNetwork,
}

impl Reason {
    /// Words for the sender's event.
    pub fn describe(self) -> String {
        match self {
            Self::Webdriver => "the browser is driven by automation (navigator.webdriver)".into(),
            Self::HeadlessClient => "the browser reported itself headless".into(),
            Self::HeadlessUserAgent => "the user agent is a headless browser".into(),
            Self::NoUserActivation => "no user interaction on the page".into(),
            Self::FastPress(ms) => format!("Open pressed {ms} ms after it appeared"),
            Self::QuickBind(secs) => {
                format!("opened {} after sending", duration::format(secs.max(1)))
            }
            Self::ListedNetwork => "from a network on the relay's scanner list".into(),
        }
    }
}

/// The reasons a bind looks automated; empty when nothing says so. A bind
/// within `quick_bind_secs` of create counts (0 turns that signal off).
pub fn assess(obs: &Observation, secs_since_create: u64, quick_bind_secs: u64) -> Vec<Reason> {
    let s = &obs.signals;
    let headless_ua = obs
        .user_agent
        .as_deref()
        .is_some_and(|ua| ua.to_ascii_lowercase().contains("headless"));
    [
        s.webdriver.then_some(Reason::Webdriver),
        s.headless.then_some(Reason::HeadlessClient),
        headless_ua.then_some(Reason::HeadlessUserAgent),
        (s.user_activation == Some(false)).then_some(Reason::NoUserActivation),
        s.press_after_ms
            .filter(|&ms| ms < MIN_PRESS_MS)
            .map(Reason::FastPress),
        (secs_since_create < quick_bind_secs).then_some(Reason::QuickBind(secs_since_create)),
        obs.listed_network.then_some(Reason::ListedNetwork),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The reasons as one phrase for an event ("a; b; looks automated"), or `None`.
pub fn describe(reasons: &[Reason]) -> Option<String> {
    (!reasons.is_empty()).then(|| {
        let mut words: Vec<String> = reasons.iter().map(|r| r.describe()).collect();
        words.push("looks automated".into());
        words.join("; ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_person_raises_nothing() {
        let obs = Observation {
            signals: ClientSignals {
                user_activation: Some(true),
                press_after_ms: Some(4_000),
                ..ClientSignals::default()
            },
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0".into()),
            listed_network: false,
        };
        assert_eq!(assess(&obs, 600, 15), vec![]);
        assert_eq!(describe(&[]), None);
        // A v1 client reports nothing, which is not suspicious in itself.
        assert_eq!(assess(&Observation::default(), 600, 15), vec![]);
    }

    #[test]
    fn every_signal_counts_and_is_described() {
        let obs = Observation {
            signals: ClientSignals {
                webdriver: true,
                headless: true,
                user_activation: Some(false),
                press_after_ms: Some(80),
            },
            user_agent: Some("Mozilla/5.0 HeadlessChrome/156.0".into()),
            listed_network: true,
        };
        let reasons = assess(&obs, 3, 15);
        assert_eq!(
            reasons,
            vec![
                Reason::Webdriver,
                Reason::HeadlessClient,
                Reason::HeadlessUserAgent,
                Reason::NoUserActivation,
                Reason::FastPress(80),
                Reason::QuickBind(3),
                Reason::ListedNetwork,
            ]
        );
        let text = describe(&reasons).unwrap_or_default();
        assert!(text.contains("opened 3s after sending") && text.ends_with("looks automated"));
        assert_eq!(assess(&obs, 3, 0).len(), 6, "quick_bind_secs = 0 is off");
    }
}
