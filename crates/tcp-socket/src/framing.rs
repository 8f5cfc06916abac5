//! Framing by hand: two ways to put message boundaries back into a byte stream.
//!
//! - **A delimiter.** End every message with a byte that cannot appear inside one: `\n` for lines
//!   of text. The reader collects bytes until it sees the delimiter. Simple, human-readable
//!   (`nc` and `telnet` speak it), but the messages cannot contain the delimiter, and the reader
//!   cannot know how much memory a message needs until it ends: hence [`MAX_LINE`].
//! - **A length prefix.** Send the message's length first, as a fixed-size number, then that many
//!   bytes. Any bytes may travel, and the reader knows the size before the message arrives, so it
//!   can refuse an oversized one at once: hence [`MAX_FRAME`]. WebSocket frames are this idea
//!   with a variable-size length (RFC 6455 §5.2).
//!
//! tokio-util's codecs do the bookkeeping: a decoder is given the bytes read so far and either
//! takes one whole message out of them or says it needs more. The demonstrations below feed them
//! the most awkward reads possible: two messages and a half in one read, the other half later.

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LinesCodec};

use crate::Error;
use crate::calls::{Call, CallLog, Side};
use crate::stream::{READ_BUFFER, connected_pair, read_logged, wait_until_arrived, write_logged};

/// The longest line the line-delimited echo accepts. A reader of lines must buffer until the
/// newline arrives; without a limit, a client that never sends one makes the server hold
/// everything it sends. 8 KiB is far more than a chat line.
pub const MAX_LINE: usize = 8 * 1024;

/// The longest message the length-prefixed echo accepts: a length prefix lets the reader refuse an
/// oversized message before a byte of it arrives. Every Duplex server's message limit, 64 KiB
/// (`guard::limits::MAX_MESSAGE`), as the WebSocket echo's.
pub const MAX_FRAME: usize = guard::limits::MAX_MESSAGE;

/// The line codec, with its limit.
pub fn lines_codec() -> LinesCodec {
    lines_codec_with(MAX_LINE)
}

/// The line codec with another limit (the echo server's `--max-line`).
pub fn lines_codec_with(max: usize) -> LinesCodec {
    LinesCodec::new_with_max_length(max)
}

// ANCHOR: length_codec
/// The length-prefix codec: a 4-byte big-endian length, then the message (tokio-util's defaults),
/// with our limit.
pub fn length_codec() -> LengthDelimitedCodec {
    length_codec_with(MAX_FRAME)
}
// ANCHOR_END: length_codec

/// The length-prefix codec with another limit (the servers' `--max-message`).
pub fn length_codec_with(max: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().length_field_length(4).max_frame_length(max).new_codec()
}

/// The messages of the framing demonstrations: the same three as the byte-stream one.
pub const MESSAGES: [&str; 3] = ["one", "two", "three"];

/// `MESSAGES`, each followed by a newline: 14 bytes.
pub fn encode_lines() -> Vec<u8> {
    let mut codec = lines_codec();
    let mut out = BytesMut::new();
    for message in MESSAGES {
        // Encoding into memory cannot fail for lines within the limit.
        let _ = codec.encode(message, &mut out);
    }
    out.to_vec()
}

/// `MESSAGES`, each after its 4-byte length: 23 bytes.
pub fn encode_length_prefixed() -> Vec<u8> {
    let mut codec = length_codec();
    let mut out = BytesMut::new();
    for message in MESSAGES {
        let _ = codec.encode(Bytes::from_static(message.as_bytes()), &mut out);
    }
    out.to_vec()
}

// ANCHOR: feed
/// Adds the bytes of one `read` to the decoder's buffer and takes out every whole message in it.
fn feed<C>(
    codec: &mut C,
    name: &'static str,
    buffer: &mut BytesMut,
    read: &[u8],
    log: &mut CallLog,
) -> Result<(), Error>
where
    C: Decoder,
    C::Item: AsRef<[u8]>,
    Error: From<C::Error>,
{
    buffer.extend_from_slice(read);
    while let Some(message) = codec.decode(buffer)? {
        log.push(Side::Server, Call::Message { codec: name, message: message.as_ref().to_vec() });
    }
    log.push(Side::Server, Call::Incomplete { codec: name, buffered: buffer.to_vec() });
    Ok(())
}
// ANCHOR_END: feed

/// The client sends `encoded` in two writes, cut at `cut`; the server reads after each and
/// feeds the decoder. Returns the log.
async fn two_writes<C>(mut codec: C, name: &'static str, encoded: &[u8], cut: usize) -> Result<CallLog, Error>
where
    C: Decoder,
    C::Item: AsRef<[u8]>,
    Error: From<C::Error>,
{
    let (mut client, mut server) = connected_pair().await?;
    let mut log = CallLog::new();
    let mut buffer = BytesMut::new();
    let (first, second) = encoded.split_at(cut);
    write_logged(&mut client, Side::Client, first, &mut log).await?;
    wait_until_arrived(&server, first.len()).await?;
    let read = read_logged(&mut server, Side::Server, READ_BUFFER, &mut log).await?;
    feed(&mut codec, name, &mut buffer, &read, &mut log)?;
    write_logged(&mut client, Side::Client, second, &mut log).await?;
    client.shutdown().await?;
    log.push(Side::Client, Call::Shutdown);
    wait_until_arrived(&server, second.len()).await?;
    let read = read_logged(&mut server, Side::Server, READ_BUFFER, &mut log).await?;
    feed(&mut codec, name, &mut buffer, &read, &mut log)?;
    read_logged(&mut server, Side::Server, READ_BUFFER, &mut log).await?;
    Ok(log)
}

/// Lines: "one\ntwo\nth" in the first write, "ree\n" in the second. The decoder finds two
/// messages in the first read and keeps "th" until the rest arrives.
pub async fn lines_demo() -> Result<CallLog, Error> {
    two_writes(lines_codec(), "line", &encode_lines(), 10).await
}

/// Length prefixes: the first write ends two bytes into the third message's 4-byte length. The
/// decoder finds two messages and keeps the half a length until the rest arrives.
pub async fn length_prefixed_demo() -> Result<CallLog, Error> {
    two_writes(length_codec(), "length", &encode_length_prefixed(), 16).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_are_four_bytes_big_endian() {
        let bytes = encode_length_prefixed();
        assert_eq!(bytes.len(), 23, "3 messages of 3, 3 and 5 bytes, each after a 4-byte length");
        assert_eq!(&bytes[..7], &[0, 0, 0, 3, b'o', b'n', b'e']);
    }

    #[tokio::test]
    async fn the_line_decoder_finds_three_messages_in_two_awkward_reads() {
        let log = lines_demo().await.unwrap();
        assert_eq!(log.messages(), [&b"one"[..], b"two", b"three"], "{}", log.render());
    }

    #[tokio::test]
    async fn the_length_decoder_finds_three_messages_in_two_awkward_reads() {
        let log = length_prefixed_demo().await.unwrap();
        assert_eq!(log.messages(), [&b"one"[..], b"two", b"three"], "{}", log.render());
    }

    #[test]
    fn an_oversized_length_is_refused_before_the_message_arrives() {
        let mut codec = length_codec();
        let mut buf = BytesMut::from(&(MAX_FRAME as u32 + 1).to_be_bytes()[..]);
        assert!(codec.decode(&mut buf).is_err(), "a length over MAX_FRAME must be an error at once");
    }
}
