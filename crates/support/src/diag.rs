//! Errors that carry their exit meaning and, when there is source text, a location in it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::exit::Exit;

/// A problem in a file the user wrote: what, where (file:line:col) and how to fix it.
///
/// Its `Display` is a plain one-line `file:line:col: message` for logs and JSON; front ends that
/// show the offending line ask for its [`Snippet`].
#[derive(Debug, Clone)]
pub struct Located {
    pub path: PathBuf,
    /// 1-based line and column; `None` when the problem is the file as a whole.
    pub line_col: Option<(usize, usize)>,
    pub message: String,
    pub help: Option<String>,
    /// What kind of configuration problem this is, when it is one (README.md, "Configuration
    /// diagnostics"); front ends print it and tests match on it.
    pub code: Option<Code>,
    /// Text and byte range, kept so a front end can show the offending line.
    source: Option<Box<(String, std::ops::Range<usize>)>>,
}

impl Located {
    /// A problem with a whole file (missing, unreadable).
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Located {
            path: path.into(),
            line_col: None,
            message: message.into(),
            help: None,
            code: None,
            source: None,
        }
    }

    /// A problem at byte `span` of `text`, the contents of `path`.
    pub fn at(
        path: impl Into<PathBuf>,
        text: &str,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let start = span.start.min(text.len());
        let len = span.end.saturating_sub(span.start).min(text.len() - start);
        Located {
            path: path.into(),
            line_col: Some(line_col(text, start)),
            message: message.into(),
            help: None,
            code: None,
            source: Some(Box::new((text.to_owned(), start..start + len))),
        }
    }

    /// A problem at a 1-based line and column of `text` (as serde_json reports them).
    pub fn at_line_col(
        path: impl Into<PathBuf>,
        text: &str,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        let offset = offset_of(text, line, col);
        let mut located = Located::at(path, text, offset..offset, message);
        located.line_col = Some((line, col));
        located
    }

    /// A TOML parse error, located where the parser says.
    pub fn from_toml(path: &Path, text: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim_end().to_owned();
        match err.span() {
            Some(span) => Located::at(path, text, span, message),
            None => Located::file(path, message),
        }
    }

    /// A JSON parse or type error, located where serde_json says.
    pub fn from_json(path: &Path, text: &str, err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its message; the location is kept apart.
        let full = err.to_string();
        let message = match full.rfind(" at line ") {
            Some(cut) => full[..cut].to_owned(),
            None => full,
        };
        if err.line() == 0 {
            return Located::file(path, message);
        }
        Located::at_line_col(path, text, err.line(), err.column().max(1), message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_code(mut self, code: Code) -> Self {
        self.code = Some(code);
        self
    }

    /// The same diagnostic with its path relative to `root` when it lies inside it: loaders
    /// see absolute paths, people read workspace-relative ones (as `cargo` prints them).
    pub fn relative_to(mut self, root: &Path) -> Self {
        if let Ok(relative) = self.path.strip_prefix(root) {
            self.path = relative.to_path_buf();
        }
        self
    }

    /// `file:line:col` (or just `file`).
    pub fn location(&self) -> String {
        match self.line_col {
            Some((line, col)) => format!("{}:{line}:{col}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Located {}

/// The source line a [`Located`] points into, for front ends that show it under the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet<'a> {
    /// 1-based line number.
    pub line_number: usize,
    /// The line's text, without its line ending.
    pub line: &'a str,
    /// Characters of `line` before the span.
    pub indent: usize,
    /// Characters the span covers on this line; at least 1, so an empty span still gets a mark.
    pub width: usize,
}

impl Located {
    /// The offending line, when the diagnostic was made from source text.
    pub fn snippet(&self) -> Option<Snippet<'_>> {
        let (text, span) = self.source.as_deref()?;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(text, span.end.clamp(start, line_start + line.len()));
        Some(Snippet {
            line_number: text[..line_start].matches('\n').count() + 1,
            line,
            indent: text[line_start..start].chars().count(),
            width: text[start..end].chars().count().max(1),
        })
    }
}

/// 1-based (line, column) of byte `offset` in `text`; columns count characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Byte offset of a 1-based (line, column) in `text`, clamped to the text.
pub fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    let in_line = rest
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    (line_start + in_line).min(text.len())
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// An error on its way to `main`: what went wrong and which exit code it means.
///
/// Commands return `Result<Exit, Failure>`; `main` renders the failure once and exits.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    /// Every diagnostic collected before giving up (parse-then-validate reports them all).
    pub located: Vec<Located>,
    /// Free-form message when there is no file to point at.
    pub message: Option<String>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            located: Vec::new(),
            message: Some(message.into()),
        }
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Failure::new(Exit::InvalidInput, message)
    }
    pub fn check_failed(message: impl Into<String>) -> Self {
        Failure::new(Exit::CheckFailed, message)
    }
    pub fn environment(message: impl Into<String>) -> Self {
        Failure::new(Exit::Environment, message)
    }
    /// Invalid input located in files (exit 2).
    pub fn located(located: impl IntoIterator<Item = Located>) -> Self {
        Failure {
            exit: Exit::InvalidInput,
            located: located.into_iter().collect(),
            message: None,
        }
    }
}

impl From<Located> for Failure {
    fn from(located: Located) -> Self {
        Failure::located([located])
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(message) = &self.message {
            write!(f, "{message}")?;
            first = false;
        }
        for located in &self.located {
            if !first {
                writeln!(f)?;
            }
            write!(f, "{located}")?;
            first = false;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// What kind of problem a configuration diagnostic is. The text (`config::unknown-key`) is
/// stable: tests and scripts match on it, and README.md ("Configuration diagnostics") lists
/// every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file cannot be read (missing, too large, not UTF-8).
    Unreadable,
    /// The text is not TOML.
    Syntax,
    /// A key the table does not take.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A number outside its allowed range.
    OutOfRange,
    /// A value of the right type that is not acceptable (a bad path, glob or name; an
    /// unsupported version; an empty list that must not be).
    InvalidValue,
    /// The same entry twice where each must be unique.
    Duplicate,
    /// A name that should refer to something (a group, package, profile, test) that does not
    /// exist.
    UnknownName,
    /// Entries that cannot all hold together (two keys of which one is allowed, a threshold
    /// no set of keys can meet).
    Conflict,
}

impl Code {
    /// Every code, in the order README.md lists them.
    pub const ALL: &'static [Code] = &[
        Code::Unreadable,
        Code::Syntax,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::OutOfRange,
        Code::InvalidValue,
        Code::Duplicate,
        Code::UnknownName,
        Code::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unreadable => "config::unreadable",
            Code::Syntax => "config::syntax",
            Code::UnknownKey => "config::unknown-key",
            Code::MissingKey => "config::missing-key",
            Code::WrongType => "config::wrong-type",
            Code::OutOfRange => "config::out-of-range",
            Code::InvalidValue => "config::invalid-value",
            Code::Duplicate => "config::duplicate",
            Code::UnknownName => "config::unknown-name",
            Code::Conflict => "config::conflict",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_characters() {
        let text = "a = 1\nbé = x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(line_col(text, x), (2, 6));
        assert_eq!(offset_of(text, 2, 6), x);
    }

    #[test]
    fn snippets_are_the_offending_line_measured_in_characters() {
        let text = "a = 1\r\nbé = \"yes\"\nc = 3\n";
        let value = text.find('"').unwrap();
        let located = Located::at("x.toml", text, value..value + 5, "not a boolean");
        assert_eq!(
            located.snippet(),
            Some(Snippet {
                line_number: 2,
                line: "bé = \"yes\"",
                indent: 5,
                width: 5,
            })
        );
        // An empty span at the end of a line still marks one column; a span running past the
        // line is cut at its end.
        let eol = text.find("\nc").unwrap();
        let located = Located::at("x.toml", text, eol..text.len(), "m");
        let snippet = located.snippet().unwrap();
        assert_eq!(
            (snippet.line_number, snippet.indent, snippet.width),
            (2, 10, 1)
        );
        assert_eq!(Located::file("x.toml", "missing").snippet(), None);
    }

    #[test]
    fn toml_errors_point_at_the_offending_value() {
        let text = "[gates]\nmin_quality = = 1\n";
        let err = toml::from_str::<toml::Table>(text).unwrap_err();
        let located = Located::from_toml(Path::new("gates.toml"), text, &err);
        assert_eq!(located.line_col.map(|(line, _)| line), Some(2), "{located}");
        assert!(located.location().starts_with("gates.toml:2:"), "{located}");
    }

    #[test]
    fn json_errors_carry_line_and_column_apart_from_the_message() {
        let text = "{\n  \"provider\": 5,\n}";
        let err = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let located = Located::from_json(Path::new("m.json"), text, &err);
        assert_eq!(located.line_col, Some((3, 1)));
        assert!(
            located
                .to_string()
                .starts_with("m.json:3:1: trailing comma"),
            "{located}"
        );
    }
}
