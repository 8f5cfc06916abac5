//! The two editions on a book of two pages, small enough to read whole: what the Chinese edition
//! translates and what it leaves alone, the switch between the editions, the template, the
//! coverage report, Chinese search, and the gettext workflow (update, split, join).

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]

use std::path::Path;

use duplex::i18n::{self, catalog, search, tools};

const BOOK_TOML: &str = r#"[book]
title = "Tiny"
language = "en"
src = "src"

[output.html]
smart-punctuation = true
"#;

const SUMMARY: &str = "# Summary\n\n[Intro](intro.md)\n\n- [Ends](ends.md)\n";

const INTRO: &str = r#"# Intro

The handshake comes first.

> [!NOTE]
> A note.

<details class="deeper">
<summary>Going deeper: inside</summary>

Deep text.

</details>

```rust
// A comment in code.
let greeting = "a string in code";
```

## Second part

Close codes end it: [ends](ends.md#the-codes).
"#;

const ENDS: &str = "# Ends\n\n## The codes\n\nText about codes.\n";

/// The catalog: some messages translated, one fuzzy (its translation must not be used), some
/// missing.
const ZH_CN_PO: &str = r#"msgid ""
msgstr ""
"Project-Id-Version: Tiny\n"
"POT-Creation-Date: 2026-01-01T00:00:00Z\n"
"PO-Revision-Date: 2026-01-01T00:00:00Z\n"
"Last-Translator: a test\n"
"Language-Team: Chinese (simplified)\n"
"Language: zh_CN\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: src/SUMMARY.md src/intro.md
msgid "Intro"
msgstr "引言"

#: src/intro.md
msgid "The handshake comes first."
msgstr "先是握手。"

#: src/intro.md
msgid "A note."
msgstr "一条注。"

#: src/intro.md
msgid "Going deeper: inside"
msgstr "深入一点：里面"

#: src/intro.md
msgid "Second part"
msgstr "第二部分"

#, fuzzy
#: src/intro.md
msgid "Close codes end it: [ends](ends.md#the-codes)."
msgstr "关闭码结束了它：[结束](ends.md#the-codes)。"

#: src/ends.md
msgid "The codes"
msgstr "关闭码"
"#;

/// The tiny book in a temporary folder.
fn tiny_book() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("book.toml", BOOK_TOML);
    write("src/SUMMARY.md", SUMMARY);
    write("src/intro.md", INTRO);
    write("src/ends.md", ENDS);
    write("po/zh-CN.po", ZH_CN_PO);
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_chinese_edition_translates_prose_and_leaves_code_ids_and_fuzzy_messages_alone() {
    let book = tiny_book();
    let out = tempfile::tempdir().unwrap();
    duplex::book::render(book.path(), out.path()).unwrap();
    let zh = read(&out.path().join("zh/intro.html"));
    assert!(zh.contains("<html lang=\"zh-CN\""), "{zh:.300}");
    assert!(zh.contains("先是握手。"), "a translated paragraph");
    // The heading is translated, its id stays the English one, so `#second-part` links work.
    assert!(
        zh.contains("<h2 id=\"second-part\"><a class=\"header\" href=\"#second-part\">第二部分</a></h2>"),
        "{zh}"
    );
    // The admonition is still one, with its title in Chinese, and its text translated.
    assert!(
        zh.contains("blockquote-tag-note") && zh.contains("</svg>注意</p>") && zh.contains("一条注。"),
        "{zh}"
    );
    // The aside's summary is translated, inside the <summary>.
    assert!(zh.contains("<summary>") && zh.contains("深入一点：里面"), "{zh}");
    // Code is shown as it is.
    assert!(zh.contains("a string in code") && zh.contains("A comment in code."), "{zh}");
    // A fuzzy translation is not used: the English stays until a translator checks it.
    assert!(zh.contains("Close codes end it") && !zh.contains("关闭码结束了它"), "{zh}");
    let en = read(&out.path().join("intro.html"));
    assert!(
        en.contains("The handshake comes first.") && en.contains("<summary>Going deeper: inside</summary>")
    );
}

#[test]
fn every_page_links_to_the_same_page_in_the_other_edition() {
    let book = tiny_book();
    let out = tempfile::tempdir().unwrap();
    duplex::book::render(book.path(), out.path()).unwrap();
    for (page, href) in [
        ("intro.html", "zh/intro.html"),
        ("ends.html", "zh/ends.html"),
        ("zh/intro.html", "../intro.html"),
        ("zh/ends.html", "../ends.html"),
        ("zh/print.html", "../print.html"),
    ] {
        let html = read(&out.path().join(page));
        assert!(
            html.contains(&format!("class=\"duplex-language\" href=\"{href}\"")),
            "{page} should link {href}"
        );
        let target = out.path().join(page).parent().unwrap().join(href);
        assert!(target.is_file(), "{page}'s switch leads to {}", target.display());
    }
}

#[test]
fn the_template_holds_the_prose_and_none_of_the_code() {
    let book = tiny_book();
    let template = catalog::extract(book.path()).unwrap();
    let msgids: Vec<String> = template.messages().map(|m| m.msgid().to_owned()).collect();
    for prose in
        ["Tiny", "Intro", "The handshake comes first.", "A note.", "Going deeper: inside", "Deep text."]
    {
        assert!(msgids.iter().any(|m| m == prose), "the template should hold {prose:?}: {msgids:?}");
    }
    for code in ["comment in code", "string in code", "[!NOTE]", "Summary"] {
        assert!(
            !msgids.iter().any(|m| m.replace('\\', "").contains(code)),
            "the template should not hold {code:?}: {msgids:?}"
        );
    }
    let pages: Vec<String> = template.messages().map(|m| m.source().to_owned()).collect();
    assert!(pages.iter().all(|p| !p.contains(':')), "pages without line numbers: {pages:?}");
}

#[test]
fn the_coverage_report_names_the_missing_messages_their_pages_and_the_fix() {
    let book = tiny_book();
    let coverage = catalog::coverage(book.path()).unwrap();
    assert!(!coverage.is_complete());
    let state = |msgid: &str| coverage.missing.iter().find(|m| m.msgid == msgid).map(|m| m.fuzzy);
    assert_eq!(
        state("Close codes end it: [ends](ends.md#the-codes)."),
        Some(true),
        "fuzzy counts as missing"
    );
    assert_eq!(state("Text about codes."), Some(false));
    assert_eq!(state("The handshake comes first."), None, "translated");
    let report = coverage.report();
    for needle in [
        "book/src/ends.md: 2, 0",
        "book/src/intro.md: 1, 1",
        "book/book.toml: 1, 0",
        "just i18n-update",
        "TRANSLATING.md",
    ] {
        assert!(report.contains(needle), "the report should say {needle:?}:\n{report}");
    }
}

#[test]
fn chinese_search_finds_a_word_by_its_pairs_of_characters() {
    let book = tiny_book();
    let out = tempfile::tempdir().unwrap();
    duplex::book::render(book.path(), out.path()).unwrap();
    let file = search::index_file(&out.path().join("zh")).unwrap().expect("search is on");
    let index = search::read_index(&file).unwrap();
    let found = |query: &str| search::find(&index, query);
    assert!(found("握手").iter().any(|u| u.starts_with("intro.html")), "{:?}", found("握手"));
    assert!(found("关闭码").iter().any(|u| u.starts_with("ends.html#the-codes")), "{:?}", found("关闭码"));
    assert!(found("握").iter().any(|u| u.starts_with("intro.html")), "a lone character");
    assert!(
        found("handshake").is_empty(),
        "the Chinese page no longer says handshake: {:?}",
        found("handshake")
    );
    assert!(found("codes").iter().any(|u| u.starts_with("ends.html")), "English words are still found");
    assert!(std::fs::read_to_string(&file).unwrap().starts_with(search::TOKENIZER_JS));
}

#[test]
fn a_catalog_whose_header_lacks_a_field_is_refused_with_its_name() {
    let book = tiny_book();
    let po = i18n::translation_path(book.path());
    std::fs::write(&po, ZH_CN_PO.replace("\"Plural-Forms: nplurals=1; plural=0;\\n\"\n", "")).unwrap();
    let err = catalog::read(&po).err().expect("refused").to_string();
    assert!(err.contains("Plural-Forms"), "{err}");
    let out = tempfile::tempdir().unwrap();
    let err =
        duplex::book::render(book.path(), out.path()).expect_err("the book is not rendered").to_string();
    assert!(err.contains("Plural-Forms"), "{err}");
}

/// The workflow a translator follows, with gettext's tools: an English change arrives fuzzy with
/// its previous text, a split and a join give back the same translation, and the book reads the
/// parts while the translation is split.
#[test]
#[ignore = "needs gettext's msgmerge, msgattrib and msgcat: `apt-get install gettext` (.ci/run installs it)"]
fn update_marks_a_changed_paragraph_fuzzy_and_split_and_join_keep_every_translation() {
    let book = tiny_book();
    tools::update(book.path()).unwrap();
    assert!(i18n::template_path(book.path()).is_file());
    let translated = |book: &Path| -> Vec<String> {
        let translation = catalog::translation(book).unwrap().unwrap();
        let mut ids: Vec<String> = translation
            .catalog
            .messages()
            .filter(|m| m.is_translated() && !m.is_fuzzy())
            .map(|m| m.msgid().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let before = translated(book.path());
    assert_eq!(before.len(), 6, "{before:?}");

    // An English change: the paragraph comes back fuzzy, with the old English beside it.
    let intro = book.path().join("src/intro.md");
    std::fs::write(&intro, INTRO.replace("The handshake comes first.", "The handshake always comes first."))
        .unwrap();
    tools::update(book.path()).unwrap();
    let po = read(&i18n::translation_path(book.path()));
    assert!(
        po.contains(
            "#, fuzzy\n#| msgid \"The handshake comes first.\"\nmsgid \"The handshake always comes first.\""
        ) || po.contains("#| msgid \"The handshake comes first.\""),
        "{po}"
    );
    let coverage = catalog::coverage(book.path()).unwrap();
    assert!(coverage.missing.iter().any(|m| m.fuzzy && m.msgid == "The handshake always comes first."));

    // Split: one part per chapter, zh-CN.po gone, the book reads the parts.
    let parts = tools::split(book.path()).unwrap();
    let names: Vec<String> =
        parts.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["ends.po", "intro.po", "summary.po"]);
    assert!(!i18n::translation_path(book.path()).exists());
    let split = translated(book.path());
    let out = tempfile::tempdir().unwrap();
    duplex::book::render(book.path(), out.path()).unwrap();
    assert!(read(&out.path().join("zh/ends.html")).contains("关闭码"), "the book reads the parts");

    // Join: the same translation in zh-CN.po, the parts gone.
    tools::join(book.path()).unwrap();
    assert!(!i18n::parts_dir(book.path()).exists());
    assert_eq!(translated(book.path()), split);
}
