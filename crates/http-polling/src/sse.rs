//! Server-Sent Events: the `text/event-stream` format (HTML Living Standard §9.2), both ways.
//!
//! An event stream is an HTTP response that does not end. Its body is lines of text; an empty
//! line ends an event:
//!
//! ```text
//! retry: 2000          how long to wait before reconnecting, in ms
//! event: instance      an event of its own type (not "message"): the page listens for it
//! data: 1700000000000  which life of the feed the ids belong to (crate::feed)
//!
//! id: 1                the id the browser sends back as Last-Event-ID when it reconnects
//! data: hello          the event's data (several data: lines are joined with \n)
//!
//! : keep-alive         a comment: ignored by the browser, keeps proxies from timing out
//! ```
//!
//! Over HTTP/1.1 the response has no length, so it is sent chunked (RFC 9112 §7.1): every event
//! is one chunk, written and flushed on its own, so it reaches the browser at once. Over
//! HTTP/1.0, which has no chunks, the body simply runs until the server closes the connection.

use std::io::Write;
use std::time::SystemTime;

use crate::feed::{Feed, Message, Wait};
use crate::limits::Limits;

/// The event for one message: `id:` then one `data:` line per line of text, then an empty line.
pub fn event(message: &Message) -> String {
    let mut out = format!("id: {}\n", message.id);
    // A line break inside the text would end the field; each line gets its own `data:` and the
    // browser joins them back with \n. `lines` also splits at \r\n; a lone \r is a line end to
    // an event-stream parser too, so it becomes a break here.
    let text = message.text.replace("\r\n", "\n").replace('\r', "\n");
    for line in text.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

// ANCHOR: opening
/// The stream's first event: how long `EventSource` should wait before reconnecting, and the
/// feed's instance. A page cannot read the response's headers from `EventSource`, so the stream
/// says in its body what `Feed-Instance` says in the head: an event of type `instance`, which a
/// page receives with `addEventListener("instance", …)`, not as a message.
pub fn opening(limits: &Limits, instance: u64) -> String {
    format!("retry: {}\nevent: instance\ndata: {instance}\n\n", limits.retry.as_millis())
}
// ANCHOR_END: opening

/// The comment an idle stream sends every [`Limits::heartbeat`].
pub const HEARTBEAT: &str = ": keep-alive\n\n";

/// One chunk of a chunked body: the size in hex, CRLF, the bytes, CRLF (RFC 9112 §7.1).
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// How an event stream's body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// HTTP/1.1: one chunk per event, a zero-size chunk at the end; the connection stays open.
    Chunked,
    /// HTTP/1.0: the bytes as they are; the end of the body is the end of the connection.
    UntilClose,
}

/// The response head of an event stream, with the feed's `instance` (`Feed-Instance`).
pub fn head(framing: Framing, instance: u64) -> String {
    let date = httpdate::fmt_http_date(SystemTime::now());
    let framing = match framing {
        Framing::Chunked => "Transfer-Encoding: chunked\r\n",
        Framing::UntilClose => "Connection: close\r\n",
    };
    let name = crate::server::INSTANCE_HEADER;
    format!(
        "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n{name}: {instance}\r\n{framing}\r\n"
    )
}

/// How an event stream ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The feed asked streams to end ([`Feed::end_streams`]); the body was ended properly.
    Ended {
        /// The last id sent.
        last: u64,
    },
    /// The client is gone: a write failed, or a look at the socket found it closed.
    ClientGone(String),
}

// ANCHOR: stream
/// Writes an event stream to `out`, starting after message `since`, until the feed ends streams,
/// a write fails, or `still_there` (asked every [`Limits::wait_check`] while the stream is idle)
/// says the client has gone. Every event is written and flushed on its own.
pub fn stream(
    out: &mut dyn Write,
    feed: &Feed,
    since: u64,
    framing: Framing,
    limits: &Limits,
    still_there: &mut dyn FnMut() -> bool,
) -> Ending {
    let epoch = feed.epoch();
    let mut last = since;
    let mut send = |text: &str| -> std::io::Result<()> {
        match framing {
            Framing::Chunked => out.write_all(&chunk(text.as_bytes()))?,
            Framing::UntilClose => out.write_all(text.as_bytes())?,
        }
        out.flush()
    };
    if let Err(e) = send(&opening(limits, feed.instance())) {
        return Ending::ClientGone(e.to_string());
    }
    loop {
        let check = Some(limits.wait_check);
        let written =
            match feed.wait_since_while(last, limits.batch, limits.heartbeat, epoch, check, still_there) {
                Wait::Messages(messages) => messages.iter().try_for_each(|m| {
                    last = m.id;
                    send(&event(m))
                }),
                // Nothing for a while: a comment, which also finds out whether the client is there.
                Wait::TimedOut => send(HEARTBEAT),
                Wait::Ended => break,
                // No final chunk: nobody would read it.
                Wait::Abandoned => return Ending::ClientGone("the client closed the connection".into()),
            };
        if let Err(e) = written {
            return Ending::ClientGone(e.to_string());
        }
    }
    if framing == Framing::Chunked {
        // The zero-size chunk ends the body; the connection may carry the next request.
        let _ = out.write_all(b"0\r\n\r\n").and_then(|()| out.flush());
    }
    Ending::Ended { last }
}
// ANCHOR_END: stream

/// An event as a client receives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, if the event had one: its type (a browser dispatches an event
    /// without one as `message`).
    pub event: Option<String>,
    /// The `id:` field, if the event had one.
    pub id: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `retry:` field, in milliseconds, if the event had one.
    pub retry: Option<u64>,
}

/// An event-stream parser for the client side: feed it body bytes as they arrive, get events.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    event: Event,
    has_data: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Body bytes in; complete events out. An event with neither data nor retry (a lone
    /// comment) produces nothing, as in the browser.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            if line.is_empty() {
                let event = std::mem::take(&mut self.event);
                if self.has_data || event.retry.is_some() {
                    events.push(event);
                }
                self.has_data = false;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.event.event = Some(value.to_owned()),
                "id" => self.event.id = Some(value.to_owned()),
                "data" => {
                    if self.has_data {
                        self.event.data.push('\n');
                    }
                    self.event.data.push_str(value);
                    self.has_data = true;
                }
                "retry" => self.event.retry = value.parse().ok(),
                _ => {}
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_carries_its_id_and_one_data_line_per_line() {
        let m = Message { id: 7, text: "two\nlines".into() };
        assert_eq!(event(&m), "id: 7\ndata: two\ndata: lines\n\n");
        assert_eq!(event(&Message { id: 1, text: "x\r\ny".into() }), "id: 1\ndata: x\ndata: y\n\n");
    }

    #[test]
    fn a_chunk_is_its_size_in_hex_then_the_bytes() {
        assert_eq!(chunk(b"id: 1\ndata: hello\n\n"), b"13\r\nid: 1\ndata: hello\n\n\r\n");
    }

    #[test]
    fn the_parser_reads_what_the_server_writes_in_any_pieces() {
        let text = format!(
            "{}{}{HEARTBEAT}{}",
            opening(&Limits::default(), 42),
            event(&Message { id: 1, text: "a\nb".into() }),
            event(&Message { id: 2, text: "c".into() })
        );
        let mut parser = Parser::new();
        let mut events = Vec::new();
        for byte in text.as_bytes() {
            events.extend(parser.feed(std::slice::from_ref(byte)));
        }
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(events[0].retry, Some(2000));
        assert_eq!((events[0].event.as_deref(), events[0].data.as_str()), (Some("instance"), "42"));
        assert_eq!(events[1].event, None, "a message is an event without a type");
        assert_eq!((events[1].id.as_deref(), events[1].data.as_str()), (Some("1"), "a\nb"));
        assert_eq!((events[2].id.as_deref(), events[2].data.as_str()), (Some("2"), "c"));
    }
}
