//! The chapter's exchanges, recorded through the Tap: `duplex demo one-port` and `just wss` print
//! them live, `tests/one_port.rs` snapshots them, and the book includes the snapshots.
//!
//! Everything that could differ between runs is fixed: the session token, the
//! `Sec-WebSocket-Key`, the clock `/api/time` reads. Each client waits for every answer before it
//! says the next thing, so the order on the wire is the same every time.

use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use serve::client::RFC_KEY;
use tap::{Observer, Tap};
use tokio::net::{TcpListener, TcpStream};
use tungstenite::Message;
use wire::http::Head;
use wire::{EventKind, Render, Transcript};

use crate::admission::{Admission, Sessions};
use crate::client::{self, ClientError};
use crate::server::{self, Config, Guard, Running, ServeError};
use crate::tls::{self, LocalCert, TlsError};

/// The user the demos sign in as.
pub const DEMO_USER: &str = "ada";

/// The demos' session token: fixed, so transcripts repeat. A real one is random
/// ([`Sessions::create`]).
pub const DEMO_TOKEN: &str = "demo-token-for-ada";

/// The time `/api/time` reports in the demos: 2026-01-01T00:00:00Z.
pub const DEMO_TIME: u64 = 1_767_225_600;

/// An origin that is not on any allow-list: the page of a Cross-Site WebSocket Hijacking attempt.
pub const EVIL_ORIGIN: &str = "https://evil.example";

/// Why a demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server did not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Starts the chapter's server on a free loopback port: [`DEMO_TOKEN`] signed in as
/// [`DEMO_USER`], the server's own origins allowed, the clock fixed at [`DEMO_TIME`].
pub fn start_server(guard: Guard) -> Result<Running, DemoError> {
    let listener = server::bind("127.0.0.1", 0)?;
    let port = listener.local_addr()?.port();
    let sessions = Sessions::new();
    sessions.insert(DEMO_TOKEN, DEMO_USER);
    let admission = Admission::new(sessions).allow_loopback("http", port);
    let clock = std::sync::Arc::new(|| UNIX_EPOCH + Duration::from_secs(DEMO_TIME));
    let config = Config { guard, clock, ..Config::new(admission) };
    Ok(server::start(listener, config)?)
}

/// The `Authorization` header with the demo token.
pub fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {DEMO_TOKEN}"))
}

/// What a demo recorded.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, decoded.
    pub transcript: Transcript,
    /// The server's journal, one line per entry.
    pub log: Vec<String>,
    /// What the client received, in words.
    pub received: Vec<String>,
}

/// One connection, two protocols: `GET /api/time`, then on the same TCP connection an upgrade
/// to `/ws/echo`, one message and the close. With `signed_in`, both carry the demo's bearer
/// token. The server's journal shows which parts of the server saw each request.
// ANCHOR: same_port
pub async fn same_port(
    guard: Guard,
    signed_in: bool,
    observer: Option<Observer>,
) -> Result<Recording, DemoError> {
    let server = start_server(guard)?;
    let tap = tap(server.addr(), observer).await?;
    let host = tap.local_addr().to_string();
    let mut stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let (name, value) = bearer();
    let auth: Vec<(&str, &str)> = if signed_in { vec![(name, value.as_str())] } else { Vec::new() };

    // First an ordinary request, which goes through the middleware.
    let time = client::request("GET", "/api/time", &host, &auth);
    let (_head, body) = client::exchange(&mut stream, &time).await?;
    let mut received = vec![String::from_utf8_lossy(&body).trim().to_owned()];

    // Then, on the same connection, the upgrade, which does not.
    let ws = client::upgrade(stream, &host, serve::ECHO_PATH, RFC_KEY, &auth).await?;
    received.extend(client::session(ws, vec![Message::text("Hello, one port!")]).await?);

    let transcript = connection.transcript().await;
    let log = server.journal().lines();
    server.stop();
    Ok(Recording { transcript, log, received })
}
// ANCHOR_END: same_port

/// Sends one raw request (built for the Tap's `host:port`) through a Tap to `server`, reads the
/// response, and ends the connection as curl would. Returns the transcript and the response head.
pub async fn one_request(
    server: SocketAddr,
    request: impl FnOnce(&str) -> String,
    observer: Option<Observer>,
) -> Result<(Transcript, Head), DemoError> {
    let tap = tap(server, observer).await?;
    let mut stream = TcpStream::connect(tap.local_addr()).await?;
    let connection = tap.accept().await?;
    let (head, _body) = client::exchange(&mut stream, &request(&tap.local_addr().to_string())).await?;
    client::finish(stream, &head).await?;
    Ok((connection.transcript().await, head))
}

/// A browser's upgrade request from a page at `origin`, carrying the demo's session cookie.
pub fn browser_upgrade(host: &str, origin: &str) -> String {
    let cookie = format!("session={DEMO_TOKEN}");
    client::request(
        "GET",
        serve::ECHO_PATH,
        host,
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", RFC_KEY),
            ("Origin", origin),
            ("Cookie", &cookie),
        ],
    )
}

/// A program's upgrade request without credentials.
pub fn anonymous_upgrade(host: &str) -> String {
    client::request(
        "GET",
        serve::ECHO_PATH,
        host,
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", RFC_KEY),
        ],
    )
}

/// What `curl -i http://host/ws/echo` sends.
pub fn plain_get(host: &str) -> String {
    client::request("GET", serve::ECHO_PATH, host, &[("User-Agent", "curl/8.5.0"), ("Accept", "*/*")])
}

/// What the wss demo recorded: the same connection seen from outside TLS and from inside.
#[derive(Clone, Debug)]
pub struct WssRecording {
    /// Between the client and the TLS front: TLS records only.
    pub outside: Transcript,
    /// Between the TLS front and the HTTP server: the plain upgrade and frames.
    pub inside: Transcript,
    /// What the client received, in words.
    pub received: Vec<String>,
    /// The server's journal.
    pub log: Vec<String>,
}

/// wss:// end to end: the server, a TLS front with a certificate generated now, a Tap on each
/// side of the TLS front, and a client that trusts exactly that certificate.
///
/// ```text
///  client ══TLS══▶ Tap (outside) ══TLS══▶ TLS front ──▶ Tap (inside) ──▶ tiny_http
/// ```
// ANCHOR: wss
pub async fn wss(outside: Option<Observer>, inside: Option<Observer>) -> Result<WssRecording, DemoError> {
    let server = start_server(Guard::Checked)?;
    let inside_tap = tap(server.addr(), inside).await?;
    let inside_addr = inside_tap.local_addr();
    let cert = LocalCert::generate()?;
    let front = TcpListener::bind("127.0.0.1:0").await?;
    let front_addr = front.local_addr()?;
    let front_task = tokio::spawn(tls::terminate(front, cert.server_config()?, inside_addr));
    let outside_tap = tap(front_addr, outside).await?;

    let tcp = TcpStream::connect(outside_tap.local_addr()).await?;
    tcp.set_nodelay(true)?;
    let outside_connection = outside_tap.accept().await?;
    let inside_connection = tokio::spawn(async move { inside_tap.accept().await });
    // The client checks the server's certificate against the one it was given, by name, and at
    // the end hangs up only after the server has (`tls::ClientStream`).
    let tls = tls::connect(tcp, cert.client_config()?).await?;
    let host = format!("{}:{}", tls::SERVER_NAME, outside_tap.local_addr().port());
    let (name, value) = bearer();
    let ws = client::upgrade(tls, &host, serve::ECHO_PATH, RFC_KEY, &[(name, &value)]).await?;
    let received = client::session(ws, vec![Message::text("Hello, wss!")]).await?;

    let outside = outside_connection.transcript().await;
    let inside = match inside_connection.await {
        Ok(Ok(connection)) => connection.transcript().await,
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => return Err(std::io::Error::other(e).into()),
    };
    front_task.abort();
    let log = server.journal().lines();
    server.stop();
    Ok(WssRecording { outside, inside, received, log })
}
// ANCHOR_END: wss

async fn tap(upstream: SocketAddr, observer: Option<Observer>) -> std::io::Result<Tap> {
    let mut tap = Tap::bind("127.0.0.1:0", upstream).await?;
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    Ok(tap)
}

/// A transcript of TLS records, in a form that is the same on every run.
///
/// Each record is rendered by the Tap's own renderer, without its size: the sizes of the server's
/// first records change from run to run (an ECDSA signature is usually 70 to 72 bytes long,
/// depending on its random nonce), and whether two quick writes travel as one record or two
/// depends on timing. So a run of records that read the same is shown as one line; `just wss`
/// shows every record with its size.
pub fn tls_view(transcript: &Transcript) -> String {
    let style = Render::snapshot().without_tls_sizes();
    let mut out = String::new();
    let mut last_record: Option<String> = None;
    for event in &transcript.events {
        let text = match &event.kind {
            // Its byte counts depend on the record sizes too.
            EventKind::Note(text) if event.dir.is_none() && text.starts_with("the connection is over") => {
                "─── the connection is over\n".to_owned()
            }
            _ => event.render(&style),
        };
        if matches!(event.kind, EventKind::TlsRecord(_)) {
            if last_record.as_deref() == Some(text.as_str()) {
                continue;
            }
            last_record = Some(text.clone());
        } else {
            last_record = None;
        }
        out.push_str(&text);
    }
    out
}

/// The chapter's demos, for `one-port-demo` and `duplex demo`.
pub const DEMOS: &[tap::Demo] = &[
    tap::Demo {
        name: "one-port",
        chapter: "One port, the browser, and wss://",
        about: "an HTTP request and an upgrade on one connection; the upgrade skips the middleware",
        flags: &[],
        run: one_port_demo,
    },
    tap::Demo {
        name: "wss",
        chapter: "One port, the browser, and wss://",
        about: "the same WebSocket through TLS, seen by a Tap outside TLS and one inside",
        flags: &[],
        run: wss_demo,
    },
];

fn one_port_demo(_flags: tap::Flags) -> tap::DemoFuture {
    use crate::server::Guard;
    use tap::outln;
    Box::pin(async {
        outln!("{}", tap::demo::LEGEND);
        for (title, guard, signed_in) in [
            (
                "1. No credentials, and an upgrade branch that checks nothing (`one-port --unchecked`):",
                Guard::Unchecked,
                false,
            ),
            (
                "2. The right way: a bearer token, checked by the middleware and by the upgrade branch:",
                Guard::Checked,
                true,
            ),
        ] {
            outln!("{title}\n");
            let recording = same_port(guard, signed_in, Some(tap::demo::live())).await?;
            outln!("\nThe server's log (which layers saw each request):");
            for line in recording.log {
                outln!("  {line}");
            }
            outln!();
        }
        Ok(())
    })
}

fn wss_demo(_flags: tap::Flags) -> tap::DemoFuture {
    use tap::outln;
    Box::pin(async {
        outln!("{}", tap::demo::LEGEND);
        outln!("Two Taps watch one wss:// connection: `outside` between the client and the TLS front,");
        outln!("`inside` between the TLS front and the HTTP server.\n");
        let outside = tap::demo::live_prefixed("outside │ ");
        let inside = tap::demo::live_prefixed("inside  │ ");
        let recording = wss(Some(outside), Some(inside)).await?;
        outln!("\nThe client trusted exactly the certificate generated at start, and received:");
        for message in recording.received {
            outln!("  {message}");
        }
        Ok(())
    })
}
