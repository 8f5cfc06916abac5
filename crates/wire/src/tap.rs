//! The Tap: a recording TCP proxy that shows every byte between a client and a server.
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

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::task::JoinHandle;

use crate::decode::{ConnectionDecoder, Mode};
use crate::transcript::{Closure, Direction, Event, EventKind, Render, Transcript};

/// How many bytes the Tap reads at a time in each direction.
pub const READ_CHUNK: usize = 16 * 1024;

/// A function told about each event as it is recorded: the connection's number and the event.
pub type Observer = Arc<dyn Fn(usize, &Event) + Send + Sync>;

/// A recording proxy. See the module docs.
pub struct Tap {
    listener: TcpListener,
    upstream: SocketAddr,
    mode: Mode,
    observer: Option<Observer>,
    next_id: AtomicUsize,
}

impl Tap {
    /// Listens on `listen` (use port 0 for any free port) and forwards to `upstream`.
    pub async fn bind(listen: impl ToSocketAddrs, upstream: SocketAddr) -> std::io::Result<Tap> {
        Ok(Tap {
            listener: TcpListener::bind(listen).await?,
            upstream,
            mode: Mode::Auto,
            observer: None,
            next_id: AtomicUsize::new(1),
        })
    }

    /// Decodes connections as `mode` instead of working it out.
    pub fn mode(mut self, mode: Mode) -> Tap {
        self.mode = mode;
        self
    }

    /// Calls `observer` with each event as it is recorded.
    pub fn observe(mut self, observer: impl Fn(usize, &Event) + Send + Sync + 'static) -> Tap {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Prints each event to standard output as it happens. With `label` set, every line starts
    /// with the connection's number (`#2`), for a Tap that serves several at once.
    pub fn print_live(self, style: Render, label: bool) -> Tap {
        self.observe(move |id, event| {
            let text = event.render(&style);
            let mut out = String::new();
            for line in text.lines() {
                if label {
                    out.push_str(&format!("#{id:<3}"));
                }
                out.push_str(line);
                out.push('\n');
            }
            print!("{out}");
        })
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

    /// Accepts one client, connects to the upstream server, and starts relaying.
    pub async fn accept(&self) -> std::io::Result<TapConnection> {
        let (client, _) = self.listener.accept().await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let control = Arc::new(TapControl::default());
        let recorder = Recorder::new(id, self.mode, self.observer.clone());
        let task = tokio::spawn(relay(client, self.upstream, recorder, control.clone()));
        Ok(TapConnection { id, task, control })
    }

    /// Accepts and relays connections until the listener fails.
    pub async fn run(self) -> std::io::Result<()> {
        loop {
            let connection = self.accept().await?;
            // Each connection reports through the observer; nobody waits for its transcript.
            drop(connection);
        }
    }
}

/// Switches that change what the Tap does to one live connection.
#[derive(Debug, Default)]
pub struct TapControl {
    blackhole: AtomicBool,
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
    inner: Mutex<(ConnectionDecoder, Transcript)>,
    observer: Option<Observer>,
}

impl Recorder {
    fn new(id: usize, mode: Mode, observer: Option<Observer>) -> Arc<Recorder> {
        Arc::new(Recorder {
            id,
            inner: Mutex::new((ConnectionDecoder::new(mode), Transcript::new())),
            observer,
        })
    }

    fn record(&self, decode: impl FnOnce(&mut ConnectionDecoder) -> Vec<Event>) {
        // A panic while holding the lock would poison it; the data is still consistent enough to
        // show, so carry on with it.
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (decoder, transcript) = &mut *guard;
        for event in decode(decoder) {
            if let Some(observer) = &self.observer {
                observer(self.id, &event);
            }
            transcript.push(event);
        }
    }

    fn push(&self, event: Event) {
        self.record(|_| vec![event]);
    }

    fn take(&self) -> Transcript {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut guard.1)
    }
}

async fn relay(
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
    let up = pump(Direction::ClientToServer, client_read, server_write, &recorder, &control);
    let down = pump(Direction::ServerToClient, server_read, client_write, &recorder, &control);
    let (sent_up, sent_down) = tokio::join!(up, down);
    recorder.push(Event::note(format!(
        "the connection is over: the client sent {sent_up} bytes, the server {sent_down}"
    )));
    recorder.take()
}

/// Copies one direction, recording as it goes. Returns the number of bytes read.
async fn pump(
    dir: Direction,
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    recorder: &Recorder,
    control: &TapControl,
) -> usize {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut total = 0;
    let mut forwarding = true;
    loop {
        match from.read(&mut buf).await {
            Ok(0) => {
                recorder.record(|d| d.finish(dir, Closure::Fin));
                break;
            }
            Ok(n) => {
                total += n;
                let bytes = &buf[..n];
                recorder.record(|d| d.feed(dir, bytes));
                if control.blackholed() {
                    recorder.push(Event::new(
                        Some(dir),
                        EventKind::Note(format!(
                            "⚫ blackhole: these {n} bytes never reach the {}",
                            dir.reverse().sender()
                        )),
                    ));
                    continue;
                }
                if forwarding && let Err(e) = to.write_all(bytes).await {
                    recorder.push(Event::new(
                        Some(dir),
                        EventKind::Note(format!(
                            "the Tap could not pass {n} bytes on to the {}: {e}",
                            dir.reverse().sender()
                        )),
                    ));
                    forwarding = false;
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
    // Pass the end on: the other side sees end-of-stream just as it would without the Tap.
    if !control.blackholed() {
        let _ = to.shutdown().await;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

    #[tokio::test]
    async fn garbage_and_a_client_that_vanishes_mid_frame_are_recorded_not_fatal() {
        let server = one_shot_server(b"").await;
        let tap = Tap::bind("127.0.0.1:0", server).await.unwrap().mode(Mode::WebSocket);
        let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let frame = Frame::text("hello").masked([1, 2, 3, 4]).encode();
        client.write_all(&frame[..5]).await.unwrap();
        drop(client);
        let text = connection.transcript().await.render(&Render::snapshot());
        assert!(text.contains("stopped in the middle of a WebSocket frame"), "{text}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_in_the_transcript() {
        // Bind and drop a listener to find a port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let tap = Tap::bind("127.0.0.1:0", port).await.unwrap();
        let mut client = TcpStream::connect(tap.local_addr()).await.unwrap();
        let connection = tap.accept().await.unwrap();
        let text = connection.transcript().await.render(&Render::snapshot());
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(text.contains("could not connect to the server"), "{text}");
    }
}
