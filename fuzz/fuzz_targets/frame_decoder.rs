//! The frame decoder on arbitrary bytes: whole, and pushed into the incremental decoder in two
//! pieces. It must never panic, and a frame it decodes must encode back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::frame::{FrameDecoder, decode};

/// Big enough for interesting lengths, small enough that the fuzzer does not allocate gigabytes.
const MAX_PAYLOAD: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((frame, used))) = decode(data, MAX_PAYLOAD) {
        // The decoder accepts a length in a longer form than needed (RFC 6455 §5.2 binds the
        // sender, and tungstenite reads such lengths too; book/src/by-hand/rules.md says why the
        // by-hand server does as well). Re-encoding uses the shortest form, so compare only when
        // the header used it.
        if frame.header().encoded_len() + frame.payload.len() == used {
            assert_eq!(frame.encode(), &data[..used], "decode then encode must give the bytes back");
        }
    }
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut decoder = FrameDecoder::new(MAX_PAYLOAD);
    decoder.push(&data[..cut]);
    while let Ok(Some(_)) = decoder.next_frame() {}
    decoder.push(&data[cut..]);
    while let Ok(Some(_)) = decoder.next_frame() {}
});
