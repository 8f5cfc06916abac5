//! The demos: a chapter's exchange run in the terminal, every event printed as the Tap decodes
//! it. Each chapter crate lists its demos in one table of [`Demo`]s and runs them with a small
//! binary of its own (`just tcp-echo` builds only the socket chapter); `duplex demo NAME` runs
//! the same tables, every chapter's, from one place.
//!
//! Besides the table and its command line ([`main`]), this module holds what the demos print
//! around their transcripts: the legends that say how to read one, headings, and an observer
//! that prints each event live.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use wire::Render;

use crate::Observer;
use crate::{out, outln};

/// Why a demo failed: any error of the chapter's, boxed.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

/// A running demo.
pub type DemoFuture = Pin<Box<dyn Future<Output = Result<(), DemoError>>>>;

/// A flag a demo takes, such as `--blackhole`.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    /// Its name, without the dashes.
    pub name: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
}

/// The flags given to a demo, by name.
#[derive(Clone, Debug, Default)]
pub struct Flags(Vec<&'static str>);

impl Flags {
    /// These flags.
    pub fn new(names: &[&'static str]) -> Flags {
        Flags(names.to_vec())
    }

    /// Whether `--name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(&name)
    }
}

/// One demo: its name on the command line, its chapter, what it shows, and how to run it.
#[derive(Clone, Copy)]
pub struct Demo {
    /// The name to run it by (`just NAME`, `duplex demo NAME`).
    pub name: &'static str,
    /// The chapter it belongs to, as the book titles it.
    pub chapter: &'static str,
    /// What it shows, in one line.
    pub about: &'static str,
    /// The flags it takes.
    pub flags: &'static [Flag],
    /// Runs it, printing the live transcript to standard output.
    pub run: fn(Flags) -> DemoFuture,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo").field("name", &self.name).field("chapter", &self.chapter).finish()
    }
}

/// The command line of a chapter's demo binary (and of `duplex demo`): `NAME [--FLAG…]` runs a
/// demo of `demos`; `--list` or no name lists them.
pub fn command(bin: &'static str, demos: &[Demo]) -> clap::Command {
    let mut command = clap::Command::new(bin)
        .about("Runs a chapter's exchange through the Tap and prints every byte that crosses the wire.")
        .arg(clap::Arg::new("name").value_name("NAME").help("Which demo to run (--list shows them)"))
        .arg(clap::Arg::new("list").long("list").action(clap::ArgAction::SetTrue).help("List the demos"))
        .after_help(format!("Demos:\n{}", indent(&list(demos))));
    let mut flags: Vec<Flag> = demos.iter().flat_map(|d| d.flags.iter().copied()).collect();
    flags.sort_by_key(|f| f.name);
    flags.dedup_by_key(|f| f.name);
    for flag in flags {
        command = command
            .arg(clap::Arg::new(flag.name).long(flag.name).action(clap::ArgAction::SetTrue).help(flag.help));
    }
    command
}

/// The demos, one line each, starting with the name.
pub fn list(demos: &[Demo]) -> String {
    let mut text = String::new();
    for demo in demos {
        let flags: String = demo.flags.iter().map(|f| format!(" [--{}]", f.name)).collect();
        text.push_str(&format!("{:<14} {}{flags} (chapter \"{}\")\n", demo.name, demo.about, demo.chapter));
    }
    text
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Runs the demo `name` with `flags`: an error for a flag the demo does not take.
pub async fn run(demos: &[Demo], name: &str, flags: Flags) -> Result<(), DemoError> {
    let demo = demos
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("there is no demo called {name:?}; --list shows them"))?;
    if let Some(stray) = flags.0.iter().find(|f| !demo.flags.iter().any(|known| known.name == **f)) {
        let takers: Vec<&str> =
            demos.iter().filter(|d| d.flags.iter().any(|f| f.name == *stray)).map(|d| d.name).collect();
        return Err(format!("--{stray} is for the {} demo, not {name:?}", takers.join(", ")).into());
    }
    (demo.run)(flags).await
}

/// What a chapter's demo binary does: parses the command line ([`command`]) and runs it
/// ([`run_matches`]).
pub fn main(bin: &'static str, demos: &[Demo]) -> ExitCode {
    run_matches(demos, &command(bin, demos).get_matches())
}

/// Runs what a parsed [`command`] line asks: a demo, on a tokio runtime, with quiet logging (a
/// demo's output is its transcript), exiting quietly if its reader has gone
/// (`just ws-echo | head`); or the list of demos.
pub fn run_matches(demos: &[Demo], matches: &clap::ArgMatches) -> ExitCode {
    guard::logging::init("warn");
    match matches.get_one::<String>("name") {
        Some(name) if !matches.get_flag("list") => {
            let given: Vec<&'static str> = demos
                .iter()
                .flat_map(|d| d.flags.iter())
                .filter(|f| matches.try_get_one::<bool>(f.name).ok().flatten().copied().unwrap_or(false))
                .map(|f| f.name)
                .collect();
            let mut given = given;
            given.sort_unstable();
            given.dedup();
            let flags = Flags::new(&given);
            let result = tokio::runtime::Runtime::new()
                .map_err(DemoError::from)
                .and_then(|runtime| runtime.block_on(run(demos, name, flags)));
            crate::out::exit_code(result)
        }
        _ => {
            out!("{}", list(demos));
            ExitCode::SUCCESS
        }
    }
}

/// An observer that prints each event live, as the demos show it.
pub fn live() -> Observer {
    Arc::new(|_id, event| out!("{}", event.render(&Render::live())))
}

/// An observer that prints each event live, each line after `prefix` (for two Taps at once).
pub fn live_prefixed(prefix: &'static str) -> Observer {
    Arc::new(move |_id, event| {
        let text: String = event.render(&Render::live()).lines().map(|l| format!("{prefix}{l}\n")).collect();
        out!("{text}");
    })
}

/// An observer that prints each event live, each line after its connection's number (`#2`), for
/// demos that open more than one connection.
pub fn live_numbered() -> Observer {
    Arc::new(|id, event| {
        let text: String = event.render(&Render::live()).lines().map(|l| format!("#{id} {l}\n")).collect();
        out!("{text}");
    })
}

/// Prints a heading over a part of a demo.
pub fn heading(text: &str) {
    outln!();
    outln!("━━ {text}");
    outln!();
}

/// The key to a WebSocket transcript's notation, printed above a live transcript.
pub const LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole (opened, switched protocols, over)
  TCP connection opened: client … → server …   the real client and server: the client dialled
        the Tap, which dialled the server, so the request's Host: names the Tap's port
  frame FIN text masked len=5   one WebSocket frame (RFC 6455 §5.2): FIN = last frame of its
        message; the opcode (text, binary, ping, pong, close); masked = XORed with a 4-byte key,
        which every client frame must be (§5.3); len = payload bytes
  81 85 | mask 37 fa 21 3d | 7f 9f …   the frame's bytes in hex: header | mask key | payload
";

/// The key to an HTTP transcript's notation, printed above the request–response demos.
pub const HTTP_LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole, or what the demo did meanwhile (a publish happens
       inside the server: the Tap cannot see it, so the demo says when)
  TCP connection opened: client … → server …   the real client and server: the client dialled
       the Tap, which dialled the server, so the request's Host: names the Tap's port
  GET /messages?since=0 HTTP/1.1 + header lines   an HTTP request head; · N bytes of head
  body, N bytes / chunk of N bytes   what follows a head: a body of known length, or one chunk
       of a chunked body (an event stream sends one chunk per event)
  closed its side (FIN)   that side will send nothing more on this TCP connection
";

/// The key to the heartbeat demos' extra notation.
pub const HEARTBEAT_LEGEND: &str = "\
  ─── ⏱ 2.000 s   the time since the connection opened, noted whenever it has moved on
  frame FIN ping len=1 \"3\"   the server's third ping; its payload is the number, so the pong
        that echoes it (RFC 6455 §5.5.3) says which ping it answers
  ⚫ blackhole     the Tap swallowed these bytes: the other side never sees them, and nobody
                  is told (a pulled cable, a NAT that forgot the connection)
";

/// The key to a call log, printed above one: the program's view, not the wire's.
pub const CALLS_LEGEND: &str = "\
How to read a call log: each line is one call the program made on its socket, in order.
  client write(\"one\")  → 3 bytes taken      the kernel took the bytes; the peer has not read them
  server read(buffer of 1024)  → 11 bytes   what one read returned: whatever had arrived, up to
                                             the buffer's size, with no message boundaries
  line decoder → message \"one\"             a framing decoder found a whole message in the bytes
";

/// The key to a Tap transcript of a protocol the Tap does not decode (raw TCP and its framings).
pub const RAW_LEGEND: &str = "\
How to read this: each line is one thing the Tap saw on the wire, in order.
  C→S  the client sent it to the server      S→C  the server sent it to the client
  ───  about the connection as a whole (opened, closed, over)
  C→S 5 bytes: \"hello\"   bytes as the Tap read them, then in hex: TCP itself adds nothing
                          that says where a message ends
";
