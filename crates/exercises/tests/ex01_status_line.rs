//! Exercise 1: an HTTP request by hand. Run with `just exercise 1`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use exercises::ex01_status_line::{StatusLine, get_status, parse_status_line};

#[test]
#[ignore = "an exercise: run `just exercise 1`"]
fn a_status_line_splits_into_version_code_and_reason() {
    assert_eq!(
        parse_status_line("HTTP/1.1 404 Not Found"),
        Some(StatusLine { version: "HTTP/1.1".into(), code: 404, reason: "Not Found".into() }),
        "the reason phrase is everything after the second space, spaces included"
    );
    assert_eq!(
        parse_status_line("HTTP/1.0 200 OK"),
        Some(StatusLine { version: "HTTP/1.0".into(), code: 200, reason: "OK".into() })
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 1`"]
fn the_reason_phrase_may_be_empty() {
    assert_eq!(
        parse_status_line("HTTP/1.1 204 "),
        Some(StatusLine { version: "HTTP/1.1".into(), code: 204, reason: String::new() }),
        "RFC 9112 §4: the reason phrase is optional, but the space before it is not"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 1`"]
fn anything_else_is_not_a_status_line() {
    for line in
        ["", "HTTP/1.1", "HTTP/1.1 2000 OK", "HTTP/1.1 OK 200", "GET / HTTP/1.1", "SSH-2.0-OpenSSH 9.6"]
    {
        assert_eq!(parse_status_line(line), None, "{line:?} is not a status line: expect None");
    }
}

#[test]
#[ignore = "an exercise: run `just exercise 1`"]
fn get_status_sends_a_real_request_and_reads_the_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, request) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        // Read until the empty line that ends the head, as every HTTP server does.
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let _ = seen.send(String::from_utf8_lossy(&head).into_owned());
        let _ =
            stream.write_all(b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let status = get_status(addr, "/coffee").expect("get_status should return the parsed status line");
    let head = request.recv().unwrap();
    assert!(
        head.ends_with("\r\n\r\n"),
        "a request head ends with an empty line (\\r\\n\\r\\n); the server saw {head:?}"
    );
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed
        .parse(head.as_bytes())
        .unwrap_or_else(|e| panic!("the server could not parse your request ({e}): {head:?}"));
    assert_eq!(parsed.method, Some("GET"));
    assert_eq!(parsed.path, Some("/coffee"), "the request line names the path you were given");
    assert_eq!(parsed.version, Some(1), "send HTTP/1.1");
    assert!(
        parsed.headers.iter().any(|h| h.name.eq_ignore_ascii_case("host")),
        "HTTP/1.1 requires a Host header (RFC 9112 §3.2): {head:?}"
    );
    assert_eq!(status, StatusLine { version: "HTTP/1.1".into(), code: 418, reason: "I'm a teapot".into() });
}
