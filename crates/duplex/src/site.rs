//! From a URL path to a file of the rendered book.
//!
//! The rule that matters is the safe one: a path is percent-decoded, split on `/`, and any `..`,
//! backslash or NUL refuses it, so no request can read a file outside the book's folder. A folder
//! serves its `index.html`, the way mdbook's links expect, at its name with a slash: a folder
//! named without one ([`with_slash`]) is redirected there, so that relative links resolve.

use std::path::{Path, PathBuf};

/// The file a URL path names inside `root`, if there is one.
///
/// `target` is the request target as sent (`/echo/index.html?x=1#top`); the query and fragment
/// are ignored.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let mut file = locate(root, target)?;
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

/// Where to send a request for a folder named without its trailing slash (`/echo?x=1` →
/// `/echo/?x=1`), or `None` when `target` is anything else. A browser resolves the page's
/// relative links (`code.html`) against the URL it asked for: from `/echo` they would point
/// to `/code.html`, from `/echo/` to `/echo/code.html`.
pub fn with_slash(root: &Path, target: &str) -> Option<String> {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    let (path, rest) = target.split_at(end);
    if path.ends_with('/') || !locate(root, target)?.is_dir() {
        return None;
    }
    Some(format!("{path}/{rest}"))
}

/// The file or folder a URL path names inside `root`, found by the safe rule of the module's doc.
fn locate(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part if part.contains(['\\', '\0']) => return None,
            part => file.push(part),
        }
    }
    Some(file)
}

/// `%20` → space. `None` for a broken escape or bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `Content-Type` for a file, from its extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "txt" | "snap" | "md" | "rs" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_the_root_and_folders_serve_their_index() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("echo")).unwrap();
        std::fs::write(root.path().join("index.html"), "home").unwrap();
        std::fs::write(root.path().join("echo/index.html"), "echo").unwrap();
        std::fs::write(root.path().join("a b.txt"), "space").unwrap();
        assert_eq!(resolve(root.path(), "/"), Some(root.path().join("index.html")));
        assert_eq!(resolve(root.path(), "/echo/?x=1"), Some(root.path().join("echo/index.html")));
        assert_eq!(resolve(root.path(), "/a%20b.txt"), Some(root.path().join("a b.txt")));
        assert_eq!(resolve(root.path(), "/missing.html"), None);
    }

    #[test]
    fn a_folder_named_without_its_slash_is_sent_to_the_name_with_one() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("echo")).unwrap();
        std::fs::write(root.path().join("echo/index.html"), "echo").unwrap();
        std::fs::write(root.path().join("index.html"), "home").unwrap();
        assert_eq!(with_slash(root.path(), "/echo").as_deref(), Some("/echo/"));
        assert_eq!(with_slash(root.path(), "/echo?x=1").as_deref(), Some("/echo/?x=1"));
        assert_eq!(with_slash(root.path(), "/%65cho").as_deref(), Some("/%65cho/"));
        for target in ["/echo/", "/", "/index.html", "/missing", "/../echo", "/echo/index.html"] {
            assert_eq!(with_slash(root.path(), target), None, "{target} is not a folder without its slash");
        }
    }

    #[test]
    fn no_path_escapes_the_root() {
        let root = tempfile::tempdir().unwrap();
        let inner = root.path().join("site");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
        for target in
            ["/../secret.txt", "/%2e%2e/secret.txt", "/x/../../secret.txt", "/..%5csecret.txt", "/%zz"]
        {
            assert_eq!(resolve(&inner, target), None, "{target} must not resolve");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type(Path::new("a/index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
