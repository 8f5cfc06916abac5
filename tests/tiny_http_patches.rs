//! The patches to the vendored tiny_http 0.12.0 (`vendor/tiny_http/PATCHES.md`), each checked
//! from outside, over real loopback sockets, the way a hostile client would meet them.
//!
//! Nothing here measures time: timeouts are short so the tests are quick, and every wait is for
//! a condition (an answer, the end of a connection) with a generous upper bound.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use tiny_http::{Limits, Response, Server};

/// The longest any test waits for an answer: far more than any of them needs.
const PATIENCE: Duration = Duration::from_secs(20);

/// A tiny_http server on a free port with `limits`, answering every request with `handler` on
/// two worker threads. It runs until the test process ends.
fn serve(limits: Limits, handler: fn(tiny_http::Request)) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::new(Server::from_listener_with_limits(listener, None, limits).unwrap());
    for _ in 0..2 {
        let server = server.clone();
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                handler(request);
            }
        });
    }
    addr
}

fn ok(request: tiny_http::Request) {
    let _ = request.respond(Response::from_string("ok"));
}

/// Answers 413 without reading the body, as the feed's publish handler does for a body too large.
fn too_large(request: tiny_http::Request) {
    let _ = request.respond(Response::from_string("too large").with_status_code(413));
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads until the server closes the connection.
fn read_to_end(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Reads one response whose body is `ok`/`too large`-sized: until the text `needle` arrived.
fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains(needle) {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the connection closed before {needle:?}: {:?}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn still_serving(addr: SocketAddr) {
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "a fresh client should be served: {answer}");
}

#[test]
fn a_content_length_of_99999999999999_no_longer_aborts_the_process() {
    // Unpatched, dropping the unread request allocated 99999999999999 bytes and the process
    // aborted: this test binary would have died here.
    let addr = serve(Limits::default(), too_large);
    let mut stream = connect(addr);
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\nhello").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    let addr_ok = serve(Limits::default(), ok);
    still_serving(addr_ok);
}

#[test]
fn a_small_unread_body_is_drained_and_the_connection_serves_the_next_request() {
    let addr = serve(Limits::default(), too_large);
    let mut stream = connect(addr);
    // Over 1,024 bytes, so tiny_http does not read it in advance: the drain on drop does.
    let body = vec![b'x'; 5000];
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    read_until(&mut stream, "too large");
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(
        answer.contains("HTTP/1.1 413 "),
        "the second request was answered on the same connection: {answer}"
    );
}

#[test]
fn a_large_unread_body_closes_the_connection_instead_of_being_read() {
    let limits = Limits { max_drain: 1000, ..Limits::default() };
    let addr = serve(limits, too_large);
    let mut stream = connect(addr);
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n").unwrap();
    // The server answers and closes without waiting for two megabytes that never come.
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
}

#[test]
fn a_head_that_does_not_arrive_in_time_gets_408() {
    let limits = Limits { head_timeout: Duration::from_millis(200), ..Limits::default() };
    let addr = serve(limits, ok);
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost:").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    still_serving(addr);
}

#[test]
fn a_head_dribbled_a_byte_at_a_time_gets_408_although_every_byte_is_quick() {
    let limits = Limits { head_timeout: Duration::from_millis(300), ..Limits::default() };
    let addr = serve(limits, ok);
    let stream = connect(addr);
    let reader = stream.try_clone().unwrap();
    let dribbler = std::thread::spawn(move || {
        let mut stream = stream;
        // Each byte comes 20 ms after the last: no single read waits long, the head never ends.
        for byte in std::iter::repeat_n(b'a', 2000) {
            if stream.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let mut reader = reader;
    let answer = read_until(&mut reader, "\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    let _ = reader.shutdown(std::net::Shutdown::Both);
    dribbler.join().unwrap();
}

#[test]
fn an_idle_kept_alive_connection_is_closed_without_a_408() {
    let limits = Limits { head_timeout: Duration::from_millis(200), ..Limits::default() };
    let addr = serve(limits, ok);
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(!answer.contains("408"), "no request was pending, so none is answered: {answer}");
}

#[test]
fn a_head_larger_than_the_limit_gets_431() {
    let limits = Limits { max_head: 1024, ..Limits::default() };
    let addr = serve(limits, ok);
    let mut stream = connect(addr);
    let head = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "y".repeat(4000));
    let _ = stream.write_all(head.as_bytes());
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    still_serving(addr);
}

#[test]
fn a_line_that_never_ends_gets_431_not_all_of_the_memory() {
    let limits = Limits { max_head: 1024, ..Limits::default() };
    let addr = serve(limits, ok);
    let mut stream = connect(addr);
    // No CRLF, ever: unpatched, tiny_http kept every byte.
    let _ = stream.write_all(&vec![b'G'; 64 * 1024]);
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
}

#[test]
fn past_the_connection_cap_a_client_gets_503_and_the_others_keep_their_places() {
    let limits = Limits { max_connections: 2, ..Limits::default() };
    let addr = serve(limits, ok);
    // Two connections that have not sent their heads yet each hold a place.
    let mut first = connect(addr);
    let second = connect(addr);
    // Let both be accepted: the first answers a request only once the server has it.
    first.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    read_until(&mut first, "ok");
    let mut third = connect(addr);
    let answer = read_to_end(&mut third);
    assert!(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{answer}");
    assert!(answer.contains("\r\nRetry-After: 5\r\n"), "{answer}");
    drop(second);
    first.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert!(read_to_end(&mut first).contains("ok"), "the first connection is still served");
}

#[test]
fn an_upgrade_clears_the_read_timeout_and_hands_over_the_socket() {
    fn upgrade(request: tiny_http::Request) {
        let socket = request.socket().expect("a TCP connection has a socket handle");
        let peer = request.remote_addr().copied();
        let mut stream = request.upgrade("echo", Response::empty(101));
        let cleared = socket.read_timeout().unwrap().is_none();
        let same = socket.peer_addr().ok() == peer;
        let _ = write!(stream, "cleared={cleared} same={same} end");
        let _ = stream.flush();
    }
    let limits = Limits { read_timeout: Some(Duration::from_millis(100)), ..Limits::default() };
    let addr = serve(limits, upgrade);
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n").unwrap();
    let answer = read_until(&mut stream, " end");
    assert!(answer.contains("cleared=true same=true"), "{answer}");
}

#[test]
fn a_body_that_stops_arriving_fails_the_read_instead_of_holding_the_thread() {
    fn read_body(mut request: tiny_http::Request) {
        let mut body = Vec::new();
        let outcome = match request.as_reader().read_to_end(&mut body) {
            Ok(_) => "read".to_owned(),
            Err(e) => format!("{:?}", e.kind()),
        };
        let _ = request.respond(Response::from_string(outcome));
    }
    let limits = Limits { read_timeout: Some(Duration::from_millis(100)), ..Limits::default() };
    let addr = serve(limits, read_body);
    let mut stream = connect(addr);
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nonly a little").unwrap();
    let answer = read_until(&mut stream, "TimedOut");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn bytes_that_are_not_http_get_400_at_once_not_at_the_head_timeout() {
    // Unpatched, a TLS hello (no CRLF in it) waited for the rest of a line until the head timeout;
    // with a 10-minute timeout this test would fail at the client's 20 s patience instead.
    let limits = Limits { head_timeout: Duration::from_secs(600), ..Limits::default() };
    let addr = serve(limits, ok);
    let mut stream = connect(addr);
    stream.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer:?}");
    still_serving(addr);
}

#[test]
fn a_client_that_pipelines_without_reading_holds_one_request_not_the_whole_server() {
    // Unpatched, every pipelined request was queued at once and each worker waited its turn to
    // write to this client, which never reads: one client stalled every worker.
    let limits = Limits { write_timeout: Some(Duration::from_secs(600)), ..Limits::default() };
    fn big(request: tiny_http::Request) {
        let _ = request.respond(Response::from_data(vec![b'z'; 256 * 1024]));
    }
    let addr = serve(limits, big);
    let mut deaf = connect(addr);
    let requests = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200);
    deaf.write_all(&requests).unwrap();
    // Both workers of `serve` would be stuck behind it; a second client is answered.
    let mut other = connect(addr);
    other.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    other.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&answer[..64.min(answer.len())])
    );
    drop(deaf);
}

/// Answers with the request's body as the server read it, or the read's error.
fn body_back(mut request: tiny_http::Request) {
    let mut body = String::new();
    let answer = match request.as_reader().read_to_string(&mut body) {
        Ok(_) => format!("body={body:?} end"),
        Err(e) => format!("{:?} end", e.kind()),
    };
    let _ = request.respond(Response::from_string(answer));
}

/// Unpatched, the body of a request with `Connection: Upgrade` was the whole rest of the stream,
/// so reading it waited for the client to close (or, with patch 2, for the read timeout: a
/// 10-minute one here, so the client's 20 s patience runs out first and the test fails).
fn ignoring_the_upgrade_offer() -> SocketAddr {
    let limits = Limits { read_timeout: Some(Duration::from_secs(600)), ..Limits::default() };
    serve(limits, body_back)
}

#[test]
fn a_request_that_offers_an_upgrade_the_server_ignores_has_no_body_without_content_length() {
    let addr = ignoring_the_upgrade_offer();
    let mut stream = connect(addr);
    // What `curl --http2 http://…/` sends (RFC 9113 §3.1 dropped h2c; curl still offers it).
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\
              HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
        )
        .unwrap();
    let answer = read_until(&mut stream, " end");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("body=\"\" end"), "no Content-Length, no chunks: no body: {answer}");
}

#[test]
fn a_request_that_offers_an_upgrade_the_server_ignores_has_its_body_by_content_length_or_chunks() {
    let addr = ignoring_the_upgrade_offer();
    for (framing, body) in
        [("Content-Length: 5\r\n", "hello"), ("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n")]
    {
        let mut stream = connect(addr);
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n{framing}\r\n{body}"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let answer = read_until(&mut stream, " end");
        assert!(answer.contains("body=\"hello\" end"), "{framing}: {answer}");
    }
}

#[test]
fn an_upgraded_stream_starts_after_the_requests_body_and_keeps_the_bytes_sent_behind_the_head() {
    /// Upgrades, and sends back the first 5 bytes of the new protocol.
    fn upgrade(request: tiny_http::Request) {
        let mut stream = request.upgrade("echo", Response::empty(101));
        let mut first = [0u8; 5];
        let answer = match stream.read_exact(&mut first) {
            Ok(()) => String::from_utf8_lossy(&first).into_owned(),
            Err(e) => format!("{:?}", e.kind()),
        };
        let _ = write!(stream, "first={answer:?} end");
        let _ = stream.flush();
    }
    let addr = serve(Limits::default(), upgrade);
    for (framing, body) in [
        ("", ""),
        ("Content-Length: 4\r\n", "body"),
        ("Transfer-Encoding: chunked\r\n", "4\r\nbody\r\n0\r\n\r\n"),
    ] {
        let mut stream = connect(addr);
        // The new protocol's first bytes travel with the head, as a WebSocket client's first
        // frame may.
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n{framing}\r\n{body}after"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let answer = read_until(&mut stream, " end");
        assert!(answer.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{answer}");
        assert!(answer.contains("first=\"after\" end"), "{framing:?}: {answer}");
    }
}

/// Patch 12. After `Connection: close` no request follows, and tiny_http is done reading the
/// connection while the application still holds its last request. A look at the socket must
/// still say "nothing to read yet" while the client waits, and "end of stream" only once the
/// client has closed its side.
#[test]
fn the_last_request_of_a_connection_can_still_tell_a_waiting_client_from_one_that_left() {
    // One connection at a time: a second client is let in only once the first connection's
    // thread is over, which is when the connection's reading half is dropped.
    let limits = Limits { max_connections: 1, ..Limits::default() };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::new(Server::from_listener_with_limits(listener, None, limits).unwrap());
    let mut waiting = connect(addr);
    waiting.write_all(b"GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let request = server.recv_timeout(PATIENCE).unwrap().expect("the request arrives");
    let socket = request.socket().expect("a TCP connection has a socket");
    {
        let server = server.clone();
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                ok(request);
            }
        });
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let mut other = connect(addr);
        other.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let answer = read_to_end(&mut other);
        if answer.starts_with("HTTP/1.1 200 ") {
            break;
        }
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
        assert!(std::time::Instant::now() < deadline, "the first connection's thread never ended");
        std::thread::yield_now();
    }
    // The first connection's reading half is gone; its client is still waiting.
    let mut byte = [0u8; 1];
    socket.set_nonblocking(true).unwrap();
    let peek = socket.peek(&mut byte);
    socket.set_nonblocking(false).unwrap();
    assert!(
        matches!(&peek, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a waiting client must not look like one that closed its side: {peek:?}"
    );
    waiting.shutdown(std::net::Shutdown::Write).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(socket.peek(&mut byte).unwrap(), 0, "the client's FIN is the end of the stream");
    ok(request);
    assert!(read_to_end(&mut waiting).starts_with("HTTP/1.1 200 "), "and the answer still goes out");
}

/// Upgraded streams the application keeps, as a WebSocket server keeps its connections.
static KEPT: std::sync::Mutex<Vec<Box<dyn tiny_http::ReadWrite + Send>>> = std::sync::Mutex::new(Vec::new());

#[test]
fn an_upgraded_connection_keeps_no_thread_of_tiny_https_and_no_place_under_its_cap() {
    fn upgrade_and_keep(request: tiny_http::Request) {
        let mut stream = request.upgrade("echo", Response::empty(101));
        let _ = write!(stream, "upgraded");
        let _ = stream.flush();
        KEPT.lock().unwrap().push(stream);
    }
    // One connection at a time for tiny_http: the upgraded one must not keep that place, because
    // it is the application's now (the book's servers count their WebSockets themselves).
    let limits = Limits { max_connections: 1, ..Limits::default() };
    let addr = serve(limits, upgrade_and_keep);
    let mut upgraded = connect(addr);
    upgraded.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n").unwrap();
    read_until(&mut upgraded, "upgraded");
    // tiny_http's thread for that connection ends once the request is upgraded (upstream, it
    // waited for the upgraded stream to be dropped), and with it the connection's place.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let mut other = connect(addr);
        other
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            .unwrap();
        // Until the second upgrade's greeting, or the end of a refusal.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.ends_with(b"upgraded") {
            match other.read(&mut chunk).unwrap() {
                0 => break,
                n => answer.extend_from_slice(&chunk[..n]),
            }
        }
        let answer = String::from_utf8_lossy(&answer);
        if answer.starts_with("HTTP/1.1 101 ") {
            break;
        }
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
        assert!(
            std::time::Instant::now() < deadline,
            "the upgraded connection still holds tiny_http's thread and its place under the cap"
        );
        std::thread::yield_now();
    }
    // The upgraded connection itself is untouched: open, nothing more to read.
    upgraded.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let peek = upgraded.peek(&mut byte);
    assert!(
        matches!(&peek, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the upgraded connection must stay open: {peek:?}"
    );
}

#[test]
fn every_handle_on_a_connections_socket_is_the_same_file_descriptor() {
    fn compare(request: tiny_http::Request) {
        let (Some(a), Some(b)) = (request.socket(), request.socket()) else {
            let _ = request.respond(Response::from_string("no socket"));
            return;
        };
        #[cfg(unix)]
        let same = {
            use std::os::fd::AsRawFd;
            a.as_raw_fd() == b.as_raw_fd()
        };
        #[cfg(windows)]
        let same = {
            use std::os::windows::io::AsRawSocket;
            a.as_raw_socket() == b.as_raw_socket()
        };
        let answer = format!("same={same} shared={}", Arc::ptr_eq(&a, &b));
        let _ = request.respond(Response::from_string(answer));
    }
    let addr = serve(Limits::default(), compare);
    let mut stream = connect(addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let answer = read_to_end(&mut stream);
    assert!(answer.ends_with("same=true shared=true"), "a handle should not be a duplicate: {answer}");
}
