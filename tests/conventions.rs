//! Conventions of the workspace that no compiler checks, checked here so that a new file cannot
//! quietly break them. The binaries and their sources come from `cargo metadata`, which is what
//! cargo itself builds.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use duplex_tests::root;

/// A target of the workspace, as `cargo metadata` lists it.
struct Target {
    package: String,
    name: String,
    kinds: Vec<String>,
    source: PathBuf,
}

/// Every target of every package in the workspace.
fn targets() -> Vec<Target> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--offline", "--format-version", "1", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            found.push(Target {
                package: package["name"].as_str().unwrap().to_owned(),
                name: target["name"].as_str().unwrap().to_owned(),
                kinds: target["kind"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect(),
                source: PathBuf::from(target["src_path"].as_str().unwrap()),
            });
        }
    }
    found
}

/// Binaries that do not set up the log, and why that is right for them.
const WITHOUT_A_LOG: &[(&str, &str)] =
    &[("exercises", "it runs cargo and prints; it depends on no crate that logs")];

#[test]
fn every_binary_logs_through_guard_logging_so_a_pipe_gets_no_colour_codes() {
    let binaries: Vec<Target> =
        targets().into_iter().filter(|t| t.kinds.iter().any(|k| k == "bin")).collect();
    assert!(binaries.len() > 10, "cargo metadata should list the workspace's binaries");
    let mut missing = Vec::new();
    for bin in &binaries {
        let source = std::fs::read_to_string(&bin.source).unwrap();
        // A demo's `main` is `tap::demo::main`, which sets the log up for it.
        let logs = source.contains("guard::logging::init(") || source.contains("tap::demo::main(");
        if !logs && !WITHOUT_A_LOG.iter().any(|(name, _)| *name == bin.name) {
            missing.push(format!("{} (package {}): {}", bin.name, bin.package, bin.source.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "every binary calls `guard::logging::init` first, which writes to stderr, honours RUST_LOG, \
         and colours only a terminal (never a file or a pipe, never with NO_COLOR); or it is in \
         WITHOUT_A_LOG with a reason. These do neither:\n{}",
        missing.join("\n")
    );
}

#[test]
fn only_guard_logging_sets_up_a_subscriber_outside_tests() {
    let mut found = Vec::new();
    let sources = root().join("crates");
    let mut dirs = vec![sources];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // A crate's own tests may capture the log as they need; its `src` may not.
                if !path.ends_with("tests") && !path.ends_with("target") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("guard/src/logging.rs")
                && std::fs::read_to_string(&path).unwrap().contains("tracing_subscriber")
            {
                found.push(path.display().to_string());
            }
        }
    }
    assert!(
        found.is_empty(),
        "these set up tracing themselves; call `guard::logging::init` instead, so that every \
         binary colours its log only on a terminal:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_rust_file_in_tests_is_a_test_target() {
    // `tests/` is a package of its own whose test files sit at its root, where cargo does not
    // look for them (it looks in `tests/tests/`): each must be a `[[test]]` in tests/Cargo.toml,
    // and one that is not is never compiled, let alone run, and nothing says so.
    let targets: Vec<PathBuf> = targets()
        .into_iter()
        .filter(|t| t.package == "duplex-tests" && t.kinds.iter().any(|k| k == "test"))
        .map(|t| t.source.canonicalize().unwrap())
        .collect();
    assert!(!targets.is_empty(), "cargo metadata should list duplex-tests' test targets");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !targets.contains(&path.canonicalize().unwrap()) {
            missing.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "these test files are not `[[test]]` targets in tests/Cargo.toml, so cargo never builds \
         them; add `[[test]]` with `name` and `path` for each: {missing:?}"
    );
}

/// The rows of `vendor/tiny_http/PATCHES.md`'s table: each patch's number and its last column
/// (the tests that check it).
fn patch_rows() -> Vec<(u32, String)> {
    let table = std::fs::read_to_string(root().join("vendor/tiny_http/PATCHES.md")).unwrap();
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| ")?.split(" | ").collect();
            let number = cells.first()?.trim().parse().ok()?;
            Some((number, cells.last()?.to_string()))
        })
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") {
                found.extend(rust_files(&path));
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

#[test]
fn every_tiny_http_patch_is_marked_in_the_source_and_every_marker_is_in_the_table() {
    let rows: BTreeSet<u32> = patch_rows().into_iter().map(|(number, _)| number).collect();
    assert!(rows.len() > 10, "PATCHES.md should have its table of patches: {rows:?}");
    // `DUPLEX PATCH (PATCHES.md, 2)`, `(PATCHES.md, 2, 7)`, `(PATCHES.md, 2 and 14)`.
    let mut marked = BTreeSet::new();
    for file in rust_files(&root().join("vendor/tiny_http/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for rest in text.split("DUPLEX PATCH (PATCHES.md, ").skip(1) {
            let numbers = rest.split(')').next().unwrap_or_default();
            for number in numbers.split([',', ' ']).filter(|n| !n.is_empty() && *n != "and") {
                let number: u32 = number
                    .parse()
                    .unwrap_or_else(|_| panic!("{}: a marker names patch {number:?}", file.display()));
                assert!(rows.contains(&number), "{}: patch {number} is not in PATCHES.md", file.display());
                marked.insert(number);
            }
        }
    }
    let unmarked: Vec<&u32> = rows.difference(&marked).collect();
    assert!(
        unmarked.is_empty(),
        "PATCHES.md says every change is marked `DUPLEX PATCH (PATCHES.md, N)` in the source; \
         these patches are not: {unmarked:?}"
    );
}

#[test]
fn every_test_the_tiny_http_patch_table_names_exists() {
    let mut sources = String::new();
    for dir in [root().join("tests"), root().join("crates"), root().join("vendor/tiny_http")] {
        for file in rust_files(&dir) {
            sources.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    let mut checked = 0;
    for (number, tests) in patch_rows() {
        // Test names are the backticked words made of lower case and underscores.
        for name in tests.split('`').skip(1).step_by(2) {
            if name.contains('_')
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                assert!(
                    sources.contains(&format!("fn {name}(")),
                    "PATCHES.md's row {number} names the test `{name}`, which does not exist"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 15, "PATCHES.md's table should name its tests; found {checked}");
}

#[test]
fn every_cargo_run_in_the_justfile_names_a_binary_that_exists() {
    let justfile = std::fs::read_to_string(root().join("justfile")).unwrap();
    let binaries: Vec<Target> =
        targets().into_iter().filter(|t| t.kinds.iter().any(|k| k == "bin")).collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (number, line) in justfile.lines().enumerate() {
        let Some(command) = line.split("cargo run ").nth(1) else { continue };
        // Only the part before `--`: what follows is the program's own arguments.
        let words: Vec<&str> = command.split(" -- ").next().unwrap_or_default().split_whitespace().collect();
        let after =
            |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).copied();
        let Some(package) = after("-p") else { continue };
        let of_package: Vec<&Target> = binaries.iter().filter(|t| t.package == package).collect();
        let ok = match after("--bin") {
            Some(bin) => of_package.iter().any(|t| t.name == bin),
            // Without --bin, cargo runs the package's only binary, and refuses to guess between two.
            None => of_package.len() == 1,
        };
        if !ok {
            let names: Vec<&str> = of_package.iter().map(|t| t.name.as_str()).collect();
            wrong.push(format!("justfile:{}: {} (package {package} has {names:?})", number + 1, line.trim()));
        }
        checked += 1;
    }
    assert!(checked > 20, "the justfile's recipes should run cargo; found {checked}");
    assert!(wrong.is_empty(), "these recipes would fail with \"no bin target\":\n{}", wrong.join("\n"));
}
