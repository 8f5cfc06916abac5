//! Whatever bytes arrive, the TCP echoes' decoders take messages out or report an error, never
//! panic, and never hand out a message over their limit.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use bytes::BytesMut;
use proptest::prelude::*;
use tcp_socket::framing::{MAX_FRAME, MAX_LINE, length_codec, lines_codec};
use tokio_util::codec::Decoder;

fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..2000), 0..12)
}

/// Feeds `chunks` one read at a time; returns the sizes of the messages found, and stops at the
/// first error, as the servers do.
fn decode<C: Decoder>(mut codec: C, chunks: &[Vec<u8>]) -> Vec<usize>
where
    C::Item: AsRef<[u8]>,
{
    let mut buffer = BytesMut::new();
    let mut sizes = Vec::new();
    for chunk in chunks {
        buffer.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buffer) {
                Ok(Some(message)) => sizes.push(message.as_ref().len()),
                Ok(None) => break,
                Err(_) => return sizes,
            }
        }
    }
    sizes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_line_decoder_never_panics_nor_returns_a_line_over_its_limit(chunks in chunks()) {
        for size in decode(lines_codec(), &chunks) {
            prop_assert!(size <= MAX_LINE);
        }
    }

    #[test]
    fn the_length_decoder_never_panics_nor_returns_a_message_over_its_limit(chunks in chunks()) {
        for size in decode(length_codec(), &chunks) {
            prop_assert!(size <= MAX_FRAME);
        }
    }
}
