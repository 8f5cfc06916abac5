//! The exercises, in order: what the runner lists and the book's pages follow.

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
}

impl Exercise {
    /// The file the learner edits, from the workspace root.
    pub fn stub_path(&self) -> String {
        format!("crates/exercises/src/{}/stub.rs", self.slug)
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
    },
    Exercise {
        number: 2,
        slug: "ex02_sse_event",
        title: "A Server-Sent Event, byte by byte",
        chapter: "Request and response",
        minutes: 10,
    },
    Exercise {
        number: 3,
        slug: "ex03_long_poll",
        title: "A long poll that waits",
        chapter: "Request and response",
        minutes: 25,
    },
    Exercise {
        number: 4,
        slug: "ex04_length_prefix",
        title: "Messages on a byte stream",
        chapter: "Socket versus WebSocket",
        minutes: 25,
    },
    Exercise {
        number: 5,
        slug: "ex05_accept_key",
        title: "The accept key",
        chapter: "The handshake and frames",
        minutes: 10,
    },
    Exercise {
        number: 6,
        slug: "ex06_frame_header",
        title: "Reading a frame header",
        chapter: "The handshake and frames",
        minutes: 30,
    },
    Exercise {
        number: 7,
        slug: "ex07_unmask",
        title: "Unmasking a payload",
        chapter: "The handshake and frames",
        minutes: 10,
    },
    Exercise {
        number: 8,
        slug: "ex08_close_codes",
        title: "Judging a close frame",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 20,
    },
    Exercise {
        number: 9,
        slug: "ex09_heartbeat",
        title: "Noticing a dead peer",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 30,
    },
    Exercise {
        number: 10,
        slug: "ex10_backoff",
        title: "Reconnecting politely",
        chapter: "Heartbeat and every way a connection ends",
        minutes: 15,
    },
    Exercise {
        number: 11,
        slug: "ex11_broadcast_room",
        title: "A room where a slow client cannot stall the others",
        chapter: "When clients misbehave",
        minutes: 25,
    },
];

/// The exercise with this number.
pub fn find(number: u32) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_run_from_one_without_gaps_and_every_file_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (i, exercise) in EXERCISES.iter().enumerate() {
            assert_eq!(exercise.number as usize, i + 1, "{} is out of order", exercise.slug);
            assert!(exercise.slug.starts_with(&format!("ex{:02}_", exercise.number)), "{}", exercise.slug);
            for file in [exercise.stub_path(), exercise.hint_path()] {
                assert!(root.join(&file).is_file(), "{file} is missing");
            }
            let tests = root.join(format!("crates/exercises/tests/{}.rs", exercise.slug));
            assert!(tests.is_file(), "{} has no tests", exercise.slug);
        }
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
