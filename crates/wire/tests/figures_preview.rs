//! The figures that can be drawn today from exchanges rebuilt byte for byte (the echo, a frame,
//! a dead peer, four transports) and the static readyState machine, compared with the files
//! committed under `book/src/figures-preview/` (not linked from the book yet).
//!
//! Update them after a change made on purpose:
//! `DUPLEX_UPDATE_FIGURES=1 cargo test -p wire --test figures_preview`.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

#[path = "../../../tests/support/figures.rs"]
mod figures;

use std::path::{Path, PathBuf};

use wire::figure::{self, Align, Column, Figure, FrameOptions, SequenceOptions};
use wire::frame::Frame;
use wire::{
    CloseCode, ClosePayload, Closure, ConnectionDecoder, Direction, Event, EventKind, Mode, Transcript,
};

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

/// The mask key of RFC 6455 §5.7's example: a real client picks a random one per frame.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn preview(name: &str) -> PathBuf {
    // crates/wire → the workspace root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    root.join("book/src/figures-preview").join(name)
}

fn check(name: &str, fig: &Figure) {
    if let Err(e) = fig.check_layout() {
        panic!("{e}");
    }
    if let Err(e) = figures::check_or_update(&preview(name), &fig.svg()) {
        panic!("{e}");
    }
}

/// Bytes fed to a decoder as the Tap feeds it, with the Tap's clock notes.
struct Recording {
    decoder: ConnectionDecoder,
    transcript: Transcript,
    now: Option<u64>,
}

impl Recording {
    fn new() -> Recording {
        Recording { decoder: ConnectionDecoder::new(Mode::Auto), transcript: Transcript::new(), now: None }
    }

    fn opened(&mut self) -> &mut Self {
        self.transcript.push(Event::new(
            None,
            EventKind::Opened { client: "127.0.0.1:50000".into(), server: "127.0.0.1:9001".into() },
        ));
        self
    }

    /// The Tap notes the clock before the first event at a new time.
    fn at(&mut self, ms: u64) -> &mut Self {
        if self.now != Some(ms) {
            self.now = Some(ms);
            self.transcript.push(Event::note(format!("⏱ {}.{:03} s", ms / 1000, ms % 1000)));
        }
        self
    }

    fn send(&mut self, dir: Direction, bytes: &[u8]) -> &mut Self {
        for e in self.decoder.feed(dir, bytes) {
            self.transcript.push(e);
        }
        self
    }

    fn note(&mut self, text: &str) -> &mut Self {
        self.transcript.push(Event::note(text));
        self
    }

    fn close(&mut self, dir: Direction) -> &mut Self {
        for e in self.decoder.finish(dir, Closure::Fin) {
            self.transcript.push(e);
        }
        self
    }
}

const UPGRADE: &[u8] = b"GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: Upgrade\r\n\
Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
const SWITCHING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// The echo chapter's exchange (tests/snapshots/ws_echo__handshake_and_close.snap), rebuilt
/// from its bytes with a fixed mask key.
fn echo() -> Transcript {
    let mut r = Recording::new();
    r.opened().send(C2S, UPGRADE).send(S2C, SWITCHING);
    let done = ClosePayload { code: CloseCode::NORMAL, reason: "done".into() };
    for (ask, answer) in [
        (Frame::text("Hello, WebSocket!"), Frame::text("Hello, WebSocket!")),
        (Frame::binary(vec![0xde, 0xad, 0xbe, 0xef]), Frame::binary(vec![0xde, 0xad, 0xbe, 0xef])),
        (Frame::ping(b"are you there?".to_vec()), Frame::pong(b"are you there?".to_vec())),
        (Frame::close(Some(&done)), Frame::close(Some(&done))),
    ] {
        r.send(C2S, &ask.masked(KEY).encode()).send(S2C, &answer.encode());
    }
    r.close(S2C).close(C2S);
    r.transcript
}

#[test]
fn the_echo_as_a_sequence_diagram() {
    let options = SequenceOptions::new().titled(
        "The echo's whole life: TCP open, upgrade, text, binary, ping and pong, the close handshake, FINs",
    );
    check("echo-sequence.svg", &figure::sequence_figure(&echo(), &options));
}

#[test]
fn the_echos_first_frame_bit_by_bit() {
    let bytes = Frame::text("Hello, WebSocket!").masked(KEY).encode();
    assert_eq!(&bytes[..6], [0x81, 0x91, 0x37, 0xfa, 0x21, 0x3d]);
    check("echo-first-frame.svg", &figure::frame_figure(&bytes, &FrameOptions::new()).unwrap());
}

#[test]
fn the_masked_hello_of_rfc_6455_bit_by_bit() {
    let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    check("masked-hello-frame.svg", &figure::frame_figure(&bytes, &FrameOptions::new()).unwrap());
}

#[test]
fn the_ready_state_machine() {
    check("ready-state.svg", &figure::ready_state_figure());
}

/// A heartbeat on a path that dies (tests/snapshots/heartbeat__dead_peer.snap), rebuilt.
#[test]
fn a_dead_peer_on_a_blackholed_path() {
    let mut r = Recording::new();
    r.at(0).note("connection opened (in memory: a stand-in for TCP that lets a test pause the clock)");
    r.send(
        C2S,
        b"GET /ws/heartbeat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    r.send(S2C, SWITCHING);
    for i in 1..=2u8 {
        r.at(u64::from(i) * 1000).send(S2C, &Frame::ping(vec![b'0' + i]).encode());
        r.send(C2S, &Frame::pong(vec![b'0' + i]).masked(KEY).encode());
    }
    for i in 3..=4u8 {
        r.at(u64::from(i) * 1000).send(S2C, &Frame::ping(vec![b'0' + i]).encode());
        r.transcript.push(Event::new(
            Some(S2C),
            EventKind::Note("⚫ blackhole: these 3 bytes never reach the client".into()),
        ));
    }
    r.at(4500).close(C2S);
    r.transcript
        .push(Event::new(Some(C2S), EventKind::Note("⚫ blackhole: the server never learns of it".into())));
    r.at(5000).close(S2C);
    r.transcript
        .push(Event::new(Some(S2C), EventKind::Note("⚫ blackhole: the client never learns of it".into())));
    let options = SequenceOptions::new().titled(
        "A dead peer: pings 3 and 4 vanish in a blackhole; each side gives up and its FIN vanishes too",
    );
    let mut column = Column::from_transcript("", &r.transcript, &options);
    column.annotate("FIN", "the client heard nothing for 2.5 s: it gives up, no close frame");
    let fig = figure::ladders_figure(&[column], &options);
    check("dead-peer.svg", &fig);
}

/// The three messages of the request–response chapter, published at 1.0, 2.7 and 2.8 s, as
/// short polling (every second), long polling, Server-Sent Events and WebSocket receive them.
#[test]
fn four_transports_side_by_side() {
    let published = [(1000, 1, "one"), (2700, 2, "two"), (2800, 3, "three")];
    let json = |ids: &[usize]| {
        let items: Vec<String> =
            ids.iter().map(|&i| format!("{{\"id\":{i},\"text\":\"{}\"}}", published[i - 1].2)).collect();
        format!("[{}]", items.join(","))
    };
    let response = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let publish = |r: &mut Recording, i: usize| {
        let (ms, id, text) = published[i];
        r.at(ms).note(&format!("message {id} \"{text}\" is published"));
    };

    let mut short = Recording::new();
    short.at(0).opened();
    let polls: [(u64, &[usize]); 4] = [(500, &[]), (1500, &[1]), (2500, &[]), (3500, &[2, 3])];
    let mut since = 0;
    let mut next = 0;
    for (ms, ids) in polls {
        while next < published.len() && published[next].0 <= ms {
            publish(&mut short, next);
            next += 1;
        }
        short.at(ms).send(C2S, format!("GET /messages?since={since} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
        short.send(S2C, response(&json(ids)).as_bytes());
        since = ids.last().copied().unwrap_or(since);
    }

    let mut long = Recording::new();
    long.at(0).opened().send(C2S, b"GET /messages/wait?since=0 HTTP/1.1\r\nHost: h\r\n\r\n");
    for i in 0..3 {
        publish(&mut long, i);
        long.send(S2C, response(&json(&[i + 1])).as_bytes());
        long.send(C2S, format!("GET /messages/wait?since={} HTTP/1.1\r\nHost: h\r\n\r\n", i + 1).as_bytes());
    }

    let mut sse = Recording::new();
    sse.at(0).opened().send(C2S, b"GET /events HTTP/1.1\r\nHost: h\r\nAccept: text/event-stream\r\n\r\n");
    sse.send(
        S2C,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for (i, (_, id, text)) in published.iter().enumerate() {
        publish(&mut sse, i);
        let event = format!("id: {id}\ndata: {text}\n\n");
        sse.send(S2C, format!("{:x}\r\n{event}\r\n", event.len()).as_bytes());
    }

    let mut ws = Recording::new();
    ws.at(0).opened().send(C2S, UPGRADE).send(S2C, SWITCHING);
    for i in 0..3 {
        publish(&mut ws, i);
        ws.send(S2C, &Frame::text(&json(&[i + 1])).encode());
    }

    let options = SequenceOptions::new().aligned(Align::Clock).titled(
        "Three messages delivered four ways: short polling, long polling, Server-Sent Events, WebSocket",
    );
    let mut options = options;
    // Four ladders on one page: narrower lanes, shorter labels (the desc keeps them whole).
    options.max_label = 24;
    options.min_lane_gap = 120;
    let columns = [
        Column::from_transcript("Short polling", &short.transcript, &options),
        Column::from_transcript("Long polling", &long.transcript, &options),
        Column::from_transcript("Server-Sent Events", &sse.transcript, &options),
        Column::from_transcript("WebSocket", &ws.transcript, &options),
    ];
    check("four-transports.svg", &figure::ladders_figure(&columns, &options));
}
