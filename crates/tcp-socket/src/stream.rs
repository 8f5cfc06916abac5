//! TCP is a byte stream: the two demonstrations, made deterministic.
//!
//! Whether three quick writes arrive in one read or three depends on timing, which is exactly why
//! a program must not depend on it, and why a demonstration that relied on timing luck would teach
//! nothing. So both ends live in one task and take turns: the client makes all its writes first,
//! then the server waits until the bytes have *arrived* (it peeks at its receive buffer without
//! taking anything) and only then calls `read`. What `read` returns is then the same on every run.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Error;
use crate::calls::{Call, CallLog, Side};

/// The size of the buffer an ordinary program reads into (a typical choice; tokio's own
/// `copy` uses 8 KiB). Bigger than anything these demonstrations send.
pub const READ_BUFFER: usize = 1024;

/// The tiny buffer of the split-read demonstration: small enough that one write needs several reads.
pub const TINY_BUFFER: usize = 4;

/// A connected pair of sockets on the loopback interface: what `connect` and `accept` return.
pub async fn connected_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Waits until at least `n` bytes are in `stream`'s receive buffer, without taking any: `peek`
/// copies what has arrived and leaves it there for the next `read`.
///
/// On loopback the bytes of a finished `write` are normally there already, so the loop rarely
/// turns; it exists so that the demonstration never depends on that.
pub async fn wait_until_arrived(stream: &TcpStream, n: usize) -> Result<(), Error> {
    let mut buf = vec![0u8; n];
    loop {
        let seen = stream.peek(&mut buf).await?;
        if seen >= n {
            return Ok(());
        }
        if seen == 0 {
            return Err(Error::Closed { after: format!("sending fewer than the {n} bytes expected") });
        }
        tokio::task::yield_now().await;
    }
}

/// `write` once and record it. Small writes on a fresh connection are taken whole.
pub async fn write_logged(
    stream: &mut TcpStream,
    side: Side,
    data: &[u8],
    log: &mut CallLog,
) -> Result<(), Error> {
    let written = stream.write(data).await?;
    log.push(side, Call::Write { data: data.to_vec(), written });
    if written < data.len() {
        stream.write_all(&data[written..]).await?;
    }
    Ok(())
}

/// `read` once into a buffer of `buf_len` bytes and record what came back.
pub async fn read_logged(
    stream: &mut TcpStream,
    side: Side,
    buf_len: usize,
    log: &mut CallLog,
) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; buf_len];
    let n = stream.read(&mut buf).await?;
    buf.truncate(n);
    log.push(side, Call::Read { buf_len, got: buf.clone() });
    Ok(buf)
}

// ANCHOR: coalesced
/// Three writes, one read: the client writes "one", "two" and "three"; the server then reads once
/// and gets all eleven bytes, with nothing to say where one message ended and the next began.
pub async fn coalesced_writes() -> Result<CallLog, Error> {
    let (mut client, mut server) = connected_pair().await?;
    let mut log = CallLog::new();
    for message in ["one", "two", "three"] {
        write_logged(&mut client, Side::Client, message.as_bytes(), &mut log).await?;
    }
    log.note("the server has not read yet; all 11 bytes wait in its receive buffer");
    wait_until_arrived(&server, 11).await?;
    read_logged(&mut server, Side::Server, READ_BUFFER, &mut log).await?;
    Ok(log)
}
// ANCHOR_END: coalesced

// ANCHOR: split
/// One write, several reads: the client writes twelve bytes at once and closes; the server reads
/// with a 4-byte buffer and needs three reads for the one write, then a fourth that returns 0,
/// the end of the stream.
pub async fn split_reads() -> Result<CallLog, Error> {
    let (mut client, mut server) = connected_pair().await?;
    let mut log = CallLog::new();
    write_logged(&mut client, Side::Client, b"hello, world", &mut log).await?;
    client.shutdown().await?;
    log.push(Side::Client, Call::Shutdown);
    wait_until_arrived(&server, 12).await?;
    while !read_logged(&mut server, Side::Server, TINY_BUFFER, &mut log).await?.is_empty() {}
    Ok(log)
}
// ANCHOR_END: split

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn three_writes_arrive_in_one_read() {
        let log = coalesced_writes().await.unwrap();
        assert_eq!(log.reads(Side::Server), [b"onetwothree"], "{}", log.render());
    }

    #[tokio::test]
    async fn one_write_takes_three_reads_with_a_tiny_buffer() {
        let log = split_reads().await.unwrap();
        let reads: Vec<&[u8]> = log.reads(Side::Server);
        assert_eq!(reads, [&b"hell"[..], b"o, w", b"orld"], "{}", log.render());
    }
}
