//! What the kernel says a process has used: CPU time and resident memory, read from `/proc`.
//!
//! The driver reads these for each server process, before and after the measured interval, so
//! the CPU time and memory it reports belong to that server alone (proc(5) documents the files).

use std::time::Duration;

/// Why a `/proc` file could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The file could not be read (the process may have ended).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file did not have the expected shape.
    #[error("unexpected contents in {what}: {why}")]
    Parse {
        /// Which file.
        what: &'static str,
        /// What was missing or wrong.
        why: String,
    },
}

/// CPU time a process has used, in clock ticks, as `/proc/PID/stat` counts it (threads included,
/// also those that have ended).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// Time spent running the program's own code (`utime`).
    pub user: u64,
    /// Time the kernel spent on the program's behalf: system calls, and on loopback the whole
    /// TCP path of what it sends (`stime`).
    pub system: u64,
}

impl CpuTicks {
    /// User plus system time, as a duration, given the kernel's ticks per second.
    pub fn total(self, ticks_per_second: u64) -> Duration {
        let ticks = self.user + self.system;
        Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / ticks_per_second.max(1))
    }

    /// The time used between `earlier` and `self`.
    pub fn since(self, earlier: CpuTicks) -> CpuTicks {
        CpuTicks {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// `utime` and `stime` from the text of `/proc/PID/stat`.
///
/// The second field is the program's name in parentheses and may itself contain spaces and
/// parentheses, so fields are counted from the *last* `)`: after it come `state` (field 3), …,
/// `utime` (field 14) and `stime` (field 15).
pub fn parse_stat(text: &str) -> Result<CpuTicks, ProcError> {
    let bad = |why: &str| ProcError::Parse { what: "/proc/PID/stat", why: why.to_owned() };
    let close = text.rfind(')').ok_or_else(|| bad("no ')' after the program name"))?;
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64, ProcError> {
        // fields[0] is field 3 (state).
        let raw = fields.get(n - 3).ok_or_else(|| bad(&format!("fewer than {n} fields")))?;
        raw.parse().map_err(|_| bad(&format!("field {n} is {raw:?}, not a number")))
    };
    Ok(CpuTicks { user: field(14)?, system: field(15)? })
}

/// `VmRSS` from the text of `/proc/PID/status`, in bytes (the file says kB, meaning KiB).
pub fn parse_vm_rss(text: &str) -> Result<u64, ProcError> {
    let bad = |why: String| ProcError::Parse { what: "/proc/PID/status", why };
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .ok_or_else(|| bad("no VmRSS line".into()))?;
    let mut parts = line.split_whitespace();
    let number = parts.next().ok_or_else(|| bad("VmRSS has no value".into()))?;
    let kib: u64 = number.parse().map_err(|_| bad(format!("VmRSS value {number:?} is not a number")))?;
    match parts.next() {
        Some("kB") => Ok(kib * 1024),
        unit => Err(bad(format!("VmRSS unit is {unit:?}, expected kB"))),
    }
}

/// `voluntary_ctxt_switches` from the text of `/proc/PID/task/TID/status`: how many times the
/// thread gave up the CPU because it had to wait (for a socket, a lock, a timer) and was later
/// woken. An event loop that finds nothing more to do sleeps in `epoll_wait`, so for a server
/// under load this counts its wake-ups.
pub fn parse_voluntary_switches(text: &str) -> Result<u64, ProcError> {
    let bad = |why: String| ProcError::Parse { what: "/proc/PID/task/TID/status", why };
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .ok_or_else(|| bad("no voluntary_ctxt_switches line".into()))?
        .trim();
    value.parse().map_err(|_| bad(format!("voluntary_ctxt_switches is {value:?}, not a number")))
}

fn read(path: String) -> Result<String, ProcError> {
    std::fs::read_to_string(&path).map_err(|source| ProcError::Read { path, source })
}

/// The CPU time process `pid` has used so far.
pub fn cpu_ticks(pid: u32) -> Result<CpuTicks, ProcError> {
    parse_stat(&read(format!("/proc/{pid}/stat"))?)
}

/// The resident memory of process `pid`, in bytes.
pub fn rss(pid: u32) -> Result<u64, ProcError> {
    parse_vm_rss(&read(format!("/proc/{pid}/status"))?)
}

/// The wake-ups of each thread of process `pid` so far, by thread id: its voluntary context
/// switches. A thread that ends between listing and reading is skipped.
pub fn wakeups(pid: u32) -> Result<Wakeups, ProcError> {
    let dir = format!("/proc/{pid}/task");
    let tasks = std::fs::read_dir(&dir).map_err(|source| ProcError::Read { path: dir.clone(), source })?;
    let mut threads = std::collections::BTreeMap::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let path = task.path().join("status");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                threads.insert(tid, parse_voluntary_switches(&text)?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ProcError::Read { path: path.display().to_string(), source }),
        }
    }
    Ok(Wakeups(threads))
}

/// Each thread's wake-ups at one moment (see [`wakeups`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wakeups(pub std::collections::BTreeMap<u32, u64>);

impl Wakeups {
    /// The wake-ups between `earlier` and `self`, thread by thread: a thread that started since
    /// counts all of its own; a thread that ended since is left out, because its count went with
    /// it (summing the totals instead would subtract it, and a server whose pool retires idle
    /// threads, as tiny_http's does, would seem never to wake).
    pub fn since(&self, earlier: &Wakeups) -> u64 {
        self.0.iter().map(|(tid, &now)| now.saturating_sub(earlier.0.get(tid).copied().unwrap_or(0))).sum()
    }
}

/// The kernel's clock ticks per second, the unit of `utime` and `stime` (100 on most Linux).
#[cfg(unix)]
pub fn ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// Without Unix there is no `/proc` to count ticks in, and so no unit to ask for: Linux's usual
/// 100 keeps the arithmetic defined.
#[cfg(not(unix))]
pub fn ticks_per_second() -> u64 {
    100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        // A program name with a space and a parenthesis in it must not shift the fields.
        let text = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 1 0 0 0 1234 56 0 0 20 0 2 0 9 0 0";
        assert_eq!(parse_stat(text).unwrap(), CpuTicks { user: 1234, system: 56 });
    }

    #[test]
    fn a_truncated_stat_line_is_an_error_not_a_zero() {
        assert!(parse_stat("4242 (x) S 1 2 3").is_err(), "utime is missing, so there is no answer");
    }

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let text = "Name:\tws-echo-server\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t2\n";
        assert_eq!(parse_vm_rss(text).unwrap(), 5120 * 1024);
    }

    #[test]
    fn ticks_become_a_duration() {
        let used = CpuTicks { user: 150, system: 50 }.since(CpuTicks { user: 100, system: 0 });
        assert_eq!(used.total(100), Duration::from_millis(1000), "100 ticks at 100 per second");
    }

    #[test]
    fn voluntary_switches_are_read_and_their_absence_is_an_error() {
        let text = "Name:\tws-echo-server\nvoluntary_ctxt_switches:\t4711\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(parse_voluntary_switches(text).unwrap(), 4711);
        assert!(parse_voluntary_switches("Name:\tx\nnonvoluntary_ctxt_switches:\t3\n").is_err());
    }

    #[test]
    fn wake_ups_are_counted_per_thread_so_a_thread_that_ended_takes_nothing_away() {
        let before = Wakeups([(1, 100), (2, 5_000)].into_iter().collect());
        // Thread 2 ended; thread 3 started and woke 7 times; thread 1 woke 20 times.
        let after = Wakeups([(1, 120), (3, 7)].into_iter().collect());
        assert_eq!(after.since(&before), 27);
    }

    #[test]
    fn this_process_can_read_its_own_figures() {
        let pid = std::process::id();
        assert!(rss(pid).unwrap() > 0, "a running process has some resident memory");
        cpu_ticks(pid).unwrap();
        // The test harness's threads have all waited at least once (for the harness to start them).
        assert!(wakeups(pid).unwrap().since(&Wakeups::default()) > 0);
    }
}
