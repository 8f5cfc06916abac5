//! Search for the Chinese edition.
//!
//! mdbook's search (elasticlunr) finds words, and finds them by splitting text at spaces and
//! hyphens. Chinese has no spaces between words: a whole sentence would be one "word", and the
//! browser side trims every character that is not an ASCII letter from a query, so 握手 finds
//! nothing (mdBook#1081, open).
//!
//! So the Chinese edition's index is rebuilt after mdbook wrote it ([`rebuild_index`]), from the
//! same sections of the same pages, with another rule for what a word is ([`index_tokens`]):
//! Chinese text counts every character and every pair of neighbouring characters as a word,
//! other text its runs of letters and digits, in lower case. A query is cut into pairs the same
//! way ([`query_tokens`]) by a few lines of JavaScript written into the index file
//! ([`TOKENIZER_JS`]): 关闭码 is the pairs 关闭 and 闭码, and mdbook's search asks for pages with
//! both. A single character, such as 帧, is looked up as itself. Pairs cannot know where words
//! end, so 闭码 may match across two words; on a book this size that costs nothing.
//!
//! The index keeps mdbook's layout (elasticlunr's JSON: for each field, a trie of the words'
//! characters, with each document's term frequency), so mdbook's own search box, results and
//! highlighting work unchanged.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// Whether `c` is written without spaces between words: Han characters (CJK Unified
/// Ideographs and their extensions, compatibility ideographs), and Japanese kana.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF       // hiragana, katakana
        | 0x3400..=0x4DBF     // extension A
        | 0x4E00..=0x9FFF     // CJK Unified Ideographs
        | 0xF900..=0xFAFF     // compatibility ideographs
        | 0x20000..=0x2FFFF) // extensions B and after
}

/// The pieces of `text`: runs of CJK characters and lower-cased runs of other letters and digits.
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let kind = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (kind, runs.last_mut()) {
            (Some(cjk), Some((last, run))) if *last == cjk && !run.is_empty() => run.extend(c.to_lowercase()),
            (Some(cjk), _) => runs.push((cjk, c.to_lowercase().collect())),
            (None, Some((_, run))) if !run.is_empty() => runs.push((false, String::new())),
            (None, _) => {}
        }
    }
    runs.retain(|(_, run)| !run.is_empty());
    runs
}

/// The longest word indexed, in characters, as mdbook's index has it: longer runs (a base64
/// blob in a listing) are nothing anyone types, and would nest the index too deep.
pub const MAX_WORD: usize = 80;

/// The words an indexed text is made of: each other-script run (up to [`MAX_WORD`] characters);
/// each CJK character and each pair of neighbouring CJK characters.
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for (cjk, run) in runs(text) {
        if !cjk {
            if run.chars().count() <= MAX_WORD {
                tokens.push(run);
            }
            continue;
        }
        let chars: Vec<char> = run.chars().collect();
        tokens.extend(chars.iter().map(char::to_string));
        tokens.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
    }
    tokens
}

/// The words a query is made of: each other-script run; each pair of neighbouring CJK
/// characters, or a lone CJK character itself. [`TOKENIZER_JS`] does the same in the browser.
pub fn query_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for (cjk, run) in runs(text) {
        let chars: Vec<char> = run.chars().collect();
        if !cjk || chars.len() == 1 {
            tokens.push(run);
        } else {
            tokens.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
        }
    }
    tokens
}

/// The query side of [`query_tokens`], in the browser: it replaces elasticlunr's tokenizer on
/// the pages that load this index.
pub const TOKENIZER_JS: &str = r#"// The Chinese edition's search (crates/duplex/src/i18n/search.rs): Chinese has no spaces
// between words, so the index holds every character and every pair of neighbouring characters,
// and a query is cut into pairs the same way (关闭码: 关闭, 闭码). Other text: runs of letters
// and digits, in lower case.
(function () {
  "use strict";
  function isCjk(c) {
    var n = c.codePointAt(0);
    return (n >= 0x3040 && n <= 0x30FF) || (n >= 0x3400 && n <= 0x4DBF) || (n >= 0x4E00 && n <= 0x9FFF) ||
      (n >= 0xF900 && n <= 0xFAFF) || (n >= 0x20000 && n <= 0x2FFFF);
  }
  var letter = /[\p{L}\p{N}]/u;
  function tokens(text) {
    var out = [];
    var run = "";
    var cjk = false;
    function flush() {
      var chars = Array.from(run);
      if (!cjk || chars.length === 1) {
        if (run) out.push(run);
      } else {
        for (var i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
      }
      run = "";
    }
    Array.from(String(text)).forEach(function (c) {
      if (isCjk(c)) {
        if (!cjk) flush();
        cjk = true;
        run += c;
      } else if (letter.test(c)) {
        if (cjk) flush();
        cjk = false;
        run += c.toLowerCase();
      } else {
        flush();
      }
    });
    flush();
    return out;
  }
  elasticlunr.tokenizer = function (text) {
    if (text === null || text === undefined) return [];
    if (Array.isArray(text)) return [].concat.apply([], text.map(tokens));
    return tokens(text);
  };
})();
"#;

/// How many "words" of a section mdbook shows around a match. A Chinese "word", for mdbook's
/// result teaser, runs to the next space; [`rebuild_index`] puts one after each sentence.
pub const TEASER_WORDS: u64 = 8;

/// Why the index could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Reading or writing the index file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what mdbook 0.5 writes.
    #[error("{path} is not mdbook's search index as expected: {what}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was not there.
        what: String,
    },
}

/// What mdbook's index file says around its JSON.
const PREFIX: &str = "window.search = Object.assign(window.search, JSON.parse('";
const SUFFIX: &str = "'));";

/// The search index file of the rendered edition at `root` (`searchindex-HASH.js`), if search
/// is on.
pub fn index_file(root: &Path) -> Result<Option<PathBuf>, SearchError> {
    let entries =
        std::fs::read_dir(root).map_err(|source| SearchError::Io { path: root.to_path_buf(), source })?;
    Ok(entries.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.starts_with("searchindex") && name.ends_with(".js")
    }))
}

/// The search data in an index file: what mdbook's search reads (`doc_urls`, `index`, …).
pub fn read_index(path: &Path) -> Result<Value, SearchError> {
    let format = |what: &str| SearchError::Format { path: path.to_path_buf(), what: what.to_owned() };
    let text = std::fs::read_to_string(path)
        .map_err(|source| SearchError::Io { path: path.to_path_buf(), source })?;
    let text = text.strip_prefix(TOKENIZER_JS).unwrap_or(&text);
    let json = text
        .trim_end()
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .ok_or_else(|| format("window.search = Object.assign(window.search, JSON.parse('…'));"))?;
    serde_json::from_str(&unescape_single_quoted(json)).map_err(|e| format(&e.to_string()))
}

/// What mdbook's search box finds for `query` in a rebuilt index ([`read_index`]), as the
/// browser does it with [`TOKENIZER_JS`]: the sections (`page.html#heading`) whose title or
/// body holds every token of the query, in the index's order. For tests, and to see what a
/// reader will find without a browser.
pub fn find(search: &Value, query: &str) -> Vec<String> {
    let tokens = query_tokens(query);
    let urls: Vec<&str> = search["doc_urls"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = search["index"]["index"].as_object().cloned().unwrap_or_default();
    let mut found: Vec<usize> = Vec::new();
    for (_field, trie) in fields {
        let mut docs: Option<Vec<String>> = None;
        for token in &tokens {
            let mut node = &trie["root"];
            for c in token.chars() {
                node = &node[c.to_string().as_str()];
            }
            let here: Vec<String> =
                node["docs"].as_object().map(|d| d.keys().cloned().collect()).unwrap_or_default();
            docs = Some(match docs {
                None => here,
                Some(before) => before.into_iter().filter(|d| here.contains(d)).collect(),
            });
        }
        for doc in docs.unwrap_or_default() {
            if let Ok(n) = doc.parse::<usize>()
                && !found.contains(&n)
            {
                found.push(n);
            }
        }
    }
    found.sort_unstable();
    found.into_iter().filter_map(|n| urls.get(n).map(|u| (*u).to_owned())).collect()
}

/// Rebuilds the search index mdbook wrote into the rendered edition at `root`
/// (`searchindex-HASH.js`), with [`index_tokens`] for every field and the browser's tokenizer
/// ([`TOKENIZER_JS`]) in front. Returns the file, or `None` if search is off.
pub fn rebuild_index(root: &Path) -> Result<Option<PathBuf>, SearchError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SearchError::Io { path, source }
    };
    let Some(path) = index_file(root)? else {
        return Ok(None);
    };
    let format = |what: &str| SearchError::Format { path: path.clone(), what: what.to_owned() };
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let json = text
        .trim_end()
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .ok_or_else(|| format("window.search = Object.assign(window.search, JSON.parse('…'));"))?;
    let mut search: Value =
        serde_json::from_str(&unescape_single_quoted(json)).map_err(|e| format(&e.to_string()))?;
    let inverted = reindex(&mut search).map_err(|what| format(&what))?;
    let json = serde_json::to_string(&search).map_err(|e| format(&e.to_string()))?.replacen(
        &json!(INDEX_PLACEHOLDER).to_string(),
        &inverted,
        1,
    );
    let out = format!("{TOKENIZER_JS}{PREFIX}{}{SUFFIX}\n", json.replace('\\', "\\\\").replace('\'', "\\'"));
    std::fs::write(&path, out).map_err(io(&path))?;
    Ok(Some(path))
}

/// The JSON inside mdbook's `JSON.parse('…')`: mdbook doubled every `\` and escaped every `'`.
fn unescape_single_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What stands in mdbook's search data for the rebuilt inverted index while the rest is
/// serialized; the index, written as JSON text directly, replaces it.
const INDEX_PLACEHOLDER: &str = "duplex: the rebuilt inverted index goes here";

/// Rebuilds the inverted index of every field of mdbook's search data with [`index_tokens`],
/// and returns it as JSON text (`{"title":{"root":…},…}`; `search` holds a placeholder for
/// it). The field lengths become the new counts, the token pipeline (English trimming, stop
/// words, stemming) none, and the teasers shorter, for Chinese.
fn reindex(search: &mut Value) -> Result<String, String> {
    let index = search.get_mut("index").ok_or("no `index`")?;
    let fields: Vec<String> = index
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("no `index.fields`")?
        .iter()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    let store = index.get_mut("documentStore").ok_or("no `index.documentStore`")?;
    let docs = store.get_mut("docs").and_then(Value::as_object_mut).ok_or("no stored documents")?;
    // For each field, each token's postings: the documents it is in, with its term frequency
    // (elasticlunr's: the square root of the count). Sorted, so a prefix's tokens are together.
    let mut postings: Vec<BTreeMap<String, Vec<(String, f64)>>> = vec![BTreeMap::new(); fields.len()];
    let mut lengths = Map::new();
    for (doc_ref, doc) in docs.iter_mut() {
        let mut doc_lengths = Map::new();
        for (field, postings) in fields.iter().zip(postings.iter_mut()) {
            let text = doc.get(field).and_then(Value::as_str).unwrap_or_default();
            let tokens = index_tokens(text);
            doc_lengths.insert(field.clone(), json!(tokens.len()));
            let mut counts: HashMap<String, u32> = HashMap::new();
            for token in tokens {
                *counts.entry(token).or_default() += 1;
            }
            for (token, count) in counts {
                postings.entry(token).or_default().push((doc_ref.clone(), f64::from(count).sqrt()));
            }
        }
        lengths.insert(doc_ref.clone(), Value::Object(doc_lengths));
        // mdbook's teaser counts words between spaces: give Chinese sentences their ends.
        if let Some(Value::String(body)) = doc.get_mut("body") {
            *body = spaced_sentences(body);
        }
    }
    store["docInfo"] = Value::Object(lengths);
    index["index"] = json!(INDEX_PLACEHOLDER);
    index["pipeline"] = json!([]);
    if let Some(options) = search.get_mut("results_options").and_then(Value::as_object_mut) {
        options.insert("teaser_word_count".to_owned(), json!(TEASER_WORDS));
    }
    let mut out = String::from("{");
    for (n, (field, postings)) in fields.iter().zip(&postings).enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&json!(field).to_string());
        out.push_str(":{\"root\":");
        let entries: Vec<Entry<'_>> =
            postings.iter().map(|(token, docs)| (token.chars().collect(), docs.as_slice())).collect();
        write_node(&mut out, &entries, 0);
        out.push('}');
    }
    out.push('}');
    Ok(out)
}

/// A token, as characters, and its postings: (document, term frequency).
type Entry<'a> = (Vec<char>, &'a [(String, f64)]);

/// Writes the trie node for the tokens in `entries`, which share their first `depth` characters,
/// as elasticlunr.js loads it: `{"docs":{ref:{"tf":…}},"df":n,"c":{…},…}`, where `docs` are the
/// documents of the token that ends here and each next character leads to a node of its own.
fn write_node(out: &mut String, entries: &[Entry<'_>], depth: usize) {
    // Sorted: the token that ends here, if any, comes first.
    let ends_here = entries.first().is_some_and(|(token, _)| token.len() == depth);
    let (here, below) = entries.split_at(usize::from(ends_here));
    out.push_str("{\"docs\":{");
    let docs = here.first().map_or(&[][..], |(_, docs)| *docs);
    for (n, (doc_ref, tf)) in docs.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&format!("{}:{{\"tf\":{tf}}}", json!(doc_ref)));
    }
    out.push_str(&format!("}},\"df\":{}", docs.len()));
    let mut start = 0;
    while start < below.len() {
        let c = below[start].0[depth];
        let end = start + below[start..].iter().take_while(|(token, _)| token[depth] == c).count();
        out.push(',');
        out.push_str(&json!(c.to_string()).to_string());
        out.push(':');
        write_node(out, &below[start..end], depth + 1);
        start = end;
    }
    out.push('}');
}

/// `text` with a space after each Chinese sentence's end (。！？；) that has none.
fn spaced_sentences(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '。' | '！' | '？' | '；') && chars.peek().is_some_and(|n| !n.is_whitespace()) {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_indexed_by_characters_and_pairs_and_other_text_by_words() {
        assert_eq!(index_tokens("握手"), ["握", "手", "握手"]);
        assert_eq!(
            index_tokens("发送关闭码 1000。Sec-WebSocket-Key"),
            ["发", "送", "关", "闭", "码", "发送", "送关", "关闭", "闭码", "1000", "sec", "websocket", "key"]
        );
    }

    #[test]
    fn a_query_is_cut_into_pairs_and_a_lone_character_is_itself() {
        assert_eq!(query_tokens("关闭码"), ["关闭", "闭码"]);
        assert_eq!(query_tokens("握手"), ["握手"]);
        assert_eq!(query_tokens("帧"), ["帧"]);
        assert_eq!(query_tokens("WebSocket 心跳"), ["websocket", "心跳"]);
        // Every pair of a query is a token of the text that contains it.
        let text = index_tokens("服务器发送关闭码，然后关闭连接");
        assert!(query_tokens("关闭码").iter().all(|t| text.contains(t)));
    }

    #[test]
    fn mdbooks_escaping_round_trips() {
        let json = r#"{"a":"it's a \"quote\" and a \\ backslash"}"#;
        let escaped = json.replace('\\', "\\\\").replace('\'', "\\'");
        assert_eq!(unescape_single_quoted(&escaped), json);
    }

    #[test]
    fn sentences_get_a_space_for_the_teaser() {
        assert_eq!(spaced_sentences("一句。两句！三句 x。"), "一句。 两句！ 三句 x。");
    }
}
