//! A log of socket calls: what the *program* saw, as opposed to what crossed the wire.
//!
//! The Tap reads the wire in chunks of its own size, so it cannot tell what each `read` call of
//! the program returned. These demonstrations are about exactly that, so they write it down
//! themselves: every `write` with the bytes it was given and the count it returned, every `read`
//! with the size of the buffer it was given and the bytes it got back, and every message a framing
//! decoder pulled out of the bytes read so far.

use std::fmt::Write as _;

/// Which end of the connection made the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The end that connected.
    Client,
    /// The end that accepted.
    Server,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One call, or one thing a decoder found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `write(data)` returned `written`: the bytes are in the kernel's send buffer, not yet read.
    Write {
        /// The bytes handed to `write`.
        data: Vec<u8>,
        /// How many of them the kernel took.
        written: usize,
    },
    /// `read(buffer of buf_len bytes)` returned these bytes; none means the end of the stream.
    Read {
        /// The size of the buffer passed to `read`: the most one call can return.
        buf_len: usize,
        /// What it returned.
        got: Vec<u8>,
    },
    /// `shutdown(Write)`: "I will send nothing more" (TCP sends FIN).
    Shutdown,
    /// A framing decoder found a whole message in the bytes read so far.
    Message {
        /// Which decoder.
        codec: &'static str,
        /// The message.
        message: Vec<u8>,
    },
    /// A framing decoder found no whole message yet and keeps these bytes for the next read.
    Incomplete {
        /// Which decoder.
        codec: &'static str,
        /// The bytes it holds.
        buffered: Vec<u8>,
    },
    /// What the program does next, in words.
    Note(String),
}

/// The calls of one demonstration, in the order they were made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallLog {
    entries: Vec<(Option<Side>, Call)>,
}

impl CallLog {
    /// An empty log.
    pub fn new() -> CallLog {
        CallLog::default()
    }

    /// Records a call made by `side`.
    pub fn push(&mut self, side: Side, call: Call) {
        self.entries.push((Some(side), call));
    }

    /// Records a note about the demonstration as a whole.
    pub fn note(&mut self, text: impl Into<String>) {
        self.entries.push((None, Call::Note(text.into())));
    }

    /// The calls, in order.
    pub fn entries(&self) -> impl Iterator<Item = (Option<Side>, &Call)> {
        self.entries.iter().map(|(side, call)| (*side, call))
    }

    /// The `read` calls that returned data, as the bytes each returned.
    pub fn reads(&self, side: Side) -> Vec<&[u8]> {
        self.entries
            .iter()
            .filter_map(|(s, call)| match call {
                Call::Read { got, .. } if *s == Some(side) && !got.is_empty() => Some(got.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// The messages the decoders found, in order.
    pub fn messages(&self) -> Vec<&[u8]> {
        self.entries
            .iter()
            .filter_map(|(_, call)| match call {
                Call::Message { message, .. } => Some(message.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// The log as text, one line per call. Nothing in it changes from run to run.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (side, call) in &self.entries {
            let who = side.map_or("──────", Side::name);
            let line = match call {
                Call::Write { data, written } => {
                    format!("write({})  → {written} bytes taken", show(data))
                }
                Call::Read { buf_len, got } if got.is_empty() => {
                    format!("read(buffer of {buf_len})  → 0 bytes: the end of the stream")
                }
                Call::Read { buf_len, got } => {
                    format!("read(buffer of {buf_len})  → {} bytes: {}", got.len(), show(got))
                }
                Call::Shutdown => "shutdown(Write)  → FIN: nothing more will be sent".to_owned(),
                Call::Message { codec, message } => {
                    format!("  {codec} decoder → message {}", show(message))
                }
                Call::Incomplete { codec, buffered } if buffered.is_empty() => {
                    format!("  {codec} decoder → no whole message yet, nothing buffered")
                }
                Call::Incomplete { codec, buffered } => format!(
                    "  {codec} decoder → no whole message yet, keeps {} bytes: {}",
                    buffered.len(),
                    show(buffered)
                ),
                Call::Note(text) => text.clone(),
            };
            let _ = writeln!(out, "{who:<6}  {line}");
        }
        out
    }
}

/// Bytes as a person reads them: quoted text when they are printable, hex otherwise.
pub fn show(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.chars().all(|c| !c.is_control() || c == '\n') => format!("{text:?}"),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_quoted_and_binary_is_hex() {
        assert_eq!(show(b"one\ntwo"), "\"one\\ntwo\"");
        assert_eq!(show(&[0, 0, 0, 3, b'o']), "00 00 00 03 6f");
    }

    #[test]
    fn a_log_renders_one_line_per_call() {
        let mut log = CallLog::new();
        log.push(Side::Client, Call::Write { data: b"one".to_vec(), written: 3 });
        log.push(Side::Server, Call::Read { buf_len: 1024, got: b"one".to_vec() });
        log.push(Side::Server, Call::Read { buf_len: 1024, got: Vec::new() });
        assert_eq!(
            log.render(),
            "client  write(\"one\")  → 3 bytes taken\n\
             server  read(buffer of 1024)  → 3 bytes: \"one\"\n\
             server  read(buffer of 1024)  → 0 bytes: the end of the stream\n"
        );
        assert_eq!(log.reads(Side::Server), [b"one"]);
    }
}
