//! System calls per echoed message, counted by `strace -c -f` attached to a server under load.
//!
//! strace slows a server down several times, so nothing here is a speed: only the *counts* are
//! kept, divided by the messages echoed while strace was attached. They show what each server
//! asks of the kernel per message, which is most of what a small message costs.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The calls of one server at one message size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyscallRow {
    /// The server's key.
    pub server: String,
    /// Connections during the count.
    pub connections: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages echoed while strace was attached.
    pub messages: u64,
    /// `(system call, calls)` as strace counted them, all threads, most frequent first.
    pub calls: Vec<(String, u64)>,
}

/// The kinds the table groups calls into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Taking bytes from a socket.
    Read,
    /// Handing bytes to a socket.
    Write,
    /// Waiting for sockets to become ready (the event loop).
    Wait,
    /// Threads waking threads.
    Futex,
    /// Everything else.
    Other,
}

/// Which kind a system call is.
pub fn kind(name: &str) -> Kind {
    match name {
        "read" | "recvfrom" | "recvmsg" | "readv" | "recvmmsg" => Kind::Read,
        "write" | "sendto" | "sendmsg" | "writev" | "sendmmsg" => Kind::Write,
        "epoll_wait" | "epoll_pwait" | "epoll_pwait2" | "poll" | "ppoll" | "select" | "pselect6" => {
            Kind::Wait
        }
        "futex" => Kind::Futex,
        _ => Kind::Other,
    }
}

impl SyscallRow {
    /// Calls of `kind` per message.
    pub fn per_message(&self, of: Kind) -> f64 {
        let calls: u64 = self.calls.iter().filter(|(name, _)| kind(name) == of).map(|(_, n)| n).sum();
        calls as f64 / self.messages.max(1) as f64
    }

    /// All calls per message.
    pub fn total_per_message(&self) -> f64 {
        self.calls.iter().map(|(_, n)| n).sum::<u64>() as f64 / self.messages.max(1) as f64
    }
}

/// The `(syscall, calls)` rows of `strace -c` output (the "total" line left out).
///
/// ```text
/// % time     seconds  usecs/call     calls    errors syscall
/// ------ ----------- ----------- --------- --------- ----------------
///  81.02    0.947177           7    123872           sendto
///   0.03    0.000380           3       101         1 accept4
/// ```
pub fn parse_summary(text: &str) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Data lines: 5 fields, or 6 when the errors column is filled; the first is a percentage.
            if !(5..=6).contains(&fields.len()) || fields[0].parse::<f64>().is_err() {
                return None;
            }
            let name = *fields.last()?;
            if name == "total" {
                return None;
            }
            Some((name.to_owned(), fields[3].parse().ok()?))
        })
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

/// Whether `strace` can be run here.
pub fn strace_available() -> bool {
    Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// A running `strace -c -f -p PID`.
pub struct Tracer {
    child: std::process::Child,
    out: std::path::PathBuf,
}

impl Tracer {
    /// Attaches to `pid`, writing the summary to `out` when stopped.
    pub fn attach(pid: u32, out: std::path::PathBuf) -> std::io::Result<Tracer> {
        let child = Command::new("strace")
            .args(["-c", "-f", "-p", &pid.to_string(), "-o"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // strace has no "attached" signal on stdout; give it a moment to stop every thread.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Tracer { child, out })
    }

    /// Detaches (SIGINT makes strace print its summary) and returns the counts.
    pub fn finish(mut self) -> std::io::Result<Vec<(String, u64)>> {
        #[cfg(unix)]
        {
            let pid = rustix::process::Pid::from_raw(self.child.id() as i32)
                .ok_or_else(|| std::io::Error::other("strace has no process id"))?;
            rustix::process::kill_process(pid, rustix::process::Signal::INT)?;
        }
        // strace is Linux's: without Unix there is no SIGINT, and no strace to send it to.
        #[cfg(not(unix))]
        self.child.kill()?;
        self.child.wait()?;
        Ok(parse_summary(&std::fs::read_to_string(&self.out)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 81.02    0.947177           7    123872           sendto
 15.37    0.179736           1    124913           recvfrom
  3.46    0.040436          19      2098           epoll_wait
  0.03    0.000380           3       101         1 accept4
------ ----------- ----------- --------- --------- ----------------
100.00    1.169000                250984         1 total
";

    #[test]
    fn strace_summaries_give_calls_per_syscall() {
        let rows = parse_summary(SUMMARY);
        assert_eq!(rows[0], ("recvfrom".to_owned(), 124913), "most frequent first");
        assert!(
            rows.contains(&("accept4".to_owned(), 101)),
            "a filled errors column must not shift the count"
        );
        assert!(!rows.iter().any(|(name, _)| name == "total"), "the total line is not a system call");
        assert_eq!(rows.len(), 4);
    }

    #[test]
    fn calls_are_grouped_per_message() {
        let row = SyscallRow {
            server: "async".into(),
            connections: 100,
            size: 32,
            messages: 123_872,
            calls: parse_summary(SUMMARY),
        };
        assert!((row.per_message(Kind::Write) - 1.0).abs() < 1e-9, "one sendto per echoed message");
        assert!(row.per_message(Kind::Read) > 1.0);
        assert_eq!(row.per_message(Kind::Futex), 0.0);
    }
}
