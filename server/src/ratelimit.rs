//! Fixed-window in-memory rate limits (per client, per share). Per instance: a
//! scaled-out deployment multiplies the budget by its instance count, which is
//! acceptable for abuse limits (the security-relevant limits live in the store).
//!
//! Keys can come from unauthenticated input (share ids), so the map is bounded
//! and every operation is O(1) amortized: keys are spread over [`SHARDS`] maps
//! with their own locks; a full shard first drops the keys of past windows (at
//! most once per window), then, if every key is current, evicts an arbitrary one.
//! Eviction forgets a count (the limit fails open for that key) rather than
//! refusing newcomers, so a flood of fresh keys cannot lock anyone out.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};

const WINDOW_SECS: u64 = 60;
/// Keys held at most, over all shards.
const MAX_KEYS: usize = 100_000;
/// Independent maps (and locks).
const SHARDS: usize = 64;

#[derive(Debug, Default)]
struct Shard {
    /// Key → (window, count).
    counts: HashMap<String, (u64, u64)>,
    /// The window of the last clean-up.
    cleaned: u64,
}

/// Counters per key in the current minute.
#[derive(Debug)]
pub struct RateLimiter {
    start: Instant,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

impl RateLimiter {
    /// A limiter that holds at most about `max_keys` keys.
    pub fn with_capacity(max_keys: usize) -> Self {
        Self {
            start: Instant::now(),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: (max_keys / SHARDS).max(1),
        }
    }

    /// Counts one request for `key`; `RateLimited` once `per_minute` is used up.
    ///
    /// # Errors
    /// `RateLimited` with the seconds until the window resets.
    pub fn check(&self, key: &str, per_minute: u64) -> Result<()> {
        let elapsed = self.start.elapsed().as_secs();
        let window = elapsed / WINDOW_SECS;
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        let mut shard = self
            .shards
            .get(i)
            .ok_or_else(|| Error::internal("rate limiter shard"))?
            .lock()
            .map_err(|_| Error::internal("rate limiter lock poisoned"))?;
        if !shard.counts.contains_key(key) && shard.counts.len() >= self.per_shard {
            if shard.cleaned != window {
                shard.counts.retain(|_, (w, _)| *w == window);
                shard.cleaned = window;
            }
            if shard.counts.len() >= self.per_shard
                && let Some(victim) = shard.counts.keys().next().cloned()
            {
                shard.counts.remove(&victim);
            }
        }
        let entry = shard.counts.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= per_minute {
            return Err(Error::RateLimited((window + 1) * WINDOW_SECS - elapsed));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key() {
        let r = RateLimiter::default();
        r.check("a", 2).unwrap();
        r.check("a", 2).unwrap();
        assert!(matches!(r.check("a", 2), Err(Error::RateLimited(s)) if (1..=60).contains(&s)));
        r.check("b", 2).unwrap();
    }

    /// A flood of fresh keys in one window stays within the bound (the old map
    /// grew past it, scanning every key on each insert).
    #[test]
    fn bounded_under_a_flood_of_keys() {
        let r = RateLimiter::with_capacity(SHARDS * 100);
        for i in 0..50_000 {
            r.check(&format!("junk{i}"), 1).unwrap();
        }
        let held: usize = r
            .shards
            .iter()
            .map(|s| s.lock().unwrap().counts.len())
            .sum();
        assert!(held <= SHARDS * 100, "{held} keys held");
        assert!(matches!(
            r.check("junk49999", 1),
            Err(Error::RateLimited(_))
        ));
    }
}
