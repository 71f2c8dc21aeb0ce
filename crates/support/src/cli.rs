//! What every binary with a clap command line shares: how the parser's answer is reported
//! (`--help` and `--version` on stdout, exit 0; a usage error with its usage line on stderr,
//! exit 2), and the command reference README.md shows, generated from the same definitions,
//! with the tidy checks that keep `--help` and README complete.
//!
//! The definitions stay with each binary (`xtask/src/cli.rs`, `crates/bench/src/cli.rs`, ...);
//! this module only reads them, so no crate depends on another's command line.

use std::path::Path;

use crate::Exit;

/// Prints what the command line parser has to say: `--help` and `--version` on stdout (exit 0,
/// ending quietly if the reader goes away), a usage error with its usage line on stderr (exit 2).
pub fn report(err: &clap::Error) -> Exit {
    crate::stdout::command_line_message(err.render(), err.exit_code())
}

/// The binary itself and every command and subcommand people run, each as its words after the
/// binary's name and its definition. Hidden commands, clap's `help`, and commands that pass
/// every word on (`--help` included: they have no help flag of their own) are left out.
pub fn commands(cli: &clap::Command) -> Vec<(Vec<String>, clap::Command)> {
    fn walk(path: &[String], command: &clap::Command, out: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in command.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" || sub.is_disable_help_flag_set() {
                continue;
            }
            let mut sub_path = path.to_vec();
            sub_path.push(sub.get_name().to_owned());
            out.push((sub_path.clone(), sub.clone()));
            walk(&sub_path, sub, out);
        }
    }
    let mut out = vec![(Vec::new(), cli.clone())];
    walk(&[], cli, &mut out);
    out
}

/// The arguments a command documents (clap's own `--help`/`--version` left out).
pub fn documented(command: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() && !matches!(arg.get_id().as_str(), "help" | "version"))
}

/// How an argument is written in a synopsis: optional ones in brackets, value choices spelled
/// out, repeatable ones followed by `...`, arguments passed on after `--`.
pub fn synopsis_word(arg: &clap::Arg) -> String {
    let value = || {
        let possible = arg.get_possible_values();
        if possible.is_empty() {
            arg.get_value_names()
                .map(|names| names.join(" "))
                .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
        } else {
            let names: Vec<&str> = possible.iter().map(|p| p.get_name()).collect();
            names.join("|")
        }
    };
    let Some(long) = arg.get_long() else {
        return if arg.is_last_set() {
            format!("[-- {}...]", value())
        } else if arg.is_required_set() {
            value()
        } else {
            format!("[{}...]", value())
        };
    };
    let flag = match arg.get_short() {
        Some(short) => format!("-{short}|--{long}"),
        None => format!("--{long}"),
    };
    let word = if arg.get_action().takes_values() {
        format!("{flag} {}", value())
    } else {
        flag
    };
    let word = if arg.is_required_set() {
        word
    } else {
        format!("[{word}]")
    };
    // A comma-separated list (`--only a,b`) is written once; a flag given again is repeatable.
    if matches!(arg.get_action(), clap::ArgAction::Append) && arg.get_value_delimiter().is_none() {
        format!("{word}...")
    } else {
        word
    }
}

/// The command reference of `cli`: one synopsis per command that takes arguments, starting
/// with the binary's name, wrapped at 100 columns.
pub fn reference(cli: &clap::Command) -> String {
    let mut out = String::new();
    for (path, command) in commands(cli) {
        if command.has_subcommands() && documented(&command).next().is_none() {
            continue;
        }
        let mut line = std::iter::once(cli.get_name())
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        for arg in documented(&command) {
            let word = synopsis_word(arg);
            if line.len() + 1 + word.len() > 100 {
                out.push_str(&line);
                out.push('\n');
                line = "   ".to_owned();
            }
            line.push(' ');
            line.push_str(&word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Runs `--help` of every command in [`commands`] through the parser and checks that it exits
/// 0 and shows the command's description and every documented flag with its description.
/// Returns how many commands were checked, or every problem found.
pub fn check_help(cli: &clap::Command) -> Result<usize, String> {
    let mut problems = Vec::new();
    let commands = commands(cli);
    for (path, command) in &commands {
        let words = std::iter::once(cli.get_name())
            .chain(path.iter().map(String::as_str))
            .chain(["--help"]);
        let help = match cli.clone().try_get_matches_from(words) {
            Err(err) if err.kind() == clap::error::ErrorKind::DisplayHelp => {
                err.render().to_string()
            }
            other => {
                problems.push(format!("{path:?}: --help does not show help: {other:?}"));
                continue;
            }
        };
        match command.get_about() {
            Some(about) if help.contains(&about.to_string()) => {}
            Some(_) => problems.push(format!("{path:?}: its help lacks its description")),
            None if path.is_empty() => {}
            None => problems.push(format!("{path:?}: the command says not what it does")),
        }
        for arg in documented(command) {
            let id = arg.get_id();
            match arg.get_help() {
                Some(text) if help.contains(&text.to_string()) => {}
                Some(_) => {
                    problems.push(format!("{path:?}: `{id}`'s description is not in --help"))
                }
                None => problems.push(format!("{path:?}: `{id}` has no description")),
            }
            if let Some(long) = arg.get_long()
                && !help.contains(&format!("--{long}"))
            {
                problems.push(format!("{path:?}: --{long} is not in --help"));
            }
        }
    }
    if problems.is_empty() {
        Ok(commands.len())
    } else {
        Err(problems.join("\n"))
    }
}

/// Checks that README.md's block generated from `source` (between
/// `<!-- command reference: generated from SOURCE -->` and the next
/// `<!-- end of command reference -->`, in a `text` code block) is `expected`. With
/// `UPDATE_EXPECT` set, rewrites the block (atomically) instead of failing.
pub fn check_readme_block(readme: &Path, source: &str, expected: &str) -> Result<(), String> {
    let begin = format!("<!-- command reference: generated from {source} -->\n```text\n");
    let end = "```\n<!-- end of command reference -->";
    let text = std::fs::read_to_string(readme)
        .map_err(|e| format!("cannot read {}: {e}", readme.display()))?;
    let Some(start) = text.find(&begin).map(|at| at + begin.len()) else {
        return Err(format!(
            "{} has no block starting with `{begin}`",
            readme.display()
        ));
    };
    let Some(stop) = text[start..].find(end).map(|at| start + at) else {
        return Err(format!(
            "{}: the block generated from {source} does not end with `{end}`",
            readme.display()
        ));
    };
    if text[start..stop] == *expected {
        return Ok(());
    }
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let updated = format!("{}{expected}{}", &text[..start], &text[stop..]);
        return crate::atomic::write_atomic(readme, updated.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", readme.display()));
    }
    Err(format!(
        "{}'s command reference is not the one {source} defines; rerun with UPDATE_EXPECT=1 to \
         rewrite it. Expected:\n{expected}",
        readme.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool() -> clap::Command {
        clap::Command::new("tool")
            .about("A tool")
            .subcommand(
                clap::Command::new("run")
                    .about("Runs it")
                    .arg(clap::Arg::new("name").required(true).help("The thing"))
                    .arg(
                        clap::Arg::new("jobs")
                            .long("jobs")
                            .short('j')
                            .value_name("N")
                            .help("How many at once"),
                    )
                    .arg(
                        clap::Arg::new("quiet")
                            .long("quiet")
                            .action(clap::ArgAction::SetTrue)
                            .help("Say less"),
                    ),
            )
            .subcommand(
                clap::Command::new("raw")
                    .about("Passes everything on")
                    .disable_help_flag(true)
                    .arg(
                        clap::Arg::new("args")
                            .num_args(0..)
                            .allow_hyphen_values(true),
                    ),
            )
    }

    #[test]
    fn the_reference_is_one_synopsis_per_command_with_arguments() {
        assert_eq!(
            reference(&tool()),
            "tool run NAME [-j|--jobs N] [--quiet]\n"
        );
    }

    #[test]
    fn help_missing_a_description_is_reported() {
        assert_eq!(check_help(&tool()), Ok(2));
        let undocumented = tool().mut_subcommand("run", |run| {
            run.arg(
                clap::Arg::new("dry")
                    .long("dry-run")
                    .action(clap::ArgAction::SetTrue),
            )
        });
        let err = check_help(&undocumented).unwrap_err();
        assert!(err.contains("`dry` has no description"), "{err}");
    }

    #[test]
    fn a_readme_block_is_checked_and_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let readme = dir.path().join("README.md");
        let block = |body: &str| {
            format!(
                "# T\n<!-- command reference: generated from src/cli.rs -->\n```text\n{body}```\n\
                 <!-- end of command reference -->\ntail\n"
            )
        };
        std::fs::write(&readme, block("tool old\n")).unwrap();
        let err = check_readme_block(&readme, "src/cli.rs", "tool new\n").unwrap_err();
        assert!(err.contains("UPDATE_EXPECT=1"), "{err}");
        let err = check_readme_block(&readme, "src/other.rs", "tool new\n").unwrap_err();
        assert!(err.contains("has no block"), "{err}");
        check_readme_block(&readme, "src/cli.rs", "tool old\n").unwrap();
    }
}
