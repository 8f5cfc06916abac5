//! Book checks: the book renders through the mdbook library without a warning, every page is in
//! `SUMMARY.md`, every `{{#include}}` finds its file and anchor, every internal link and
//! fragment leads somewhere, and every transcript on a page is byte for byte its snapshot file.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use duplex_tests::{book_dir, html_escape, rendered_book, root, snapshot_body};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Every file under `dir` with extension `ext`, recursively, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Collects mdbook's warnings and errors (a missing include is only logged, not returned).
#[derive(Clone, Default)]
struct Complaints(Arc<Mutex<Vec<String>>>);

impl<S: Subscriber> tracing_subscriber::Layer<S> for Complaints {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            struct Message(String);
            impl tracing::field::Visit for Message {
                fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                    self.0.push_str(&format!("{}={value:?} ", field.name()));
                }
            }
            let mut message = Message(String::new());
            event.record(&mut message);
            let line = format!("{} {}: {}", event.metadata().level(), event.metadata().target(), message.0);
            self.0.lock().unwrap().push(line);
        }
    }
}

#[test]
fn the_book_renders_without_a_warning() {
    let complaints = Complaints::default();
    let subscriber = tracing_subscriber::registry().with(complaints.clone());
    let out = tempfile::tempdir().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        duplex::book::render(&book_dir(), out.path()).expect("the book renders");
    });
    let complaints = complaints.0.lock().unwrap();
    assert!(
        complaints.is_empty(),
        "mdbook warned while rendering the book (a missing {{{{#include}}}} file is only a warning):\n{}",
        complaints.join("\n")
    );
    assert!(out.path().join("index.html").is_file());
}

/// The `.md` links in SUMMARY.md.
fn summary_pages() -> BTreeSet<PathBuf> {
    let summary = std::fs::read_to_string(book_dir().join("src/SUMMARY.md")).unwrap();
    summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|link| !link.is_empty())
        .map(|link| book_dir().join("src").join(link))
        .collect()
}

#[test]
fn every_page_is_in_the_summary() {
    let listed = summary_pages();
    for page in files(&book_dir().join("src"), "md") {
        if page.ends_with("SUMMARY.md") {
            continue;
        }
        assert!(
            listed.contains(&page),
            "{} is not linked from SUMMARY.md, so mdbook would never render it",
            page.display()
        );
    }
}

/// `{{#include path:anchor}}` directives in a page: (path, part after the colon).
fn includes(page: &str) -> Vec<(String, Option<String>)> {
    page.split("{{#include ")
        .skip(1)
        .filter_map(|rest| rest.split("}}").next())
        .map(|spec| {
            let mut parts = spec.trim().splitn(2, ':');
            let path = parts.next().unwrap_or_default().to_owned();
            (path, parts.next().map(str::to_owned))
        })
        .collect()
}

#[test]
fn every_include_finds_its_file_and_anchor() {
    let mut checked = 0;
    for page in files(&book_dir().join("src"), "md") {
        let text = std::fs::read_to_string(&page).unwrap();
        for (path, part) in includes(&text) {
            let file = page.parent().unwrap().join(&path);
            let content = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{} includes {path}, which cannot be read: {e}", page.display()));
            let Some(part) = part else { continue };
            // mdbook includes nothing, silently, for an anchor that is not in the file.
            assert!(
                has_marker(&content, "ANCHOR", &part) && has_marker(&content, "ANCHOR_END", &part),
                "{} includes {path}:{part}, but the file has no `ANCHOR: {part}` … `ANCHOR_END: {part}`",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "the book should include code by anchor");
}

/// Whether a line of `content` holds `MARKER: name` with nothing of a longer name after it, as
/// mdbook finds anchors (`// ANCHOR: name` in code, `<!-- ANCHOR: name -->` in Markdown).
fn has_marker(content: &str, marker: &str, name: &str) -> bool {
    let needle = format!("{marker}: {name}");
    content.lines().any(|line| {
        line.split(&needle)
            .nth(1)
            .is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-'))
    })
}

/// Whether the part after an include's colon is a line range (`4:`, `2:10`, `:7`), not an anchor.
fn is_line_range(part: &str) -> bool {
    part.split(':').all(|n| n.is_empty() || n.parse::<usize>().is_ok())
}

#[test]
fn no_page_includes_by_line_numbers() {
    let mut found = Vec::new();
    for page in files(&book_dir().join("src"), "md") {
        let text = std::fs::read_to_string(&page).unwrap();
        let text = text.replace("{{#rustdoc_include ", "{{#include ");
        for (path, part) in includes(&text) {
            if let Some(part) = part.filter(|part| is_line_range(part)) {
                found.push(format!("{}: {path}:{part}", page.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "an include by line numbers shows other lines as soon as the file changes above them; \
         include a whole file (a snapshot is shown without insta's header) or an anchor \
         (`// ANCHOR: name` … `// ANCHOR_END: name`, or `<!-- ANCHOR: name -->` in Markdown):\n{}",
        found.join("\n")
    );
    assert!(is_line_range("4:") && is_line_range("2:10") && !is_line_range("patches"));
}

/// `href="…"` and `src="…"` values in an HTML page.
fn links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for rest in html.split(attr).skip(1) {
            if let Some(link) = rest.split('"').next() {
                found.push(link.to_owned());
            }
        }
    }
    found
}

/// The `id="…"` values in an HTML page.
fn ids(html: &str) -> BTreeSet<String> {
    html.split(" id=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect()
}

#[test]
fn every_internal_link_and_fragment_leads_somewhere() {
    let out = rendered_book();
    let pages = files(out, "html");
    let mut id_cache: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    for page in &pages {
        // print.html repeats every page; toc.html is generated navigation.
        let name = page.file_name().unwrap().to_string_lossy();
        if name == "print.html" || name == "toc.html" || name == "404.html" {
            continue;
        }
        let html = std::fs::read_to_string(page).unwrap();
        for link in links(&html) {
            if link.is_empty()
                || link.contains("://")
                || link.starts_with("mailto:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            let (path, fragment) = match link.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            let target = if target.is_dir() { target.join("index.html") } else { target };
            if !target.is_file() {
                broken.push(format!("{}: {link} (no such file)", page.strip_prefix(out).unwrap().display()));
                continue;
            }
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                let ids = id_cache
                    .entry(target.clone())
                    .or_insert_with(|| ids(&std::fs::read_to_string(&target).unwrap_or_default()));
                if !ids.contains(fragment) {
                    broken.push(format!(
                        "{}: {link} (no id {fragment:?})",
                        page.strip_prefix(out).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links in the rendered book:\n{}", broken.join("\n"));
}

#[test]
fn no_directive_is_left_unexpanded() {
    for page in files(rendered_book(), "html") {
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(!html.contains("{{#"), "{} still contains a {{{{#…}}}} directive", page.display());
    }
}

#[test]
fn every_transcript_on_a_page_is_its_snapshot_byte_for_byte() {
    let mut checked = 0;
    for page in files(&book_dir().join("src"), "md") {
        let text = std::fs::read_to_string(&page).unwrap();
        for (path, _) in includes(&text).into_iter().filter(|(p, _)| p.ends_with(".snap")) {
            let name = Path::new(&path).file_stem().unwrap().to_string_lossy().into_owned();
            let body = snapshot_body(&name);
            assert!(!body.trim().is_empty(), "snapshot {name} is empty");
            let relative = page.strip_prefix(book_dir().join("src")).unwrap().with_extension("html");
            let html = std::fs::read_to_string(rendered_book().join(&relative)).unwrap();
            assert!(
                html.contains(&html_escape(&body)),
                "{} should show snapshot {name} exactly as the test wrote it",
                relative.display()
            );
            assert!(
                !html.contains("source: tests/"),
                "{} shows insta's header above a transcript (`duplex::book` should leave it out)",
                relative.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "the book should include at least one transcript");
    let _ = root();
}

#[test]
fn the_echo_page_carries_the_live_widget_and_its_script() {
    let html = std::fs::read_to_string(rendered_book().join("echo/live.html")).unwrap();
    assert!(html.contains("class=\"duplex-echo\""), "the echo's live page should have the widget's element");
    let script = links(&html).into_iter().find(|l| l.contains("live/live") && l.ends_with(".js"));
    let script = script.expect("live.js is loaded on the page");
    assert!(rendered_book().join("echo").join(&script).is_file(), "{script} is in the rendered book");
}

#[test]
fn the_request_response_live_page_carries_the_feed_widget_and_its_script() {
    let html = std::fs::read_to_string(rendered_book().join("request-response/live.html")).unwrap();
    assert!(html.contains("class=\"duplex-feed\""), "the live page should have the feed widget's element");
    let script = links(&html).into_iter().find(|l| l.contains("live/feed") && l.ends_with(".js"));
    let script = script.expect("feed.js is loaded on the page");
    assert!(
        rendered_book().join("request-response").join(&script).is_file(),
        "{script} is in the rendered book"
    );
}

/// What a `fn` in the workspace's sources is, judged by the attributes just above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FnKind {
    /// Not a test: a helper, a library function, a `main`.
    Plain,
    /// `#[test]` or `#[tokio::test]` with `#[ignore]`: it does not run in `cargo test`.
    IgnoredTest,
    /// A test that `cargo test --workspace` runs.
    Test,
}

/// Every `fn` in the Rust sources of the workspace (crates, tests and the vendored tiny_http),
/// each with the kinds it has (one name may be a helper in one file and a test in another).
///
/// A test is a `fn` whose attributes, the lines between it and the code before it, include
/// `#[test]` or `#[tokio::test…]`. The functions inside `proptest! { … }` carry `#[test]` too
/// (the macro copies their attributes), so they count as tests the same way.
fn functions() -> BTreeMap<String, BTreeSet<FnKind>> {
    let mut functions: BTreeMap<String, BTreeSet<FnKind>> = BTreeMap::new();
    for dir in ["crates", "tests", "vendor"] {
        for file in files(&root().join(dir), "rs") {
            let text = std::fs::read_to_string(&file).unwrap();
            // The attributes seen since the last line of code; an attribute may span lines.
            let mut attributes = String::new();
            let mut open_attribute = false;
            for line in text.lines().map(str::trim) {
                if open_attribute || line.starts_with("#[") {
                    attributes.push_str(line);
                    open_attribute = attributes.matches('[').count() > attributes.matches(']').count();
                    continue;
                }
                if line.is_empty() || line.starts_with("//") {
                    continue;
                }
                let mut declaration = line;
                while let Some(rest) = ["pub ", "pub(crate) ", "pub(super) ", "async ", "const ", "unsafe "]
                    .iter()
                    .find_map(|qualifier| declaration.strip_prefix(qualifier))
                {
                    declaration = rest;
                }
                if let Some(rest) = declaration.strip_prefix("fn ") {
                    let name: String =
                        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let test = attributes.contains("#[test]") || attributes.contains("#[tokio::test");
                    let ignored = attributes.contains("#[ignore") || attributes.contains(", ignore)");
                    let kind = match (test, ignored) {
                        (false, _) => FnKind::Plain,
                        (true, true) => FnKind::IgnoredTest,
                        (true, false) => FnKind::Test,
                    };
                    functions.entry(name).or_default().insert(kind);
                }
                attributes.clear();
            }
        }
    }
    functions
}

#[test]
fn every_test_named_in_the_misbehaving_table_exists() {
    let table = std::fs::read_to_string(book_dir().join("src/misbehaving/table.md")).unwrap();
    let functions = functions();
    let mut checked = 0;
    for row in table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| bad input")) {
        let Some(tests) = row.trim_end_matches('|').rsplit('|').next() else { continue };
        for name in tests.split('`').skip(1).step_by(2) {
            let place = "the table in book/src/misbehaving/table.md names the test";
            match functions.get(name).and_then(|kinds| kinds.last()) {
                None => panic!("{place} `{name}`, which no longer exists"),
                Some(FnKind::Plain) => panic!("{place} `{name}`, which is a function but not a test"),
                Some(FnKind::IgnoredTest) => {
                    panic!("{place} `{name}`, which is #[ignore]d: `cargo test` would never run it")
                }
                Some(FnKind::Test) => {}
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "the table should name its tests in backticks; found {checked}");
}

/// A Markdown table as the measurement code writes it (`bench`, `compare-transports`): the header
/// cells and the rows of cells, from the first table in a file.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Table {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read the results file {}: {e}", path.display()));
        let cells = |line: &str| -> Vec<String> {
            line.trim().trim_matches('|').split(" | ").map(|c| c.trim().to_owned()).collect()
        };
        let mut lines = text.lines().skip_while(|l| !l.starts_with("| ")).take_while(|l| l.starts_with('|'));
        let header = cells(lines.next().unwrap_or_default());
        let rows = lines.filter(|l| !l.starts_with("| ---")).map(cells).collect();
        Table { header, rows }
    }

    /// The cell in `column` of the row whose first cells are `key`; a median with its range,
    /// `12.8 (9.42–15.8)`, gives the median.
    fn cell(&self, key: &[&str], column: &str) -> String {
        let col = self
            .header
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("no column {column:?} in {:?}", self.header));
        let row = self
            .rows
            .iter()
            .find(|row| row.len() > key.len() && key.iter().zip(row.iter()).all(|(k, c)| k == c))
            .unwrap_or_else(|| panic!("no row {key:?} in the table with columns {:?}", self.header));
        row[col].split(" (").next().unwrap_or_default().to_owned()
    }

    fn number(&self, key: &[&str], column: &str) -> f64 {
        let cell = self.cell(key, column);
        cell.trim_end_matches(['×', '%']).replace(',', "").parse().unwrap_or_else(|e| panic!("{cell:?}: {e}"))
    }
}

/// Every measured number the book quotes in its prose, as the text each page must contain,
/// made from the committed results files (which the bench's and the feed's own tests hold to
/// `run.json` and `compare-transports.json`).
fn measured_quotes() -> Vec<(&'static str, String)> {
    let src = book_dir().join("src");
    let transports = Table::read(&src.join("request-response/measured/compare-transports.txt"));
    let results = src.join("measurements/results");
    let echo32 = Table::read(&results.join("echo-32.md.txt"));
    let syscalls = Table::read(&results.join("syscalls.md.txt"));
    let idle = Table::read(&results.join("idle.md.txt"));
    let stamp = Table::read(&results.join("stamp.md.txt"));
    let preamble =
        std::fs::read_to_string(src.join("request-response/measured/compare-transports.txt")).unwrap();

    let p50 = |mode: &str| transports.cell(&[mode], "latency p50 (ms)");
    let p99 = |mode: &str| transports.cell(&[mode], "latency p99 (ms)");
    let (sse, ws, long) = ("Server-Sent Events", "WebSocket", "long poll");
    let rate = preamble.split(" per second").next().and_then(|s| s.rsplit(' ').next()).unwrap_or_default();

    let reads = |server: &str| syscalls.cell(&[server, "64 KiB"], "reads");
    let (async_echo, blocking, by_hand, node) = (
        "async echo (tokio-tungstenite)",
        "blocking echo (tungstenite, a thread per connection)",
        "by-hand echo (the wire codec)",
        "Node.js `ws`",
    );
    let two_threads = "async echo, `--threads 2` (multi-threaded runtime)";
    let big_buffer = "async echo, `--read-buffer 131072` (tungstenite's default)";

    let echo = |server: &str, c: &str, column: &str| echo32.cell(&[server, c], column);
    let (rtt50, rtt99, rate_col) = ("round trip p50 (µs)", "p99 (µs)", "messages/s");
    let mean_ms = |server: &str| 1000.0 * 1000.0 / echo32.number(&[server, "1000"], rate_col);
    let after_one = "KiB per connection, idle after one message";
    let grown =
        idle.number(&[big_buffer, "5,000"], after_one) - idle.number(&[async_echo, "5,000"], after_one);
    let idle_count = idle.cell(&[async_echo, "5,000"], "idle connections");
    let file_limit = stamp.cell(&["open-file limit"], "this run");
    assert_eq!(
        idle_count.replace(',', "").parse::<u64>().unwrap() * 4,
        file_limit.replace(',', "").parse::<u64>().unwrap(),
        "memory.md says that four descriptors per idle WebSocket took all of the run's open-file limit"
    );

    let mut quotes = vec![
        ("request-response/measurements.md", format!("messages arrive {rate} times a second")),
        (
            "request-response/measurements.md",
            format!("SSE delivered half its messages within {} ms", p50(sse)),
        ),
        ("request-response/measurements.md", format!("WebSocket within {} ms", p50(ws))),
        ("request-response/measurements.md", format!("Their p99, {} ms and {} ms", p99(sse), p99(ws))),
        (
            "measurements/duplex.md",
            format!(
                "({} ms for long polling, {} ms for SSE, {} ms for WebSocket)",
                p50(long),
                p50(sse),
                p50(ws)
            ),
        ),
        ("measurements/duplex.md", format!("{rate} per second on average")),
        (
            "measurements/tuning.md",
            format!(
                "{} for the async echo, {} for the blocking echo, and {} for the by-hand echo",
                reads(async_echo),
                reads(blocking),
                reads(by_hand)
            ),
        ),
        ("measurements/tuning.md", format!("and needed {}", reads(node))),
        ("measurements/tuning.md", format!("grows by about {grown:.0} KiB per connection")),
        ("measurements/memory.md", format!("{idle_count} idle WebSockets took all {file_limit} descriptors")),
        (
            "measurements/echo.md",
            format!(
                "1,000 / {} messages/s, about {:.1} ms",
                echo(by_hand, "1000", rate_col),
                mean_ms(by_hand)
            ),
        ),
        ("measurements/echo.md", format!("Its p50 is {} µs", echo(by_hand, "1000", rtt50))),
        (
            "measurements/echo.md",
            format!(
                "its p99 is {} µs, about {:.0} ms",
                echo(by_hand, "1000", rtt99),
                echo32.number(&[by_hand, "1000"], rtt99) / 1000.0
            ),
        ),
        (
            "measurements/echo.md",
            format!(
                "has a p50 of {} µs, close to its own average of about {:.1} ms",
                echo(async_echo, "1000", rtt50),
                mean_ms(async_echo)
            ),
        ),
        (
            "measurements/echo.md",
            format!(
                "a p50 of {} µs against the default's {} µs, and a p99 of {} µs against {} µs",
                echo(two_threads, "100", rtt50),
                echo(async_echo, "100", rtt50),
                echo(two_threads, "100", rtt99),
                echo(async_echo, "100", rtt99)
            ),
        ),
    ];
    quotes.extend(compression_quotes(&src, &echo32));
    quotes.extend(ordinary_client_quotes(&results));
    quotes.extend(fanout_quotes(&src));
    quotes
}

/// The fan-out page's numbers, from its results (`just bench-fanout`).
fn fanout_quotes(src: &Path) -> Vec<(&'static str, String)> {
    let results = src.join("measurements/fanout");
    let main = Table::read(&results.join("fanout.md.txt"));
    let redis = Table::read(&results.join("fanout-redis.md.txt"));
    let deaf = Table::read(&results.join("fanout-deaf.md.txt"));
    let (room, node, over_redis) = (
        "Duplex room, one process",
        "Node.js `ws`, the README's broadcast loop",
        "two Duplex servers over Redis pub/sub",
    );
    let at = |n: &str, server: &str, column: &str| main.cell(&[n, server], column);
    let (rate, cpu, p50, p99) =
        ("deliveries/s", "server CPU per delivery (µs)", "latency p50 (ms)", "latency p99 (ms)");
    let page = "measurements/fanout.md";
    let redis_cell = |n: &str, row: &str, column: &str| redis.cell(&[n, row], column);
    let (cpu_row, p50_row) = ("CPU per delivery (µs)", "latency p50 (ms)");
    let deaf_cell = |server: &str, column: &str| deaf.cell(&[server], column);
    let (without, with) = ("others' p99 without (ms)", "with one deaf subscriber (ms)");
    vec![
        (
            page,
            format!(
                "At 1,000 subscribers the room made {} deliveries a second and Node {}",
                at("1,000", room, rate),
                at("1,000", node, rate)
            ),
        ),
        (
            page,
            format!(
                "{} µs of CPU per delivery against Node's {} µs",
                at("1,000", room, cpu),
                at("1,000", node, cpu)
            ),
        ),
        (
            page,
            format!(
                "at 10,000 subscribers, {} µs against {} µs",
                at("10,000", room, cpu),
                at("10,000", node, cpu)
            ),
        ),
        (
            page,
            format!(
                "half the deliveries took at most {} ms in the room and {} ms in Node, the slowest in a hundred {} ms and {} ms",
                at("1,000", room, p50),
                at("1,000", node, p50),
                at("1,000", room, p99),
                at("1,000", node, p99)
            ),
        ),
        (
            page,
            format!(
                "at 100 subscribers a delivery cost {} µs of CPU through Redis against {} µs in one process",
                redis_cell("100", cpu_row, "over Redis"),
                redis_cell("100", cpu_row, "one process")
            ),
        ),
        (
            page,
            format!(
                "at 10,000, {} µs against {} µs",
                redis_cell("10,000", cpu_row, "over Redis"),
                redis_cell("10,000", cpu_row, "one process")
            ),
        ),
        (
            page,
            format!(
                "The p50 at 100 subscribers went from {} ms to {} ms",
                redis_cell("100", p50_row, "one process"),
                redis_cell("100", p50_row, "over Redis")
            ),
        ),
        (
            page,
            format!(
                "{} deliveries a second at 10,000 subscribers, against {} in one process",
                at("10,000", over_redis, rate),
                at("10,000", room, rate)
            ),
        ),
        (
            page,
            format!(
                "the others' p99 went from {} ms to {} ms",
                deaf_cell(room, without),
                deaf_cell(room, with)
            ),
        ),
        (
            page,
            format!(
                "Node's others went from {} ms to {} ms",
                deaf_cell(node, without),
                deaf_cell(node, with)
            ),
        ),
    ]
}

/// The echo page's section on the ordinary client: its numbers, and the readings it gives them,
/// checked against the committed clients table.
fn ordinary_client_quotes(results: &Path) -> Vec<(&'static str, String)> {
    let clients = Table::read(&results.join("clients-32.md.txt"));
    let (raw, ordinary) = ("pre-encoded (the bench's)", "tokio-tungstenite");
    let (async_echo, node) = ("async echo (tokio-tungstenite)", "Node.js `ws`");
    let (blocking, one_port) = (
        "blocking echo (tungstenite, a thread per connection)",
        "one-port: the book server (tiny_http + upgrade)",
    );
    let cell = |server: &str, client: &str, column: &str| clients.cell(&[server, "100", client], column);
    let number = |server: &str, client: &str, column: &str| clients.number(&[server, "100", client], column);
    let (cpu, vs, busy, woken, client_cpu) = (
        "server CPU per message (µs)",
        "× `ws`",
        "server core busy",
        "messages per server wake-up",
        "client CPU per round trip (µs)",
    );
    // The readings the page gives, each of which a run could contradict.
    assert!(
        number(async_echo, raw, client_cpu) < number(async_echo, raw, cpu),
        "echo.md: the bench's client costs less per round trip than the async echo per message"
    );
    assert!(
        number(async_echo, raw, woken) > 1000.0,
        "echo.md: under the bench's client it almost never sleeps"
    );
    assert!(
        number(async_echo, ordinary, client_cpu) > number(async_echo, ordinary, cpu),
        "echo.md: the ordinary client is the slower side"
    );
    assert!(
        number(async_echo, ordinary, woken) < number(node, ordinary, woken),
        "echo.md: `ws` finds more messages per wake-up than the async echo"
    );
    assert!(
        number(node, ordinary, cpu) - number(node, raw, cpu)
            < number(async_echo, ordinary, cpu) - number(async_echo, raw, cpu),
        "echo.md: the ordinary client adds less to `ws`'s cost per message than to the async echo's"
    );
    assert!(
        number(async_echo, raw, vs) < number(async_echo, ordinary, vs)
            && number(async_echo, ordinary, vs) < 1.0,
        "echo.md: the ratio moves toward 1"
    );
    for server in [blocking, one_port] {
        for client in [raw, ordinary] {
            let found = number(server, client, woken);
            assert!(
                (0.9..=2.0).contains(&found),
                "echo.md: {server} finds one or two messages per wake-up, not {found}"
            );
        }
        assert!(number(server, ordinary, cpu) > number(server, raw, cpu), "echo.md: {server} costs more");
    }
    let page = "measurements/echo.md";
    vec![
        (
            page,
            format!(
                "the async echo spends {} of what `ws` spends per message under the bench's client, and {} under \
                 the ordinary one",
                cell(async_echo, raw, vs),
                cell(async_echo, ordinary, vs)
            ),
        ),
        (page, format!("the server's core is busy {} of the time", cell(async_echo, raw, busy))),
        (page, format!("({} messages per wake-up)", cell(async_echo, raw, woken))),
        (page, format!("costs more per round trip ({} µs)", cell(async_echo, ordinary, client_cpu))),
        (page, format!("woken for {} messages at a time on average", cell(async_echo, ordinary, woken))),
        (page, format!("its core busy {} of the time", cell(async_echo, ordinary, busy))),
        (page, format!("`ws` wakes for {} messages at a time", cell(node, ordinary, woken))),
    ]
}

/// The compression chapter's numbers, from its results (`just bench-compression`, `just autobahn`).
fn compression_quotes(src: &Path, echo32: &Table) -> Vec<(&'static str, String)> {
    let results = src.join("compression/results");
    let bytes = Table::read(&results.join("compression-bytes.md.txt"));
    let cpu = Table::read(&results.join("compression-cpu.md.txt"));
    let memory = Table::read(&results.join("compression-memory.md.txt"));
    let autobahn = Table::read(&results.join("autobahn.md.txt"));
    let (plain, takeover, forget, small) = (
        "uncompressed",
        "deflate, context takeover (the default)",
        "deflate, no context takeover",
        "deflate, context takeover, window 2^9 = 512 bytes",
    );
    let frame = |row: &str| bytes.cell(&[row], "frame per message (bytes)");
    let first = |row: &str| bytes.cell(&[row], "first message (bytes)");
    let (compress, inflate) = ("compress (µs per message)", "inflate (µs per message)");
    let echo_cpu = echo32.number(&["by-hand echo (the wire codec)", "100"], "server CPU per message (µs)");
    let added = (cpu.number(&[takeover], compress) + cpu.number(&[takeover], inflate)) / echo_cpu * 100.0;
    let (open, used) = ("KiB per connection, open", "KiB per connection, after one message");
    let (none, deflate) = ("(none)", "`--deflate`");
    let times = memory.number(&[deflate], used) / memory.number(&[none], open);
    let gib = memory.number(&[deflate], used) * 10_000.0 / 1024.0 / 1024.0;
    let by_hand_deflate = "by-hand echo, `--deflate` (permessage-deflate)";
    let async_echo = "async echo (tokio-tungstenite)";
    let count = |row: &str, column: &str| autobahn.cell(&[row], column);
    for row in &autobahn.rows {
        assert_eq!(row[1], count(async_echo, "cases"), "every server runs every case");
    }
    assert_eq!(
        autobahn.number(&[by_hand_deflate], "OK"),
        autobahn.number(&[async_echo], "OK") + autobahn.number(&[async_echo], "UNIMPLEMENTED"),
        "conformance.md says the deflate server's other cases give what every server's give"
    );
    vec![
        (
            "compression/cost.md",
            format!("{} bytes of JSON become {} compressed", first(plain), first(takeover)),
        ),
        (
            "compression/cost.md",
            format!("a frame carries {} bytes on average instead of {}", frame(takeover), frame(plain)),
        ),
        ("compression/cost.md", format!("larger than they went in ({} bytes a frame)", frame(forget))),
        ("compression/cost.md", format!("most of the gain ({} bytes a frame)", frame(small))),
        (
            "compression/cost.md",
            format!("takes {} µs with context takeover", cpu.cell(&[takeover], compress)),
        ),
        ("compression/cost.md", format!("remembering: {} µs", cpu.cell(&[forget], compress))),
        ("compression/cost.md", format!("spends {echo_cpu:.1} µs of CPU per 32-byte message")),
        ("compression/cost.md", format!("adds about {added:.0}% to what an")),
        ("compression/cost.md", format!("({} µs a message)", cpu.cell(&[takeover], inflate))),
        (
            "compression/cost.md",
            format!("a connection costs the by-hand server {} KiB", memory.cell(&[none], open)),
        ),
        (
            "compression/cost.md",
            format!(
                "With it, {} KiB as soon as the handshake is done, and {} KiB once a message has gone \
                 through: about {times:.0} times as much",
                memory.cell(&[deflate], open),
                memory.cell(&[deflate], used)
            ),
        ),
        ("compression/cost.md", format!("needs about {gib:.1} GiB for them")),
        (
            "compression/cost.md",
            format!(
                "Without context takeover it is worse, {} KiB",
                memory.cell(&["`--deflate --deflate-no-context-takeover`"], used)
            ),
        ),
        (
            "compression/cost.md",
            format!(
                "`--deflate-window-bits 9` costs exactly what the default costs{}",
                if memory.cell(&["`--deflate --deflate-window-bits 9`"], used)
                    == memory.cell(&[deflate], used)
                {
                    ""
                } else {
                    " (the committed run says otherwise: rewrite the sentence)"
                }
            ),
        ),
        ("compression/frames.md", format!("the first costs {} bytes compressed", first(takeover))),
        ("compression/frames.md", format!("against {} plain", first(plain))),
        ("compression/index.md", format!("all {} cases", count(async_echo, "cases"))),
        ("compression/conformance.md", format!("Its {} cases cover", count(async_echo, "cases"))),
        ("compression/conformance.md", format!("{} of them", count(async_echo, "UNIMPLEMENTED"))),
        ("compression/conformance.md", format!("runs all {} cases against it", count(async_echo, "cases"))),
        (
            "compression/conformance.md",
            format!("passes all {} compression cases", count(async_echo, "UNIMPLEMENTED")),
        ),
        (
            "compression/conformance.md",
            format!(
                "its other {} cases give the same {} OK, {} NON-STRICT and {} INFORMATIONAL as the other servers",
                autobahn.number(&[async_echo], "cases") - autobahn.number(&[async_echo], "UNIMPLEMENTED"),
                count(async_echo, "OK"),
                count(by_hand_deflate, "NON-STRICT"),
                count(by_hand_deflate, "INFORMATIONAL")
            ),
        ),
        (
            "compression/conformance.md",
            format!(
                "- **FAILED**: {}.",
                if autobahn.rows.iter().all(|r| r[6] == "0") { "none" } else { "see the table" }
            ),
        ),
    ]
}

/// Numbers with a decimal point in a page's prose (code blocks, includes and section numbers
/// such as `§5.2` or `HTTP/1.1` left out): the numbers that look measured.
fn decimals_in_prose(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_code = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || line.contains("{{#include") {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_ascii_digit()
                || (i > 0 && (chars[i - 1].is_alphanumeric() || "§/.-".contains(chars[i - 1])))
            {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == ',') {
                i += 1;
            }
            let token: String =
                chars[start..i].iter().collect::<String>().trim_end_matches(['.', ',']).to_owned();
            if token.contains('.') {
                found.push(token);
            }
        }
    }
    found
}

#[test]
fn every_measured_number_in_the_prose_is_the_committed_run() {
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let quotes = measured_quotes();
    // Every missing quote at once: after a new run, the pages are updated in one go.
    let missing: Vec<String> = quotes
        .iter()
        .filter(|(page, quote)| {
            !squash(&std::fs::read_to_string(book_dir().join("src").join(page)).unwrap())
                .contains(quote.as_str())
        })
        .map(|(page, quote)| format!("  {page} should say {quote:?}"))
        .collect();
    assert!(
        missing.is_empty(),
        "as the committed results files give them (a measured number in the prose is read from the \
         run, never typed by hand, and re-running `just bench` changes them):\n{}",
        missing.join("\n")
    );
    let measured_pages =
        ["request-response/measurements.md", "measurements/index.md", "measurements/duplex.md"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                ["echo.md", "memory.md", "tuning.md", "fanout.md"]
                    .into_iter()
                    .map(|p| format!("measurements/{p}")),
            )
            .chain(["cost.md", "frames.md"].into_iter().map(|p| format!("compression/{p}")));
    for page in measured_pages {
        let text = std::fs::read_to_string(book_dir().join("src").join(&page)).unwrap();
        for number in decimals_in_prose(&text) {
            assert!(
                quotes.iter().any(|(p, quote)| *p == page && quote.contains(&number)),
                "{page} quotes {number}, which no check reads from the committed results: add it to \
                 `measured_quotes` in tests/book.rs, or say it without the number"
            );
        }
    }
}

/// The anchors of the glossary's entries: each entry is a heading `## term {#anchor}`.
fn glossary_anchors() -> Vec<String> {
    let glossary = std::fs::read_to_string(book_dir().join("src/glossary.md")).unwrap();
    glossary
        .lines()
        .filter(|line| line.starts_with("## "))
        .map(|line| {
            let anchor = line.rsplit_once("{#").and_then(|(_, rest)| rest.strip_suffix('}'));
            anchor
                .unwrap_or_else(|| panic!("glossary entry {line:?} needs an explicit anchor, `{{#name}}`"))
                .to_owned()
        })
        .collect()
}

/// `(page, anchor)` for every link into the glossary from the book's other pages.
fn glossary_links() -> Vec<(PathBuf, String)> {
    let mut links = Vec::new();
    for page in files(&book_dir().join("src"), "md") {
        if page.ends_with("glossary.md") {
            continue;
        }
        let text = std::fs::read_to_string(&page).unwrap();
        for rest in text.split("glossary.md").skip(1) {
            if let Some(anchor) = rest.strip_prefix('#') {
                let anchor: String =
                    anchor.chars().take_while(|c| c.is_alphanumeric() || *c == '-').collect();
                links.push((page.clone(), anchor));
            }
        }
    }
    links
}

#[test]
fn every_glossary_entry_is_linked_from_a_page_and_every_link_to_it_resolves() {
    let anchors = glossary_anchors();
    assert!(anchors.len() >= 25, "the glossary should define at least 25 terms, it has {}", anchors.len());
    let links = glossary_links();
    for (page, anchor) in &links {
        assert!(
            anchors.contains(anchor),
            "{} links glossary.md#{anchor}, but the glossary has no entry with that anchor",
            page.display()
        );
    }
    for anchor in &anchors {
        assert!(
            links.iter().any(|(_, linked)| linked == anchor),
            "no page links the glossary's entry #{anchor}: link the term where a chapter first uses it"
        );
    }
}

#[test]
fn every_going_deeper_aside_has_the_one_form() {
    // How to use this book documents it: `<details class="deeper">`, then
    // `<summary>Going deeper: …</summary>`. The exercises' hints are the only other `<details>`.
    for page in files(&book_dir().join("src"), "md") {
        let text = std::fs::read_to_string(&page).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let next = lines.get(i + 1).copied().unwrap_or_default();
            if line.starts_with("<details class=\"deeper\">") {
                assert!(
                    next.starts_with("<summary>Going deeper: ") && next.ends_with("</summary>"),
                    "{}:{}: a Going deeper aside starts with `<summary>Going deeper: …</summary>`",
                    page.display(),
                    i + 2
                );
            } else if line.starts_with("<details") {
                assert!(
                    *line == "<details>" && next == "<summary>A hint</summary>",
                    "{}:{}: an aside is `<details class=\"deeper\">` with `<summary>Going deeper: …</summary>` \
                     (or an exercise's `<details>` hint)",
                    page.display(),
                    i + 1
                );
            }
        }
    }
}
