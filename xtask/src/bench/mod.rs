//! `cargo xtask bench <what>`: rerunnable measurements that print a table (and JSON).

mod all;
mod anchors;
mod artifacts;
mod federate;
mod history;
mod impact;
// Shared with the impact conformance suite, which reads every field the bench does not.
#[allow(dead_code)]
mod scenario_repo;
#[allow(dead_code)]
mod scenarios;
mod soundness;
pub mod synthetic;

use std::ffi::OsString;

use support::{Exit, Failure};

/// The running xtask binary (the engine the benches time) and the cargo profile it was built with.
fn this_xtask() -> Result<(std::path::PathBuf, &'static str), Failure> {
    let engine = std::env::current_exe()
        .map_err(|e| Failure::environment(format!("cannot find the xtask binary: {e}")))?;
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    Ok((engine, profile))
}

pub fn run(mut args: Vec<OsString>) -> Result<Exit, Failure> {
    let what = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    match what.as_ref().and_then(|w| w.to_str()) {
        Some("all") => all::run(args),
        Some("impact") => impact::run(args),
        Some("artifacts") => artifacts::run(args),
        Some("history") => history::run(args),
        Some("soundness") => soundness::run(args),
        Some("federate") => federate::run(args),
        _ => Err(Failure::invalid_input(
            "usage: cargo xtask bench <all|impact|artifacts|history|soundness|federate> [args]",
        )),
    }
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
