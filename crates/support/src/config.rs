//! Reading hand-written TOML: parse once with spans, then validate collecting every problem.
//!
//! Every TOML file the project reads (`lanes.toml`, `deps-groups.toml`, `[impact]` rules,
//! `manifests/gates.toml`, `manifests/kernel.toml`, the release-lane manifest, trust files) goes
//! through [`Doc`]: a syntax error stops at once (nothing else can be read), anything else
//! becomes a [`Located`] diagnostic with a stable [`Code`] and reading goes on, so one run
//! reports every problem (cargo-deny style). Unknown keys are reported with the keys the table
//! takes and a "did you mean" when one is close.
//!
//! ```
//! use std::path::Path;
//! use support::config::{Code, Doc};
//!
//! let text = "version = \"1\"\n[gates]\nmin_qualty = 0.5\n";
//! let (mut doc, root) = Doc::parse(Path::new("gates.toml"), text).unwrap();
//! let mut top = doc.root(&root, "gates.toml");
//! let version = top
//!     .require(&mut doc, "version", "version = 1")
//!     .and_then(|v| doc.integer(v, "`version`"));
//! if let Some(mut gates) = top.get("gates").and_then(|v| doc.table(v, "[gates]")) {
//!     let quality = gates
//!         .require(&mut doc, "min_quality", "min_quality = 0.75")
//!         .and_then(|v| doc.float(v, "`min_quality`"));
//!     gates.finish(&mut doc);
//! }
//! top.finish(&mut doc);
//! // In file order: `version` is a string, `[gates]` lacks `min_quality`, has `min_qualty`.
//! let codes: Vec<_> = doc.into_diagnostics().iter().map(|d| d.code).collect();
//! assert_eq!(codes, [Some(Code::WrongType), Some(Code::MissingKey), Some(Code::UnknownKey)]);
//! ```

use std::borrow::Cow;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::Located;

/// A value as parsed, with its byte span in the file.
pub type Value<'i> = Spanned<DeValue<'i>>;

// Diagnostic codes are `diag`'s (a `Located` carries one); configuration readers name them
// from here.
pub use crate::diag::Code;

/// A TOML document being read, and the diagnostics found so far.
pub struct Doc<'t> {
    path: PathBuf,
    text: &'t str,
    diagnostics: Vec<Located>,
}

impl<'t> Doc<'t> {
    /// Parses `text`, read from `path`; a syntax error is returned at once (`config::syntax`).
    pub fn parse(path: &Path, text: &'t str) -> Result<(Doc<'t>, Spanned<DeTable<'t>>), Located> {
        let table = DeTable::parse(text).map_err(|e| syntax_error(path, text, &e))?;
        let doc = Doc {
            path: path.to_path_buf(),
            text,
            diagnostics: Vec::new(),
        };
        Ok((doc, table))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &'t str {
        self.text
    }

    /// A diagnostic at `span` that is not recorded (for validation done after reading).
    pub fn at(&self, code: Code, span: Range<usize>, message: impl Into<String>) -> Located {
        Located::at(&self.path, self.text, span, message).with_code(code)
    }

    /// Records a problem at `span`: what is wrong and how to fix it.
    pub fn error(
        &mut self,
        code: Code,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let located = self.at(code, span, message).with_help(help);
        self.diagnostics.push(located);
    }

    /// The diagnostics so far, in the order found.
    pub fn diagnostics(&self) -> &[Located] {
        &self.diagnostics
    }

    /// Every diagnostic, in file order.
    pub fn into_diagnostics(mut self) -> Vec<Located> {
        self.diagnostics
            .sort_by_key(|d| d.line_col.unwrap_or((0, 0)));
        self.diagnostics
    }

    /// `value` when nothing was found wrong, else every diagnostic in file order.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<Located>> {
        if self.diagnostics.is_empty() {
            Ok(value)
        } else {
            Err(self.into_diagnostics())
        }
    }

    /// The document's top-level table; `context` names it in messages (the file's name).
    pub fn root<'a, 'i>(
        &self,
        root: &'a Spanned<DeTable<'i>>,
        context: impl Into<String>,
    ) -> Table<'a, 'i> {
        Table {
            table: root.get_ref(),
            // A missing top-level key is reported at the start of the file.
            span: 0..0,
            context: context.into(),
            known: Vec::new(),
        }
    }

    /// `value` as a table, or a `config::wrong-type` diagnostic.
    pub fn table<'a, 'i>(&mut self, value: &'a Value<'i>, what: &str) -> Option<Table<'a, 'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(Table {
                table,
                span: value.span(),
                context: what.to_owned(),
                known: Vec::new(),
            }),
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

    /// A whole number (any TOML radix).
    pub fn integer(&mut self, value: &Value<'_>, what: &str) -> Option<Spanned<i64>> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Spanned::new(value.span(), n)),
                Err(_) => {
                    self.error(
                        Code::OutOfRange,
                        value.span(),
                        format!("{what} is too large"),
                        format!("write {what} as a 64-bit whole number"),
                    );
                    None
                }
            },
            other => {
                self.wrong_type(value.span(), what, "a whole number", other);
                None
            }
        }
    }

    /// A whole number within `range`, else `config::out-of-range`.
    pub fn integer_in(
        &mut self,
        value: &Value<'_>,
        what: &str,
        range: RangeInclusive<i64>,
    ) -> Option<Spanned<i64>> {
        let number = self.integer(value, what)?;
        if range.contains(number.get_ref()) {
            return Some(number);
        }
        let bounds = match (*range.start(), *range.end()) {
            (low, i64::MAX) => format!("at least {low}"),
            (low, high) => format!("between {low} and {high}"),
        };
        self.error(
            Code::OutOfRange,
            value.span(),
            format!("{what} must be {bounds}, found {}", number.get_ref()),
            format!("write a whole number {bounds}"),
        );
        None
    }

    /// A number; a whole number is taken as a float too (`max_latency_ms_p95 = 250`).
    pub fn float(&mut self, value: &Value<'_>, what: &str) -> Option<Spanned<f64>> {
        let number = match value.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            other => {
                self.wrong_type(value.span(), what, "a number", other);
                return None;
            }
        };
        match number {
            Some(n) => Some(Spanned::new(value.span(), n)),
            None => {
                self.error(
                    Code::OutOfRange,
                    value.span(),
                    format!("{what} is not a representable number"),
                    "write a decimal number, e.g. 0.75",
                );
                None
            }
        }
    }

    /// A list of strings; each entry that is not a string is reported.
    pub fn string_list(&mut self, value: &Value<'_>, what: &str) -> Option<Vec<Spanned<String>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(value.span(), what, "a list of strings", value.get_ref());
            return None;
        };
        let each = format!("each entry of {what}");
        let strings: Vec<_> = items.iter().map(|item| self.string(item, &each)).collect();
        strings.into_iter().collect()
    }

    /// Tables of an array of tables (`[[test]]`).
    pub fn table_list<'a, 'i>(&mut self, value: &'a Value<'i>, what: &str) -> Vec<Table<'a, 'i>> {
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
            Code::WrongType,
            span,
            format!("{what} must be {expected}, found {}", found.type_str()),
            format!("write {what} as {expected}"),
        );
    }
}

/// A table being read. Every key asked for ([`Table::get`], [`Table::require`]) is a key the
/// table takes; [`Table::finish`] reports every other key as unknown, naming those.
pub struct Table<'a, 'i> {
    table: &'a DeTable<'i>,
    /// Where a missing key is reported: the table's header (or the file's start).
    span: Range<usize>,
    context: String,
    known: Vec<&'static str>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The value of an optional key.
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value<'i>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        self.table.get(key)
    }

    /// The value of a required key, or a `config::missing-key` diagnostic whose help shows
    /// `example` (e.g. `min_quality = 0.75`).
    pub fn require(
        &mut self,
        doc: &mut Doc<'_>,
        key: &'static str,
        example: &str,
    ) -> Option<&'a Value<'i>> {
        let value = self.get(key);
        if value.is_none() {
            doc.error(
                Code::MissingKey,
                self.span.clone(),
                format!("{} has no `{key}`", self.context),
                format!("add `{example}` to {}", self.context),
            );
        }
        value
    }

    /// The file's format `version`: required, an integer, and `supported` (the one this build
    /// reads). Anything else is reported (`config::missing-key`, `config::wrong-type`,
    /// `config::invalid-value` naming `what`, e.g. "gates file") and gives `false`.
    pub fn require_version(&mut self, doc: &mut Doc<'_>, what: &str, supported: i64) -> bool {
        let Some(version) = self
            .require(doc, "version", &format!("version = {supported}"))
            .and_then(|v| doc.integer(v, "`version`"))
        else {
            return false;
        };
        if *version.get_ref() == supported {
            return true;
        }
        doc.error(
            Code::InvalidValue,
            version.span(),
            format!("unsupported {what} version {}", version.get_ref()),
            format!("this build reads `version = {supported}`"),
        );
        false
    }

    /// Every entry in file order, for tables whose keys are names (`[groups.NAME]`,
    /// `[lanes.NAME]`, `[keys.ID]`): no key is unknown.
    pub fn entries(&self) -> Vec<(Spanned<&'a str>, &'a Value<'i>)> {
        let mut entries: Vec<_> = self
            .table
            .iter()
            .map(|(key, value)| {
                let name: &'a Cow<'i, str> = key.get_ref();
                (Spanned::new(key.span(), name.as_ref()), value)
            })
            .collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        entries
    }

    /// The span diagnostics about the table as a whole point at.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Reports every key that was not asked for (`config::unknown-key`), with the keys the
    /// table takes and the closest one when it looks like a typo.
    pub fn finish(self, doc: &mut Doc<'_>) {
        let mut unknown: Vec<_> = self
            .table
            .keys()
            .filter(|key| !self.known.contains(&key.get_ref().as_ref()))
            .collect();
        unknown.sort_by_key(|key| key.span().start);
        for key in unknown {
            let name = key.get_ref().as_ref();
            let takes = format!("{} takes {}", self.context, quoted_list(&self.known));
            let help = match did_you_mean(name, self.known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`? {takes}"),
                None => takes,
            };
            doc.error(
                Code::UnknownKey,
                key.span(),
                format!("unknown key `{name}` in {}", self.context),
                help,
            );
        }
    }
}

/// The syntax error of a TOML text (`config::syntax`), located where the parser says.
pub fn syntax_error(path: &Path, text: &str, err: &toml::de::Error) -> Located {
    Located::from_toml(path, text, err).with_code(Code::Syntax)
}

/// The candidate closest to `word` when it is close enough to be a typo: at most a third of
/// the longer word's characters differ (at least one edit is always allowed).
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&word_lower, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            let longest = word.chars().count().max(candidate.chars().count());
            *distance <= (longest / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `` `a`, `b`, `c` ``, or `nothing` for an empty list.
pub fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "no keys".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help for a name that refers to nothing: the closest known name when one is close, and
/// the known names.
pub fn unknown_name_help<S: AsRef<str>>(name: &str, known: &[S], where_listed: &str) -> String {
    let list = quoted_list(known);
    match did_you_mean(name, known.iter().map(AsRef::as_ref)) {
        Some(close) => format!("did you mean `{close}`? {where_listed}: {list}"),
        None => format!("{where_listed}: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Located> {
        let (mut doc, root) = Doc::parse(Path::new("x.toml"), text).unwrap();
        let mut top = doc.root(&root, "x.toml");
        top.require(&mut doc, "version", "version = 1")
            .and_then(|v| doc.integer_in(v, "`version`", 1..=1));
        if let Some(mut limits) = top.get("limits").and_then(|v| doc.table(v, "`[limits]`")) {
            limits
                .require(&mut doc, "ratio", "ratio = 0.5")
                .and_then(|v| doc.float(v, "`ratio`"));
            limits
                .get("names")
                .and_then(|v| doc.string_list(v, "`names`"));
            limits.finish(&mut doc);
        }
        top.finish(&mut doc);
        doc.into_diagnostics()
    }

    fn summary(diagnostics: &[Located]) -> Vec<String> {
        diagnostics
            .iter()
            .map(|d| format!("{} {}", d.location(), d.code.map_or("-", Code::as_str)))
            .collect()
    }

    #[test]
    fn a_format_version_is_required_an_integer_and_the_supported_one() {
        let check = |text: &str| {
            let (mut doc, root) = Doc::parse(Path::new("x.toml"), text).unwrap();
            let mut top = doc.root(&root, "the x file");
            let ok = top.require_version(&mut doc, "x file", 1);
            top.finish(&mut doc);
            let found: Vec<String> = doc
                .into_diagnostics()
                .iter()
                .map(|d| {
                    format!(
                        "{} {} {}",
                        d.location(),
                        d.code.map_or("-", Code::as_str),
                        d.message
                    )
                })
                .collect();
            (ok, found)
        };
        assert_eq!(check("version = 1\n"), (true, vec![]));
        assert_eq!(
            check("version = 2\n"),
            (
                false,
                vec!["x.toml:1:11 config::invalid-value unsupported x file version 2".to_owned()]
            )
        );
        let (ok, found) = check("version = \"1\"\n");
        assert!(!ok && found[0].contains("config::wrong-type"), "{found:?}");
        let (ok, found) = check("versoin = 1\n");
        assert!(!ok, "{found:?}");
        assert!(
            found[0].contains("config::missing-key the x file has no `version`"),
            "{found:?}"
        );
        assert!(found[1].contains("config::unknown-key"), "{found:?}");
    }

    #[test]
    fn every_problem_is_collected_in_file_order_with_its_code() {
        let text = "verison = 1\n[limits]\nratio = \"half\"\nnames = [\"a\", 2]\nextra = 1\n";
        let diagnostics = read(text);
        assert_eq!(
            summary(&diagnostics),
            [
                "x.toml:1:1 config::missing-key",
                "x.toml:1:1 config::unknown-key",
                "x.toml:3:9 config::wrong-type",
                "x.toml:4:15 config::wrong-type",
                "x.toml:5:1 config::unknown-key",
            ]
        );
        let typo = diagnostics
            .iter()
            .find(|d| d.message.contains("verison"))
            .unwrap();
        assert_eq!(
            typo.help.as_deref(),
            Some("did you mean `version`? x.toml takes `version`, `limits`")
        );
        let extra = diagnostics
            .iter()
            .find(|d| d.message.contains("extra"))
            .unwrap();
        assert_eq!(
            extra.help.as_deref(),
            Some("`[limits]` takes `ratio`, `names`"),
            "no suggestion when nothing is close"
        );
    }

    #[test]
    fn ranges_and_numbers_are_checked() {
        let diagnostics = read("version = 2\n[limits]\nratio = 1\n");
        assert_eq!(summary(&diagnostics), ["x.toml:1:11 config::out-of-range"]);
        assert!(
            diagnostics[0]
                .message
                .contains("`version` must be between 1 and 1, found 2"),
            "{}",
            diagnostics[0]
        );
        assert!(read("version = 0x1\n[limits]\nratio = 1e-3\n").is_empty());
        let huge = read("version = 99999999999999999999\n");
        assert_eq!(summary(&huge), ["x.toml:1:11 config::out-of-range"]);
    }

    #[test]
    fn a_missing_key_of_a_table_points_at_the_table() {
        let diagnostics = read("version = 1\n\n[limits]\nnames = []\n");
        assert_eq!(summary(&diagnostics), ["x.toml:3:1 config::missing-key"]);
        assert_eq!(
            diagnostics[0].help.as_deref(),
            Some("add `ratio = 0.5` to `[limits]`")
        );
    }

    #[test]
    fn syntax_errors_stop_reading_with_their_own_code() {
        let Err(located) = Doc::parse(Path::new("x.toml"), "a = [1\n") else {
            panic!("not TOML");
        };
        assert_eq!(located.code, Some(Code::Syntax));
        assert!(located.location().starts_with("x.toml:"), "{located}");
    }

    #[test]
    fn suggestions_are_only_made_for_near_misses() {
        let known = ["min_quality", "min_safety", "max_latency_ms_p95"];
        assert_eq!(did_you_mean("min_safty", known), Some("min_safety"));
        assert_eq!(did_you_mean("MIN_QUALITY", known), Some("min_quality"));
        assert_eq!(did_you_mean("threshold", known), None);
        assert_eq!(did_you_mean("ab", ["ac"]), Some("ac"));
        assert_eq!(did_you_mean("ab", ["cd"]), None);
    }

    #[test]
    fn every_code_is_documented_in_the_readme_and_nothing_else_is() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
                .unwrap();
        let table: Vec<&str> = readme
            .lines()
            .filter_map(|line| line.strip_prefix("| `config::"))
            .filter_map(|rest| rest.split_once('`'))
            .map(|(name, _)| name)
            .collect();
        let codes: Vec<&str> = Code::ALL
            .iter()
            .map(|code| code.as_str().trim_start_matches("config::"))
            .collect();
        assert_eq!(table, codes, "README.md, \"Configuration diagnostics\"");
    }

    #[test]
    fn every_code_is_namespaced_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("config::"), "{code}");
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
    }
}
