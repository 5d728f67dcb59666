//! The share state machine and its expiry rules, as pure functions of stored
//! timestamps and "now", so the relay's store, sweeper and tests agree.
//!
//! ```text
//!   unbound ──bind──▶ binding ──confirm──▶ bound
//!      │                 │                   │
//!      └──────── expire / revoke / self-destruct ─────▶ (row deleted)
//! ```
//!
//! * Unused link: ends `expires_in` after creation.
//! * Bound: access ends `expires_in` after binding.
//! * Self-destruct: access ends at creation + `expires_in`, or
//!   [`SELF_DESTRUCT_AFTER_VIEW_SECS`] after first view (the bind, which
//!   delivers the record), whichever is first.

use serde::{Deserialize, Serialize};

use crate::signing::PublicKey;

/// How long a self-destructing record stays readable after first view.
pub const SELF_DESTRUCT_AFTER_VIEW_SECS: u64 = 300;

/// Where a share is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created; the link has not been used.
    Unbound,
    /// A device has bound and received the wrapped key but not yet confirmed.
    Binding,
    /// Confirmed: the token is dead; only the bound device can read.
    Bound,
    /// The deadline passed.
    Expired,
    /// The owner or an admin deleted it.
    Revoked,
    /// A self-destructing share reached its end.
    SelfDestructed,
}

impl State {
    /// Whether the share can still be read or bound.
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Unbound | Self::Binding | Self::Bound)
    }

    /// Stable lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Binding => "binding",
            Self::Bound => "bound",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::SelfDestructed => "self_destructed",
        }
    }
}

/// The timestamps that decide when a share ends (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Creation time.
    pub created_at: u64,
    /// The chosen duration.
    pub expires_in: u64,
    /// Whether the share self-destructs.
    pub self_destruct: bool,
    /// When a device bound (first view), if one has.
    pub bound_at: Option<u64>,
}

impl Lifetime {
    /// The moment access ends.
    pub fn deadline(&self) -> u64 {
        let from_creation = self.created_at.saturating_add(self.expires_in);
        match (self.bound_at, self.self_destruct) {
            (None, _) => from_creation,
            (Some(b), false) => b.saturating_add(self.expires_in),
            (Some(b), true) => from_creation.min(b.saturating_add(SELF_DESTRUCT_AFTER_VIEW_SECS)),
        }
    }

    /// The state a live share ends in at its deadline.
    pub fn end_state(&self) -> State {
        if self.self_destruct {
            State::SelfDestructed
        } else {
            State::Expired
        }
    }

    /// Applies the clock to a stored state: a live share past its deadline has ended.
    pub fn state_at(&self, stored: State, now: u64) -> State {
        if stored.is_live() && now >= self.deadline() {
            self.end_state()
        } else {
            stored
        }
    }
}

/// What the relay does with a bind attempt whose bind secret matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindDecision {
    /// First bind: move to `binding` for this key.
    Bind,
    /// Same device retrying before confirm: answer again.
    Retry,
    /// Another device already holds the share: refuse (409) and, if the binder
    /// proved the token, tell the owner.
    OtherDevice,
    /// The device that confirmed binds again: nothing to hand back (409), and
    /// nothing to tell the owner.
    AlreadyYours,
    /// The share has ended: 410.
    Gone(State),
}

/// Decides a bind attempt from the share's state and bound key.
pub fn decide_bind(
    state: State,
    bound_key: Option<&PublicKey>,
    presented: &PublicKey,
) -> BindDecision {
    match state {
        State::Unbound => BindDecision::Bind,
        State::Binding if bound_key == Some(presented) => BindDecision::Retry,
        State::Bound if bound_key == Some(presented) => BindDecision::AlreadyYours,
        State::Binding | State::Bound => BindDecision::OtherDevice,
        ended => BindDecision::Gone(ended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::signing::SigningKey;

    const H: u64 = 3_600;

    #[test]
    fn deadlines_follow_keeper_semantics() {
        let unused = Lifetime {
            created_at: 1_000,
            expires_in: H,
            self_destruct: false,
            bound_at: None,
        };
        assert_eq!(unused.deadline(), 1_000 + H);
        let bound = Lifetime {
            bound_at: Some(2_000),
            ..unused
        };
        assert_eq!(bound.deadline(), 2_000 + H);
        let sd = Lifetime {
            self_destruct: true,
            ..bound
        };
        assert_eq!(sd.deadline(), 2_000 + 300);
        let sd_late = Lifetime {
            bound_at: Some(1_000 + H - 10),
            ..sd
        };
        assert_eq!(sd_late.deadline(), 1_000 + H);
        assert_eq!(sd.state_at(State::Bound, 2_299), State::Bound);
        assert_eq!(sd.state_at(State::Bound, 2_300), State::SelfDestructed);
        assert_eq!(bound.state_at(State::Bound, 2_000 + H), State::Expired);
        assert_eq!(bound.state_at(State::Revoked, 0), State::Revoked);
    }

    #[test]
    fn bind_decisions() {
        let a = SigningKey::from_bytes(&Secret::new([1; 32]))
            .unwrap()
            .public_key();
        let b = SigningKey::from_bytes(&Secret::new([2; 32]))
            .unwrap()
            .public_key();
        assert_eq!(decide_bind(State::Unbound, None, &a), BindDecision::Bind);
        assert_eq!(
            decide_bind(State::Binding, Some(&a), &a),
            BindDecision::Retry
        );
        assert_eq!(
            decide_bind(State::Binding, Some(&a), &b),
            BindDecision::OtherDevice
        );
        assert_eq!(
            decide_bind(State::Bound, Some(&a), &a),
            BindDecision::AlreadyYours
        );
        assert_eq!(
            decide_bind(State::Bound, Some(&a), &b),
            BindDecision::OtherDevice
        );
        assert_eq!(
            decide_bind(State::Revoked, None, &a),
            BindDecision::Gone(State::Revoked)
        );
    }
}
