//! The chapter exchanges that `duplex demo NAME` runs in the terminal, through the Tap: one
//! façade over every chapter's own table of demos.
//!
//! Each chapter crate lists its demos once, with the code that runs them (`tap::Demo`), and
//! runs them from a binary of its own (`just tcp-echo` builds only the socket chapter). This
//! module only puts the tables together, in the order of the book, so `duplex demo --list` and
//! the chapter binaries can never disagree about what a demo is.

use tap::Demo;

/// Every chapter's demos, in the order of the book.
pub fn all() -> Vec<Demo> {
    [
        http_polling::demo::DEMOS,
        tcp_socket::demo::DEMOS,
        ws_by_hand::demo::DEMOS,
        ws_echo::demo::DEMOS,
        one_port::demo::DEMOS,
        heartbeat::demo::DEMOS,
        proxy::demo::DEMOS,
        chat::demo::DEMOS,
        beyond::demo::DEMOS,
    ]
    .concat()
}

/// The key to a WebSocket transcript's notation (the Tap's command prints it too).
pub const LEGEND: &str = tap::demo::LEGEND;
