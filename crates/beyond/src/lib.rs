//! # beyond: the chapter "After HTTP/1.1"
//!
//! Every other chapter runs WebSocket over HTTP/1.1: a `101 Switching Protocols`, then the TCP
//! connection belongs to the WebSocket. This chapter runs what came after:
//! - **WebSocket over HTTP/2** (RFC 8441): the server advertises `ENABLE_CONNECT_PROTOCOL`, the
//!   client opens a stream with an *extended CONNECT* (`:protocol websocket`), the answer is
//!   `200`, and the same WebSocket frames travel in that stream's DATA frames, beside the page's
//!   other requests on the same connection. Server, client and the Tap's transcript of every
//!   HTTP/2 frame are here, and a simulation of what sharing costs when a segment is lost.
//! - **Backpressure in the browser**: a server that stops reading, a classic `WebSocket` whose
//!   `bufferedAmount` grows, and Chromium's `WebSocketStream`, whose `writer.write()` waits.
//! - **WebTransport** (over HTTP/3 and QUIC): an echo of streams and datagrams that a page in
//!   Chromium reaches with `serverCertificateHashes`.
//!
//! # Layout
//! - [`stream`]: one HTTP/2 stream as a byte stream, so tungstenite runs inside it unchanged.
//! - [`server`]: the h2 server: `GET /`, `/hello.txt`, `/picture`, and the WebSocket echo by
//!   extended CONNECT, with a journal of what it did.
//! - [`tls`]: a certificate made at start and TLS with ALPN `h2`, as browsers need.
//! - [`client`]: the h2 client: requests and a WebSocket on one connection.
//! - [`page`]: one page over plain HTTP/1.1, for the browser tests.
//! - [`backpressure`]: the server that stops reading, and its page.
//! - [`webtransport`]: the WebTransport echo, its certificate hash, and its page.
//! - [`hol`]: head-of-line blocking, simulated in virtual time: a lost segment holds up a
//!   WebSocket that shares the picture's connection, and not one on its own.
//! - [`demo`]: client, Tap and server together: the exchange `just h2-websocket` prints and the
//!   snapshot test freezes, and the chapter's table of demos.
//! - `bin/h2_server.rs`: `h2-websocket-server`, the server alone (`--tls` for browsers).
//! - `bin/demo.rs`: `beyond-demo`.

pub mod backpressure;
pub mod client;
pub mod demo;
pub mod hol;
pub mod page;
pub mod server;
pub mod stream;
pub mod tls;
pub mod webtransport;
