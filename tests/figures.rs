//! The book's figures, drawn from the same recordings as its transcripts, and compared with the
//! SVG files committed under `book/src/<chapter>/figures/`.
//!
//! Each test runs a chapter's recording function (the one its snapshot test runs), draws the
//! figure with `wire::figure`, checks its layout (no two labels overlap, everything inside the
//! picture, narrow enough for the book's column) and compares it with the committed file. After a
//! change made on purpose, redraw them all with
//!
//! ```text
//! DUPLEX_UPDATE_FIGURES=1 cargo test -p duplex-tests --test figures
//! ```
//!
//! then look at the figures that changed and commit them with the change.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::time::Duration;

use duplex_tests::{book_dir, figures};
use wire::figure::{self, Align, Column, Figure, FrameOptions, SequenceOptions, Step, Tone};
use wire::{Direction, Event, EventKind, Frame, Transcript, marks};

/// The widest a figure may be, in pixels: mdBook's text column is 750 px wide, and a figure
/// wider than that is scaled down, its 12 px labels with it.
const MAX_WIDTH: f64 = 750.0;

/// Checks `fig`'s layout and compares it with `book/src/<path>`.
fn check(path: &str, fig: &Figure) {
    fig.check_layout().unwrap_or_else(|e| panic!("{path}: {e}"));
    figures::check_or_update(&book_dir().join("src").join(path), &fig.svg())
        .unwrap_or_else(|e| panic!("{e}"));
    let (width, _) = fig.size();
    assert!(
        width <= MAX_WIDTH,
        "{path} is {width} px wide: more than the book's column ({MAX_WIDTH} px) holds without scaling it down"
    );
}

/// The first event in `transcript` that `wanted` picks, or a failure naming `what`.
fn find<'a>(transcript: &'a Transcript, what: &str, wanted: impl Fn(&Event) -> bool) -> &'a Event {
    transcript.events.iter().find(|e| wanted(e)).unwrap_or_else(|| panic!("the recording has no {what}"))
}

// ---------------------------------------------------------------------------------------------
// Request and response

/// The request–response chapter's scripts publish "one", "two" and "three" and note each
/// publish in the transcript (`message 2 "two" is published`). The figure lines the four
/// recordings up by those moments: each publish note becomes a clock mark whose "time" is the
/// message's number, and `SequenceOptions::moments` names the moments in the margin. The
/// recording ends, for the figure, when message three has reached the client.
fn by_moments(transcript: &Transcript) -> Transcript {
    let mut out = Transcript::new();
    for event in &transcript.events {
        let moment = match &event.kind {
            EventKind::Note(text) if event.dir.is_none() => text
                .strip_prefix("message ")
                .and_then(|rest| rest.split_once(' '))
                .filter(|(_, rest)| rest.contains(" is published"))
                .and_then(|(n, _)| n.parse::<u64>().ok()),
            _ => None,
        };
        match moment {
            Some(n) => out.push(Event::note(marks::clock(n))),
            None => out.push(event.clone()),
        }
        let delivered_three = event.dir == Some(Direction::ServerToClient)
            && event.render(&wire::Render::snapshot()).contains("three");
        if delivered_three {
            break;
        }
    }
    out
}

/// A polling response's detail, `"[{"id":1,"text":"one"}]" · 161 B`, as the texts it carries:
/// `[one] · 161 B`.
fn messages_in(detail: &str) -> Option<String> {
    let (body, size) = detail.rsplit_once(" · ")?;
    let json = body.strip_prefix('"')?.strip_suffix('"')?;
    let list: Vec<serde_json::Value> = serde_json::from_str(json).ok()?;
    let texts: Vec<&str> = list.iter().filter_map(|m| m.get("text")?.as_str()).collect();
    Some(format!("[{}] · {size}", texts.join(", ")))
}

#[tokio::test(flavor = "multi_thread")]
async fn four_transports_deliver_the_same_three_messages() {
    let four = http_polling::demo::transports(None).await.unwrap();
    let mut options = SequenceOptions::new()
        .aligned(Align::Clock)
        .in_rows_of(2)
        .without_notes()
        .with_moments(["", "one", "two", "three"])
        .with_heading("Three messages, published at the dotted lines, delivered four ways")
        .titled(
            "The same three messages delivered four ways: short polling, long polling, \
             Server-Sent Events and WebSocket",
        );
    options.max_label = 28;
    let column = |title: &str, recording: &http_polling::demo::Recording| {
        let transcript = by_moments(&recording.transcripts[0]);
        let mut column = Column::from_transcript(title, &transcript, &options);
        for step in &mut column.steps {
            if let Some(messages) = step.detail.as_deref().and_then(messages_in) {
                step.detail = Some(messages);
            }
        }
        column
    };
    let columns = [
        column("Short polling", &four.short_polling),
        column("Long polling", &four.long_polling),
        column("Server-Sent Events", &four.sse),
        column("WebSocket", &four.websocket),
    ];
    let fig = figure::ladders_figure(&columns, &options);
    check("request-response/figures/four-transports.svg", &fig);
}

// ---------------------------------------------------------------------------------------------
// The WebSocket echo, and its first frame

#[tokio::test]
async fn the_echos_whole_life() {
    let recording = ws_echo::demo::run(None).await.unwrap();
    let options = SequenceOptions::new().titled(
        "The echo's whole life: TCP opens, the upgrade, a text, a binary message, a ping and its pong, \
         the close handshake, and each side's FIN",
    );
    check("echo/figures/echo.svg", &figure::sequence_figure(&recording.transcript, &options));
}

/// The masking key of RFC 6455 §5.7's examples. A real client picks a new random key for every
/// frame, so the recorded frame is masked again with this one to make the figure the same on
/// every run; its other bits are the recording's.
const RFC_MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[tokio::test]
async fn the_echos_first_frame_bit_by_bit() {
    let recording = ws_echo::demo::run(None).await.unwrap();
    let event = find(&recording.transcript, "client frame", |e| {
        e.dir == Some(Direction::ClientToServer) && matches!(e.kind, EventKind::Frame(_))
    });
    let EventKind::Frame(recorded) = &event.kind else { unreachable!() };
    assert!(recorded.header.mask.is_some(), "a client's frame is masked (RFC 6455 §5.1)");
    let h = &recorded.header;
    let frame = Frame {
        fin: h.fin,
        rsv1: h.rsv1,
        rsv2: h.rsv2,
        rsv3: h.rsv3,
        opcode: h.opcode,
        mask: Some(RFC_MASK),
        payload: recorded.payload.clone(),
    };
    let bytes = frame.encode();
    assert_eq!(&bytes[..2], [0x81, 0x91], "the echo's first frame: FIN, text, masked, 17 bytes");
    assert_eq!(bytes.len(), event.wire_len, "the same size as the recorded frame");
    let options = FrameOptions::new()
        .with_heading("The echo's first frame, masked here with the example key of RFC 6455 §5.7");
    let fig = figure::frame_figure(&bytes, &options).unwrap();
    check("handshake/figures/first-frame.svg", &fig);
}

// ---------------------------------------------------------------------------------------------
// One port, the browser

#[tokio::test(flavor = "multi_thread")]
async fn the_upgrade_passes_the_middleware_by() {
    let recording = one_port::demo::same_port(one_port::server::Guard::Unchecked, false, None).await.unwrap();
    let options = SequenceOptions::new().without_notes().titled(
        "One port, one connection: GET /api/time goes through the middleware and is refused; \
         the upgrade request goes past it and gets 101",
    );
    // The Tap sees a client and a server. The server's log says which of its parts saw each
    // request: a request the middleware logged is drawn as far as the middleware's lane, and
    // answered from there; the others pass it by.
    let mut column = Column::new("", &["client", "middleware", "upgrade branch"]);
    column.add_transcript(&recording.transcript, 0, 2, &options);
    let mut through_middleware = false;
    for step in &mut column.steps {
        let wire::figure::StepKind::Arrow { from, to, .. } = &mut step.kind else { continue };
        let request = step.label.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let logged: Vec<&String> = recording
            .log
            .iter()
            .filter(|l| l.split_whitespace().skip(1).take(2).collect::<Vec<_>>().join(" ") == request)
            .collect();
        if *from == 0 && !logged.is_empty() {
            through_middleware = logged.iter().any(|l| l.starts_with("auth") || l.starts_with("logger"));
            if through_middleware {
                *to = 1;
            }
            for line in logged {
                step.annotations.push(format!("log: {line}"));
            }
        } else if *from == 2 && through_middleware {
            // The answer to a request the middleware refused comes from the middleware.
            *from = 1;
            through_middleware = false;
        }
    }
    for hold in &mut column.holds {
        if column.steps[hold.from].label.starts_with("GET /api/") {
            hold.lane = 1;
        }
    }
    let fig = figure::ladders_figure(&[column], &options);
    check("one-port/figures/upgrade-skips-middleware.svg", &fig);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_upgrade_is_refused_with_403() {
    use one_port::demo::{self, EVIL_ORIGIN};
    let server = demo::start_server(one_port::server::Guard::Checked).unwrap();
    let (transcript, head) =
        demo::one_request(server.addr(), |host| demo::browser_upgrade(host, EVIL_ORIGIN), None)
            .await
            .unwrap();
    server.stop();
    assert_eq!(head.status(), Some(403));
    let request = find(&transcript, "upgrade request", |e| matches!(e.kind, EventKind::Head(_)));
    let EventKind::Head(request) = &request.kind else { unreachable!() };
    let origin = request.header("Origin").unwrap();
    let cookie = request.header("Cookie").unwrap();

    let mut options = SequenceOptions::new().without_notes().titled(
        "Cross-Site WebSocket Hijacking refused: a page on another site opens a WebSocket, the browser \
         adds the visitor's cookie and the page's Origin, and the server answers 403",
    );
    options.max_label = 26;
    let page = format!("page on {}", origin.split("://").nth(1).unwrap_or(origin));
    let mut column = Column::new("", &[page.as_str(), "browser", "server"]);
    column.push(Step::arrow(0, 1, "new WebSocket(url)").annotated("in the page's script, not on the wire"));
    column.add_transcript(&transcript, 1, 2, &options);
    assert!(column.annotate("GET /ws/echo", format!("Origin: {origin} (the browser names the page)")));
    assert!(column.annotate("GET /ws/echo", format!("Cookie: {cookie} (the browser adds it)")));
    assert!(column.annotate("403", "the origin is not on the allow-list"));
    // A handshake that does not end in 101 fails the WebSocket connection (RFC 6455 §4.1); the
    // page is told only that much (WHATWG WebSockets Standard).
    let refused = column.find("403").unwrap();
    column.steps.insert(
        refused + 1,
        Step::arrow(1, 0, "error, then close 1006")
            .with_tone(Tone::Problem)
            .annotated("all the page learns: no status, no reason"),
    );
    check("one-port/figures/cswsh-refused.svg", &figure::ladders_figure(&[column], &options));
}

#[test]
fn the_ready_state_machine() {
    check("one-port/figures/ready-state.svg", &figure::ready_state_figure());
}

// ---------------------------------------------------------------------------------------------
// Heartbeat and every way a connection ends

/// A note across both lanes, after step `at`.
fn note_after(column: &mut Column, at: usize, text: &str) {
    column.steps.insert(at + 1, Step::note(0, 1, text));
    for hold in &mut column.holds {
        for index in [&mut hold.from, &mut hold.to] {
            if *index > at {
                *index += 1;
            }
        }
    }
}

#[tokio::test]
async fn a_clean_close_against_a_failure() {
    let clean = heartbeat::endings::client_closes().await.unwrap();
    let failed = heartbeat::endings::protocol_error().await.unwrap();
    let mut options = SequenceOptions::new().without_notes().titled(
        "A clean close (1000) against a failure (1002): the failing server sends its close frame and \
         closes TCP without waiting for the answer",
    );
    options.max_label = 24;
    let mut clean_column = Column::from_transcript("The client closes: 1000", &clean.transcript, &options);
    // After the server's close frame, the answer to the client's.
    let answer = clean_column.steps.iter().rposition(|s| s.label.starts_with("close 1000")).unwrap();
    note_after(
        &mut clean_column,
        answer,
        "both close frames sent: the server closes TCP first (RFC 6455 §7.1.1)",
    );
    let mut failed_column = Column::from_transcript("An unmasked frame: 1002", &failed.transcript, &options);
    let fin = failed_column.steps.iter().position(|s| s.label == "FIN").unwrap();
    note_after(
        &mut failed_column,
        fin,
        "the server failed the connection: close frame, then FIN at once, without waiting (RFC 6455 §7.1.7)",
    );
    let fig = figure::ladders_figure(&[clean_column, failed_column], &options);
    check("heartbeat/figures/clean-and-failed.svg", &fig);
}

#[tokio::test(start_paused = true)]
async fn a_dead_peer_on_a_blackholed_path() {
    let heartbeat = heartbeat::Heartbeat::new(Duration::from_secs(1), 2);
    let recorded = heartbeat::endings::dead_peer(heartbeat, None).await.unwrap();
    let options = SequenceOptions::new().titled(
        "A dead peer: the path becomes a blackhole at 2.5 s; pings 3 and 4 never arrive; each side \
         gives up on its own and its FIN never arrives either",
    );
    let mut column = Column::from_transcript("", &recorded.transcript, &options);
    // What each application saw, beside the FIN it sent when it gave up.
    let gave_up = |lines: &[String]| lines.last().cloned().unwrap_or_default();
    let client_fin = column.steps.iter().position(|s| s.label == "FIN").unwrap();
    column.steps[client_fin].annotations.push(format!("client: {}", gave_up(&recorded.client)));
    let server_fin = column.steps.iter().rposition(|s| s.label == "FIN").unwrap();
    column.steps[server_fin].annotations.push(format!("server: {}", gave_up(&recorded.server)));
    check("heartbeat/figures/dead-peer.svg", &figure::ladders_figure(&[column], &options));
}

#[tokio::test(start_paused = true)]
async fn a_drop_and_the_resume() {
    let resumed = heartbeat::resume::cut_and_resume().await;
    assert_eq!(resumed.transcripts.len(), 2, "one connection cut, one resumed");
    let waited = resumed.result.as_ref().unwrap().waits[0];
    let options = SequenceOptions::new().without_notes().titled(
        "A drop and the resume: the Tap cuts the first connection after message 3; the client \
         reconnects, sends resume 3, and gets 4, 5 and 6",
    );
    // Both connections in one ladder, one after the other, on the clock of the whole run.
    let mut column = Column::client_server("");
    for transcript in &resumed.transcripts {
        column.add_transcript(transcript, 0, 1, &options);
    }
    assert!(column.annotate("\"resume 0\"", "connection 1: nothing seen yet"));
    assert!(column.annotate(
        "\"resume 3\"",
        format!("connection 2, {} ms after the cut: the last number it has", waited.as_millis())
    ));
    assert!(column.annotate("\"4 message 4\"", "published while no connection was open: replayed"));
    check("heartbeat/figures/resume.svg", &figure::ladders_figure(&[column], &options));
}

// ---------------------------------------------------------------------------------------------
// The figures and the pages

#[test]
fn every_committed_figure_is_drawn_here_and_shown_on_a_page_with_alt_text() {
    let this = include_str!("figures.rs");
    let src = book_dir().join("src");
    let mut found = 0;
    for chapter in std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        let Ok(figures) = std::fs::read_dir(chapter.join("figures")) else { continue };
        let pages: String = std::fs::read_dir(&chapter)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        for figure in figures.map(|e| e.unwrap().path()) {
            let name = figure.file_name().unwrap().to_string_lossy().into_owned();
            let chapter_name = chapter.file_name().unwrap().to_string_lossy().into_owned();
            let path = format!("{chapter_name}/figures/{name}");
            assert!(
                this.contains(&format!("\"{path}\"")),
                "{path} is not drawn by a test in tests/figures.rs: a figure that nobody draws again can drift from the code"
            );
            let img = format!("<img src=\"figures/{name}\" alt=\"");
            let alt = pages.split(&img).nth(1).and_then(|rest| rest.split('"').next());
            assert!(
                alt.is_some_and(|a| a.split_whitespace().count() >= 8),
                "{path} should be on a page of its chapter as {img}… with alt text that says what it shows"
            );
            found += 1;
        }
    }
    assert!(found >= 9, "the book has at least the nine figures of issue 16, found {found}");
}
