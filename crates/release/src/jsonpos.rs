//! Where a value sits in JSON text, so that errors found after parsing (a wrong provider, a
//! non-numeric metric) still point at `file:line:col`.
//!
//! serde_json locates syntax and type errors itself but keeps no spans for valid values; this
//! walks the text along a path and returns the byte range of the value found there.

use std::ops::Range;
use std::path::Path;

use support::Located;

/// One step into a JSON document.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// A diagnostic at the value reached by `path`, or about the whole file if it cannot be found.
pub fn located_at(
    file: &Path,
    text: &str,
    path: &[Seg<'_>],
    message: impl Into<String>,
) -> Located {
    match locate(text, path) {
        Some(span) => Located::at(file, text, span, message),
        None => Located::file(file, message),
    }
}

/// Byte range of the value at `path` in `text` (first occurrence of a repeated key).
pub fn locate(text: &str, path: &[Seg<'_>]) -> Option<Range<usize>> {
    let mut walker = Walker {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    walker.skip_ws();
    for seg in path {
        match *seg {
            Seg::Key(wanted) => walker.enter_key(wanted)?,
            Seg::Index(wanted) => walker.enter_index(wanted)?,
        }
    }
    let start = walker.pos;
    walker.skip_value()?;
    Some(start..walker.pos)
}

struct Walker<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// Moves to the value of `wanted` in the object at the cursor.
    fn enter_key(&mut self, wanted: &str) -> Option<()> {
        self.expect(b'{')?;
        loop {
            self.skip_ws();
            let start = self.pos;
            self.skip_string()?;
            let key: String = serde_json::from_str(&self.text[start..self.pos]).ok()?;
            self.expect(b':')?;
            self.skip_ws();
            if key == wanted {
                return Some(());
            }
            self.skip_value()?;
            self.expect(b',')?;
        }
    }

    /// Moves to element `wanted` of the array at the cursor.
    fn enter_index(&mut self, wanted: usize) -> Option<()> {
        self.expect(b'[')?;
        for index in 0.. {
            self.skip_ws();
            if self.peek() == Some(b']') {
                return None;
            }
            if index == wanted {
                return Some(());
            }
            self.skip_value()?;
            self.expect(b',')?;
        }
        None
    }

    fn skip_string(&mut self) -> Option<()> {
        (self.peek() == Some(b'"')).then_some(())?;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => self.pos += 1,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.skip_string(),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.skip_ws();
                        self.skip_string()?;
                        self.expect(b':')?;
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        c if c == close => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
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
                (self.pos > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_by_key_and_index() {
        let text = "{\n  \"a\": [1, {\"b\\\"\": \"x\"}, {\"c\": [true, 2.5]}],\n  \"d\": null\n}";
        let span = locate(
            text,
            &[Seg::Key("a"), Seg::Index(2), Seg::Key("c"), Seg::Index(1)],
        )
        .unwrap();
        assert_eq!(&text[span], "2.5");
        let span = locate(text, &[Seg::Key("a"), Seg::Index(1), Seg::Key("b\"")]).unwrap();
        assert_eq!(&text[span], "\"x\"");
        let span = locate(text, &[Seg::Key("d")]).unwrap();
        assert_eq!(&text[span.clone()], "null");
        assert_eq!(support::diag::line_col(text, span.start), (3, 8));
        assert!(locate(text, &[Seg::Key("missing")]).is_none());
        assert!(locate(text, &[Seg::Key("a"), Seg::Index(3)]).is_none());
    }
}
