//! A cargo configuration file (`.cargo/config.toml`) at the workspace root, compared by what
//! it means for `cargo test` rather than by its text.
//!
//! Cargo passes `rustflags` and `rustdocflags` (under `[build]`, `[host]` and every
//! `[target.<triple or cfg>]`) to rustc and rustdoc. A lint flag for a Clippy lint
//! (`-Wclippy::doc_markdown`, `-D clippy::all`) changes nothing rustc or rustdoc does: rustc
//! knows `clippy` only as a tool name and leaves that tool's lints to `clippy-driver`, which
//! `cargo test` never runs. So a change that only adds, removes or reorders such flags, with
//! every other key the same, compiles and runs every test as before (cargo rebuilds because
//! the flags' text changed, but the result is the same).

use toml::{Table, Value};

/// Whether the only difference between two versions of a cargo configuration file is in
/// Clippy lint flags. `false` when either cannot be parsed.
pub fn only_clippy_flags_changed(old: &str, new: &str) -> bool {
    let (Ok(old), Ok(new)) = (toml::from_str::<Table>(old), toml::from_str::<Table>(new)) else {
        return false;
    };
    old != new && without_clippy_flags(old) == without_clippy_flags(new)
}

/// The configuration with Clippy lint flags taken out of every `rustflags` and
/// `rustdocflags` (string or list form, normalized to a list).
fn without_clippy_flags(mut config: Table) -> Table {
    for section in ["build", "host"] {
        if let Some(Value::Table(table)) = config.get_mut(section) {
            strip_flags(table);
        }
    }
    if let Some(Value::Table(targets)) = config.get_mut("target") {
        for (_, target) in targets.iter_mut() {
            if let Value::Table(table) = target {
                strip_flags(table);
            }
        }
    }
    config
}

fn strip_flags(table: &mut Table) {
    for key in ["rustflags", "rustdocflags"] {
        let words: Option<Vec<String>> = match table.get(key) {
            Some(Value::String(line)) => Some(line.split_whitespace().map(str::to_owned).collect()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        if let Some(words) = words {
            let kept = without_clippy_lints(&words);
            table.insert(
                key.to_owned(),
                Value::Array(kept.into_iter().map(Value::String).collect()),
            );
        }
    }
}

/// Lint-level options, in both spellings (`-W` and `--warn`).
const LEVELS: &[&str] = &[
    "-W",
    "-A",
    "-D",
    "-F",
    "--warn",
    "--allow",
    "--deny",
    "--forbid",
    "--force-warn",
];

/// The flags without Clippy lint flags: `-Wclippy::x`, `--warn=clippy::x`, and `-W` followed
/// by `clippy::x` as the next word. Anything else is kept as it is, in order.
fn without_clippy_lints(words: &[String]) -> Vec<String> {
    let is_clippy = |lint: &str| lint.starts_with("clippy::");
    let mut kept = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let word = words[index].as_str();
        if LEVELS.contains(&word) {
            if words.get(index + 1).is_some_and(|next| is_clippy(next)) {
                index += 2;
                continue;
            }
        } else if let Some(level) = LEVELS.iter().find(|level| word.starts_with(*level)) {
            let lint = word[level.len()..].trim_start_matches('=');
            if is_clippy(lint) {
                index += 1;
                continue;
            }
        }
        kept.push(words[index].clone());
        index += 1;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMBARK: &str = "[target.'cfg(all())']\nrustflags = [\n    \"-Dunsafe_code\",\n    \"-Wclippy::all\",\n    \"-Wclippy::string_to_string\",\n    \"-Wrust_2018_idioms\",\n]\n";

    #[test]
    fn clippy_lint_flags_alone_are_no_change() {
        for new in [
            EMBARK.replace("    \"-Wclippy::string_to_string\",\n", ""),
            EMBARK.replace("string_to_string", "str_to_string"),
            EMBARK.replace("\"-Wclippy::all\"", "\"-D\", \"clippy::all\""),
            EMBARK.replace("\"-Wclippy::all\"", "\"--deny=clippy::all\""),
        ] {
            assert!(only_clippy_flags_changed(EMBARK, &new), "{new}");
        }
        // `rustdocflags` too, in its string form.
        assert!(only_clippy_flags_changed(
            "[build]\nrustdocflags = \"--cfg docs -Aclippy::doc_markdown\"\n",
            "[build]\nrustdocflags = \"--cfg docs\"\n",
        ));
    }

    #[test]
    fn anything_else_is_a_change() {
        for new in [
            EMBARK.replace("-Dunsafe_code", "-Wunsafe_code"),
            EMBARK.replace("-Wrust_2018_idioms", "-Drust_2018_idioms"),
            EMBARK.replace(
                "\"-Wclippy::all\",\n",
                "\"-Wclippy::all\",\n    \"-Dwarnings\",\n",
            ),
            EMBARK.replace("\"-Wclippy::all\"", "\"-W\", \"clippy\""),
            format!(
                "{EMBARK}\n[target.'cfg(target_env = \"musl\")']\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"
            ),
            format!("{EMBARK}\n[env]\nDATA = \"x\"\n"),
            format!("{EMBARK}\n[alias]\nxt = \"test\"\n"),
            // A table that was not there is a change even when it holds only Clippy flags.
            format!("{EMBARK}\n[build]\nrustdocflags = \"-Aclippy::doc_markdown\"\n"),
            EMBARK.to_owned(),
            "not toml [".to_owned(),
        ] {
            assert!(!only_clippy_flags_changed(EMBARK, &new), "{new}");
        }
    }
}
