//! The markdown the book includes: tables made from a [`Run`] and from the transport comparison
//! ([`compare::Report`]), never typed by hand. Every table is a [`Table`], and every number in
//! one goes through the same few formats ([`thousands`], [`short`], [`spread`]).
//!
//! Each of the run's tables is a separate file under the results folder, named `*.md.txt` so that
//! mdbook does not take it for a page; the chapter's pages include them with `{{#include}}`.

use crate::compare;
use crate::results::{Client, EchoCase, EchoSample, ORDINARY_SIZE, Run};
use crate::servers::{self, ASYNC, NODE_WS};
use crate::stats::Spread;

/// The message size and connection count the targets are read at.
pub const TARGET_CASE: (usize, usize) = (100, 32);

/// The idle-connection count the memory target is read at (the largest measured if this one
/// was not).
pub const TARGET_IDLE: usize = 5000;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text: names, modes, sentences.
    Left,
    /// Numbers, so that their digits line up.
    Right,
    /// A short verdict (yes, no).
    Centre,
}

/// A markdown table: a header, the alignment line, then one line per row. A cell never breaks the
/// table: a line break or a `|` in it (an error message, say) becomes a space.
#[derive(Clone, Debug)]
pub struct Table {
    out: String,
    columns: usize,
}

impl Table {
    /// A table with these column headings.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        let mut table = Table { out: String::new(), columns: columns.len() };
        let headings: Vec<&str> = columns.iter().map(|(heading, _)| *heading).collect();
        table.row(&headings);
        let rules: Vec<&str> = columns
            .iter()
            .map(|(_, align)| match align {
                Align::Left => "---",
                Align::Right => "---:",
                Align::Centre => ":---:",
            })
            .collect();
        table.line(&rules);
        table
    }

    /// Adds a row, one cell per column; an empty cell is left blank.
    pub fn row(&mut self, cells: &[&str]) {
        let cells: Vec<String> = cells.iter().map(|c| one_line(c)).collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        self.line(&cells);
    }

    fn line(&mut self, cells: &[&str]) {
        debug_assert_eq!(
            cells.len(),
            self.columns,
            "a row of {} cells in a table of {} columns",
            cells.len(),
            self.columns
        );
        self.out.push('|');
        for cell in cells {
            if !cell.is_empty() {
                self.out.push(' ');
                self.out.push_str(cell);
            }
            self.out.push_str(" |");
        }
        self.out.push('\n');
    }

    /// The table's text, ending with a line break.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A number with thousands separators: `123456.7` → `123,457`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

/// A value with one decimal if below 100, none above: what a reader can compare at a glance.
pub fn short(value: f64) -> String {
    if value.abs() < 10.0 {
        format!("{value:.2}")
    } else if value.abs() < 100.0 {
        format!("{value:.1}")
    } else {
        thousands(value)
    }
}

/// `median (min–max)`, or just the median when every run gave the same value.
pub fn spread(s: Spread, fmt: impl Fn(f64) -> String) -> String {
    let (median, min, max) = (fmt(s.median), fmt(s.min), fmt(s.max));
    if min == max { median } else { format!("{median} ({min}–{max})") }
}

/// A message size for people: `32 B`, `64 KiB`.
pub fn size_label(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

fn label(key: &str) -> String {
    servers::by_key(key).map_or_else(|| key.to_owned(), |s| s.label.to_owned())
}

/// Per-run ratios of `f` between two cases (same run index), summarised.
fn ratio(a: &EchoCase, b: &EchoCase, f: impl Fn(&EchoSample) -> f64) -> Option<Spread> {
    Spread::of(
        a.samples
            .iter()
            .zip(&b.samples)
            .filter(|(x, y)| x.error.is_none() && y.error.is_none() && f(y) > 0.0)
            .map(|(x, y)| f(x) / f(y)),
    )
}

fn times(v: f64) -> String {
    format!("{v:.2}×")
}

/// The echo table for one message size: every server at every connection count.
pub fn echo_table(run: &Run, size: usize) -> String {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("server", Left),
        ("connections", Right),
        ("messages/s", Right),
        ("× `ws`", Right),
        ("round trip p50 (µs)", Right),
        ("p99 (µs)", Right),
        ("server CPU per message (µs)", Right),
        ("× `ws`", Right),
    ]);
    for &connections in &run.plan.connections {
        let node = run.echo_case(NODE_WS, connections, size);
        for key in &run.plan.servers {
            let Some(case) = run.echo_case(key, connections, size) else { continue };
            if let Some(why) = case.failure() {
                table.row(&[
                    &label(key),
                    &connections.to_string(),
                    &format!("failed: {why}"),
                    "",
                    "",
                    "",
                    "",
                    "",
                ]);
                continue;
            }
            let cell = |f: &dyn Fn(&EchoSample) -> f64, fmt: &dyn Fn(f64) -> String| {
                case.spread(f).map_or_else(|| "–".to_owned(), |s| spread(s, fmt))
            };
            let vs_node = |f: &dyn Fn(&EchoSample) -> f64| match node {
                Some(node) if key != NODE_WS => {
                    ratio(case, node, f).map_or_else(|| "–".to_owned(), |s| spread(s, times))
                }
                _ => "1×".to_owned(),
            };
            table.row(&[
                &label(key),
                &connections.to_string(),
                &cell(&EchoSample::rate, &thousands),
                &vs_node(&EchoSample::rate),
                &cell(&|s| s.p50_us, &short),
                &cell(&|s| s.p99_us, &short),
                &cell(&EchoSample::server_us_per_message, &short),
                &vs_node(&EchoSample::server_us_per_message),
            ]);
        }
    }
    table.finish()
}

/// The load client's own cost, so a reader can see the instrument was not the bottleneck.
pub fn client_table(run: &Run) -> String {
    let mut table = Table::new(&[
        ("message", Align::Left),
        ("connections", Align::Right),
        ("client CPU per round trip (µs), all servers", Align::Right),
    ]);
    for &size in &run.plan.sizes {
        for &connections in &run.plan.connections {
            let all = run
                .echo
                .iter()
                .filter(|c| c.client == Client::Raw && c.connections == connections && c.size == size)
                .flat_map(|c| c.samples.iter().filter(|s| s.error.is_none()))
                .map(EchoSample::client_us_per_message);
            if let Some(s) = Spread::of(all) {
                table.row(&[&size_label(size), &connections.to_string(), &spread(s, short)]);
            }
        }
    }
    table.finish()
}

/// The same servers under the two load clients, 32-byte messages: what the server spends per
/// message, and how many messages each of its wake-ups found, with the bench's pre-encoded
/// client and with an ordinary tokio-tungstenite one.
pub fn clients_table(run: &Run) -> String {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("server", Left),
        ("connections", Right),
        ("client", Left),
        ("messages/s", Right),
        ("server core busy", Right),
        ("server CPU per message (µs)", Right),
        ("× `ws`", Right),
        ("messages per server wake-up", Right),
        ("client CPU per round trip (µs)", Right),
    ]);
    for &connections in &run.plan.ordinary {
        for key in &run.plan.servers {
            if servers::by_key(key).is_some_and(|s| s.variant) {
                continue;
            }
            for client in [Client::Raw, Client::Ordinary] {
                let Some(case) = run.echo_case_by(client, key, connections, ORDINARY_SIZE) else { continue };
                let (server, c) = (label(key), connections.to_string());
                if let Some(why) = case.failure() {
                    table.row(&[&server, &c, client.label(), &format!("failed: {why}"), "", "", "", "", ""]);
                    continue;
                }
                let cell = |f: &dyn Fn(&EchoSample) -> f64, fmt: &dyn Fn(f64) -> String| {
                    case.spread(f).map_or_else(|| "–".to_owned(), |s| spread(s, fmt))
                };
                let vs_node = match run.echo_case_by(client, NODE_WS, connections, ORDINARY_SIZE) {
                    Some(node) if key != NODE_WS => ratio(case, node, EchoSample::server_us_per_message)
                        .map_or_else(|| "–".to_owned(), |s| spread(s, times)),
                    _ => "1×".to_owned(),
                };
                table.row(&[
                    &server,
                    &c,
                    client.label(),
                    &cell(&EchoSample::rate, &thousands),
                    &cell(&EchoSample::server_busy, &|v| format!("{:.0}%", v * 100.0)),
                    &cell(&EchoSample::server_us_per_message, &short),
                    &vs_node,
                    &cell(&EchoSample::messages_per_wakeup, &short),
                    &cell(&EchoSample::client_us_per_message, &short),
                ]);
            }
        }
    }
    table.finish()
}

/// Memory per idle connection, every server, every count: fresh, and once used.
pub fn idle_table(run: &Run) -> String {
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("server", Left),
        ("idle connections", Right),
        ("KiB per connection, idle since the handshake", Right),
        ("× `ws`", Right),
        ("KiB per connection, idle after one message", Right),
        ("× `ws`", Right),
    ]);
    let kib = |s: Spread| Spread { median: s.median / 1024.0, min: s.min / 1024.0, max: s.max / 1024.0 };
    for &n in &run.plan.idle {
        let node = run.idle_case(NODE_WS, n);
        for key in &run.plan.servers {
            let Some(case) = run.idle_case(key, n) else { continue };
            if let Some(why) = case.failure() {
                table.row(&[&label(key), &thousands(n as f64), &format!("failed: {why}"), "", "", ""]);
                continue;
            }
            let (Some(fresh), Some(used)) = (case.per_connection(), case.per_used_connection()) else {
                continue;
            };
            let vs = |mine: Spread, theirs: Option<Spread>| match theirs {
                Some(theirs) if key != NODE_WS && theirs.median > 0.0 => times(mine.median / theirs.median),
                _ => "1×".to_owned(),
            };
            table.row(&[
                &label(key),
                &thousands(n as f64),
                &spread(kib(fresh), short),
                &vs(fresh, node.and_then(|c| c.per_connection())),
                &spread(kib(used), short),
                &vs(used, node.and_then(|c| c.per_used_connection())),
            ]);
        }
    }
    table.finish()
}

/// The request–response chapter's targets, read off the transport comparison of this run.
fn transport_targets(run: &Run, table: &mut Table) {
    for row in &run.transports {
        if row.websocket {
            let met = if row.p50_ms < 1.0 { "yes" } else { "**no**" };
            table.row(&[
                "WebSocket delivery p50 on loopback",
                "< 1 ms",
                &format!("{:.2} ms", row.p50_ms),
                met,
            ]);
        }
        if let Some(interval) = row.interval_ms {
            let half = interval as f64 / 2.0;
            let ratio = row.p50_ms / half;
            let met = if (0.7..=1.3).contains(&ratio) { "yes" } else { "**no**" };
            table.row(&[
                &format!(
                    "short polling every {interval} ms: delivery p50 close to interval / 2 = {half:.0} ms"
                ),
                "0.7–1.3×",
                &format!("{:.0} ms = {ratio:.2}×", row.p50_ms),
                met,
            ]);
        }
    }
}

/// The targets for the async echo, read off this run.
pub fn targets_table(run: &Run) -> String {
    let (connections, size) = TARGET_CASE;
    let mut table = Table::new(&[
        ("target", Align::Left),
        ("goal", Align::Right),
        ("this run", Align::Right),
        ("met", Align::Centre),
    ]);
    let pair = run.echo_case(ASYNC, connections, size).zip(run.echo_case(NODE_WS, connections, size));
    let mut row = |what: &str,
                   goal: &str,
                   value: Option<Spread>,
                   ok: &dyn Fn(f64) -> bool,
                   fmt: &dyn Fn(f64) -> String| {
        let (shown, met) = match value {
            Some(s) => (spread(s, fmt), if ok(s.median) { "yes" } else { "**no**" }),
            None => ("not measured".to_owned(), "–"),
        };
        table.row(&[what, goal, &shown, met]);
    };
    let at = format!("C = {connections} × {}", size_label(size));
    row(
        &format!("async echo, default flags: server CPU per message vs `ws`, {at}"),
        "≤ 0.55×",
        pair.and_then(|(a, n)| ratio(a, n, EchoSample::server_us_per_message)),
        &|v| v <= 0.55,
        &times,
    );
    row(
        &format!("async echo: messages/s vs `ws`, {at}"),
        "≥ 1.4×",
        pair.and_then(|(a, n)| ratio(a, n, EchoSample::rate)),
        &|v| v >= 1.4,
        &times,
    );
    let idle_n = if run.plan.idle.contains(&TARGET_IDLE) {
        Some(TARGET_IDLE)
    } else {
        run.plan.idle.iter().copied().max()
    };
    let idle = idle_n.and_then(|n| run.idle_case(ASYNC, n)).and_then(|c| c.per_connection());
    let idle_what = match idle_n {
        Some(n) => format!("async echo: RSS per idle connection, {} connections", thousands(n as f64)),
        None => "async echo: RSS per idle connection".to_owned(),
    };
    row(
        &idle_what,
        "≤ 4 KiB",
        idle.map(|s| Spread { median: s.median / 1024.0, min: s.min / 1024.0, max: s.max / 1024.0 }),
        &|v| v <= 4.0,
        &|v| format!("{v:.2} KiB"),
    );
    transport_targets(run, &mut table);
    table.finish()
}

/// Date, machine, versions, method.
pub fn stamp_table(run: &Run) -> String {
    let s = &run.stamp;
    let c = &s.common;
    let p = &run.plan;
    let mut table = Table::new(&[("", Align::Left), ("this run", Align::Left)]);
    table.row(&["date", &c.date]);
    table.row(&["machine", &c.machine()]);
    table.row(&["kernel", &format!("Linux {}", c.kernel)]);
    table.row(&["Rust", &c.rust()]);
    table.row(&["Node.js", &s.node]);
    table.row(&["libraries", &c.libraries()]);
    table.row(&["pinning", &s.pinning]);
    table.row(&["open-file limit", &thousands(s.file_limit as f64)]);
    if !s.busy.is_empty() {
        let busy: Vec<String> = s.busy.iter().map(|b| format!("{:.0} %", b * 100.0)).collect();
        table.row(&["cores busy with other programs, 1 s before each run", &busy.join(", ")]);
    }
    let loads: Vec<String> = s.load.iter().map(|l| format!("{l:.2}")).collect();
    table.row(&[
        "load average at each run's start (it lags, and counts the previous run's threads)",
        &loads.join(", "),
    ]);
    table.row(&[
        "method",
        &format!(
            "{} {}; in each, every server in turn (the order rotates), {} s warm-up, {} s measured",
            p.runs,
            if p.runs == 1 { "run" } else { "runs" },
            p.warmup_s,
            p.measure_s
        ),
    ]);
    table.finish()
}

/// System calls per message, grouped.
pub fn syscalls_table(run: &Run) -> String {
    use crate::syscalls::Kind;
    if run.syscalls.is_empty() {
        return "(strace was not available for this run.)\n".to_owned();
    }
    let mut table = Table::new(&[
        ("server", Align::Left),
        ("message", Align::Right),
        ("reads", Align::Right),
        ("writes", Align::Right),
        ("waits (epoll)", Align::Right),
        ("futex", Align::Right),
        ("other", Align::Right),
        ("all", Align::Right),
    ]);
    for row in &run.syscalls {
        let f = |k: Kind| format!("{:.2}", row.per_message(k));
        table.row(&[
            &label(&row.server),
            &size_label(row.size),
            &f(Kind::Read),
            &f(Kind::Write),
            &f(Kind::Wait),
            &f(Kind::Futex),
            &f(Kind::Other),
            &format!("{:.2}", row.total_per_message()),
        ]);
    }
    table.finish()
}

/// The request–response chapter's comparison: what was run and on what, in a sentence, then one
/// row per mode. Latencies read like the echo's round trips ([`short`]), bytes like every count
/// ([`thousands`]).
pub fn comparison_table(report: &compare::Report) -> String {
    use Align::{Left, Right};
    let (config, stamp) = (&report.config, &report.stamp);
    let mut out = format!(
        "{} messages at {} per second on average (random moments, seeded), one client per mode, all on \
         loopback through the Tap. Measured {} on {}, Linux {}; {}; {}.\n\n",
        config.messages,
        config.rate,
        stamp.date,
        stamp.machine(),
        stamp.kernel,
        stamp.rust(),
        stamp.libraries()
    );
    let mut table = Table::new(&[
        ("mode", Left),
        ("delivered", Right),
        ("requests", Right),
        ("latency p50 (ms)", Right),
        ("latency p99 (ms)", Right),
        ("bytes up per message", Right),
        ("bytes down per message", Right),
    ]);
    for row in &report.rows {
        table.row(&[
            &row.mode.to_string(),
            &row.delivered.to_string(),
            &row.requests.to_string(),
            &short(row.p50_ms()),
            &short(row.p99_ms()),
            &thousands(row.up_per_message),
            &thousands(row.down_per_message),
        ]);
    }
    out.push_str(&table.finish());
    out
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '|'], " ")
}

/// Every table, as `(file name, contents)`.
pub fn tables(run: &Run) -> Vec<(String, String)> {
    let mut files = vec![
        ("stamp.md.txt".to_owned(), stamp_table(run)),
        ("targets.md.txt".to_owned(), targets_table(run)),
        ("idle.md.txt".to_owned(), idle_table(run)),
        ("client.md.txt".to_owned(), client_table(run)),
        ("syscalls.md.txt".to_owned(), syscalls_table(run)),
    ];
    if !run.plan.ordinary.is_empty() {
        files.push((format!("clients-{ORDINARY_SIZE}.md.txt"), clients_table(run)));
    }
    for &size in &run.plan.sizes {
        files.push((format!("echo-{size}.md.txt"), echo_table(run, size)));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(-4321.0), "-4,321");
    }

    #[test]
    fn a_spread_shows_its_range_only_when_there_is_one() {
        let same = Spread { median: 2.0, min: 2.0, max: 2.0 };
        assert_eq!(spread(same, short), "2.00");
        let apart = Spread { median: 150.0, min: 120.0, max: 1500.0 };
        assert_eq!(spread(apart, short), "150 (120–1,500)");
    }

    #[test]
    fn a_table_lines_up_its_columns_and_keeps_a_cell_on_one_line() {
        let mut table = Table::new(&[("", Align::Left), ("n", Align::Right), ("ok", Align::Centre)]);
        table.row(&["a", "1,000", "yes"]);
        table.row(&["failed: no\nroute | here", "", ""]);
        assert_eq!(
            table.finish(),
            "| | n | ok |\n| --- | ---: | :---: |\n| a | 1,000 | yes |\n| failed: no route   here | | |\n"
        );
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_label(32), "32 B");
        assert_eq!(size_label(65536), "64 KiB");
        assert_eq!(size_label(1000), "1000 B");
    }
}
