//! The servers behind the proxy: the *upstream*, in nginx's words.
//!
//! - [`Upstream::echo`]: the shared echo (`serve::blocking::handle`), with its Origin check: every
//!   other chapter's WebSocket server answers the same request the same way.
//! - [`Upstream::pinging`]: the echo with a heartbeat: a ping every interval, the heartbeat
//!   chapter's idea reduced to its ping.
//! - [`Upstream::silent`]: a server that answers the upgrade and the close handshake and nothing
//!   else, not even a ping: to show that the client's own traffic is enough for nginx.
//! - [`Upstream::whoami`]: tells the client who it thinks the client is, from `X-Forwarded-For`
//!   ([`crate::forwarded`]).
//! - [`Upstream::sse`]: a Server-Sent Events stream that sends its head, its events and its end
//!   when the exchange says so, with a body that is chunked for HTTP/1.1 and runs until the
//!   connection closes for HTTP/1.0.
//!
//! Each writes down what its program saw, in [`Seen`], for the recording's "What each side saw".

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serve::{Limits, TungsteniteConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::Role;
use wire::{CloseCode, ClosePayload, Frame, FrameDecoder, OpCode};

/// The path every WebSocket server here answers on: the echo's.
pub const PATH: &str = serve::ECHO_PATH;

/// The path of the event stream.
pub const EVENTS_PATH: &str = "/events";

/// What a server's program saw, line by line, and how many of its connections are still being
/// handled. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Seen {
    lines: Arc<Mutex<Vec<String>>>,
    /// Connections accepted and not yet handled to the end.
    busy: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { lines: Arc::default(), busy: Arc::new(tokio::sync::watch::Sender::new(0)) }
    }
}

impl Seen {
    /// Writes down one line.
    pub fn push(&self, line: impl Into<String>) {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).push(line.into());
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A server listening on a free loopback port, a task per connection. Dropping it stops the
/// accepting (connections already open run on to their end).
#[derive(Debug)]
pub struct Upstream {
    addr: SocketAddr,
    seen: Seen,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What its program saw so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lines()
    }

    /// What its program saw, once it has finished with every connection it accepted (its last
    /// line is written after the connection's end, which the Taps see first), waiting at most
    /// [`crate::stage::PATIENCE`].
    pub async fn seen_when_done(&self) -> Result<Vec<String>, crate::Error> {
        let mut busy = self.seen.busy.subscribe();
        tokio::time::timeout(crate::stage::PATIENCE, busy.wait_for(|n| *n == 0))
            .await
            .map_err(|_| crate::Error::Stuck("the server to finish with its connections".into()))?
            .map_err(|_| crate::Error::Stuck("the server's program".into()))?;
        Ok(self.seen.lines())
    }

    async fn serve<F, Fut>(handle: F) -> std::io::Result<Upstream>
    where
        F: Fn(TcpStream, Seen) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Seen::default();
        let for_task = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let seen = for_task.clone();
                seen.busy.send_modify(|n| *n += 1);
                let connection = handle(stream, seen.clone());
                tokio::spawn(async move {
                    connection.await;
                    seen.busy.send_modify(|n| *n -= 1);
                });
            }
        });
        Ok(Upstream { addr, seen, task })
    }

    /// The shared echo: `serve::blocking::handle`, a thread per connection, with every server's
    /// default limits (the Origin check among them: pages of this very server only).
    pub async fn echo() -> std::io::Result<Upstream> {
        Upstream::serve(|stream, seen| async move {
            let Ok(stream) = stream.into_std() else { return };
            let _ = stream.set_nonblocking(false);
            let ending =
                tokio::task::spawn_blocking(move || serve::blocking::handle(stream, &Limits::default()))
                    .await;
            seen.push(match ending {
                Ok(Some(ending)) => describe(&ending),
                Ok(None) => "refused the upgrade (its answer is in the transcript)".to_owned(),
                Err(e) => format!("the connection's thread failed: {e}"),
            });
        })
        .await
    }

    /// The echo with a heartbeat: a ping every `interval` (payload: its number), counting pongs.
    pub async fn pinging(interval: Duration) -> std::io::Result<Upstream> {
        Upstream::serve(move |stream, seen| async move {
            let limits = Limits::default();
            match serve::accept::accept(stream, PATH, &limits).await {
                Ok((ws, _)) => seen.push(heartbeat(ws, interval).await),
                Err(e) => seen.push(format!("refused the upgrade: {e}")),
            }
        })
        .await
    }

    /// A server that never answers a ping: after the upgrade it reads frames and answers only a
    /// close frame. (Every WebSocket library answers pings by itself, so this one reads frames
    /// with `wire`'s decoder.)
    pub async fn silent() -> std::io::Result<Upstream> {
        Upstream::serve(|stream, seen| async move {
            seen.push(silent(stream).await);
        })
        .await
    }

    /// A server that tells each client who it is: the address [`crate::forwarded::client_address`]
    /// works out, with `proxies` as the proxies it trusts. Then it closes, 1000.
    pub async fn whoami(proxies: Vec<IpAddr>) -> std::io::Result<Upstream> {
        Upstream::serve(move |stream, seen| {
            let proxies = proxies.clone();
            async move {
                seen.push(whoami(stream, &proxies).await);
            }
        })
        .await
    }

    /// An event stream whose every step is sent when the exchange says so, through the returned
    /// sender: one connection, at [`EVENTS_PATH`]. With `accel_no`, its head carries
    /// `X-Accel-Buffering: no`.
    pub async fn sse(accel_no: bool) -> std::io::Result<(Upstream, mpsc::UnboundedSender<SseStep>)> {
        let (steps, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let upstream = Upstream::serve(move |stream, seen| {
            let receiver = receiver.clone();
            async move {
                let mut receiver = receiver.lock().await;
                seen.push(event_stream(stream, &mut receiver, accel_no).await);
            }
        })
        .await?;
        Ok((upstream, steps))
    }
}

/// An ending as the server's program saw it.
fn describe(ending: &serve::Ending) -> String {
    match ending {
        serve::Ending::PeerClosed(Some(code)) => format!("got close {code} and answered it"),
        serve::Ending::PeerClosed(None) => "got a close frame without a code (1005) and answered it".into(),
        serve::Ending::WeClosed(code, reason) => format!("closed with {code} {reason:?}"),
        serve::Ending::Dropped(why) => format!("the connection ended with no close frame (1006): {why}"),
    }
}

/// Echoes and pings until the connection ends; what it saw, in one line.
async fn heartbeat(mut ws: WebSocketStream<TcpStream>, interval: Duration) -> String {
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut pings, mut pongs) = (0u32, 0u32);
    let mut closed_with = None;
    let ending = loop {
        tokio::select! {
            biased;
            message = ws.next() => match message {
                None => break match closed_with {
                    Some(code) => format!("got close {code} and answered it"),
                    None => "the stream ended with no close frame (1006)".to_owned(),
                },
                Some(Err(e)) => break format!("the connection ended with no close frame (1006): {e}"),
                Some(Ok(Message::Pong(_))) => pongs += 1,
                Some(Ok(Message::Close(frame))) => {
                    closed_with = Some(frame.map_or(CloseCode::NO_STATUS, |f| CloseCode(u16::from(f.code))));
                }
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    if ws.send(message).await.is_err() {
                        break "could not echo: the connection is gone".to_owned();
                    }
                }
                Some(Ok(_)) => {}
            },
            _ = ticks.tick(), if closed_with.is_none() => {
                pings += 1;
                if ws.send(Message::Ping(pings.to_string().into())).await.is_err() {
                    break "could not ping: the connection is gone".to_owned();
                }
            }
        }
    };
    format!("sent {pings} pings, got {pongs} pongs; {ending}")
}

/// The silent server's connection: the upgrade, then frames read and ignored until a close.
async fn silent(stream: TcpStream) -> String {
    let limits = Limits::default();
    let (mut stream, leftover, _) = match serve::accept::handshake(stream, PATH, &limits).await {
        Ok(accepted) => accepted,
        Err(e) => return format!("refused the upgrade: {e}"),
    };
    let mut frames = FrameDecoder::new(limits.max_message as u64);
    frames.push(&leftover);
    let mut pings = 0u32;
    let mut buf = vec![0u8; 4096];
    loop {
        loop {
            match frames.next_frame() {
                Ok(Some((frame, _))) if frame.opcode == OpCode::Ping => pings += 1,
                Ok(Some((frame, _))) if frame.opcode == OpCode::Close => {
                    let code = ClosePayload::parse(&frame.payload).ok().flatten().map(|c| c.code);
                    let answer = code.map(|code| ClosePayload { code, reason: String::new() });
                    let _ = stream.write_all(&Frame::close(answer.as_ref()).encode()).await;
                    // The server closes TCP first (RFC 6455 §7.1.1); what the client still
                    // sends is read and dropped until it closes too.
                    let _ = stream.shutdown().await;
                    while matches!(stream.read(&mut buf).await, Ok(1..)) {}
                    let code = code.map_or_else(|| "no code".to_owned(), |c| c.to_string());
                    return format!("got {pings} pings and answered none; got close {code} and answered it");
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return format!("got a frame it could not read: {e}"),
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => {
                return format!("got {pings} pings and answered none; the connection ended (1006)");
            }
            Ok(n) => frames.push(&buf[..n]),
        }
    }
}

/// The whoami server's connection.
async fn whoami(mut stream: TcpStream, proxies: &[IpAddr]) -> String {
    let limits = Limits::default();
    let Ok(peer) = stream.peer_addr() else { return "lost its client at once".into() };
    let (head, leftover) = match guard::head::read_request(&mut stream, &limits).await {
        Ok(read) => read,
        Err(e) => return format!("refused the request: {e}"),
    };
    let accepted = match guard::upgrade::judge_origin(&head, PATH, &limits.origins) {
        Ok(accepted) => accepted,
        Err(rejection) => {
            let status = rejection.status;
            let _: Result<(), _> = guard::refuse::send_rejection(&mut stream, rejection).await;
            return format!("refused the upgrade with {status}");
        }
    };
    if stream.write_all(accepted.response().as_bytes()).await.is_err() {
        return "lost its client before the 101".into();
    }
    let config = Some(limits.websocket_config());
    let mut ws = WebSocketStream::from_partially_read(stream, leftover, Role::Server, config).await;
    let forwarded_for = head.header("X-Forwarded-For");
    let client = crate::forwarded::client_address(peer.ip(), forwarded_for, proxies);
    let peer_is = if proxies.contains(&peer.ip()) { "my proxy" } else { "not a proxy of mine" };
    let told = format!("you are {client}");
    let _ = ws.send(Message::text(told.clone())).await;
    let _ = serve::close::close(ws, CloseCode::NORMAL, String::new(), &limits).await;
    format!(
        "TCP peer {} ({peer_is}), X-Forwarded-For: {}; told the client \"{told}\"",
        peer.ip(),
        forwarded_for.unwrap_or("(none)")
    )
}

/// One step of the event stream, sent when the exchange says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseStep {
    /// The response head.
    Head,
    /// Event number N: `id: N`, `data: tick N`.
    Event(u32),
    /// The end of the stream: the last chunk (HTTP/1.1), or closing the connection (HTTP/1.0).
    End,
}

/// The text of event `n`.
pub fn event_text(n: u32) -> String {
    format!("id: {n}\ndata: tick {n}\n\n")
}

/// The event stream's connection: its steps as they come.
async fn event_stream(
    mut stream: TcpStream,
    steps: &mut mpsc::UnboundedReceiver<SseStep>,
    accel_no: bool,
) -> String {
    let limits = Limits::default();
    let (head, _) = match guard::head::read_request(&mut stream, &limits).await {
        Ok(read) => read,
        Err(e) => return format!("refused the request: {e}"),
    };
    let minor = match &head.start {
        wire::http::StartLine::Request { minor, .. } => *minor,
        wire::http::StartLine::Response { .. } => 0,
    };
    // HTTP/1.1 can carry a body of unknown length in chunks; to an HTTP/1.0 client (nginx's
    // default towards its servers) the body ends where the connection does (RFC 9112 §6.3, §7.1).
    let chunked = minor >= 1;
    let mut events = 0;
    while let Some(step) = steps.recv().await {
        let bytes = match step {
            SseStep::Head => {
                let accel = if accel_no { "X-Accel-Buffering: no\r\n" } else { "" };
                let framing =
                    if chunked { "Transfer-Encoding: chunked\r\n" } else { "Connection: close\r\n" };
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n{accel}{framing}\r\n"
                )
            }
            SseStep::Event(n) => {
                events += 1;
                let text = event_text(n);
                if chunked { format!("{:x}\r\n{text}\r\n", text.len()) } else { text }
            }
            SseStep::End => {
                if chunked {
                    let _ = stream.write_all(b"0\r\n\r\n").await;
                    // nginx asked for `Connection: close`: it closes once it has the last chunk,
                    // and we close after it.
                    let mut buf = [0u8; 1024];
                    while matches!(stream.read(&mut buf).await, Ok(1..)) {}
                } else {
                    let _ = stream.shutdown().await;
                    let mut buf = [0u8; 1024];
                    while matches!(stream.read(&mut buf).await, Ok(1..)) {}
                }
                break;
            }
        };
        if stream.write_all(bytes.as_bytes()).await.is_err() {
            return format!("lost its client after {events} events");
        }
    }
    let body = if chunked { "a chunked body" } else { "a body that ends when the connection closes" };
    format!("got {} (HTTP/1.{minor}); answered with {body}, {events} events", head.start)
}
