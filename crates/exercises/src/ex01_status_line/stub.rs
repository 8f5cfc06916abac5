//! # Exercise 1: an HTTP request by hand
//!
//! Chapter: *Request and response*. About 20 minutes.
//!
//! HTTP/1.1 is text on a TCP connection. Open a `TcpStream`, write a `GET` request yourself,
//! read what comes back, and pick the status line apart. No HTTP library: the point is to see
//! that there is nothing more to it.

// This is the file you edit: replace each `todo!(…)` with your code, then run
// `just exercise 1`. The tests are in crates/exercises/tests/ex01_status_line.rs.
#![allow(
    unused_imports,
    unused_variables,
    unused_mut,
    dead_code,
    reason = "names the stub leaves for your code"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// A response's first line, parsed: `HTTP/1.1 404 Not Found`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLine {
    /// The version, such as `HTTP/1.1`.
    pub version: String,
    /// The three-digit status code, such as 404.
    pub code: u16,
    /// The reason phrase, such as `Not Found`: free text, possibly empty (RFC 9112 §4).
    pub reason: String,
}

/// Parses a status line such as `HTTP/1.1 200 OK` (without its CRLF).
///
/// The format is `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4): the version
/// starts with `HTTP/`, the code is exactly three digits, and the reason is everything after the
/// second space, which may be empty. Anything else gives `None`.
pub fn parse_status_line(line: &str) -> Option<StatusLine> {
    todo!("exercise 1, part 1: split the line at its first two spaces (`splitn(3, ' ')`)")
}

/// Sends `GET {path} HTTP/1.1` to the server at `addr` and returns the response's status line.
///
/// Write the request head yourself: the request line, a `Host` header (required in HTTP/1.1,
/// RFC 9112 §3.2), `Connection: close` (so the server closes the connection after its answer
/// and you can read until the end), and the empty line that ends every head. Each line ends
/// with `\r\n`. Then read the whole response and parse its first line.
pub fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<StatusLine> {
    todo!("exercise 1, part 2: connect, write the request head, read to the end, parse the first line")
}
