//! How a diagnostic reads, the same in every binary: one greppable line each, the offending
//! line marked beneath it on terminals (not under `NO_COLOR` or when stderr is not a
//! terminal), and under GitHub Actions an `::error file=..,line=..,col=..::` annotation too.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::diag::{Failure, Located};

/// True when output should be plain text (no colour, no snippets).
pub fn plain() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) || !std::io::stderr().is_terminal()
}

/// Under GitHub Actions, whose log turns `::error` lines into annotations on the files: the
/// checkout (`$GITHUB_WORKSPACE`) that annotated paths are made relative to.
fn github_actions() -> Option<PathBuf> {
    let on_actions = std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    on_actions.then(|| {
        std::env::var_os("GITHUB_WORKSPACE")
            .unwrap_or_default()
            .into()
    })
}

/// How [`located`] draws a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Show the offending line with a mark under the span, in colour.
    pub terminal: bool,
    /// Add a GitHub Actions `::error` annotation line, its file relative to this checkout.
    pub github: Option<PathBuf>,
}

impl Style {
    /// From the environment: a terminal on stderr, `NO_COLOR`, `GITHUB_ACTIONS`.
    pub fn detect() -> Style {
        Style {
            terminal: !plain(),
            github: github_actions(),
        }
    }
}

/// One diagnostic as text (each line ends with a newline). The first line is always the
/// greppable `error[CODE]: file:line:col: message (help: ...)` (`error:` when there is no
/// code); a terminal also gets the offending line and the help beneath it; GitHub Actions gets
/// an `::error file=..,line=..,col=..::` annotation too.
pub fn located(located: &Located, style: &Style) -> String {
    let mut out = String::new();
    let severity = match located.code {
        Some(code) => format!("error[{code}]"),
        None => "error".to_owned(),
    };
    let snippet = located.snippet().filter(|_| style.terminal);
    match &snippet {
        Some(snippet) => {
            let number = snippet.line_number.to_string();
            let pad = " ".repeat(number.len());
            let (red, blue, bold, reset) = ("\x1b[1;31m", "\x1b[1;34m", "\x1b[1m", "\x1b[0m");
            let _ = writeln!(
                out,
                "{red}{severity}{reset}{bold}: {}: {}{reset}",
                located.location(),
                located.message
            );
            let _ = writeln!(out, "{blue}{pad} |{reset}");
            let _ = writeln!(out, "{blue}{number} |{reset} {}", snippet.line);
            let _ = writeln!(
                out,
                "{blue}{pad} |{reset} {}{red}{}{reset}",
                " ".repeat(snippet.indent),
                "^".repeat(snippet.width)
            );
            if let Some(help) = &located.help {
                let _ = writeln!(out, "{blue}{pad} ={reset} {bold}help{reset}: {help}");
            }
        }
        None => {
            let _ = writeln!(out, "{severity}: {located}");
        }
    }
    if let Some(checkout) = &style.github {
        let _ = writeln!(out, "{}", github_annotation(located, checkout));
    }
    out
}

/// Every diagnostic a failure collected ([`located`]), then its message as `error: ...`.
pub fn failure(failure: &Failure, style: &Style) -> String {
    let mut out: String = failure.located.iter().map(|l| located(l, style)).collect();
    if let Some(message) = &failure.message {
        let _ = writeln!(out, "error: {message}");
    }
    out
}

/// `::error file=F,line=L,col=C::[CODE] message`, escaped as GitHub's workflow commands require.
fn github_annotation(located: &Located, checkout: &Path) -> String {
    let property = |value: &str| {
        escape_annotation(value)
            .replace(':', "%3A")
            .replace(',', "%2C")
    };
    let file = located.path.strip_prefix(checkout).unwrap_or(&located.path);
    let mut properties = format!("file={}", property(&file.display().to_string()));
    if let Some((line, col)) = located.line_col {
        let _ = write!(properties, ",line={line},col={col}");
    }
    let mut message = match located.code {
        Some(code) => format!("[{code}] {}", located.message),
        None => located.message.clone(),
    };
    if let Some(help) = &located.help {
        let _ = write!(message, " (help: {help})");
    }
    format!("::error {properties}::{}", escape_annotation(&message))
}

fn escape_annotation(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Code;

    fn diagnostic() -> Located {
        let text = "[lanes.x]\nallow-empty = \"yes\"\n";
        let at = text.find('"').unwrap();
        Located::at(
            "lanes.toml",
            text,
            at..at + 5,
            "`allow-empty` must be `true` or `false`",
        )
        .with_help("write `allow-empty = true`")
    }

    #[test]
    fn plain_output_is_one_greppable_line_per_diagnostic() {
        let style = Style {
            terminal: false,
            github: None,
        };
        assert_eq!(
            located(&diagnostic(), &style),
            "error: lanes.toml:2:15: `allow-empty` must be `true` or `false` \
             (help: write `allow-empty = true`)\n"
        );
        assert_eq!(
            located(&diagnostic().with_code(Code::WrongType), &style),
            "error[config::wrong-type]: lanes.toml:2:15: `allow-empty` must be `true` or \
             `false` (help: write `allow-empty = true`)\n"
        );
    }

    #[test]
    fn terminals_see_the_offending_line_marked() {
        let style = Style {
            terminal: true,
            github: None,
        };
        let rendered = located(&diagnostic().with_code(Code::WrongType), &style);
        let without_colour: String = rendered
            .split('\x1b')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    &part[part.find('m').unwrap() + 1..]
                }
            })
            .collect();
        assert_eq!(
            without_colour,
            "error[config::wrong-type]: lanes.toml:2:15: `allow-empty` must be `true` or \
             `false`\n  |\n2 | allow-empty = \"yes\"\n  |               ^^^^^\n\
             \x20 = help: write `allow-empty = true`\n"
        );
    }

    #[test]
    fn github_actions_get_an_annotation_for_every_located_diagnostic() {
        let style = Style {
            terminal: false,
            github: Some(PathBuf::from("/checkout")),
        };
        let rendered = located(&diagnostic(), &style);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines.len(), 2, "{rendered}");
        assert!(
            lines[0].starts_with("error: lanes.toml:2:15: "),
            "{rendered}"
        );
        assert_eq!(
            lines[1],
            "::error file=lanes.toml,line=2,col=15::`allow-empty` must be `true` or `false` \
             (help: write `allow-empty = true`)"
        );
        let coded = located(&diagnostic().with_code(Code::WrongType), &style);
        assert_eq!(
            coded.lines().last(),
            Some(
                "::error file=lanes.toml,line=2,col=15::[config::wrong-type] `allow-empty` \
                 must be `true` or `false` (help: write `allow-empty = true`)"
            )
        );

        // A whole-file problem has no line; the file is relative to the checkout; message text
        // is escaped, and so are the file name's `:` and `,`, which would otherwise end the
        // property.
        let whole_file = Located::file("/checkout/a,b:c.toml", "100% broken\nsecond line");
        assert_eq!(
            located(&whole_file, &style).lines().last(),
            Some("::error file=a%2Cb%3Ac.toml::100%25 broken%0Asecond line")
        );
    }

    #[test]
    fn a_failure_renders_its_diagnostics_then_its_message() {
        let style = Style {
            terminal: false,
            github: None,
        };
        let mut both = Failure::located([diagnostic()]);
        both.message = Some("2 files invalid".to_owned());
        let rendered = failure(&both, &style);
        assert_eq!(rendered.lines().count(), 2, "{rendered}");
        assert!(rendered.ends_with("error: 2 files invalid\n"), "{rendered}");
    }
}
