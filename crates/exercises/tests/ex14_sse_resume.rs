//! Exercise 14: resuming a Server-Sent Events stream with curl. Run with `just exercise 14`.
//!
//! Each test starts a small event-stream server, runs your script against it with `sh`, and
//! checks what the script printed and what the server received. The server sends seven events,
//! `id: 1` to `id: 7`, three per connection at most, then drops the connection; it resumes after
//! the `Last-Event-ID` a request carries, and after the seventh it sends `event: end`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use exercises::catalog::find;

/// Events in the stream, and how many one connection carries before the server drops it.
const EVENTS: u32 = 7;
const PER_CONNECTION: u32 = 3;

/// Connections the server serves before it stops: a script that never resumes asks forever.
const MAX_CONNECTIONS: usize = 12;

/// How long the script may run: a working one takes a fraction of a second.
const DEADLINE: Duration = Duration::from_secs(20);

/// What one request to the server carried.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    last_event_id: Option<String>,
    accept: Option<String>,
}

/// Serves one connection: reads the request head (and reports it, before answering, so the test
/// has it by the time the script has the answer), answers with the events after its
/// `Last-Event-ID`, at most [`PER_CONNECTION`], then closes (after the last, `event: end`).
fn serve(mut stream: TcpStream, requests: &mpsc::Sender<Request>) -> Option<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request = Request { last_event_id: None, accept: None };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = Some(value.trim().to_owned());
            if name.eq_ignore_ascii_case("Last-Event-ID") {
                request.last_event_id = value;
            } else if name.eq_ignore_ascii_case("Accept") {
                request.accept = value;
            }
        }
    }
    let _ = requests.send(request.clone());
    let after = request.last_event_id.as_deref().and_then(|id| id.parse::<u32>().ok()).unwrap_or(0);
    let mut body = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
         Connection: close\r\n\r\n",
    );
    let last = (after + PER_CONNECTION).min(EVENTS);
    for id in after + 1..=last {
        body.push_str(&format!("id: {id}\ndata: message {id}\n\n"));
    }
    if last == EVENTS {
        body.push_str("event: end\ndata: bye\n\n");
    }
    // The server drops the connection here, as a proxy's timeout would.
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.read_to_end(&mut Vec::new());
    Some(())
}

/// Runs your script against a fresh server: what it printed, whether it ended by itself with
/// status 0, and the requests the server received.
fn run_script() -> (String, bool, Vec<Request>) {
    let curl = Command::new("curl").arg("--version").stdout(Stdio::null()).status();
    assert!(curl.is_ok(), "curl is not installed: exercise 14 needs it (`apt-get install curl`)");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let (requests, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(MAX_CONNECTIONS) {
            let Ok(stream) = stream else { continue };
            let _ = serve(stream, &requests);
        }
    });

    let script = find(14).unwrap().file_under_test();
    let mut child = Command::new("sh")
        .arg(&script)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sh {}: {e}", script.display()));
    // The script's output, read on a thread: it arrives in full when the script ends.
    let mut stdout = child.stdout.take().unwrap();
    let (output, printed) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = output.send(text);
    });
    let (text, ok) = match printed.recv_timeout(DEADLINE) {
        Ok(text) => (text, child.wait().unwrap().success()),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "your script did not stop within {DEADLINE:?}: does it stop after `event: end`, and \
                 send Last-Event-ID so that the server gets there?"
            );
        }
    };
    (text, ok, received.try_iter().collect())
}

/// The `data:` lines of the script's output, in order.
fn data_lines(text: &str) -> Vec<&str> {
    text.lines().filter_map(|line| line.strip_prefix("data: ")).collect()
}

#[test]
#[ignore = "an exercise: run `just exercise 14`"]
fn every_event_arrives_once_and_in_order_then_the_script_stops() {
    let (text, ok, requests) = run_script();
    let expected: Vec<String> =
        (1..=EVENTS).map(|id| format!("message {id}")).chain(["bye".to_owned()]).collect();
    assert_eq!(
        data_lines(&text),
        expected,
        "the script printed the data of every event, once each, in order, across {} connections; \
         it printed:\n{text}",
        requests.len()
    );
    assert!(ok, "and it ended by itself, with status 0");
}

#[test]
#[ignore = "an exercise: run `just exercise 14`"]
fn each_reconnection_sends_the_last_id_seen_as_last_event_id() {
    let (_, _, requests) = run_script();
    let ids: Vec<Option<&str>> = requests.iter().map(|r| r.last_event_id.as_deref()).collect();
    assert_eq!(
        ids,
        [None, Some("3"), Some("6")],
        "the first request has no Last-Event-ID; each later one names the last id received \
         (WHATWG HTML, Server-sent events: the browser sends it when it reconnects)"
    );
}

#[test]
#[ignore = "an exercise: run `just exercise 14`"]
fn every_request_asks_for_an_event_stream() {
    let (_, _, requests) = run_script();
    assert!(!requests.is_empty(), "the script made no request");
    for request in &requests {
        assert_eq!(
            request.accept.as_deref(),
            Some("text/event-stream"),
            "an EventSource sends `Accept: text/event-stream`, and so should the script: {requests:?}"
        );
    }
}
