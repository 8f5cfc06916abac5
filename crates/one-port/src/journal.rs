//! The server's own account of what it did: one entry per middleware step, per upgrade and per
//! WebSocket that ends.
//!
//! Every entry also goes to the log (`tracing`, on stderr). Keeping them in memory too lets a
//! test *wait* for one ("the server saw the browser close with 1001") instead of sleeping and
//! hoping, and lets the chapter show the log next to the transcript: which layers saw a request,
//! and which never did.

use serve::Ending;
use tokio::sync::watch;

/// One thing the server did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A line from a layer of the server: `who` is the middleware's name, `upgrade` or
    /// `websocket`.
    Line {
        /// Which part of the server wrote it.
        who: &'static str,
        /// What it says.
        text: String,
    },
    /// A WebSocket ended.
    Closed {
        /// The user it belonged to, if the client had signed in.
        user: Option<String>,
        /// How it ended.
        ending: Ending,
    },
}

impl Entry {
    /// The entry as one line of text, without anything that changes from run to run.
    pub fn render(&self) -> String {
        match self {
            Entry::Line { who, text } => format!("{who:<9} {text}"),
            Entry::Closed { user, ending } => {
                let whose = user.as_deref().map_or_else(|| "a visitor's".to_owned(), |u| format!("{u}'s"));
                let how = match ending {
                    Ending::PeerClosed(Some(code)) => format!("the client closed it with {code}"),
                    Ending::PeerClosed(None) => "the client closed it without a code (1005)".to_owned(),
                    Ending::WeClosed(code, reason) => format!("the server closed it with {code}: {reason}"),
                    Ending::Dropped(why) => format!("it ended without a close handshake (1006): {why}"),
                };
                format!("{:<9} {whose} WebSocket is over: {how}", "websocket")
            }
        }
    }
}

/// How many entries the journal keeps: the most recent ones, between this many and twice as
/// many. Without a bound, a server that runs for days would keep a line for every request it ever
/// served (the chapter "When clients misbehave" is about such things).
pub const KEEP: usize = 1000;

/// The entries so far, shared by the server's threads and anyone watching. Cloning shares it.
#[derive(Clone, Debug)]
pub struct Journal(watch::Sender<Vec<Entry>>);

impl Default for Journal {
    fn default() -> Self {
        Journal(watch::Sender::new(Vec::new()))
    }
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Journal {
        Journal::default()
    }

    /// Records an entry and logs it.
    pub fn record(&self, entry: Entry) {
        tracing::info!("{}", entry.render());
        // `send_modify` works with or without receivers, from any thread, without a runtime.
        self.0.send_modify(|entries| {
            // Forget the oldest half at once, so that keeping the journal bounded costs nothing
            // per entry on average.
            if entries.len() >= 2 * KEEP {
                entries.drain(..KEEP);
            }
            entries.push(entry);
        });
    }

    /// Records a line from `who`.
    pub fn line(&self, who: &'static str, text: impl Into<String>) {
        self.record(Entry::Line { who, text: text.into() });
    }

    /// Everything recorded so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.0.borrow().clone()
    }

    /// Everything recorded so far, one rendered line each.
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().iter().map(Entry::render).collect()
    }

    /// Waits until an entry matches `want`, and returns it. Only the caller's own timeout bounds
    /// the wait; tests wrap it in `tokio::time::timeout` with a generous limit.
    pub async fn wait_for(&self, want: impl Fn(&Entry) -> bool) -> Entry {
        let mut rx = self.0.subscribe();
        let mut found = None;
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx
            .wait_for(|entries| {
                found = entries.iter().find(|e| want(e)).cloned();
                found.is_some()
            })
            .await;
        found.unwrap_or_else(|| Entry::Line { who: "journal", text: "the journal was closed".into() })
    }
}
