//! Fixed-window in-memory rate limits (per client IP, per share). Per instance: a
//! scaled-out deployment multiplies the budget by its instance count, which is
//! acceptable for abuse limits (the security-relevant limits live in the store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};

const WINDOW_SECS: u64 = 60;
const MAX_KEYS: usize = 100_000;

/// Counters per key in the current minute.
#[derive(Debug)]
pub struct RateLimiter {
    start: Instant,
    windows: Mutex<HashMap<String, (u64, u64)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter {
    /// Counts one request for `key`; `RateLimited` once `per_minute` is used up.
    ///
    /// # Errors
    /// `RateLimited` with the seconds until the window resets.
    pub fn check(&self, key: &str, per_minute: u64) -> Result<()> {
        let elapsed = self.start.elapsed().as_secs();
        let window = elapsed / WINDOW_SECS;
        let mut map = self
            .windows
            .lock()
            .map_err(|_| Error::internal("rate limiter lock poisoned"))?;
        if map.len() >= MAX_KEYS {
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry(key.to_owned()).or_insert((window, 0));
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
}
