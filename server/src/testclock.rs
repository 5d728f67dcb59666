//! `--insecure-test-clock`: a relay clock that end-to-end tests move forward
//! (`POST /test/clock/advance/{secs}`), so expiry and self-destruct are tested
//! without sleeping. Off by default, a command-line flag only (never the
//! environment or the config file), and a release build also needs
//! `ONESHARE_ALLOW_TEST_CLOCK=1`: anyone who can call the route can end every share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;

use crate::error::{Error, Result};
use crate::state::{AppState, Clock, system_clock};
use crate::sweeper;

/// The system clock plus an offset that only grows.
#[derive(Clone, Default)]
pub struct TestClock {
    offset: Arc<AtomicU64>,
}

impl TestClock {
    /// Whether this build may run it (debug builds, or release with the opt-in).
    ///
    /// # Errors
    /// [`Error::Config`] for a release build without `ONESHARE_ALLOW_TEST_CLOCK=1`.
    pub fn allowed() -> Result<()> {
        if cfg!(debug_assertions)
            || std::env::var("ONESHARE_ALLOW_TEST_CLOCK").as_deref() == Ok("1")
        {
            Ok(())
        } else {
            Err(Error::Config(
                "--insecure-test-clock lets any client end every share; a release build \
                 refuses it unless ONESHARE_ALLOW_TEST_CLOCK=1"
                    .into(),
            ))
        }
    }

    /// The clock to give [`AppState::new`].
    pub fn clock(&self) -> Clock {
        let system = system_clock();
        let offset = self.offset.clone();
        Arc::new(move || system().saturating_add(offset.load(Ordering::SeqCst)))
    }

    /// `POST /test/clock/advance/{secs}`: moves time forward, sweeps, answers
    /// `{"now": …}`. Merge it into [`crate::http::app`]'s router.
    pub fn router(&self, state: AppState) -> Router {
        let offset = self.offset.clone();
        Router::new()
            .route(
                "/test/clock/advance/{secs}",
                post(
                    move |State(state): State<AppState>, Path(secs): Path<u64>| async move {
                        if secs > 400 * 86_400 {
                            return Err(Error::BadRequest("advance by at most 400 days".into()));
                        }
                        offset.fetch_add(secs, Ordering::SeqCst);
                        sweeper::sweep_once(&state).await;
                        Ok(Json(serde_json::json!({ "now": state.now() })))
                    },
                ),
            )
            .with_state(state)
    }
}
