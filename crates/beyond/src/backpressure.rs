//! Backpressure in the browser: a server that stops reading, and what the page's two WebSocket
//! APIs do about it.
//!
//! The classic `WebSocket`'s `send()` never waits: whatever the network cannot take yet, the
//! browser keeps in memory and counts in `bufferedAmount` (WHATWG WebSockets Standard), and a
//! page that does not watch it can fill the browser's memory. Chromium's `WebSocketStream` (not
//! a standard; Chromium 124 and later only) gives the page a `WritableStream` instead: each
//! `writer.write()` returns a promise that waits while the data cannot be passed on, so a page
//! that awaits it slows down to the network's pace by itself.
//!
//! [`serve`] is the server for that lesson: it serves the page at `/` and accepts WebSockets at
//! [`PATH`], then reads nothing until told to ([`Control::resume`]), with a small receive buffer
//! so the TCP connection fills up quickly.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;
use wire::http::StartLine;

use crate::server::Journal;

/// Where the WebSockets connect.
pub const PATH: &str = "/ws/slow";

/// The page at `/`: a classic `WebSocket` and a `WebSocketStream`, side by side.
pub const PAGE: &str = include_str!("backpressure.html");

/// The server's socket receive buffer: small, so a connection whose server does not read is
/// full after a few hundred kilobytes (the kernel may round it up).
pub const RECEIVE_BUFFER: u32 = 4096;

/// Tells the server when to start reading.
#[derive(Clone, Debug)]
pub struct Control(Arc<watch::Sender<bool>>);

impl Default for Control {
    fn default() -> Self {
        Control(Arc::new(watch::Sender::new(false)))
    }
}

impl Control {
    /// A server that does not read yet.
    pub fn new() -> Control {
        Control::default()
    }

    /// From now on, the server reads everything its WebSockets receive.
    pub fn resume(&self) {
        self.0.send_replace(true);
    }
}

/// A listener on `addr` (port 0 for any) whose connections have a small receive buffer.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // Accepted sockets inherit the listener's buffer size, set before `listen` so that the TCP
    // window it advertises is small from the first segment.
    socket.set_recv_buffer_size(RECEIVE_BUFFER)?;
    socket.bind(addr)?;
    socket.listen(64)
}

/// Serves the page and the WebSockets that do not read, until the listener fails.
pub async fn serve(listener: TcpListener, control: Control, journal: Journal) -> std::io::Result<()> {
    let slots = guard::Slots::new(64);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    guard::accept::serve(listener, slots, guard::WhenFull::Close, move |stream, _| {
        let (control, journal) = (control.clone(), journal.clone());
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            if let Err(e) = connection(stream, id, control, &journal).await {
                journal.add(format!("connection {id}: {e}"));
            }
        }
    })
    .await
}

async fn connection(
    mut stream: TcpStream,
    id: usize,
    control: Control,
    journal: &Journal,
) -> Result<(), crate::server::Error> {
    let limits = guard::Limits::default();
    let (head, leftover) = match guard::head::read_request(&mut stream, &limits).await {
        Ok(read) => read,
        Err(_) => return Ok(()),
    };
    let target = match &head.start {
        StartLine::Request { target, .. } => target.clone(),
        StartLine::Response { .. } => String::new(),
    };
    if target != PATH {
        let (status, body) = if target == "/" { ("200 OK", PAGE) } else { ("404 Not Found", "not found\n") };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        return Ok(());
    }
    match guard::upgrade::judge_origin(&head, PATH, &limits.origins) {
        Ok(accepted) => stream.write_all(accepted.response().as_bytes()).await?,
        Err(rejection) => {
            stream.write_all(&rejection.response()).await?;
            return Ok(());
        }
    }
    let mut ws = WebSocketStream::from_partially_read(stream, leftover, Role::Server, None).await;
    journal.add(format!("connection {id}: WebSocket open; not reading"));
    let mut resumed = control.0.subscribe();
    // Nothing is read until the test says so: the client's data piles up in TCP's buffers.
    let _ = resumed.wait_for(|go| *go).await;
    journal.add(format!("connection {id}: reading now"));
    let (mut messages, mut bytes) = (0usize, 0usize);
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            messages += 1;
            bytes += message.len();
            journal.add(format!("connection {id}: {messages} messages, {bytes} bytes read"));
        }
    }
    Ok(())
}
