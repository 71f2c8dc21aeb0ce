//! Reading hand-written TOML with spans: every unknown key or wrong type becomes a [`Located`]
//! diagnostic, and reading goes on so that one run reports every problem (cargo-deny style).

use std::ops::Range;
use std::path::{Path, PathBuf};

use support::Located;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub type Value<'i> = Spanned<DeValue<'i>>;

/// A TOML document being read, and the diagnostics found so far.
pub struct Doc<'t> {
    pub path: PathBuf,
    pub text: &'t str,
    pub diagnostics: Vec<Located>,
}

impl<'t> Doc<'t> {
    /// Parses `text`; a syntax error is returned at once (nothing else can be read).
    pub fn parse(path: &Path, text: &'t str) -> Result<(Doc<'t>, Spanned<DeTable<'t>>), Located> {
        let table = DeTable::parse(text).map_err(|e| Located::from_toml(path, text, &e))?;
        let doc = Doc {
            path: path.to_path_buf(),
            text,
            diagnostics: Vec::new(),
        };
        Ok((doc, table))
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let located = Located::at(&self.path, self.text, span, message).with_help(help);
        self.diagnostics.push(located);
    }

    /// Reports every key of `table` not in `allowed`, naming what is allowed.
    pub fn reject_unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], context: &str) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                self.error(
                    key.span(),
                    format!("unknown key `{}` in {context}", key.get_ref()),
                    format!("expected one of: {}", allowed.join(", ")),
                );
            }
        }
    }

    pub fn table<'a, 'i>(&mut self, value: &'a Value<'i>, what: &str) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.wrong_type(value.span(), what, "a table", other);
                None
            }
        }
    }

    pub fn string(&mut self, value: &Value<'_>, what: &str) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            other => {
                self.wrong_type(value.span(), what, "a string", other);
                None
            }
        }
    }

    pub fn bool(&mut self, value: &Value<'_>, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(value.span(), what, "`true` or `false`", other);
                None
            }
        }
    }

    pub fn string_list(&mut self, value: &Value<'_>, what: &str) -> Option<Vec<Spanned<String>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(value.span(), what, "a list of strings", value.get_ref());
            return None;
        };
        let mut strings = Vec::new();
        for item in items.iter() {
            strings.push(self.string(item, &format!("each entry of {what}"))?);
        }
        Some(strings)
    }

    /// Tables of an array of tables (`[[test]]`).
    pub fn table_list<'a, 'i>(&mut self, value: &'a Value<'i>, what: &str) -> Vec<&'a DeTable<'i>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(value.span(), what, "an array of tables", value.get_ref());
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.table(item, what))
            .collect()
    }

    fn wrong_type(&mut self, span: Range<usize>, what: &str, expected: &str, found: &DeValue<'_>) {
        self.error(
            span,
            format!("{what} must be {expected}, found {}", found.type_str()),
            format!("write {what} as {expected}"),
        );
    }
}

/// The entries of a table in the order they appear in the file.
pub fn in_file_order<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(&'a Spanned<std::borrow::Cow<'i, str>>, &'a Value<'i>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}
