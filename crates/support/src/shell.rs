//! Commands as a person would type them. Every command a front end prints goes through
//! [`command_line`], so it can be pasted into a POSIX shell as it is; names put into nextest
//! filtersets go through [`filterset_exact`].

use std::borrow::Cow;

/// `word` as a POSIX shell reads it back: bare when no shell treats any of its characters
/// specially, else in single quotes (a `'` inside becomes `'\''`).
pub fn quote(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    // A leading `=` expands in zsh and a leading `~` in every shell; neither is plain there.
    if !word.is_empty() && !word.starts_with('=') && word.chars().all(plain) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// `program arg...` with each word quoted as needed.
pub fn command_line<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> String {
    words
        .into_iter()
        .map(|word| quote(word.as_ref()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cargo that started us (`$CARGO` under `cargo run` or a cargo test), else the one on
/// `PATH`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// A nextest filterset string literal for an exact match (`=...`), escaping what must be.
pub fn filterset_exact(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 1);
    escaped.push('=');
    for c in value.chars() {
        if matches!(c, ')' | ',' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare_and_the_rest_is_single_quoted() {
        assert_eq!(
            command_line([
                "cargo",
                "nextest",
                "run",
                "--workspace",
                "-E",
                "binary_id(=node::ingest) | package(=xtask)",
                "--partition=count:1/3",
            ]),
            "cargo nextest run --workspace -E 'binary_id(=node::ingest) | package(=xtask)' \
             --partition=count:1/3"
        );
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("~/x"), "'~/x'");
        assert_eq!(quote("=x"), "'=x'");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn a_shell_reads_quoted_words_back_unchanged() {
        let words = [
            "plain",
            "two words",
            "it's",
            "$HOME `x` \"q\" \\ * ? [a] {b,c} ; & | < > ( ) # !",
            "",
            "~",
        ];
        let script = format!("printf '%s\\n' {}", command_line(words));
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .expect("sh");
        let printed = String::from_utf8(output.stdout).unwrap();
        assert_eq!(printed.lines().collect::<Vec<_>>(), words);
    }

    #[test]
    fn filterset_literals_escape_what_ends_or_splits_them() {
        assert_eq!(filterset_exact("node::ingest"), "=node::ingest");
        assert_eq!(filterset_exact(r"a)b,c\d"), r"=a\)b\,c\\d");
    }
}
