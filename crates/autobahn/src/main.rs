//! `autobahn`: the Autobahn TestSuite against every WebSocket server of Duplex (`just autobahn`).

use std::path::PathBuf;
use std::time::Instant;

use autobahn::results::{Results, Row};
use autobahn::servers::{self, SERVERS};
use autobahn::{kosoku, workspace_root};
use clap::Parser;

/// Runs Autobahn's 517 cases against every WebSocket server of the workspace and writes the
/// book's conformance table.
///
/// Each server (a release binary beside this one: `just autobahn` builds them) is started on
/// port 0 with a 16 MiB message limit; kosoku, the Python 3 runner of Autobahn's case files, is
/// installed into .venv-autobahn if needed and run against it; the verdicts in its index.json
/// are counted. The reports (one per case, with the bytes of every frame) stay in
/// target/autobahn/SERVER/ (open index.html). The counts go into
/// book/src/compression/results/ (autobahn.json and the table, autobahn.md.txt), or, with
/// --check, are compared with what is committed there.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Compare with the committed results instead of writing them; fail on any difference, any
    /// failed case, and any compression case the deflate server leaves unimplemented (CI).
    #[arg(long)]
    check: bool,
    /// Cases run at once. The compression cases are the slow part: 1,000 messages per case.
    #[arg(long, short = 'p', default_value_t = 4)]
    parallel: usize,
    /// Only these servers (comma-separated keys: async, blocking, by-hand, by-hand-deflate,
    /// heartbeat, book); the others keep their committed rows.
    #[arg(long, value_delimiter = ',')]
    servers: Option<Vec<String>>,
    /// Where the server binaries are [default: this binary's folder].
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Its own progress goes to stderr as plain lines; this is for the libraries it uses.
    guard::logging::init("warn");
    let root = workspace_root();
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()?
            .parent()
            .map(PathBuf::from)
            .ok_or_else(|| anyhow::anyhow!("this binary's folder is unknown"))?,
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let chosen: Vec<_> = SERVERS
        .iter()
        .filter(|s| args.servers.as_ref().is_none_or(|keys| keys.iter().any(|k| k == s.key)))
        .collect();
    anyhow::ensure!(!chosen.is_empty(), "no such server; the keys are in --help");
    kosoku::ensure(&root)?;

    let started = Instant::now();
    let mut rows = Vec::new();
    for server in &chosen {
        let began = Instant::now();
        let running = servers::start(server, &bin_dir, &root, &target.join("autobahn"))?;
        let out = target.join("autobahn").join(server.key);
        kosoku::run(&root, &running.url, args.parallel, &out)?;
        drop(running);
        let row =
            Row::from_index(server.key, server.label, &std::fs::read_to_string(out.join("index.json"))?)?;
        eprintln!(
            "{:<16} {:>3} cases: {} OK, {} NON-STRICT, {} INFORMATIONAL, {} UNIMPLEMENTED, {} FAILED in {:.1} s \
             (reports: {})",
            server.key,
            row.cases,
            row.ok,
            row.non_strict,
            row.informational,
            row.unimplemented,
            row.failed,
            began.elapsed().as_secs_f64(),
            out.join("index.html").display()
        );
        rows.push(row);
    }
    eprintln!("{} servers in {:.1} s", rows.len(), started.elapsed().as_secs_f64());

    let dir = autobahn::book_dir();
    let committed = Results::read(&dir).ok();
    // A partial run keeps the other servers' committed rows.
    let mut results =
        Results { kosoku: kosoku::VERSION.to_owned(), max_message: servers::MAX_MESSAGE, rows: Vec::new() };
    for server in SERVERS {
        let row = rows
            .iter()
            .find(|r| r.key == server.key)
            .or_else(|| committed.as_ref().and_then(|c| c.row(server.key)));
        results.rows.extend(row.cloned());
    }
    let problems: Vec<String> = SERVERS
        .iter()
        .filter_map(|s| results.row(s.key).map(|r| r.problems(s.compression)))
        .flatten()
        .collect();
    for problem in &problems {
        eprintln!("problem: {problem}");
    }
    if args.check {
        let Some(committed) = committed else { anyhow::bail!("no committed results in {}", dir.display()) };
        if committed != results {
            anyhow::bail!(
                "the results differ from the committed ones in {}.\ncommitted:\n{}\nthis run:\n{}",
                dir.display(),
                committed.table(),
                results.table()
            );
        }
        anyhow::ensure!(problems.is_empty(), "{} problems (above)", problems.len());
        println!("{}", results.table());
        println!("the same as the committed results");
    } else {
        results.write(&dir)?;
        println!("{}", results.table());
        println!("written to {}", dir.display());
        anyhow::ensure!(problems.is_empty(), "{} problems (above)", problems.len());
    }
    Ok(())
}
