//! The feed's endpoints against bad input and misbehaving clients: each gets a clear answer, and
//! nothing breaks for the next client.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http_polling::client::{self, Connection, EventStream, Request};
use http_polling::server::{Running, start_local};
use http_polling::{Limits, sse};

/// Long enough for any step here; it only turns a bug into a failure instead of a hang.
const PATIENCE: Duration = Duration::from_secs(30);

fn get(addr: SocketAddr, target: &str) -> client::Response {
    Connection::open(addr).unwrap().exchange(&Request::get(&addr.to_string(), target)).unwrap()
}

fn body(response: &client::Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn assert_one_line(response: &client::Response, status: u16, needle: &str) {
    let text = body(response);
    assert_eq!(response.status(), status, "{text}");
    assert!(text.contains(needle), "the reason should mention {needle:?}: {text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text:?}");
}

fn server(limits: Limits) -> Running {
    start_local(limits).unwrap()
}

#[test]
fn unknown_query_keys_and_non_numbers_get_400_with_a_reason() {
    let s = server(Limits::default().quiet());
    assert_one_line(&get(s.addr(), "/messages?snice=3"), 400, "\"snice\"");
    assert_one_line(&get(s.addr(), "/messages?since=abc"), 400, "since");
    assert_one_line(&get(s.addr(), "/messages?since=-1"), 400, "since");
    assert_one_line(&get(s.addr(), "/messages/wait?since=1&timeout=soon"), 400, "timeout");
    assert_one_line(&get(s.addr(), "/events?limit=3"), 400, "\"limit\"");
    let request = EventStream::request(&s.addr().to_string(), "", None).header("Last-Event-ID", "x");
    let answer = Connection::open(s.addr()).unwrap().exchange(&request).unwrap();
    assert_one_line(&answer, 400, "Last-Event-ID");
    s.stop();
}

#[test]
fn a_since_beyond_the_newest_is_an_empty_answer_not_an_error() {
    let s = server(Limits::default().quiet());
    s.service().feed().publish("hello");
    let answer = get(s.addr(), "/messages?since=99");
    assert_eq!((answer.status(), body(&answer).as_str()), (200, "[]"));
    s.stop();
}

#[test]
fn wrong_methods_get_405_with_allow_and_unknown_paths_404() {
    let s = server(Limits::default().quiet());
    let mut request = Request::get(&s.addr().to_string(), "/events");
    request.method = "DELETE".into();
    let answer = Connection::open(s.addr()).unwrap().exchange(&request).unwrap();
    assert_eq!(answer.status(), 405);
    assert_eq!(answer.head.header("Allow"), Some("GET"));
    assert_one_line(&get(s.addr(), "/nope"), 404, "/nope");
    s.stop();
}

#[test]
fn publishing_takes_text_or_json_and_the_message_is_polled_back() {
    let s = server(Limits::default().quiet());
    let mut connection = Connection::open(s.addr()).unwrap();
    let first = client::publish(&mut connection, "", "plain text").unwrap();
    let json = Request::post_text(&s.addr().to_string(), "/messages", r#"{"text":"from JSON"}"#);
    let json =
        Request { headers: vec![json.headers[0].clone()], ..json }.header("Content-Type", "application/json");
    let answer = connection.exchange(&json).unwrap();
    assert_eq!(answer.status(), 200, "{}", body(&answer));
    let got = client::short_poll(&mut connection, "", 0).unwrap();
    let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["plain text", "from JSON"]);
    assert_eq!(first.id, 1);
    let bad = Request { body: b"{".to_vec(), ..json };
    assert_one_line(&connection.exchange(&bad).unwrap(), 400, "JSON");
    s.stop();
}

#[test]
fn a_body_over_the_limit_gets_413_and_the_connection_still_serves() {
    let limits = Limits { max_body: 16, ..Limits::default().quiet() };
    let s = server(limits);
    let mut connection = Connection::open(s.addr()).unwrap();
    let big = Request::post_text(&s.addr().to_string(), "/messages", &"x".repeat(17));
    assert_one_line(&connection.exchange(&big).unwrap(), 413, "16 bytes");
    // Chunked, so the server cannot tell from the head: it counts while it reads.
    let mut chunked = Request::post_text(&s.addr().to_string(), "/messages", "");
    chunked.headers.push(("Transfer-Encoding".into(), "chunked".into()));
    let mut raw = TcpStream::connect(s.addr()).unwrap();
    raw.write_all(&chunked.to_bytes()).unwrap();
    raw.write_all(&sse::chunk(&[b'y'; 20])).unwrap();
    raw.write_all(b"0\r\n\r\n").unwrap();
    raw.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = [0u8; 64];
    let n = raw.read(&mut answer).unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 413 "), "{:?}", String::from_utf8_lossy(&answer[..n]));
    assert!(s.service().feed().since(0, 10).is_empty(), "nothing was published");
    s.stop();
}

#[test]
fn malformed_http_gets_400() {
    let s = server(Limits::default().quiet());
    let mut raw = TcpStream::connect(s.addr()).unwrap();
    raw.set_read_timeout(Some(PATIENCE)).unwrap();
    raw.write_all(b"this is not HTTP\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 400 "), "{:?}", String::from_utf8_lossy(&answer));
    assert_eq!(get(s.addr(), "/messages").status(), 200, "the server still serves");
    s.stop();
}

#[test]
fn too_many_waiting_clients_get_503_with_retry_after() {
    let limits = Limits { max_waiters: 1, ..Limits::default().quiet() };
    let s = server(limits);
    let addr = s.addr();
    let waiter = std::thread::spawn(move || {
        let mut connection = Connection::open(addr).unwrap();
        client::long_poll(&mut connection, "", 0, 30).unwrap()
    });
    assert!(s.service().wait_for_open_waits(1, PATIENCE), "the first long poll waits");
    for target in ["/messages/wait?since=0", "/events"] {
        let answer = get(addr, target);
        assert_eq!(answer.status(), 503, "{target}: {}", body(&answer));
        assert_eq!(answer.head.header("Retry-After"), Some("5"), "{target}");
    }
    assert_eq!(get(addr, "/messages").status(), 200, "a short poll does not wait, so it is served");
    s.service().feed().publish("free");
    assert_eq!(waiter.join().unwrap().unwrap()[0].text, "free");
    assert!(s.service().wait_for_open_waits(0, PATIENCE));
    s.stop();
}

// ANCHOR: vanished
#[test]
fn a_client_that_vanishes_mid_long_poll_frees_its_slot_long_before_its_timeout() {
    // The long poll may wait an hour here, far beyond PATIENCE: a slot that came back only when
    // the wait ends would fail this test, not pass it late.
    let limits = Limits { max_waiters: 1, max_wait: Duration::from_secs(3600), ..Limits::default().quiet() };
    let s = server(limits);
    let request = Request::get(&s.addr().to_string(), "/messages/wait?since=0&timeout=3600");
    let mut gone = Connection::open(s.addr()).unwrap();
    gone.send(&request).unwrap();
    assert!(s.service().wait_for_open_waits(1, PATIENCE), "the long poll waits");
    drop(gone);
    // The waiting thread looks at its socket every WAIT_CHECK (250 ms), finds the end of the
    // stream, and gives its slot back without answering.
    assert!(s.service().wait_for_open_waits(0, PATIENCE), "the slot is freed when the client leaves");
    let answer = get(s.addr(), "/messages/wait?since=0&timeout=0");
    assert_eq!(answer.status(), 204, "the next client gets the slot: {}", body(&answer));
    s.stop();
}
// ANCHOR_END: vanished

#[test]
fn a_request_pipelined_behind_a_long_poll_is_not_taken_for_a_departure() {
    // A look every millisecond: the long poll's one second holds about a thousand of them.
    let limits = Limits { wait_check: Duration::from_millis(1), ..Limits::default().quiet() };
    let s = server(limits);
    let host = s.addr().to_string();
    let mut connection = Connection::open(s.addr()).unwrap();
    connection.send(&Request::get(&host, "/messages/wait?since=0&timeout=1")).unwrap();
    assert!(s.service().wait_for_open_waits(1, PATIENCE), "the long poll waits");
    // Sent while the first waits, so it sits unread on the server's socket: bytes to read, not
    // the end of the stream.
    connection.send(&Request::get(&host, "/messages?since=0")).unwrap();
    let first = connection.read_response("GET").unwrap();
    assert_eq!(first.status(), 204, "the long poll runs its course: {}", body(&first));
    let second = connection.read_response("GET").unwrap();
    assert_eq!((second.status(), body(&second).as_str()), (200, "[]"), "then the pipelined one is answered");
    s.stop();
}

#[test]
fn a_long_poll_on_a_connection_that_closes_after_it_is_still_answered() {
    // tiny_http stops reading a connection once its last request is in (`Connection: close`,
    // HTTP/1.0); the look at the socket must not take that for the client leaving (the patched
    // tiny_http, PATCHES.md patch 12). A look every millisecond, for the long poll's one second.
    let limits = Limits { wait_check: Duration::from_millis(1), ..Limits::default().quiet() };
    let s = server(limits);
    let host = s.addr().to_string();
    for request in [
        Request::get(&host, "/messages/wait?since=0&timeout=1").header("Connection", "close"),
        Request::get(&host, "/messages/wait?since=0&timeout=1").http_1_0(),
    ] {
        let answer = Connection::open(s.addr()).unwrap().exchange(&request).unwrap();
        assert_eq!(answer.status(), 204, "HTTP/1.{}: {}", request.minor, body(&answer));
    }
    s.stop();
}

#[test]
fn an_event_stream_whose_client_vanishes_frees_its_slot_without_waiting_for_a_heartbeat() {
    // `quiet`: the heartbeat would come after a day; the look at the socket finds the client gone.
    let s = server(Limits { max_waiters: 1, ..Limits::default().quiet() });
    let request = EventStream::request(&s.addr().to_string(), "", None);
    let mut stream = EventStream::open(Connection::open(s.addr()).unwrap(), &request).unwrap();
    assert!(stream.next_event().unwrap().is_some(), "the stream is open");
    assert!(s.service().wait_for_open_waits(1, PATIENCE));
    drop(stream);
    assert!(s.service().wait_for_open_waits(0, PATIENCE), "the slot is freed when the client leaves");
    s.stop();
}

#[test]
fn the_heartbeat_finds_a_vanished_event_stream_client_and_frees_its_slot() {
    // No looks at the socket (as on a system without MSG_DONTWAIT): the heartbeat's write fails.
    let limits = Limits {
        max_waiters: 1,
        heartbeat: Duration::from_millis(20),
        wait_check: Duration::from_secs(24 * 3600),
        ..Limits::default()
    };
    let s = server(limits);
    let request = EventStream::request(&s.addr().to_string(), "", None);
    let stream = EventStream::open(Connection::open(s.addr()).unwrap(), &request).unwrap();
    assert!(s.service().wait_for_open_waits(1, PATIENCE));
    drop(stream);
    assert!(s.service().wait_for_open_waits(0, PATIENCE), "a heartbeat write fails and ends the stream");
    s.stop();
}

#[test]
fn clients_on_this_machine_are_not_limited_per_address_only_in_all() {
    // Everything through the Tap (a classroom watched on the projector) comes from 127.0.0.1:
    // a cap per address would shut most of the room out.
    let limits = Limits { max_waiters: 3, max_waiters_per_client: 1, ..Limits::default().quiet() };
    let s = server(limits);
    let host = s.addr().to_string();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut connection = Connection::open(s.addr()).unwrap();
        connection.send(&Request::get(&host, "/messages/wait?since=0")).unwrap();
        held.push(connection);
    }
    assert!(s.service().wait_for_open_waits(3, PATIENCE), "three long polls from 127.0.0.1 wait");
    assert_one_line(&get(s.addr(), "/events"), 503, "the most this server holds at once");
    drop(held);
    assert!(s.service().wait_for_open_waits(0, PATIENCE), "the slots come back when the clients leave");
    s.stop();
}

#[test]
fn every_answer_about_the_messages_names_the_feeds_instance() {
    let s = server(Limits::default().quiet());
    let instance = http_polling::feed::FIXED_INSTANCE.to_string();
    let mut connection = Connection::open(s.addr()).unwrap();
    let published =
        connection.exchange(&Request::post_text(&s.addr().to_string(), "/messages", "hello")).unwrap();
    for (what, answer) in [
        ("a publish", published),
        ("a short poll", get(s.addr(), "/messages?since=0")),
        ("a short poll beyond the newest", get(s.addr(), "/messages?since=99")),
        ("a long poll", get(s.addr(), "/messages/wait?since=0")),
        ("a long poll that times out", get(s.addr(), "/messages/wait?since=1&timeout=0")),
    ] {
        assert_eq!(answer.head.header("Feed-Instance"), Some(instance.as_str()), "{what}");
    }
    let request = EventStream::request(&s.addr().to_string(), "", None);
    let mut connection = Connection::open(s.addr()).unwrap();
    connection.send(&request).unwrap();
    let head = connection.read_head().unwrap();
    assert_eq!(head.header("Feed-Instance"), Some(instance.as_str()), "an event stream's head");
    let mut stream = EventStream::open(Connection::open(s.addr()).unwrap(), &request).unwrap();
    let first = stream.next_event().unwrap().unwrap();
    assert_eq!(
        (first.event.as_deref(), first.data.as_str()),
        (Some("instance"), instance.as_str()),
        "an event stream's first event, for a page that cannot read the head"
    );
    s.stop();
}

#[test]
fn a_feed_started_now_has_an_instance_of_its_own() {
    let feed = http_polling::Feed::new(10);
    assert!(feed.instance() > http_polling::feed::FIXED_INSTANCE, "the time now, in milliseconds");
    let restarted = http_polling::Feed::with_instance(10, feed.instance() + 1);
    assert_ne!(feed.instance(), restarted.instance());
}

#[test]
fn an_event_stream_over_http_1_0_runs_until_the_server_closes() {
    let s = server(Limits::default().quiet());
    let feed = s.service().feed().clone();
    feed.publish("old");
    let request = EventStream::request(&s.addr().to_string(), "", Some(0)).http_1_0();
    let mut stream = EventStream::open(Connection::open(s.addr()).unwrap(), &request).unwrap();
    assert_eq!(stream.next_event().unwrap().unwrap().retry, Some(2000));
    assert_eq!(stream.next_event().unwrap().unwrap().data, "old");
    feed.end_streams();
    assert_eq!(stream.next_event().unwrap(), None, "the end of the body is the end of the connection");
    let keep_alive =
        EventStream::request(&s.addr().to_string(), "", None).http_1_0().header("Connection", "keep-alive");
    let answer = Connection::open(s.addr()).unwrap().exchange(&keep_alive).unwrap();
    assert_eq!(answer.status(), 400, "{}", body(&answer));
    s.stop();
}

#[test]
fn the_websocket_feed_on_tiny_http_sends_every_message_as_a_frame() {
    let s = server(Limits::default().quiet());
    s.service().feed().publish("before");
    let mut ws = client::websocket(s.addr(), "/ws?since=0", http_polling::demo::WS_KEY).unwrap();
    assert!(s.service().wait_for_open_waits(1, PATIENCE));
    s.service().feed().publish("after");
    for expected in [r#"{"id":1,"text":"before"}"#, r#"{"id":2,"text":"after"}"#] {
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text(expected));
    }
    let plain = get(s.addr(), "/ws");
    assert_eq!(plain.status(), 426, "a plain GET is told to upgrade: {}", body(&plain));
    s.stop();
}
