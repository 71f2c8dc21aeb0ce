//! The bench: rerunnable measurements that print a table (and JSON), run as
//! `cargo xtask bench <what> [args]` (README.md, "Benchmarks"; the command line is declared in
//! `cli`). xtask forwards its arguments to this binary (`cargo run -p bench`), so a plain xtask
//! build never compiles the bench.
//!
//! Several benches time the real xtask binary (the engine): it is named by `$XTASK_BIN`, and
//! the profile it was built with by `$XTASK_PROFILE` (`dev` or `release`); `cargo xtask bench`
//! sets both to the running xtask and builds this binary in the same profile.
//!
//! Exit codes are the workspace's (`support::Exit`): 0 success, 1 a check failed, 2 invalid
//! input or usage, 3 the environment failed.

// Every print goes through `support::stdout`: a closed pipe (`... | head`) ends output quietly
// instead of panicking, as in xtask.
macro_rules! print {
    ($($arg:tt)*) => { support::stdout::print_out(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { support::stdout::print_out(format_args!("\n")) };
    ($($arg:tt)*) => { support::stdout::print_out(format_args!("{}\n", format_args!($($arg)*))) };
}
#[allow(unused_macros)] // unused in the unit-test build, which prints no progress
macro_rules! eprint {
    ($($arg:tt)*) => { support::stdout::print_err(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { support::stdout::print_err(format_args!("\n")) };
    ($($arg:tt)*) => { support::stdout::print_err(format_args!("{}\n", format_args!($($arg)*))) };
}

mod all;
mod anchors;
mod artifacts;
mod cli;
mod federate;
mod history;
mod impact;
mod lanes;
mod measure;
mod soundness;

use std::path::PathBuf;

use clap::Parser as _;
use cli::{Cli, Command};
use support::Failure;

fn main() {
    let exit = match Cli::try_parse() {
        Ok(cli) => {
            let result = match cli.command {
                Command::All(args) => all::run(&args),
                Command::Impact(args) => impact::run(&args),
                Command::Artifacts(args) => artifacts::run(&args),
                Command::History(args) => history::run(&args),
                Command::Soundness(args) => soundness::run(&args),
                Command::Federate => federate::run(),
                Command::Lanes(args) => lanes::run(&args),
            };
            result.unwrap_or_else(|failure| {
                eprintln!("error: {failure}");
                failure.exit
            })
        }
        Err(err) => support::cli::report(&err),
    };
    support::stdout::finish();
    std::process::exit(exit.code());
}

/// The xtask binary the benches time (`$XTASK_BIN`) and the cargo profile it was built with
/// (`$XTASK_PROFILE`, else this binary's own).
fn this_xtask() -> Result<(PathBuf, &'static str), Failure> {
    let engine = std::env::var_os("XTASK_BIN")
        .map(PathBuf::from)
        .ok_or_else(|| {
            Failure::invalid_input(
                "$XTASK_BIN is not set: it names the xtask binary the benches time\n\
             help: run the bench as `cargo xtask bench ...`, which sets it",
            )
        })?;
    if !engine.is_file() {
        return Err(Failure::invalid_input(format!(
            "$XTASK_BIN names {}, which is not a file",
            engine.display()
        )));
    }
    let profile = match std::env::var("XTASK_PROFILE").as_deref() {
        Ok("release") => "release",
        Ok("dev") => "dev",
        Ok(other) => {
            return Err(Failure::invalid_input(format!(
                "$XTASK_PROFILE is `{other}`: use dev or release"
            )));
        }
        Err(_) if cfg!(debug_assertions) => "dev",
        Err(_) => "release",
    };
    Ok((engine, profile))
}

/// The workspace root: `$XTASK_WORKSPACE_ROOT` when set, else two levels above this crate.
fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("XTASK_WORKSPACE_ROOT") {
        return PathBuf::from(root);
    }
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("the bench lives two levels below the root")
        .to_path_buf()
}

/// Rows as left-aligned columns two spaces apart, each line ending without trailing spaces.
fn aligned_table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
