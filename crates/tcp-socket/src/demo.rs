//! The chapter's exchanges through the Tap: the three messages over each framing.
//!
//! `just tcp-echo` and `just tcp-framing` print these live; `tests/tcp_socket.rs` snapshots the
//! same transcripts; the book includes the snapshots. All of them run [`record`].

use tap::demo::{CALLS_LEGEND, Demo, DemoFuture, Flags, RAW_LEGEND, heading, live};
use tap::{Observer, Tap, out, outln};
use tokio::net::{TcpListener, TcpStream};
use wire::{Mode, Transcript};

use crate::echo::{Framing, exchange, serve};
use crate::{Error, THREE_MESSAGES};

/// What a recorded exchange produced.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Every byte both ways, as the Tap saw it.
    pub transcript: Transcript,
    /// The echoes the client received.
    pub echoes: Vec<String>,
}

/// Starts an echo server with `framing` on a free port, puts the Tap in front (showing raw
/// bytes: it does not know these framings), sends [`THREE_MESSAGES`] through it one at a time and
/// returns what was recorded. `observer` sees each event as it happens.
pub async fn record(framing: Framing, observer: Option<Observer>) -> Result<Recording, Error> {
    let server = TcpListener::bind("127.0.0.1:0").await?;
    let server_addr = server.local_addr()?;
    let server_task = tokio::spawn(serve(server, framing));
    let mut tap = Tap::bind("127.0.0.1:0", server_addr).await?.mode(Mode::Raw);
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let stream = TcpStream::connect(tap.local_addr()).await?;
    stream.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let echoes = exchange(stream, framing, &THREE_MESSAGES).await;
    let transcript = connection.transcript().await;
    server_task.abort();
    Ok(Recording { transcript, echoes: echoes? })
}

/// The chapter's demos, for `tcp-socket-demo` and `duplex demo`.
pub const DEMOS: &[Demo] = &[
    Demo {
        name: "tcp-echo",
        chapter: "Socket versus WebSocket",
        about: "a raw TCP echo through the Tap; three writes read at once, one write read in pieces",
        flags: &[],
        run: tcp_echo,
    },
    Demo {
        name: "tcp-framing",
        chapter: "Socket versus WebSocket",
        about: "newline and length-prefix framing: decoders fed awkward reads, and the bytes on the wire",
        flags: &[],
        run: tcp_framing,
    },
];

fn tcp_echo(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{RAW_LEGEND}");
        heading("The three messages through a raw TCP echo, as the Tap saw them");
        let recording = record(Framing::Raw, Some(live())).await?;
        outln!("The client got back: {:?}", recording.echoes);
        outln!("{CALLS_LEGEND}");
        heading("Three writes, one read (tcp_socket::stream::coalesced_writes)");
        out!("{}", crate::stream::coalesced_writes().await?.render());
        heading("One write, several reads with a 4-byte buffer (tcp_socket::stream::split_reads)");
        out!("{}", crate::stream::split_reads().await?.render());
        Ok(())
    })
}

fn tcp_framing(_flags: Flags) -> DemoFuture {
    Box::pin(async {
        outln!("{RAW_LEGEND}");
        outln!("{CALLS_LEGEND}");
        heading("Newline-delimited: the line decoder fed two awkward reads");
        out!("{}", crate::framing::lines_demo().await?.render());
        heading("Length-prefixed: the length decoder fed two awkward reads");
        out!("{}", crate::framing::length_prefixed_demo().await?.render());
        for framing in [Framing::Lines, Framing::LengthPrefixed] {
            heading(&format!("The three messages through a {framing} echo, as the Tap saw them"));
            let recording = record(framing, Some(live())).await?;
            outln!("The client got back: {:?}", recording.echoes);
        }
        Ok(())
    })
}
