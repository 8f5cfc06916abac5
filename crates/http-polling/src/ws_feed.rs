//! The same feed over WebSocket, for contrast: after one handshake, each message is one frame.
//!
//! Two servers, because the two I/O models allow different things:
//! - [`serve`] (tokio-tungstenite) reads and writes at the same time: it sends each message the
//!   moment it is published and answers the client's pings and close frame. The chapter's
//!   transcript and the measurement use it.
//! - `upgrade` serves `GET /ws` on tiny_http, as the book server does for its live widget.
//!   tiny_http hands an upgraded connection over as one blocking stream that cannot be split into
//!   a reading half and a writing half, so a thread that waits for the next message cannot also
//!   be reading. This feed therefore only speaks: messages, and a ping every heartbeat, whose
//!   write fails once the client is gone. It does not read the client's close frame, so a
//!   browser that closes sees no close handshake (it reports `wasClean: false`). That is the
//!   honest cost of a blocking server; the async one above has none of it. A client that stops
//!   reading makes a write wait at most the send timeout (the patched tiny_http's write timeout,
//!   `vendor/tiny_http/PATCHES.md`), then the thread and its slot are free again.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tungstenite::Message as WsMessage;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocket};

use crate::feed::{Feed, Message, Wait};
use crate::limits::Limits;
use serve::TungsteniteConfig;

use crate::reply::{Reply, number, query};
use crate::server::{Service, paths};

/// A message as the WebSocket feed sends it: the same JSON object a poll answer lists.
pub fn frame_text(message: &Message) -> String {
    message.json().to_string()
}

// ANCHOR: serve
/// Serves the feed as WebSocket at [`paths::WS`] on `listener` until it fails. Each client gets
/// the remembered messages, then every new one as it is published.
pub async fn serve(listener: TcpListener, feed: Arc<Feed>, limits: Limits) -> std::io::Result<()> {
    let ws_limits = serve::Limits::default();
    let slots = guard::Slots::new(ws_limits.max_connections);
    guard::accept::serve(listener, slots, guard::WhenFull::Http503, |stream, _peer| {
        let (feed, limits, ws_limits) = (feed.clone(), limits.clone(), ws_limits.clone());
        async move {
            // The shared handshake: a bad request gets an HTTP error, not silence.
            match serve::accept::accept(stream, paths::WS, &ws_limits).await {
                Ok((ws, _)) => speak(ws, &feed, &limits).await,
                Err(e) => tracing::debug!("WebSocket feed handshake refused: {e}"),
            }
        }
    })
    .await
}

async fn speak<S>(mut ws: tokio_tungstenite::WebSocketStream<S>, feed: &Feed, limits: &Limits)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut changes = feed.watch();
    let epoch = changes.borrow_and_update().1;
    let mut last = 0;
    loop {
        // Marked seen *before* reading the feed: a publish after this line wakes `changed`.
        let ended = changes.borrow_and_update().1 != epoch;
        for message in feed.since(last, limits.batch) {
            last = message.id;
            // A client that stopped reading is dropped after the send timeout, not waited for.
            let send = ws.send(WsMessage::text(frame_text(&message)));
            if !matches!(tokio::time::timeout(guard::limits::SEND_TIMEOUT, send).await, Ok(Ok(()))) {
                return;
            }
        }
        if ended {
            let bye = CloseFrame { code: CloseCode::Away, reason: "the server is restarting".into() };
            let _ = ws.close(Some(bye)).await;
        }
        tokio::select! {
            changed = changes.changed(), if !ended => if changed.is_err() { return },
            incoming = ws.next() => match incoming {
                // Pings are answered and a close frame is answered by tungstenite itself, as
                // long as we keep reading; the stream ends after the close handshake.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            () = tokio::time::sleep(limits.heartbeat) => {
                if ws.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
// ANCHOR_END: serve

/// `GET /ws` on tiny_http: checks the handshake, answers `101`, and speaks the feed on a thread
/// of its own (one of the service's waiting slots). See the module docs for what it cannot do.
pub(crate) fn upgrade(service: &Service, request: tiny_http::Request) {
    let head = serve::tiny::head_of(&request);
    let since = match query(request.url(), &["since"]).and_then(|q| number("since", q[0], 0)) {
        Ok(since) => since,
        Err(e) => return Reply::text(400, &e.0).send(request),
    };
    let headers = head.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    // The handshake's own checks, then `Origin`: only pages of this very server may open the
    // feed's WebSocket (Cross-Site WebSocket Hijacking, RFC 6455 §10.2; `guard::admission`).
    let same_host = guard::admission::Admission::new(guard::admission::Sessions::new()).allow_same_host();
    let checked = wire::handshake::check_upgrade(request.method().as_str(), head_minor(&head), headers)
        .and_then(|accepted| same_host.check_origin(&head).map(|_| accepted));
    let accepted = match checked {
        Ok(accepted) => accepted,
        Err(rejection) => return serve::tiny::refuse(request, rejection),
    };
    let slot = match service.take_slot(crate::server::client_ip(&request)) {
        Ok(slot) => slot,
        Err(busy) => return service.busy_reply(busy).send(request),
    };
    let (feed, limits) = (service.feed().clone(), service.limits().clone());
    let config = serve::Limits::default().websocket_config();
    serve::tiny::upgrade(request, &accepted, config, "websocket feed".into(), slot, move |ws| {
        speak_only(ws, &feed, since, &limits);
    });
}

fn head_minor(head: &wire::http::Head) -> u8 {
    match head.start {
        wire::http::StartLine::Request { minor, .. } | wire::http::StartLine::Response { minor, .. } => minor,
    }
}

/// Sends the feed after `since` on a WebSocket that is never read, until a write fails or the
/// feed ends streams.
pub fn speak_only<S: std::io::Read + std::io::Write>(
    ws: &mut WebSocket<S>,
    feed: &Feed,
    since: u64,
    limits: &Limits,
) {
    let epoch = feed.epoch();
    let mut last = since;
    loop {
        let sent = match feed.wait_since(last, limits.batch, limits.heartbeat, epoch) {
            Wait::Messages(messages) => messages.iter().try_for_each(|m| {
                last = m.id;
                ws.send(WsMessage::text(frame_text(m)))
            }),
            Wait::TimedOut => ws.send(WsMessage::Ping(Vec::new().into())),
            Wait::Ended => {
                let bye = CloseFrame { code: CloseCode::Away, reason: "the server is restarting".into() };
                let _ = ws.close(Some(bye));
                let _ = ws.flush();
                return;
            }
            // Not asked here (`wait_since` never gives up): see the module docs for why this feed
            // learns of a vanished client from a failed write instead.
            Wait::Abandoned => return,
        };
        if sent.is_err() {
            return;
        }
    }
}
