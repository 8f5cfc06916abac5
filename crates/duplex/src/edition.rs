//! The book's two editions, English and Simplified Chinese, and the switch between them.
//!
//! Both editions are rendered from the same `book/src`: the English one as written, the Chinese
//! one through the catalog `book/po/zh-CN.po` ([`crate::i18n`]). They share one site: English at
//! its root, Chinese in the folder `zh/`, so one server serves both (`/` and `/zh/`), and a page
//! has the same path inside either edition (`echo/live.html` and `zh/echo/live.html`).
//!
//! Every page of each edition gets a link to the same page in the other ([`add_switches`]), in
//! mdbook's menu bar, next to the print button. It is written into the rendered HTML, relative
//! to the page, so it works without JavaScript and wherever the site is served.

use std::path::{Path, PathBuf};

/// One edition of the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edition {
    /// Its language, as `book.language` and `<html lang>` give it (BCP 47): `en`, `zh-CN`. A
    /// translated edition reads its catalog from `book/po/<language>.po`.
    pub language: &'static str,
    /// Its folder in the rendered site and in the URL: empty for English, `zh` for Chinese.
    pub dir: &'static str,
    /// Its name in its own language: what the switch to it says.
    pub name: &'static str,
    /// What the switch to it does, in its own language (the link's title, read by screen readers).
    pub switch_title: &'static str,
}

/// The English edition, as the book is written, at the site's root.
pub const ENGLISH: Edition =
    Edition { language: "en", dir: "", name: "English", switch_title: "Read this page in English" };

/// The Simplified Chinese edition, translated through `book/po/zh-CN.po`, under `/zh/`.
pub const CHINESE: Edition =
    Edition { language: "zh-CN", dir: "zh", name: "中文", switch_title: "阅读本页的中文版" };

/// Both editions, the original first: it is rendered first, and owns the site's root.
pub const EDITIONS: [Edition; 2] = [ENGLISH, CHINESE];

impl Edition {
    /// Whether this edition is a translation (rendered through a catalog) rather than the original.
    pub fn is_translation(&self) -> bool {
        !self.dir.is_empty()
    }

    /// The other edition: the one its switch leads to.
    pub fn other(&self) -> &'static Edition {
        if self.is_translation() { &ENGLISH } else { &CHINESE }
    }

    /// Where this edition is in the rendered `site`.
    pub fn root(&self, site: &Path) -> PathBuf {
        site.join(self.dir)
    }

    /// The URL path of this edition's root on the server: `/` or `/zh/`.
    pub fn url_root(&self) -> String {
        if self.is_translation() { format!("/{}/", self.dir) } else { "/".to_owned() }
    }

    /// The edition a URL path on the server belongs to: `/zh/echo/` is Chinese, `/zh` too,
    /// anything else English.
    pub fn of_url(path: &str) -> &'static Edition {
        let first = path.trim_start_matches('/').split(['/', '?', '#']).next().unwrap_or_default();
        EDITIONS.iter().find(|e| e.is_translation() && e.dir == first).unwrap_or(&ENGLISH)
    }
}

/// The link from `page` (its path inside the edition `from`, such as `echo/live.html`) to the
/// same page in the other edition, relative to `page`: `../zh/echo/live.html` from English,
/// `../../echo/live.html` from Chinese.
///
/// mdbook's `404.html` resolves its links against the edition's root (its `<base href>`, the
/// `site-url`), not against its own path, and has no twin page: its switch leads to the other
/// edition's first page.
pub fn switch_href(from: &Edition, page: &str) -> String {
    let to = from.other();
    let target = if page == "404.html" { "index.html" } else { page };
    let in_site = |edition: &Edition, page: &str| {
        if edition.dir.is_empty() { page.to_owned() } else { format!("{}/{page}", edition.dir) }
    };
    let depth = in_site(from, page).matches('/').count();
    format!("{}{}", "../".repeat(depth), in_site(to, target))
}

/// The menu bar's right-hand buttons in mdbook's page template: the switch goes first in it.
const RIGHT_BUTTONS: &str = "<div class=\"right-buttons\">";

/// `html` (the page at `page` in the edition `from`) with its switch to the other edition: a
/// link in the menu bar, and a `<link rel="alternate" hreflang>` in the head for search engines
/// and browsers. `None` for a file without mdbook's menu bar (`toc.html`, a figure's page).
pub fn with_switch(html: &str, from: &Edition, page: &str) -> Option<String> {
    let to = from.other();
    let href = switch_href(from, page);
    let at = html.find(RIGHT_BUTTONS)? + RIGHT_BUTTONS.len();
    let link = format!(
        "\n<a class=\"duplex-language\" href=\"{href}\" hreflang=\"{lang}\" lang=\"{lang}\" \
         title=\"{title}\" aria-label=\"{title}\">{name}</a>",
        lang = to.language,
        title = to.switch_title,
        name = to.name,
    );
    let mut out = String::with_capacity(html.len() + 2 * link.len());
    let (before, after) = html.split_at(at);
    match before.find("</head>") {
        Some(head_end) => {
            out.push_str(&before[..head_end]);
            out.push_str(&format!("<link rel=\"alternate\" hreflang=\"{}\" href=\"{href}\">\n", to.language));
            out.push_str(&before[head_end..]);
        }
        None => out.push_str(before),
    }
    out.push_str(&link);
    out.push_str(after);
    Some(out)
}

/// Adds the switch ([`with_switch`]) to every page of both editions in the rendered `site`, and
/// returns how many pages got one.
pub fn add_switches(site: &Path) -> std::io::Result<usize> {
    let mut count = 0;
    for edition in &EDITIONS {
        let root = edition.root(site);
        // The original's folder holds the translations' folders: they are not its pages.
        let others: Vec<PathBuf> =
            EDITIONS.iter().filter(|e| e.is_translation() && e != &edition).map(|e| e.root(site)).collect();
        for file in html_files(&root, &others)? {
            let page =
                file.strip_prefix(&root).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
            let html = std::fs::read_to_string(&file)?;
            if let Some(switched) = with_switch(&html, edition, &page) {
                std::fs::write(&file, switched)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Every `.html` file under `dir`, except under the folders in `skip`.
fn html_files(dir: &Path, skip: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if !skip.contains(&path) {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "html") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_leads_to_the_same_page_in_the_other_edition() {
        assert_eq!(switch_href(&ENGLISH, "index.html"), "zh/index.html");
        assert_eq!(switch_href(&ENGLISH, "echo/live.html"), "../zh/echo/live.html");
        assert_eq!(switch_href(&CHINESE, "index.html"), "../index.html");
        assert_eq!(switch_href(&CHINESE, "echo/live.html"), "../../echo/live.html");
        // 404.html resolves against its edition's root and has no twin.
        assert_eq!(switch_href(&ENGLISH, "404.html"), "zh/index.html");
        assert_eq!(switch_href(&CHINESE, "404.html"), "../index.html");
    }

    #[test]
    fn a_url_path_names_its_edition() {
        assert_eq!(Edition::of_url("/zh/echo/live.html"), &CHINESE);
        assert_eq!(Edition::of_url("/zh"), &CHINESE);
        assert_eq!(Edition::of_url("/zh?x"), &CHINESE);
        assert_eq!(Edition::of_url("/zhx/a.html"), &ENGLISH);
        assert_eq!(Edition::of_url("/echo/"), &ENGLISH);
        assert_eq!(CHINESE.url_root(), "/zh/");
        assert_eq!(ENGLISH.url_root(), "/");
    }

    #[test]
    fn the_switch_goes_into_the_menu_bar_and_the_head() {
        let html =
            "<html><head><title>x</title></head><body><div class=\"right-buttons\">\n<a href=\"print.html\">";
        let switched = with_switch(html, &ENGLISH, "echo/live.html").unwrap();
        assert!(switched.contains(
            "<div class=\"right-buttons\">\n<a class=\"duplex-language\" href=\"../zh/echo/live.html\" \
             hreflang=\"zh-CN\" lang=\"zh-CN\""
        ));
        assert!(
            switched.contains(
                "<link rel=\"alternate\" hreflang=\"zh-CN\" href=\"../zh/echo/live.html\">\n</head>"
            )
        );
        assert_eq!(with_switch("<html>no menu bar</html>", &ENGLISH, "toc.html"), None);
    }
}
