//! Every binary's log: lines on stderr through `tracing`, filtered by `RUST_LOG`, in colour only
//! when a person is watching.
//!
//! Colour codes are bytes like `ESC[32m`: on a terminal they paint, in a file or a pipe they are
//! noise that `grep` trips over. So colour is on only when stderr is a terminal, and never when
//! the `NO_COLOR` environment variable is set to anything but an empty string
//! (<https://no-color.org>).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Whether log lines get colour: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Sends `tracing`'s events to stderr, filtered by `RUST_LOG` or else by `default` (such as
/// `"info"`), without the module path, coloured only on a terminal. Calling it twice does
/// nothing the second time.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour())
        .with_writer(std::io::stderr)
        .try_init();
}
