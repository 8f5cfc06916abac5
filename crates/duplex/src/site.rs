//! From a URL path to a file of the rendered book.
//!
//! The rule that matters is the safe one: a path is split on `/`, each segment is percent-decoded,
//! and every segment must then be a plain name (`plain_name`): not `.` or `..`, and with no
//! `/`, `\`, `:` or NUL in it. So no request can read a file outside the book's folder, on any
//! system: on Windows, `C:` or `\\server\share` would otherwise replace the folder, because
//! joining an absolute path to a path gives the absolute path (`Path::push`). A folder
//! serves its `index.html`, the way mdbook's links expect, at its name with a slash: a folder
//! named without one ([`with_slash`]) is redirected there, so that relative links resolve.

use std::path::{Component, Path, PathBuf};

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
    let mut file = root.to_path_buf();
    // Split before decoding: `%2F` is a slash inside a segment's data, not a separator
    // (RFC 3986 §2.2), so `/a%2F..%2Fb` is one segment, `a/../b`, which is refused below.
    for segment in path.split('/') {
        let name = percent_decode(segment)?;
        // The leading slash, a trailing one, or `//`: no name, nothing to add.
        if name.is_empty() {
            continue;
        }
        file.push(plain_name(&name)?);
    }
    Some(file)
}

/// `name` if it names a file or folder *inside* a folder, on every system; `None` otherwise.
///
/// Two checks, because `Path` follows the rules of the system it runs on. The characters that
/// mean more than a name somewhere are refused everywhere: `/` and `\` separate folders
/// (Windows takes both), `:` makes `C:` a drive and `file:name` an NTFS stream, NUL ends a path
/// for the C library. Then the name must be a single [`Component::Normal`] here: not `.` or `..`,
/// not a root, not a Windows prefix (`C:`, `\\server\share`), any of which `Path::push` would
/// let out of the folder.
fn plain_name(name: &str) -> Option<&str> {
    if name.contains(['/', '\\', ':', '\0']) {
        return None;
    }
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(part)), None) if part == name => Some(name),
        _ => None,
    }
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
    fn only_plain_names_are_looked_up_whatever_the_system_makes_of_the_rest() {
        let root = Path::new("book");
        let refused = [
            // Parent and current folders, as sent and percent-encoded (any case).
            "/..",
            "/../secret.txt",
            "/x/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/secret.txt",
            "/.%2e/secret.txt",
            "/.",
            "/./index.html",
            "/%2e/index.html",
            // An encoded slash or backslash stays inside its segment, and refuses it.
            "/x%2f..%2f..%2fsecret.txt",
            "/%2fetc%2fpasswd",
            "/..%5csecret.txt",
            "/x%5C..%5C..%5Csecret.txt",
            "/a\\b.txt",
            // Windows drives and shares: `Path::push` would replace the root with them there.
            "/C:",
            "/C:/Windows/win.ini",
            "/c:%5cwindows%5cwin.ini",
            "/C%3a/Windows/win.ini",
            "/\\\\server\\share\\file.txt",
            "/%5c%5cserver%5cshare%5cfile.txt",
            // An NTFS stream, an absolute URL as the target, NUL, broken escapes, not UTF-8.
            "/index.html:$DATA",
            "http://example.com/index.html",
            "/index.html%00.txt",
            "/%zz",
            "/%2",
            "/%ff",
        ];
        let looked_up: Vec<_> =
            refused.into_iter().filter_map(|target| Some((target, locate(root, target)?))).collect();
        assert!(looked_up.is_empty(), "only plain names may be looked up, not these: {looked_up:#?}");
        // Empty segments add nothing: `//etc/passwd` is `etc/passwd` inside the root, not `/etc`.
        assert_eq!(locate(root, "//etc/passwd"), Some(root.join("etc").join("passwd")));
        assert_eq!(locate(root, "/echo//code.html?x=/../y#/.."), Some(root.join("echo").join("code.html")));
        assert_eq!(locate(root, "/a%20b.txt"), Some(root.join("a b.txt")));
        assert_eq!(locate(root, "/"), Some(root.to_path_buf()));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type(Path::new("a/index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("x.woff2")), "font/woff2");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
