//! The blocking echo's endings on real loopback sockets: a message over the limit (1009), a peer
//! that never answers our close, a client that stopped reading (1013), and the log line of each.
//!
//! Blocking servers run in real time, so nothing here is timed: the limits that matter are short
//! or long as each test needs, and every wait is for a condition (the server's ending, a log
//! line) with a generous upper bound, [`PATIENCE`].

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serve::Ending;
use tungstenite::Message;
use ws_echo::{Limits, PATH};

/// The longest any test waits for anything: far more than any ending needs.
const PATIENCE: Duration = Duration::from_secs(30);

/// A close timeout no test reaches: an ending that arrives within [`PATIENCE`] came from the
/// peer, not from the timeout.
const NEVER: Duration = Duration::from_secs(600);

/// One connection served by [`serve::blocking::handle`] on a thread of its own; the ending
/// comes through the receiver. A panic on that thread drops the sender, which [`ending`] reports.
fn serve_one(limits: Limits) -> (String, std::thread::JoinHandle<()>, mpsc::Receiver<Option<Ending>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}{PATH}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let _ = tx.send(serve::blocking::handle(stream, &limits));
    });
    (url, server, rx)
}

/// How the connection ended, as the server reports it; fails if the server thread panicked.
fn ending(server: std::thread::JoinHandle<()>, rx: &mpsc::Receiver<Option<Ending>>) -> Ending {
    match rx.recv_timeout(PATIENCE) {
        Ok(Some(ending)) => {
            server.join().unwrap();
            ending
        }
        Ok(None) => panic!("the server refused the handshake"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let panicked = server.join().is_err();
            panic!("the server thread ended without an ending (panicked: {panicked})")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the server did not end the connection in {PATIENCE:?}")
        }
    }
}

fn connect(url: &str) -> tungstenite::WebSocket<TcpStream> {
    let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches(PATH)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    tungstenite::client(url, stream).unwrap().0
}

#[test]
fn a_message_over_the_limit_gets_1009_and_the_close_handshake_completes_without_a_panic() {
    let limits = Limits { close_timeout: NEVER, ..Limits::default() };
    let (url, server, rx) = serve_one(limits.clone());
    let mut client = connect(&url);
    client.send(Message::text("x".repeat(limits.max_message + 1))).unwrap();
    let answer = client.read().unwrap();
    let Message::Close(Some(frame)) = answer else { panic!("expected a close frame, got {answer:?}") };
    assert_eq!(u16::from(frame.code), 1009, "RFC 6455 §7.4.1: 1009 for a message too big to process");
    assert!(frame.reason.starts_with("Space limit exceeded: Message too long"), "{}", frame.reason);
    // tungstenite answers the close on this read, then sees the server close TCP: a clean end,
    // not a reset.
    match client.read() {
        Err(tungstenite::Error::ConnectionClosed) => {}
        other => panic!("expected the server to close TCP after the close handshake, got {other:?}"),
    }
    drop(client);
    // The close timeout is ten minutes: the server let go because the client closed its half.
    let ending = ending(server, &rx);
    assert!(matches!(ending, Ending::WeClosed(wire::CloseCode::TOO_BIG, _)), "{ending:?}");
}

#[test]
fn a_peer_that_never_answers_the_close_is_let_go_after_the_close_timeout() {
    let limits = Limits { close_timeout: Duration::from_millis(200), ..Limits::default() };
    let (url, server, rx) = serve_one(limits);
    let mut client = connect(&url);
    // A frame header that claims a terabyte, and some of its payload; then silence, for ever.
    let mut frame = vec![0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    frame.extend(vec![0u8; 8192]);
    client.get_mut().write_all(&frame).unwrap();
    let ending = ending(server, &rx);
    assert!(matches!(ending, Ending::WeClosed(wire::CloseCode::TOO_BIG, _)), "{ending:?}");
    // The close frame went out before the server closed its half.
    let mut rest = Vec::new();
    let _ = client.get_mut().read_to_end(&mut rest);
    assert_eq!(rest.first(), Some(&0x88), "a close frame first: {rest:02x?}");
    assert_eq!(rest.get(2..4), Some(&1009u16.to_be_bytes()[..]), "with code 1009: {rest:02x?}");
}

/// Sends a 60 KB message after another, never reading the echoes, until the server gives up on
/// it (and its socket is closed, so a write fails).
fn push_without_reading(mut client: tungstenite::WebSocket<TcpStream>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let message = Message::binary(vec![7u8; 60_000]);
        while client.send(message.clone()).is_ok() {}
    })
}

#[test]
fn a_client_that_stops_reading_is_closed_with_1013_after_the_send_timeout() {
    let limits = Limits {
        send_timeout: Duration::from_millis(200),
        close_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let (url, server, rx) = serve_one(limits);
    let pusher = push_without_reading(connect(&url));
    let ending = ending(server, &rx);
    assert!(
        matches!(ending, Ending::WeClosed(code, _) if code == guard::limits::SLOW_READER_CODE),
        "{ending:?}"
    );
    pusher.join().unwrap();
}

/// A child process that is killed when the test ends, passed or failed.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_blocking_server_logs_the_1013_that_ends_a_client_that_stopped_reading() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_ws-echo-server"))
        .args(["--blocking", "--port", "0", "--send-timeout", "0.2", "--close-timeout", "0.2"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Killed)
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut banner).unwrap();
    let url = banner.split_whitespace().last().unwrap().to_owned();
    let (tx, lines) = mpsc::channel();
    let stderr = BufReader::new(server.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let pusher = push_without_reading(connect(&url));
    let mut seen = Vec::new();
    let found = loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) if line.contains("WebSocket closed") => break line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no \"WebSocket closed\" line in {PATIENCE:?}; the server logged: {seen:#?}"),
        }
    };
    drop(server);
    pusher.join().unwrap();
    assert!(found.contains("WeClosed(CloseCode(1013)"), "the ending is logged with its code: {found}");
    assert!(seen.iter().any(|l| l.contains("WebSocket open")), "the opening is logged too: {seen:#?}");
}
