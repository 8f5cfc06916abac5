//! The fan-out's load client: one publisher and N subscribers in one room, on raw TCP with the
//! few bytes of WebSocket they need, so that the client spends as little as it can per delivery
//! and the server under test is what runs out first.
//!
//! Every message is a 32-byte text frame whose payload is two 16-digit hex numbers: its sequence
//! number and the time the publisher wrote it (nanoseconds since the client started). A
//! subscriber reads the time back out of each message it gets, so the latency of every delivery
//! is measured on one clock, this process's, whatever server carried it.
//!
//! The load is a *window*: the publisher keeps [`Plan::window`] messages in flight, and sends the
//! next one only when the oldest has reached every subscriber. So the server always has work
//! queued, and no subscriber is ever more than a window behind, which keeps every member's queue
//! in the chat room far from its limit (`chat::room::QUEUE`, 256): a member cut for being slow
//! would measure the cut, not the fan-out.
//!
//! ```text
//!  publisher ──m41 m42 … m48──▶ server ──▶ subscriber 1 … N   (8 in flight)
//!       ▲                                        │
//!       └──── m41 has reached all N: send m49 ◀──┘
//! ```
//!
//! The subscribers are tasks on one thread (a `LocalSet`), sharing plain cells: nothing here
//! needs a lock.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The payload of every message, in bytes: two 16-digit hex numbers.
pub const PAYLOAD: usize = 32;

/// How many message slots the delivery counts cycle through; larger than any window, so a slot is
/// never reused while its message is in flight.
pub const RING: usize = 1024;

/// Each subscriber's read buffer: a few hundred frames of 34 bytes.
pub const READ_BUFFER: usize = 8 * 1024;

/// How many handshakes are in flight at once while connecting (a listen backlog holds 511 in
/// Node, 1,024 in tokio; more SYNs at once would be dropped and retried a second later).
pub const CONNECT_CONCURRENCY: usize = 64;

/// The receive buffer the deaf subscriber asks the kernel for (Linux doubles it and keeps a
/// floor): a client that stops reading fills it after a few dozen messages.
pub const DEAF_RECEIVE_BUFFER: u32 = 4096;

/// How long the deaf subscriber, made to read at last, waits for more before it says the
/// connection is still open.
pub const DEAF_QUIET: Duration = Duration::from_millis(500);

/// The longest the deaf subscriber reads at the end, whatever arrives.
pub const DEAF_DRAIN: Duration = Duration::from_secs(5);

/// The fixed key of every handshake (RFC 6455 §4.1: 16 bytes, base64). A load client may reuse
/// it; a browser never would.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The fixed mask of the publisher's frames (§5.3): a real client picks a fresh one per frame.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What went wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server did not switch protocols.
    #[error("the handshake was refused: {0}")]
    Refused(String),
    /// The URL is not `ws://HOST:PORT/PATH`.
    #[error("not a ws:// URL with an IP address: {0}")]
    Url(String),
    /// A frame the client cannot read.
    #[error("a frame the client cannot read: {0}")]
    Frame(String),
}

/// What one load does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Messages in flight.
    pub window: usize,
    /// Time before measuring.
    pub warmup: Duration,
    /// Time measured.
    pub measure: Duration,
    /// Whether each server greets a new member with a first frame (the chat room does), which the
    /// client waits for: after it, the member is in the room.
    pub welcome: bool,
    /// Whether a deaf subscriber joins when the measured window starts.
    pub deaf: bool,
}

/// Where one connection goes: a server's address and the room's path.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The server's address.
    pub addr: SocketAddr,
    /// The request target, `/ws/chat/ROOM`.
    pub path: String,
}

impl Endpoint {
    /// The endpoint of `ws://HOST:PORT/PATH`.
    pub fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let bad = || ClientError::Url(url.to_owned());
        let rest = url.strip_prefix("ws://").ok_or_else(bad)?;
        let (authority, path) = rest.split_once('/').ok_or_else(bad)?;
        Ok(Endpoint { addr: authority.parse().map_err(|_| bad())?, path: format!("/{path}") })
    }
}

/// What the deaf subscriber saw when it read at last.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeafEnd {
    /// Messages it had been sent.
    pub messages: u64,
    /// When the last of them was published, in ms after the deaf subscriber joined.
    pub last_published_ms: Option<f64>,
    /// How its connection ended: `close 1013: too slow…`, `closed without a close frame`, or
    /// `still open`.
    pub ended: String,
}

/// What one load measured.
#[derive(Debug)]
pub struct Measured {
    /// Deliveries to the N subscribers inside the window.
    pub deliveries: u64,
    /// Publish-to-delivery times of those deliveries, nanoseconds, sorted.
    pub latencies_ns: Vec<u32>,
    /// Subscribers (the deaf one aside) whose connection ended during the load, with why.
    pub lost: Vec<String>,
    /// The deaf subscriber's story, if there was one.
    pub deaf: Option<DeafEnd>,
    /// When the window started and ended.
    pub window: (Instant, Instant),
}

/// What the tasks share. One thread, so cells.
struct Shared {
    /// The client's clock starts here.
    epoch: Instant,
    /// The subscribers whose deliveries count (all but the deaf one).
    subscribers: u32,
    /// Per message slot: how many subscribers have it.
    counts: Vec<Cell<u32>>,
    /// Messages that have reached every subscriber: they are 0..done.
    done: Cell<u64>,
    /// Wakes the publisher when `done` moves (or it must stop).
    progress: Notify,
    /// Inside the measured window.
    recording: Cell<bool>,
    /// Deliveries counted while recording.
    delivered: Cell<u64>,
    /// Their latencies.
    latencies: RefCell<Vec<u32>>,
    /// Subscribers that ended.
    lost: RefCell<Vec<String>>,
    /// The publisher stops.
    stop: Cell<bool>,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A subscriber got message `seq`, published at `sent_ns`, read at `now_ns`.
    fn delivered(&self, seq: u64, sent_ns: u64, now_ns: u64) {
        if self.recording.get() {
            self.delivered.set(self.delivered.get() + 1);
            let ns = u32::try_from(now_ns.saturating_sub(sent_ns)).unwrap_or(u32::MAX);
            self.latencies.borrow_mut().push(ns);
        }
        let slot = &self.counts[(seq % RING as u64) as usize];
        let count = slot.get() + 1;
        if count == self.subscribers {
            // Each subscriber reads in order, so the last one to get `seq` has every message before
            // it too: messages complete in order.
            slot.set(0);
            self.done.set(seq + 1);
            self.progress.notify_one();
        } else {
            slot.set(count);
        }
    }
}

/// A message frame as the publisher sends it: masked text, its payload `SEQ` and `SENT_NS` in hex.
pub fn message_frame(seq: u64, sent_ns: u64, out: &mut Vec<u8>) {
    let payload = format!("{seq:016x}{sent_ns:016x}");
    out.extend_from_slice(&[0x81, 0x80 | PAYLOAD as u8]);
    out.extend_from_slice(&MASK);
    out.extend(payload.bytes().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
}

/// The sequence number and publish time a message payload carries, if it is one of ours.
pub fn read_payload(payload: &[u8]) -> Option<(u64, u64)> {
    if payload.len() != PAYLOAD {
        return None;
    }
    let text = std::str::from_utf8(payload).ok()?;
    Some((u64::from_str_radix(&text[..16], 16).ok()?, u64::from_str_radix(&text[16..], 16).ok()?))
}

/// One frame read from a server: its opcode and its payload's place in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerFrame {
    /// The opcode (1 text, 2 binary, 8 close, …).
    pub opcode: u8,
    /// Where the payload starts in the buffer.
    pub start: usize,
    /// Where the frame ends.
    pub end: usize,
}

/// The frame at the start of `buf`, if all of it is there. Servers never mask (RFC 6455 §5.1).
pub fn next_frame(buf: &[u8]) -> Result<Option<ServerFrame>, ClientError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[1] & 0x80 != 0 {
        return Err(ClientError::Frame("a masked frame from a server".into()));
    }
    let (len, header) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(bytes);
            (usize::try_from(len).map_err(|_| ClientError::Frame(format!("{len} bytes")))?, 10)
        }
        126 | 127 => return Ok(None),
        n => (usize::from(n), 2),
    };
    if len > READ_BUFFER - 10 {
        return Err(ClientError::Frame(format!("a frame of {len} bytes; this client expects small ones")));
    }
    if buf.len() < header + len {
        return Ok(None);
    }
    Ok(Some(ServerFrame { opcode: buf[0] & 0x0f, start: header, end: header + len }))
}

/// Opens a WebSocket to `endpoint` and returns the stream with whatever arrived after the `101`,
/// after the server's welcome if `welcome`.
async fn connect(
    endpoint: &Endpoint,
    welcome: bool,
    receive_buffer: Option<u32>,
) -> Result<(TcpStream, Vec<u8>), ClientError> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let mut stream = socket.connect(endpoint.addr).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        endpoint.path, endpoint.addr
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 8192 {
            return Err(ClientError::Refused("a response head over 8 KiB".into()));
        }
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ClientError::Refused("the server closed during the handshake".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    if !buf.starts_with(b"HTTP/1.1 101") {
        let line = String::from_utf8_lossy(&buf[..head_end]).lines().next().unwrap_or_default().to_owned();
        return Err(ClientError::Refused(line));
    }
    let mut rest = buf.split_off(head_end);
    if welcome {
        loop {
            if let Some(frame) = next_frame(&rest)? {
                rest.drain(..frame.end);
                break;
            }
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(ClientError::Refused("the server closed before its welcome".into()));
            }
            rest.extend_from_slice(&chunk[..n]);
        }
    }
    Ok((stream, rest))
}

/// Opens one connection per endpoint, [`CONNECT_CONCURRENCY`] at a time.
async fn connect_all(
    endpoints: &[Endpoint],
    welcome: bool,
) -> Result<Vec<(TcpStream, Vec<u8>)>, ClientError> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    stream::iter(endpoints.iter())
        .map(|e| connect(e, welcome, None))
        .buffered(CONNECT_CONCURRENCY)
        .try_collect()
        .await
}

/// What a subscriber does with each message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Counts it (one of the N).
    Counted,
    /// Reads and drops it (the publisher reads its own copies so that its queue never fills).
    Drained,
}

/// Reads frames until the connection ends; returns why it ended.
async fn subscriber(
    mut stream: tokio::net::tcp::OwnedReadHalf,
    mut buf: Vec<u8>,
    shared: Rc<Shared>,
    role: Role,
) -> String {
    let mut filled = buf.len();
    buf.resize(READ_BUFFER, 0);
    loop {
        let mut at = 0;
        let now = shared.now_ns();
        loop {
            match next_frame(&buf[at..filled]) {
                Ok(Some(frame)) => {
                    let payload = &buf[at + frame.start..at + frame.end];
                    match frame.opcode {
                        1 if role == Role::Counted => {
                            if let Some((seq, sent)) = read_payload(payload) {
                                shared.delivered(seq, sent, now);
                            }
                        }
                        8 => return close_text(payload),
                        _ => {}
                    }
                    at += frame.end;
                }
                Ok(None) => break,
                Err(e) => return e.to_string(),
            }
        }
        buf.copy_within(at..filled, 0);
        filled -= at;
        match stream.read(&mut buf[filled..]).await {
            Ok(0) => return "closed without a close frame".to_owned(),
            Ok(n) => filled += n,
            Err(e) => return format!("read failed: {e}"),
        }
    }
}

/// `close 1013: too slow: 256 messages behind`, from a close frame's payload.
fn close_text(payload: &[u8]) -> String {
    match payload {
        [a, b, reason @ ..] => {
            format!("close {}: {}", u16::from_be_bytes([*a, *b]), String::from_utf8_lossy(reason))
        }
        _ => "close without a code".to_owned(),
    }
}

/// Keeps `window` messages in flight until told to stop.
async fn publisher(
    mut stream: tokio::net::tcp::OwnedWriteHalf,
    shared: Rc<Shared>,
    window: u64,
) -> Result<(), std::io::Error> {
    let mut next = 0u64;
    let mut frames = Vec::with_capacity(64 * (PAYLOAD + 6));
    loop {
        if shared.stop.get() {
            return Ok(());
        }
        let allowed = shared.done.get() + window;
        if next < allowed {
            frames.clear();
            while next < allowed {
                message_frame(next, shared.now_ns(), &mut frames);
                next += 1;
            }
            stream.write_all(&frames).await?;
        } else {
            shared.progress.notified().await;
        }
    }
}

/// Connects the subscribers (one per endpoint in `subscribers`) and the publisher, runs the plan,
/// and returns what it measured. The caller reads the servers' CPU time over `Measured::window`
/// from another thread; `on_window` is told the window's edges before it starts.
pub async fn run(
    subscribers: &[Endpoint],
    publisher_at: &Endpoint,
    deaf_at: &Endpoint,
    plan: Plan,
    on_window: impl FnOnce(Instant, Instant),
) -> Result<Measured, ClientError> {
    let local = tokio::task::LocalSet::new();
    local.run_until(load(subscribers, publisher_at, deaf_at, plan, on_window)).await
}

async fn load(
    subscribers: &[Endpoint],
    publisher_at: &Endpoint,
    deaf_at: &Endpoint,
    plan: Plan,
    on_window: impl FnOnce(Instant, Instant),
) -> Result<Measured, ClientError> {
    let streams = connect_all(subscribers, plan.welcome).await?;
    let (publisher_stream, publisher_rest) = connect(publisher_at, plan.welcome, None).await?;
    let shared = Rc::new(Shared {
        epoch: Instant::now(),
        subscribers: u32::try_from(streams.len()).unwrap_or(u32::MAX),
        counts: (0..RING).map(|_| Cell::new(0)).collect(),
        done: Cell::new(0),
        progress: Notify::new(),
        recording: Cell::new(false),
        delivered: Cell::new(0),
        latencies: RefCell::new(Vec::new()),
        lost: RefCell::new(Vec::new()),
        stop: Cell::new(false),
    });
    let mut tasks = Vec::new();
    // The write halves stay here: a subscriber never writes, and dropping a half would shut it.
    let mut writers = Vec::new();
    for (stream, rest) in streams {
        let (read, write) = stream.into_split();
        writers.push(write);
        let shared = shared.clone();
        tasks.push(tokio::task::spawn_local(async move {
            let why = subscriber(read, rest, shared.clone(), Role::Counted).await;
            shared.lost.borrow_mut().push(why);
        }));
    }
    let (read, write) = publisher_stream.into_split();
    let drained = shared.clone();
    tasks.push(tokio::task::spawn_local(async move {
        // The publisher's own copies are read and dropped; its connection ending is no loss of a
        // subscriber, and the publisher's write fails soon enough if it matters.
        let _ = subscriber(read, publisher_rest, drained, Role::Drained).await;
    }));
    let publishing = tokio::task::spawn_local(publisher(write, shared.clone(), plan.window as u64));

    let start = Instant::now() + plan.warmup;
    let end = start + plan.measure;
    on_window(start, end);
    tokio::time::sleep_until(start.into()).await;
    // The deaf subscriber joins as the window opens: the window sees it fall behind and what the
    // server then does, not only the room after it is gone.
    let deaf = if plan.deaf {
        let joined = Instant::now();
        let (stream, rest) = connect(deaf_at, plan.welcome, Some(DEAF_RECEIVE_BUFFER)).await?;
        Some((stream, rest, joined))
    } else {
        None
    };
    shared.recording.set(true);
    let delivered_before = shared.delivered.get();
    tokio::time::sleep_until(end.into()).await;
    shared.recording.set(false);
    let deliveries = shared.delivered.get() - delivered_before;
    shared.stop.set(true);
    shared.progress.notify_one();
    let deaf = match deaf {
        Some((stream, rest, joined)) => Some(
            drain_deaf(stream, rest, u64::try_from((joined - shared.epoch).as_nanos()).unwrap_or(0)).await,
        ),
        None => None,
    };
    let publisher_failed = match publishing.await {
        Ok(Err(e)) => Some(format!("the publisher failed: {e}")),
        _ => None,
    };
    let mut latencies_ns = std::mem::take(&mut *shared.latencies.borrow_mut());
    latencies_ns.sort_unstable();
    let mut lost = std::mem::take(&mut *shared.lost.borrow_mut());
    lost.extend(publisher_failed);
    for task in tasks {
        task.abort();
    }
    drop(writers);
    Ok(Measured { deliveries, latencies_ns, lost, deaf, window: (start, end) })
}

/// Reads what the deaf subscriber was sent, until the connection ends or stays quiet for
/// [`DEAF_QUIET`].
async fn drain_deaf(mut stream: TcpStream, mut buf: Vec<u8>, joined_ns: u64) -> DeafEnd {
    let mut end = DeafEnd::default();
    let mut last_sent = None;
    let deadline = Instant::now() + DEAF_DRAIN;
    let mut chunk = vec![0u8; READ_BUFFER];
    loop {
        while let Ok(Some(frame)) = next_frame(&buf) {
            let payload = &buf[frame.start..frame.end];
            match frame.opcode {
                1 => {
                    if let Some((_, sent)) = read_payload(payload) {
                        end.messages += 1;
                        last_sent = Some(sent);
                    }
                }
                8 => end.ended = close_text(payload),
                _ => {}
            }
            buf.drain(..frame.end);
        }
        if !end.ended.is_empty() {
            break;
        }
        let wait = DEAF_QUIET.min(deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(wait, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                end.ended = "closed without a close frame".to_owned();
                break;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                end.ended = format!("closed: {e}");
                break;
            }
            Err(_) => {
                end.ended = "still open".to_owned();
                break;
            }
        }
    }
    end.last_published_ms = last_sent.map(|sent| sent.saturating_sub(joined_ns) as f64 / 1e6);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_carries_its_number_and_time_in_32_bytes() {
        let mut frame = Vec::new();
        message_frame(41, 1_234_567, &mut frame);
        assert_eq!(frame.len(), 2 + 4 + PAYLOAD, "a masked frame: 2 header bytes, the mask, the payload");
        assert_eq!(frame[..2], [0x81, 0x80 | 32]);
        let payload: Vec<u8> = frame[6..].iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]).collect();
        assert_eq!(read_payload(&payload), Some((41, 1_234_567)));
    }

    #[test]
    fn a_server_frame_is_read_only_once_it_is_whole() {
        let mut frame = vec![0x81, 32];
        frame.extend_from_slice(&[b'0'; 32]);
        assert_eq!(next_frame(&frame[..20]).unwrap(), None);
        assert_eq!(next_frame(&frame).unwrap(), Some(ServerFrame { opcode: 1, start: 2, end: 34 }));
        assert!(next_frame(&[0x81, 0x85, 0, 0, 0, 0]).is_err(), "servers never mask");
    }

    #[test]
    fn a_close_frame_says_its_code_and_reason() {
        assert_eq!(close_text(&[0x03, 0xf5, b'h', b'i']), "close 1013: hi");
    }

    #[test]
    fn a_ws_url_gives_an_address_and_a_path() {
        let endpoint = Endpoint::parse("ws://127.0.0.1:4000/ws/chat/bench").unwrap();
        assert_eq!(endpoint.addr.port(), 4000);
        assert_eq!(endpoint.path, "/ws/chat/bench");
        assert!(Endpoint::parse("http://x/").is_err());
    }
}
