//! The exercises, in order: what the runner lists and the book's pages follow.

use std::path::PathBuf;

/// What an exercise is written in, and so what it needs to run besides cargo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Rust file (`stub.rs`), compiled into this crate.
    Rust,
    /// A Node.js module (`stub.mjs`), loaded by a koa + ws server from `js/`.
    Node,
    /// A browser module (`stub.mjs`), loaded by a page in headless Chromium.
    Browser,
    /// A shell script (`stub.sh`), run by `sh` with curl.
    Shell,
}

/// A program an exercise needs, and how to get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The command, as looked for on the `PATH`.
    pub program: &'static str,
    /// An environment variable that names the program instead (`CHROMIUM`), if any.
    pub env: Option<&'static str>,
    /// What to install when it is missing.
    pub install: &'static str,
}

const NODE: Need = Need {
    program: "node",
    env: Some("NODE"),
    install: "Node.js 20 or later, which brings npm: https://nodejs.org, or `apt-get install nodejs npm`",
};
const NPM: Need = Need { program: "npm", env: None, install: "npm, which comes with Node.js 20 or later" };
const CHROMIUM: Need = Need {
    program: "chromium",
    env: Some("CHROMIUM"),
    install: "Chromium and its WebDriver: `apt-get install chromium chromium-driver` (Debian), or set CHROMIUM",
};
const CHROMEDRIVER: Need = Need {
    program: "chromedriver",
    env: Some("CHROMEDRIVER"),
    install: "chromedriver, for the tests to drive Chromium: `apt-get install chromium-driver`, or set CHROMEDRIVER",
};
const CURL: Need =
    Need { program: "curl", env: None, install: "curl: `apt-get install curl` (macOS has it)" };
const SH: Need = Need { program: "sh", env: None, install: "a POSIX shell, `sh` (every Unix has one)" };

impl Kind {
    /// The extension of its stub and solution files.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Rust => "rs",
            Kind::Node | Kind::Browser => "mjs",
            Kind::Shell => "sh",
        }
    }

    /// The language, in a few words, for the runner and the book.
    pub fn language(self) -> &'static str {
        match self {
            Kind::Rust => "Rust",
            Kind::Node => "JavaScript, in Node",
            Kind::Browser => "JavaScript, in the browser",
            Kind::Shell => "shell, with curl",
        }
    }

    /// The programs its tests need besides cargo.
    pub fn needs(self) -> &'static [Need] {
        match self {
            Kind::Rust => &[],
            Kind::Node => &[NODE, NPM],
            Kind::Browser => &[NODE, NPM, CHROMIUM, CHROMEDRIVER],
            Kind::Shell => &[SH, CURL],
        }
    }
}

impl Need {
    /// Whether the program is there: the file the environment variable names, or the command on
    /// the `PATH`.
    pub fn is_met(&self) -> bool {
        if let Some(path) = self.env.and_then(std::env::var_os) {
            return std::path::Path::new(&path).exists();
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).any(|dir| dir.join(self.program).is_file())
    }
}

/// One exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exercise {
    /// Its number, from 1: `just exercise 3`.
    pub number: u32,
    /// Its folder and test file: `ex03_long_poll`.
    pub slug: &'static str,
    /// What it asks for, in a few words.
    pub title: &'static str,
    /// The chapter it belongs to.
    pub chapter: &'static str,
    /// Roughly how long it takes a learner who has read the chapter.
    pub minutes: u32,
    /// What it is written in.
    pub kind: Kind,
}

impl Exercise {
    /// The file the learner edits, from the workspace root.
    pub fn stub_path(&self) -> String {
        format!("crates/exercises/src/{}/stub.{}", self.slug, self.kind.extension())
    }

    /// Its solution, from the workspace root.
    pub fn solution_path(&self) -> String {
        format!("crates/exercises/src/{}/solution.{}", self.slug, self.kind.extension())
    }

    /// The file the tests of an exercise not in Rust run: the stub, or with the feature
    /// `solutions` the solution, as an absolute path.
    pub fn file_under_test(&self) -> PathBuf {
        let file = if cfg!(feature = "solutions") { self.solution_path() } else { self.stub_path() };
        root().join(file)
    }

    /// The programs it needs that are missing.
    pub fn missing(&self) -> Vec<Need> {
        self.kind.needs().iter().filter(|need| !need.is_met()).copied().collect()
    }

    /// The hint, from the workspace root.
    pub fn hint_path(&self) -> String {
        format!("crates/exercises/src/{}/hint.md", self.slug)
    }
}

/// Every exercise, in the order of the book.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        number: 1,
        slug: "ex01_status_line",
        title: "An HTTP request by hand",
        chapter: "Request and response",
        minutes: 20,
        kind: Kind::Rust,
    },
    Exercise {
        number: 2,
        slug: "ex02_sse_event",
        title: "A Server-Sent Event, byte by byte",
        chapter: "Request and response",
        minutes: 10,
        kind: Kind::Rust,
    },
    Exercise {
        number: 3,
        slug: "ex03_long_poll",
        title: "A long poll that waits",
        chapter: "Request and response",
        minutes: 25,
        kind: Kind::Rust,
    },
    Exercise {
        number: 4,
        slug: "ex04_length_prefix",
        title: "Messages on a byte stream",
        chapter: "Socket versus WebSocket",
        minutes: 25,
        kind: Kind::Rust,
    },
    Exercise {
        number: 5,
        slug: "ex05_accept_key",
        title: "The accept key",
        chapter: "The handshake and frames",
        minutes: 10,
        kind: Kind::Rust,
    },
    Exercise {
        number: 6,
        slug: "ex06_frame_header",
        title: "Reading a frame header",
        chapter: "The handshake and frames",
        minutes: 30,
        kind: Kind::Rust,
    },
    Exercise {
        number: 7,
        slug: "ex07_unmask",
        title: "Unmasking a payload",
        chapter: "The handshake and frames",
        minutes: 10,
        kind: Kind::Rust,
    },
    Exercise {
        number: 8,
        slug: "ex08_close_codes",
        title: "Judging a close frame",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 20,
        kind: Kind::Rust,
    },
    Exercise {
        number: 9,
        slug: "ex09_heartbeat",
        title: "Noticing a dead peer",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 30,
        kind: Kind::Rust,
    },
    Exercise {
        number: 10,
        slug: "ex10_backoff",
        title: "Reconnecting politely",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 15,
        kind: Kind::Rust,
    },
    Exercise {
        number: 11,
        slug: "ex11_broadcast_room",
        title: "A room where a slow client cannot stall the others",
        chapter: "When clients misbehave",
        minutes: 25,
        kind: Kind::Rust,
    },
    Exercise {
        number: 12,
        slug: "ex12_koa_upgrade",
        title: "The koa upgrade check",
        chapter: "Your own stack: koa and ws",
        minutes: 20,
        kind: Kind::Node,
    },
    Exercise {
        number: 13,
        slug: "ex13_browser_console",
        title: "In the browser: readyState, bufferedAmount, close",
        chapter: "Your own stack: koa and ws",
        minutes: 20,
        kind: Kind::Browser,
    },
    Exercise {
        number: 14,
        slug: "ex14_sse_resume",
        title: "Resuming a Server-Sent Events stream with curl",
        chapter: "Request and response",
        minutes: 20,
        kind: Kind::Shell,
    },
];

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The exercise with this number.
pub fn find(number: u32) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_run_from_one_without_gaps_and_every_file_exists() {
        let root = root();
        for (i, exercise) in EXERCISES.iter().enumerate() {
            assert_eq!(exercise.number as usize, i + 1, "{} is out of order", exercise.slug);
            assert!(exercise.slug.starts_with(&format!("ex{:02}_", exercise.number)), "{}", exercise.slug);
            for file in [exercise.stub_path(), exercise.solution_path(), exercise.hint_path()] {
                assert!(root.join(&file).is_file(), "{file} is missing");
            }
            let tests = root.join(format!("crates/exercises/tests/{}.rs", exercise.slug));
            assert!(tests.is_file(), "{} has no tests", exercise.slug);
        }
    }

    #[test]
    fn there_are_at_least_fourteen_and_three_are_not_in_rust() {
        assert!(EXERCISES.len() >= 14, "issue 17 asks for fourteen or more");
        let beyond = EXERCISES.iter().filter(|e| e.kind != Kind::Rust).count();
        assert!(beyond >= 3, "and three beyond Rust: {beyond}");
    }

    /// The book's table of exercises and each exercise's page say what this catalog says, and
    /// every row links both its page and its chapter (a row without links is a dead end).
    #[test]
    fn the_books_exercise_pages_follow_the_catalog() {
        let pages = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src/exercises");
        let read = |name: &str| {
            std::fs::read_to_string(pages.join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
        };
        let index = read("index.md");
        for exercise in EXERCISES {
            let (n, title, chapter, minutes) =
                (exercise.number, exercise.title, exercise.chapter, exercise.minutes);
            let page = format!("ex{n:02}.md");
            let start = format!("| {n} | [{title}]({page}) | [{chapter}](");
            let row = index.lines().find(|line| line.starts_with(&start)).unwrap_or_else(|| {
                panic!("index.md needs a row starting `{start}`: linked title, linked chapter")
            });
            assert!(
                row.ends_with(&format!(" | {minutes} |")),
                "index.md's row {n} should say {minutes} minutes"
            );
            let chapter_link = row[start.len()..].split(')').next().unwrap_or_default();
            assert!(pages.join(chapter_link).is_file(), "row {n} links {chapter_link}, which does not exist");
            let text = read(&page);
            assert!(text.starts_with(&format!("# Exercise {n}: {title}\n")), "{page}'s heading");
            assert!(
                text.contains(&format!("*Chapter: [{chapter}]({chapter_link}). About {minutes} minutes.*")),
                "{page} should name its chapter, linked as in index.md, and {minutes} minutes"
            );
        }
    }
}
