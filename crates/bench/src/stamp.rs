//! The stamp on a measurement: date, machine and versions, so a reader knows what the numbers
//! belong to. Every measurement of the bench carries the same [`Stamp`]: the transport comparison
//! as it is, the echo run inside a [`RunStamp`] that adds what only the echo needs (Node's
//! version, the pinning, the descriptor limit, how busy the machine was).

use std::process::Command;

use serde::{Deserialize, Serialize};

/// The crates that do the work, whose versions every stamp records as `Cargo.lock` pins them.
pub const CRATES: [&str; 4] = ["tokio", "tokio-tungstenite", "tungstenite", "tiny_http"];

/// Where and when a measurement ran, and with what software.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    /// UTC date and time, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Memory, in GiB.
    pub memory_gib: f64,
    /// The Linux kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// How the measuring program was built, `release` or `debug` (timings of a debug build say
    /// little). Absent from runs kept before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Library versions: `(name, version)`.
    pub versions: Vec<(String, String)>,
}

impl Stamp {
    /// This machine, now, with the versions of [`CRATES`].
    pub fn now() -> Stamp {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim()))
            .unwrap_or("unknown CPU")
            .to_owned();
        let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count().max(1);
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        let lock =
            std::fs::read_to_string(crate::driver::workspace_root().join("Cargo.lock")).unwrap_or_default();
        Stamp {
            date: utc_now(),
            cpu,
            cores,
            memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            rustc: command_line("rustc", &["--version"]),
            build: Some(if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned()),
            versions: CRATES
                .iter()
                .map(|name| ((*name).to_owned(), locked_version(&lock, name).unwrap_or_else(|| "?".into())))
                .collect(),
        }
    }

    /// The machine in a few words: `2 cores, 23.5 GiB, AMD EPYC`.
    pub fn machine(&self) -> String {
        format!("{} cores, {} GiB, {}", self.cores, self.memory_gib, self.cpu)
    }

    /// The compiler, and the build when it is known: `rustc 1.95.0 (…), release build`.
    pub fn rust(&self) -> String {
        match &self.build {
            Some(build) => format!("{}, {build} build", self.rustc),
            None => self.rustc.clone(),
        }
    }

    /// The library versions in a line: `tokio 1.54.1, tungstenite 0.30.0`.
    pub fn libraries(&self) -> String {
        let libs: Vec<String> = self.versions.iter().map(|(n, v)| format!("{n} {v}")).collect();
        libs.join(", ")
    }
}

/// The echo run's stamp: the common [`Stamp`] (whose versions add Node's `ws`), and the conditions
/// that only the echo has. Kept in `run.json` as one flat object, as it always was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStamp {
    /// Date, machine and versions, as every measurement has them.
    #[serde(flatten)]
    pub common: Stamp,
    /// `node --version`.
    pub node: String,
    /// How client and server were kept apart (or why they were not).
    pub pinning: String,
    /// The open-file limit the run had (the idle test needs one descriptor per connection on
    /// each side).
    pub file_limit: u64,
    /// The 1-minute load average at the start of each run, from `/proc/loadavg`. It lags: it
    /// still counts, for a minute, the bench's own threads of the run before (the blocking server
    /// wakes ten thousand threads at once when its idle connections close).
    pub load: Vec<f64>,
    /// The fraction of all cores that were busy during one second at the start of each run,
    /// while none of the bench's servers ran: what other programs were doing.
    #[serde(default)]
    pub busy: Vec<f64>,
}

impl RunStamp {
    /// Everything but the per-run load averages, which the driver adds as it goes.
    pub fn now(pinning: String, file_limit: u64) -> RunStamp {
        let mut common = Stamp::now();
        let root = crate::driver::workspace_root();
        let ws = std::fs::read_to_string(crate::node::ws_package_json(&root))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|v| v.get("version").and_then(|v| v.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "?".into());
        common.versions.push(("ws (npm)".into(), ws));
        RunStamp {
            common,
            node: command_line("node", &["--version"]),
            pinning,
            file_limit,
            load: Vec::new(),
            busy: Vec::new(),
        }
    }
}

/// How busy every core was, as a fraction, over `over`, from `/proc/stat`; the bench calls it
/// while none of its servers runs, so it shows what *other* programs were doing.
pub fn busy_fraction(over: std::time::Duration) -> f64 {
    let read = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        parse_cpu_line(line)
    };
    let (Some((busy0, total0)), Some((busy1, total1))) = (read(), {
        std::thread::sleep(over);
        read()
    }) else {
        return f64::NAN;
    };
    let total = total1.saturating_sub(total0);
    if total == 0 { f64::NAN } else { busy1.saturating_sub(busy0) as f64 / total as f64 }
}

/// `(busy, total)` jiffies from the `cpu` line of `/proc/stat`: every field counts towards the
/// total; `idle` (4th) and `iowait` (5th) are not busy.
pub fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let fields: Vec<u64> = line.split_whitespace().skip(1).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // Only the first 8 (user … steal) are time; guest times are already inside user and nice.
    let time = &fields[..fields.len().min(8)];
    let total: u64 = time.iter().sum();
    let idle = time.get(3).copied().unwrap_or(0) + time.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(|| "not found".to_owned(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// The version `Cargo.lock` records for package `name` (the first, if several).
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"\n");
    let at = lock.find(&needle)?;
    let rest = &lock[at + needle.len()..];
    let line = rest.lines().next()?;
    Some(line.strip_prefix("version = \"")?.trim_end_matches('"').to_owned())
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    utc_from_unix(secs)
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC` (days to a civil date after Howard Hinnant's
/// `civil_from_days`).
pub fn utc_from_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_civil_dates() {
        assert_eq!(utc_from_unix(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_from_unix(951_782_400), "2000-02-29 00:00 UTC", "a leap day in a leap century");
        assert_eq!(utc_from_unix(1_764_072_000 + 3_660), "2025-11-25 13:01 UTC");
    }

    #[test]
    fn the_run_stamp_is_kept_flat_and_an_unrecorded_build_stays_absent() {
        let kept = r#"{"date":"2026-12-01 23:12 UTC","cpu":"AMD EPYC","cores":2,"memory_gib":23.5,
            "kernel":"6.18","rustc":"rustc 1.95.0","node":"v20.20.2","versions":[["tokio","1.54.1"]],
            "pinning":"none","file_limit":1024,"load":[0.5]}"#;
        let stamp: RunStamp = serde_json::from_str(kept).unwrap();
        assert_eq!(stamp.common.build, None, "run.json from before the build was recorded");
        assert_eq!(stamp.common.machine(), "2 cores, 23.5 GiB, AMD EPYC");
        assert_eq!(stamp.common.rust(), "rustc 1.95.0");
        let written = serde_json::to_value(&stamp).unwrap();
        assert_eq!(written["date"], "2026-12-01 23:12 UTC", "the common fields sit beside the echo's");
        assert!(written.get("common").is_none() && written.get("build").is_none(), "{written}");
    }

    #[test]
    fn idle_and_iowait_are_not_busy() {
        let line = "cpu  100 0 50 800 50 0 0 0 0 0";
        assert_eq!(parse_cpu_line(line), Some((150, 1000)));
    }

    #[test]
    fn the_lock_file_gives_a_package_version() {
        let lock = "[[package]]\nname = \"tokio\"\nversion = \"1.47.1\"\n\n[[package]]\nname = \"tokio-util\"\nversion = \"0.7.1\"\n";
        assert_eq!(locked_version(lock, "tokio").as_deref(), Some("1.47.1"));
        assert_eq!(locked_version(lock, "tokio-util").as_deref(), Some("0.7.1"));
        assert_eq!(locked_version(lock, "hyper"), None);
    }
}
