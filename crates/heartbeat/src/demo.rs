//! What `just heartbeat` shows: the pinging server, the Tap and a watching client over real TCP,
//! in real time, with a short interval so a class can watch the pings go by.
//!
//! - Healthy: a ping every second, each answered, until the client says goodbye.
//! - `--blackhole`: two and a half seconds in, the Tap stops passing bytes on. The server's
//!   pings go unanswered; it drops the connection [`Heartbeat::detection_time`] after the first
//!   lost one. The client hears nothing and gives up on its own.

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use wire::Tap;
use wire::tap::Observer;

use crate::endings::{Recorded, exchange};
use crate::watchdog::Watchdog;
use crate::{Error, Heartbeat, Settings};

/// The demo's heartbeat: a ping a second, so the room sees one; two missed and the peer is gone.
pub const HEARTBEAT: Heartbeat = Heartbeat { interval: Duration::from_secs(1), max_missed: 2 };

/// Pings in the healthy demo before the client closes.
pub const PINGS: u32 = 5;

/// Runs the demo; `observer` sees each event as the Tap records it.
pub async fn run(blackhole: bool, observer: Option<Observer>) -> Result<Recorded, Error> {
    let heartbeat = HEARTBEAT;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut tap = Tap::bind("127.0.0.1:0", listener.local_addr()?).await?.clock(true);
    if let Some(observer) = observer {
        tap = tap.observe(move |id, event| observer(id, event));
    }
    let client = TcpStream::connect(tap.local_addr()).await?;
    client.set_nodelay(true)?;
    let connection = tap.accept().await?;
    let (server, _) = listener.accept().await?;
    server.set_nodelay(true)?;
    let settings = Settings { heartbeat, limits: crate::config::no_idle() };
    let interval = heartbeat.interval;
    let (blackhole_after, goodbye_after) = if blackhole {
        (Some(interval * 5 / 2), None)
    } else {
        (None, Some(interval * PINGS + interval / 2))
    };
    let host = tap.local_addr().to_string();
    let watchdog = Watchdog::for_heartbeat(&heartbeat);
    let control = connection.control();
    let (client_saw, server_saw) =
        exchange(client, server, &host, &control, settings, watchdog, blackhole_after, goodbye_after).await?;
    let transcript = connection.transcript().await;
    Ok(Recorded { transcript, client: client_saw, server: server_saw })
}
