//! The Tap: a recording proxy that shows every byte between a client and a server.
//!
//! Put it in front of any server, point any client at it, and it passes bytes through unchanged
//! in both directions while a [`ConnectionDecoder`] turns them into transcript events. It prints
//! them as they happen (for a class watching a demo) and hands back the [`Transcript`] when the
//! connection ends (for a test to snapshot).
//!
//! ```text
//!  client ──TCP──▶ Tap ──TCP──▶ server
//!                   │
//!                   └─▶ events: C→S GET /ws/echo …, S→C HTTP/1.1 101 …, C→S frame …
//! ```
//!
//! Each direction is pumped by its own task, so a side that stops reading never stalls the
//! other. An event is recorded *before* its bytes are passed on: whatever the other side sends in
//! answer is therefore always recorded after it, and transcripts of a request–response exchange
//! come out in the same order on every run.
//!
//! Two kinds of Tap share all of this:
//! - [`Tap`] listens on a TCP port and connects on to a TCP server: for demos and for anything
//!   a student points at it.
//! - [`MemoryTap`] relays between any two streams the caller already has (`AsyncRead +
//!   AsyncWrite`), typically the ends of [`tokio::io::duplex`] pipes. Nothing touches the
//!   operating system, so a test can pause tokio's clock and every timer fires at an exact
//!   virtual instant: this is how heartbeat and timeout transcripts are made deterministic.
//!
//! Each connection has a [`TapControl`] with two switches that break it on purpose: a
//! *blackhole* (stop passing bytes on, close nothing: a half-open connection) and a *cut* (hang
//! up on both sides at once, with no WebSocket close frame). [`Tap::blackhole_after`] throws the
//! first switch on every connection some time after it opened, for a Tap run from the command
//! line (`duplex tap --blackhole-after SECONDS`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use guard::accept::Acceptor;
use wire::decode::{ConnectionDecoder, Mode};
use wire::marks;
use wire::transcript::{Closure, Direction, Event, EventKind, Render, Transcript};

/// How many bytes the Tap reads at a time in each direction.
pub const READ_CHUNK: usize = 16 * 1024;

/// A function told about each event as it is recorded: the connection's number and the event.
pub type Observer = Arc<dyn Fn(usize, &Event) + Send + Sync>;

/// How a Tap records, shared by [`Tap`] and [`MemoryTap`].
#[derive(Clone)]
struct Settings {
    mode: Mode,
    observer: Option<Observer>,
    clock: bool,
    /// Where the clock counts from; `None`: from each connection's start.
    epoch: Option<Instant>,
    /// Turn each connection into a blackhole this long after it opened.
    blackhole_after: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { mode: Mode::Auto, observer: None, clock: false, epoch: None, blackhole_after: None }
    }
}

impl Settings {
    fn print_live(&mut self, style: Render, label: bool) {
        self.observer = Some(Arc::new(move |id, event: &Event| {
            let text = event.render(&style);
            let mut out = String::new();
            for line in text.lines() {
                if label {
                    out.push_str(&format!("#{id:<3}"));
                }
                out.push_str(line);
                out.push('\n');
            }
            // Not `print!`: it panics when stdout is gone (`just ws-echo | head`). A reader that
            // stopped reading must not stop the relay; the transcript is still recorded.
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(out.as_bytes());
        }));
    }
}

/// A recording TCP proxy. See the module docs.
pub struct Tap {
    listener: Acceptor,
    upstream: SocketAddr,
    settings: Settings,
    next_id: AtomicUsize,
    /// Where [`Tap::run`] draws each connection when it ends (see [`crate::picture`]).
    pictures: Option<PathBuf>,
}

impl Tap {
    /// Listens on `listen` (use port 0 for any free port) and forwards to `upstream`.
    pub async fn bind(listen: impl ToSocketAddrs, upstream: SocketAddr) -> std::io::Result<Tap> {
        Ok(Tap {
            listener: Acceptor::new(TcpListener::bind(listen).await?),
            upstream,
            settings: Settings::default(),
            next_id: AtomicUsize::new(1),
            pictures: None,
        })
    }

    /// Decodes connections as `mode` instead of working it out.
    pub fn mode(mut self, mode: Mode) -> Tap {
        self.settings.mode = mode;
        self
    }

    /// Calls `observer` with each event as it is recorded.
    pub fn observe(mut self, observer: impl Fn(usize, &Event) + Send + Sync + 'static) -> Tap {
        self.settings.observer = Some(Arc::new(observer));
        self
    }

    /// Prints each event to standard output as it happens. With `label` set, every line starts
    /// with the connection's number (`#2`), for a Tap that serves several at once.
    pub fn print_live(mut self, style: Render, label: bool) -> Tap {
        self.settings.print_live(style, label);
        self
    }

    /// With `on`, notes the time since the connection opened whenever it has moved on (to the
    /// millisecond) before the next event: for exchanges where *when* is the lesson, such as
    /// heartbeats and timeouts.
    pub fn clock(mut self, on: bool) -> Tap {
        self.settings.clock = on;
        self
    }

    /// Makes every connection a blackhole ([`TapControl::set_blackhole`]) `after` this long from
    /// its start: a path that dies under a live connection, for watching who notices.
    pub fn blackhole_after(mut self, after: Duration) -> Tap {
        self.settings.blackhole_after = Some(after);
        self
    }

    /// Makes [`Tap::run`] draw each connection, when it ends, as a sequence diagram in an SVG
    /// file: connection N in `base` with `-N` before its extension ([`crate::picture`]).
    pub fn draw_to(mut self, base: impl Into<PathBuf>) -> Tap {
        self.pictures = Some(base.into());
        self
    }

    /// The address clients should connect to.
    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address; fall back to the upstream's for the type's sake.
        self.listener.local_addr().unwrap_or(self.upstream)
    }

    /// The server the Tap forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Accepts one client, connects to the upstream server, and starts relaying. Out of file
    /// descriptors, it pauses and tries again (`guard::accept`) rather than fail.
    pub async fn accept(&self) -> std::io::Result<TapConnection> {
        let (client, _) = self.listener.accept().await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let control = Arc::new(TapControl::default());
        let recorder = Recorder::new(id, &self.settings);
        let relay = relay_tcp(client, self.upstream, recorder.clone(), control.clone());
        let task =
            tokio::spawn(blackhole_later(self.settings.blackhole_after, relay, recorder, control.clone()));
        Ok(TapConnection { id, task, control })
    }

    /// Accepts and relays connections until the listener fails. With [`Tap::draw_to`], each
    /// connection is drawn when it ends, and the observer is told where (a note after the
    /// connection's last event, which is not part of its transcript).
    pub async fn run(self) -> std::io::Result<()> {
        loop {
            let connection = self.accept().await?;
            let Some(base) = self.pictures.clone() else {
                // Each connection reports through the observer; nobody waits for its transcript.
                drop(connection);
                continue;
            };
            let observer = self.settings.observer.clone();
            tokio::spawn(async move {
                let id = connection.id;
                let transcript = connection.transcript().await;
                let said = match crate::picture::write(&base, id, &transcript).await {
                    Ok(path) => format!("the picture of connection {id} is in {}", path.display()),
                    Err(e) => {
                        let path = crate::picture::path_for(&base, id);
                        format!("could not write the picture of connection {id} to {}: {e}", path.display())
                    }
                };
                if let Some(observer) = observer {
                    observer(id, &Event::note(said));
                }
            });
        }
    }
}

/// How many bytes each in-memory pipe of [`MemoryTap::pipe`] holds before a writer waits: like
/// a socket's buffers, it lets a sender run ahead of a slow reader, but not without bound.
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// A Tap between streams the caller already has, such as in-memory pipes. See the module docs.
///
/// ```text
///  client ══pipe══▶ MemoryTap ══pipe══▶ server      (tokio::io::duplex, no sockets)
/// ```
#[derive(Clone, Default)]
pub struct MemoryTap {
    settings: Settings,
    next_id: Arc<AtomicUsize>,
}

impl MemoryTap {
    /// A Tap that decodes what it relays as [`Mode::Auto`], silently.
    pub fn new() -> MemoryTap {
        MemoryTap { settings: Settings::default(), next_id: Arc::new(AtomicUsize::new(1)) }
    }

    /// Decodes connections as `mode` instead of working it out.
    pub fn mode(mut self, mode: Mode) -> MemoryTap {
        self.settings.mode = mode;
        self
    }

    /// Calls `observer` with each event as it is recorded.
    pub fn observe(mut self, observer: impl Fn(usize, &Event) + Send + Sync + 'static) -> MemoryTap {
        self.settings.observer = Some(Arc::new(observer));
        self
    }

    /// Prints each event to standard output as it happens; see [`Tap::print_live`].
    pub fn print_live(mut self, style: Render, label: bool) -> MemoryTap {
        self.settings.print_live(style, label);
        self
    }

    /// Notes the time as it moves on; see [`Tap::clock`].
    pub fn clock(mut self, on: bool) -> MemoryTap {
        self.settings.clock = on;
        self
    }

    /// Notes the time as it moves on, counted from `epoch` rather than from each connection's
    /// start: for several connections in one story, such as a reconnect.
    pub fn clock_from(mut self, epoch: Instant) -> MemoryTap {
        self.settings.clock = true;
        self.settings.epoch = Some(epoch);
        self
    }

    /// Makes every connection a blackhole `after` this long from its start; see
    /// [`Tap::blackhole_after`].
    pub fn blackhole_after(mut self, after: Duration) -> MemoryTap {
        self.settings.blackhole_after = Some(after);
        self
    }

    /// Starts relaying between `client` (the Tap's end of the client's stream) and `server` (the
    /// Tap's end of the server's stream).
    pub fn relay<C, S>(&self, client: C, server: S) -> TapConnection
    where
        C: AsyncRead + AsyncWrite + Send + 'static,
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let control = Arc::new(TapControl::default());
        let recorder = Recorder::new(id, &self.settings);
        let relay = relay_streams(client, server, recorder.clone(), control.clone());
        let task =
            tokio::spawn(blackhole_later(self.settings.blackhole_after, relay, recorder, control.clone()));
        TapConnection { id, task, control }
    }

    /// Two in-memory pipes with the Tap between them: returns the client's end, the server's
    /// end, and the connection. What the client writes to its end, the server reads from its
    /// end, and back; dropping an end reads as end-of-stream on the other, as closing a TCP
    /// connection (FIN) would. After [`TapControl::cut`], both ends fail with
    /// `ConnectionReset`, even with bytes still unread: as a TCP reset (RST) throws away a
    /// socket's receive buffer.
    pub fn pipe(&self) -> (PipeEnd, PipeEnd, TapConnection) {
        let (client_end, tap_client_side) = tokio::io::duplex(PIPE_CAPACITY);
        let (tap_server_side, server_end) = tokio::io::duplex(PIPE_CAPACITY);
        let connection = self.relay(tap_client_side, tap_server_side);
        let cut = connection.control.cut.subscribe();
        let end = |inner| PipeEnd { inner, cut: cut.clone() };
        (end(client_end), end(server_end), connection)
    }
}

/// One end of a [`MemoryTap::pipe`]: an in-memory stream that a cut resets.
#[derive(Debug)]
pub struct PipeEnd {
    inner: DuplexStream,
    cut: watch::Receiver<bool>,
}

impl PipeEnd {
    fn reset(&self) -> Option<std::io::Error> {
        let cut = *self.cut.borrow();
        cut.then(|| std::io::Error::new(std::io::ErrorKind::ConnectionReset, "the Tap cut the connection"))
    }
}

// A cut drops the Tap's ends of both pipes, which wakes any read or write waiting here; the next
// poll then sees the cut and fails.
impl AsyncRead for PipeEnd {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if let Some(e) = self.reset() {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PipeEnd {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if let Some(e) = self.reset() {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Switches that change what the Tap does to one live connection.
#[derive(Debug)]
pub struct TapControl {
    blackhole: AtomicBool,
    cut: watch::Sender<bool>,
    cut_noted: AtomicBool,
}

impl Default for TapControl {
    fn default() -> Self {
        TapControl {
            blackhole: AtomicBool::new(false),
            cut: watch::Sender::new(false),
            cut_noted: AtomicBool::new(false),
        }
    }
}

impl TapControl {
    /// Stop (or resume) passing bytes on in both directions, without closing anything: both
    /// peers still believe the connection is open, as after a pulled cable or a NAT that forgot
    /// the mapping. What is sent meanwhile is still recorded, and marked as lost.
    pub fn set_blackhole(&self, on: bool) {
        self.blackhole.store(on, Ordering::SeqCst);
    }

    /// Whether the connection is blackholed.
    pub fn blackholed(&self) -> bool {
        self.blackhole.load(Ordering::SeqCst)
    }

    /// Hang up on both sides now: bytes in flight are dropped, and each side's stream ends with
    /// no WebSocket close frame (for TCP, a FIN from the Tap). This is a connection that breaks
    /// the way real ones do: a proxy restarting, a Wi-Fi network changing.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Whether the connection has been cut.
    pub fn is_cut(&self) -> bool {
        *self.cut.borrow()
    }
}

/// One relayed connection.
pub struct TapConnection {
    /// The connection's number, from 1.
    pub id: usize,
    task: JoinHandle<Transcript>,
    control: Arc<TapControl>,
}

impl TapConnection {
    /// The switches for this connection.
    pub fn control(&self) -> Arc<TapControl> {
        self.control.clone()
    }

    /// Waits until both directions have ended and returns what was recorded.
    pub async fn transcript(self) -> Transcript {
        match self.task.await {
            Ok(transcript) => transcript,
            Err(e) => {
                let mut transcript = Transcript::new();
                transcript.push(Event::note(format!("the Tap's relay task failed: {e}")));
                transcript
            }
        }
    }
}

/// The decoder and the transcript, shared by the two pumps of a connection.
struct Recorder {
    id: usize,
    inner: Mutex<Recording>,
    observer: Option<Observer>,
}

struct Recording {
    decoder: ConnectionDecoder,
    transcript: Transcript,
    /// With the clock on: when the connection opened, and the last time noted, in milliseconds.
    clock: Option<(Instant, Option<u128>)>,
}

impl Recorder {
    fn new(id: usize, settings: &Settings) -> Arc<Recorder> {
        let clock = settings.clock.then(|| (settings.epoch.unwrap_or_else(Instant::now), None));
        Arc::new(Recorder {
            id,
            inner: Mutex::new(Recording {
                decoder: ConnectionDecoder::new(settings.mode),
                transcript: Transcript::new(),
                clock,
            }),
            observer: settings.observer.clone(),
        })
    }

    fn record(&self, decode: impl FnOnce(&mut ConnectionDecoder) -> Vec<Event>) {
        // A panic while holding the lock would poison it; the data is still consistent enough to
        // show, so carry on with it.
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let recording = &mut *guard;
        let mut events = decode(&mut recording.decoder);
        if events.is_empty() {
            return;
        }
        // The time is read under the lock, so the notes are in order even though two pumps record.
        if let Some((start, last)) = &mut recording.clock {
            let now = start.elapsed().as_millis();
            if *last != Some(now) {
                *last = Some(now);
                events.insert(0, Event::note(marks::clock(u64::try_from(now).unwrap_or(u64::MAX))));
            }
        }
        for event in events {
            if let Some(observer) = &self.observer {
                observer(self.id, &event);
            }
            recording.transcript.push(event);
        }
    }

    fn push(&self, event: Event) {
        self.record(|_| vec![event]);
    }

    fn take(&self) -> Transcript {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut guard.transcript)
    }
}

/// Runs `relay` and, if `after` is set, switches the blackhole on that long after the start. The
/// timer lives only as long as the connection does.
async fn blackhole_later(
    after: Option<Duration>,
    relay: impl std::future::Future<Output = Transcript>,
    recorder: Arc<Recorder>,
    control: Arc<TapControl>,
) -> Transcript {
    let Some(after) = after else {
        return relay.await;
    };
    let mut relay = std::pin::pin!(relay);
    tokio::select! {
        transcript = &mut relay => return transcript,
        () = tokio::time::sleep(after) => {}
    }
    control.set_blackhole(true);
    recorder.push(Event::note(marks::blackhole(&format!(
        "{} in, the Tap becomes a blackhole: it passes nothing more on, and closes nothing",
        marks::clock_text(u64::try_from(after.as_millis()).unwrap_or(u64::MAX))
    ))));
    relay.await
}

async fn relay_tcp(
    client: TcpStream,
    upstream: SocketAddr,
    recorder: Arc<Recorder>,
    control: Arc<TapControl>,
) -> Transcript {
    let client_addr = client.peer_addr().map_or_else(|e| format!("? ({e})"), |a| a.to_string());
    let server = match TcpStream::connect(upstream).await {
        Ok(server) => server,
        Err(e) => {
            recorder.push(Event::note(format!(
                "the Tap could not connect to the server at {upstream}: {e}; closing the client's connection"
            )));
            return recorder.take();
        }
    };
    // Small writes must not wait for more data (Nagle): the Tap should change no timing.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    recorder.push(Event::new(None, EventKind::Opened { client: client_addr, server: upstream.to_string() }));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    relay_halves((client_read, client_write), (server_read, server_write), recorder, control).await
}

async fn relay_streams<C, S>(
    client: C,
    server: S,
    recorder: Arc<Recorder>,
    control: Arc<TapControl>,
) -> Transcript
where
    C: AsyncRead + AsyncWrite,
    S: AsyncRead + AsyncWrite,
{
    recorder.push(Event::note(
        "connection opened (in memory: a stand-in for TCP that lets a test pause the clock)",
    ));
    relay_halves(tokio::io::split(client), tokio::io::split(server), recorder, control).await
}

async fn relay_halves<CR, CW, SR, SW>(
    (client_read, client_write): (CR, CW),
    (server_read, server_write): (SR, SW),
    recorder: Arc<Recorder>,
    control: Arc<TapControl>,
) -> Transcript
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
{
    let up = pump(Direction::ClientToServer, client_read, server_write, &recorder, &control);
    let down = pump(Direction::ServerToClient, server_read, client_write, &recorder, &control);
    // A blackholed direction hands its writer back, still open, and it is dropped only here when
    // both directions are over: dropping a TCP write half sends FIN, which would tell the other
    // side what the blackhole must hide.
    let ((sent_up, _kept_up), (sent_down, _kept_down)) = tokio::join!(up, down);
    recorder.push(Event::note(format!(
        "the connection is over: the client sent {sent_up} bytes, the server {sent_down}"
    )));
    recorder.take()
}

/// Notes the cut once, whichever pump sees it first.
fn note_cut(recorder: &Recorder, control: &TapControl) {
    if !control.cut_noted.swap(true, Ordering::SeqCst) {
        recorder.push(Event::note(marks::cut(
            "the Tap cut the connection: both sides' streams end here, with no goodbye from either protocol",
        )));
    }
}

/// Copies one direction, recording as it goes. Returns the number of bytes read, and the writer
/// if the end of the stream must not be passed on yet (a blackhole).
async fn pump<R, W>(
    dir: Direction,
    mut from: R,
    mut to: W,
    recorder: &Recorder,
    control: &TapControl,
) -> (usize, Option<W>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; READ_CHUNK];
    let mut total = 0;
    let mut forwarding = true;
    let mut cut = control.cut.subscribe();
    loop {
        let read = tokio::select! {
            // A cut wins over bytes that arrive at the same moment: they are the ones in flight.
            biased;
            _ = cut.wait_for(|cut| *cut) => {
                note_cut(recorder, control);
                // Dropping `to` without shutting it down: the peer's read ends, nothing is passed on.
                return (total, None);
            }
            read = from.read(&mut buf) => read,
        };
        // A read can complete in the same moment as the cut (here it was measured: about once
        // in a hundred cuts, the peer's answer to the other direction's end, a FIN, was read
        // before the cut was seen). After a cut nothing more is recorded or passed on, whatever
        // won the race, so a transcript with a cut reads the same on every run.
        if control.is_cut() {
            note_cut(recorder, control);
            return (total, None);
        }
        match read {
            Ok(0) => {
                recorder.record(|d| d.finish(dir, Closure::Fin));
                if control.blackholed() {
                    recorder.push(Event::new(
                        Some(dir),
                        EventKind::Note(marks::blackhole(&format!(
                            "blackhole: the {} never learns of it",
                            dir.reverse().sender()
                        ))),
                    ));
                }
                break;
            }
            Ok(n) => {
                total += n;
                let bytes = &buf[..n];
                recorder.record(|d| d.feed(dir, bytes));
                if control.blackholed() {
                    recorder.push(Event::new(
                        Some(dir),
                        EventKind::Note(marks::blackhole(&format!(
                            "blackhole: these {n} bytes never reach the {}",
                            dir.reverse().sender()
                        ))),
                    ));
                    continue;
                }
                if forwarding {
                    let written = tokio::select! {
                        biased;
                        _ = cut.wait_for(|cut| *cut) => {
                            note_cut(recorder, control);
                            return (total, None);
                        }
                        written = to.write_all(bytes) => written,
                    };
                    if let Err(e) = written {
                        recorder.push(Event::new(
                            Some(dir),
                            EventKind::Note(marks::undelivered(n, dir.reverse().sender(), &e.to_string())),
                        ));
                        forwarding = false;
                    }
                }
            }
            Err(e) => {
                let how = match e.kind() {
                    std::io::ErrorKind::ConnectionReset => Closure::Reset,
                    _ => Closure::Error(e.to_string()),
                };
                recorder.record(|d| d.finish(dir, how));
                break;
            }
        }
    }
    if control.blackholed() {
        return (total, Some(to));
    }
    // Pass the end on: the other side sees end-of-stream just as it would without the Tap.
    if !control.is_cut() {
        let _ = to.shutdown().await;
    }
    (total, None)
}
#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wire::frame::Frame;

    /// A server that answers one HTTP request and closes.
    async fn one_shot_server(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            stream.write_all(response).await.unwrap();
            stream.shutdown().await.unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn the_tap_relays_and_records_an_http_exchange() {
        let server =
            one_shot_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi").await;
        let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
        let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        drop(client);
        assert!(answer.ends_with(b"\r\n\r\nhi"), "the Tap must pass bytes on unchanged");
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("C→S GET / HTTP/1.1"), "{text}");
        assert!(text.contains("S→C body, 2 bytes: \"hi\""), "{text}");
        assert!(text.contains("S→C the server closed its side of the TCP connection (FIN)"), "{text}");
    }

    /// A server for many connections: `200 hi` to `GET /healthy`, `101` to a WebSocket upgrade,
    /// and for anything else it reads until the client has closed, then closes too. Reading to
    /// the end before closing matters: a socket closed with bytes unread sends a reset (RST).
    async fn forgiving_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    let mut answered = false;
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        seen.extend_from_slice(&buf[..n]);
                        if answered || !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            continue;
                        }
                        if seen.starts_with(b"GET /healthy ") {
                            let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
                            stream.write_all(ok).await.unwrap();
                            break;
                        }
                        if seen.windows(18).any(|w| w == b"Upgrade: websocket") {
                            let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                                           Connection: Upgrade\r\n\r\n";
                            stream.write_all(switch).await.unwrap();
                        }
                        answered = true;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        addr
    }

    /// Connects a client through `tap`, lets `script` talk, and returns the transcript.
    async fn through<F, Fut>(tap: &Tap, script: F) -> String
    where
        F: FnOnce(TcpStream) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        script(client).await;
        connection.transcript().await.render(&Render::snapshot())
    }

    /// Writes `bytes`, closes the sending side and reads until the server has closed.
    async fn say_and_leave(mut client: TcpStream, bytes: &[u8]) -> Vec<u8> {
        client.write_all(bytes).await.unwrap();
        client.shutdown().await.unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn garbage_and_a_client_that_vanishes_mid_frame_are_recorded_and_the_tap_carries_on() {
        let tap = Tap::bind("127.0.0.1:0", forgiving_server().await).await.unwrap();

        // Bytes that are not HTTP at all.
        let text = through(&tap, |c| async move {
            say_and_leave(c, b"\x00\x01\xfe\xffhello").await;
        })
        .await;
        assert!(text.contains("─── the client did not start with HTTP"), "{text}");
        assert!(text.contains("C→S 9 bytes: 00 01 fe ff 68 65 6c 6c 6f (not UTF-8)"), "{text}");
        assert!(text.contains("S→C the server closed its side of the TCP connection (FIN)"), "{text}");

        // A good request head, then junk where the next request should start.
        let text = through(&tap, |c| async move {
            say_and_leave(c, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe junk\r\n\r\n").await;
        })
        .await;
        assert!(text.contains("C→S GET / HTTP/1.1\n    Host: x\n"), "the head is decoded: {text}");
        assert!(
            text.contains("C→S ⚠ 11 bytes the Tap could not decode"),
            "the junk is shown, not fatal: {text}"
        );
        assert!(text.contains("    ff fe 20 6a 75 6e 6b 0d 0a 0d 0a"), "{text}");

        // An upgrade, then a client that vanishes in the middle of its first frame.
        let text = through(&tap, |mut c| async move {
            c.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                .await
                .unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                c.read_exact(&mut byte).await.unwrap();
                head.push(byte[0]);
            }
            let frame = Frame::text("hello").masked([1, 2, 3, 4]).encode();
            c.write_all(&frame[..5]).await.unwrap();
            drop(c);
        })
        .await;
        assert!(text.contains("─── 101 Switching Protocols"), "{text}");
        assert!(text.contains("C→S ⚠ the client stopped in the middle of a WebSocket frame"), "{text}");
        assert!(text.contains("    5 bytes never completed: 81 85 01 02 03"), "{text}");

        // The same Tap still relays a healthy exchange, byte for byte, and records it whole. The
        // client closes only after the server has, so the transcript's order is fixed.
        let mut answer = Vec::new();
        let text = through(&tap, |mut c| {
            let answer = &mut answer;
            async move {
                c.write_all(b"GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
                c.read_to_end(answer).await.unwrap();
            }
        })
        .await;
        assert_eq!(answer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
        assert_eq!(
            text,
            "─── TCP connection opened: client 127.0.0.1:‹port› → server 127.0.0.1:‹port›\n\
             C→S GET /healthy HTTP/1.1\n\
             \x20   Host: x\n\
             \x20   · 34 bytes of head\n\
             S→C HTTP/1.1 200 OK\n\
             \x20   Content-Length: 2\n\
             \x20   Connection: close\n\
             \x20   · 57 bytes of head\n\
             S→C body, 2 bytes: \"hi\"\n\
             S→C the server closed its side of the TCP connection (FIN)\n\
             C→S the client closed its side of the TCP connection (FIN)\n\
             ─── the connection is over: the client sent 34 bytes, the server 59\n",
            "after the garbage, a healthy connection is relayed and recorded in full"
        );
    }

    #[tokio::test]
    async fn a_tap_that_draws_writes_each_connection_as_a_checked_picture_when_it_ends() {
        let dir = std::env::temp_dir().join(format!("duplex-tap-pictures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // What the Tap records, collected beside it, to draw the same figure here.
        let seen = Arc::new(Mutex::new(Transcript::new()));
        let tap = {
            let seen = seen.clone();
            Tap::bind("127.0.0.1:0", forgiving_server().await)
                .await
                .unwrap()
                .observe(move |_, event| seen.lock().unwrap().push(event.clone()))
                .draw_to(dir.join("echo.svg"))
        };
        let addr = tap.local_addr();
        let running = tokio::spawn(tap.run());

        // An upgrade, one masked text frame, then goodbye.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            client.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        client.write_all(&Frame::text("hello").masked([1, 2, 3, 4]).encode()).await.unwrap();
        client.shutdown().await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        drop(client);

        // The picture is written once both sides have closed, and then the observer is told.
        let path = dir.join("echo-1.svg");
        let told = format!("─── the picture of connection 1 is in {}\n", path.display());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = loop {
            let seen = seen.lock().unwrap().clone();
            if seen.events.last().map(|e| e.render(&Render::snapshot())) == Some(told.clone()) {
                break seen;
            }
            assert!(std::time::Instant::now() < deadline, "the Tap did not say it drew the picture");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        running.abort();
        seen.events.pop();
        let svg = std::fs::read_to_string(&path).unwrap();
        for arrow in
            [">GET /ws<", ">101 Switching Protocols<", ">text \"hello\"<", ">masked · 11 B<", ">FIN<"]
        {
            assert!(svg.contains(arrow), "the picture should have {arrow}:\n{svg}");
        }
        let figure = crate::picture::figure(&seen, 1);
        figure.check_layout().unwrap();
        assert_eq!(svg, figure.svg(), "the file is the figure of what the Tap recorded");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_in_the_transcript() {
        // A port nobody listens on, kept that way: a socket bound to it but not listening holds
        // the port (a connection to it is refused) for as long as it lives. A listener bound and
        // dropped would free the port for anyone, another test included, to take before the Tap
        // connects.
        let unused = tokio::net::TcpSocket::new_v4().unwrap();
        unused.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let nobody = unused.local_addr().unwrap();
        let tap = Tap::bind("127.0.0.1:0", nobody).await.unwrap();
        let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let text = connection.transcript().await.render(&Render::snapshot());
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(text.contains("could not connect to the server"), "{text}");
    }

    #[tokio::test]
    async fn a_memory_tap_relays_and_records_like_the_tcp_one() {
        let (mut client, mut server, connection) = MemoryTap::new().pipe();
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut request = [0u8; 27];
        server.read_exact(&mut request).await.unwrap();
        assert_eq!(&request, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bytes pass unchanged");
        server.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi").await.unwrap();
        drop(server);
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        drop(client);
        assert!(answer.ends_with(b"\r\n\r\nhi"));
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.starts_with("─── connection opened (in memory"), "{text}");
        assert!(text.contains("C→S GET / HTTP/1.1"), "{text}");
        assert!(text.contains("S→C body, 2 bytes: \"hi\""), "{text}");
        assert!(text.contains("S→C the server closed its side of the TCP connection (FIN)"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_clock_on_a_paused_runtime_notes_exact_virtual_times() {
        let (mut client, server, connection) = MemoryTap::new().mode(Mode::Raw).clock(true).pipe();
        client.write_all(b"one").await.unwrap();
        // The paused clock jumps straight to the timer: no real time passes, and the gap is exact.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        client.write_all(b"two").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        drop(client);
        drop(server);
        let text = connection.transcript().await.render(&Render::snapshot().without_hex());
        assert_eq!(
            text,
            "─── ⏱ 0.000 s\n\
             ─── connection opened (in memory: a stand-in for TCP that lets a test pause the clock)\n\
             C→S 3 bytes: \"one\"\n\
             ─── ⏱ 1.500 s\n\
             C→S 3 bytes: \"two\"\n\
             ─── ⏱ 1.501 s\n\
             C→S the client closed its side of the TCP connection (FIN)\n\
             S→C the server closed its side of the TCP connection (FIN)\n\
             ─── the connection is over: the client sent 6 bytes, the server 0\n",
            "one time note each time the clock has moved, before the events at that time"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_blackholed_connection_records_what_is_sent_but_delivers_nothing() {
        let (mut client, mut server, connection) = MemoryTap::new().mode(Mode::Raw).pipe();
        let control = connection.control();
        control.set_blackhole(true);
        client.write_all(b"hello?").await.unwrap();
        // The clock is paused and nothing here touches the operating system, so this wait ends
        // only once every task is idle: the Tap has read and dropped the bytes.
        let mut buf = [0u8; 16];
        let nothing = tokio::time::timeout(Duration::from_millis(50), server.read(&mut buf)).await;
        assert!(nothing.is_err(), "a blackholed connection must deliver nothing, and close nothing");
        drop(client);
        drop(server);
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("C→S 6 bytes: \"hello?\""), "{text}");
        assert!(text.contains("⚫ blackhole: these 6 bytes never reach the server"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn blackhole_after_passes_bytes_on_until_its_time_and_none_after() {
        let tap = MemoryTap::new().mode(Mode::Raw).blackhole_after(Duration::from_millis(2500));
        let (mut client, mut server, connection) = tap.pipe();
        client.write_all(b"early").await.unwrap();
        let mut buf = [0u8; 16];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"early", "before its time, the Tap relays as usual");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(connection.control().blackholed(), "2.5 s in, the blackhole is on");
        client.write_all(b"late").await.unwrap();
        server.write_all(b"answer").await.unwrap();
        // Nothing here waits on the operating system, so the paused clock moves only once every
        // task is idle: by then the Tap has read and dropped the bytes.
        let nothing = tokio::time::timeout(Duration::from_secs(60), server.read(&mut buf)).await;
        assert!(nothing.is_err(), "the server must get nothing after the blackhole: {nothing:?}");
        let nothing = tokio::time::timeout(Duration::from_secs(60), client.read(&mut buf)).await;
        assert!(nothing.is_err(), "nor the client: {nothing:?}");
        drop(client);
        drop(server);
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("⚫ 2.500 s in, the Tap becomes a blackhole"), "{text}");
        assert!(
            text.contains("C→S 4 bytes: \"late\"\n    6c 61 74 65\nC→S ⚫ blackhole: these 4 bytes"),
            "{text}"
        );
        assert!(text.contains("S→C ⚫ blackhole: these 6 bytes never reach the client"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn every_mark_the_tap_writes_is_read_back_as_that_mark_by_the_figures() {
        use wire::marks::{self, Mark};
        let tap = MemoryTap::new().mode(Mode::Raw).clock(true).blackhole_after(Duration::from_millis(500));
        let (mut client, mut server, connection) = tap.pipe();
        client.write_all(b"early").await.unwrap();
        let mut buf = [0u8; 16];
        server.read_exact(&mut buf[..5]).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        client.write_all(b"late").await.unwrap();
        let nothing = tokio::time::timeout(Duration::from_secs(5), server.read(&mut buf)).await;
        assert!(nothing.is_err(), "blackholed: {nothing:?}");
        connection.control().cut();
        drop(client);
        drop(server);
        let transcript = connection.transcript().await;
        let read: Vec<Mark> = transcript.events.iter().filter_map(marks::of).collect();
        assert!(read.iter().filter(|m| matches!(m, Mark::Clock(_))).count() >= 2, "{read:?}");
        assert!(read.contains(&Mark::Clock(0)) && read.contains(&Mark::Clock(500)), "{read:?}");
        assert!(read.iter().any(|m| matches!(m, Mark::Blackhole(t) if t.contains("becomes a blackhole"))));
        assert!(read.iter().any(|m| matches!(m, Mark::Blackhole(t) if t.contains("never reach the server"))));
        assert_eq!(read.iter().filter(|m| matches!(m, Mark::Cut(_))).count(), 1, "{read:?}");
        // Nothing that looks like a mark fails to read as one.
        for event in &transcript.events {
            if let EventKind::Note(text) = &event.kind
                && text.starts_with([marks::CLOCK, marks::BLACKHOLE, marks::CUT])
            {
                assert!(marks::read(text).is_some(), "{text:?} looks like a mark but does not read as one");
            }
        }
    }

    #[tokio::test]
    async fn a_cut_ends_both_sides_and_passes_nothing_more_on() {
        let (mut client, mut server, connection) = MemoryTap::new().mode(Mode::Raw).pipe();
        client.write_all(b"before").await.unwrap();
        let mut buf = [0u8; 6];
        server.read_exact(&mut buf).await.unwrap();
        server.write_all(b"unread").await.unwrap();
        tokio::task::yield_now().await;
        connection.control().cut();
        let mut rest = Vec::new();
        let reset = std::io::ErrorKind::ConnectionReset;
        assert_eq!(
            server.read_to_end(&mut rest).await.unwrap_err().kind(),
            reset,
            "the server's stream is reset"
        );
        assert_eq!(
            client.read_to_end(&mut rest).await.unwrap_err().kind(),
            reset,
            "and so is the client's, bytes unread or not, as after a TCP reset"
        );
        assert!(connection.control().is_cut());
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("C→S 6 bytes: \"before\""), "{text}");
        assert!(text.contains("✂ the Tap cut the connection"), "{text}");
        assert_eq!(text.matches("✂").count(), 1, "the cut is noted once: {text}");
    }

    #[tokio::test]
    async fn a_cut_tcp_connection_ends_for_both_peers() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tap = Tap::bind("127.0.0.1:0", listener.local_addr().unwrap()).await.unwrap();
        let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        connection.control().cut();
        let mut rest = Vec::new();
        assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
        assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("✂ the Tap cut the connection"), "{text}");
    }

    #[tokio::test]
    async fn a_blackholed_tcp_connection_does_not_pass_a_fin_on() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tap = Tap::bind("127.0.0.1:0", listener.local_addr().unwrap()).await.unwrap();
        let client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        connection.control().set_blackhole(true);
        drop(client);
        // This can only pass wrongly (a FIN slower than the wait), never fail wrongly.
        let mut buf = [0u8; 8];
        let read = tokio::time::timeout(Duration::from_millis(200), server.read(&mut buf)).await;
        assert!(read.is_err(), "the server must not learn that the client closed: {read:?}");
        drop(server);
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("⚫ blackhole: the server never learns of it"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_cut_nothing_more_is_recorded_even_if_the_peer_was_closing_at_that_moment() {
        // A blackholed connection is cut while the server answers the end of its input with the
        // end of its own: whichever the Tap sees first, the transcript must end at the cut. Once
        // in about a hundred rounds the server's FIN used to win.
        for round in 0..200 {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let tap = Tap::bind("127.0.0.1:0", listener.local_addr().unwrap()).await.unwrap().mode(Mode::Raw);
            let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
            let connection = tap.accept().await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 100];
                while let Ok(1..) = server.read(&mut buf).await {
                    server.write_all(b"reply").await.unwrap();
                }
            });
            client.write_all(b"x").await.unwrap();
            let mut buf = [0u8; 5];
            client.read_exact(&mut buf).await.unwrap();
            connection.control().set_blackhole(true);
            client.write_all(b"y").await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
            connection.control().cut();
            let text = connection.transcript().await.render(&Render::snapshot());
            let after_cut = text.split_once("✂").map(|(_, rest)| rest).unwrap_or_default();
            assert!(
                !after_cut.contains("FIN") && !after_cut.contains("blackhole"),
                "round {round}: events after the cut:\n{text}"
            );
        }
    }
}
