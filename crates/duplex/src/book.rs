//! Rendering the book with the mdbook library (`mdbook-driver`), so `cargo run` needs no
//! `mdbook` binary.
//!
//! The book's source is `book/` at the workspace root; the rendered HTML goes to `target/book`
//! (or `$CARGO_TARGET_DIR/book`), next to everything else cargo builds, so a fresh clone stays
//! clean: the English edition there, the Chinese one in `target/book/zh` ([`crate::edition`]).
//! The same function renders the book for the book checks in `tests/book.rs`.
//!
//! A page includes a transcript as a whole snapshot file, `{{#include …/name.snap}}`, never by
//! line numbers. insta writes a small header above each snapshot (`---`, `source: …`, `---`),
//! so [`render`] expands those includes itself, without the header, before mdbook's own
//! `{{#include}}` runs ([`include_snapshots`]).

use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use mdbook_i18n_helpers::preprocessors::Gettext;

use crate::edition::{self, EDITIONS, Edition};
use crate::i18n;

/// Why the book could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// There is no `book.toml` where the book should be.
    #[error("no book at {0} (expected a book.toml there; pass --book DIR)")]
    NotFound(PathBuf),
    /// mdbook refused the book: a bad `book.toml`, a `SUMMARY.md` entry without its file, …
    #[error("mdbook could not render the book in {dir}: {message}")]
    Mdbook {
        /// The book's folder.
        dir: PathBuf,
        /// mdbook's error and its causes, on one line.
        message: String,
    },
}

/// The workspace root, as this crate was built from it.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `book/` at the workspace root.
pub fn default_book_dir() -> PathBuf {
    workspace_root().join("book")
}

/// Where the rendered book goes: `$CARGO_TARGET_DIR/book`, or `target/book` in the workspace.
pub fn default_out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("book")
}

/// Renders both editions of the book in `book_dir` to HTML in `out_dir`, and returns `out_dir`:
/// the English at its root, the Chinese in `zh/` ([`crate::edition`]), each page with a link to
/// the same page in the other.
///
/// mdbook reads `book.toml` (and `MDBOOK_*` environment variables); only the output folder, and
/// for the Chinese edition the language, are changed here.
pub fn render(book_dir: &Path, out_dir: &Path) -> Result<PathBuf, BookError> {
    // The English first: mdbook empties its output folder, which holds the Chinese one.
    for edition in &EDITIONS {
        render_edition(book_dir, &edition.root(out_dir), edition)?;
    }
    edition::add_switches(out_dir).map_err(|e| BookError::Mdbook {
        dir: book_dir.to_path_buf(),
        message: format!("adding the language switch to {}: {e}", out_dir.display()),
    })?;
    Ok(out_dir.to_path_buf())
}

/// Renders one edition into `out_dir`. A translation goes through its catalog
/// (`book/po/zh-CN.po`, or the parts of a split one): the Markdown prepared by
/// [`i18n::markdown::for_translation`], then mdbook-i18n-helpers' `Gettext` preprocessor after
/// mdbook's own `{{#include}}`, then the HTML; its search index is then rebuilt for Chinese
/// ([`i18n::search`]). Without a catalog it is the English text under the other language.
fn render_edition(book_dir: &Path, out_dir: &Path, edition: &Edition) -> Result<(), BookError> {
    let mdbook_error =
        |e: anyhow::Error| BookError::Mdbook { dir: book_dir.to_path_buf(), message: format!("{e:#}") };
    if !edition.is_translation() {
        let book = load(book_dir, |config| {
            config.build.build_dir = out_dir.to_path_buf();
            Ok(())
        })?;
        return book.build().map_err(mdbook_error);
    }
    let translation = i18n::catalog::translation(book_dir).map_err(|e| BookError::Mdbook {
        dir: book_dir.to_path_buf(),
        message: format!("reading the {} translation: {e}", edition.language),
    })?;
    let translated = |text: &Option<String>| {
        let text = text.as_deref()?;
        let message = translation.as_ref()?.catalog.find_message(None, text, None)?;
        let msgstr = message.msgstr().ok().filter(|s| !s.is_empty() && !message.is_fuzzy())?;
        Some(msgstr.to_owned())
    };
    let mut book = load(book_dir, |config| {
        config.book.language = Some(edition.language.to_owned());
        config.build.build_dir = out_dir.to_path_buf();
        // The 404 page resolves its links against the site's URL: this edition's root.
        config.set("output.html.site-url", edition.url_root())?;
        if let Some(po_dir) = translation.as_ref().and_then(|t| t.po_dir()) {
            config.set("preprocessor.gettext.po-dir", po_dir.to_string_lossy())?;
        }
        // The title and description are in the catalog too, from book.toml.
        if let Some(title) = translated(&config.book.title) {
            config.book.title = Some(title);
        }
        if let Some(description) = translated(&config.book.description) {
            config.book.description = Some(description);
        }
        Ok(())
    })?;
    let smart_punctuation = book.config.html_config().unwrap_or_default().smart_punctuation;
    book.book.for_each_chapter_mut(|chapter| {
        chapter.content = i18n::markdown::for_translation(&chapter.content, smart_punctuation);
    });
    book.with_preprocessor(Gettext);
    book.with_preprocessor(i18n::markdown::AfterTranslation);
    book.build().map_err(mdbook_error)?;
    i18n::markdown::translate_admonition_titles(out_dir).map_err(|e| BookError::Mdbook {
        dir: book_dir.to_path_buf(),
        message: format!("translating the admonitions' titles in {}: {e}", out_dir.display()),
    })?;
    i18n::search::rebuild_index(out_dir).map_err(|e| BookError::Mdbook {
        dir: book_dir.to_path_buf(),
        message: format!("rebuilding the search index of {}: {e}", out_dir.display()),
    })?;
    Ok(())
}

/// The book in `book_dir`, loaded by mdbook with its configuration changed by `configure`, and
/// its snapshot includes expanded ([`include_snapshots`]): ready for a renderer.
pub(crate) fn load(
    book_dir: &Path,
    configure: impl FnOnce(&mut Config) -> anyhow::Result<()>,
) -> Result<MDBook, BookError> {
    let toml = book_dir.join("book.toml");
    if !toml.is_file() {
        return Err(BookError::NotFound(book_dir.to_path_buf()));
    }
    let mdbook_error =
        |e: anyhow::Error| BookError::Mdbook { dir: book_dir.to_path_buf(), message: format!("{e:#}") };
    let mut config = Config::from_disk(&toml).map_err(mdbook_error)?;
    config.update_from_env().map_err(mdbook_error)?;
    configure(&mut config).map_err(mdbook_error)?;
    let mut book = MDBook::load_with_config(book_dir, config).map_err(mdbook_error)?;
    let src = book.root.join(&book.config.book.src);
    book.book.for_each_chapter_mut(|chapter| {
        if let Some(page) = &chapter.path {
            let dir = src.join(page).parent().map(Path::to_path_buf).unwrap_or_else(|| src.clone());
            chapter.content = include_snapshots(&chapter.content, &dir);
        }
    });
    Ok(book)
}

/// The text of a snapshot file without insta's header: what a page shows of it.
///
/// A snapshot starts with `---`, insta's metadata (`source: …`) and `---`; a file that does not
/// is returned whole. Like mdbook's own whole-file include, the last line keeps no newline.
pub fn snapshot_text(file: &str) -> String {
    let body = file
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(file, |(_metadata, body)| body);
    body.lines().collect::<Vec<_>>().join("\n")
}

/// `page` with every `{{#include PATH.snap}}` replaced by that snapshot's text (see
/// [`snapshot_text`]); `dir` is the page's folder, which `PATH` is relative to.
///
/// An include whose file cannot be read is left as it is: mdbook's own include then reports it,
/// as it reports any other missing file.
pub fn include_snapshots(page: &str, dir: &Path) -> String {
    const OPEN: &str = "{{#include ";
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(start) = rest.find(OPEN) {
        let Some(end) = rest[start..].find("}}") else { break };
        let (before, directive) = rest.split_at(start);
        out.push_str(before);
        let path = directive[OPEN.len()..end].trim();
        let text = path.ends_with(".snap").then(|| std::fs::read_to_string(dir.join(path)).ok()).flatten();
        match text {
            Some(file) => out.push_str(&snapshot_text(&file)),
            None => out.push_str(&directive[..end + 2]),
        }
        rest = &directive[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_shown_without_insta_header() {
        let file = "---\nsource: tests/ws_echo.rs\n---\nC→S GET / HTTP/1.1\nS→C HTTP/1.1 101\n";
        assert_eq!(snapshot_text(file), "C→S GET / HTTP/1.1\nS→C HTTP/1.1 101");
    }

    #[test]
    fn a_snapshot_include_is_expanded_and_other_includes_are_left_to_mdbook() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary folder: {e}"));
        std::fs::write(dir.path().join("a.snap"), "---\nsource: t.rs\n---\nline\n")
            .unwrap_or_else(|e| panic!("write a.snap: {e}"));
        let page = "```text\n{{#include a.snap}}\n```\n{{#include code.rs:anchor}}\n{{#include gone.snap}}";
        assert_eq!(
            include_snapshots(page, dir.path()),
            "```text\nline\n```\n{{#include code.rs:anchor}}\n{{#include gone.snap}}"
        );
    }
}
