//! What a page's Markdown becomes before gettext sees it.
//!
//! mdbook-i18n-helpers cuts a page into messages by its Markdown structure. Three things in this
//! book need help first, and each is a plain function from text to text, applied the same way
//! when the template is extracted and when the Chinese edition is rendered (so a message has the
//! same `msgid` in both):
//!
//! - [`prose_only`] (the template only): code blocks and included data tables are left out.
//!   A code block's comments and strings would otherwise become messages, and a transcript
//!   without a language tag would become one big message of bytes. Left out of the template,
//!   they are never translated: the Chinese edition shows them as they are.
//! - [`open_summaries`]: an aside's `<summary>Going deeper: …</summary>` is raw HTML, which
//!   gettext skips; it becomes a paragraph inside the `<summary>`, which it translates.
//! - [`pin_heading_ids`] (the Chinese edition): mdbook makes a heading's `id` from its text, so
//!   a translated heading would get a Chinese id, and every link to `page.md#english-id` would
//!   break. Each heading gets its English id written out, `## Title {#title}`, before it is
//!   translated.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// The Markdown extensions mdbook-i18n-helpers parses with (its `new_cmark_parser`), so that a
/// page splits into the same blocks here as there.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_OLD_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// What stands in the template's copy of a page where a code block or a data table was: an
/// HTML comment, a block that gettext skips and that ends where it starts.
pub const LEFT_OUT: &str = "<!-- left out of the template: code or data -->";

/// `page` without its code blocks and its included data tables, each replaced by [`LEFT_OUT`].
///
/// A data table is a paragraph that is nothing but an include of a file other than Markdown
/// (`{{#include results/echo-32.md.txt}}`): a measured table. An included `.md` file is prose
/// (an exercise's hint) and stays.
pub fn prose_only(page: &str) -> String {
    let mut cuts: Vec<Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(page, options()).into_offset_iter() {
        let cut = match event {
            Event::Start(Tag::CodeBlock(_)) => true,
            Event::Start(Tag::Paragraph) => is_data_include(&page[range.clone()]),
            _ => false,
        };
        if cut {
            cuts.push(range);
        }
    }
    let mut out = String::with_capacity(page.len());
    let mut at = 0;
    for range in cuts {
        if range.start < at {
            continue;
        }
        out.push_str(&page[at..range.start]);
        out.push_str(LEFT_OUT);
        if page[range.clone()].ends_with('\n') {
            out.push('\n');
        }
        at = range.end;
    }
    out.push_str(&page[at..]);
    out
}

/// Whether a paragraph is one `{{#include …}}` of a file that is not Markdown.
fn is_data_include(paragraph: &str) -> bool {
    let text = paragraph.trim();
    let Some(spec) = text.strip_prefix("{{#include ").and_then(|rest| rest.strip_suffix("}}")) else {
        return false;
    };
    let path = spec.trim().split(':').next().unwrap_or_default();
    !spec.contains("{{") && !path.ends_with(".md")
}

/// The byte ranges of `page`'s code blocks.
fn code_blocks(page: &str) -> Vec<Range<usize>> {
    Parser::new_ext(page, options())
        .into_offset_iter()
        .filter_map(|(event, range)| matches!(event, Event::Start(Tag::CodeBlock(_))).then_some(range))
        .collect()
}

/// `page` with each line `<summary>TEXT</summary>` (outside code) opened into
///
/// ```text
/// <summary>
///
/// TEXT
///
/// </summary>
/// ```
///
/// so that `TEXT` is a paragraph, which gettext translates. In the page it renders as a `<p>`
/// inside the `<summary>`; `book/style/book.css` keeps it on the summary's line.
pub fn open_summaries(page: &str) -> String {
    let code = code_blocks(page);
    let mut out = String::with_capacity(page.len() + 64);
    let mut offset = 0;
    for line in page.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let text = line.trim();
        let inner = text.strip_prefix("<summary>").and_then(|rest| rest.strip_suffix("</summary>"));
        match inner {
            Some(inner) if !inner.trim().is_empty() && !code.iter().any(|r| r.contains(&start)) => {
                out.push_str(&format!("<summary>\n\n{}\n\n</summary>\n", inner.trim()));
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The markers of mdbook's admonitions (GitHub's alert blockquotes): `> [!NOTE]` first in a
/// blockquote makes it a note.
const ADMONITIONS: [&str; 5] = ["[!NOTE]", "[!TIP]", "[!IMPORTANT]", "[!WARNING]", "[!CAUTION]"];

/// Whether a message is an admonition's marker alone, which is not translated. The extractor
/// writes brackets escaped (`\[!NOTE\]`), so the backslashes are not part of the comparison.
pub fn is_admonition_marker(msgid: &str) -> bool {
    let unescaped = msgid.trim().replace('\\', "");
    ADMONITIONS.contains(&unescaped.as_str())
}

/// `page` with an empty quoted line after each admonition's marker (`> [!NOTE]`), outside code.
///
/// mdbook-i18n-helpers does not know admonitions: it would read `[!NOTE]` as the first words of
/// the paragraph below it, put them in its message, and write them back on one line with the
/// translation, where mdbook no longer sees a marker. On a paragraph of its own the marker stays
/// as it is (no message has only a marker: [`is_admonition_marker`]), and mdbook's admonition
/// renders as in English.
pub fn open_admonitions(page: &str) -> String {
    let code = code_blocks(page);
    let mut out = String::with_capacity(page.len() + 16);
    let mut offset = 0;
    let mut lines = page.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let start = offset;
        offset += line.len();
        out.push_str(line);
        let Some((quote, marker)) = line.trim_end().split_once('>') else { continue };
        let is_marker = quote.trim().is_empty() && ADMONITIONS.contains(&marker.trim());
        let next_has_text = lines.peek().is_some_and(|next| {
            next.trim_start().strip_prefix('>').is_some_and(|rest| !rest.trim().is_empty())
        });
        if is_marker && next_has_text && !code.iter().any(|r| r.contains(&start)) {
            out.push_str(quote);
            out.push_str(">\n");
        }
    }
    out
}

/// `page`, as mdbook-i18n-helpers wrote it back after translating, with its admonitions' markers
/// restored: it escapes the brackets (`\\[!NOTE\\]`) and starts each blockquote with an empty
/// quoted line, and mdbook sees a marker only unescaped and on its blockquote's first line.
pub fn restore_admonitions(page: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in page.split_inclusive('\n') {
        let (quote, rest) = line.split_once('>').unwrap_or(("x", ""));
        let marker = rest.trim().replace("\\[", "[").replace("\\]", "]");
        if !quote.trim().is_empty() || !ADMONITIONS.contains(&marker.as_str()) {
            lines.push(line.to_owned());
            continue;
        }
        // The empty quoted lines above the marker, up to the blockquote's start, go.
        while lines.last().is_some_and(|above| {
            above.trim_start().starts_with('>') && above.trim().chars().all(|c| c == '>' || c.is_whitespace())
        }) {
            lines.pop();
        }
        let end = if line.ends_with('\n') { "\n" } else { "" };
        lines.push(format!("{quote}> {marker}{end}"));
    }
    lines.concat()
}

/// The step after the `Gettext` preprocessor in the Chinese edition: [`restore_admonitions`] and
/// [`unveil_code_languages`].
pub struct AfterTranslation;

impl mdbook_preprocessor::Preprocessor for AfterTranslation {
    fn name(&self) -> &str {
        "duplex-after-translation"
    }

    fn run(
        &self,
        _ctx: &mdbook_preprocessor::PreprocessorContext,
        mut book: mdbook_preprocessor::book::Book,
    ) -> anyhow::Result<mdbook_preprocessor::book::Book> {
        book.for_each_chapter_mut(|chapter| {
            chapter.content = unveil_code_languages(&restore_admonitions(&chapter.content));
        });
        Ok(book)
    }
}

/// mdbook's admonition titles and what the Chinese edition says instead: mdbook writes the
/// English word into the page (`<p class="blockquote-tag-title"><svg…>…</svg>Note</p>`).
pub const ADMONITION_TITLES: [(&str, &str); 5] =
    [("Note", "注意"), ("Tip", "提示"), ("Important", "重要"), ("Warning", "警告"), ("Caution", "小心")];

/// Replaces the English admonition titles in every HTML page under `root` (the rendered Chinese
/// edition) with [`ADMONITION_TITLES`]' Chinese ones.
pub fn translate_admonition_titles(root: &Path) -> std::io::Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let html = std::fs::read_to_string(&path)?;
            if !html.contains("blockquote-tag-title") {
                continue;
            }
            let mut translated = html.clone();
            for (english, chinese) in ADMONITION_TITLES {
                translated =
                    translated.replace(&format!("</svg>{english}</p>"), &format!("</svg>{chinese}</p>"));
            }
            if translated != html {
                std::fs::write(&path, translated)?;
            }
        }
    }
    Ok(())
}

/// mdbook's id for a heading with this text (`id_from_content` in mdbook-html 0.5): lower case,
/// letters, digits, `_` and `-` kept, whitespace made `-`, the rest dropped.
pub fn id_from_content(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// `page` with an explicit id, `{#id}`, at the end of every ATX heading (`## Title`) that has
/// none: the id mdbook would make from the English text, numbered as mdbook numbers repeats
/// (`-1`, `-2`). `smart_punctuation` is the book's `output.html.smart-punctuation`: mdbook makes
/// ids from the text after it has curled the quotes.
pub fn pin_heading_ids(page: &str, smart_punctuation: bool) -> String {
    let mut options = options();
    if smart_punctuation {
        options.insert(Options::ENABLE_SMART_PUNCTUATION);
    }
    let mut used = HashSet::new();
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut heading: Option<(Range<usize>, String)> = None;
    for (event, range) in Parser::new_ext(page, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id: None, .. }) => heading = Some((range, String::new())),
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, words)) = heading.as_mut() {
                    words.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some((range, words)) = heading.take() else { continue };
                let id = unique_id(&id_from_content(&words), &mut used);
                let source = &page[range.clone()];
                let line = source.split('\n').next().unwrap_or_default();
                if id.is_empty() || !line.trim_start().starts_with('#') {
                    continue;
                }
                inserts.push((range.start + line.trim_end().len(), format!(" {{#{id}}}")));
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(page.len() + 32 * inserts.len());
    let mut at = 0;
    for (position, text) in inserts {
        out.push_str(&page[at..position]);
        out.push_str(&text);
        at = position;
    }
    out.push_str(&page[at..]);
    out
}

/// `id`, or `id-1`, `id-2`… if it is taken (mdbook-html's `unique_id`).
fn unique_id(id: &str, used: &mut HashSet<String>) -> String {
    if used.insert(id.to_owned()) {
        return id.to_owned();
    }
    (1..).map(|n| format!("{id}-{n}")).find(|candidate| used.insert(candidate.clone())).unwrap_or_default()
}

/// A page as the template is extracted from it: summaries and admonitions opened, code and data
/// left out.
pub fn for_template(page: &str) -> String {
    prose_only(&open_admonitions(&open_summaries(page)))
}

/// A page as the Chinese edition translates it: summaries and admonitions opened, headings' ids
/// pinned, code blocks' languages veiled.
pub fn for_translation(page: &str, smart_punctuation: bool) -> String {
    veil_code_languages(&pin_heading_ids(&open_admonitions(&open_summaries(page)), smart_punctuation))
}

/// What [`veil_code_languages`] puts before a code block's language.
pub const VEIL: &str = "duplex-veiled-";

/// `page` with [`VEIL`] before the language of every fenced code block (```` ```rust ```` becomes
/// ```` ```duplex-veiled-rust ````); [`unveil_code_languages`] takes it off after translation.
///
/// mdbook-i18n-helpers translates the strings and comments of a code block in a language it
/// knows, which it finds by parsing every line with syntect: most of the Chinese edition's build
/// time, for nothing, since no code is in the catalog. Under a language it does not know, a block
/// is one unit that is looked up once, not found, and left as it is.
pub fn veil_code_languages(page: &str) -> String {
    let mut inserts: Vec<usize> = Vec::new();
    for (event, range) in Parser::new_ext(page, options()).into_offset_iter() {
        if let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) = event
            && !info.trim().is_empty()
        {
            let fence = &page[range.start..];
            let marks = fence.len() - fence.trim_start_matches(['`', '~']).len();
            let spaces = fence[marks..].len() - fence[marks..].trim_start_matches(' ').len();
            inserts.push(range.start + marks + spaces);
        }
    }
    let mut out = String::with_capacity(page.len() + VEIL.len() * inserts.len());
    let mut at = 0;
    for position in inserts {
        out.push_str(&page[at..position]);
        out.push_str(VEIL);
        at = position;
    }
    out.push_str(&page[at..]);
    out
}

/// `page` without the veils [`veil_code_languages`] put on its code blocks' languages.
pub fn unveil_code_languages(page: &str) -> String {
    page.replace(VEIL, "")
}

/// Whether a message has words to translate: something alphabetic once inline code, link
/// targets and HTML tags are taken out. `` `just ws-echo` ``, `1006` or `[§5.2](…)` have none;
/// the Chinese edition shows them as they are.
pub fn has_prose(msgid: &str) -> bool {
    let mut rest = msgid;
    let mut text = String::new();
    while let Some(c) = rest.chars().next() {
        let skip_to = match c {
            '`' => {
                let ticks = rest.len() - rest.trim_start_matches('`').len();
                let fence = &rest[..ticks];
                rest[ticks..].find(fence).map(|end| ticks + end + ticks)
            }
            '<' => rest.find('>').map(|end| end + 1),
            ']' if rest[1..].starts_with('(') => rest.find(')').map(|end| end + 1),
            _ => None,
        };
        match skip_to {
            Some(end) => rest = &rest[end..],
            None => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    text.chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admonition_marker_is_recognised_escaped_as_the_extractor_writes_it() {
        assert!(is_admonition_marker("[!NOTE]"));
        assert!(is_admonition_marker("\\[!WARNING\\]"));
        assert!(!is_admonition_marker("\\[!NOTE\\] and more words"));
    }

    #[test]
    fn code_blocks_and_data_tables_are_left_out_and_prose_stays() {
        let page = "# Title\n\nSome prose.\n\n```rust\n// a comment\nlet s = \"text\";\n```\nAfter the code.\n\n\
                    {{#include results/echo-32.md.txt}}\n\n{{#include ../hint.md}}\n\n- item\n\n  ```text\n  C→S GET /\n  ```\n- next\n";
        let prose = prose_only(page);
        assert_eq!(
            prose,
            format!(
                "# Title\n\nSome prose.\n\n{LEFT_OUT}\nAfter the code.\n\n{LEFT_OUT}\n\n{{{{#include ../hint.md}}}}\n\n\
                 - item\n\n  {LEFT_OUT}\n- next\n"
            )
        );
    }

    #[test]
    fn a_summary_line_becomes_a_paragraph_and_one_in_code_does_not() {
        let page = "<details class=\"deeper\">\n<summary>Going deeper: the close helper</summary>\n\nText.\n\n</details>\n\n\
                    ```html\n<summary>Going deeper: code</summary>\n```\n";
        assert_eq!(
            open_summaries(page),
            "<details class=\"deeper\">\n<summary>\n\nGoing deeper: the close helper\n\n</summary>\n\nText.\n\n</details>\n\n\
             ```html\n<summary>Going deeper: code</summary>\n```\n"
        );
    }

    #[test]
    fn an_admonitions_marker_gets_a_paragraph_of_its_own() {
        let page =
            "> [!NOTE]\n> The note.\n\n  > [!WARNING]\n  > Careful.\n\n```md\n> [!NOTE]\n> code\n```\n";
        assert_eq!(
            open_admonitions(page),
            "> [!NOTE]\n>\n> The note.\n\n  > [!WARNING]\n  >\n  > Careful.\n\n```md\n> [!NOTE]\n> code\n```\n"
        );
        assert!(is_admonition_marker("[!NOTE]") && !is_admonition_marker("[!NOTE] The note."));
    }

    #[test]
    fn an_admonitions_marker_is_restored_after_translation() {
        let written = " > \n > \\[!NOTE\\]\n > \n > 注意。\n\nText.\n\n > \n > quoted\n";
        assert_eq!(restore_admonitions(written), " > [!NOTE]\n > \n > 注意。\n\nText.\n\n > \n > quoted\n");
    }

    #[test]
    fn code_languages_are_veiled_for_translation_and_unveiled_after() {
        let page = "Text.\n\n```rust,ignore\nfn main() {}\n```\n\n````  md\n```\n````\n\n```\nplain\n```\n";
        let veiled = veil_code_languages(page);
        assert_eq!(
            veiled,
            "Text.\n\n```duplex-veiled-rust,ignore\nfn main() {}\n```\n\n````  duplex-veiled-md\n```\n````\n\n```\nplain\n```\n"
        );
        assert_eq!(unveil_code_languages(&veiled), page);
    }

    #[test]
    fn headings_get_the_ids_mdbook_would_give_the_english() {
        let page = "# Heartbeat\n\n## Node's `ws` -- why\n\n## Heartbeat\n\n## Explicit {#kept}\n\n```md\n# not a heading\n```\n";
        assert_eq!(
            pin_heading_ids(page, true),
            "# Heartbeat {#heartbeat}\n\n## Node's `ws` -- why {#nodes-ws--why}\n\n## Heartbeat {#heartbeat-1}\n\n\
             ## Explicit {#kept}\n\n```md\n# not a heading\n```\n"
        );
    }

    #[test]
    fn messages_of_code_numbers_and_links_alone_have_no_prose() {
        for none in
            ["`just ws-echo`", "`just http-poll`, `just long-poll`", "1006", "[§5.2](https://x/y)", "<br>"]
        {
            assert!(!has_prose(none), "{none:?} has nothing to translate");
        }
        for some in ["Try it live", "RFC 6455 §5.2", "[Glossary](glossary.md)", "`send()` throws", "握手"]
        {
            assert!(has_prose(some), "{some:?} has words to translate");
        }
    }
}
