//! The owner's event stream (`GET /v1/events`, server-sent events): read on a
//! thread into a channel, so callers can follow it or take what is stored.

use std::io::{BufRead, BufReader};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use oneshare_sdk::api::Event;
use oneshare_sdk::owner::OwnerIdentity;
use oneshare_sdk::sse::EventParser;

use crate::error::{Error, Result};
use crate::identity::owner_signer;
use crate::relay::{Call, Relay};

/// How long a listing waits for the relay to send the stored events (it sends
/// them at once, then the `caught-up` comment).
pub const STORED_WAIT: Duration = Duration::from_secs(30);

/// Opens the stream after event `since`; events arrive on the channel, and
/// `None` once, when the relay says the stored events are all sent.
///
/// # Errors
/// [`Error::Network`], [`Error::Relay`].
pub fn open(
    relay: &Relay,
    owner: &OwnerIdentity,
    since: Option<u64>,
) -> Result<Receiver<Result<Option<Event>>>> {
    let mut call = Call::new("GET", "/v1/events", owner_signer(owner))
        .streaming()
        .header("accept", "text/event-stream".into());
    if let Some(id) = since {
        call = call.header("last-event-id", id.to_string());
    }
    let (res, _) = relay.send(call)?;
    let url = relay.url.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut parser = EventParser::new();
        // Lines are whole UTF-8 text; the parser splits them into events.
        for line in BufReader::new(res).lines() {
            let line = match line {
                Ok(l) => l + "\n",
                Err(e) => {
                    let _ = tx.send(Err(Error::Network {
                        url,
                        reason: e.to_string(),
                    }));
                    return;
                }
            };
            let was_caught_up = parser.caught_up();
            let events = match parser.push(&line) {
                Ok(evs) => evs,
                Err(e) => {
                    let _ = tx.send(Err(e.into()));
                    return;
                }
            };
            for ev in events {
                if tx.send(Ok(Some(ev))).is_err() {
                    return;
                }
            }
            if parser.caught_up() && !was_caught_up && tx.send(Ok(None)).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// The events stored now: those sent before the relay's `caught-up` comment.
///
/// # Errors
/// The first error read; [`Error::Network`] when the stream ends or stalls
/// before the relay says it has sent them all.
pub fn stored(relay: &Relay, rx: &Receiver<Result<Option<Event>>>) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    loop {
        let reason = match rx.recv_timeout(STORED_WAIT) {
            Ok(Ok(Some(ev))) => {
                out.push(ev);
                continue;
            }
            Ok(Ok(None)) => return Ok(out),
            Ok(Err(e)) => return Err(e),
            Err(RecvTimeoutError::Timeout) => "the relay sent no end of its stored events",
            Err(RecvTimeoutError::Disconnected) => "the event stream ended early",
        };
        return Err(Error::Network {
            url: relay.url.clone(),
            reason: reason.into(),
        });
    }
}

/// One event as a line for people.
pub fn line(ev: &Event) -> String {
    let kind = serde_json::to_value(ev.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut s = format!(
        "{}  {}  {:<15} {}",
        ev.id,
        crate::output::utc(ev.at),
        kind,
        ev.share_id
    );
    if let Some(d) = &ev.detail {
        s.push_str("  ");
        s.push_str(d);
    }
    if let Some(f) = &ev.device_fingerprint {
        s.push_str("  device ");
        s.push_str(f);
    }
    s
}
