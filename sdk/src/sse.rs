//! The owner's event stream (`GET /v1/events`, PROTOCOL.md §9.6) as sans-io: feed
//! the `text/event-stream` body as it arrives, take [`Event`]s out. Clients that
//! cannot use `EventSource` (it cannot sign requests) read the stream with
//! `fetch` or a socket and share this parser.

use crate::api::Event;
use crate::{Error, Result};

/// Largest event block kept while waiting for its end (a relay event is a few
/// hundred bytes): more without a blank line is an error, not unbounded memory.
pub const MAX_BLOCK: usize = 64 * 1024;

/// The comment the relay sends once every event stored at connect time has been
/// sent (PROTOCOL.md §10.4), as the line `: caught-up`.
pub const CAUGHT_UP: &str = "caught-up";

/// Splits a `text/event-stream` into events.
#[derive(Debug, Default)]
pub struct EventParser {
    buf: String,
    caught_up: bool,
}

impl EventParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the relay has said that the stored events are all sent: a
    /// client that wants only those (a listing) may stop reading here instead
    /// of guessing from a pause.
    pub fn caught_up(&self) -> bool {
        self.caught_up
    }

    /// Feeds the next piece of the body (UTF-8 text, split anywhere) and returns
    /// the events it completes. Comments and keep-alives yield nothing.
    ///
    /// # Errors
    /// [`Error::Json`] for an event whose data is not an [`Event`],
    /// [`Error::Malformed`] for a block longer than [`MAX_BLOCK`].
    pub fn push(&mut self, text: &str) -> Result<Vec<Event>> {
        self.buf.push_str(text);
        if self.buf.contains('\r') {
            self.buf = self.buf.replace("\r\n", "\n").replace('\r', "\n");
        }
        let mut out = Vec::new();
        while let Some(cut) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..cut + 2).collect();
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                self.caught_up |= block
                    .lines()
                    .any(|l| l.strip_prefix(':').map(str::trim_start) == Some(CAUGHT_UP));
                continue;
            }
            out.push(crate::json::read(data.join("\n").as_bytes(), "event")?);
        }
        if self.buf.len() > MAX_BLOCK {
            return Err(Error::Malformed("event stream: block too long"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::EventKind;

    const ONE: &str = r#"{"id":7,"share_id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"bound","at":5,"detail":"3 s after creation"}"#;

    #[test]
    fn events_split_anywhere_with_comments_and_crlf() {
        let body =
            format!(": keep-alive\n\nid: 7\r\nevent: share\r\ndata: {ONE}\r\n\r\n: ping\n\n");
        for split in 0..body.len() {
            if !body.is_char_boundary(split) {
                continue;
            }
            let mut p = EventParser::new();
            let mut got = p.push(&body[..split]).unwrap();
            got.extend(p.push(&body[split..]).unwrap());
            assert_eq!(got.len(), 1, "split at {split}");
            assert_eq!((got[0].id, got[0].kind), (7, EventKind::Bound));
        }
    }

    #[test]
    fn caught_up_only_after_its_comment() {
        let mut p = EventParser::new();
        assert_eq!(
            p.push(&format!("id: 7\ndata: {ONE}\n\n: ping\n\n"))
                .unwrap()
                .len(),
            1
        );
        assert!(!p.caught_up());
        assert!(p.push(": caught-up\n").unwrap().is_empty());
        assert!(!p.caught_up(), "not before the blank line ends the block");
        p.push("\n").unwrap();
        assert!(p.caught_up());
    }

    #[test]
    fn bad_data_and_endless_blocks_are_errors() {
        assert!(EventParser::new().push("data: {}\n\n").is_err());
        let mut p = EventParser::new();
        assert!(p.push(&"x".repeat(MAX_BLOCK + 1)).is_err());
    }
}
