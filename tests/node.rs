//! The book's JavaScript, run: the Node programs in `js/` started on free ports, driven by the
//! project's Rust clients through the Tap, their transcripts snapshotted
//! (`tests/snapshots/node__*.snap`) for the book, and set beside the Rust servers' transcripts of
//! the same requests.
//!
//! These tests need Node 20 and npm, so a plain `cargo test` ignores them; `.ci/run` runs them,
//! and so does `cargo test -p duplex-tests --test node -- --ignored`. They install `js/`'s pinned
//! packages themselves (`npm ci`, once, and only when the lockfile changed).
//!
//! Nothing here waits by sleeping: a program says `listening on HOST:PORT` first, and each step
//! waits for a line of the program's log or for an event the Tap recorded. Node runs in real time,
//! so times are never part of a snapshot; the order of events is.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;

use duplex_tests::node::{self, Program};
use duplex_tests::snapshot_body;
use one_port::client;
use one_port::demo::{self, DEMO_TIME, DEMO_TOKEN, DEMO_USER, EVIL_ORIGIN};
use serve::client::RFC_KEY;
use tap::Tap;
use tokio::net::TcpStream;
use tungstenite::Message;
use wire::{Direction, Render, Transcript};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn lines(log: &[String]) -> String {
    log.iter().map(|l| format!("{l}\n")).collect()
}

/// The arguments every one-port program gets: the demo's session and clock, as the Rust
/// server's demos have them.
fn demo_args() -> Vec<String> {
    vec!["--session".into(), format!("{DEMO_TOKEN}={DEMO_USER}"), "--now".into(), DEMO_TIME.to_string()]
}

async fn start(script: &str, args: &[String]) -> Program {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Program::start(script, &args).await
}

/// The one-port chapter's exchange against any server: `GET /api/time`, then on the same TCP
/// connection an upgrade to `/ws/echo`, one message and the close; with `signed_in`, both carry
/// the demo's bearer token. Returns the Tap's transcript and what the client received.
async fn same_connection(server: SocketAddr, signed_in: bool) -> (Transcript, Vec<String>) {
    let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
    let host = tap.local_addr().to_string();
    let mut stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let connection = tap.accept().await.unwrap();
    let (name, value) = demo::bearer();
    let auth: Vec<(&str, &str)> = if signed_in { vec![(name, value.as_str())] } else { Vec::new() };
    let time = client::request("GET", "/api/time", &host, &auth);
    let (_head, body) = client::exchange(&mut stream, &time).await.unwrap();
    let mut received = vec![String::from_utf8_lossy(&body).trim().to_owned()];
    let ws = client::upgrade(stream, &host, serve::ECHO_PATH, RFC_KEY, &auth).await.unwrap();
    received.extend(client::session(ws, vec![Message::text("Hello, one port!")]).await.unwrap());
    (connection.transcript().await, received)
}

/// Waits for the server's line about how the WebSocket ended, and returns its whole log.
async fn log_until_websocket_over(program: &mut Program) -> Vec<String> {
    program.line(|l| l.starts_with("websocket") && l.contains("WebSocket is over")).await;
    program.seen().to_vec()
}

/// The bytes of each frame the server sent, in order: where the protocol fixes them, Node's `ws`
/// and tungstenite must agree to the byte.
fn server_frames(transcript: &Transcript) -> Vec<Vec<u8>> {
    transcript
        .frames()
        .filter(|(dir, _)| *dir == Direction::ServerToClient)
        .map(|(_, frame)| {
            let mut bytes = Vec::new();
            frame.header.encode_into(&mut bytes);
            bytes.extend_from_slice(&frame.payload);
            bytes
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_seeds_koa_and_ws_let_an_upgrade_skip_the_middleware() {
    let mut server = start("one-port/seed-shape.mjs", &demo_args()).await;
    let (transcript, received) = same_connection(server.addr(), false).await;
    assert!(received[0].starts_with("sign in first"), "koa's session check refuses the API: {received:?}");
    assert_eq!(
        received[1], "text \"hello, whoever you are\"",
        "the same client, on the same connection, is let into the WebSocket without a session"
    );
    let log = log_until_websocket_over(&mut server).await;
    assert!(
        !log.iter().any(|l| l.starts_with("logger") && l.contains(serve::ECHO_PATH)),
        "koa's logger must not have seen the upgrade request: {log:#?}"
    );
    assert_eq!(
        lines(&log),
        snapshot_body("one_port__middleware_skipped_log"),
        "the Node server's log says what the Rust server's journal says, line for line"
    );
    snapshot("seed_shape_middleware_skipped", &transcript.render(&Render::snapshot()));
    snapshot("seed_shape_middleware_skipped_log", &lines(&log));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_checked_upgrade_lets_a_signed_in_client_in_on_the_connection_of_its_api_call() {
    let mut server = start("one-port/upgrade-check.mjs", &demo_args()).await;
    let (transcript, received) = same_connection(server.addr(), true).await;
    assert_eq!(
        received,
        [
            format!("{{\"user\":\"{DEMO_USER}\",\"unix_seconds\":{DEMO_TIME}}}"),
            "text \"hello, ada\"".to_owned(),
            "text \"Hello, one port!\"".to_owned(),
            "close 1000 normal closure \"done\"".to_owned(),
        ]
    );
    let log = log_until_websocket_over(&mut server).await;
    assert_eq!(
        lines(&log),
        snapshot_body("one_port__http_then_upgrade_log"),
        "the Node server's log says what the Rust server's journal says, line for line"
    );
    // The Rust server's transcript of the same exchange, from its snapshot: the frames the server
    // sent are the same bytes, and so is the accept key; the HTTP heads are each server's own.
    let rust = demo::same_port(one_port::server::Guard::Checked, true, None).await.unwrap().transcript;
    assert_eq!(server_frames(&transcript), server_frames(&rust), "the server's frames, byte for byte");
    let accept = |t: &Transcript| {
        t.heads().find_map(|(_, h)| h.header("Sec-WebSocket-Accept").map(str::to_owned)).unwrap()
    };
    assert_eq!(accept(&transcript), accept(&rust), "RFC 6455 §1.3 fixes the accept key");
    snapshot("upgrade_check_http_then_upgrade", &transcript.render(&Render::snapshot()));
    server.stop().await;
}

/// One raw request through a Tap to `server`; the transcript, rendered for a snapshot.
async fn one_request(server: SocketAddr, request: impl FnOnce(&str) -> String) -> (String, u16) {
    let (transcript, head) = demo::one_request(server, request, None).await.unwrap();
    (transcript.render(&Render::snapshot()), head.status().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_checked_upgrade_refuses_like_the_rust_server_to_the_byte() {
    let mut server = start("one-port/upgrade-check.mjs", &demo_args()).await;
    let (no_auth, status) = one_request(server.addr(), demo::anonymous_upgrade).await;
    assert_eq!(status, 401);
    assert_eq!(
        no_auth,
        snapshot_body("one_port__no_auth_gets_401"),
        "the 401 on the raw socket is byte for byte the Rust server's, and so is the ending"
    );
    let (wrong_origin, status) =
        one_request(server.addr(), |host| demo::browser_upgrade(host, EVIL_ORIGIN)).await;
    assert_eq!(status, 403);
    assert_eq!(wrong_origin, snapshot_body("one_port__wrong_origin_gets_403"), "the 403 too");
    // The server's own origin with the session cookie: 101.
    let own = format!("http://127.0.0.1:{}", server.addr().port());
    let (_, status) = one_request(server.addr(), |host| demo::browser_upgrade(host, &own)).await;
    assert_eq!(status, 101, "the allow-list holds the server's own origins");

    server.line(|l| l.contains("→ 101 for ada")).await;
    snapshot("upgrade_check_refusals_log", &lines(server.seen()));
    snapshot("upgrade_check_no_auth_gets_401", &no_auth);
    snapshot("upgrade_check_wrong_origin_gets_403", &wrong_origin);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn a_plain_get_to_the_websocket_path_gets_426_from_koa() {
    let mut server = start("one-port/upgrade-check.mjs", &demo_args()).await;
    let (text, status) = one_request(server.addr(), demo::plain_get).await;
    assert_eq!(status, 426);
    let body = |t: &str| t.lines().find(|l| l.starts_with("S→C body")).map(str::to_owned);
    assert_eq!(
        body(&text),
        body(&snapshot_body("one_port__plain_get_gets_426")),
        "the same explanation as the Rust server's"
    );
    assert!(
        text.contains("    Upgrade: websocket\n"),
        "RFC 9110 §15.5.22: a 426 names the protocol:\n{text}"
    );
    assert_eq!(server.line(|l| l.starts_with("logger")).await, "logger    GET /ws/echo → 426");
    snapshot("upgrade_check_plain_get_gets_426", &text);
    server.stop().await;
}

#[test]
fn every_program_in_js_parses() {
    // `node --check` needs no packages: this runs wherever Node is, and says so where it is not.
    let mut checked = 0;
    let mut stack = vec![node::js_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("node_modules") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "mjs") {
                let Ok(out) = std::process::Command::new(node::node()).arg("--check").arg(&path).output()
                else {
                    eprintln!("node is not installed: the syntax of js/ is not checked");
                    return;
                };
                assert!(
                    out.status.success(),
                    "node --check {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "only {checked} programs found in js/");
}

/// Milliseconds between the Node server's pings in the heartbeat tests: short, so a test takes
/// about a second and a half, and long enough that a pong (a millisecond away on loopback) always
/// arrives before the next ping, even on a busy machine.
const PING_INTERVAL_MS: u64 = 300;

/// Unanswered pings the Node server tolerates, as the Rust chapter's demo does.
const MISSED: u32 = 2;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_ws_heartbeat_finds_a_dead_peer_and_terminates_it() {
    use futures_util::StreamExt;
    use std::sync::{Arc, OnceLock};
    use tap::TapControl;
    use wire::{Closure, EventKind, OpCode};

    let interval = PING_INTERVAL_MS.to_string();
    let missed = MISSED.to_string();
    let mut server =
        Program::start("heartbeat/server.mjs", &["--interval", &interval, "--missed", &missed]).await;

    // The path dies just as the server sends its third ping: the Tap becomes a blackhole when it
    // sees that ping, before passing it on. A switch thrown by what the Tap sees, not by a clock,
    // so that exactly two pings are answered on every run, however busy the machine.
    let control: Arc<OnceLock<Arc<TapControl>>> = Arc::default();
    let (server_closed, mut server_closed_seen) = tokio::sync::mpsc::unbounded_channel();
    let tap = {
        let control = control.clone();
        Tap::bind("127.0.0.1:0", server.addr()).await.unwrap().observe(move |_, event| match &event.kind {
            EventKind::Frame(frame)
                if event.dir == Some(Direction::ServerToClient)
                    && frame.header.opcode == OpCode::Ping
                    && frame.payload == b"3" =>
            {
                if let Some(control) = control.get() {
                    control.set_blackhole(true);
                }
            }
            EventKind::Closed(Closure::Fin | Closure::Reset)
                if event.dir == Some(Direction::ServerToClient) =>
            {
                let _ = server_closed.send(());
            }
            _ => {}
        })
    };
    let stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    let connection = tap.accept().await.unwrap();
    let _ = control.set(connection.control());
    let ws =
        serve::client::connect_over(stream, &tap.local_addr().to_string(), "/ws/heartbeat", Some(RFC_KEY))
            .await
            .unwrap();
    // The client only reads: tungstenite answers each ping by itself, as every WebSocket library
    // (and every browser) does.
    let (seen_by_client, mut client_saw) = tokio::sync::mpsc::unbounded_channel();
    let client = tokio::spawn(async move {
        let mut ws = ws;
        while let Some(Ok(message)) = ws.next().await {
            let _ = seen_by_client.send(serve::client::describe(&message));
        }
    });

    let gave_up = server.line(|l| l.contains("terminate()")).await;
    assert_eq!(gave_up, format!("heartbeat connection 1: {MISSED} pings unanswered, terminate()"));
    server.line(|l| l.contains("is over")).await;
    // The server's FIN reaches the Tap (and goes no further); then the client, which never heard
    // of it, is stopped by the test: a real one would wait for its own heartbeat to give up.
    tokio::time::timeout(node::PATIENCE, server_closed_seen.recv()).await.unwrap();
    client.abort();
    let _ = client.await;
    let transcript = connection.transcript().await;

    let mut received = Vec::new();
    while let Ok(line) = client_saw.try_recv() {
        received.push(line);
    }
    assert_eq!(received, ["ping \"1\"", "ping \"2\""], "the client got the first two pings only");
    let pongs = transcript.frames().filter(|(_, f)| f.header.opcode == OpCode::Pong).count();
    assert_eq!(pongs, 2, "two pongs went back before the path died");
    let mut text = heartbeat::endings::condensed(&transcript).render(&Render::snapshot());
    text.push_str("\nWhat the Node server logged:\n");
    for line in server.seen() {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str("\nWhat the client's application saw:\n");
    for line in &received {
        text.push_str(&format!("  {line} (tungstenite answered it by itself)\n"));
    }
    text.push_str("  then nothing at all: the server's goodbye was lost too\n");
    snapshot("heartbeat_dead_peer", &text);
    server.stop().await;
}

/// A certificate for `localhost` made now, as the Rust chapter makes its own (rcgen, ECDSA P-256),
/// written as PEM files for the Node server; and a client configuration that trusts exactly it.
struct TestCert {
    dir: tempfile::TempDir,
    client: std::sync::Arc<rustls::ClientConfig>,
}

impl TestCert {
    fn generate() -> TestCert {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec![one_port::tls::SERVER_NAME.to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(one_port::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TestCert { dir, client: std::sync::Arc::new(client) }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn node_serves_wss_with_a_certificate_and_key_from_files() {
    let cert = TestCert::generate();
    let mut server =
        Program::start("wss/server.mjs", &["--cert", &cert.path("cert.pem"), "--key", &cert.path("key.pem")])
            .await;
    // Node's TLS (OpenSSL) sends two session tickets once the handshake is over (RFC 8446 §4.6.1),
    // and no option turns them off; the Rust server is told to send none. So that they pass the
    // Tap at the same moment on every run, the client waits until the Tap has seen them before it
    // sends its upgrade request.
    let (tickets, tickets_seen) = tokio::sync::oneshot::channel::<()>();
    let tickets = std::sync::Mutex::new(Some(tickets));
    let client_finished = std::sync::atomic::AtomicBool::new(false);
    let tap = Tap::bind("127.0.0.1:0", server.addr()).await.unwrap().observe(move |_, event| {
        use std::sync::atomic::Ordering;
        let wire::EventKind::TlsRecord(record) = &event.kind else { return };
        if record.content != wire::TlsContent::Encrypted {
            return;
        }
        match event.dir {
            // The client's first encrypted record is its Finished: the handshake is over.
            Some(Direction::ClientToServer) => client_finished.store(true, Ordering::SeqCst),
            // The server's first encrypted record after that carries the tickets.
            Some(Direction::ServerToClient) if client_finished.load(Ordering::SeqCst) => {
                if let Some(tickets) = tickets.lock().unwrap().take() {
                    let _ = tickets.send(());
                }
            }
            _ => {}
        }
    });
    let tcp = TcpStream::connect(tap.local_addr()).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let connection = tap.accept().await.unwrap();
    // The client checks the server's certificate against the one it was given, by name.
    let tls = one_port::tls::connect(tcp, cert.client.clone()).await.unwrap();
    tokio::time::timeout(node::PATIENCE, tickets_seen).await.unwrap().unwrap();
    let host = format!("{}:{}", one_port::tls::SERVER_NAME, tap.local_addr().port());
    let ws = client::upgrade(tls, &host, serve::ECHO_PATH, RFC_KEY, &[]).await.unwrap();
    let received = client::session(ws, vec![Message::text("Hello, wss!")]).await.unwrap();
    assert_eq!(
        received,
        ["text \"hello over wss\"", "text \"Hello, wss!\"", "close 1000 normal closure \"done\""],
        "the client verified the certificate, upgraded and was echoed"
    );
    let outside = connection.transcript().await;
    let view = demo::tls_view(&outside);
    assert_eq!(outside.heads().count(), 0, "outside TLS there is no HTTP to see:\n{view}");
    assert_eq!(outside.frames().count(), 0, "and no WebSocket frame:\n{view}");
    let opened = server.line(|l| l.starts_with("websocket open over")).await;
    assert!(opened.contains("TLSv1.3"), "{opened}");
    server.line(|l| l.contains("closed:")).await;
    assert!(view.contains("the server chose TLS 1.3"), "{view}");
    snapshot("wss_outside_tls", &view);
    server.stop().await;
}

/// Every connection a Node client makes through a Tap to `server` while `client` runs, each
/// recorded whole; in the order the Tap accepted them.
async fn record_connections<F, Fut>(server: SocketAddr, client: F) -> (Vec<Transcript>, Fut::Output)
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: std::future::Future,
{
    let tap = Tap::bind("127.0.0.1:0", server).await.unwrap();
    let tap_addr = tap.local_addr();
    let (connections, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    let acceptor = tokio::spawn(async move {
        while let Ok(connection) = tap.accept().await {
            if connections.send(connection).is_err() {
                break;
            }
        }
    });
    let output = client(tap_addr).await;
    acceptor.abort();
    let mut transcripts = Vec::new();
    while let Ok(connection) = accepted.try_recv() {
        let transcript = tokio::time::timeout(node::PATIENCE, connection.transcript())
            .await
            .expect("every connection ends once the client has");
        transcripts.push(transcript);
    }
    (transcripts, output)
}

/// What differs between runs of Socket.IO, hidden: its session ids (Engine.IO's and
/// Socket.IO's, each 20 characters), the cache-busting `t=` in polling URLs (8 characters), and
/// the client's random `Sec-WebSocket-Key` with the accept that answers it. The lengths are
/// fixed, so the byte counts stay true. Without hex lines: the ids would show in them.
fn render_socket_io(transcript: &Transcript, ids: &mut Vec<String>) -> String {
    let style =
        Render::snapshot().without_hex().redacting("Sec-WebSocket-Key").redacting("Sec-WebSocket-Accept");
    let mut text = fins_crossed(transcript).render(&style);
    // Every `"sid":"…"` in a body or a frame, in order: the first is Engine.IO's, the second
    // Socket.IO's.
    let payloads = transcript.events.iter().filter_map(|e| match &e.kind {
        wire::EventKind::Body { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
        wire::EventKind::Frame(f) => Some(String::from_utf8_lossy(&f.payload).into_owned()),
        _ => None,
    });
    for payload in payloads {
        for part in payload.split("\"sid\":\"").skip(1) {
            let id = part.split('"').next().unwrap_or_default().to_owned();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    for (n, id) in ids.iter().enumerate() {
        let name = if n == 0 { "‹sid›" } else { "‹socket-sid›" };
        text = text.replace(id, name);
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("&t=").or_else(|| rest.find("?t=")) {
        out.push_str(&rest[..at + 3]);
        out.push_str("‹t›");
        rest = rest[at + 3..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    }
    out.push_str(rest);
    out
}

/// The transcript with its two closing FINs as one line when both sides closed at about the same
/// moment: between a Node client and a Node server, which FIN reaches the Tap first changes from
/// run to run (each side closes as soon as it is done, without waiting for the other).
fn fins_crossed(transcript: &Transcript) -> Transcript {
    use wire::{Closure, Event, EventKind};
    let mut events = transcript.events.clone();
    let fins: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, EventKind::Closed(Closure::Fin)))
        .map(|(i, _)| i)
        .collect();
    if let [first, second] = fins[..]
        && second == first + 1
        && second + 2 == events.len()
    {
        events.remove(second);
        events[first] = Event::note(
            "both sides closed their side of the TCP connection (FIN); which FIN comes first changes from run to run",
        );
    }
    Transcript { events }
}

/// Where a connection of a Socket.IO client belongs in the story: the handshake, the POST that
/// carries the client's packets, the long poll, the WebSocket. The last three run at once, so the
/// order they reach the Tap in can change; the story's order does not.
fn socket_io_step(transcript: &Transcript) -> u8 {
    let Some((_, head)) = transcript.heads().next() else { return 4 };
    let line = head.start.to_string();
    match () {
        () if line.contains("transport=websocket") => 3,
        () if line.starts_with("POST") => 1,
        () if line.contains("sid=") => 2,
        () => 0,
    }
}

/// A Socket.IO client's whole session, through the Tap: every connection, and what the client
/// and the server said.
async fn socket_io_session(transports: Option<&str>) -> String {
    let mut server =
        Program::start("socketio/server.mjs", &["--ping-interval", "1000", "--connect-after-upgrade"]).await;
    let (mut transcripts, said) = record_connections(server.addr(), |tap| async move {
        let url = format!("http://{tap}");
        let mut args = vec![url.as_str()];
        args.extend(transports);
        node::run("socketio/client.mjs", &args).await
    })
    .await;
    server.line(|l| l.contains("is over")).await;
    transcripts.sort_by_key(socket_io_step);
    let mut ids = Vec::new();
    let mut text = String::new();
    let what = ["the handshake", "the client's packets, posted", "the long poll", "the WebSocket"];
    for transcript in &transcripts {
        let step = socket_io_step(transcript);
        let what = what.get(usize::from(step)).copied().unwrap_or("another connection");
        text.push_str(&format!("[{what}]\n{}\n", render_socket_io(transcript, &mut ids)));
    }
    text.push_str("What the client said:\n");
    for line in &said {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str("What the server logged:\n");
    for line in server.seen() {
        text.push_str(&format!("  {line}\n"));
    }
    server.stop().await;
    text
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn socket_io_polls_then_upgrades_and_speaks_engine_io_packets() {
    let text = socket_io_session(None).await;
    for packet in
        ["\"2probe\"", "\"3probe\"", "\"5\"", "\"42[\\\"chat\\\",\\\"hello\\\"]\"", "\"2\"", "\"3\""]
    {
        assert!(text.contains(packet), "Engine.IO's packet {packet} is on the wire:\n{text}");
    }
    assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 4, "four TCP connections:\n{text}");
    snapshot("socketio_polling_then_upgrade", &text);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn socket_io_over_a_websocket_alone_still_speaks_engine_io_packets() {
    let text = socket_io_session(Some("websocket")).await;
    assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 1, "one TCP connection:\n{text}");
    snapshot("socketio_websocket_only", &text);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn a_plain_websocket_client_cannot_talk_to_a_socket_io_server() {
    use futures_util::{SinkExt, StreamExt};
    let server = Program::start("socketio/server.mjs", &["--ping-interval", "1000"]).await;
    let upgrade_to = |path: &'static str| {
        move |host: &str| {
            client::request(
                "GET",
                path,
                host,
                &[
                    ("Connection", "Upgrade"),
                    ("Upgrade", "websocket"),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Key", RFC_KEY),
                ],
            )
        }
    };
    let mut text = String::new();

    // Socket.IO's path, as `new WebSocket("ws://host/socket.io/")` asks for it: Engine.IO wants
    // its query (`EIO=4&transport=websocket`) and refuses without it.
    let (refused, status) = one_request(server.addr(), upgrade_to("/socket.io/")).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("\"Transport unknown\""), "{refused}");
    text.push_str(&format!("1. ws://HOST/socket.io/\n{refused}\n"));

    // With the query, the WebSocket opens, and Engine.IO speaks first: its open packet. A plain
    // message is not an Engine.IO packet, and the server hangs up.
    let (transcripts, received) = record_connections(server.addr(), |tap| async move {
        let stream = TcpStream::connect(tap).await.unwrap();
        let path = "/socket.io/?EIO=4&transport=websocket";
        let mut ws =
            serve::client::connect_over(stream, &tap.to_string(), path, Some(RFC_KEY)).await.unwrap();
        let mut received = Vec::new();
        if let Some(Ok(open)) = ws.next().await {
            received.push(serve::client::describe(&open));
        }
        ws.send(Message::text("hello")).await.unwrap();
        while let Some(message) = ws.next().await {
            received.push(message.map_or_else(|e| format!("error: {e}"), |m| serve::client::describe(&m)));
        }
        received
    })
    .await;
    assert_eq!(received.last().map(String::as_str), Some("close (no code: 1005)"), "{received:?}");
    let mut ids = Vec::new();
    let opened = render_socket_io(&transcripts[0], &mut ids);
    text.push_str(&format!("2. ws://HOST/socket.io/?EIO=4&transport=websocket, then \"hello\"\n{opened}\n"));

    // Any other path: Engine.IO leaves the upgrade alone, and after a second (its
    // `destroyUpgradeTimeout`) ends the connection with no answer at all.
    let (transcripts, answer) = record_connections(server.addr(), |tap| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = TcpStream::connect(tap).await.unwrap();
        stream.write_all(upgrade_to("/ws/echo")(&tap.to_string()).as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        answer
    })
    .await;
    assert!(answer.is_empty(), "no answer at all: {answer:?}");
    let silent = transcripts[0].render(&Render::snapshot());
    text.push_str(&format!("3. ws://HOST/ws/echo (any path but Socket.IO's)\n{silent}"));
    snapshot("socketio_plain_websocket", &text);
    server.stop().await;
}

/// The auth server's own origin, as a page it served would send it.
fn own_origin(server: &Program) -> String {
    format!("http://127.0.0.1:{}", server.addr().port())
}

/// `POST /api/ticket` with the demo's session cookie, through a Tap: the transcript and the
/// ticket from the JSON answer.
async fn fetch_ticket(server: &Program) -> (Transcript, String) {
    let origin = own_origin(server);
    let cookie = format!("session={DEMO_TOKEN}");
    let (transcript, head) = demo::one_request(
        server.addr(),
        |host| {
            client::request(
                "POST",
                "/api/ticket",
                host,
                &[("Origin", &origin), ("Cookie", &cookie), ("Content-Length", "0")],
            )
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(head.status(), Some(200));
    let body = transcript
        .events
        .iter()
        .find_map(|e| match &e.kind {
            wire::EventKind::Body { data, .. } => Some(data.clone()),
            _ => None,
        })
        .expect("the answer has a body");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let ticket = json["ticket"].as_str().unwrap().to_owned();
    assert_eq!(ticket.len(), 43, "32 random bytes in base64url: {ticket}");
    (transcript, ticket)
}

/// An upgrade from the server's own page (its `Origin`) to `path`, through a Tap, then `script`
/// on the open socket. Returns the transcript and what `script` returned.
async fn page_websocket<F, Fut>(server: &Program, path: &str, script: F) -> (Transcript, Vec<String>)
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<TcpStream>) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let tap = Tap::bind("127.0.0.1:0", server.addr()).await.unwrap();
    let stream = TcpStream::connect(tap.local_addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let connection = tap.accept().await.unwrap();
    let origin = own_origin(server);
    let ws = client::upgrade(stream, &tap.local_addr().to_string(), path, RFC_KEY, &[("Origin", &origin)])
        .await
        .unwrap();
    let received = script(ws).await;
    (connection.transcript().await, received)
}

/// Reads every message until the server has closed the connection, in words.
async fn read_to_end(mut ws: tokio_tungstenite::WebSocketStream<TcpStream>) -> Vec<String> {
    use futures_util::StreamExt;
    let mut received = Vec::new();
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => received.push(serve::client::describe(&message)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    received
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn a_one_time_ticket_fetched_over_http_opens_one_websocket_once() {
    let session = format!("{DEMO_TOKEN}={DEMO_USER}");
    let mut server = Program::start("auth/server.mjs", &["--session", &session]).await;
    let (fetched, ticket) = fetch_ticket(&server).await;
    let path = format!("/ws/ticket?ticket={ticket}");
    let (opened, received) = page_websocket(&server, &path, |ws| async move {
        client::session(ws, vec![Message::text("Hello, ticket!")]).await.unwrap()
    })
    .await;
    assert_eq!(received[0], "text \"hello, ada\"", "the ticket said who the socket is");
    // Used once, it is gone.
    let (reused, status) = one_request(server.addr(), |host| {
        client::request(
            "GET",
            &path,
            host,
            &[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", RFC_KEY),
            ],
        )
    })
    .await;
    assert_eq!(status, 401, "a ticket opens one WebSocket, once:\n{reused}");
    server.line(|l| l.contains("unknown, used or expired")).await;
    assert!(
        server.seen().iter().all(|l| !l.contains(&ticket)),
        "the server never logs a ticket: {:#?}",
        server.seen()
    );

    let style = Render::snapshot();
    let mut text = String::from("[POST /api/ticket, with the session cookie]\n");
    text.push_str(&fetched.render(&style));
    text.push_str("\n[the WebSocket, with the ticket in its URL]\n");
    text.push_str(&opened.render(&style));
    text.push_str("\n[the same URL again]\n");
    text.push_str(&reused);
    text.push_str("\nWhat the server logged:\n");
    for line in server.seen() {
        text.push_str(&format!("  {line}\n"));
    }
    snapshot("auth_ticket", &text.replace(&ticket, "‹ticket›"));
    server.stop().await;

    // A ticket older than its time to live is refused too (here the time to live is 0).
    let server = Program::start("auth/server.mjs", &["--session", &session, "--ticket-ttl-ms", "0"]).await;
    let (_, ticket) = fetch_ticket(&server).await;
    let (_, status) = one_request(server.addr(), |host| {
        client::request(
            "GET",
            &format!("/ws/ticket?ticket={ticket}"),
            host,
            &[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", RFC_KEY),
            ],
        )
    })
    .await;
    assert_eq!(status, 401, "an expired ticket opens nothing");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn a_token_in_the_first_message_authenticates_and_a_wrong_one_gets_1008() {
    use futures_util::{SinkExt, StreamExt};
    let session = format!("{DEMO_TOKEN}={DEMO_USER}");
    let mut server = Program::start("auth/server.mjs", &["--session", &session]).await;
    let token = format!("{{\"token\":\"{DEMO_TOKEN}\"}}");
    let (good, received) = page_websocket(&server, "/ws/first-message", |mut ws| async move {
        ws.send(Message::text(token)).await.unwrap();
        let greeting = serve::client::describe(&ws.next().await.unwrap().unwrap());
        let mut rest = vec![greeting];
        ws.send(Message::text("Hello, token!")).await.unwrap();
        rest.push(serve::client::describe(&ws.next().await.unwrap().unwrap()));
        let done = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "done".into(),
        };
        ws.close(Some(done)).await.unwrap();
        rest.extend(read_to_end(ws).await);
        rest
    })
    .await;
    assert_eq!(received[0], "text \"hello, ada\"");
    let (bad, refused) = page_websocket(&server, "/ws/first-message", |mut ws| async move {
        ws.send(Message::text("{\"token\":\"not-a-session\"}")).await.unwrap();
        read_to_end(ws).await
    })
    .await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with("close 1008 policy violation"), "{refused:?}");
    server.line(|l| l.contains("closing with 1008")).await;
    let style = Render::snapshot();
    let mut text = String::from("[a valid token first]\n");
    text.push_str(&good.render(&style));
    text.push_str("\n[a token that is no session's]\n");
    text.push_str(&bad.render(&style));
    text.push_str("\nWhat the server logged:\n");
    for line in server.seen() {
        text.push_str(&format!("  {line}\n"));
    }
    snapshot("auth_first_message", &text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_cookie_scheme_needs_the_origin_check() {
    let session = format!("{DEMO_TOKEN}={DEMO_USER}");
    let server = Program::start("auth/server.mjs", &["--session", &session]).await;
    let upgrade = |origin: String| {
        move |host: &str| {
            let cookie = format!("session={DEMO_TOKEN}");
            client::request(
                "GET",
                "/ws/cookie",
                host,
                &[
                    ("Connection", "Upgrade"),
                    ("Upgrade", "websocket"),
                    ("Sec-WebSocket-Version", "13"),
                    ("Sec-WebSocket-Key", RFC_KEY),
                    ("Origin", &origin),
                    ("Cookie", &cookie),
                ],
            )
        }
    };
    let (_, status) = one_request(server.addr(), upgrade(own_origin(&server))).await;
    assert_eq!(status, 101, "the server's own page, with the cookie");
    let (_, status) = one_request(server.addr(), upgrade(EVIL_ORIGIN.to_owned())).await;
    assert_eq!(status, 403, "another site's page, with the same cookie (the browser adds it)");
    server.stop().await;
}

#[tokio::test]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn the_reconnect_modules_rules_pass_nodes_own_tests() {
    // `node --test`: the browser module's pure parts (which codes to retry, the jittered wait),
    // checked where they run fastest. The browser tests run the whole module in Chromium.
    let lines = node::run("browser/reconnect.test.mjs", &[]).await;
    let text = lines.join("\n");
    assert!(text.contains("# pass 4") && text.contains("# fail 0"), "{text}");
}

/// The transcript and what the client saw, as one text (as `tests/subprotocols.rs` has it).
fn offer_text(transcript: &Transcript, said: &[String]) -> String {
    let mut text = transcript.render(&Render::snapshot());
    text.push_str("\nWhat the client saw:\n");
    for line in said {
        text.push_str(&format!("  {line}\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn ws_picks_and_refuses_subprotocols_like_the_rust_servers_to_the_byte() {
    let offer = ["chat.v2", "chat.v1"];
    let mut server = Program::start("subprotocols/server.mjs", &[]).await;
    let (picked, said) =
        serve::client::offer_protocols(server.addr(), serve::ECHO_PATH, &offer).await.unwrap();
    assert_eq!(said[1], "ws.protocol: \"chat.v2\"", "handleProtocols took the client's first that it speaks");
    assert_eq!(
        offer_text(&picked, &said),
        snapshot_body("subprotocols__pick"),
        "ws's 101 and frames are the Rust servers', byte for byte"
    );
    let (refused, said) =
        serve::client::offer_protocols(server.addr(), serve::ECHO_PATH, &["chat.v3"]).await.unwrap();
    assert_eq!(
        offer_text(&refused, &said),
        snapshot_body("subprotocols__no_common_protocol"),
        "the 'upgrade' handler's 400 is the Rust servers', byte for byte"
    );
    server.line(|l| l.contains("→ 400")).await;
    snapshot("subprotocols_log", &lines(server.seen()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node 20 and npm: run by .ci/run, or cargo test -p duplex-tests --test node -- --ignored"]
async fn a_101_without_the_offered_subprotocol_or_with_another_is_failed_by_the_client() {
    let offer = ["chat.v2", "chat.v1"];
    // What ws does by itself when `handleProtocols` finds nothing in common: 101, no header.
    let mut server = Program::start("subprotocols/server.mjs", &["--proceed"]).await;
    let (proceeded, said) =
        serve::client::offer_protocols(server.addr(), serve::ECHO_PATH, &["chat.v3"]).await.unwrap();
    assert_eq!(
        said[1],
        "the client failed the connection: WebSocket error: WebSocket protocol error: SubProtocol \
         error: Server sent no subprotocol",
        "the WebSockets Standard (and tungstenite): offered some, got none, fail"
    );
    server.line(|l| l.contains("closed")).await;
    let mut text = offer_text(&proceeded, &said);
    text.push_str("\nWhat the server logged:\n");
    for line in server.seen() {
        text.push_str(&format!("  {line}\n"));
    }
    snapshot("subprotocols_proceed_without_one", &text);
    server.stop().await;

    // A broken server that names a protocol nobody offered.
    let mut server = Program::start("subprotocols/server.mjs", &["--misbehave"]).await;
    let (unoffered, said) =
        serve::client::offer_protocols(server.addr(), serve::ECHO_PATH, &offer).await.unwrap();
    assert_eq!(
        offer_text(&unoffered, &said),
        snapshot_body("subprotocols__unoffered_protocol"),
        "tungstenite fails ws's chat.v9 as it fails the Rust test server's, byte for byte"
    );
    server.line(|l| l.contains("closed")).await;
    assert!(
        server.seen().iter().any(|l| l.contains("ws.protocol is \"chat.v9\"")),
        "ws itself believes the socket opened: {:#?}",
        server.seen()
    );
    server.stop().await;
}
