//! One page over plain HTTP/1.1, for browser tests: a page on `http://127.0.0.1` is a secure
//! context (W3C Secure Contexts §3.1), which WebTransport and `WebSocketStream` require.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Serves `page` for every request on `listener` until the listener fails.
pub async fn serve_page(listener: TcpListener, page: String) -> std::io::Result<()> {
    let page = Arc::new(page);
    guard::accept::serve(listener, guard::Slots::new(16), guard::WhenFull::Close, move |stream, _| {
        answer(stream, page.clone())
    })
    .await
}

async fn answer(mut stream: TcpStream, page: Arc<String>) {
    if guard::head::read_request(&mut stream, &guard::Limits::default()).await.is_err() {
        return;
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}
