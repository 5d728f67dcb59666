//! Counted slots per key with a cap (open connections per IP, requests in flight
//! per IP, event streams per owner and per IP, all streams). A slot is a guard:
//! dropping it (the request ends, the client goes away) frees it, so a count can
//! never leak. Keys with no open slot are removed, so the map holds only what is
//! open now and is bounded by the caps above it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Open slots per key.
#[derive(Debug)]
pub struct Slots<K: Hash + Eq> {
    open: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq> Default for Slots<K> {
    fn default() -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
        }
    }
}

/// One taken slot; freed on drop.
#[derive(Debug)]
pub struct Slot<K: Hash + Eq + Clone> {
    slots: Arc<Slots<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Slots<K> {
    /// Takes a slot for `key` unless `cap` are open already.
    pub fn take(self: &Arc<Self>, key: K, cap: usize) -> Option<Slot<K>> {
        let mut open = self.open.lock().ok()?;
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        if let Ok(mut open) = self.slots.open.lock()
            && let Some(n) = open.get_mut(&self.key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_key_and_frees_on_drop() {
        let s: Arc<Slots<u8>> = Arc::default();
        let a = s.take(1, 2).unwrap();
        let b = s.take(1, 2).unwrap();
        assert!(s.take(1, 2).is_none());
        let c = s.take(2, 2).unwrap();
        drop(a);
        let _a = s.take(1, 2).unwrap();
        assert!(s.take(1, 2).is_none());
        drop((b, c));
        assert!(s.open.lock().unwrap().get(&2).is_none());
    }
}
