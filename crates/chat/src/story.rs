//! Several Taps recorded as one story: every connection of a demo (each client's, each server's
//! to Redis) through a Tap of its own, each line labelled with its connection, in steps.
//!
//! Events on different connections happen at the same time (Redis pushes a message to two
//! servers at once), so their order across connections differs from run to run; on one
//! connection it does not. So a story is told in steps, which the demo marks at moments it has
//! waited for (every client has the message), and within a step each connection's events are
//! shown together, in a fixed order of connections. The result is the same on every run, and a
//! test can snapshot it.
//!
//! ```text
//! ━━ alice says "hi"
//! alice   C→S frame FIN text masked len=2  "hi"
//! A:cmd   C→S 37 bytes: "*3\r\n$7\r\nPUBLISH\r\n$10\r\nroom:lobby\r\n$2\r\nhi\r\n"
//! B:sub   S→C 45 bytes: "*3\r\n$7\r\nmessage\r\n$10\r\nroom:lobby\r\n$2\r\nhi\r\n"
//! bob     S→C frame FIN text len=2  "hi"
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tap::{Tap, TapControl, outln};
use tokio::sync::watch;
use wire::Render;
use wire::decode::Mode;
use wire::transcript::Event;

/// Longest wait for something a demo expects to see on a connection.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Step {
    title: String,
    notes: Vec<String>,
    events: Vec<(String, Event)>,
    /// The order of connections when the step began.
    order: Vec<String>,
}

#[derive(Default)]
struct Inner {
    done: Vec<Step>,
    current: Step,
    order: Vec<String>,
    /// Set by [`Story::finish`]: later events (the demo's teardown) are not part of the story.
    finished: bool,
}

/// A story being recorded. Cloning it gives another handle to the same story.
#[derive(Clone)]
pub struct Story {
    inner: Arc<Mutex<Inner>>,
    /// Counts events, so a wait can wake at each new one.
    seen: watch::Sender<u64>,
    live: bool,
}

/// A Tap of the story's, and the switches of each connection it relayed.
pub struct StoryTap {
    addr: SocketAddr,
    controls: Arc<Mutex<HashMap<usize, Arc<TapControl>>>>,
    accepted: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl StoryTap {
    /// Where to connect (instead of the upstream).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The switches of connection `id` (from 1, in the order they were accepted), once it has
    /// been accepted.
    pub async fn control(&self, id: usize) -> Option<Arc<TapControl>> {
        let mut accepted = self.accepted.clone();
        tokio::time::timeout(PATIENCE, accepted.wait_for(|n| *n >= id)).await.ok()?.ok()?;
        self.controls.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }
}

impl Drop for StoryTap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Story {
    /// A new story; with `live`, every event is printed as it is recorded.
    pub fn new(live: bool) -> Story {
        Story { inner: Arc::default(), seen: watch::Sender::new(0), live }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The order in which connections are shown within the steps that begin from now on (others
    /// follow, in the order they first appear).
    pub fn order(&self, labels: &[&str]) {
        self.lock().order = labels.iter().map(|l| (*l).to_owned()).collect();
    }

    /// A Tap in front of `upstream`, decoding as `mode`. Its connections are labelled `names[0]`,
    /// `names[1]`, … in the order they are accepted; any after the last name get the last name
    /// (a client or a subscriber that reconnects keeps its label).
    pub async fn tap(&self, upstream: SocketAddr, mode: Mode, names: &[&str]) -> std::io::Result<StoryTap> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let story = self.clone();
        let tap = Tap::bind("127.0.0.1:0", upstream).await?.mode(mode).observe(move |id, event| {
            let label = names.get(id - 1).or(names.last()).cloned().unwrap_or_default();
            story.record(label, event);
        });
        let addr = tap.local_addr();
        let controls: Arc<Mutex<HashMap<usize, Arc<TapControl>>>> = Arc::default();
        let (count, accepted) = watch::channel(0);
        let kept = controls.clone();
        let task = tokio::spawn(async move {
            while let Ok(connection) = tap.accept().await {
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(connection.id, connection.control());
                count.send_replace(connection.id);
                // The connection reports through the observer; its transcript is not needed.
                drop(connection);
            }
        });
        Ok(StoryTap { addr, controls, accepted, task })
    }

    fn record(&self, label: String, event: &Event) {
        let mut inner = self.lock();
        if inner.finished {
            return;
        }
        if self.live {
            let text = event.render(&live_style());
            for line in text.lines() {
                outln!("{label:<7} {line}");
            }
        }
        inner.current.events.push((label, event.clone()));
        drop(inner);
        self.seen.send_modify(|n| *n += 1);
    }

    /// Ends the story: what the Taps see from now on (the demo tearing down) is not recorded.
    pub fn finish(&self) {
        self.lock().finished = true;
    }

    /// Ends the current step and starts one called `title`.
    pub fn step(&self, title: &str) {
        if self.live {
            outln!("\n━━ {title}");
        }
        let mut inner = self.lock();
        let next = Step { title: title.to_owned(), order: inner.order.clone(), ..Step::default() };
        let done = std::mem::replace(&mut inner.current, next);
        if !done.title.is_empty() || !done.events.is_empty() || !done.notes.is_empty() {
            inner.done.push(done);
        }
    }

    /// A line about what the demo does now (the Taps cannot see it): shown under the step's
    /// title.
    pub fn note(&self, text: &str) {
        if self.live {
            outln!("── {text}");
        }
        self.lock().current.notes.push(text.to_owned());
    }

    /// Waits until a connection labelled `label` has recorded, in the current step, `count`
    /// events whose text contains `needle` (as [`Render::live`] writes it). Fails after
    /// [`PATIENCE`].
    pub async fn wait_for(&self, label: &str, needle: &str, count: usize) -> Result<(), String> {
        let mut seen = self.seen.subscribe();
        let found = |story: &Story| {
            story
                .lock()
                .current
                .events
                .iter()
                .filter(|(l, e)| l == label && e.render(&Render::live()).contains(needle))
                .count()
                >= count
        };
        let wait = async {
            while !found(self) {
                if seen.changed().await.is_err() {
                    return;
                }
            }
        };
        let waited = tokio::time::timeout(PATIENCE, wait).await;
        if waited.is_ok() && found(self) {
            Ok(())
        } else {
            Err(format!("{label} did not show {needle:?} {count} time(s) within {PATIENCE:?}"))
        }
    }

    /// The story so far, each step with its connections in order, in `style`, with stream ids
    /// replaced when `style` redacts (see [`redact_stream_ids`]).
    pub fn render(&self, style: &Render) -> String {
        let inner = self.lock();
        let width = inner
            .done
            .iter()
            .chain(std::iter::once(&inner.current))
            .flat_map(|s| s.events.iter().map(|(l, _)| l.chars().count()))
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for step in inner.done.iter().chain(std::iter::once(&inner.current)) {
            if step.title.is_empty() && step.events.is_empty() && step.notes.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("━━ {}\n", step.title));
            for note in &step.notes {
                out.push_str(&format!("── {note}\n"));
            }
            let mut labels: Vec<&str> = step.order.iter().map(String::as_str).collect();
            for (label, _) in &step.events {
                if !labels.contains(&label.as_str()) {
                    labels.push(label);
                }
            }
            for label in labels {
                for (_, event) in step.events.iter().filter(|(l, _)| l == label) {
                    for line in event.render(style).lines() {
                        out.push_str(&format!("{label:<width$}  {line}\n"));
                    }
                }
            }
        }
        if style.redact { redact_stream_ids(&out) } else { out }
    }
}

/// How events are printed live: every byte, but no hex (the bytes here are text), and long
/// previews (a Redis command with its script is a few hundred bytes).
pub fn live_style() -> Render {
    Render { preview: 600, ..Render::live().without_hex() }
}

/// Replaces each Redis stream id made by the clock (`1717171717171-0`: 13 digits of
/// milliseconds, a dash, a sequence number) with `‹id N›`, numbered in order of first appearance,
/// so that a transcript reads the same on every run while the same id keeps the same name.
pub fn redact_stream_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut names: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let starts = i == 0 || !bytes[i - 1].is_ascii_digit();
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if starts && digits == 13 && bytes.get(i + 13) == Some(&b'-') {
            let seq = bytes[i + 14..].iter().take_while(|b| b.is_ascii_digit()).count();
            if seq > 0 {
                let end = i + 14 + seq;
                let id = &text[i..end];
                let n = match names.iter().position(|known| *known == id) {
                    Some(n) => n + 1,
                    None => {
                        names.push(id);
                        names.len()
                    }
                };
                out.push_str(&text[copied..i]);
                out.push_str(&format!("‹id {n}›"));
                i = end;
                copied = end;
                continue;
            }
        }
        i += digits.max(1);
        while i < bytes.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_get_names_in_order_of_first_appearance() {
        let text = "1717171717171-0 hi ‹x› after=1717171717171-0 then 1717171717999-12, not 12345-1 or 0-0";
        assert_eq!(redact_stream_ids(text), "‹id 1› hi ‹x› after=‹id 1› then ‹id 2›, not 12345-1 or 0-0");
        assert_eq!(redact_stream_ids("$15\r\n1717171717171-0\r\n"), "$15\r\n‹id 1›\r\n");
    }
}
