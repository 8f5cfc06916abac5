//! Printing for programs whose output is read by a person or a pipe.
//!
//! `println!` panics when stdout is closed, which is what happens to `just ws-echo | head` or to a
//! `just feed-client sse | less` that the reader quits. The demos and the clients print through
//! [`outln!`](crate::outln) and [`out!`](crate::out) instead: when nobody is left to read, the
//! program ends quietly with status 0, as `yes | head` does. A long-running proxy that must go on
//! relaying whatever happens to its stdout (the Tap) ignores the error instead.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout and flushes it. A closed stdout ends the process with status 0; any
/// other failure to print is said on stderr and is no reason to stop.
pub fn write(text: &str) {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(error) => eprintln!("could not write to stdout: {error}"),
    }
}

/// `print!` that ends the program quietly when stdout is closed (see [`write`](crate::out::write)).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(&::std::format!($($arg)*))
    };
}

/// `println!` that ends the program quietly when stdout is closed (see [`write`](crate::out::write)).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::write("\n")
    };
    ($($arg:tt)*) => {
        $crate::out::write(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}
