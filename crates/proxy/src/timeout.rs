//! `proxy_read_timeout`: nginx closes an upgraded connection that has been silent too long.
//!
//! For an upgraded connection nginx keeps one timer, `proxy_read_timeout` (60 s by default), and
//! starts it again whenever a byte passes in either direction. When it fires, nginx closes both
//! TCP connections, the client's and the server's, with no WebSocket close frame: a browser
//! reports 1006. So any traffic keeps the connection open, whoever sends it:
//!
//! - [`idle`]: nobody sends anything: cut after the timeout, 1006 for the client.
//! - [`heartbeat`]: the server pings every second, the client's library answers: open as long as
//!   the client likes.
//! - [`client_pings`]: the client pings every second, and the server never answers: open as well.
//!   Traffic in one direction is enough.
//!
//! The demo sets the timeout to [`TIMEOUT`] (2 s) so that a class can watch it happen.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;

use crate::config::Site;
use crate::stage::{PATIENCE, Recording, Side, Stage};
use crate::upstream::{PATH, Upstream};
use crate::{Error, ending_of};

/// The demo's `proxy_read_timeout`: short enough to watch, long enough that a ping every
/// [`INTERVAL`] keeps well inside it.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// How often the pings go, from the server or from the client: half the timeout, so that one
/// late ping does not cost the connection.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Pings before the client says goodbye: the connection then has lived twice the timeout.
pub const PINGS: u32 = 4;

/// The configuration: the upgrade forwarded, and the timeout.
pub fn site() -> Site {
    Site::websocket().read_timeout(TIMEOUT)
}

/// Seconds, rounded: `2 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64().round())
}

/// Opens a WebSocket through the proxy to `server`.
async fn open(stage: &Stage) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, Error> {
    let stream = stage.connect().await?;
    let host = stage.addr().to_string();
    Ok(serve::client::connect_over(stream, &host, PATH, Some(serve::client::RFC_KEY)).await?)
}

/// Closes with 1000 and reads to the end: what came back.
async fn goodbye(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Result<String, Error> {
    ws.close(Some(CloseFrame { code: TCloseCode::Normal, reason: "".into() })).await?;
    let mut answer = None;
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => answer = Some(Ok(message)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => {
                answer = Some(Err(e));
                break;
            }
        }
    }
    Ok(ending_of(answer))
}

// ANCHOR: idle
/// Nobody sends anything after the `101`: nginx cuts both connections after [`TIMEOUT`].
pub async fn idle(live: bool) -> Result<Recording, Error> {
    let server = Upstream::echo().await?;
    let stage = Stage::start(&site(), server.addr(), live).await?;
    let mut ws = open(&stage).await?;
    let opened = Instant::now();
    stage.log().note(Side::Front, "the client and the server send nothing");
    let end = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .map_err(|_| Error::Stuck("nginx's timeout".into()))?;
    let client = vec![format!("{}, {} after the 101", ending_of(end), seconds(opened.elapsed()))];
    drop(ws);
    stage.finish(client, &server).await
}
// ANCHOR_END: idle

// ANCHOR: heartbeat
/// The server pings every [`INTERVAL`]; the client's library answers each ping with a pong. After
/// [`PINGS`] pings, twice the timeout, the client closes with 1000.
pub async fn heartbeat(live: bool) -> Result<Recording, Error> {
    let server = Upstream::pinging(INTERVAL).await?;
    let stage = Stage::start(&site(), server.addr(), live).await?;
    let mut ws = open(&stage).await?;
    let opened = Instant::now();
    let mut pings = 0;
    while pings < PINGS {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(_))) => {}
            Ok(end) => {
                let client = vec![format!("after {pings} pings, {}", ending_of(end))];
                drop(ws);
                return stage.finish(client, &server).await;
            }
            Err(_) => return Err(Error::Stuck("the server's ping".into())),
        }
    }
    let alive = seconds(opened.elapsed());
    // The pong to the last ping waits in tungstenite until the next read, write or flush: out
    // with it before the close frame.
    ws.flush().await?;
    let answer = goodbye(&mut ws).await?;
    let client = vec![
        format!("got {pings} pings, each answered with a pong by the library; still open after {alive}"),
        format!("sent close 1000, {answer}"),
    ];
    drop(ws);
    stage.finish(client, &server).await
}
// ANCHOR_END: heartbeat

// ANCHOR: client_pings
/// The client pings every [`INTERVAL`] and the server never answers; after [`PINGS`] pings the
/// client closes with 1000.
pub async fn client_pings(live: bool) -> Result<Recording, Error> {
    let server = Upstream::silent().await?;
    let stage = Stage::start(&site(), server.addr(), live).await?;
    let mut ws = open(&stage).await?;
    let opened = Instant::now();
    let mut ticks = tokio::time::interval_at(opened + INTERVAL, INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pings = 0;
    loop {
        tokio::select! {
            // Nothing should arrive: the server never answers. Anything that does ends the script.
            message = ws.next() => {
                let client = vec![format!("after {pings} pings, {}", ending_of(message))];
                drop(ws);
                return stage.finish(client, &server).await;
            }
            _ = ticks.tick() => {
                if pings == PINGS {
                    break;
                }
                pings += 1;
                ws.send(Message::Ping(pings.to_string().into())).await?;
            }
        }
    }
    let alive = seconds(opened.elapsed());
    let answer = goodbye(&mut ws).await?;
    let client = vec![
        format!("sent {pings} pings, got no pong; still open after {alive}"),
        format!("sent close 1000, {answer}"),
    ];
    drop(ws);
    stage.finish(client, &server).await
}
// ANCHOR_END: client_pings
