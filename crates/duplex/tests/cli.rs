//! The `duplex` binary as a user runs it: `--help`, `demo`, and `cargo run`'s server printing
//! its URL.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn duplex() -> Command {
    Command::new(env!("CARGO_BIN_EXE_duplex"))
}

#[test]
fn help_explains_what_cargo_run_does() {
    let out = duplex().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["http://127.0.0.1:3000", "--port", "--host", "demo", "tap"] {
        assert!(help.contains(needle), "--help should mention {needle}:\n{help}");
    }
}

#[test]
fn demo_ws_echo_prints_a_readable_live_transcript() {
    let out = duplex().args(["demo", "ws-echo"]).env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "How to read this",
        "C→S GET /ws/echo HTTP/1.1",
        "S→C HTTP/1.1 101 Switching Protocols",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "S→C frame FIN pong",
        "1000 normal closure",
        "What the client saw",
    ] {
        assert!(text.contains(needle), "the demo's output should contain {needle:?}:\n{text}");
    }
    // Live output shows the real mask keys, which the book's snapshot hides.
    assert!(text.contains("| mask ") && !text.contains("mask (4 random bytes)"), "{text}");
}

#[test]
fn the_demo_list_names_the_heartbeat_demos() {
    let out = duplex().args(["demo", "--list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["ws-echo", "heartbeat", "endings"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "`demo --list` should list {name}:\n{text}");
    }
}

#[test]
fn the_socket_chapters_demos_print_their_transcripts_and_call_logs() {
    for (demo, needles) in [
        (
            "tcp-echo",
            &[
                "C→S 5 bytes: \"hello\"",
                "11 bytes: \"onetwothree\"",
                "read(buffer of 4)  → 4 bytes: \"hell\"",
            ][..],
        ),
        (
            "tcp-framing",
            &[
                "line decoder → message \"three\"",
                "length decoder → message \"three\"",
                "00 00 00 05 68 65 6c 6c 6f",
            ][..],
        ),
        (
            "ws-by-hand",
            &[
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "pong \"are you there?\"",
                "1002 protocol error",
            ][..],
        ),
    ] {
        let out = duplex().args(["demo", demo]).env("RUST_LOG", "warn").output().unwrap();
        assert!(out.status.success(), "{demo}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        for needle in needles {
            assert!(text.contains(needle), "`duplex demo {demo}` should print {needle:?}:\n{text}");
        }
    }
}

#[test]
fn blackhole_is_refused_for_a_demo_that_has_no_heartbeat() {
    let out = duplex().args(["demo", "ws-echo", "--blackhole"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--blackhole is for the heartbeat demo"), "{err}");
}

#[test]
fn an_unknown_demo_is_refused_with_the_way_to_list_them() {
    let out = duplex().args(["demo", "no-such-demo"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no-such-demo") && err.contains("--list"), "{err}");
}

#[test]
fn the_server_prints_its_url_and_serves_the_book_there() {
    let out_dir = tempfile::tempdir().unwrap();
    let mut child = duplex()
        .args(["--port", "0", "--out"])
        .arg(out_dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL on the first line")
        .to_owned();
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .write_all(format!("GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:.300}");
    assert!(answer.contains("<title>Introduction"), "the page is the book");
    assert!(line.contains("/ws/echo"), "the first line also names the echo: {line}");
}

#[test]
fn demo_sse_prints_the_stream_its_end_and_the_resume() {
    let out = duplex().args(["demo", "sse"]).env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "How to read this",
        "C→S GET /events HTTP/1.1",
        "Content-Type: text/event-stream",
        "chunk of 17 bytes: \"id: 1\\ndata: one\\n\\n\"",
        "last chunk",
        "Last-Event-ID: 3",
        "What the client saw",
    ] {
        assert!(text.contains(needle), "the demo's output should contain {needle:?}:\n{text}");
    }
}

#[test]
fn a_port_in_use_is_reported_before_the_book_is_rendered() {
    // Another program (a first `cargo run`) has the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out_dir = tempfile::tempdir().unwrap();
    let book = out_dir.path().join("book");
    let out = duplex().args(["--port", &port, "--out"]).arg(&book).env("RUST_LOG", "warn").output().unwrap();
    assert!(!out.status.success(), "a second server on the same port must not start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use") && err.contains("--port"), "{err}");
    assert!(!book.exists(), "nothing may be rendered under a running server before the port is checked");
}

#[test]
fn tap_help_sends_the_browser_to_the_page_with_the_echo_widget() {
    let out = duplex().args(["tap", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("http://127.0.0.1:3001/echo/live.html"), "{help}");
    // `/echo/` is the chapter's first page, which has no widget to try.
    assert!(!help.contains("3001/echo/ "), "{help}");
}

#[test]
fn a_demo_whose_reader_has_gone_ends_quietly() {
    // `just ws-echo | head`: the reader leaves before the demo is done. Here it is gone before the
    // demo starts, so the demo's first write meets a closed pipe (EPIPE), every time.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = duplex()
        .args(["demo", "ws-echo"])
        .env("RUST_LOG", "warn")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "a closed stdout must not panic the demo:\n{stderr}");
    assert!(
        out.status.success(),
        "a closed stdout ends the demo with status 0, as `yes | head` does: {:?}\n{stderr}",
        out.status
    );
}
