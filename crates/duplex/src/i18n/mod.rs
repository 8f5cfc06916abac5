//! The Chinese edition's translation workflow, with gettext (issue 20).
//!
//! The English text is cut into *messages*, one per paragraph, heading, list item, table cell
//! or image description, by mdbook-i18n-helpers' `Xgettext` renderer: they make the template
//! `book/po/messages.pot`. The translation, `book/po/zh-CN.po`, pairs each message with its
//! Chinese, and the `Gettext` preprocessor puts the Chinese in place of the English when the
//! Chinese edition is rendered ([`crate::book`]). Code, transcripts and measured tables are left
//! out of the template ([`markdown::prose_only`]): they are bytes and data, the same in both
//! editions.
//!
//! When the English changes, `just i18n-update` extracts the template again and merges it into
//! the translation (`msgmerge`): a new paragraph arrives untranslated, a changed one *fuzzy*, with
//! the old English beside it (`#| msgid`), so a translator sees exactly what changed. The test
//! `tests/i18n.rs` names every message of the current English that is untranslated or fuzzy, and
//! fails on them once the file `book/po/INCOMPLETE` is gone ([`is_incomplete`]).
//!
//! Several translators work at once on parts of the catalog: `just i18n-split` cuts `zh-CN.po`
//! into one file per chapter under `book/po/zh-CN/`, and `just i18n-join` puts them back
//! ([`tools`]). `book/po/TRANSLATING.md` is the translators' guide.
//!
//! # Layout
//! - [`markdown`]: what a page's Markdown becomes before gettext sees it: code left out of the
//!   template, the asides' summaries made translatable, the headings' ids pinned to the English.
//! - [`catalog`]: the template from the current English text, the translation in use, and how
//!   much of the English it covers.
//! - [`tools`]: `duplex i18n update|split|join`, with gettext's `msgmerge` and `msgattrib`.
//! - [`search`]: search for the Chinese edition, which indexes Chinese by pairs of characters.

use std::path::{Path, PathBuf};

pub mod catalog;
pub mod markdown;
pub mod search;
pub mod tools;

/// The translated edition's language: its catalog is `po/zh-CN.po`.
pub const LANGUAGE: &str = crate::edition::CHINESE.language;

/// The folder of the catalogs, in the book's folder (mdbook-i18n-helpers' default `po-dir`).
pub const PO_DIR: &str = "po";

/// The template's file name in [`PO_DIR`].
pub const TEMPLATE: &str = "messages.pot";

/// While this file is in [`PO_DIR`], the translation is known to be incomplete: the coverage test
/// reports what is missing instead of failing. The lead deletes it when the translation is done.
pub const INCOMPLETE: &str = "INCOMPLETE";

/// `book/po`.
pub fn po_dir(book_dir: &Path) -> PathBuf {
    book_dir.join(PO_DIR)
}

/// `book/po/messages.pot`.
pub fn template_path(book_dir: &Path) -> PathBuf {
    po_dir(book_dir).join(TEMPLATE)
}

/// `book/po/zh-CN.po`: the translation, when it is one file.
pub fn translation_path(book_dir: &Path) -> PathBuf {
    po_dir(book_dir).join(format!("{LANGUAGE}.po"))
}

/// `book/po/zh-CN/`: the translation cut into one file per chapter, while translators work on
/// it in parallel. While this folder exists it *is* the translation ([`catalog::translation`]).
pub fn parts_dir(book_dir: &Path) -> PathBuf {
    po_dir(book_dir).join(LANGUAGE)
}

/// Whether `book/po/INCOMPLETE` exists: the coverage test only reports.
pub fn is_incomplete(book_dir: &Path) -> bool {
    po_dir(book_dir).join(INCOMPLETE).exists()
}

/// What went wrong with the catalogs.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    /// mdbook could not load or render the book for the extraction.
    #[error(transparent)]
    Book(#[from] crate::book::BookError),
    /// A catalog could not be read or parsed.
    #[error("cannot read the catalog {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A gettext tool is missing or failed.
    #[error("`{command}` failed: {message}")]
    Tool {
        /// The command line.
        command: String,
        /// Its error output, or why it could not start.
        message: String,
    },
    /// Two parts of a split translation translate one message differently.
    #[error("{first} and {second} both translate {msgid:?}, differently: keep one")]
    Conflict {
        /// The message.
        msgid: String,
        /// One part.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// The command needs a catalog that is not there.
    #[error("{0}")]
    Missing(String),
}

/// A folder of its own under the system's temporary folder, removed when dropped: where the
/// template is extracted, and where a split translation is joined for a build.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(what: &str) -> Result<Scratch, I18nError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("duplex-{what}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| I18nError::Write { path: path.clone(), source })?;
        Ok(Scratch(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
