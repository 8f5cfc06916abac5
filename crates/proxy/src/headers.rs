//! Who is the client, and which host did it ask for: two headers a proxy changes.
//!
//! - **The client's address.** Behind nginx the server's TCP peer is nginx. With
//!   `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` nginx appends the address it
//!   saw; without it, whatever the client wrote in `X-Forwarded-For` arrives unchanged. The client
//!   here writes a false one, `203.0.113.7` (an address reserved for documentation, RFC 5737), to
//!   show what a server that believes it would believe ([`forwarded_for`]).
//! - **The `Origin` check.** Every Duplex server lets a browser page open a WebSocket only if the
//!   page's origin is the server's own, as the request's `Host` names it (`guard`'s
//!   `Origins::same_host`). Behind nginx, `Host` is what nginx sends: by default the address in
//!   `proxy_pass` (`$proxy_host`), with `$host` the client's host name without its port, with
//!   `$http_host` exactly what the client sent ([`origin`]).

use futures_util::{SinkExt, StreamExt};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;

use crate::config::{Host, Site};
use crate::stage::{Recording, Side, Stage};
use crate::upstream::{PATH, Upstream};
use crate::{Error, ending_of};

/// The address the client claims in its own `X-Forwarded-For`: reserved for documentation
/// (RFC 5737), so it is nobody's.
pub const FORGED: &str = "203.0.113.7";

/// Reads until the end of the connection: the last thing that came.
async fn to_the_end<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut last = None;
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) => last = Some(Ok(message)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => {
                last = Some(Err(e));
                break;
            }
        }
    }
    ending_of(last)
}

// ANCHOR: forwarded_for
/// The client sends `X-Forwarded-For: 203.0.113.7` of its own; the server trusts the header from
/// its proxy only, and then only the last address. With `append` nginx adds the address it saw;
/// without, the client's words arrive unchanged.
pub async fn forwarded_for(append: bool, live: bool) -> Result<Recording, Error> {
    let site = if append { Site::websocket().forwarded_for() } else { Site::websocket() };
    // Tap 2 stands where nginx would, and it connects from loopback: the proxy to trust.
    let server = Upstream::whoami(vec![std::net::Ipv4Addr::LOCALHOST.into()]).await?;
    let stage = Stage::start(&site, server.addr(), live).await?;
    let stream = stage.connect().await?;
    let host = stage.addr().to_string();
    let headers = [("X-Forwarded-For", FORGED)];
    let mut ws =
        serve::client::connect_over_with(stream, &host, PATH, Some(serve::client::RFC_KEY), &headers).await?;
    let told = ws.next().await;
    let mut client = vec![format!("claimed to be {FORGED}; {}", ending_of(told))];
    client.push(format!("then {}", to_the_end(&mut ws).await));
    drop(ws);
    stage.finish(client, &server).await
}
// ANCHOR_END: forwarded_for

/// The three ways nginx can set `Host`, for the demo and the tests: (snapshot name, heading).
pub fn origin_cases() -> [(Host, &'static str, &'static str); 3] {
    [
        (Host::ProxyHost, "origin_proxy_host", "Host: nginx's default, the address in proxy_pass"),
        (Host::Host, "origin_host", "proxy_set_header Host $host: the host name without its port"),
        (Host::HttpHost, "origin_http_host", "proxy_set_header Host $http_host: what the client sent"),
    ]
}

// ANCHOR: origin
/// A browser page served through nginx opens a WebSocket to the same address: `Origin` names
/// the address the client connects to. The echo checks it against `Host`, as nginx sets it.
pub async fn origin(host: Host, live: bool) -> Result<Recording, Error> {
    let server = Upstream::echo().await?;
    let stage = Stage::start(&Site::websocket().host(host), server.addr(), live).await?;
    let stream = stage.connect().await?;
    let address = stage.addr().to_string();
    let page = format!("http://{address}");
    let headers = [("Origin", page.as_str())];
    let mut client = Vec::new();
    let mut refused = false;
    match serve::client::connect_over_with(stream, &address, PATH, Some(serve::client::RFC_KEY), &headers)
        .await
    {
        Ok(mut ws) => {
            ws.send(Message::text("same origin")).await?;
            let echo = ws.next().await;
            client.push(format!("the upgrade worked; sent text \"same origin\", {}", ending_of(echo)));
            ws.close(Some(CloseFrame { code: TCloseCode::Normal, reason: "".into() })).await?;
            client.push(format!("sent close 1000, {}", to_the_end(&mut ws).await));
        }
        Err(e) => {
            client.push(serve::client::refusal(&e).unwrap_or_else(|| e.to_string()));
            refused = true;
        }
    }
    let mut recording = stage.finish(client, &server).await?;
    if refused {
        recording.closes_cross(Side::Back);
    }
    Ok(recording)
}
// ANCHOR_END: origin
