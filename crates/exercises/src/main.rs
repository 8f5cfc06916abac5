//! `exercises`: the runner behind `just exercise N`, `just exercises`, `just hint N`, and CI's
//! check that every solution passes and every stub fails.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use exercises::catalog::{EXERCISES, Exercise, Kind, Need, find};

/// Classroom exercises for the Duplex book.
///
/// Each exercise is one file to edit, `crates/exercises/src/exNN_…/stub.rs`: replace its
/// `todo!(…)` with your code. Then run its tests with `just exercise N` (or
/// `cargo run -q -p exercises -- run N`); they say what was expected and why. A few exercises
/// are not in Rust (`stub.mjs` for Node or the browser, `stub.sh` for the shell); they need
/// Node.js, Chromium or curl, and the runner says what to install when one is missing.
///
/// Exit status: `run` and `status` exit 0 when they could run the tests, whether or not the
/// tests pass, because "not yet" is an answer for a learner, not an error (a failing status
/// would also make `just` print "error: Recipe `exercise` failed" under it). They exit 1 when
/// the exercises do not compile. A script that needs a status runs `run N --exit-code`, which
/// exits 1 unless every test passes; `verify` exits 1 on any problem.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show every exercise and whether its tests pass yet (the default).
    Status,
    /// Run exercise N's tests and say what to do next (exits 0 either way; see --exit-code).
    Run {
        /// The exercise's number.
        number: u32,
        /// Exit with status 1 unless every test passes: for scripts, not for learners.
        #[arg(long)]
        exit_code: bool,
    },
    /// Print exercise N's hint.
    Hint {
        /// The exercise's number.
        number: u32,
    },
    /// For CI: every solution passes its tests, and every test fails on its stub.
    Verify,
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command.unwrap_or(Cmd::Status) {
        Cmd::Status => status()?,
        Cmd::Run { number, exit_code } => {
            let done = run(exercise(number)?)?;
            if exit_code && !done {
                return Ok(ExitCode::FAILURE);
            }
        }
        Cmd::Hint { number } => hint(exercise(number)?)?,
        Cmd::Verify => verify()?,
    }
    Ok(ExitCode::SUCCESS)
}

fn exercise(number: u32) -> anyhow::Result<&'static Exercise> {
    find(number)
        .with_context(|| format!("there is no exercise {number}: they are numbered 1 to {}", EXERCISES.len()))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cargo` as the one that runs us, so the same toolchain builds the tests.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// `cargo test -p exercises [--features solutions] --test SLUG -- --ignored ARGS…`.
fn test_command(slug: &str, solutions: bool, args: &[&str]) -> Command {
    let mut command = cargo();
    command.args(["test", "-q", "-p", "exercises"]);
    if solutions {
        command.args(["--features", "solutions"]);
    }
    command.args(["--test", slug, "--", "--ignored"]).args(args);
    command
}

/// The numbers in libtest's `test result: … N passed; M failed` line.
fn counts(output: &str) -> Option<(u32, u32)> {
    let line = output.lines().find(|l| l.starts_with("test result:"))?;
    let number_before = |word: &str| -> Option<u32> {
        let end = line.find(word)?;
        line[..end].trim_end().rsplit(' ').next()?.parse().ok()
    };
    Some((number_before(" passed")?, number_before(" failed")?))
}

fn build_tests() -> anyhow::Result<()> {
    let built = cargo().args(["test", "-q", "-p", "exercises", "--tests", "--no-run"]).status()?;
    if !built.success() {
        bail!("the exercises do not compile yet: the compiler's message above says where");
    }
    Ok(())
}

fn status() -> anyhow::Result<()> {
    build_tests()?;
    println!("{:>3}  {:<52} {:<42} {:>4}  status", "#", "exercise", "chapter", "min");
    let mut done = 0;
    for exercise in EXERCISES {
        let missing = exercise.missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|need| need.program).collect();
            println!(
                "{:>3}  {:<52} {:<42} {:>4}  needs {} (not installed)",
                exercise.number,
                exercise.title,
                exercise.chapter,
                exercise.minutes,
                names.join(", ")
            );
            continue;
        }
        let output = test_command(exercise.slug, false, &[]).stderr(Stdio::null()).output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let (passed, failed) = counts(&text).unwrap_or((0, 0));
        let state = if output.status.success() {
            done += 1;
            "done".to_owned()
        } else {
            format!("not yet ({passed} of {} tests pass)", passed + failed)
        };
        println!(
            "{:>3}  {:<52} {:<42} {:>4}  {state}",
            exercise.number, exercise.title, exercise.chapter, exercise.minutes
        );
    }
    println!("\n{done} of {} done. `just exercise N` runs one; `just hint N` helps.", EXERCISES.len());
    Ok(())
}

/// Runs the exercise's tests and prints what to do next; returns whether every test passed.
fn run(exercise: &Exercise) -> anyhow::Result<bool> {
    println!(
        "Exercise {}: {} (chapter \"{}\", about {} minutes)",
        exercise.number, exercise.title, exercise.chapter, exercise.minutes
    );
    if exercise.kind != Kind::Rust {
        println!("Written in: {}", exercise.kind.language());
    }
    println!("The file to edit: {}\n", exercise.stub_path());
    let missing = exercise.missing();
    if !missing.is_empty() {
        println!("This exercise's tests need programs that are not installed:");
        say_what_to_install(&missing);
        println!("\nInstall them, then run `just exercise {}` again.", exercise.number);
        return Ok(false);
    }
    build_tests()?;
    let output = test_command(exercise.slug, false, &["--test-threads=1", "--format=pretty"])
        .env("RUST_BACKTRACE", "0")
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let results = results(&text);
    for (name, ok) in &results {
        println!("  {} {}", if *ok { "✓" } else { "✗" }, name.replace('_', " "));
        if !ok {
            for line in failure(&text, name) {
                // `thread 'name' (id) panicked at file:line:col:` → `at file:line:col`
                match line.split_once("panicked at ") {
                    Some((_, place)) => println!("        at {}", place.trim_end_matches(':')),
                    None => println!("        {line}"),
                }
            }
        }
    }
    let passed = results.iter().filter(|(_, ok)| *ok).count();
    println!("\n{passed} of {} tests pass.", results.len());
    let done = output.status.success() && !results.is_empty();
    if done {
        match find(exercise.number + 1) {
            Some(next) => println!(
                "Exercise {} is done. Next: `just exercise {}` ({}).",
                exercise.number, next.number, next.title
            ),
            None => println!(
                "Exercise {} is done, and it was the last one. `just exercises` shows them all.",
                exercise.number
            ),
        }
    } else {
        println!(
            "Not yet. Read the first ✗ above: it says what was expected and why. Edit {} and run \
             `just exercise {}` again; `just hint {}` gives a hint.",
            exercise.stub_path(),
            exercise.number,
            exercise.number
        );
    }
    Ok(done)
}

/// Each test's name and whether it passed, from libtest's `test NAME ... ok` lines.
fn results(output: &str) -> Vec<(String, bool)> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|rest| {
            let (name, result) = rest.rsplit_once(" ... ")?;
            Some((name.to_owned(), result == "ok"))
        })
        .collect()
}

/// What a failed test printed (its panic message), without libtest's notes.
fn failure<'a>(output: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!("---- {name} stdout ----");
    let Some(start) = output.find(&marker) else { return Vec::new() };
    output[start + marker.len()..]
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with("---- ") && *line != "failures:")
        .filter(|line| !line.trim().is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect()
}

fn say_what_to_install(missing: &[Need]) {
    for need in missing {
        match need.env {
            Some(env) => println!("  {} (or set {env}): {}", need.program, need.install),
            None => println!("  {}: {}", need.program, need.install),
        }
    }
}

fn hint(exercise: &Exercise) -> anyhow::Result<()> {
    let path = root().join(exercise.hint_path());
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    print!("{text}");
    Ok(())
}

/// The names of an exercise's tests, as libtest lists them.
fn test_names(slug: &str) -> anyhow::Result<Vec<String>> {
    let output = test_command(slug, false, &["--list"]).output()?;
    if !output.status.success() {
        bail!("cannot list the tests of {slug}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect())
}

fn verify() -> anyhow::Result<()> {
    // CI checks every exercise, so a missing program is an error here, not a skip.
    let mut missing: Vec<Need> = EXERCISES.iter().flat_map(Exercise::missing).collect();
    missing.dedup();
    if !missing.is_empty() {
        println!("The exercises not in Rust need programs that are not installed:");
        say_what_to_install(&missing);
        bail!("install them and run `verify` again: it checks every exercise, in every language");
    }
    println!("Every solution passes its tests:");
    let solutions = cargo()
        .args(["test", "-q", "-p", "exercises", "--features", "solutions", "--tests", "--", "--ignored"])
        .status()?;
    if !solutions.success() {
        bail!("a solution fails its tests (output above)");
    }
    build_tests()?;
    println!("\nEvery test fails on its stub (so no exercise is solved by accident and no test is empty):");
    let mut wrong = Vec::new();
    let mut total = 0;
    for exercise in EXERCISES {
        let names = test_names(exercise.slug)?;
        if names.is_empty() {
            wrong.push(format!("{} has no tests", exercise.slug));
        }
        for name in names {
            total += 1;
            let output =
                test_command(exercise.slug, false, &["--exact", &name, "--format=pretty"]).output()?;
            let text = String::from_utf8_lossy(&output.stdout);
            let failed = counts(&text).is_some_and(|(passed, failed)| passed == 0 && failed == 1);
            if !failed {
                wrong.push(format!("{}::{name} does not fail on the stub", exercise.slug));
            }
        }
        println!("  exercise {:>2}: checked", exercise.number);
    }
    if !wrong.is_empty() {
        bail!("{}", wrong.join("\n"));
    }
    println!("\n{} exercises, {total} tests: every solution passes and every stub fails.", EXERCISES.len());
    Ok(())
}
