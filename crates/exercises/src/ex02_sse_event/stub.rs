//! # Exercise 2: a Server-Sent Event, byte by byte
//!
//! Chapter: *Request and response*. About 10 minutes.
//!
//! An SSE stream is a long HTTP response of `text/event-stream`, made of events. Each event is a
//! few `field: value` lines and ends with an empty line. Write the function a server uses to
//! turn one message into those bytes.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 2`. The tests are in crates/exercises/tests/ex02_sse_event.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

/// Formats one event of a `text/event-stream` (the HTML Standard, "Server-sent events").
///
/// - `id: {id}` first, if there is an id: the browser remembers the last one and sends it back as
///   `Last-Event-ID` when it reconnects, which is how a stream resumes without loss;
/// - `event: {name}` if there is a name (otherwise the browser fires a plain `message` event);
/// - then `data: …`, one line per line of `data` (split at `\n`), because a newline inside a
///   `data:` line would end the field;
/// - and an empty line, which is what dispatches the event.
///
/// Every line ends with `\n`. For `format_event(Some(3), None, "hi")` the result is
/// `"id: 3\ndata: hi\n\n"`.
pub fn format_event(id: Option<u64>, name: Option<&str>, data: &str) -> String {
    todo!("exercise 2: build the lines described above, then the empty line")
}
