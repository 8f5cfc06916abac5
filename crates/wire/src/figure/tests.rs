//! Tests of every figure kind: content, determinism, text alternatives and layout, on ordinary
//! and hostile inputs.

use super::svg::{Anchor, Color, Font};
use super::*;
use crate::close::{CloseCode, ClosePayload};
use crate::frame::Frame;
use crate::transcript::{Closure, Direction, Event, EventKind};
use crate::{ConnectionDecoder, Mode};

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

/// The mask key of RFC 6455 §5.7's example (FACTS.md): fixed, so the bytes are too.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const REQUEST: &[u8] = b"GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: Upgrade\r\n\
Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// Feeds bytes to a decoder as the Tap would and keeps what it says.
struct Recorder {
    decoder: ConnectionDecoder,
    transcript: Transcript,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder { decoder: ConnectionDecoder::new(Mode::Auto), transcript: Transcript::new() }
    }

    fn push(&mut self, event: Event) {
        self.transcript.push(event);
    }

    fn feed(&mut self, dir: Direction, bytes: &[u8]) {
        for e in self.decoder.feed(dir, bytes) {
            self.transcript.push(e);
        }
    }

    fn finish(&mut self, dir: Direction, how: Closure) {
        for e in self.decoder.finish(dir, how) {
            self.transcript.push(e);
        }
    }
}

/// The echo chapter's exchange, from its bytes: upgrade, text, binary, ping/pong, close, FINs.
fn echo_transcript() -> Transcript {
    let mut r = Recorder::new();
    r.push(Event::new(
        None,
        EventKind::Opened { client: "127.0.0.1:50000".into(), server: "127.0.0.1:9001".into() },
    ));
    r.feed(C2S, REQUEST);
    r.feed(S2C, RESPONSE);
    let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
    for frame in [
        Frame::text("Hello, WebSocket!"),
        Frame::binary(vec![0xde, 0xad, 0xbe, 0xef]),
        Frame::ping(b"are you there?".to_vec()),
        Frame::close(Some(&done)),
    ] {
        r.feed(C2S, &frame.clone().masked(KEY).encode());
        let answer =
            if frame.opcode == crate::OpCode::Ping { Frame::pong(frame.payload.clone()) } else { frame };
        r.feed(S2C, &answer.encode());
    }
    r.finish(S2C, Closure::Fin);
    r.finish(C2S, Closure::Fin);
    r.transcript
}

/// A heartbeat whose path goes dead, as the Tap records it with its clock on.
fn dead_peer_transcript() -> Transcript {
    let mut r = Recorder::new();
    r.push(Event::note("⏱ 0.000 s"));
    r.push(Event::new(None, EventKind::Opened { client: "a".into(), server: "b".into() }));
    r.feed(C2S, REQUEST);
    r.feed(S2C, RESPONSE);
    for (i, ms) in [(1u8, 1000), (2, 2000)] {
        r.push(Event::note(format!("⏱ {}", sequence::clock_text(ms))));
        r.feed(S2C, &Frame::ping(vec![b'0' + i]).encode());
        r.feed(C2S, &Frame::pong(vec![b'0' + i]).masked(KEY).encode());
    }
    r.push(Event::note(
        "⚫ 2.500 s in, the Tap becomes a blackhole: it passes nothing more on, and closes nothing",
    ));
    for (i, ms) in [(3u8, 3000), (4, 4000)] {
        r.push(Event::note(format!("⏱ {}", sequence::clock_text(ms))));
        r.feed(S2C, &Frame::ping(vec![b'0' + i]).encode());
        r.push(Event::new(
            Some(S2C),
            EventKind::Note("⚫ blackhole: these 3 bytes never reach the client".into()),
        ));
    }
    r.push(Event::note("⏱ 5.000 s"));
    r.finish(S2C, Closure::Fin);
    r.push(Event::new(Some(S2C), EventKind::Note("⚫ blackhole: the client never learns of it".into())));
    r.transcript
}

/// Everything every figure must be: readable by the layout checker's rules, titled, described,
/// deterministic, and safe to inline in a Markdown page.
fn assert_readable(fig: &Figure) {
    if let Err(e) = fig.check_layout() {
        panic!("{e}");
    }
    assert!(!fig.title().is_empty(), "every figure needs a <title>");
    assert!(!fig.desc().trim().is_empty(), "every figure needs a <desc>");
    let svg = fig.svg();
    assert_eq!(svg, fig.svg(), "drawing the same figure twice gives the same bytes");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("<title>") && svg.contains("<desc>"));
    assert!(!svg.contains("\n\n"), "an empty line would end an inline HTML block in Markdown");
    assert!(!svg.contains("<script") && !svg.contains(" id="), "no script, no ids");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "every number is finite");
}

#[test]
fn the_echo_is_drawn_one_arrow_per_message_in_the_transcripts_words() {
    let options = SequenceOptions::new();
    let column = Column::from_transcript("", &echo_transcript(), &options);
    let arrows: Vec<&str> = column
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Arrow { .. }))
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(
        arrows,
        [
            "GET /ws/echo",
            "101 Switching Protocols",
            "text \"Hello, WebSocket!\"",
            "text \"Hello, WebSocket!\"",
            "binary 4 B",
            "binary 4 B",
            "ping \"are you there?\"",
            "pong \"are you there?\"",
            "close 1000 \"done\"",
            "close 1000 \"done\"",
            "FIN",
            "FIN",
        ]
    );
    assert_eq!(column.steps[0].kind, StepKind::Open { from: 0, to: 1 });
    let first_frame = column.find("text").unwrap();
    assert_eq!(column.steps[first_frame].detail.as_deref(), Some("masked · 23 B"));
    assert_eq!(column.steps[first_frame + 1].detail.as_deref(), Some("19 B"));
    let fig = sequence_figure(&echo_transcript(), &options);
    assert_readable(&fig);
    assert!(fig.desc().contains("client → server: GET /ws/echo (160 B)"), "{}", fig.desc());
    assert!(fig.desc().contains("server → client: FIN"), "{}", fig.desc());
}

#[test]
fn the_same_transcript_always_gives_byte_identical_svg() {
    let options = SequenceOptions::new();
    let a = sequence(&echo_transcript(), &options);
    let b = sequence(&echo_transcript().clone(), &options.clone());
    assert_eq!(a, b);
    let c = frame(&Frame::text("Hello").masked(KEY).encode(), &FrameOptions::new()).unwrap();
    let d = frame(&Frame::text("Hello").masked(KEY).encode(), &FrameOptions::new()).unwrap();
    assert_eq!(c, d);
    assert_eq!(ready_state(), ready_state());
}

#[test]
fn the_frame_figure_of_a_masked_hello_shows_its_key_and_length_5() {
    let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let fig = frame_figure(&bytes, &FrameOptions::new()).unwrap();
    assert_readable(&fig);
    let desc = fig.desc();
    for expected in [
        "81 85 37 fa 21 3d 7f 9f 4d 51 58",
        "FIN 1",
        "RSV1–3 0 0 0",
        "opcode 0x1 = text",
        "MASK 1",
        "len 5",
        "masking key 37 fa 21 3d",
        "payload: 5 bytes",
        "unmasked: \"Hello\"",
    ] {
        assert!(desc.contains(expected), "the frame figure should say {expected:?}:\n{desc}");
    }
    let svg = fig.svg();
    assert!(svg.contains(">masking key 37 fa 21 3d<"), "the key is drawn, not only described");
    assert!(svg.contains(">len 5: the payload's length<"), "{svg}");
    // Each masked byte is drawn as sent, with its key byte and what it is once unmasked:
    // 7f xor 37 = 48, 'H' (RFC 6455 §5.3).
    assert!(svg.contains(">7f<") && svg.contains(">xor 37 → 'H'<"), "{svg}");
    assert!(svg.contains(">9f<") && svg.contains(">xor fa → 'e'<"), "{svg}");
}

#[test]
fn frame_figures_draw_extended_lengths_and_elide_long_payloads() {
    for (bytes, expected) in [
        (Frame::binary(vec![0u8; 126]).encode(), "extended length 126"),
        (Frame::binary(vec![7u8; 65536]).masked(KEY).encode(), "extended length 65536"),
        (Frame::close(None).encode(), "no close code: reported as 1005"),
        (Frame::ping(Vec::new()).encode(), "len 0"),
        (Frame::text("Hel").not_final().encode(), "FIN 0"),
        (Frame::new(crate::OpCode::Continuation, b"lo".to_vec()).encode(), "opcode 0x0 = continuation"),
        (Frame::new(crate::OpCode::Reserved(3), Vec::new()).encode(), "reserved"),
    ] {
        let fig = frame_figure(&bytes, &FrameOptions::new()).unwrap();
        assert_readable(&fig);
        assert!(fig.desc().contains(expected), "{expected:?} in:\n{}", fig.desc());
    }
    let big = frame_figure(&Frame::binary(vec![7u8; 65536]).encode(), &FrameOptions::new()).unwrap();
    assert!(big.svg().contains("and 65512 more payload bytes"), "only 24 bytes are drawn");
    let mut rsv = Frame::text("x");
    rsv.rsv1 = true;
    let fig = frame_figure(&rsv.encode(), &FrameOptions::new().with_heading("RSV1 set")).unwrap();
    assert_readable(&fig);
    assert!(fig.desc().contains("RSV1–3 1 0 0: set by an extension"));
}

#[test]
fn bytes_that_are_not_exactly_one_frame_are_refused_with_a_reason() {
    assert_eq!(frame(&[0x81], &FrameOptions::new()), Err(FrameFigureError::Incomplete { have: 1, need: 2 }));
    assert_eq!(
        frame(&[0x81, 0x05, b'H'], &FrameOptions::new()),
        Err(FrameFigureError::Incomplete { have: 3, need: 7 })
    );
    assert_eq!(frame(&[0x81, 0x00, 0x00], &FrameOptions::new()), Err(FrameFigureError::Trailing(1)));
    let top_bit = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(frame(&top_bit, &FrameOptions::new()), Err(FrameFigureError::Codec(_))));
}

#[test]
fn a_blackholed_ping_ends_in_a_cross_and_the_blackhole_is_a_band() {
    let transcript = dead_peer_transcript();
    let options = SequenceOptions::new();
    let column = Column::from_transcript("", &transcript, &options);
    let ping3 = column.find("ping \"3\"").unwrap();
    assert_eq!(column.steps[ping3].kind, StepKind::Arrow { from: 1, to: 0, lost: true });
    assert_eq!(column.steps[ping3].annotations, ["blackhole: these 3 bytes never reach the client"]);
    assert_eq!(column.steps[ping3].time_ms, Some(3000));
    let ping1 = column.find("ping \"1\"").unwrap();
    assert_eq!(column.steps[ping1].kind, StepKind::Arrow { from: 1, to: 0, lost: false });
    let band = column.steps.iter().find(|s| s.kind == StepKind::Gap(GapKind::Blackhole)).unwrap();
    assert!(band.label.starts_with("2.500 s in, the Tap becomes a blackhole"));
    let fin = column.find("FIN").unwrap();
    assert_eq!(column.steps[fin].kind, StepKind::Arrow { from: 1, to: 0, lost: true });

    let fig = sequence_figure(&transcript, &options);
    assert_readable(&fig);
    let svg = fig.svg();
    assert!(svg.contains(">3.000 s<") && svg.contains(">5.000 s<"), "times are in the margin");
    assert!(svg.contains("class=\"dxf-f-band dxf-s-muted\""), "the blackhole is a band");
    assert!(svg.contains("dxf-s-problem\" stroke-width=\"2\""), "lost arrows end in a cross");
    assert!(fig.desc().contains("[3.000 s] server → client: ping \"3\""), "{}", fig.desc());
    assert!(fig.desc().contains("never arrives [blackhole: these 3 bytes never reach the client]"));
}

#[test]
fn a_cut_is_drawn_as_a_band_and_a_half_sent_frame_as_a_lost_arrow() {
    let mut r = Recorder::new();
    r.push(Event::new(None, EventKind::Opened { client: "a".into(), server: "b".into() }));
    r.feed(C2S, REQUEST);
    r.feed(S2C, RESPONSE);
    // Three bytes of a frame, then the Tap hangs up.
    r.feed(S2C, &[0x81, 0x05, b'H']);
    r.push(Event::note(
        "✂ the Tap cut the connection: both sides' streams end here, with no goodbye from either protocol",
    ));
    r.finish(S2C, Closure::Reset);
    r.finish(C2S, Closure::Reset);
    let column = Column::from_transcript("", &r.transcript, &SequenceOptions::new());
    assert!(column.steps.iter().any(|s| s.kind == StepKind::Gap(GapKind::Cut)));
    let unfinished = column.find("unfinished").unwrap();
    assert_eq!(column.steps[unfinished].kind, StepKind::Arrow { from: 1, to: 0, lost: true });
    assert_eq!(column.steps[unfinished].tone, Tone::Problem);
    assert!(column.find("RST").is_some());
    let fig = sequence_figure(&r.transcript, &SequenceOptions::new());
    assert_readable(&fig);
    assert!(fig.svg().contains("dxf-f-problem-band"), "a cut is a red band");
    assert!(fig.desc().contains("cut: the Tap cut the connection"));
}

#[test]
fn a_response_body_is_shown_under_its_head_as_one_message() {
    let mut r = Recorder::new();
    r.feed(C2S, b"GET /messages/wait?since=1&timeout=25 HTTP/1.1\r\nHost: x\r\n\r\n");
    r.push(Event::note("message 2 \"news\" is published while the request waits"));
    r.feed(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 24\r\n\r\n[{\"id\":2,\"text\":\"news\"}]");
    let column = Column::from_transcript("Long polling", &r.transcript, &SequenceOptions::new());
    let ok = column.find("200 OK").unwrap();
    assert_eq!(ok, column.steps.len() - 1, "the body is not an arrow of its own");
    assert_eq!(column.steps[ok].detail.as_deref(), Some("\"[{\"id\":2,\"text\":\"news\"}]\" · 63 B"));
    assert!(matches!(column.steps[1].kind, StepKind::Note { .. }));
    let fig = ladders_figure(&[column], &SequenceOptions::new());
    assert_readable(&fig);
    let quiet =
        Column::from_transcript("", &r.transcript, &SequenceOptions::new().without_notes().without_bytes());
    assert_eq!(quiet.steps.len(), 2, "without notes: the request and the response");
    assert_eq!(quiet.steps[1].detail.as_deref(), Some("\"[{\"id\":2,\"text\":\"news\"}]\""));
}

#[test]
fn chunks_are_arrows_and_the_last_one_says_so() {
    let mut r = Recorder::new();
    r.feed(C2S, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    r.feed(S2C, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    r.feed(S2C, b"11\r\nid: 1\ndata: one\n\n\r\n");
    r.feed(S2C, b"0\r\n\r\n");
    let column = Column::from_transcript("SSE", &r.transcript, &SequenceOptions::new());
    assert!(column.find("chunk \"id: 1\\ndata: one\\n\\n\"").is_some(), "{:#?}", column.steps);
    assert!(column.find("last chunk (size 0)").is_some());
}

#[test]
fn four_transports_side_by_side_share_one_row_order_and_stay_apart() {
    let options = SequenceOptions::new().with_heading("Three messages, four ways");
    let mut short = Column::client_server("Short polling");
    for i in 0..3 {
        short.push(Step::arrow(0, 1, format!("GET /messages?since={i}")));
        short.push(Step::arrow(1, 0, "204 No Content").with_detail("nothing yet"));
    }
    short.push(Step::arrow(1, 0, "200 (3 messages)"));
    let mut long = Column::client_server("Long polling");
    long.push(Step::arrow(0, 1, "GET /messages/wait"));
    long.push(Step::note(0, 1, "the server holds the request"));
    long.push(Step::arrow(1, 0, "200 (1 message)"));
    let mut sse = Column::client_server("Server-Sent Events");
    sse.push(Step::arrow(0, 1, "GET /events"));
    sse.push(Step::arrow(1, 0, "200 OK, chunked"));
    for i in 1..=3 {
        sse.push(Step::arrow(1, 0, format!("chunk: event {i}")));
    }
    let ws = Column::from_transcript("WebSocket", &echo_transcript(), &options);
    let columns = [short, long, sse, ws];
    let fig = ladders_figure(&columns, &options);
    assert_readable(&fig);
    assert!(fig.title().starts_with("4 sequence diagrams side by side: Short polling, Long polling"));
    // Row n is at one height in every column.
    let texts: Vec<Placed> = fig.placed().into_iter().filter(|p| p.kind == PlacedKind::Text).collect();
    let y_of = |label: &str| texts.iter().find(|p| p.text.as_deref() == Some(label)).map(|p| p.bbox.y);
    assert_eq!(y_of("GET /messages?since=0"), y_of("GET /events"));
    assert_eq!(y_of("GET /messages/wait"), y_of("GET /events"));
}

#[test]
fn clock_alignment_puts_the_same_moment_at_the_same_height() {
    let mut a = Column::client_server("A");
    a.push(Step::arrow(0, 1, "early").at(0));
    a.push(Step::arrow(0, 1, "at one second").at(1000));
    let mut b = Column::new("B", &["client", "proxy", "server"]);
    b.push(Step::arrow(0, 1, "first").at(0));
    b.push(Step::arrow(1, 2, "second").at(0));
    b.push(Step::arrow(2, 0, "also at one second").at(1000));
    b.push(Step::arrow(0, 2, "later").at(2500).lost());
    let fig = ladders_figure(&[a, b], &SequenceOptions::new().aligned(Align::Clock));
    assert_readable(&fig);
    let texts: Vec<Placed> = fig.placed().into_iter().filter(|p| p.kind == PlacedKind::Text).collect();
    let y_of =
        |label: &str| texts.iter().find(|p| p.text.as_deref() == Some(label)).map(|p| p.bbox.y).unwrap();
    assert_eq!(y_of("at one second"), y_of("also at one second"));
    assert!(y_of("early") < y_of("second") && y_of("second") < y_of("at one second"));
    assert!(fig.svg().contains(">2.500 s<"));
    assert!(fig.desc().contains("same time on the virtual clock"));
}

#[test]
fn named_moments_line_columns_up_by_the_script_and_name_the_margin() {
    let mut polling = Column::client_server("Polling");
    polling.push(Step::arrow(0, 1, "GET ?since=0").at(0));
    polling.push(Step::arrow(1, 0, "200 []").at(0));
    polling.push(Step::arrow(0, 1, "GET ?since=0 again").at(1));
    polling.push(Step::arrow(1, 0, "200 [one]").at(1));
    let mut pushed = Column::client_server("Pushed");
    pushed.push(Step::arrow(0, 1, "GET /events").at(0));
    pushed.push(Step::arrow(1, 0, "one").at(1));
    let options = SequenceOptions::new().aligned(Align::Clock).with_moments(["", "one published"]);
    let fig = ladders_figure(&[polling, pushed], &options);
    assert_readable(&fig);
    let texts: Vec<Placed> = fig.placed().into_iter().filter(|p| p.kind == PlacedKind::Text).collect();
    let y_of =
        |label: &str| texts.iter().find(|p| p.text.as_deref() == Some(label)).map(|p| p.bbox.y).unwrap();
    assert_eq!(y_of("GET ?since=0 again"), y_of("one"), "the same moment at the same height");
    let svg = fig.svg();
    assert!(svg.contains(">one published<"), "the moment's name is in the margin");
    assert!(!svg.contains(" s<"), "and no clock time anywhere: {svg}");
    assert!(fig.desc().contains("[one published] "), "{}", fig.desc());
}

#[test]
fn ladders_in_rows_stack_down_the_page_within_a_narrower_figure() {
    let column = |title: &str| Column::from_transcript(title, &echo_transcript(), &SequenceOptions::new());
    let columns = [column("one"), column("two"), column("three"), column("four")];
    let wide = ladders_figure(&columns, &SequenceOptions::new());
    let rows = ladders_figure(&columns, &SequenceOptions::new().in_rows_of(2));
    assert_readable(&rows);
    let ((wide_w, wide_h), (rows_w, rows_h)) = (wide.size(), rows.size());
    assert!(rows_w < wide_w * 0.6 && rows_h > wide_h * 1.8, "{wide_w}×{wide_h} → {rows_w}×{rows_h}");
    let texts: Vec<Placed> = rows.placed().into_iter().filter(|p| p.kind == PlacedKind::Text).collect();
    let title = |t: &str| texts.iter().find(|p| p.text.as_deref() == Some(t)).map(|p| p.bbox).unwrap();
    assert_eq!(title("one").y, title("two").y, "one row");
    assert_eq!(title("three").y, title("four").y, "the next row");
    assert!(title("three").y > title("one").y && title("three").x < title("two").x);
    assert!(rows.desc().contains("four (lanes: client, server)"));
}

#[test]
fn annotations_from_the_caller_sit_beside_their_step() {
    let mut column = Column::from_transcript("", &echo_transcript(), &SequenceOptions::new());
    assert!(column.annotate("GET /ws/echo", "no middleware ran: tiny_http hands the upgrade to the route"));
    assert!(!column.annotate("POST", "nothing to annotate"));
    let fig = ladders_figure(&[column], &SequenceOptions::new());
    assert_readable(&fig);
    assert!(fig.svg().contains(">no middleware ran: tiny_http<"), "annotations wrap at 30 characters");
    assert!(fig.desc().contains("[no middleware ran: tiny_http hands the upgrade to the route]"));
}

#[test]
fn very_long_labels_are_shortened_and_still_never_overlap() {
    let options = SequenceOptions::new();
    let mut r = Recorder::new();
    r.feed(C2S, REQUEST);
    r.feed(S2C, RESPONSE);
    let long = "x".repeat(10_000);
    r.feed(C2S, &Frame::text(&long).masked(KEY).encode());
    r.feed(S2C, &Frame::text("你好，世界！这是一个很长的中文消息，用来测试宽字符").encode());
    r.push(Event::note("y ".repeat(3000)));
    let mut column = Column::from_transcript("t".repeat(500), &r.transcript, &options);
    column.lanes = vec!["a browser with a very long name indeed, longer than any".into(), "s".repeat(300)];
    column.steps[2].annotations.push("z".repeat(5000));
    column.steps[3].annotations.push("word ".repeat(400));
    column.push(Step::gap(GapKind::Other, "w ".repeat(2000)).annotated("v ".repeat(300)));
    let fig = ladders_figure(&[column.clone(), column], &options);
    assert_readable(&fig);
    assert!(fig.svg().contains("xxx…"), "a long label ends in an ellipsis");
    // The label keeps what a transcript line shows (200 characters); the picture shows 34.
    assert!(fig.desc().contains(&"x".repeat(200)), "the desc keeps labels whole");
}

#[test]
fn two_hundred_events_are_drawn_without_overlap() {
    let mut r = Recorder::new();
    r.feed(C2S, REQUEST);
    r.feed(S2C, RESPONSE);
    for i in 0..100u64 {
        r.push(Event::note(format!("⏱ {}", sequence::clock_text(i * 250))));
        r.feed(C2S, &Frame::text(&format!("message {i}")).masked(KEY).encode());
        r.feed(S2C, &Frame::text(&format!("message {i}")).encode());
    }
    let fig = sequence_figure(&r.transcript, &SequenceOptions::new());
    assert_readable(&fig);
    assert!(fig.placed().len() > 800);
    let clocked = ladders_figure(
        &[Column::from_transcript("", &r.transcript, &SequenceOptions::new())],
        &SequenceOptions::new().aligned(Align::Clock),
    );
    assert_readable(&clocked);
}

#[test]
fn nothing_at_all_is_still_a_readable_figure() {
    let fig = sequence_figure(&Transcript::new(), &SequenceOptions::new());
    assert_readable(&fig);
    assert!(fig.svg().contains("(nothing was recorded)"));
    assert_readable(&ladders_figure(&[], &SequenceOptions::new()));
    assert_readable(&ladders_figure(&[Column::new("no lanes", &[])], &SequenceOptions::new()));
    // Steps that name lanes that do not exist are drawn on the last one, not a panic.
    let mut odd = Column::new("", &["only"]);
    odd.push(Step::arrow(0, 5, "to nowhere"));
    odd.push(Step::note(3, 9, "a note"));
    odd.push(Step::open(0, 7, "open"));
    assert_readable(&ladders_figure(&[odd], &SequenceOptions::new()));
}

#[test]
fn the_ready_state_figure_names_every_state_and_event() {
    let fig = ready_state_figure();
    assert_readable(&fig);
    let desc = fig.desc();
    for expected in [
        "CONNECTING (0)",
        "OPEN (1)",
        "CLOSING (2)",
        "CLOSED (3)",
        "CONNECTING → OPEN: the handshake succeeds (101); fires open",
        "fires message",
        "fires error, then close 1006, wasClean false",
        "OPEN → CLOSING: close() called",
        "WHATWG WebSockets Standard",
    ] {
        assert!(desc.contains(expected), "{expected:?} in:\n{desc}");
    }
}

#[test]
fn the_layout_checker_catches_overlaps_and_escapes() {
    let mut fig = Figure::new("test", "a test figure");
    fig.set_size(100.0, 50.0);
    fig.text(10.0, 20.0, Anchor::Start, Font::Label, Color::Ink, "hello");
    fig.text(20.0, 22.0, Anchor::Start, Font::Label, Color::Ink, "world");
    fig.text(90.0, 40.0, Anchor::Start, Font::Label, Color::Ink, "outside");
    let problems = fig.layout_problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("\"outside\"") && problems[0].contains("outside the picture"));
    assert!(problems[1].contains("\"hello\"") && problems[1].contains("overlaps text \"world\""));
    assert!(fig.check_layout().is_err());
    let mut fine = Figure::new("fine", "a fine figure");
    fine.set_size(200.0, 50.0);
    fine.text(10.0, 20.0, Anchor::Start, Font::Label, Color::Ink, "hello");
    fine.label(10.0, 35.0, Anchor::Start, Font::Label, Color::Ink, "<world> & \"friends\"");
    assert_eq!(fine.check_layout(), Ok(()));
    assert!(fine.svg().contains("&lt;world&gt; &amp; \"friends\""));
}

#[test]
fn figures_carry_their_own_card_so_they_read_on_every_theme() {
    let svg = ready_state();
    // The card: a background drawn first, in a colour that a page can override when inlined.
    assert!(svg.contains(".dxf-f-bg{fill:var(--dxf-bg,#fbfaf6)}"));
    assert!(svg.contains("<rect x=\"0.5\" y=\"0.5\""));
    assert!(!svg.contains("currentColor"), "an <img> would paint currentColor black");
}

#[test]
fn two_connections_through_a_proxy_interleave_by_time_in_one_column_of_three_lanes() {
    let options = SequenceOptions::new();
    let mut front = Recorder::new();
    front.push(Event::note("⏱ 0.000 s"));
    front.feed(C2S, REQUEST);
    front.push(Event::note("⏱ 0.003 s"));
    front.feed(S2C, RESPONSE);
    front.feed(C2S, &Frame::text("hi").masked(KEY).encode());
    let mut back = Recorder::new();
    back.push(Event::note("⏱ 0.001 s"));
    back.feed(C2S, REQUEST);
    back.push(Event::note("⏱ 0.002 s"));
    back.feed(S2C, RESPONSE);
    let mut column = Column::new("Through a proxy", &["client", "nginx", "server"]);
    column.add_transcript(&front.transcript, 0, 1, &options);
    column.add_transcript(&back.transcript, 1, 2, &options);
    column.sort_by_time();
    let route: Vec<(usize, usize)> = column
        .steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::Arrow { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(route, [(0, 1), (1, 2), (2, 1), (1, 0), (0, 1)], "{:#?}", column.steps);
    // Each side's request is held by its server until the 101: nginx, then the server.
    let holds: Vec<(usize, &str, &str)> = column
        .holds
        .iter()
        .map(|h| (h.lane, column.steps[h.from].label.as_str(), column.steps[h.to].label.as_str()))
        .collect();
    assert_eq!(
        holds,
        [(1, "GET /ws/echo", "101 Switching Protocols"), (2, "GET /ws/echo", "101 Switching Protocols")]
    );
    assert_eq!(column.steps[column.holds[0].to].time_ms, Some(3));
    let fig = ladders_figure(&[column], &options);
    assert_readable(&fig);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// What the Tap might record: bytes either way, its clock, its switches, a peer closing.
    #[derive(Clone, Debug)]
    enum Input {
        Bytes(bool, Vec<u8>),
        Clock(u64),
        Blackholed(bool),
        Cut,
        Closed(bool),
        Note(String),
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            4 => (any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(d, b)| Input::Bytes(d, b)),
            1 => (0u64..100_000).prop_map(Input::Clock),
            1 => any::<bool>().prop_map(Input::Blackholed),
            1 => Just(Input::Cut),
            1 => any::<bool>().prop_map(Input::Closed),
            1 => "[ -~é你]{0,120}".prop_map(Input::Note),
        ]
    }

    fn record(inputs: &[Input]) -> Transcript {
        let mut r = Recorder::new();
        r.feed(C2S, REQUEST);
        r.feed(S2C, RESPONSE);
        let mut clock = 0;
        for input in inputs {
            let dir = |up: bool| if up { C2S } else { S2C };
            match input {
                Input::Bytes(up, bytes) => r.feed(dir(*up), bytes),
                Input::Clock(ms) => {
                    // The Tap's clock only moves forward.
                    clock += ms;
                    r.push(Event::note(format!("⏱ {}", sequence::clock_text(clock))));
                }
                Input::Blackholed(up) => r.push(Event::new(
                    Some(dir(*up)),
                    EventKind::Note("⚫ blackhole: these bytes never reach the other side".into()),
                )),
                Input::Cut => r.push(Event::note("✂ the Tap cut the connection")),
                Input::Closed(up) => r.finish(dir(*up), Closure::Fin),
                Input::Note(text) => r.push(Event::note(text.clone())),
            }
        }
        r.transcript
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn whatever_the_tap_records_the_diagram_has_no_overlaps(
            inputs in prop::collection::vec(input(), 0..40),
            annotation in "[ -~]{0,200}",
        ) {
            let transcript = record(&inputs);
            let options = SequenceOptions::new();
            let fig = sequence_figure(&transcript, &options);
            prop_assert!(fig.check_layout().is_ok(), "{:?}", fig.check_layout());
            let mut column = Column::from_transcript("recorded", &transcript, &options);
            let last = column.steps.len().saturating_sub(1);
            if let Some(step) = column.steps.get_mut(last / 2) {
                step.annotations.push(annotation);
            }
            let clocked = ladders_figure(
                &[column.clone(), Column::from_transcript("again", &transcript, &options), column],
                &options.clone().aligned(Align::Clock),
            );
            prop_assert!(clocked.check_layout().is_ok(), "{:?}", clocked.check_layout());
        }

        #[test]
        fn any_bytes_are_a_frame_figure_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(fig) = frame_figure(&bytes, &FrameOptions::new()) {
                prop_assert!(fig.check_layout().is_ok(), "{:?}", fig.check_layout());
            }
        }

        #[test]
        fn every_frame_the_codec_writes_is_drawn_without_overlaps(
            opcode in prop::sample::select(vec![0u8, 1, 2, 3, 8, 9, 10, 15]),
            fin in any::<bool>(),
            rsv in 0u8..8,
            masked in any::<bool>(),
            len in prop::sample::select(vec![0usize, 1, 5, 125, 126, 300, 65535, 65536]),
        ) {
            let mut frame = Frame::new(crate::OpCode::from_bits(opcode), vec![0x41; len]);
            frame.fin = fin;
            frame.rsv1 = rsv & 1 != 0;
            frame.rsv2 = rsv & 2 != 0;
            frame.rsv3 = rsv & 4 != 0;
            if masked {
                frame = frame.masked(KEY);
            }
            let fig = frame_figure(&frame.encode(), &FrameOptions::new()).unwrap();
            prop_assert!(fig.check_layout().is_ok(), "{:?}", fig.check_layout());
        }
    }
}
