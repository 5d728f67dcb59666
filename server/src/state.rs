//! Shared state of the HTTP layer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use oneshare_sdk::api::Policy;

use tokio::sync::Semaphore;

use crate::client_ip::ClientIp;
use crate::config::Config;
use crate::error::Result;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::slots::Slots;
use crate::store::Store;

/// "Now" in Unix seconds. Injectable so tests move time without sleeping.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Relay HPKE keys (following the key file).
    pub keys: Arc<KeyRing>,
    /// Clock.
    pub clock: Clock,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Rate limits.
    pub limiter: Arc<RateLimiter>,
    /// Requests in flight (health checks excluded).
    pub in_flight: Arc<Semaphore>,
    /// Requests in flight per client.
    pub in_flight_per_ip: Arc<Slots<ClientIp>>,
    /// Open event streams: all, per owner key, per client.
    pub streams: Arc<Slots<()>>,
    /// Open event streams per owner key.
    pub streams_per_owner: Arc<Slots<String>>,
    /// Open event streams per client.
    pub streams_per_ip: Arc<Slots<ClientIp>>,
    request_ids: Arc<AtomicU64>,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Builds the state.
    pub fn new(store: Arc<dyn Store>, config: Config, keys: KeyRing, clock: Clock) -> Self {
        let in_flight = Arc::new(Semaphore::new(config.limits.max_in_flight.max(1)));
        Self {
            in_flight,
            in_flight_per_ip: Arc::default(),
            streams: Arc::default(),
            streams_per_owner: Arc::default(),
            streams_per_ip: Arc::default(),
            store,
            config: Arc::new(config),
            keys: Arc::new(keys),
            clock,
            metrics: Arc::new(Metrics::default()),
            limiter: Arc::new(RateLimiter::default()),
            request_ids: Arc::new(AtomicU64::new(1)),
            stopping: tokio::sync::watch::channel(false).0,
        }
    }

    /// Current time.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// A fresh request id for logs.
    pub fn request_id(&self) -> u64 {
        self.request_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Tells long-lived answers (event streams) to end, so a graceful shutdown
    /// does not wait for them.
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once [`AppState::begin_shutdown`] was called.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// The admin's policy, or the configured default.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn policy(&self) -> Result<Policy> {
        Ok(match self.store.policy().await? {
            Some(p) => p,
            None => self.config.policy.clone(),
        })
    }
}
