//! `duplex i18n update|split|join`: the catalogs kept in step with the English, and cut into
//! parts so that several translators can work at once.
//!
//! The files that people edit and review are written by gettext's own tools (`msgmerge`,
//! `msgattrib`, `msginit`), so they always have gettext's layout and a diff shows only what
//! changed. The decisions (which message goes in which part, whether two parts disagree) are
//! made here.
//!
//! There is one translation at a time: `book/po/zh-CN.po`, or, between a split and a join, the
//! parts `book/po/zh-CN/<chapter>.po` (and no `zh-CN.po`). The book and the coverage test read
//! whichever is there ([`super::catalog::translation`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use polib::catalog::Catalog;

use super::catalog::{self, part_of};
use super::{I18nError, Scratch, parts_dir, template_path, translation_path};

/// What [`update`] did.
#[derive(Clone, Debug)]
pub struct Updated {
    /// Messages in the new template.
    pub messages: usize,
    /// Whether the template changed (a change of date alone does not count).
    pub template_changed: bool,
    /// Whether the translation was created, from the template, rather than merged.
    pub created: bool,
    /// Whether the translation is split, and its parts were merged and cut again.
    pub split: bool,
}

/// Extracts the template from the English text and merges it into the translation: new messages
/// arrive untranslated, changed ones fuzzy with their previous English (`#| msgid`), and messages
/// no longer in the English are dropped. A split translation is joined first and split again
/// after, so its parts stay in step too.
pub fn update(book_dir: &Path) -> Result<Updated, I18nError> {
    let split = parts_dir(book_dir).is_dir();
    let template = catalog::extract(book_dir)?;
    let template_changed = catalog::write_template(book_dir, &template)?;
    let pot = template_path(book_dir);
    let po = translation_path(book_dir);
    let created = !split && !po.is_file();
    if split {
        // The parts' union, merged with the new template.
        join_into(book_dir, &po)?;
    } else if created {
        let locale = format!("--locale={}.UTF-8", super::LANGUAGE.replace('-', "_"));
        run(Command::new("msginit")
            .arg("--no-translator")
            .arg(locale)
            .arg("-i")
            .arg(&pot)
            .arg("-o")
            .arg(&po))?;
    } else {
        merge(&po, &pot, &po)?;
    }
    if split {
        cut(book_dir)?;
    }
    Ok(Updated { messages: template.count(), template_changed, created, split })
}

/// `msgmerge` of the translation `po` with the template `pot` into `out`, keeping the previous
/// English of a changed message (`--previous`) and dropping the messages the English no longer has.
fn merge(po: &Path, pot: &Path, out: &Path) -> Result<(), I18nError> {
    let scratch = Scratch::new("msgmerge")?;
    let merged = scratch.path().join("merged.po");
    run(Command::new("msgmerge").args(["--quiet", "--previous", "-o"]).arg(&merged).arg(po).arg(pot))?;
    run(Command::new("msgattrib").arg("--no-obsolete").arg("-o").arg(out).arg(&merged))?;
    Ok(())
}

/// Cuts `book/po/zh-CN.po` into one part per chapter in `book/po/zh-CN/` ([`part_of`]), removes
/// `zh-CN.po`, and returns the parts with their number of messages. A message on several chapters'
/// pages goes into one part only, its first page's, so that no two translators edit it.
pub fn split(book_dir: &Path) -> Result<Vec<(PathBuf, usize)>, I18nError> {
    if parts_dir(book_dir).is_dir() {
        return Err(I18nError::Missing(format!(
            "the translation is already split into {}: `just i18n-join` first",
            parts_dir(book_dir).display()
        )));
    }
    if !translation_path(book_dir).is_file() {
        return Err(I18nError::Missing(format!(
            "there is no {} to split: `just i18n-update` creates it",
            translation_path(book_dir).display()
        )));
    }
    cut(book_dir)
}

fn cut(book_dir: &Path) -> Result<Vec<(PathBuf, usize)>, I18nError> {
    let po = translation_path(book_dir);
    let whole = catalog::read(&po)?;
    let mut parts: BTreeMap<String, Catalog> = BTreeMap::new();
    for message in whole.messages() {
        parts
            .entry(part_of(message.source()))
            .or_insert_with(|| Catalog::new(catalog::header(&whole.metadata)))
            .append_or_update(catalog::owned(message));
    }
    let dir = parts_dir(book_dir);
    // Parts of an earlier split that no message belongs to any more go.
    if dir.is_dir() {
        for old in catalog::part_files(&dir)? {
            std::fs::remove_file(&old).map_err(|source| I18nError::Write { path: old, source })?;
        }
    }
    std::fs::create_dir_all(&dir).map_err(|source| I18nError::Write { path: dir.clone(), source })?;
    let scratch = Scratch::new("split")?;
    let mut written = Vec::new();
    for (name, part) in parts {
        let raw = scratch.path().join(format!("{name}.po"));
        polib::po_file::write(&part, &raw)
            .map_err(|source| I18nError::Write { path: raw.clone(), source })?;
        // In gettext's own layout, as `msgmerge` writes the whole file.
        let path = dir.join(format!("{name}.po"));
        run(Command::new("msgcat").arg("-o").arg(&path).arg(&raw))?;
        written.push((path, part.count()));
    }
    std::fs::remove_file(&po).map_err(|source| I18nError::Write { path: po.clone(), source })?;
    Ok(written)
}

/// Joins the parts in `book/po/zh-CN/` into `book/po/zh-CN.po`, in the template's order, and
/// removes the parts. Fails, naming both parts, if two of them translate a message differently.
pub fn join(book_dir: &Path) -> Result<PathBuf, I18nError> {
    let dir = parts_dir(book_dir);
    if !dir.is_dir() {
        return Err(I18nError::Missing(format!(
            "there is no split translation in {} to join",
            dir.display()
        )));
    }
    let po = translation_path(book_dir);
    join_into(book_dir, &po)?;
    std::fs::remove_dir_all(&dir).map_err(|source| I18nError::Write { path: dir.clone(), source })?;
    Ok(po)
}

/// The parts' union ([`catalog::union`]) merged with the template into `out`.
fn join_into(book_dir: &Path, out: &Path) -> Result<(), I18nError> {
    let union = catalog::union(&parts_dir(book_dir))?;
    let scratch = Scratch::new("join")?;
    let joined = scratch.path().join("joined.po");
    polib::po_file::write(&union, &joined)
        .map_err(|source| I18nError::Write { path: joined.clone(), source })?;
    let pot = template_path(book_dir);
    if !pot.is_file() {
        return Err(I18nError::Missing(format!(
            "there is no template {}: `just i18n-update`",
            pot.display()
        )));
    }
    merge(&joined, &pot, out)
}

/// Runs a gettext tool; its error output is the error.
fn run(command: &mut Command) -> Result<(), I18nError> {
    let line = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    let output = command.output().map_err(|e| I18nError::Tool {
        command: line.clone(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "not installed: gettext's tools are needed (`apt-get install gettext`, `brew install gettext`)"
                .to_owned()
        } else {
            e.to_string()
        },
    })?;
    if !output.status.success() {
        return Err(I18nError::Tool {
            command: line,
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}
