//! The Chinese edition of the real book (issue 20): the translation keeps up with the English,
//! the template holds prose and no bytes, and the rendered Chinese edition keeps what must not
//! change (transcripts, the headings' ids, the switch to the English) and can be searched in
//! Chinese.
//!
//! `every_message_of_the_english_text_is_translated_in_zh_cn_po` is the "always in step" check.
//! While `book/po/INCOMPLETE` exists it only reports what is missing (run it with
//! `-- --nocapture`, or `just i18n-status`); once that file is deleted it fails on any English
//! message that is untranslated or fuzzy in `book/po/zh-CN.po`, naming the pages and the command
//! that fixes it.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::path::{Path, PathBuf};

use duplex::edition::{CHINESE, ENGLISH};
use duplex::i18n::{self, catalog, search};
use duplex_tests::{book_dir, html_escape, rendered_book, snapshot_body};

#[test]
fn every_message_of_the_english_text_is_translated_in_zh_cn_po() {
    let coverage = catalog::coverage(&book_dir()).unwrap();
    if coverage.is_complete() {
        return;
    }
    let report = coverage.report();
    if i18n::is_incomplete(&book_dir()) {
        // Known to be incomplete: say how far it is, and pass.
        eprintln!(
            "book/po/{} exists, so this test only reports; delete that file to make it strict.\n{report}",
            i18n::INCOMPLETE
        );
    } else {
        panic!("{report}");
    }
}

/// Every `.html` file under `dir`, recursively, sorted.
fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_template_holds_the_prose_and_no_bytes() {
    let template = catalog::extract(&book_dir()).unwrap();
    let msgids: Vec<String> = template.messages().map(|m| m.msgid().to_owned()).collect();
    assert!(msgids.len() > 1000, "the whole book's prose: {} messages", msgids.len());
    let hex_dump = |m: &str| {
        m.split_whitespace()
            .collect::<Vec<_>>()
            .windows(8)
            .any(|w| w.iter().all(|x| x.len() == 2 && x.chars().all(|c| c.is_ascii_hexdigit())))
    };
    for msgid in &msgids {
        assert!(i18n::markdown::has_prose(msgid), "{msgid:?} has nothing to translate");
        assert!(!msgid.contains("{{#"), "an include directive is not prose: {msgid:?}");
        assert!(
            !msgid.starts_with("```") && !msgid.starts_with("~~~"),
            "a code block is not prose: {msgid:?}"
        );
        assert!(
            !msgid.lines().any(|l| l.starts_with("C→S ") || l.starts_with("S→C ") || l.starts_with("───")),
            "a transcript is not prose: {msgid:?}"
        );
        assert!(!hex_dump(msgid), "bytes are not prose: {msgid:?}");
    }
    // What a page shows in prose is there: a heading, an aside's summary, an image's text, a
    // cell of a prose table, a glossary term, the book's title.
    for prose in [
        "How to use this book",
        "Going deeper: what these blocks hold",
        "full duplex",
        "Duplex: HTTP and WebSocket, every byte shown",
        "normal closure",
    ] {
        assert!(msgids.iter().any(|m| m == prose), "the template should hold {prose:?}");
    }
    // An image is a message of its own, whose text the translator writes; its file stays.
    let image = "![Delivery latency and bytes per message for each mode](measured/compare-transports.svg)";
    assert!(msgids.iter().any(|m| m == image), "the template should hold the image {image:?}");
    // What is code or data is not: a comment in a shell listing, a row of a measured table.
    for data in ["with its live demos", "async echo (tokio-tungstenite)", "Sec-WebSocket-Accept: s3pPL"] {
        assert!(!msgids.iter().any(|m| m.contains(data)), "the template should not hold {data:?}");
    }
}

/// The text a reader sees in a page's main column: no code blocks, no inline code, no tags.
fn visible_text(html: &str) -> String {
    let main = html.split("<main").nth(1).and_then(|m| m.split("</main>").next()).unwrap_or(html);
    let mut text = String::new();
    let mut rest = main;
    // Code blocks and inline code are shown as written: a `**` there is data.
    while let Some(start) = rest.find("<code") {
        text.push_str(&rest[..start]);
        rest = rest[start..].split_once("</code>").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Markdown's emphasis needs its `**` to touch a letter on the inside and a space or punctuation
/// on the outside (CommonMark's "flanking" rules). Chinese has no spaces: `**重点。**然后` does
/// not close, and the reader sees the asterisks. So a translation puts the full stop outside
/// (`**重点**。然后`). This checks both editions for asterisks left on the page.
#[test]
fn no_page_of_either_edition_shows_markdown_asterisks() {
    let mut found = Vec::new();
    for page in html_files(rendered_book()) {
        let name = page.strip_prefix(rendered_book()).unwrap().to_string_lossy().into_owned();
        if name.ends_with("print.html") || name.ends_with("404.html") {
            continue;
        }
        let text = visible_text(&std::fs::read_to_string(&page).unwrap());
        if let Some(at) = text.find("**") {
            let from = text[..at].char_indices().rev().nth(30).map_or(0, |(i, _)| i);
            let context: String = text[from..].chars().take(60).collect();
            found.push(format!("{name}: …{}…", context.replace('\n', " ")));
        }
    }
    assert!(
        found.is_empty(),
        "these pages show `**` as text: an emphasis that did not close (in Chinese, put the \
         punctuation outside the `**`, as book/po/TRANSLATING.md says):\n{}",
        found.join("\n")
    );
}

/// The pages of one edition that have a transcript, with the snapshot each shows.
fn pages_with_transcripts() -> Vec<(PathBuf, String)> {
    let src = book_dir().join("src");
    let mut pages = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                for include in text.split("{{#include ").skip(1).filter_map(|r| r.split("}}").next()) {
                    if include.trim().ends_with(".snap") {
                        let name =
                            Path::new(include.trim()).file_stem().unwrap().to_string_lossy().into_owned();
                        let page = path.strip_prefix(&src).unwrap().with_extension("html");
                        pages.push((page, name));
                    }
                }
            }
        }
    }
    pages
}

#[test]
fn the_chinese_edition_shows_every_transcript_byte_for_byte() {
    let pages = pages_with_transcripts();
    assert!(pages.len() > 20, "the book includes its transcripts: {}", pages.len());
    for (page, snapshot) in pages {
        let html = std::fs::read_to_string(CHINESE.root(rendered_book()).join(&page)).unwrap();
        assert!(
            html.contains(&html_escape(&snapshot_body(&snapshot))),
            "zh/{} should show the snapshot {snapshot} exactly as the English does",
            page.display()
        );
    }
}

/// The `id`s of a page's headings, in order.
fn heading_ids(html: &str) -> Vec<String> {
    html.split("<h")
        .skip(1)
        .filter(|rest| rest.starts_with(|c: char| ('1'..='6').contains(&c)))
        .filter_map(|rest| {
            rest.split_once(" id=\"").map(|(_, id)| id.split('"').next().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn the_chinese_headings_keep_the_english_ids() {
    // So that `page.md#english-id` links, and the switch from a section, land in both editions.
    let english = ENGLISH.root(rendered_book());
    let chinese = CHINESE.root(rendered_book());
    let mut checked = 0;
    for page in html_files(&english) {
        let relative = page.strip_prefix(&english).unwrap();
        if relative.starts_with(CHINESE.dir)
            || ["print.html", "toc.html", "404.html"].iter().any(|n| relative.ends_with(n))
        {
            continue;
        }
        let en = heading_ids(&std::fs::read_to_string(&page).unwrap());
        let zh = heading_ids(&std::fs::read_to_string(chinese.join(relative)).unwrap());
        assert_eq!(zh, en, "zh/{} should keep the English page's heading ids", relative.display());
        checked += en.len();
    }
    assert!(checked > 200, "{checked} headings");
}

#[test]
fn every_page_of_both_editions_has_the_switch_to_its_twin() {
    let site = rendered_book();
    let mut checked = 0;
    for page in html_files(site) {
        let html = std::fs::read_to_string(&page).unwrap();
        if !html.contains("<div class=\"right-buttons\">") {
            continue;
        }
        let href = html
            .split("class=\"duplex-language\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{} has no language switch", page.display()));
        let relative = page.strip_prefix(site).unwrap();
        let chinese = relative.starts_with(CHINESE.dir);
        let twin = if chinese {
            relative.strip_prefix(CHINESE.dir).unwrap().to_path_buf()
        } else {
            Path::new(CHINESE.dir).join(relative)
        };
        let name = page.file_name().unwrap().to_string_lossy();
        if name != "404.html" {
            // `..` resolved by hand: the link is relative to the page's folder.
            let mut target = page.parent().unwrap().to_path_buf();
            for part in href.split('/') {
                if part == ".." {
                    target.pop();
                } else {
                    target.push(part);
                }
            }
            assert_eq!(
                target,
                site.join(&twin),
                "{}'s switch {href} should lead to its twin",
                relative.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 150, "both editions' pages: {checked}");
}

#[test]
fn the_chinese_search_index_finds_the_samples_words_on_their_pages() {
    let file = search::index_file(&CHINESE.root(rendered_book())).unwrap().expect("search is on");
    let index = search::read_index(&file).unwrap();
    for (query, page) in [
        ("握手", "glossary.html#handshake"),
        ("握手", "introduction.html"),
        ("心跳", "heartbeat/index.html"),
        ("心跳", "glossary.html#heartbeat"),
        ("关闭码", "heartbeat/endings.html#the-close-codes"),
        ("关闭码", "glossary.html#close-code"),
        ("全双工", "glossary.html#full-duplex"),
    ] {
        let found = search::find(&index, query);
        assert!(
            found.iter().any(|url| url.starts_with(page)),
            "searching {query} should find {page}; it finds {found:?}"
        );
    }
}
