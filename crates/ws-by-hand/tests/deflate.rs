//! permessage-deflate through the by-hand server over TCP (RFC 7692): the negotiation in the
//! handshake, the RFC's own example frames (§7.2.3) echoed back compressed, the zip bomb, and the
//! frame rules that come with the extension.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use wire::deflate::{Decompressor, DeflateConfig};
use wire::frame::{Frame, FrameDecoder, OpCode};
use ws_by_hand::client::Client;
use ws_by_hand::server::Config;
use ws_by_hand::{Limits, PATH, RFC_KEY};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What Chromium offers in every handshake.
const CHROMIUM_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// A test that hangs has failed; this turns a hang into a message.
const GUARD: Duration = Duration::from_secs(30);

async fn start(deflate: Option<DeflateConfig>, max_message: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits { max_message, ..Limits::default() };
    tokio::spawn(ws_by_hand::server::serve(listener, Config { limits, deflate }));
    addr
}

async fn connect(addr: SocketAddr, offer: Option<&str>) -> Client<TcpStream> {
    let stream = TcpStream::connect(addr).await.unwrap();
    Client::handshake_offering(stream, &addr.to_string(), PATH, RFC_KEY, offer).await.unwrap()
}

fn unhex(text: &str) -> Vec<u8> {
    text.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// An RFC 7692 §7.2.3 example, written there as a server's unmasked frames, as a client must
/// send it: each frame masked.
fn masked(frames: &str) -> Vec<u8> {
    let mut decoder = FrameDecoder::new(1024);
    decoder.push(&unhex(frames));
    let mut bytes = Vec::new();
    while let Some((frame, _)) = decoder.next_frame().unwrap() {
        bytes.extend(frame.masked(MASK).encode());
    }
    bytes
}

/// The next frame, within the guard time.
async fn next(client: &mut Client<TcpStream>) -> Frame {
    tokio::time::timeout(GUARD, client.next_frame()).await.unwrap().unwrap().expect("a frame")
}

/// The close code of the server's close frame, and the end of the stream after it.
async fn close_code(client: &mut Client<TcpStream>) -> u16 {
    let close = next(client).await;
    assert_eq!(close.opcode, OpCode::Close, "expected a close frame, got {close:?}");
    tokio::time::timeout(GUARD, client.read_to_end()).await.unwrap().unwrap();
    u16::from_be_bytes([close.payload[0], close.payload[1]])
}

#[tokio::test]
async fn the_server_accepts_chromiums_offer_with_no_parameters() {
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    let client = connect(addr, Some(CHROMIUM_OFFER)).await;
    assert_eq!(client.extensions(), Some("permessage-deflate"));
}

#[tokio::test]
async fn without_deflate_the_server_declines_silently_as_tungstenite_does() {
    let addr = start(None, 1024).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    assert_eq!(client.extensions(), None, "no Sec-WebSocket-Extensions in the 101: nothing agreed");
    client.send(&Frame::text("Hello").masked(MASK)).await.unwrap();
    assert_eq!(next(&mut client).await, Frame::text("Hello"), "an uncompressed echo");
}

#[tokio::test]
async fn a_client_that_offers_nothing_gets_no_compression_from_a_deflate_server() {
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    let mut client = connect(addr, None).await;
    assert_eq!(client.extensions(), None);
    client.send(&Frame::text("Hello").masked(MASK)).await.unwrap();
    assert_eq!(next(&mut client).await, Frame::text("Hello"));
}

#[tokio::test]
async fn the_server_answers_each_parameter_it_was_asked_for() {
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    for (offer, response) in [
        // Autobahn's cases 13.3 and 13.5 ask for the smallest windows the server must honour.
        (
            "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=9",
        ),
        ("permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover"),
        // An offer it cannot accept is declined, and the next one taken (RFC 7692 §5).
        ("permessage-deflate; server_max_window_bits=7, permessage-deflate", "permessage-deflate"),
    ] {
        let client = connect(addr, Some(offer)).await;
        assert_eq!(client.extensions(), Some(response), "offer: {offer}");
    }
}

// ANCHOR: rfc_examples
#[tokio::test]
async fn the_rfcs_example_frames_are_echoed_compressed() {
    // RFC 7692 §7.2.3: six ways to send "Hello" compressed. The server must inflate every one.
    let examples = [
        ("§7.2.3.1, one frame", "c1 07 f2 48 cd c9 c9 07 00"),
        ("§7.2.3.1, two fragments", "41 03 f2 48 cd 80 04 c9 c9 07 00"),
        ("§7.2.3.3, a stored block", "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"),
        ("§7.2.3.4, BFINAL set", "c1 08 f3 48 cd c9 c9 07 00 00"),
        ("§7.2.3.5, two blocks", "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00"),
    ];
    for (section, frames) in examples {
        let addr = start(Some(DeflateConfig::default()), 1024).await;
        let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
        client.send_raw(&masked(frames)).await.unwrap();
        // The echo is the server's own compression of "Hello": the RFC's first example exactly.
        let echo = next(&mut client).await;
        assert_eq!(hex(&echo.encode()), "c1 07 f2 48 cd c9 c9 07 00", "the echo of {section}");
    }
}
// ANCHOR_END: rfc_examples

#[tokio::test]
async fn with_context_takeover_the_second_echo_refers_back_to_the_first() {
    // RFC 7692 §7.2.3.2: the same message twice; the second costs five bytes.
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    client.send_raw(&masked("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00")).await.unwrap();
    assert_eq!(hex(&next(&mut client).await.encode()), "c1 07 f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&next(&mut client).await.encode()), "c1 05 f2 00 11 00 00");
}

#[tokio::test]
async fn without_context_takeover_every_echo_is_compressed_alone() {
    let config = DeflateConfig { server_no_context_takeover: true, ..DeflateConfig::default() };
    let addr = start(Some(config), 1024).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    assert_eq!(client.extensions(), Some("permessage-deflate; server_no_context_takeover"));
    client.send_raw(&masked("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00")).await.unwrap();
    assert_eq!(hex(&next(&mut client).await.encode()), "c1 07 f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&next(&mut client).await.encode()), "c1 07 f2 48 cd c9 c9 07 00");
}

#[tokio::test]
async fn the_empty_message_is_the_single_byte_00_both_ways() {
    // RFC 7692 §7.2.3.6.
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    client.send_raw(&masked("c1 01 00")).await.unwrap();
    assert_eq!(hex(&next(&mut client).await.encode()), "c1 01 00");
}

#[tokio::test]
async fn a_large_message_comes_back_whole_through_the_inflater_on_the_client_side() {
    let addr = start(Some(DeflateConfig::default()), 1 << 20).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    let message: Vec<u8> =
        (0..200_000u32).flat_map(|i| format!("{{\"id\":{i}}}").into_bytes()).take(300_000).collect();
    let mut compressor = wire::deflate::Compressor::new(15, false);
    let payload = compressor.compress(&message);
    // Sent in three fragments: RSV1 on the first only.
    let third = payload.len() / 3;
    client.send(&Frame::binary(&payload[..third]).compressed().not_final().masked(MASK)).await.unwrap();
    client
        .send(&Frame::new(OpCode::Continuation, &payload[third..2 * third]).not_final().masked(MASK))
        .await
        .unwrap();
    client.send(&Frame::new(OpCode::Continuation, &payload[2 * third..]).masked(MASK)).await.unwrap();
    let echo = next(&mut client).await;
    assert!(echo.rsv1 && echo.fin, "one compressed frame");
    assert!(echo.payload.len() < message.len() / 4, "JSON compresses: {} bytes", echo.payload.len());
    let inflated = Decompressor::new(false).decompress(&echo.payload, 1 << 20).unwrap();
    assert_eq!(inflated, message);
}

#[tokio::test]
async fn a_zip_bomb_gets_1009_from_the_server() {
    const LIMIT: usize = 64 * 1024;
    let addr = start(Some(DeflateConfig::default()), LIMIT).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    // 16 MiB of zeros in about 16 KB: a quarter of the limit on the wire, 256 times it inflated.
    let bomb = wire::deflate::Compressor::new(15, false).compress(&vec![0; 16 << 20]);
    assert!(bomb.len() < LIMIT / 2);
    client.send(&Frame::binary(bomb).compressed().masked(MASK)).await.unwrap();
    assert_eq!(close_code(&mut client).await, 1009, "RFC 6455 §7.4.1: message too big");
}

#[tokio::test]
async fn rsv1_breaks_the_rules_where_deflate_does_not_allow_it() {
    for (deflate, frames, why) in [
        (None, "c1 07 f2 48 cd c9 c9 07 00", "RSV1 with no extension agreed (RFC 6455 §5.2)"),
        (
            Some(DeflateConfig::default()),
            "41 03 f2 48 cd c0 04 c9 c9 07 00",
            "RSV1 on a continuation (RFC 7692 §6)",
        ),
        (Some(DeflateConfig::default()), "c9 01 00", "RSV1 on a ping (RFC 7692 §6)"),
    ] {
        let addr = start(deflate, 1024).await;
        let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
        client.send_raw(&masked(frames)).await.unwrap();
        assert_eq!(close_code(&mut client).await, 1002, "{why}");
    }
}

#[tokio::test]
async fn a_ping_gets_an_uncompressed_pong_on_a_compressed_connection() {
    let addr = start(Some(DeflateConfig::default()), 1024).await;
    let mut client = connect(addr, Some(CHROMIUM_OFFER)).await;
    client.send(&Frame::ping("?").masked(MASK)).await.unwrap();
    assert_eq!(next(&mut client).await, Frame::pong("?"), "control frames are never compressed");
}
