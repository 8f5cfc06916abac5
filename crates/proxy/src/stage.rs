//! The path every exchange of the chapter runs on, and how it is recorded:
//!
//! ```text
//!  client ──▶ Tap 1 ──▶ nginx ──▶ Tap 2 ──▶ server
//!           ‹tap1›    ‹nginx›    ‹tap2›    ‹server›
//! ```
//!
//! Tap 1 records what the client and nginx say to each other, Tap 2 what nginx and the server
//! say: the two sides of the proxy, which are two TCP connections. Both Taps report to one
//! [`Log`], which keeps every event with the moment it was recorded, and the notes the exchange
//! adds about what it did ("the server sends event 2"), each at its place on its side.
//!
//! nginx is a real process and its timing is real time, so a transcript is made deterministic
//! three ways: ports get names (above), times are shown only where time has passed, rounded to
//! the second (`⏱ 2 s later`), and every exchange waits for conditions ("Tap 1 has recorded the
//! event") instead of sleeping.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tap::Tap;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wire::http::StartLine;
use wire::{Direction, Event, EventKind, Render};

use crate::Error;
use crate::config::Site;
use crate::upstream::Upstream;
use serve::nginx::Nginx;

/// The longest an exchange waits for something to happen before it gives up with an error. Far
/// longer than any step takes; it only turns a bug into a failure instead of a hang.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The shortest pause a transcript shows as time passing (`⏱ 2 s later`). The exchanges either
/// run in lockstep (each step a few milliseconds) or wait a second or more on purpose; nothing in
/// between, so rounding to the second is the same on every run.
pub const SHOWN_PAUSE: Duration = Duration::from_millis(500);

/// Which side of the proxy a Tap watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// Between the client and nginx: Tap 1. Here nginx is the server (`S`).
    Front,
    /// Between nginx and the server: Tap 2. Here nginx is the client (`C`).
    Back,
}

impl Side {
    /// The heading over this side's transcript.
    pub fn title(self) -> &'static str {
        match self {
            Side::Front => "client ⇄ nginx, as Tap 1 saw it (C is the client, S is nginx)",
            Side::Back => "nginx ⇄ server, as Tap 2 saw it (C is nginx, S is the server)",
        }
    }

    /// What starts each live line of this side.
    pub fn prefix(self) -> &'static str {
        match self {
            Side::Front => "client⇄nginx │ ",
            Side::Back => "nginx⇄server │ ",
        }
    }
}

/// One event and when it was recorded.
#[derive(Clone, Debug)]
pub struct Entry {
    /// When the Tap (or the exchange, for a note) recorded it.
    pub at: Instant,
    /// What happened.
    pub event: Event,
}

/// One TCP connection on one side, as recorded.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The side.
    pub side: Side,
    /// The Tap's number for it (0: notes made before the Tap saw any connection).
    pub id: usize,
    /// Its events, in order.
    pub entries: Vec<Entry>,
    /// Whether the Tap has seen both directions end.
    pub over: bool,
}

impl Connection {
    /// The bytes of every body, chunk and frame payload sent in `dir`, in order: what the
    /// receiving side has been handed so far.
    pub fn payload(&self, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in self.entries.iter().filter(|e| e.event.dir == Some(dir)) {
            match &entry.event.kind {
                EventKind::Body { data, .. } | EventKind::Data(data) => out.extend_from_slice(data),
                EventKind::Frame(frame) => out.extend_from_slice(&frame.payload),
                _ => {}
            }
        }
        out
    }

    /// Whether any event recorded so far matches `pred`.
    pub fn has(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.entries.iter().any(|e| pred(&e.event))
    }

    /// The connection as text: its events in order, a time note wherever time has passed.
    pub fn render(&self, style: &Render, names: &PortNames) -> String {
        let mut out = String::new();
        let mut previous: Option<Instant> = None;
        for entry in &self.entries {
            if let Some(before) = previous {
                let pause = entry.at.saturating_duration_since(before);
                if pause >= SHOWN_PAUSE {
                    out.push_str(&Event::note(pause_text(pause, style)).render(style));
                }
            }
            previous = Some(entry.at);
            out.push_str(&names.rename(&entry.event).render(style));
        }
        out
    }
}

/// `⏱ 2 s later`, rounded to the second for a snapshot, to the millisecond live.
fn pause_text(pause: Duration, style: &Render) -> String {
    if style.redact {
        format!("⏱ {} s later", pause.as_secs_f64().round())
    } else {
        format!("⏱ {:.3} s later", pause.as_secs_f64())
    }
}

#[derive(Default)]
struct Inner {
    connections: Vec<Connection>,
}

impl Inner {
    fn connection(&mut self, side: Side, id: usize) -> &mut Connection {
        let index = match self.connections.iter().position(|c| c.side == side && c.id == id) {
            Some(index) => index,
            None => {
                self.connections.push(Connection { side, id, entries: Vec::new(), over: false });
                self.connections.len() - 1
            }
        };
        &mut self.connections[index]
    }
}

/// Everything both Taps recorded, and the exchange's notes. Cloning shares it.
#[derive(Clone)]
pub struct Log {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<watch::Sender<()>>,
    live: bool,
}

impl Log {
    /// An empty log; with `live`, every event is also printed as it is recorded.
    pub fn new(live: bool) -> Log {
        Log { inner: Arc::default(), changed: Arc::new(watch::Sender::new(())), live }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The observer for the Tap on `side`.
    pub fn observer(&self, side: Side) -> impl Fn(usize, &Event) + Send + Sync + 'static {
        let log = self.clone();
        move |id, event| log.record(side, Some(id), event.clone())
    }

    /// Adds a note on `side`, after what its latest connection has recorded so far.
    pub fn note(&self, side: Side, text: impl Into<String>) {
        self.record(side, None, Event::note(text));
    }

    fn record(&self, side: Side, id: Option<usize>, event: Event) {
        let at = Instant::now();
        {
            let mut inner = self.lock();
            let id = id.unwrap_or_else(|| {
                inner.connections.iter().rev().find(|c| c.side == side).map_or(0, |c| c.id)
            });
            let connection = inner.connection(side, id);
            let pause = connection.entries.last().map(|e| at.saturating_duration_since(e.at));
            if matches!(&event.kind, EventKind::Note(text) if text.starts_with("the connection is over")) {
                connection.over = true;
            }
            if self.live {
                // Printed under the lock, so the two Taps' lines come out in the order recorded.
                let style = Render::live();
                let mut text = String::new();
                if let Some(pause) = pause.filter(|p| *p >= SHOWN_PAUSE) {
                    text.push_str(&Event::note(pause_text(pause, &style)).render(&style));
                }
                text.push_str(&event.render(&style));
                let lines: String = text.lines().map(|l| format!("{}{l}\n", side.prefix())).collect();
                tap::out::write(&lines);
            }
            connection.entries.push(Entry { at, event });
        }
        self.changed.send_replace(());
    }

    /// The connections recorded so far, in the order they were first seen.
    pub fn connections(&self) -> Vec<Connection> {
        self.lock().connections.clone()
    }

    /// Waits until `done` holds for the connections recorded so far, for at most [`PATIENCE`];
    /// `what` says what was awaited, for the error.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Connection]) -> bool) -> Result<(), Error> {
        self.wait_at_most(PATIENCE, &done).await.then_some(()).ok_or_else(|| Error::Stuck(what.to_owned()))
    }

    /// Waits until `done` holds, for at most `limit`: whether it came to hold.
    pub async fn wait_at_most(&self, limit: Duration, done: &impl Fn(&[Connection]) -> bool) -> bool {
        let mut changed = self.changed.subscribe();
        let wait = changed.wait_for(|()| done(&self.lock().connections));
        matches!(tokio::time::timeout(limit, wait).await, Ok(Ok(_)))
    }

    /// Waits until every connection seen so far is over, on both sides.
    pub async fn wait_until_over(&self) -> Result<(), Error> {
        self.wait_for("every connection through the proxy to end", |connections| {
            connections.iter().filter(|c| c.id > 0).all(|c| c.over)
        })
        .await
    }
}

/// Names for the ports of the path, so that a transcript says which is which where every other
/// port is only `‹port›`: `127.0.0.1:‹nginx›`.
#[derive(Clone, Debug, Default)]
pub struct PortNames(Vec<(u16, &'static str)>);

impl PortNames {
    /// Names `port` `name`.
    pub fn name(mut self, port: u16, name: &'static str) -> PortNames {
        self.0.push((port, name));
        self
    }

    /// `text` with each named port on loopback replaced by its name.
    pub fn rename_text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (port, name) in &self.0 {
            let address = format!("127.0.0.1:{port}");
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(at) = rest.find(&address) {
                let after = &rest[at + address.len()..];
                out.push_str(&rest[..at]);
                if after.starts_with(|c: char| c.is_ascii_digit()) {
                    out.push_str(&address);
                } else {
                    out.push_str(&format!("127.0.0.1:‹{name}›"));
                }
                rest = after;
            }
            out.push_str(rest);
            text = out;
        }
        text
    }

    /// The event with named ports in its addresses, start line, headers, notes and short bodies.
    /// Frame payloads are left as they are: their bytes are shown in hex, and must stay true.
    pub fn rename(&self, event: &Event) -> Event {
        let mut event = event.clone();
        match &mut event.kind {
            EventKind::Opened { client, server } => {
                *client = self.rename_text(client);
                *server = self.rename_text(server);
            }
            EventKind::Head(head) => {
                if let StartLine::Request { target, .. } = &mut head.start {
                    *target = self.rename_text(target);
                }
                for (_, value) in &mut head.headers {
                    *value = self.rename_text(value);
                }
            }
            EventKind::Note(text) => *text = self.rename_text(text),
            // A body is shown as text with its true size beside it: renamed only when the text
            // is shown whole, so no "… (+N bytes)" is counted from the renamed text.
            EventKind::Body { data, .. } => {
                if let Ok(text) = std::str::from_utf8(data) {
                    let renamed = self.rename_text(text);
                    if renamed.chars().count() <= wire::transcript::PREVIEW {
                        *data = renamed.into_bytes();
                    }
                }
            }
            _ => {}
        }
        event
    }
}

/// The path, running: two Taps around a real nginx, in front of a server that is already
/// listening. See the module docs.
pub struct Stage {
    nginx: Option<Nginx>,
    front: SocketAddr,
    log: Log,
    names: PortNames,
    taps: Vec<JoinHandle<()>>,
}

impl Stage {
    /// Starts Tap 2 in front of `server`, nginx serving `site` in front of Tap 2, and Tap 1 in
    /// front of nginx. With `live`, every event is printed as it happens.
    pub async fn start(site: &Site, server: SocketAddr, live: bool) -> Result<Stage, Error> {
        let log = Log::new(live);
        let back = Tap::bind("127.0.0.1:0", server).await?.observe(log.observer(Side::Back));
        let upstream = back.local_addr();
        let site = site.clone();
        let nginx =
            tokio::task::spawn_blocking(move || Nginx::start(|listen| site.nginx_conf(listen, upstream)))
                .await
                .map_err(|e| Error::Stuck(format!("starting nginx: {e}")))??;
        let front = Tap::bind("127.0.0.1:0", nginx.addr()).await?.observe(log.observer(Side::Front));
        let names = PortNames::default()
            .name(front.local_addr().port(), "tap1")
            .name(nginx.addr().port(), "nginx")
            .name(upstream.port(), "tap2")
            .name(server.port(), "server");
        let front_addr = front.local_addr();
        let taps = vec![
            tokio::spawn(async move {
                let _ = front.run().await;
            }),
            tokio::spawn(async move {
                let _ = back.run().await;
            }),
        ];
        Ok(Stage { nginx: Some(nginx), front: front_addr, log, names, taps })
    }

    /// Where a client connects: Tap 1, in front of nginx.
    pub fn addr(&self) -> SocketAddr {
        self.front
    }

    /// A TCP connection to [`Stage::addr`], with Nagle off (small writes go at once).
    pub async fn connect(&self) -> Result<TcpStream, Error> {
        let stream = TcpStream::connect(self.front).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// The log both Taps record into.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The names of the path's ports.
    pub fn names(&self) -> &PortNames {
        &self.names
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        self.nginx.as_ref().map(Nginx::error_log).unwrap_or_default()
    }

    /// Waits until every connection is over and `server` has finished with them, stops nginx
    /// and the Taps, and returns what was recorded, with what the client and the server said they
    /// saw.
    pub async fn finish(self, client: Vec<String>, server: &Upstream) -> Result<Recording, Error> {
        self.log.wait_until_over().await?;
        let server = server.seen_when_done().await?;
        self.finish_with(client, server).await
    }

    /// [`Stage::finish`] for any server: `server` is what it saw.
    pub async fn finish_with(mut self, client: Vec<String>, server: Vec<String>) -> Result<Recording, Error> {
        self.log.wait_until_over().await?;
        let error_log = self.error_log();
        if let Some(nginx) = self.nginx.take() {
            let _ = tokio::task::spawn_blocking(move || nginx.stop()).await;
        }
        let nginx = error_log_lines(&error_log).iter().map(|l| self.names.rename_text(l)).collect();
        Ok(Recording {
            connections: self.log.connections(),
            names: self.names.clone(),
            client,
            server,
            nginx,
        })
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        for tap in &self.taps {
            tap.abort();
        }
    }
}

/// The lines of nginx's error log that say something about the connections, without the
/// parts that change from run to run (date, process and connection numbers): `[info] upstream
/// timed out (110: Connection timed out) while proxying upgraded connection`. Start-up notices
/// and the many routine `info` lines are left out.
pub fn error_log_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            let (level, rest) = line.split_once(" [")?.1.split_once("] ")?;
            let serious = matches!(level, "warn" | "error" | "crit" | "alert" | "emerg");
            let timed_out = level == "info" && rest.contains("timed out");
            if !(serious || timed_out) {
                return None;
            }
            // `123#123: *5 message, client: …`: the message alone.
            let message = rest.split_once(": ").map_or(rest, |(_, m)| m);
            let message =
                message.split_once(' ').filter(|(n, _)| n.starts_with('*')).map_or(message, |(_, m)| m);
            let message = message.split(", client: ").next().unwrap_or(message);
            Some(format!("[{level}] {message}"))
        })
        .collect()
}

/// One exchange through the proxy, recorded.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every TCP connection both Taps saw, in the order they were first seen.
    pub connections: Vec<Connection>,
    /// The names of the path's ports.
    pub names: PortNames,
    /// What the client's program saw, line by line.
    pub client: Vec<String>,
    /// What the server's program saw.
    pub server: Vec<String>,
    /// What nginx wrote in its error log ([`error_log_lines`]).
    pub nginx: Vec<String>,
}

impl Recording {
    /// The connections of `side`, in order.
    pub fn side(&self, side: Side) -> impl Iterator<Item = &Connection> {
        self.connections.iter().filter(move |c| c.side == side)
    }

    /// Shows the two closes that end each of `side`'s connections in one order, the server's
    /// first, with a note that says why. For an answer of known length, such as a refused
    /// upgrade, the server closes once it has written it and nginx once it has read it: neither
    /// waits for the other, so the two closes cross, and which one the Tap records first changes
    /// from run to run. (Where one close answers the other, their order is left as recorded.)
    pub fn closes_cross(&mut self, side: Side) {
        for connection in self.connections.iter_mut().filter(|c| c.side == side) {
            let closes: Vec<usize> = connection
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.event.kind, EventKind::Closed(_)))
                .map(|(i, _)| i)
                .collect();
            let [first, second] = closes[..] else { continue };
            if second != first + 1 {
                continue;
            }
            if connection.entries[first].event.dir == Some(Direction::ClientToServer) {
                let (a, b) = connection.entries.split_at_mut(second);
                std::mem::swap(&mut a[first].event, &mut b[0].event);
            }
            let at = connection.entries[second].at;
            let note =
                Event::note("(these two closes cross: each side closes as soon as the answer is complete)");
            connection.entries.insert(second + 1, Entry { at, event: note });
        }
    }

    /// The text of `side`'s connections.
    pub fn side_text(&self, side: Side, style: &Render) -> String {
        self.side(side).map(|c| c.render(style, &self.names)).collect::<Vec<_>>().join("\n")
    }

    /// The whole recording: the client's side of nginx, then the server's, then what each
    /// program saw.
    pub fn render(&self, style: &Render) -> String {
        let mut out = String::new();
        for side in [Side::Front, Side::Back] {
            out.push_str(&format!("━━ {}\n", side.title()));
            out.push_str(&self.side_text(side, style));
            out.push('\n');
        }
        out.push_str("What each side saw:\n");
        for (who, lines) in
            [("client", &self.client), ("server", &self.server), ("nginx's error log", &self.nginx)]
        {
            for line in lines {
                let line = self.names.rename_text(line);
                let line = if style.redact { wire::transcript::redact_ports(&line) } else { line };
                out.push_str(&format!("  {who}: {line}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_ports_are_replaced_and_longer_numbers_left_alone() {
        let names = PortNames::default().name(8080, "nginx").name(3000, "server");
        assert_eq!(
            names.rename_text("http://127.0.0.1:8080/ 127.0.0.1:80801 127.0.0.1:3000, 127.0.0.1:4000"),
            "http://127.0.0.1:‹nginx›/ 127.0.0.1:80801 127.0.0.1:‹server›, 127.0.0.1:4000"
        );
    }

    #[test]
    fn nginx_log_lines_keep_the_message_alone() {
        let log = "2026/12/02 13:40:01 [notice] 7#7: using inherited sockets from \"3;\"\n\
                   2026/12/02 13:40:03 [info] 8#8: *1 upstream timed out (110: Connection timed out) while proxying upgraded connection, client: 127.0.0.1, server: , request: \"GET / HTTP/1.1\"\n\
                   2026/12/02 13:40:03 [info] 8#8: *2 client 127.0.0.1 closed keepalive connection\n\
                   2026/12/02 13:40:04 [error] 8#8: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1\n";
        assert_eq!(
            error_log_lines(log),
            [
                "[info] upstream timed out (110: Connection timed out) while proxying upgraded connection",
                "[error] connect() failed (111: Connection refused) while connecting to upstream",
            ]
        );
    }
}
