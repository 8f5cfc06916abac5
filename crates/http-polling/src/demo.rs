//! The chapter's exchanges, recorded: feed server, Tap and client in one process.
//!
//! `just http-poll`, `just long-poll` and `just sse` print these live; `tests/http_polling.rs`
//! snapshots the same transcripts; the book includes the snapshots. Each exchange is a script
//! that waits for the server to be in the right state before it acts (a long poll registered, an
//! event received) and never sleeps, so the transcript is the same on every run.
//!
//! The lines that start with `───` and say what the script did ("message 2 is published") are
//! notes the demo adds at the moment it acts. The Tap cannot see a publish: it happens inside the
//! server, not on the wire.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tap::demo::{Demo, DemoFuture, Flags, HTTP_LEGEND, live_numbered};
use tap::{Observer, Tap, TapControl, outln};
use wire::{Event, Render, Transcript};

use crate::client::{self, Connection, EventStream, Request};
use crate::limits::Limits;
use crate::server::{Service, start_local};

/// The longest a script waits for the server to reach a state before it gives up with an error.
/// Far longer than any step takes; it only turns a bug into a failure instead of a hang.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The `Sec-WebSocket-Key` of the WebSocket demo: the RFC's example (see `serve::client`).
pub const WS_KEY: &str = serve::client::RFC_KEY;

/// What went wrong in a demo.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client failed.
    #[error(transparent)]
    Client(#[from] client::Error),
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The shared WebSocket client failed (the WebSocket demo uses it).
    #[error(transparent)]
    WebSocket(#[from] serve::Error),
    /// The server did not reach the state the script waits for.
    #[error("the server did not get there: {0}")]
    Stuck(String),
}

/// What a demo produced.
#[derive(Clone, Debug)]
pub struct Recording {
    /// One transcript per TCP connection, in order.
    pub transcripts: Vec<Transcript>,
    /// What the client saw, step by step.
    pub steps: Vec<String>,
}

impl Recording {
    /// Every connection's transcript, a blank line between them.
    pub fn render(&self, style: &Render) -> String {
        self.transcripts.iter().map(|t| t.render(style)).collect::<Vec<_>>().join("\n")
    }
}

/// Notes the script adds to the transcript where they happened.
#[derive(Clone)]
pub struct Notes {
    inner: Arc<Mutex<NotesInner>>,
    observer: Option<Observer>,
}

#[derive(Default)]
struct NotesInner {
    /// The connection that recorded the latest event.
    current: usize,
    /// Events recorded so far, per connection.
    counts: HashMap<usize, usize>,
    /// (connection, position, text).
    notes: Vec<(usize, usize, String)>,
}

impl Notes {
    fn new(observer: Option<Observer>) -> Notes {
        Notes { inner: Arc::default(), observer }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NotesInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The Tap's observer: counts events per connection and passes them on.
    fn tap_observer(&self) -> impl Fn(usize, &Event) + Send + Sync + 'static {
        let notes = self.clone();
        move |id, event| {
            {
                let mut inner = notes.lock();
                inner.current = id;
                *inner.counts.entry(id).or_default() += 1;
            }
            if let Some(observer) = &notes.observer {
                observer(id, event);
            }
        }
    }

    /// Adds a note after the events recorded so far.
    pub fn note(&self, text: impl Into<String>) {
        let text = text.into();
        let id = {
            let mut inner = self.lock();
            let id = inner.current;
            let at = inner.counts.get(&id).copied().unwrap_or_default();
            inner.notes.push((id, at, text.clone()));
            id
        };
        if let Some(observer) = &self.observer {
            observer(id, &Event::note(text));
        }
    }

    /// Adds a note at the end of the latest connection's transcript, once it is over: for what
    /// happens between two connections.
    pub fn note_between(&self, text: impl Into<String>) {
        let text = text.into();
        let id = {
            let mut inner = self.lock();
            let id = inner.current;
            inner.notes.push((id, usize::MAX, text.clone()));
            id
        };
        if let Some(observer) = &self.observer {
            observer(id, &Event::note(text));
        }
    }

    fn apply(&self, id: usize, transcript: &mut Transcript) {
        let inner = self.lock();
        // Inserted from the last to the first, each at its place in the transcript as recorded
        // (its length before any note), so that notes at the same place keep their order.
        let recorded = transcript.events.len();
        for (_, at, text) in inner.notes.iter().filter(|(c, _, _)| *c == id).rev() {
            transcript.events.insert((*at).min(recorded), Event::note(text.clone()));
        }
    }
}

/// What a script gets to work with.
pub struct Stage {
    /// Where clients connect: the Tap.
    pub addr: SocketAddr,
    /// The server's service, with its feed.
    pub service: Service,
    /// Where the script writes down what it does.
    pub notes: Notes,
    /// The Tap's switches for each connection, in the order they were opened.
    controls: Controls,
}

/// The Tap's switches for each connection so far, and a signal when one is added.
#[derive(Clone, Default)]
struct Controls(Arc<(Mutex<Vec<Arc<TapControl>>>, Condvar)>);

impl Controls {
    fn push(&self, control: Arc<TapControl>) {
        self.0.0.lock().unwrap_or_else(PoisonError::into_inner).push(control);
        self.0.1.notify_all();
    }

    /// The switches of connection `n` (from 1), once the Tap has accepted it.
    fn get(&self, n: usize) -> Option<Arc<TapControl>> {
        let deadline = std::time::Instant::now() + PATIENCE;
        let mut controls = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        while controls.len() < n {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            controls = self.0.1.wait_timeout(controls, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        controls.get(n.checked_sub(1)?).cloned()
    }
}

impl Stage {
    /// Publishes `text`, with a note.
    pub fn publish(&self, text: &str, why: &str) {
        let id = self.service.feed().newest() + 1;
        let why = if why.is_empty() { String::new() } else { format!(" {why}") };
        self.notes.note(format!("message {id} {text:?} is published{why}"));
        self.service.feed().publish(text);
    }

    /// Waits until `n` requests wait in the feed (a long poll or a stream has registered).
    pub fn wait_for_waiters(&self, n: usize) -> Result<(), Error> {
        if self.service.feed().wait_for_waiting(n, PATIENCE) {
            Ok(())
        } else {
            Err(Error::Stuck(format!("{n} waiting requests")))
        }
    }

    /// Waits until `n` requests hold one of the server's waiting slots.
    pub fn wait_for_open_waits(&self, n: usize) -> Result<(), Error> {
        if self.service.wait_for_open_waits(n, PATIENCE) {
            Ok(())
        } else {
            Err(Error::Stuck(format!("{n} requests holding a slot")))
        }
    }

    /// Has the Tap cut TCP connection `n` (from 1): both sides' streams end at once, with
    /// nothing more passed on, as when a proxy restarts or a network changes.
    pub fn cut(&self, n: usize) -> Result<(), Error> {
        let control =
            self.controls.get(n).ok_or_else(|| Error::Stuck(format!("connection {n} at the Tap")))?;
        control.cut();
        Ok(())
    }
}

/// Runs `script` against a fresh feed server behind a Tap and records `connections` TCP
/// connections. The script runs on a blocking thread (the clients are blocking).
pub async fn record<F>(
    limits: Limits,
    observer: Option<Observer>,
    connections: usize,
    script: F,
) -> Result<Recording, Error>
where
    F: FnOnce(&Stage) -> Result<Vec<String>, Error> + Send + 'static,
{
    let server = start_local(limits)?;
    let notes = Notes::new(observer);
    let tap = Tap::bind("127.0.0.1:0", server.addr()).await?.observe(notes.tap_observer());
    let controls = Controls::default();
    let stage = Stage {
        addr: tap.local_addr(),
        service: server.service().clone(),
        notes: notes.clone(),
        controls: controls.clone(),
    };
    let recorder = tokio::spawn(async move {
        let mut transcripts = Vec::new();
        for _ in 0..connections {
            let connection = tap.accept().await?;
            controls.push(connection.control());
            let id = connection.id;
            transcripts.push((id, connection.transcript().await));
        }
        Ok::<_, std::io::Error>(transcripts)
    });
    let steps = tokio::task::spawn_blocking(move || script(&stage))
        .await
        .map_err(|e| Error::Stuck(format!("the client panicked: {e}")))??;
    let recorded = recorder.await.map_err(|e| Error::Stuck(format!("the Tap failed: {e}")))??;
    server.stop();
    let transcripts = recorded
        .into_iter()
        .map(|(id, mut transcript)| {
            notes.apply(id, &mut transcript);
            transcript
        })
        .collect();
    Ok(Recording { transcripts, steps })
}

fn show(messages: &[crate::Message]) -> String {
    if messages.is_empty() {
        return "nothing new".into();
    }
    messages.iter().map(|m| format!("#{} {:?}", m.id, m.text)).collect::<Vec<_>>().join(", ")
}

// ANCHOR: short_poll_demo
/// Two short polls on one keep-alive connection: the first finds a message, the second nothing.
pub async fn short_poll(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        stage.service.feed().publish("hello");
        let mut connection = Connection::open(stage.addr)?;
        let first = client::short_poll(&mut connection, "", 0)?;
        let second = client::short_poll(&mut connection, "", 1)?;
        connection.close()?;
        Ok(vec![format!("since=0 → {}", show(&first)), format!("since=1 → {}", show(&second))])
    })
    .await
}
// ANCHOR_END: short_poll_demo

/// The same poll, once with `Connection: close` and once as HTTP/1.0: one request per
/// connection, because the client asked for it.
pub async fn short_poll_closing(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 2, |stage| {
        stage.service.feed().publish("hello");
        let host = stage.addr.to_string();
        let mut steps = Vec::new();
        for request in [
            client::short_poll_request(&host, "", 0).header("Connection", "close"),
            client::short_poll_request(&host, "", 0).http_1_0(),
        ] {
            let mut connection = Connection::open(stage.addr)?;
            let response = connection.exchange(&request)?;
            // The server closes after its answer; reading to the end shows it did.
            let rest = connection.read_to_end()?;
            steps.push(format!(
                "HTTP/1.{} {} → {}, then the server closed ({} bytes after the body)",
                request.minor,
                response.status(),
                show(&response.messages()?),
                rest.len()
            ));
        }
        Ok(steps)
    })
    .await
}

// ANCHOR: long_poll_demo
/// A long poll that waits until a message is published, then gets it at once.
pub async fn long_poll(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        stage.service.feed().publish("hello");
        std::thread::scope(|scope| {
            // The publisher waits until the server holds the request, then publishes.
            let publisher = scope.spawn(|| {
                stage.wait_for_waiters(1)?;
                stage.publish("news", "while the request waits");
                Ok::<_, Error>(())
            });
            let mut connection = Connection::open(stage.addr)?;
            let answer = client::long_poll(&mut connection, "", 1, 25)?;
            publisher.join().map_err(|_| Error::Stuck("the publisher panicked".into()))??;
            connection.close()?;
            Ok(vec![format!("since=1 → {}", answer.as_deref().map_or("204".into(), show))])
        })
    })
    .await
}
// ANCHOR_END: long_poll_demo

/// A long poll that nobody answers: after its 1-second timeout, `204 No Content`.
pub async fn long_poll_timeout(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        stage.service.feed().publish("hello");
        let mut connection = Connection::open(stage.addr)?;
        let answer = client::long_poll(&mut connection, "", 1, 1)?;
        connection.close()?;
        Ok(vec![format!("since=1&timeout=1 → {}", answer.map_or("204 No Content".into(), |m| show(&m)))])
    })
    .await
}

// ANCHOR: sse_demo
/// An event stream of three events; the Tap cuts the connection (a drop: no last chunk); a
/// message is published meanwhile; the client reconnects with `Last-Event-ID` and gets exactly
/// what it missed, then the next live one; then the server ends the stream properly (as before a
/// restart), with the last chunk.
pub async fn sse(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 2, |stage| {
        let mut steps = Vec::new();
        let feed = stage.service.feed();
        let mut last = None;
        for (connection, resume, live) in
            [(1, None, &["one", "two", "three"][..]), (2, Some(3), &["five"][..])]
        {
            let request = EventStream::request(&stage.addr.to_string(), "", resume);
            let mut stream = EventStream::open(Connection::open(stage.addr)?, &request)?;
            let mut expect = |stream: &mut EventStream, steps: &mut Vec<String>| -> Result<(), Error> {
                let event = stream.next_event()?.ok_or_else(|| Error::Stuck("the stream ended".into()))?;
                last = event.id.clone().or(last.take());
                steps.push(describe(&event));
                Ok(())
            };
            // The first event (`retry:` and the feed's instance): once it is here, the server
            // is streaming.
            expect(&mut stream, &mut steps)?;
            if resume.is_some() {
                // What was published while the client was away comes from the history.
                expect(&mut stream, &mut steps)?;
            }
            for text in live {
                stage.publish(text, "");
                expect(&mut stream, &mut steps)?;
            }
            if resume.is_none() {
                // A drop: the Tap hangs up on both sides, and the client's stream stops in the
                // middle of the body, without the zero-size chunk that would end it.
                stage.cut(connection)?;
                match stream.next_event() {
                    Err(e @ client::Error::Closed(_)) => {
                        let last = last.as_deref().unwrap_or("0");
                        steps.push(format!(
                            "the stream broke off ({e}): reconnect with Last-Event-ID: {last}"
                        ));
                    }
                    other => {
                        return Err(Error::Stuck(format!("the cut did not reach the client: {other:?}")));
                    }
                }
                stage
                    .notes
                    .note_between("the client's stream stopped without its last chunk: a drop, not an end");
                // The server finds its client gone by looking at the socket, and frees the slot.
                stage.wait_for_open_waits(0)?;
                stage.notes.note_between("message 4 \"four\" is published while no stream is open");
                feed.publish("four");
            } else {
                stage.notes.note("the server ends every stream, as it does before a restart");
                feed.end_streams();
                if stream.next_event()?.is_some() {
                    return Err(Error::Stuck("the stream went on after end_streams".into()));
                }
                steps.push("the server ended the stream (the last chunk)".into());
                stream.into_connection().close()?;
            }
        }
        steps.push(format!("last id seen: {}", last.unwrap_or_default()));
        Ok(steps)
    })
    .await
}
// ANCHOR_END: sse_demo

/// One event as a step of the SSE demo.
fn describe(event: &crate::sse::Event) -> String {
    match (&event.event, &event.id) {
        (Some(kind), _) => format!(
            "event {kind}={} (retry: {} ms)",
            event.data,
            event.retry.map_or("-".into(), |ms| ms.to_string())
        ),
        (None, id) => format!("event id={} data={:?}", id.as_deref().unwrap_or("-"), event.data),
    }
}

/// The same three messages over a WebSocket: one handshake, then a small frame each.
pub async fn websocket(observer: Option<Observer>) -> Result<Recording, Error> {
    use futures_util::StreamExt;
    let limits = Limits::default().quiet();
    let feed = Arc::new(crate::Feed::new(limits.history));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server_addr = listener.local_addr()?;
    let server = tokio::spawn(crate::ws_feed::serve(listener, feed.clone(), limits.clone()));
    let notes = Notes::new(observer);
    let tap = Tap::bind("127.0.0.1:0", server_addr).await?.observe(notes.tap_observer());
    let stream = tokio::net::TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let id = connection.id;
    let host = tap.local_addr().to_string();
    let mut ws = serve::client::connect_over(stream, &host, crate::server::paths::WS, Some(WS_KEY)).await?;
    let mut steps = Vec::new();
    for text in ["one", "two", "three"] {
        notes.note(format!("message {} {text:?} is published", feed.newest() + 1));
        feed.publish(text);
        match ws.next().await {
            Some(Ok(message)) => steps.push(serve::client::describe(&message)),
            other => return Err(Error::Stuck(format!("no message from the feed: {other:?}"))),
        }
    }
    let bye = tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Normal,
        reason: "done".into(),
    };
    ws.close(Some(bye)).await.map_err(serve::Error::from)?;
    while let Some(Ok(message)) = ws.next().await {
        steps.push(serve::client::describe(&message));
    }
    // The server has closed; closing ours ends the connection, and with it the transcript.
    drop(ws);
    let mut transcript = connection.transcript().await;
    server.abort();
    notes.apply(id, &mut transcript);
    Ok(Recording { transcripts: vec![transcript], steps })
}

/// The three messages every transport delivers in [`transports`], in the order they are
/// published.
pub const THREE: [&str; 3] = ["one", "two", "three"];

/// The same three messages delivered four ways, one recording each: what the request–response
/// chapter's opening figure draws.
#[derive(Clone, Debug)]
pub struct Transports {
    /// [`short_polling_three`].
    pub short_polling: Recording,
    /// [`long_polling_three`].
    pub long_polling: Recording,
    /// [`sse_three`].
    pub sse: Recording,
    /// [`websocket`].
    pub websocket: Recording,
}

/// Records [`THREE`] delivered by short polling, long polling, Server-Sent Events and a
/// WebSocket, each against a fresh feed server behind a Tap. Every script publishes the three
/// messages in the same order and waits for the server's state before it acts, so each
/// transcript is the same on every run; the notes "message N … is published" mark the moments.
pub async fn transports(observer: Option<Observer>) -> Result<Transports, Error> {
    Ok(Transports {
        short_polling: short_polling_three(observer.clone()).await?,
        long_polling: long_polling_three(observer.clone()).await?,
        sse: sse_three(observer.clone()).await?,
        websocket: websocket(observer).await?,
    })
}

/// Short polling on one keep-alive connection: a poll before anything is published (empty),
/// one after "one" (gets it), one more (empty), then "two" and "three" are published together
/// and the next poll gets both at once.
pub async fn short_polling_three(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        let mut connection = Connection::open(stage.addr)?;
        let mut steps = Vec::new();
        let mut poll = |connection: &mut Connection, since: u64| -> Result<(), Error> {
            let got = client::short_poll(connection, "", since)?;
            steps.push(format!("since={since} → {}", show(&got)));
            Ok(())
        };
        poll(&mut connection, 0)?;
        stage.publish(THREE[0], "");
        poll(&mut connection, 0)?;
        poll(&mut connection, 1)?;
        stage.publish(THREE[1], "");
        stage.publish(THREE[2], "");
        poll(&mut connection, 1)?;
        connection.close()?;
        Ok(steps)
    })
    .await
}

/// Long polling on one keep-alive connection: each request is held until a message is
/// published; "three" is published while the client is between two requests, so the next
/// request is answered at once.
pub async fn long_polling_three(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        let mut connection = Connection::open(stage.addr)?;
        let host = connection.host().to_owned();
        let wait = |since: u64| {
            let target = format!("{}?since={since}&timeout=25", crate::server::paths::WAIT);
            Request::get(&host, &target).header("Accept", "application/json")
        };
        let mut steps = Vec::new();
        for (since, text) in [(0, THREE[0]), (1, THREE[1])] {
            // Sent first, answered later: the script publishes while the server holds it.
            connection.send(&wait(since))?;
            stage.wait_for_waiters(1)?;
            stage.publish(text, "while the request is held");
            let response = connection.read_response("GET")?;
            steps.push(format!("since={since} → {}", show(&response.messages()?)));
        }
        stage.publish(THREE[2], "between two requests");
        let response = connection.exchange(&wait(2))?;
        steps.push(format!("since=2 → {}, at once", show(&response.messages()?)));
        connection.close()?;
        Ok(steps)
    })
    .await
}

/// One event stream: its first event, then each message as one chunk as it is published; then
/// the server ends the stream (its last chunk) and the client closes.
pub async fn sse_three(observer: Option<Observer>) -> Result<Recording, Error> {
    record(Limits::default().quiet(), observer, 1, |stage| {
        let request = EventStream::request(&stage.addr.to_string(), "", None);
        let mut stream = EventStream::open(Connection::open(stage.addr)?, &request)?;
        let mut steps = Vec::new();
        let mut next = |stream: &mut EventStream| -> Result<(), Error> {
            let event = stream.next_event()?.ok_or_else(|| Error::Stuck("the stream ended".into()))?;
            steps.push(describe(&event));
            Ok(())
        };
        // The first event (`retry:` and the feed's instance): the server is streaming.
        next(&mut stream)?;
        for text in THREE {
            stage.publish(text, "");
            next(&mut stream)?;
        }
        stage.notes.note("the server ends the stream");
        stage.service.feed().end_streams();
        if stream.next_event()?.is_some() {
            return Err(Error::Stuck("the stream went on after end_streams".into()));
        }
        stream.into_connection().close()?;
        Ok(steps)
    })
    .await
}

/// A plain `GET` with a chosen request, for a test or a student to try anything.
pub fn request(addr: SocketAddr, request: &Request) -> Result<client::Response, client::Error> {
    Connection::open(addr)?.exchange(request)
}

/// The chapter's demos, for `http-polling-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "http-poll",
        chapter: "Request and response",
        about: "two short polls on one keep-alive connection, then one request per connection",
        flags: &[],
        run: http_poll_demo,
    },
    Demo {
        name: "long-poll",
        chapter: "Request and response",
        about: "a long poll answered by a publish, and one that times out with 204",
        flags: &[],
        run: long_poll_demo,
    },
    Demo {
        name: "sse",
        chapter: "Request and response",
        about: "an event stream, a dropped connection, and the resume with Last-Event-ID",
        flags: &[],
        run: sse_demo,
    },
    Demo {
        name: "ws-feed",
        chapter: "Request and response",
        about: "the same feed over a WebSocket: one handshake, then a small frame per message",
        flags: &[],
        run: ws_feed_demo,
    },
];

fn http_poll_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{HTTP_LEGEND}");
        let observer = live_numbered();
        let recordings =
            vec![short_poll(Some(observer.clone())).await?, short_poll_closing(Some(observer)).await?];
        print_steps(&recordings);
        Ok(())
    })
}

fn long_poll_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{HTTP_LEGEND}");
        let observer = live_numbered();
        let recordings =
            vec![long_poll(Some(observer.clone())).await?, long_poll_timeout(Some(observer)).await?];
        print_steps(&recordings);
        Ok(())
    })
}

fn sse_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{HTTP_LEGEND}");
        print_steps(&[sse(Some(live_numbered())).await?]);
        Ok(())
    })
}

fn ws_feed_demo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{HTTP_LEGEND}");
        print_steps(&[websocket(Some(live_numbered())).await?]);
        Ok(())
    })
}

/// What the client saw, after the live transcript.
fn print_steps(recordings: &[Recording]) {
    outln!();
    outln!("What the client saw, step by step:");
    for step in recordings.iter().flat_map(|r| &r.steps) {
        outln!("  {step}");
    }
}
