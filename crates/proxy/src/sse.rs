//! Server-Sent Events through nginx: when does each event reach the client?
//!
//! nginx *buffers* responses by default (`proxy_buffering on`): it reads the server's response
//! into memory, to free the server quickly, and passes it on to the client in pieces of its own
//! choosing. For an event stream, that can mean no event at all until the stream ends. What
//! nginx 1.22 does depends on how the server's body is delimited, which depends on the HTTP
//! version nginx speaks to the server ([`cases`]):
//!
//! - nginx's defaults: HTTP/1.0 to the server, so the body runs until the server closes the
//!   connection. nginx holds it all, the response head too, until the end (or until a buffer of
//!   a few kilobytes is full).
//! - `proxy_buffering off`, or the server's header `X-Accel-Buffering: no`: each event is passed
//!   on as it arrives.
//! - `proxy_http_version 1.1`, buffering left on: the server sends a chunked body, and nginx
//!   passes each chunk on as it arrives; only the head waits for the first event.
//!
//! The stream goes at [`STEP`] a step: the head, three events, the end. After each step the
//! exchange watches the client's side for [`STEP`]: what arrived in that time is shown where it
//! arrived, and what did not is said.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wire::{Direction, EventKind};

use crate::Error;
use crate::config::{Site, Upgrade};
use crate::stage::{Connection, Recording, Side, Stage};
use crate::upstream::{EVENTS_PATH, SseStep, Upstream, event_text};

/// The stream's pace: one step a second. It is also how long the exchange watches for a step to
/// reach the client before it says nginx is holding it: when nginx passes a piece on, it does so
/// within milliseconds.
pub const STEP: Duration = Duration::from_secs(1);

/// Events in the stream.
pub const EVENTS: u32 = 3;

/// One way of configuring nginx, for the demo and the tests.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its name in snapshots (`proxy__sse_buffered`).
    pub name: &'static str,
    /// What it shows, as a heading.
    pub title: &'static str,
    /// The configuration.
    pub site: Site,
    /// Whether the server sends `X-Accel-Buffering: no`.
    pub accel_no: bool,
}

/// The four configurations: nginx's defaults, buffering off in nginx, buffering off asked by
/// the server, and HTTP/1.1 to the server with buffering on.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "sse_buffered",
            title: "nginx's defaults: proxy_buffering on, HTTP/1.0 to the server",
            site: Site::plain(),
            accel_no: false,
        },
        Case {
            name: "sse_buffering_off",
            title: "proxy_buffering off",
            site: Site::plain().buffering(false),
            accel_no: false,
        },
        Case {
            name: "sse_accel_no",
            title: "nginx's defaults, and the server says X-Accel-Buffering: no",
            site: Site::plain(),
            accel_no: true,
        },
        Case {
            name: "sse_http11",
            title: "proxy_http_version 1.1, buffering on: a chunked body from the server",
            site: Site::plain().upgrade(Upgrade::Http11Only),
            accel_no: false,
        },
    ]
}

/// Whether `step` has reached the other side of `connection`: a response head, or an event's
/// text among the bytes of the body so far.
fn has(connection: &Connection, step: SseStep) -> bool {
    match step {
        SseStep::Head => connection
            .has(|e| e.dir == Some(Direction::ServerToClient) && matches!(e.kind, EventKind::Head(_))),
        SseStep::Event(n) => {
            let body = connection.payload(Direction::ServerToClient);
            let text = event_text(n);
            body.windows(text.len()).any(|w| w == text.as_bytes())
        }
        SseStep::End => connection.over,
    }
}

fn latest(connections: &[Connection], side: Side) -> Option<&Connection> {
    connections.iter().rev().find(|c| c.side == side && c.id > 0)
}

fn name(step: SseStep) -> String {
    match step {
        SseStep::Head => "its response head".to_owned(),
        SseStep::Event(n) => format!("event {n}"),
        SseStep::End => "the end of the stream".to_owned(),
    }
}

// ANCHOR: run
/// Runs the event stream through nginx configured as `case` says.
pub async fn run(case: &Case, live: bool) -> Result<Recording, Error> {
    let (server, steps) = Upstream::sse(case.accel_no).await?;
    let stage = Stage::start(&case.site, server.addr(), live).await?;
    let mut stream = stage.connect().await?;
    let request =
        format!("GET {EVENTS_PATH} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", stage.addr());
    stream.write_all(request.as_bytes()).await?;
    // The client reads until the last chunk, then closes, as an EventSource does at the end.
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        while !got.ends_with(b"\r\n0\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got
    });
    let log = stage.log().clone();
    let request_passed_on = |c: &[Connection]| {
        latest(c, Side::Back).is_some_and(|b| {
            b.has(|e| e.dir == Some(Direction::ClientToServer) && matches!(e.kind, EventKind::Head(_)))
        })
    };
    log.wait_for("nginx to pass the request on", request_passed_on).await?;
    let mut arrivals: Vec<(SseStep, usize)> = Vec::new();
    let all = [SseStep::Head, SseStep::Event(1), SseStep::Event(2), SseStep::Event(3)];
    for (i, step) in all.into_iter().enumerate() {
        let sent = Instant::now();
        log.note(Side::Front, format!("the server sends {}", name(step)));
        steps.send(step).map_err(|_| Error::Stuck("the event stream's server".into()))?;
        log.wait_for("the server's step to reach nginx", |c| {
            latest(c, Side::Back).is_some_and(|b| has(b, step))
        })
        .await?;
        let arrived = |c: &[Connection]| latest(c, Side::Front).is_some_and(|f| has(f, step));
        if log.wait_at_most(STEP, &arrived).await {
            tokio::time::sleep_until(sent + STEP).await;
        } else {
            log.note(Side::Front, "nginx has passed none of it on");
        }
        // Which earlier steps have arrived by now.
        let connections = log.connections();
        for earlier in all.iter().take(i + 1) {
            let here = latest(&connections, Side::Front).is_some_and(|f| has(f, *earlier));
            if here && !arrivals.iter().any(|(s, _)| s == earlier) {
                arrivals.push((*earlier, i));
            }
        }
    }
    log.note(Side::Front, "the server ends the stream");
    steps.send(SseStep::End).map_err(|_| Error::Stuck("the event stream's server".into()))?;
    let got = reader.await.map_err(|e| Error::Stuck(format!("the client: {e}")))?;
    let mut client = Vec::new();
    for (i, step) in all.iter().enumerate() {
        let when = match arrivals.iter().find(|(s, _)| s == step) {
            Some((_, at)) if *at == i => "as soon as the server sent it".to_owned(),
            Some((_, at)) => format!("only with {}", name(all[*at])),
            None => "only when the stream ended".to_owned(),
        };
        client.push(format!("got {} {when}", name(*step)));
    }
    client.push(format!("read {} bytes in all, up to the last chunk; then closed", got.len()));
    stage.finish(client, &server).await
}
// ANCHOR_END: run
