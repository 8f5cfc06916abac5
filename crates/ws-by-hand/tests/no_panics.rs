//! Whatever a client sends, the by-hand server answers without a panic: property tests over
//! arbitrary bytes, for the sans-I/O session and for the whole server over an in-memory pipe.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
use wire::frame::{Frame, OpCode};
use ws_by_hand::session::{Action, Session};
use ws_by_hand::{Limits, PATH, RFC_KEY};

fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..96), 0..12)
}

/// Frames that are nearly right: any flags, opcode, mask or none, short payloads. Random bytes
/// rarely form a frame header the session accepts; these reach the rules past the first frame.
fn frames() -> impl Strategy<Value = Vec<Frame>> {
    let frame = (
        any::<bool>(),
        prop::sample::select(vec![0u8, 1, 2, 8, 9, 10, 3, 0xb]),
        prop::option::weighted(0.9, any::<[u8; 4]>()),
        prop::collection::vec(any::<u8>(), 0..140),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(fin, op, mask, payload, rsv)| Frame {
            fin,
            rsv1: rsv,
            rsv2: false,
            rsv3: false,
            opcode: OpCode::from_bits(op),
            mask,
            payload,
        });
    prop::collection::vec(frame, 0..12)
}

/// Feeds chunks to a session and checks what it may never do.
fn drive(chunks: &[Vec<u8>]) {
    let mut session = Session::new(256);
    let mut closes_sent = 0;
    let mut tcp_closed = false;
    for chunk in chunks {
        for action in session.receive(chunk) {
            assert!(!tcp_closed, "no action after CloseTcp: {action:?}");
            match action {
                Action::Send(frame) => {
                    assert_eq!(frame.mask, None, "a server never masks");
                    if frame.opcode == OpCode::Close {
                        closes_sent += 1;
                    }
                }
                Action::CloseTcp(_) | Action::Linger(_) => tcp_closed = true,
                Action::Deliver(_) => {}
            }
        }
    }
    assert!(closes_sent <= 1, "at most one close frame is sent");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic_the_session(chunks in chunks()) {
        drive(&chunks);
    }

    #[test]
    fn nearly_valid_frames_never_panic_the_session(frames in frames(), cut in 0usize..64) {
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        let cut = cut.min(bytes.len());
        drive(&[bytes[..cut].to_vec(), bytes[cut..].to_vec()]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_after_the_handshake_never_panic_the_server(chunks in chunks()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        runtime.block_on(async {
            let (mut client, server_end) = duplex(64 * 1024);
            let server = tokio::spawn(async move { ws_by_hand::server::run(server_end, &Limits::default()).await });
            let request = wire::handshake::client_request("test", PATH, RFC_KEY);
            client.write_all(request.as_bytes()).await.unwrap();
            for chunk in &chunks {
                // The server may have closed already; that is an answer too.
                if client.write_all(chunk).await.is_err() {
                    break;
                }
            }
            let _ = client.shutdown().await;
            let mut rest = Vec::new();
            let _ = client.read_to_end(&mut rest).await;
            assert!(rest.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
            // The server ends on its own: Ok or an error, never a panic.
            let joined = server.await;
            prop_assert!(joined.is_ok(), "the server task panicked: {joined:?}");
            Ok(())
        })?;
    }
}
