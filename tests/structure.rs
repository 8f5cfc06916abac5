//! The shape of the workspace, checked: the rule that keeps it simple, and the one list of demos.
//!
//! - A chapter crate depends only on the shared layer, never on another chapter, not even for
//!   its tests (`../shared/DESIGN.md`): read from `cargo metadata`, so a new dependency that
//!   breaks the rule fails here, wherever it was added.
//! - `wire`, the codec, has no I/O: no tokio, no socket library, in its normal dependencies.
//! - Every demo a chapter's table lists has a `just` recipe that runs it from the chapter's own
//!   binary, and every such recipe names a demo that exists: the tables, the justfile and
//!   `duplex demo` cannot drift apart.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use duplex_tests::root;

/// The shared layer: what any chapter may depend on.
const SHARED: &[&str] = &["wire", "tap", "guard", "serve"];

/// The chapter crates: each serves one chapter of the book, side by side with the others.
const CHAPTERS: &[&str] = &[
    "http-polling",
    "tcp-socket",
    "ws-by-hand",
    "ws-echo",
    "heartbeat",
    "one-port",
    "proxy",
    "chat",
    "beyond",
];

/// Crates that are neither: they may depend on anything (the book server and its façade, the
/// measurements, the exercises, the end-to-end tests, the Autobahn runner).
const ABOVE: &[&str] = &["duplex", "bench", "exercises", "duplex-tests", "autobahn"];

/// Crates that do I/O or bring an async runtime: none of them may be a normal dependency of the
/// codec.
const IO_CRATES: &[&str] =
    &["tokio", "mio", "socket2", "async-std", "smol", "tokio-util", "tiny_http", "tungstenite"];

/// Every workspace package and the names of its dependencies of each kind (normal, dev, build).
fn workspace() -> BTreeMap<String, Vec<(String, Option<String>)>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap().to_owned();
        let deps = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["name"].as_str().unwrap().to_owned(), d["kind"].as_str().map(str::to_owned)))
            .collect();
        packages.insert(name, deps);
    }
    packages
}

#[test]
fn every_workspace_crate_is_shared_a_chapter_or_above_them() {
    let names: BTreeSet<String> = workspace().into_keys().collect();
    let known: BTreeSet<String> = SHARED.iter().chain(CHAPTERS).chain(ABOVE).map(|s| s.to_string()).collect();
    assert_eq!(
        names, known,
        "a new crate must be placed: shared layer (SHARED), chapter (CHAPTERS) or above both (ABOVE), \
         in tests/structure.rs and in ../shared/DESIGN.md's map"
    );
}

#[test]
fn a_chapter_crate_depends_on_no_other_chapter() {
    let workspace = workspace();
    let mut broken = Vec::new();
    for chapter in CHAPTERS {
        for (dep, kind) in &workspace[*chapter] {
            if CHAPTERS.contains(&dep.as_str()) || ABOVE.contains(&dep.as_str()) {
                let kind = kind.as_deref().unwrap_or("normal");
                broken.push(format!("{chapter} → {dep} ({kind} dependency)"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "a chapter crate may depend only on the shared layer ({SHARED:?}); move what they share into \
         it instead:\n  {}",
        broken.join("\n  ")
    );
}

#[test]
fn the_shared_layer_depends_on_no_chapter() {
    let workspace = workspace();
    for shared in SHARED {
        for (dep, _) in &workspace[*shared] {
            assert!(
                !CHAPTERS.contains(&dep.as_str()) && !ABOVE.contains(&dep.as_str()),
                "the shared crate {shared} depends on {dep}: the layer is below every chapter"
            );
        }
    }
}

#[test]
fn the_codec_has_no_io_and_no_async_runtime() {
    let workspace = workspace();
    let io: Vec<&String> = workspace["wire"]
        .iter()
        .filter(|(dep, kind)| kind.is_none() && IO_CRATES.contains(&dep.as_str()))
        .map(|(dep, _)| dep)
        .collect();
    assert!(
        io.is_empty(),
        "wire is the sans-I/O codec: it turns bytes into frames and events, and sockets live in `tap` \
         and the servers; it must not depend on {io:?}"
    );
}

/// The recipes of the justfile that run a demo from a chapter's binary: (recipe, package, binary,
/// demo).
fn demo_recipes() -> Vec<(String, String, String, String)> {
    let justfile = std::fs::read_to_string(root().join("justfile")).unwrap();
    let mut recipes = Vec::new();
    let mut current = String::new();
    for line in justfile.lines() {
        if !line.starts_with([' ', '\t', '#']) && line.contains(':') {
            current = line.split([' ', ':']).next().unwrap_or_default().to_owned();
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(bin) = words.iter().position(|w| *w == "--bin").map(|i| words[i + 1])
            && bin.ends_with("-demo")
        {
            let package = words.iter().position(|w| *w == "-p").map(|i| words[i + 1]).unwrap();
            let demo = words.iter().position(|w| *w == "--").map(|i| words[i + 1]).unwrap();
            recipes.push((current.clone(), package.to_owned(), bin.to_owned(), demo.to_owned()));
        }
    }
    recipes
}

#[test]
fn every_demo_has_a_recipe_that_runs_it_from_its_chapters_crate() {
    let recipes = demo_recipes();
    let chapters: [(&str, &[tap::Demo]); 9] = [
        ("http-polling", http_polling::demo::DEMOS),
        ("tcp-socket", tcp_socket::demo::DEMOS),
        ("ws-by-hand", ws_by_hand::demo::DEMOS),
        ("ws-echo", ws_echo::demo::DEMOS),
        ("one-port", one_port::demo::DEMOS),
        ("heartbeat", heartbeat::demo::DEMOS),
        ("proxy", proxy::demo::DEMOS),
        ("chat", chat::demo::DEMOS),
        ("beyond", beyond::demo::DEMOS),
    ];
    let mut listed = BTreeSet::new();
    for (package, demos) in chapters {
        for demo in demos {
            listed.insert(demo.name);
            let recipe = recipes.iter().find(|(_, p, _, d)| p == package && d == demo.name);
            let Some((_, _, bin, _)) = recipe else {
                panic!("the demo {:?} of {package} has no recipe in the justfile", demo.name)
            };
            assert_eq!(
                bin,
                &format!("{package}-demo"),
                "a chapter's demos run from its `{package}-demo` binary"
            );
        }
    }
    for (recipe, package, _, demo) in &recipes {
        assert!(
            listed.contains(demo.as_str()),
            "`just {recipe}` runs {demo:?}, which {package} does not list"
        );
    }
    let facade: BTreeSet<&str> = duplex::demos::all().iter().map(|d| d.name).collect();
    assert_eq!(facade, listed, "`duplex demo` knows exactly the chapters' demos");
}
