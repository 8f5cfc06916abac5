//! The chapter's exchanges through the Tap: the three messages over each framing.
//!
//! `just tcp-echo` and `just tcp-framing` print these live; `tests/tcp_socket.rs` snapshots the
//! same transcripts; the book includes the snapshots. All of them run [`record`].

use tokio::net::{TcpListener, TcpStream};
use wire::tap::Observer;
use wire::{Mode, Tap, Transcript};

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
