//! The `Sec-WebSocket-Extensions` header, parsed and written (RFC 6455 §9.1).
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! One header may hold several offers separated by commas, a request may carry the header more
//! than once (RFC 6455 §9.1: "as if" joined with commas), and a parameter may come with or
//! without a value, the value bare or in double quotes. This module knows nothing about what the
//! extensions mean: it turns text into [`Extension`]s and back.

use std::fmt;

/// One extension as it appears in the header: its name and its parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The extension token, such as `permessage-deflate`.
    pub name: String,
    /// The parameters as written: a name and, if one was given, the value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl fmt::Display for Extension {
    /// The extension as header text: values bare when they are tokens, quoted otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(value) if is_token(value) => write!(f, "; {name}={value}")?,
                Some(value) => {
                    write!(f, "; {name}=\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))?
                }
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}

/// A header value that does not follow the grammar of RFC 6455 §9.1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed Sec-WebSocket-Extensions at byte {at}: {problem} (RFC 6455 §9.1)")]
pub struct SyntaxError {
    /// Where in the header value the parser gave up.
    pub at: usize,
    /// What it expected there.
    pub problem: &'static str,
}

/// RFC 9110 §5.6.2: the characters a token may hold (letters, digits and ``!#$%&'*+-.^_`|~``).
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether `text` is a token: one or more token characters.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_tchar)
}

/// Parses one `Sec-WebSocket-Extensions` header value into its extensions, in the order the
/// client listed them (its order of preference, RFC 6455 §9.1).
///
/// Empty list elements (`a, , b`) are allowed and skipped, as RFC 9110 §5.6.1 asks of recipients.
pub fn parse(value: &str) -> Result<Vec<Extension>, SyntaxError> {
    let mut parser = Parser { text: value.as_bytes(), at: 0 };
    let mut extensions = Vec::new();
    loop {
        parser.skip_ows();
        if parser.eat(b',') {
            continue;
        }
        if parser.at_end() {
            return Ok(extensions);
        }
        extensions.push(parser.extension()?);
        parser.skip_ows();
        if parser.at_end() {
            return Ok(extensions);
        }
        if !parser.eat(b',') {
            return Err(parser.error("a ',' or ';' after an extension"));
        }
    }
}

/// Parses every `Sec-WebSocket-Extensions` header of a request, in order. A header that does not
/// parse is reported on its own; the others still count.
pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Result<Vec<Extension>, SyntaxError>> {
    values.into_iter().map(parse).collect()
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, problem: &'static str) -> SyntaxError {
        SyntaxError { at: self.at, problem }
    }

    /// Optional white space: spaces and tabs (RFC 9110 §5.6.3).
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn token(&mut self, what: &'static str) -> Result<String, SyntaxError> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error(what));
        }
        // Token characters are ASCII, so this slice is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    /// RFC 9110 §5.6.4: `"` then text and `\`-escaped characters, then `"`; returns the text
    /// with the escapes removed.
    fn quoted_string(&mut self) -> Result<String, SyntaxError> {
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("a closing '\"'")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(byte)
                            if byte == b'\t' || byte == b' ' || byte.is_ascii_graphic() || byte >= 0x80 =>
                        {
                            value.push(byte);
                            self.at += 1;
                        }
                        _ => return Err(self.error("a character after '\\'")),
                    }
                }
                Some(byte) if byte == b'\t' || byte == b' ' || byte.is_ascii_graphic() || byte >= 0x80 => {
                    value.push(byte);
                    self.at += 1;
                }
                Some(_) => return Err(self.error("a visible character inside quotes")),
            }
        }
    }

    fn extension(&mut self) -> Result<Extension, SyntaxError> {
        let name = self.token("an extension name (a token)")?;
        let mut params = Vec::new();
        loop {
            self.skip_ows();
            if !self.eat(b';') {
                return Ok(Extension { name, params });
            }
            self.skip_ows();
            let param = self.token("a parameter name (a token)")?;
            self.skip_ows();
            let value = if self.eat(b'=') {
                self.skip_ows();
                if self.eat(b'"') {
                    Some(self.quoted_string()?)
                } else {
                    Some(self.token("a parameter value")?)
                }
            } else {
                None
            };
            params.push((param, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> Extension {
        Extension {
            name: name.into(),
            params: params.iter().map(|(n, v)| (n.to_string(), v.map(str::to_string))).collect(),
        }
    }

    #[test]
    fn chromiums_offer_is_one_extension_with_a_valueless_parameter() {
        assert_eq!(
            parse("permessage-deflate; client_max_window_bits").unwrap(),
            [ext("permessage-deflate", &[("client_max_window_bits", None)])]
        );
    }

    #[test]
    fn several_offers_in_one_header_keep_their_order() {
        let offers = parse(
            "permessage-deflate; server_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame",
        )
        .unwrap();
        assert_eq!(
            offers,
            [
                ext("permessage-deflate", &[("server_max_window_bits", Some("10"))]),
                ext("permessage-deflate", &[]),
                ext("x-webkit-deflate-frame", &[]),
            ]
        );
    }

    #[test]
    fn quoted_values_lose_their_quotes_and_escapes() {
        assert_eq!(
            parse(r#"permessage-deflate; server_max_window_bits="10"; x="a\"b""#).unwrap(),
            [ext("permessage-deflate", &[("server_max_window_bits", Some("10")), ("x", Some("a\"b"))])]
        );
    }

    #[test]
    fn white_space_around_separators_and_empty_elements_are_allowed() {
        assert_eq!(
            parse(" , permessage-deflate ;\tserver_no_context_takeover ; server_max_window_bits = 9 ,, ")
                .unwrap(),
            [ext(
                "permessage-deflate",
                &[("server_no_context_takeover", None), ("server_max_window_bits", Some("9"))]
            )]
        );
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn text_outside_the_grammar_is_a_syntax_error() {
        for bad in [
            "permessage-deflate;",
            "permessage-deflate; =10",
            "permessage-deflate; a=",
            r#"permessage-deflate; a="unterminated"#,
            "permessage-deflate server_no_context_takeover",
            "permessage deflate",
            "permessage-deflate; a=b c",
            "\"quoted-name\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn an_extension_prints_back_as_header_text() {
        let text = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
        assert_eq!(parse(text).unwrap()[0].to_string(), text);
        let quoted = parse(r#"x; a="1 0"; b="q\"\\""#).unwrap();
        assert_eq!(quoted[0].to_string(), r#"x; a="1 0"; b="q\"\\""#);
        assert_eq!(parse(&quoted[0].to_string()).unwrap(), quoted);
    }
}
