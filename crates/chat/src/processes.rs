//! What the chapter's demos and tests start outside Rust: helpers shared by the nginx and Redis
//! launchers.
//!
//! Both programs are real processes with their files in a temporary folder. A demo that cannot
//! find one says which Debian package brings it, and stops.

use std::time::Duration;

/// Longest wait for a program to start or stop: a working nginx or Redis takes well under a
/// tenth of a second; only a broken run waits this long.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Held while a child is spawned: the shared nginx launcher's lock. nginx is handed a listening
/// socket by clearing its close-on-exec flag (see [`serve::nginx`]); while the flag is clear, any
/// other program spawned by another thread of this process would inherit the socket too and keep
/// the port open. Every spawn here takes this lock, so no other child can slip in between.
pub(crate) use serve::nginx::SPAWN;

/// What went wrong starting or driving a program.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not installed.
    #[error(
        "{program} is not installed: install the Debian package {package} (sudo apt-get install {package})"
    )]
    Missing {
        /// The program's name.
        program: &'static str,
        /// The package that brings it.
        package: &'static str,
    },
    /// It started but did not become ready, or exited.
    #[error("{program} did not start: {why}")]
    NotReady {
        /// The program's name.
        program: &'static str,
        /// What was seen, with the end of its log.
        why: String,
    },
    /// nginx is missing or did not start (the message says which package to install).
    #[error(transparent)]
    Nginx(#[from] serve::nginx::NginxError),
    /// Any other I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Spawns `command`, holding [`SPAWN`]. A missing program becomes [`ProcessError::Missing`].
pub(crate) fn spawn(
    command: &mut std::process::Command,
    program: &'static str,
    package: &'static str,
) -> Result<std::process::Child, ProcessError> {
    let _guard = SPAWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ProcessError::Missing { program, package },
        _ => ProcessError::Io(e),
    })
}

/// The last `lines` lines of a log file, for an error message.
pub(crate) fn tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Waits for `child` to exit, for at most `limit`, polling (a `std` child has no async wait).
/// Returns whether it exited.
pub(crate) async fn wait_exit(child: &mut std::process::Child, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
