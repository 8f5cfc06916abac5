//! The client's side: notice a server that has gone silent.
//!
//! A server that pings every `interval` is never silent for long while it is alive. So the
//! client does not need to ping back: it only needs a deadline that every frame from the server
//! pushes forward. If `max_missed` pings' worth of time passes with nothing at all, the server
//! (or the path to it) is gone, and the client drops the connection and may reconnect.
//!
//! Half an interval more is allowed, for the network's delay: without it, a ping that arrives
//! exactly on time would race the deadline, and which one won would depend on luck.
//!
//! A browser cannot do this with pings: it answers them itself and never tells the page (see the
//! chapter). Browser code sends its own application-level heartbeat instead.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wire::CloseCode;

use crate::config::Heartbeat;

/// How long the client tolerates silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watchdog {
    /// Nothing from the server for this long, and the client gives up.
    pub silence: Duration,
}

impl Watchdog {
    /// The watchdog that matches a server's heartbeat: `max_missed` intervals and a half.
    pub fn for_heartbeat(heartbeat: &Heartbeat) -> Watchdog {
        Watchdog { silence: heartbeat.interval * heartbeat.max_missed + heartbeat.interval / 2 }
    }
}

/// How the connection ended, as the client's application saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEnding {
    /// A close frame arrived (from the server, or in answer to ours) and the stream ended.
    Closed(Option<CloseCode>, String),
    /// The server was silent for the watchdog's whole limit; the client dropped the connection.
    ServerSilent(Duration),
    /// The stream ended without a close frame: 1006, a code that never travels on the wire.
    Dropped(String),
}

impl std::fmt::Display for ClientEnding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientEnding::Closed(Some(code), reason) => write!(f, "closed: {code} {reason:?}, a clean close"),
            ClientEnding::Closed(None, _) => write!(f, "closed with no code (reported as 1005)"),
            ClientEnding::ServerSilent(silence) => write!(
                f,
                "nothing from the server for {} s: gave up and dropped the connection, no close frame",
                silence.as_secs_f64()
            ),
            ClientEnding::Dropped(why) => write!(f, "1006 abnormal closure: {why}"),
        }
    }
}

/// Something the client's application saw, for the demo's and the snapshot's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Since the client started listening.
    pub at: Duration,
    /// What, in words.
    pub what: String,
}

// ANCHOR: listen
/// Reads until the connection ends: pings are answered (by tungstenite) and push the deadline
/// forward like every other frame. With `goodbye_after`, the client closes with 1000 then.
pub async fn listen<S>(
    mut ws: WebSocketStream<S>,
    watchdog: Watchdog,
    goodbye_after: Option<Duration>,
    mut seen: impl FnMut(Seen),
) -> ClientEnding
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let mut deadline = start + watchdog.silence;
    let mut goodbye = goodbye_after.map(|after| start + after);
    let mut close: Option<(Option<CloseCode>, String)> = None;
    loop {
        let mut note = |what: String| seen(Seen { at: start.elapsed(), what });
        tokio::select! {
            // Frames first: one that arrived by the deadline counts.
            biased;
            message = ws.next() => {
                deadline = Instant::now() + watchdog.silence;
                match message {
                    None | Some(Err(tungstenite::Error::ConnectionClosed)) => {
                        return match close {
                            Some((code, reason)) => ClientEnding::Closed(code, reason),
                            None => ClientEnding::Dropped("the stream ended with no close frame".into()),
                        };
                    }
                    Some(Err(e)) => return ClientEnding::Dropped(e.to_string()),
                    Some(Ok(Message::Ping(payload))) => {
                        note(format!("ping {:?}: tungstenite queued the pong", String::from_utf8_lossy(&payload)));
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.as_ref().map(|f| CloseCode(u16::from(f.code)));
                        let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                        note(format!("close {}: tungstenite queued the answering close", describe(code, &reason)));
                        close = Some((code, reason));
                    }
                    Some(Ok(other)) => note(serve::client::describe(&other)),
                }
            }
            _ = tokio::time::sleep_until(deadline), if close.is_none() => {
                return ClientEnding::ServerSilent(watchdog.silence);
            }
            _ = sleep_until_some(goodbye), if close.is_none() => {
                goodbye = None;
                note("sends close 1000 \"bye\"".into());
                let frame = CloseFrame { code: TCloseCode::Normal, reason: "bye".into() };
                if let Err(e) = ws.close(Some(frame)).await {
                    return ClientEnding::Dropped(e.to_string());
                }
            }
        }
    }
}
// ANCHOR_END: listen

fn describe(code: Option<CloseCode>, reason: &str) -> String {
    match code {
        Some(code) if reason.is_empty() => code.to_string(),
        Some(code) => format!("{code} {reason:?}"),
        None => "with no code (1005)".into(),
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
