//! The by-hand server's session on arbitrary bytes, in arbitrary pieces: it must never panic,
//! never mask, never send more than one close frame, and do nothing after closing TCP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::frame::OpCode;
use ws_by_hand::session::{Action, Session};

fuzz_target!(|data: &[u8]| {
    let mut session = Session::new(4096);
    let mut closes = 0;
    let mut closed = false;
    // The first byte of each piece says how long the piece is.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (piece, tail) = tail.split_at(len);
        rest = tail;
        for action in session.receive(piece) {
            assert!(!closed, "an action after CloseTcp: {action:?}");
            match action {
                Action::Send(frame) => {
                    assert!(frame.mask.is_none(), "a server never masks");
                    closes += usize::from(frame.opcode == OpCode::Close);
                }
                Action::CloseTcp(_) | Action::Linger(_) => closed = true,
                Action::Deliver(_) => {}
            }
        }
    }
    assert!(closes <= 1, "at most one close frame");
});
