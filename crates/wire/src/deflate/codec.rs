//! Compressing and inflating one message at a time (RFC 7692 §6, §7.2).
//!
//! The sender runs DEFLATE (RFC 1951) over the message, ends it with a *sync flush* (an empty
//! uncompressed block, always the four bytes `00 00 ff ff`), cuts those four bytes off and sends
//! the rest as the payload, with RSV1 set on the message's first frame. The receiver puts the four
//! bytes back and inflates. Both keep their DEFLATE state from one message to the next unless
//! the agreement says `*_no_context_takeover` for their direction.
//!
//! ```text
//! "Hello"  ──deflate, sync flush──▶  f2 48 cd c9 c9 07 00 │00 00 ff ff│  ──cut──▶  f2 48 cd c9 c9 07 00
//! ```

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::negotiate::{DeflateAgreement, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::close::CloseCode;
use crate::frame::{Frame, OpCode};

/// RFC 7692 §7.2.1: the end of every sync flush, removed by the sender and put back by the
/// receiver: an empty stored block's LEN (`00 00`) and NLEN (`ff ff`).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How much the receiver inflates at a time: the most it can hold beyond its limit.
const INFLATE_CHUNK: usize = 8 * 1024;

/// The sender's half: a DEFLATE compressor that keeps (or forgets) its window between messages.
pub struct Compressor {
    deflate: Compress,
    window_bits: u8,
    no_context_takeover: bool,
    /// Input bytes since the window was last emptied; used only below 15 bits.
    since_reset: usize,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("total_in", &self.deflate.total_in())
            .field("total_out", &self.deflate.total_out())
            .finish()
    }
}

impl Compressor {
    /// A compressor whose back-references reach at most 2^`window_bits` bytes (8 to 15), that
    /// forgets everything after each message if `no_context_takeover`.
    ///
    /// # Panics
    /// If `window_bits` is outside 8..=15; negotiation never produces such a value.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Compressor {
        assert!((MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits), "window bits must be 8 to 15");
        Compressor {
            // `false`: raw DEFLATE, no zlib header or checksum (RFC 7692 §7.2.1).
            deflate: Compress::new(Compression::default(), false),
            window_bits,
            no_context_takeover,
            since_reset: 0,
        }
    }

    /// Message bytes compressed since the connection began (or the last reset).
    pub fn total_in(&self) -> u64 {
        self.deflate.total_in()
    }

    /// Compressed bytes produced since the connection began (or the last reset), tails included.
    pub fn total_out(&self) -> u64 {
        self.deflate.total_out()
    }

    /// The window the compressor keeps to, in bits.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    // ANCHOR: compress
    /// RFC 7692 §7.2.1: one message's payload, compressed, with the `00 00 ff ff` tail removed.
    pub fn compress(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(message.len() / 2 + 16);
        if self.window_bits == MAX_WINDOW_BITS {
            self.run(message, FlushCompress::Sync, &mut out);
        } else {
            // miniz_oxide always searches a 32 KiB window. To keep every back-reference within
            // 2^N bytes, empty the window (a full flush) every 2^N bytes of input: a match can
            // then reach back only as far as the last flush.
            let window = 1usize << self.window_bits;
            let mut rest = message;
            loop {
                let room = window - self.since_reset;
                if rest.len() < room {
                    self.run(rest, FlushCompress::Sync, &mut out);
                    self.since_reset += rest.len();
                    break;
                }
                let (chunk, after) = rest.split_at(room);
                self.run(chunk, FlushCompress::Full, &mut out);
                self.since_reset = 0;
                rest = after;
                if rest.is_empty() {
                    break;
                }
            }
        }
        // A sync (or full) flush always ends with the empty stored block: cut its last 4 bytes.
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        // §7.2.3.6: a message must have a payload the receiver can inflate; a single 0x00 is an
        // empty stored block's header, which the receiver's tail completes.
        if out.is_empty() {
            out.push(0x00);
        }
        if self.no_context_takeover {
            // §7.1.1.1: forget this message before the next one.
            self.deflate.reset();
            self.since_reset = 0;
        }
        out
    }
    // ANCHOR_END: compress

    /// A final frame holding `message` compressed, RSV1 set (RFC 7692 §6: RSV1 marks the first
    /// frame of a compressed message). To fragment it, split [`Compressor::compress`]'s output
    /// and set RSV1 on the first frame only.
    pub fn compress_frame(&mut self, opcode: OpCode, message: &[u8]) -> Frame {
        Frame::new(opcode, self.compress(message)).compressed()
    }

    /// Feeds `input` and flushes, growing `out` until the compressor has said everything.
    fn run(&mut self, input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) {
        // Room for the worst case (DEFLATE grows incompressible data by a few bytes per block;
        // an eighth is generous), so one call normally does it all.
        out.reserve(input.len() + input.len() / 8 + 64);
        let start = self.deflate.total_in();
        let mut filled_before = false;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let consumed = (self.deflate.total_in() - start) as usize;
            // miniz_oxide fails only if called out of order, never because of the data.
            let status = self
                .deflate
                .compress_vec(&input[consumed..], out, flush)
                .expect("raw deflate of an in-memory buffer cannot fail");
            let consumed = (self.deflate.total_in() - start) as usize;
            let filled = out.len() == out.capacity();
            // zlib's rule, "output space left over means the flush is complete", is not enough
            // here: after a call that filled the output, miniz_oxide's next call only hands over
            // what it had pending and compresses nothing more, leaving room to spare. So a call
            // right after a full one never ends the loop.
            if consumed == input.len() && !filled && !filled_before && status != Status::BufError {
                return;
            }
            filled_before = filled;
        }
    }
}

/// Why a compressed message could not be inflated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// The message inflates to more than the limit. Inflating stopped at the limit: the rest was
    /// never produced (RFC 6455 §10.4; close code 1009).
    #[error("the message inflates to more than the limit of {max} bytes (close code 1009)")]
    TooBig {
        /// The limit.
        max: usize,
    },
    /// The payload is not DEFLATE data (close code 1007: data inconsistent with the message's
    /// type, RFC 6455 §7.4.1; RFC 7692 names no code).
    #[error("the compressed payload is not valid DEFLATE data: {0} (close code 1007)")]
    Corrupt(String),
}

impl InflateError {
    /// The close code an endpoint answers with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            InflateError::TooBig { .. } => CloseCode::TOO_BIG,
            InflateError::Corrupt(_) => CloseCode::INVALID_DATA,
        }
    }
}

/// The receiver's half: a DEFLATE inflater that keeps (or resets) its window between messages.
pub struct Decompressor {
    inflate: Decompress,
    no_context_takeover: bool,
    /// The sender ended its DEFLATE stream (a block with BFINAL set, §7.2.3.4): what follows in
    /// this message is ignored, and the next message starts a new stream.
    stream_ended: bool,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("no_context_takeover", &self.no_context_takeover)
            .field("total_in", &self.inflate.total_in())
            .field("total_out", &self.inflate.total_out())
            .finish()
    }
}

impl Decompressor {
    /// An inflater that resets after each message if `no_context_takeover`.
    ///
    /// It always keeps a 32 KiB window (miniz_oxide's only size), so it reads what a sender
    /// compressed with any window from 8 to 15 bits.
    pub fn new(no_context_takeover: bool) -> Decompressor {
        Decompressor { inflate: Decompress::new(false), no_context_takeover, stream_ended: false }
    }

    /// Compressed bytes read since the connection began (or the last reset).
    pub fn total_in(&self) -> u64 {
        self.inflate.total_in()
    }

    /// Bytes inflated since the connection began (or the last reset).
    pub fn total_out(&self) -> u64 {
        self.inflate.total_out()
    }

    /// RFC 7692 §7.2.2: inflates a whole message's payload (all its frames' payloads joined).
    /// Stops with [`InflateError::TooBig`] as soon as the output would pass `max_len` bytes.
    pub fn decompress(&mut self, payload: &[u8], max_len: usize) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        self.decompress_fragment(payload, true, &mut out, max_len)?;
        Ok(out)
    }

    // ANCHOR: inflate
    /// Inflates one frame's payload of a compressed message onto `out`, which holds the message
    /// so far; `fin` for the message's last frame, which also gets the `00 00 ff ff` tail back.
    ///
    /// The limit applies to `out` as a whole: inflating stops with [`InflateError::TooBig`] as
    /// soon as it would grow past `max_len`, having produced at most a few KiB more than that, and
    /// `out`'s capacity never exceeds `max_len`. A few kilobytes that would inflate to a gigabyte
    /// (a *zip bomb*) cost the receiver no more than its limit.
    pub fn decompress_fragment(
        &mut self,
        fragment: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max_len: usize,
    ) -> Result<(), InflateError> {
        self.inflate_into(fragment, out, max_len)?;
        if fin {
            self.inflate_into(&TAIL, out, max_len)?;
            if self.no_context_takeover || self.stream_ended {
                // §7.2.2: without context takeover, each message starts from an empty window.
                self.inflate.reset(false);
                self.stream_ended = false;
            }
        }
        Ok(())
    }
    // ANCHOR_END: inflate

    fn inflate_into(&mut self, input: &[u8], out: &mut Vec<u8>, max_len: usize) -> Result<(), InflateError> {
        let mut chunk = [0u8; INFLATE_CHUNK];
        let mut consumed = 0;
        let mut filled_before = false;
        while !self.stream_ended {
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(&input[consumed..], &mut chunk, FlushDecompress::None)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let read = (self.inflate.total_in() - in_before) as usize;
            let written = (self.inflate.total_out() - out_before) as usize;
            consumed += read;
            if out.len() + written > max_len {
                return Err(InflateError::TooBig { max: max_len });
            }
            grow_within(out, written, max_len);
            out.extend_from_slice(&chunk[..written]);
            if status == Status::StreamEnd {
                // §7.2.3.4: a block with BFINAL set ends the sender's stream; anything after it in
                // this message (padding) carries nothing.
                self.stream_ended = true;
            } else if consumed == input.len() && written < chunk.len() && !filled_before {
                // All input used and the output not full: nothing more is pending. Not so right
                // after a call that filled the chunk: miniz_oxide's next call only hands over the
                // output it had pending and inflates nothing more, whatever room is left.
                return Ok(());
            } else if read == 0 && written == 0 {
                // No progress at all: the inflater needs more input.
                return Ok(());
            }
            filled_before = written == chunk.len();
        }
        Ok(())
    }
}

/// Makes room for `extra` more bytes in `out`, doubling as `Vec` does but never past `max_len`,
/// so a message at the limit never holds a buffer twice its size.
fn grow_within(out: &mut Vec<u8>, extra: usize, max_len: usize) {
    let needed = out.len() + extra;
    if needed > out.capacity() {
        let target = (out.capacity() * 2).max(needed).max(INFLATE_CHUNK).min(max_len).max(needed);
        out.reserve_exact(target - out.len());
    }
}

/// Both halves for one endpoint of a connection: what it sends is compressed with its own
/// direction's parameters, what it receives is inflated with the peer's.
#[derive(Debug)]
pub struct PerMessageDeflate {
    /// For the messages this endpoint sends.
    pub compressor: Compressor,
    /// For the messages this endpoint receives.
    pub decompressor: Decompressor,
}

impl PerMessageDeflate {
    /// The server's side of `agreement`: it compresses with the `server_*` parameters and
    /// inflates what the client compressed under the `client_*` ones.
    pub fn server(agreement: &DeflateAgreement) -> PerMessageDeflate {
        PerMessageDeflate {
            compressor: Compressor::new(agreement.server_window_bits(), agreement.server_no_context_takeover),
            decompressor: Decompressor::new(agreement.client_no_context_takeover),
        }
    }

    /// The client's side of `agreement`.
    pub fn client(agreement: &DeflateAgreement) -> PerMessageDeflate {
        PerMessageDeflate {
            compressor: Compressor::new(agreement.client_window_bits(), agreement.client_no_context_takeover),
            decompressor: Decompressor::new(agreement.server_no_context_takeover),
        }
    }
}
