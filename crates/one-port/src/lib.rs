//! # one-port: HTTP and WebSocket on one port, the browser client, and wss://
//!
//! The chapter "One port, the browser, and wss://" runs this crate. One tiny_http listener serves
//! ordinary routes through a small middleware chain *and* turns upgrade requests into
//! WebSockets, the way Node's koa and `ws` share an `http.Server`. The lesson is in what the
//! middleware does not see: upgrade requests leave before it runs, so the upgrade branch checks
//! `Origin` and credentials itself (Cross-Site WebSocket Hijacking is what happens otherwise).
//! A static page uses the browser's `WebSocket`; a TLS front serves the same server as `wss://`.
//!
//! # Layout
//! - [`admission`]: who may open a WebSocket: the `Origin` allow-list and the credential check,
//!   sans-I/O, for every server a browser reaches.
//! - [`middleware`]: a koa-style chain for the HTTP side: a request logger and a session check.
//! - [`routes`]: the ordinary routes and the pages (compiled in from `static/`).
//! - [`server`]: the shared-port server on tiny_http; the upgrade branch that skips the chain.
//! - [`journal`]: what the server did, kept so tests can wait for it and the book can show it.
//! - [`tls`]: the certificate for `localhost`, made at start, and the TLS front for `wss://`.
//! - [`client`]: raw HTTP, upgrades with extra headers, and the scripted WebSocket session.
//! - [`demo`]: the chapter's exchanges through the Tap, for `duplex demo`, the tests and the book.
//! - [`cswsh`]: a page on another origin that tries to use your session: the attack, to watch it
//!   fail.

/// Who may open a WebSocket: shared by every server a browser reaches, so it lives in `guard`.
pub use guard::admission;
pub mod client;
pub mod cswsh;
pub mod demo;
pub mod journal;
pub mod middleware;
pub mod routes;
pub mod server;
pub mod tls;

/// The port `just one-port` serves on: the book takes 3000 and the Tap examples 3001.
pub const DEFAULT_PORT: u16 = 3004;

/// The port the `wss://` front listens on with `--tls`: 3443, after HTTPS's 443.
pub const DEFAULT_TLS_PORT: u16 = 3443;
