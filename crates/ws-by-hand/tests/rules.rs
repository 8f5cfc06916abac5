//! Every rule of RFC 6455 §5 and §7 a client can break, each driven with raw bytes against the
//! by-hand server over TCP, with the close code the server must answer. After its close frame,
//! the server must close TCP: each test also reads to the end of the stream.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use wire::frame::{Frame, OpCode};
use ws_by_hand::client::Client;
use ws_by_hand::{Limits, PATH, RFC_KEY, limits};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A test that hangs has failed; this turns a hang into a message.
const GUARD: Duration = Duration::from_secs(30);

async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ws_by_hand::server::serve(listener, Limits::default()));
    addr
}

async fn connect(addr: SocketAddr) -> Client<TcpStream> {
    let stream = TcpStream::connect(addr).await.unwrap();
    Client::handshake(stream, &addr.to_string(), PATH, RFC_KEY).await.unwrap()
}

/// Sends `bytes` on a fresh connection and returns the code of the server's close frame, after
/// answering it and checking that the server then closed TCP.
async fn close_code_for(bytes: &[u8]) -> u16 {
    let addr = start_server().await;
    let mut client = connect(addr).await;
    client.send_raw(bytes).await.unwrap();
    tokio::time::timeout(GUARD, async move {
        let close = client.next_frame().await.unwrap().expect("a close frame before the end of the stream");
        assert_eq!(close.opcode, OpCode::Close, "the server's answer to a broken rule is a close frame");
        assert_eq!(close.mask, None, "RFC 6455 §5.1: a server never masks");
        let reason = String::from_utf8_lossy(&close.payload[2..]).into_owned();
        assert!(reason.len() <= 123, "a close reason fits in a control frame: {reason:?}");
        client.send(&Frame::new(OpCode::Close, close.payload.clone()).masked(MASK)).await.unwrap();
        let rest = client.read_to_end().await.unwrap();
        assert!(rest.is_empty(), "nothing may follow a close frame (RFC 6455 §5.5.1): {rest:?}");
        u16::from_be_bytes([close.payload[0], close.payload[1]])
    })
    .await
    .expect("the server closes the connection after its close frame")
}

fn encode(frames: &[Frame]) -> Vec<u8> {
    frames.iter().flat_map(Frame::encode).collect()
}

#[tokio::test]
async fn unmasked_client_frame_fails_with_1002() {
    assert_eq!(close_code_for(&Frame::text("Hello").encode()).await, 1002, "RFC 6455 §5.1");
}

#[tokio::test]
async fn rsv_bits_without_an_extension_fail_with_1002() {
    for bit in 0..3 {
        let mut frame = Frame::text("Hello").masked(MASK);
        match bit {
            0 => frame.rsv1 = true,
            1 => frame.rsv2 = true,
            _ => frame.rsv3 = true,
        }
        assert_eq!(close_code_for(&frame.encode()).await, 1002, "RSV{} set (RFC 6455 §5.2)", bit + 1);
    }
}

#[tokio::test]
async fn reserved_opcodes_fail_with_1002() {
    for bits in (0x3..=0x7).chain(0xb..=0xf) {
        let frame = Frame::new(OpCode::Reserved(bits), "x").masked(MASK);
        assert_eq!(close_code_for(&frame.encode()).await, 1002, "opcode 0x{bits:x} (RFC 6455 §5.2)");
    }
}

/// A ping, a pong and a close, each carrying `len` bytes (a close: code 1000, then a reason).
fn control_frames(len: usize) -> [Frame; 3] {
    let mut close = vec![b'r'; len];
    close[..2].copy_from_slice(&1000u16.to_be_bytes());
    [Frame::ping(vec![b'p'; len]), Frame::pong(vec![b'p'; len]), Frame::new(OpCode::Close, close)]
}

#[tokio::test]
async fn a_control_frame_over_125_bytes_fails_with_1002() {
    for frame in control_frames(126) {
        let opcode = frame.opcode;
        assert_eq!(
            close_code_for(&frame.masked(MASK).encode()).await,
            1002,
            "a 126-byte {opcode} (RFC 6455 §5.5)"
        );
    }
}

#[tokio::test]
async fn a_control_frame_announcing_over_125_bytes_fails_with_1002_before_its_payload_arrives() {
    // Only the header, announcing 3,000 bytes: the server must not wait for them (it would wait
    // for up to MAX_MESSAGE bytes that a control frame can never carry).
    for frame in control_frames(3000) {
        let opcode = frame.opcode;
        let header = frame.masked(MASK).encode();
        assert_eq!(header[1] & 0x7f, 126, "a 16-bit length follows");
        assert_eq!(
            close_code_for(&header[..8]).await,
            1002,
            "a {opcode} header of 3,000 bytes (RFC 6455 §5.5)"
        );
    }
}

#[tokio::test]
async fn a_fragmented_control_frame_fails_with_1002() {
    let ping = Frame::ping("are you").not_final().masked(MASK);
    assert_eq!(close_code_for(&ping.encode()).await, 1002, "RFC 6455 §5.5");
}

#[tokio::test]
async fn a_continuation_with_no_message_open_fails_with_1002() {
    let orphan = Frame::new(OpCode::Continuation, "lo").masked(MASK);
    assert_eq!(close_code_for(&orphan.encode()).await, 1002, "RFC 6455 §5.4");
}

#[tokio::test]
async fn a_new_message_before_the_last_one_ended_fails_with_1002() {
    let bytes = encode(&[Frame::text("Hel").not_final().masked(MASK), Frame::text("lo").masked(MASK)]);
    assert_eq!(close_code_for(&bytes).await, 1002, "RFC 6455 §5.4");
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_fails_with_1007() {
    let frame = Frame::new(OpCode::Text, vec![b'o', b'k', 0xff]).masked(MASK);
    assert_eq!(close_code_for(&frame.encode()).await, 1007, "RFC 6455 §8.1");
}

#[tokio::test]
async fn invalid_utf8_across_fragments_fails_with_1007() {
    // "€" is e2 82 ac: the first fragment ends inside it (fine), the second breaks it.
    let bytes = encode(&[
        Frame::new(OpCode::Text, vec![0xe2, 0x82]).not_final().masked(MASK),
        Frame::new(OpCode::Continuation, vec![b'A']).masked(MASK),
    ]);
    assert_eq!(close_code_for(&bytes).await, 1007, "RFC 6455 §8.1");
}

#[tokio::test]
async fn a_text_message_ending_inside_a_character_fails_with_1007() {
    let bytes = encode(&[
        Frame::new(OpCode::Text, vec![b'a']).not_final().masked(MASK),
        Frame::new(OpCode::Continuation, vec![0xe2, 0x82]).masked(MASK),
    ]);
    assert_eq!(close_code_for(&bytes).await, 1007, "RFC 6455 §8.1");
}

#[tokio::test]
async fn close_codes_that_must_not_be_sent_fail_with_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let frame = Frame::new(OpCode::Close, code.to_be_bytes().to_vec()).masked(MASK);
        assert_eq!(close_code_for(&frame.encode()).await, 1002, "close code {code} (RFC 6455 §7.4)");
    }
}

#[tokio::test]
async fn a_one_byte_close_payload_fails_with_1002() {
    let frame = Frame::new(OpCode::Close, vec![0x03]).masked(MASK);
    assert_eq!(close_code_for(&frame.encode()).await, 1002, "RFC 6455 §5.5.1");
}

#[tokio::test]
async fn a_close_reason_that_is_not_utf8_fails_with_1007() {
    let frame = Frame::new(OpCode::Close, vec![0x03, 0xe8, 0xff]).masked(MASK);
    assert_eq!(close_code_for(&frame.encode()).await, 1007, "RFC 6455 §5.5.1");
}

#[tokio::test]
async fn a_frame_over_the_size_limit_fails_with_1009_before_its_payload_arrives() {
    // Only the header: the server must refuse on the announced length alone.
    let header = Frame::binary(vec![0; limits::MAX_MESSAGE + 1]).masked(MASK).encode();
    assert_eq!(close_code_for(&header[..14]).await, 1009, "RFC 6455 §7.4.1");
}

#[tokio::test]
async fn a_message_over_the_size_limit_across_fragments_fails_with_1009() {
    let half = limits::MAX_MESSAGE / 2 + 1;
    let bytes = encode(&[
        Frame::binary(vec![1; half]).not_final().masked(MASK),
        Frame::new(OpCode::Continuation, vec![2; half]).masked(MASK),
    ]);
    assert_eq!(close_code_for(&bytes).await, 1009, "RFC 6455 §7.4.1");
}

#[tokio::test]
async fn a_64_bit_length_with_the_top_bit_set_fails_with_1002() {
    let bytes = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    assert_eq!(close_code_for(&bytes).await, 1002, "RFC 6455 §5.2");
}

#[tokio::test]
async fn a_valid_close_is_answered_with_the_same_code_and_the_server_closes_tcp_first() {
    let addr = start_server().await;
    let mut client = connect(addr).await;
    let bye = Frame::new(OpCode::Close, vec![0x03, 0xe9, b'b', b'y', b'e']).masked(MASK);
    client.send(&bye).await.unwrap();
    let frames = tokio::time::timeout(GUARD, client.read_to_end()).await.unwrap().unwrap();
    assert_eq!(
        frames,
        [Frame::new(OpCode::Close, vec![0x03, 0xe9, b'b', b'y', b'e'])],
        "the server answers 1001 \"bye\" with the same, then closes TCP (RFC 6455 §7.1.1)"
    );
}

#[tokio::test]
async fn an_empty_close_is_answered_with_an_empty_close() {
    let addr = start_server().await;
    let mut client = connect(addr).await;
    client.send(&Frame::close(None).masked(MASK)).await.unwrap();
    let frames = tokio::time::timeout(GUARD, client.read_to_end()).await.unwrap().unwrap();
    assert_eq!(frames, [Frame::close(None)], "no code in, no code out (reported as 1005 on both sides)");
}

#[tokio::test]
async fn pings_between_fragments_are_answered_and_the_message_is_echoed_whole() {
    let addr = start_server().await;
    let mut client = connect(addr).await;
    let bytes = encode(&[
        Frame::text("Hel").not_final().masked(MASK),
        Frame::ping("?").masked(MASK),
        Frame::pong("unsolicited").masked(MASK),
        Frame::new(OpCode::Continuation, "lo").masked(MASK),
    ]);
    client.send_raw(&bytes).await.unwrap();
    assert_eq!(client.next_frame().await.unwrap(), Some(Frame::pong("?")), "RFC 6455 §5.5.2");
    assert_eq!(client.next_frame().await.unwrap(), Some(Frame::text("Hello")), "RFC 6455 §5.4");
}

#[tokio::test]
async fn a_length_in_a_longer_form_than_needed_is_read_and_the_echo_uses_the_shortest() {
    // "hello" is 5 bytes, so §5.2 tells a sender to put 5 in the 7-bit field (`85`: mask bit and
    // 5). The same 5 in the 16-bit form (`fe 00 05`) or the 64-bit form (`ff 00 … 05`) breaks that
    // rule, but cannot be misread: the server reads it, as tungstenite does, and its own echo
    // uses the shortest form (rules.md says why it tolerates rather than fails).
    let addr = start_server().await;
    let mut client = connect(addr).await;
    let masked = Frame::text("hello").masked(MASK).encode();
    let (mask, payload) = masked[2..].split_at(4);
    let sixteen_bit = [&[0x81, 0xfe, 0x00, 0x05][..], mask, payload].concat();
    let sixty_four_bit = [&[0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x05][..], mask, payload].concat();
    for (form, bytes) in [("16-bit", sixteen_bit), ("64-bit", sixty_four_bit)] {
        client.send_raw(&bytes).await.unwrap();
        let echo = tokio::time::timeout(GUARD, client.next_frame()).await.unwrap().unwrap();
        assert_eq!(
            echo.map(|frame| frame.encode()),
            Some(b"\x81\x05hello".to_vec()),
            "5 in the {form} form is read as 5; the echo is `81 05 hello`"
        );
    }
}

#[tokio::test]
async fn one_misbehaving_client_does_not_affect_another_connection() {
    let addr = start_server().await;
    let mut good = connect(addr).await;
    good.send_text("before").await.unwrap();
    assert_eq!(good.next_frame().await.unwrap(), Some(Frame::text("before")));

    // One client breaks a rule and then never answers the server's close frame…
    let mut rude = connect(addr).await;
    rude.send(&Frame::text("unmasked")).await.unwrap();
    let close = rude.next_frame().await.unwrap().unwrap();
    assert_eq!(close.opcode, OpCode::Close);
    // … another sends half a request head and stops …
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // … and a third sends garbage instead of HTTP.
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage.write_all(&[0xff; 64]).await.unwrap();

    good.send_text("after").await.unwrap();
    assert_eq!(
        good.next_frame().await.unwrap(),
        Some(Frame::text("after")),
        "the well-behaved connection is served as if the others were not there"
    );
    drop((rude, slow, garbage));
}
