//! Out of file descriptors: every server, run alone in a process that may hold only
//! [`NOFILE`] descriptors, is met by [`CLIENTS`] clients at once. It must not spin and must not
//! flood its log while it cannot accept, and it must serve a new client once descriptors are free
//! again (`guard::accept`, the chapter "When clients misbehave").
//!
//! Why this needs a test per server: a failed `accept` (`EMFILE`) leaves the connection in the
//! listen queue, so the next `accept` fails at once, and a loop that only logs and tries again
//! spins on a core and writes hundreds of thousands of lines a second. Measured before the shared
//! accept loop, five of these servers spent a whole core and wrote up to 842,700 log lines in
//! three seconds.
//!
//! How it is measured: each server runs as `robustness-server NAME --nofile 64 --log info`,
//! with the default limit of 1,024 connections (so the connection cap cannot save it: the
//! descriptors run out first). Once it has said it is out of descriptors, its CPU time is read
//! from `/proc/PID/stat` at the start and the end of a [`WINDOW`]: the window is what is measured,
//! not a wait for something to happen. A spinning server uses about the whole window; a pausing
//! one a few milliseconds.
//!
//! Linux only: it reads `/proc`, and lowers the limit with `setrlimit`.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bench::procfs;

/// The descriptors each server may hold: a few for itself (standard streams, the listener,
/// epoll, the runtime's wake-ups), the rest for connections, far fewer than [`CLIENTS`].
const NOFILE: u64 = 64;

/// Clients that connect at once and hold their connections, saying nothing.
const CLIENTS: usize = 100;

/// How long the CPU time of a server stuck at its limit is measured: as in the issue that asked
/// for this test.
const WINDOW: Duration = Duration::from_secs(3);

/// Most CPU a server may spend in [`WINDOW`] while it cannot accept: a pause of 10 ms doubling
/// to 1 s tries about a dozen times in three seconds; a busy loop spends the whole window.
const MAX_CPU: Duration = Duration::from_millis(100);

/// Most log lines a server may write from its start to the end of the window: one when it runs
/// out, one when it recovers, and whatever it says about its clients.
const MAX_LOG_LINES: usize = 10;

/// The longest any step waits for its condition; only reached when a server is stuck.
const PATIENCE: Duration = Duration::from_secs(30);

/// The line a server logs when its accept loop pauses (`guard::accept`).
const PAUSING: &str = "out of file descriptors (EMFILE); pausing accepts";

/// A server in its own process, with its log collected.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Server {
    fn start(name: &str, more: &[String]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_robustness-server"))
            .args([name, "--nofile", &NOFILE.to_string(), "--log", "info"])
            .args(more)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr =
            first.trim().parse().unwrap_or_else(|_| panic!("{name} printed {first:?}, not its address"));
        let log: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        let lines = log.clone();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                lines.0.lock().unwrap().push(line);
                lines.1.notify_all();
            }
        });
        Server { child, addr, log }
    }

    /// Waits until a log line contains `text`.
    fn wait_for_log(&self, name: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = self.log.0.lock().unwrap();
        while !lines.iter().any(|l| l.contains(text)) {
            let left = deadline.checked_duration_since(Instant::now()).unwrap_or_else(|| {
                panic!("{name} never logged {text:?} within {PATIENCE:?}; its log:\n{}", lines.join("\n"))
            });
            lines = self.log.1.wait_timeout(lines, left).unwrap().0;
        }
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.0.lock().unwrap().clone()
    }

    fn cpu(&self) -> Duration {
        procfs::cpu_ticks(self.child.id()).unwrap().total(procfs::ticks_per_second())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a fresh client does to see that it is served.
#[derive(Clone, Copy)]
enum Probe {
    /// A WebSocket upgrade at this path, answered with 101.
    Upgrade(&'static str),
    /// An HTTP GET of this path, answered with this status.
    Get(&'static str, u16),
    /// Bytes echoed back.
    Echo,
    /// A TLS ClientHello, answered with a TLS handshake record.
    Tls,
}

fn served(addr: SocketAddr, probe: Probe) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let (request, expect): (Vec<u8>, Vec<u8>) = match probe {
        Probe::Upgrade(path) => (
            wire::handshake::client_request(&addr.to_string(), path, serve::client::RFC_KEY).into_bytes(),
            b"HTTP/1.1 101".to_vec(),
        ),
        Probe::Get(path, status) => (
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes(),
            format!("HTTP/1.1 {status}").into_bytes(),
        ),
        Probe::Echo => (b"hello".to_vec(), b"hello".to_vec()),
        // A TLS record of type handshake (0x16) carrying a ClientHello: the front answers with
        // its ServerHello, a record of the same type.
        Probe::Tls => (client_hello(), vec![0x16, 0x03]),
    };
    stream.write_all(&request).map_err(|e| format!("write: {e}"))?;
    let mut got = vec![0u8; expect.len()];
    stream.read_exact(&mut got).map_err(|e| format!("read: {e}"))?;
    if got == expect { Ok(()) } else { Err(format!("expected {expect:02x?}, got {got:02x?}")) }
}

/// A TLS 1.3 ClientHello from rustls, as the bytes a browser would send first.
fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(one_port::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut bytes = Vec::new();
    client.write_tls(&mut bytes).unwrap();
    bytes
}

/// Runs one server out of descriptors and checks the three things the module doc says.
fn out_of_descriptors(name: &str, probe: Probe) {
    out_of_descriptors_with(name, probe, &[]);
}

fn out_of_descriptors_with(name: &str, probe: Probe, more: &[String]) {
    let server = Server::start(name, more);
    // Connected, though the server may never accept some of them: the kernel completes the
    // handshake and queues the connection (the listen queue holds at least 128).
    let clients: Vec<TcpStream> = (0..CLIENTS).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    server.wait_for_log(name, PAUSING);

    let before = server.cpu();
    std::thread::sleep(WINDOW);
    let spent = server.cpu().saturating_sub(before);
    let lines = server.log_lines();
    // The figures, for `cargo test --test descriptors -- --nocapture`.
    eprintln!(
        "{name}: {} ms of CPU in {WINDOW:?} out of descriptors, {} log lines",
        spent.as_millis(),
        lines.len()
    );
    assert!(
        spent < MAX_CPU,
        "{name} spent {spent:?} of CPU in {WINDOW:?} while out of descriptors (at most {MAX_CPU:?}): \
         its accept loop spins instead of pausing"
    );
    assert!(
        lines.len() <= MAX_LOG_LINES,
        "{name} wrote {} log lines (at most {MAX_LOG_LINES}) while out of descriptors:\n{}",
        lines.len(),
        lines.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );

    // Descriptors free again: a new client is served, within a pause or two.
    drop(clients);
    let deadline = Instant::now() + PATIENCE;
    loop {
        match served(server.addr, probe) {
            Ok(()) => break,
            Err(why) if Instant::now() > deadline => {
                panic!("{name} did not serve a new client after the others left: {why}")
            }
            // A connection that raced the others' closing may be refused (503) or dropped; the
            // next one is served once the server has noticed, so ask again, a moment later (the
            // deadline, not this pause, bounds the wait).
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    drop(server);
}

#[test]
fn the_async_echo_pauses_when_out_of_descriptors() {
    out_of_descriptors("ws-echo", Probe::Upgrade(serve::ECHO_PATH));
}

#[test]
fn the_blocking_echo_pauses_when_out_of_descriptors() {
    out_of_descriptors("ws-echo-blocking", Probe::Upgrade(serve::ECHO_PATH));
}

#[test]
fn the_by_hand_server_pauses_when_out_of_descriptors() {
    out_of_descriptors("ws-by-hand", Probe::Upgrade(ws_by_hand::PATH));
}

#[test]
fn the_heartbeat_server_pauses_when_out_of_descriptors() {
    out_of_descriptors("heartbeat", Probe::Upgrade(heartbeat::PATH));
}

#[test]
fn the_tcp_echo_pauses_when_out_of_descriptors() {
    out_of_descriptors("tcp-raw", Probe::Echo);
}

#[test]
fn the_book_server_pauses_when_out_of_descriptors() {
    out_of_descriptors("book", Probe::Get("/", 200));
}

#[test]
fn the_feed_pauses_when_out_of_descriptors() {
    out_of_descriptors("feed", Probe::Get("/messages", 200));
}

#[test]
fn one_port_pauses_when_out_of_descriptors() {
    out_of_descriptors("one-port", Probe::Get("/", 200));
}

#[test]
fn the_tap_pauses_when_out_of_descriptors() {
    // The Tap's server is another process, with all the descriptors it wants, as it would be in
    // class: the Tap is the one that runs out.
    let mut echo = Command::new(env!("CARGO_BIN_EXE_robustness-server"))
        .arg("tcp-raw")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(echo.stdout.take().unwrap()).read_line(&mut first).unwrap();
    out_of_descriptors_with("tap", Probe::Echo, &["--upstream".into(), first.trim().into()]);
    let _ = echo.kill();
    let _ = echo.wait();
}

#[test]
fn the_tls_front_pauses_when_out_of_descriptors() {
    out_of_descriptors("tls-front", Probe::Tls);
}
