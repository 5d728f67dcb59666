//! The background sweeper: ends shares past their deadline and physically deletes
//! their ciphertext (the store's `sweep`), on the injectable clock, and picks up
//! a rotated relay key.

use std::time::Duration;

use crate::state::AppState;

/// Runs one sweep now, logs what it did, and re-reads the relay key file.
pub async fn sweep_once(state: &AppState) {
    match state.store.sweep(state.now()).await {
        Ok(r) if r.ended > 0 => tracing::info!(ended = r.ended, nonces = r.nonces, "swept"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "sweep failed"),
    }
    if let Err(e) = state.keys.refresh() {
        tracing::error!(error = %e, "relay key file unreadable; keeping the keys in force");
    }
}

/// Spawns the periodic sweeper; abort the handle to stop it.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.config.sweep_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep_once(&state).await;
        }
    })
}
