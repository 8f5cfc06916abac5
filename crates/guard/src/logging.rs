//! Every binary's log: lines on stderr through `tracing`, filtered by `RUST_LOG`, in colour only
//! when a person is watching.
//!
//! Colour codes are bytes like `ESC[32m`: on a terminal they paint, in a file or a pipe they are
//! noise that `grep` trips over. So colour is on only when stderr is a terminal, and never when
//! the `NO_COLOR` environment variable is set to anything but an empty string
//! (<https://no-color.org>).

use std::ffi::OsStr;
use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Whether this process's log lines get colour: stderr is a terminal and `NO_COLOR` is unset or
/// empty ([`colour_for`] with what is true now).
pub fn colour() -> bool {
    colour_for(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref())
}

/// Whether log lines get colour, given whether stderr is a terminal and the value of `NO_COLOR`
/// (`None` when it is not set). An empty `NO_COLOR` counts as unset, as <https://no-color.org>
/// asks.
pub fn colour_for(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    let no_color = no_color.is_some_and(|value| !value.is_empty());
    stderr_is_terminal && !no_color
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_is_for_a_terminal_and_no_color_set_to_anything_turns_it_off() {
        let set = |value: &'static str| Some(OsStr::new(value));
        assert!(colour_for(true, None), "a terminal, NO_COLOR unset: colour");
        assert!(!colour_for(false, None), "a file or a pipe: no colour codes in it");
        assert!(!colour_for(true, set("1")), "NO_COLOR=1 on a terminal: no colour");
        assert!(!colour_for(true, set("0")), "any value counts, even 0 (no-color.org)");
        assert!(colour_for(true, set("")), "an empty NO_COLOR counts as unset (no-color.org)");
        assert!(!colour_for(false, set("1")));
    }
}
