//! Printing for programs whose output is read by a person or a pipe.
//!
//! `println!` panics when stdout is closed, which is what happens to `just ws-echo | head` or to a
//! `just feed-client sse | less` that the reader quits. The demos and the clients print through
//! [`outln!`](crate::outln) and [`out!`](crate::out) instead: when nobody is left to read, the
//! text is dropped and the fact is remembered. A program that loops printing what it receives
//! asks [`check`] after each print and stops with [`Gone`]; its `main` turns that into a quiet
//! exit with status 0 ([`exit_code`]), as `yes | head` does. A library never ends the process.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Standard output was closed by its reader: there is nobody left to print for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("standard output is closed: nobody reads what this program prints")]
pub struct Gone;

static GONE: AtomicBool = AtomicBool::new(false);
static CLOSED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Writes `text` to stdout and flushes it. A closed stdout is remembered ([`check`]) and what
/// is printed after it is dropped; any other failure to print is said on stderr.
pub fn write(text: &str) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::BrokenPipe => {
            GONE.store(true, Ordering::Relaxed);
            CLOSED.notify_waiters();
        }
        Err(error) => eprintln!("could not write to stdout: {error}"),
    }
}

/// `Err(Gone)` once stdout has been found closed: for a loop that prints what it receives, to
/// stop (`tap::out::check()?`).
pub fn check() -> Result<(), Gone> {
    if GONE.load(Ordering::Relaxed) { Err(Gone) } else { Ok(()) }
}

/// Completes once stdout has been found closed: for a program that waits on the network and
/// prints what arrives (`tokio::select!` it against the wait, and stop).
pub async fn closed() {
    let notified = CLOSED.notified();
    let mut notified = std::pin::pin!(notified);
    // Registered before the flag is read, so a close found in between still wakes us.
    notified.as_mut().enable();
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    notified.await;
}

/// The exit code for a program's `result`: success, or success all the same when stdout was
/// found closed (whatever error that led to, [`Gone`] or a failed write further on); otherwise
/// the error and its causes are printed on stderr, and the code is 1.
pub fn exit_code<E>(result: Result<(), E>) -> ExitCode
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) if GONE.load(Ordering::Relaxed) => ExitCode::SUCCESS,
        Err(error) => {
            let error = error.into();
            eprintln!("Error: {error}");
            let mut cause = error.source();
            while let Some(e) = cause {
                eprintln!("  because: {e}");
                cause = e.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// `print!` that never panics on a closed stdout (see [`write`](crate::out::write)).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(&::std::format!($($arg)*))
    };
}

/// `println!` that never panics on a closed stdout (see [`write`](crate::out::write)).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::write("\n")
    };
    ($($arg:tt)*) => {
        $crate::out::write(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}
