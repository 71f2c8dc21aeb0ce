//! Reading JSON the way every reader in the workspace must: strictly.
//!
//! [`parse`] is the one entry point for JSON a person or another program wrote (provider
//! manifests, releases, signature envelopes, node files). On top of `serde_json` it refuses:
//!
//! - a UTF-8 byte order mark, named as such (`serde_json` says "expected value" at 1:1);
//! - a key repeated in one object (`serde_json` keeps the last one silently, so
//!   `"quality": 0.10, "quality": 0.82` would read 0.82): the error points at the second
//!   occurrence and names the first, both as line:col.
//!
//! [`find_duplicate_key`] is the check alone, for readers that parse by other means.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diag::{Located, line_col};

/// A key that appears twice in one JSON object: its text and both byte ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Range<usize>,
    pub second: Range<usize>,
}

/// Parses `text` (the contents of `path`) into `T`, refusing a BOM and duplicate keys, with
/// every error located at `path:line:col`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Located> {
    if text.starts_with('\u{feff}') {
        return Err(Located::at(
            path,
            text,
            0..3,
            "the file starts with a UTF-8 byte order mark (BOM), which JSON does not allow",
        )
        .with_help("save the file as UTF-8 without a BOM"));
    }
    if let Some(duplicate) = find_duplicate_key(text) {
        let (line, col) = line_col(text, duplicate.first.start);
        return Err(Located::at(
            path,
            text,
            duplicate.second,
            format!(
                "duplicate key {:?} in one object (first at {}:{line}:{col})",
                duplicate.key,
                path.display()
            ),
        )
        .with_help("keep one of them: JSON readers disagree on which one wins"));
    }
    serde_json::from_str(text).map_err(|err| Located::from_json(path, text, &err))
}

/// The first key repeated within one object of `text`, if any. Text that is not valid JSON
/// yields `None` at the point where it stops being valid: the parser reports that better.
pub fn find_duplicate_key(text: &str) -> Option<DuplicateKey> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    match scanner.value(0) {
        Err(Stop::Duplicate(found)) => Some(found),
        _ => None,
    }
}

/// Deeper than this, the parser refuses the text anyway (serde_json's recursion limit is 128).
const MAX_DEPTH: usize = 256;

enum Stop {
    Malformed,
    Duplicate(DuplicateKey),
}

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl<'t> Scanner<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Result<(), Stop> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Stop::Malformed)
        }
    }

    /// A string at the cursor: its byte range, quotes included, and its decoded text.
    fn string(&mut self) -> Result<(Range<usize>, Cow<'t, str>), Stop> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(Stop::Malformed);
        }
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.peek().ok_or(Stop::Malformed)? {
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        let raw = self.text.get(start..self.pos).ok_or(Stop::Malformed)?;
        let decoded = if escaped {
            Cow::Owned(serde_json::from_str::<String>(raw).map_err(|_| Stop::Malformed)?)
        } else {
            Cow::Borrowed(&raw[1..raw.len() - 1])
        };
        Ok((start..self.pos, decoded))
    }

    fn value(&mut self, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Malformed);
        }
        self.skip_ws();
        match self.peek().ok_or(Stop::Malformed)? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                let mut seen: HashMap<Cow<'t, str>, Range<usize>> = HashMap::new();
                loop {
                    self.skip_ws();
                    let (span, key) = self.string()?;
                    if let Some(first) = seen.get(&key) {
                        return Err(Stop::Duplicate(DuplicateKey {
                            key: key.into_owned(),
                            first: first.clone(),
                            second: span,
                        }));
                    }
                    seen.insert(key, span);
                    self.eat(b':')?;
                    self.value(depth + 1)?;
                    self.skip_ws();
                    match self.peek().ok_or(Stop::Malformed)? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(Stop::Malformed),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.skip_ws();
                    match self.peek().ok_or(Stop::Malformed)? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(Stop::Malformed),
                    }
                }
            }
            _ => {
                let start = self.pos;
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
                if self.pos > start {
                    Ok(())
                } else {
                    Err(Stop::Malformed)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_repeated_key_is_refused_naming_both_places() {
        let text = "{\n  \"metrics\": {\n    \"quality\": 0.10,\n    \"quality\": 0.82\n  }\n}";
        let err = parse::<Value>(Path::new("hf.json"), text).unwrap_err();
        assert_eq!(err.line_col, Some((4, 5)), "{err}");
        assert!(
            err.to_string()
                .contains("duplicate key \"quality\" in one object (first at hf.json:3:5)"),
            "{err}"
        );
    }

    #[test]
    fn escaped_spellings_of_one_key_are_the_same_key_and_siblings_are_not_duplicates() {
        let found = find_duplicate_key(r#"{"a": 1, "\u0061": 2}"#).unwrap();
        assert_eq!(found.key, "a");
        assert_eq!((found.first, found.second), (1..4, 9..17));
        assert_eq!(
            find_duplicate_key(r#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}, "a": [{"a": 4}]}]"#),
            None
        );
        assert_eq!(find_duplicate_key(r#"{"a": 1, "b" 2, "a": 3}"#), None);
        assert!(find_duplicate_key(r#"{"x": {"a": 1, "a": 2}, "#).is_some());
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        let err = parse::<Value>(Path::new("r.json"), "\u{feff}{}").unwrap_err();
        assert!(err.to_string().contains("byte order mark (BOM)"), "{err}");
        assert_eq!(err.line_col, Some((1, 1)));
    }

    #[test]
    fn other_errors_keep_serde_json_locations() {
        let err = parse::<Value>(Path::new("r.json"), "{\n  \"a\": 1,\n}").unwrap_err();
        assert!(
            err.to_string().starts_with("r.json:3:1: trailing comma"),
            "{err}"
        );
    }
}
