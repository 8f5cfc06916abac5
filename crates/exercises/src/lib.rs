//! # exercises: classroom exercises for the Duplex book
//!
//! Each exercise belongs to a chapter and is one file to edit: a documented function whose body
//! is `todo!()`. Its tests say what was expected and why; its hint nudges without giving the
//! answer; its solution sits next to it and is compiled instead of the stub with
//! `--features solutions`. The book's "Exercises" part shows each stub and, on a separate page,
//! each solution.
//!
//! A learner never runs these tests by hand: `just exercise N` runs exercise N's tests and says
//! what to do next, `just exercises` shows progress, `just hint N` prints the hint. The tests are
//! `#[ignore]`d in a plain `cargo test --workspace`, so the workspace stays green while stubs
//! are unsolved; CI checks both ways that every solution passes and every stub fails.
//!
//! Three exercises are not in Rust, for the web developer's own stack: a koa `'upgrade'` handler
//! (`stub.mjs`, run by Node), a browser module (`stub.mjs`, run in headless Chromium), and a
//! shell script with curl (`stub.sh`). Their tests are Rust all the same, in `tests/`: they
//! start the learner's file (or, with `--features solutions`, the solution) and check what it
//! does from the outside, so the runner, the hints and CI's two-way check treat every exercise
//! alike. The runner says what to install when Node, Chromium or curl is missing.
//!
//! # Layout
//! - [`catalog`]: the list of exercises, with chapter, minutes and language, for the runner and
//!   the book.
//! - `exNN_*/stub.rs`: what the learner edits; `exNN_*/solution.rs`: a solution;
//!   `exNN_*/hint.md`: the hint. The module `exNN_*` is whichever of the two is compiled. For
//!   the exercises not in Rust, `stub.mjs` or `stub.sh` and its solution, which the tests run.
//! - `tests/exNN_*.rs`: each exercise's tests; `tests/support/`: starting Node programs and
//!   Chromium for them.
//! - `src/main.rs`: the runner behind `just exercise`, `just exercises`, `just hint` and CI.

pub mod catalog;

#[cfg_attr(not(feature = "solutions"), path = "ex01_status_line/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex01_status_line/solution.rs")]
pub mod ex01_status_line;

#[cfg_attr(not(feature = "solutions"), path = "ex02_sse_event/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex02_sse_event/solution.rs")]
pub mod ex02_sse_event;

#[cfg_attr(not(feature = "solutions"), path = "ex03_long_poll/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex03_long_poll/solution.rs")]
pub mod ex03_long_poll;

#[cfg_attr(not(feature = "solutions"), path = "ex04_length_prefix/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex04_length_prefix/solution.rs")]
pub mod ex04_length_prefix;

#[cfg_attr(not(feature = "solutions"), path = "ex05_accept_key/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex05_accept_key/solution.rs")]
pub mod ex05_accept_key;

#[cfg_attr(not(feature = "solutions"), path = "ex06_frame_header/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex06_frame_header/solution.rs")]
pub mod ex06_frame_header;

#[cfg_attr(not(feature = "solutions"), path = "ex07_unmask/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex07_unmask/solution.rs")]
pub mod ex07_unmask;

#[cfg_attr(not(feature = "solutions"), path = "ex08_close_codes/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex08_close_codes/solution.rs")]
pub mod ex08_close_codes;

#[cfg_attr(not(feature = "solutions"), path = "ex09_heartbeat/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex09_heartbeat/solution.rs")]
pub mod ex09_heartbeat;

#[cfg_attr(not(feature = "solutions"), path = "ex10_backoff/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex10_backoff/solution.rs")]
pub mod ex10_backoff;

#[cfg_attr(not(feature = "solutions"), path = "ex11_broadcast_room/stub.rs")]
#[cfg_attr(feature = "solutions", path = "ex11_broadcast_room/solution.rs")]
pub mod ex11_broadcast_room;
