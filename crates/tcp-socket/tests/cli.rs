//! `tcp-echo-server` as a user runs it: its `--help` offers the limits that mean something on a
//! bare TCP connection, and only those; its log, sent to a pipe, is plain text.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcp-echo-server"))
}

#[test]
fn the_tcp_echo_offers_only_the_limits_that_apply_to_tcp_and_its_line_limit() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--max-line",
        "--max-message",
        "--idle-timeout",
        "--send-timeout",
        "--max-connections",
        "--read-buffer",
    ] {
        assert!(help.contains(flag), "--help should offer {flag}:\n{help}");
    }
    assert!(help.contains("[default: 8192]"), "--max-line's default is MAX_LINE, 8 KiB:\n{help}");
    // No request head, no body, no close handshake on raw TCP: the flags for them would do nothing.
    for flag in ["--max-head", "--max-body", "--handshake-timeout", "--close-timeout"] {
        assert!(!help.contains(&format!("{flag} ")), "--help should not offer {flag}:\n{help}");
        let refused = server().args([flag, "1"]).output().unwrap();
        assert!(!refused.status.success(), "{flag} must be refused, not silently ignored");
    }
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
fn a_log_written_to_a_pipe_carries_no_colour_codes() {
    // stderr is a pipe, not a terminal, and NO_COLOR is not what keeps the colour out.
    let mut server = server()
        .args(["--port", "0"])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Killed)
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut banner).unwrap();
    let addr: std::net::SocketAddr = banner.split_whitespace().last().unwrap().parse().unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = BufReader::new(server.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // A connection that opens and closes makes the server log a line at INFO.
    drop(std::net::TcpStream::connect(addr).unwrap());
    let patience = Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|line: &String| line.contains("connection closed")) {
        match lines.recv_timeout(patience) {
            Ok(line) => seen.push(line),
            Err(_) => {
                panic!("no \"connection closed\" line within {patience:?}; the server logged: {seen:#?}")
            }
        }
    }
    let coloured: Vec<&String> = seen.iter().filter(|line| line.contains('\x1b')).collect();
    assert!(
        coloured.is_empty(),
        "a log read by a program (a file, a pipe, grep) must not carry terminal colour codes (ESC [ … m): \
         {coloured:?}"
    );
}
