//! # one-port: HTTP and WebSocket on one port, the browser client, and wss://
//!
//! The chapter "One port, the browser, and wss://" runs this crate.
//!
//! # Layout
//! - [`admission`]: who may open a WebSocket: the `Origin` allow-list and the credential check.
//! - [`journal`]: what the server did, kept so tests can wait for it and the book can show it.
//! - [`middleware`]: a koa-style chain for the HTTP side: a logger and a session check.
//! - [`routes`]: the ordinary routes and the pages, compiled in.
//! - [`server`]: the shared-port server on tiny_http; the upgrade branch that skips the chain.

pub mod admission;
pub mod journal;
pub mod middleware;
pub mod routes;
pub mod server;
pub mod tls;
