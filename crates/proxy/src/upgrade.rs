//! The upgrade through nginx: forwarded, and not.
//!
//! `Upgrade` and `Connection` are hop-by-hop headers (RFC 9110 §7.6.1): they are about one
//! connection, between the client and whatever it is connected to, and a proxy does not pass
//! them on. nginx, by default, also speaks HTTP/1.0 to the server, which has no upgrade at all
//! (RFC 9110 §7.8 is HTTP/1.1). So the same request from the client reaches the server as three
//! different requests, depending on three lines of configuration ([`cases`]):
//!
//! - nginx's defaults: `GET … HTTP/1.0`, `Connection: close`, no `Upgrade`. The server refuses
//!   an HTTP/1.0 upgrade: 400.
//! - `proxy_http_version 1.1` alone: HTTP/1.1, still `Connection: close` and no `Upgrade`: 426.
//! - the three directives: the upgrade reaches the server, `101`, and nginx then passes the
//!   frames on both ways, byte for byte.

use futures_util::{SinkExt, StreamExt};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;

use crate::config::{Site, Upgrade};
use crate::stage::{Recording, Side, Stage};
use crate::upstream::{PATH, Upstream};
use crate::{Error, ending_of};

/// The text the client sends through nginx when the upgrade works.
pub const MESSAGE: &str = "Hello through nginx";

/// One way of configuring nginx, for the demo and the tests.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its name in snapshots (`proxy__upgrade_forwarded`).
    pub name: &'static str,
    /// What it shows, as a heading.
    pub title: &'static str,
    /// The configuration.
    pub site: Site,
}

/// The three configurations, from nginx's defaults to the upgrade forwarded.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "upgrade_not_forwarded",
            title: "nginx's defaults: the upgrade does not reach the server",
            site: Site::plain(),
        },
        Case {
            name: "upgrade_http11_only",
            title: "proxy_http_version 1.1 alone: HTTP/1.1, still no Upgrade",
            site: Site::plain().upgrade(Upgrade::Http11Only),
        },
        Case {
            name: "upgrade_forwarded",
            title: "The upgrade forwarded: proxy_http_version 1.1, Upgrade, Connection",
            site: Site::websocket(),
        },
    ]
}

// ANCHOR: run
/// Opens a WebSocket through nginx configured as `site`, in front of the shared echo; if the
/// upgrade works, sends [`MESSAGE`], reads the echo and closes with 1000.
pub async fn run(site: &Site, live: bool) -> Result<Recording, Error> {
    let server = Upstream::echo().await?;
    let stage = Stage::start(site, server.addr(), live).await?;
    let stream = stage.connect().await?;
    let host = stage.addr().to_string();
    let mut client = Vec::new();
    let mut refused = false;
    match serve::client::connect_over(stream, &host, PATH, Some(serve::client::RFC_KEY)).await {
        Ok(mut ws) => {
            client.push("the upgrade worked: 101 Switching Protocols".to_owned());
            ws.send(Message::text(MESSAGE)).await?;
            let echo = ws.next().await;
            client.push(format!("sent text {MESSAGE:?}, {}", ending_of(echo)));
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
            client.push(format!("sent close 1000, {}", ending_of(answer)));
        }
        Err(e) => {
            let refusal = serve::client::refusal(&e).unwrap_or_else(|| e.to_string());
            client.push(refusal);
            refused = true;
        }
    }
    let mut recording = stage.finish(client, &server).await?;
    if refused {
        recording.closes_cross(Side::Back);
    }
    Ok(recording)
}
// ANCHOR_END: run
