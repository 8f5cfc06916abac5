//! The catalogs: the template made from the current English text ([`extract`]), the translation
//! as the Chinese edition reads it ([`translation`]), and how much of the one the other covers
//! ([`coverage`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use mdbook_driver::book::BookItem;
use mdbook_i18n_helpers::renderers::Xgettext;
use polib::catalog::Catalog;
use polib::message::{Message, MessageView};
use polib::metadata::CatalogMetadata;

use super::{I18nError, Scratch, markdown, parts_dir, template_path, translation_path};

/// Where a message comes from when it is not a page: the book's title and description.
pub const BOOK_TOML: &str = "book.toml";

/// The messages of the current English text, as mdbook-i18n-helpers' `Xgettext` renderer
/// extracts them from the book prepared by [`markdown::for_template`], less the messages with
/// nothing to translate ([`markdown::has_prose`]), plus the book's title and description.
///
/// A message's `source` names the pages it is on (`src/echo/index.md`), without line numbers:
/// included code shifts them, and they would change the template at every edit above.
pub fn extract(book_dir: &Path) -> Result<Catalog, I18nError> {
    let scratch = Scratch::new("xgettext")?;
    let mut book = crate::book::load(book_dir, |config| {
        config.book.language = None;
        config.build.build_dir = scratch.path().to_path_buf();
        Ok(())
    })?;
    let mdbook_error = |e: anyhow::Error| {
        I18nError::Book(crate::book::BookError::Mdbook {
            dir: book_dir.to_path_buf(),
            message: format!("{e:#}"),
        })
    };
    book.config.set("output.xgettext.granularity", 0).map_err(mdbook_error)?;
    book.book.for_each_chapter_mut(|chapter| chapter.content = markdown::for_template(&chapter.content));
    book.execute_build_process(&Xgettext).map_err(mdbook_error)?;
    let extracted = read(&scratch.path().join(super::TEMPLATE))?;
    let mut template = Catalog::new(header(&extracted.metadata));
    for (what, text) in [("title", &book.config.book.title), ("description", &book.config.book.description)] {
        if let Some(text) = text {
            template.append_or_update(
                Message::build_singular()
                    .with_msgid(text.clone())
                    .with_source(BOOK_TOML.to_owned())
                    .with_comments(format!("The book's {what}."))
                    .done(),
            );
        }
    }
    // SUMMARY.md is not a page of the book: only its chapters' names and its parts' titles are
    // shown (in the table of contents). Its heading and the run of the first chapters' links
    // (one paragraph, one message) are not.
    let squash = |text: &str| text.replace(['`', '*', '_', '\\'], "");
    let names: HashSet<String> = book
        .book
        .iter()
        .filter_map(|item| match item {
            BookItem::Chapter(chapter) => Some(squash(&chapter.name)),
            BookItem::PartTitle(title) => Some(squash(title)),
            _ => None,
        })
        .collect();
    let shown = |m: &dyn MessageView| {
        let summary_only = m.source().split_whitespace().all(|s| s.ends_with("SUMMARY.md"));
        !summary_only || names.contains(&squash(m.msgid()))
    };
    for message in extracted
        .messages()
        .filter(|m| markdown::has_prose(m.msgid()) && !markdown::is_admonition_marker(m.msgid()) && shown(*m))
    {
        template.append_or_update(owned(message));
    }
    Ok(template)
}

/// Writes `template` to `book/po/messages.pot`, unless the file there already holds the same
/// messages (then only its date would change). Returns whether it wrote.
pub fn write_template(book_dir: &Path, template: &Catalog) -> Result<bool, I18nError> {
    let path = template_path(book_dir);
    if path.is_file() && same_messages(&read(&path)?, template) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|source| I18nError::Write { path: dir.to_path_buf(), source })?;
    }
    polib::po_file::write(template, &path)
        .map_err(|source| I18nError::Write { path: path.clone(), source })?;
    Ok(true)
}

/// Whether two catalogs hold the same messages, from the same pages, in the same order.
fn same_messages(a: &Catalog, b: &Catalog) -> bool {
    let key = |c: &Catalog| -> Vec<(String, String, String)> {
        c.messages()
            .map(|m| {
                (
                    m.msgid().to_owned(),
                    m.source().split_whitespace().collect::<Vec<_>>().join(" "),
                    m.comments().to_owned(),
                )
            })
            .collect()
    };
    key(a) == key(b)
}

/// A copy of a catalog's header (polib's has no `Clone`).
pub(crate) fn header(metadata: &CatalogMetadata) -> CatalogMetadata {
    CatalogMetadata::parse(&metadata.export_for_po()).unwrap_or_default()
}

/// A copy of a singular message (polib's `to_owned` wants a `'static` view).
pub(crate) fn owned(message: &dyn MessageView) -> Message {
    Message::build_singular()
        .with_comments(message.comments().to_owned())
        .with_source(message.source().to_owned())
        .with_flags(message.flags().clone())
        .with_msgctxt(message.msgctxt().to_owned())
        .with_msgid(message.msgid().to_owned())
        .with_msgstr(message.msgstr().unwrap_or_default().to_owned())
        .done()
}

/// The header fields polib needs: it panics on a catalog without one of them, so [`read`] checks
/// first. gettext's tools write them all; a hand-made or editor-trimmed header may not.
pub const HEADER_FIELDS: [&str; 9] = [
    "Project-Id-Version",
    "POT-Creation-Date",
    "PO-Revision-Date",
    "Language-Team",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Language",
    "Plural-Forms",
];

/// Reads a catalog, after checking that its header has every field polib needs.
pub fn read(path: &Path) -> Result<Catalog, I18nError> {
    let error = |message: String| I18nError::Read { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    // The header is the first entry: `msgid ""`, then `msgstr ""` and its quoted lines.
    let header = text.split("\n\n").next().unwrap_or_default();
    let missing: Vec<&str> =
        HEADER_FIELDS.iter().copied().filter(|field| !header.contains(&format!("\"{field}:"))).collect();
    if !missing.is_empty() {
        return Err(error(format!(
            "its header lacks {} (gettext's msginit writes a complete one; copy it from messages.pot)",
            missing.join(", ")
        )));
    }
    polib::po_file::parse(path).map_err(|e| error(e.to_string()))
}

/// The translation as the Chinese edition reads it.
pub struct Translation {
    /// Every message, translated or not.
    pub catalog: Catalog,
    /// Where it was read from: `book/po/zh-CN.po`, or the folder of its parts.
    pub from: PathBuf,
    /// A split translation joined into one file, for the `Gettext` preprocessor to read.
    joined: Option<Scratch>,
}

impl Translation {
    /// The folder holding the joined file `zh-CN.po`, for a split translation (the `po-dir` the
    /// `Gettext` preprocessor is given); `None` when `book/po/zh-CN.po` itself is the translation.
    pub fn po_dir(&self) -> Option<&Path> {
        self.joined.as_ref().map(Scratch::path)
    }
}

/// The translation: the union of `book/po/zh-CN/*.po` while that folder exists (translators are
/// working on parts of it), otherwise `book/po/zh-CN.po`, otherwise none.
pub fn translation(book_dir: &Path) -> Result<Option<Translation>, I18nError> {
    let parts = parts_dir(book_dir);
    if parts.is_dir() {
        let catalog = union(&parts)?;
        let scratch = Scratch::new("po")?;
        let path = scratch.path().join(format!("{}.po", super::LANGUAGE));
        polib::po_file::write(&catalog, &path).map_err(|source| I18nError::Write { path, source })?;
        return Ok(Some(Translation { catalog, from: parts, joined: Some(scratch) }));
    }
    let path = translation_path(book_dir);
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(Translation { catalog: read(&path)?, from: path, joined: None }))
}

/// The `.po` files in `dir`, sorted.
pub fn part_files(dir: &Path) -> Result<Vec<PathBuf>, I18nError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| I18nError::Read { path: dir.to_path_buf(), message: e.to_string() })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "po"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every message of the parts in `dir`, in one catalog with the first part's header. A message in
/// two parts is a conflict, unless both say the same.
pub fn union(dir: &Path) -> Result<Catalog, I18nError> {
    let files = part_files(dir)?;
    let mut catalog: Option<Catalog> = None;
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let part = read(&file)?;
        let catalog = catalog.get_or_insert_with(|| Catalog::new(header(&part.metadata)));
        for message in part.messages() {
            if let Some(first) = owner.get(message.msgid()) {
                let before = catalog.find_message(None, message.msgid(), None);
                let same = before.is_some_and(|b| b.msgstr().ok() == message.msgstr().ok());
                if !same && message.is_translated() {
                    return Err(I18nError::Conflict {
                        msgid: message.msgid().to_owned(),
                        first: first.clone(),
                        second: file.clone(),
                    });
                }
                continue;
            }
            owner.insert(message.msgid().to_owned(), file.clone());
            catalog.append_or_update(owned(message));
        }
    }
    catalog.ok_or_else(|| I18nError::Missing(format!("{} holds no .po file", dir.display())))
}

/// The part a message belongs to when the translation is split: its first page's chapter, the
/// folder under `src/` (`src/heartbeat/endings.md` → `heartbeat`), or the page itself for a page
/// at the top (`src/introduction.md` → `introduction`). The chapters' titles (`SUMMARY.md`) and
/// the book's title go to `summary`.
pub fn part_of(source: &str) -> String {
    let first = source.split_whitespace().next().unwrap_or_default();
    let path = first.strip_prefix("src/").unwrap_or(first);
    let path = path.split(':').next().unwrap_or_default();
    let name = match path.split_once('/') {
        Some((chapter, _)) => chapter,
        None => path.strip_suffix(".md").unwrap_or(path),
    };
    if name.is_empty() || name == "SUMMARY" || first == BOOK_TOML {
        "summary".to_owned()
    } else {
        name.to_owned()
    }
}

/// A message of the English text that the translation does not give yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The English.
    pub msgid: String,
    /// The pages it is on (`src/echo/index.md`).
    pub pages: Vec<String>,
    /// True when the translation has it, marked fuzzy: the English changed since it was
    /// translated, and a translator must check it.
    pub fuzzy: bool,
}

/// How much of the current English text the translation covers.
#[derive(Clone, Debug)]
pub struct Coverage {
    /// Messages in the current English text.
    pub messages: usize,
    /// Those the translation does not give: untranslated or fuzzy.
    pub missing: Vec<Missing>,
    /// Where the translation was read from (none: there is no translation yet).
    pub from: Option<PathBuf>,
}

/// The translation ([`translation`]) against the current English text ([`extract`]).
pub fn coverage(book_dir: &Path) -> Result<Coverage, I18nError> {
    let english = extract(book_dir)?;
    let translation = translation(book_dir)?;
    let mut missing = Vec::new();
    for message in english.messages() {
        let found = translation.as_ref().and_then(|t| t.catalog.find_message(None, message.msgid(), None));
        let fuzzy = match found {
            Some(m) if m.is_translated() && !m.is_fuzzy() => continue,
            Some(m) => m.is_translated() && m.is_fuzzy(),
            None => false,
        };
        missing.push(Missing {
            msgid: message.msgid().to_owned(),
            pages: message.source().split_whitespace().map(str::to_owned).collect(),
            fuzzy,
        });
    }
    Ok(Coverage { messages: english.count(), missing, from: translation.map(|t| t.from) })
}

impl Coverage {
    /// Whether every message is translated and none is fuzzy.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// For each page with something missing: (untranslated, fuzzy) counts.
    pub fn by_page(&self) -> BTreeMap<String, (usize, usize)> {
        let mut pages: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for missing in &self.missing {
            for page in &missing.pages {
                let counts = pages.entry(page.clone()).or_default();
                if missing.fuzzy {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
        }
        pages
    }

    /// What is missing, page by page, and what to do about it.
    pub fn report(&self) -> String {
        let fuzzy = self.missing.iter().filter(|m| m.fuzzy).count();
        let untranslated = self.missing.len() - fuzzy;
        let from =
            self.from.as_ref().map_or_else(|| "no translation yet".to_owned(), |p| p.display().to_string());
        let mut out = format!(
            "The Chinese translation ({from}) gives {} of the {} messages of the current English text: \
             {untranslated} untranslated, {fuzzy} fuzzy (changed in English since they were translated).\n",
            self.messages - self.missing.len(),
            self.messages,
        );
        if self.is_complete() {
            return out;
        }
        out.push_str("\nPages with messages to translate (untranslated, fuzzy):\n");
        for (page, (untranslated, fuzzy)) in self.by_page() {
            out.push_str(&format!("  book/{page}: {untranslated}, {fuzzy}\n"));
        }
        out.push_str("\nThe first of them:\n");
        for missing in self.missing.iter().take(5) {
            let text: String = missing.msgid.chars().take(100).collect();
            let more = if missing.msgid.chars().count() > 100 { "…" } else { "" };
            let state = if missing.fuzzy { "fuzzy" } else { "untranslated" };
            out.push_str(&format!("  {state}: {text:?}{more}\n"));
        }
        out.push_str(
            "\nTo fix it: run `just i18n-update` (it extracts book/po/messages.pot from the English and merges it \
             into book/po/zh-CN.po), translate the messages of these pages in book/po/zh-CN.po (or in \
             book/po/zh-CN/<chapter>.po while the translation is split), delete the `#, fuzzy` line of each \
             message you have checked, and commit the English change and its translation together. \
             book/po/TRANSLATING.md explains the workflow; `just i18n-status` prints this report.\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_belongs_to_the_chapter_of_its_first_page() {
        assert_eq!(part_of("src/heartbeat/endings.md"), "heartbeat");
        assert_eq!(part_of("src/introduction.md src/glossary.md"), "introduction");
        assert_eq!(part_of("src/SUMMARY.md src/echo/index.md"), "summary");
        assert_eq!(part_of("book.toml"), "summary");
        assert_eq!(part_of("src/heartbeat/endings.md:12"), "heartbeat");
    }
}
