//! `cargo xtask impact history`: replays the last N commits (each against its first parent) through impact
//! analysis with and without a run-time recording, and counts misses: a test the recording saw
//! read a changed file that the decision selected neither whole binary nor test of.

use std::ffi::OsString;
use std::path::PathBuf;

use impact::Options;
use impact::recording::Recording;
use impact::replay::{Replayed, replay};
use support::{Exit, Failure};
use xshell::{Shell, cmd};

const USAGE: &str = "usage: cargo xtask impact history [--commits N] [--recording FILE] \
[--manifest-path PATH/Cargo.toml] [--format human|json]";

struct Row {
    commit: String,
    files: usize,
    without: usize,
    without_all: bool,
    with: usize,
    with_all: bool,
    misses: Vec<(String, String)>,
    misses_without: usize,
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut commits: usize = 50;
    let mut recording_path: Option<PathBuf> = None;
    let mut manifest_path: Option<PathBuf> = None;
    let mut json = false;
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long("commits") => {
                let value = parser.value().map_err(crate::usage_error)?;
                commits = value.to_string_lossy().parse().map_err(|_| {
                    Failure::invalid_input(format!(
                        "`--commits {}` is not a number",
                        value.to_string_lossy()
                    ))
                })?;
            }
            Long("recording") => {
                recording_path = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            Long("manifest-path") => {
                manifest_path = Some(parser.value().map_err(crate::usage_error)?.into())
            }
            Long("format") => {
                let value = parser.value().map_err(crate::usage_error)?;
                json = match value.to_string_lossy().as_ref() {
                    "json" => true,
                    "human" => false,
                    other => {
                        return Err(Failure::invalid_input(format!(
                            "unknown format `{other}`: use human or json"
                        )));
                    }
                };
            }
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(Exit::Success);
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    let manifest = manifest_path.unwrap_or_else(|| crate::project_root().join("Cargo.toml"));
    let base_options = Options::for_manifest(&manifest);
    let recording_path = recording_path
        .or_else(|| base_options.recording.clone())
        .expect("a default recording path");
    if !recording_path.exists() {
        return Err(Failure::invalid_input(format!(
            "no recording at {}\nhelp: run `cargo xtask impact record` first, or pass `--recording FILE`",
            recording_path.display()
        )));
    }
    let recording = Recording::load(&recording_path)?;
    let workspace = manifest.parent().map(PathBuf::from).unwrap_or_default();
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let count = commits.to_string();
    let list = cmd!(sh, "git -C {workspace} rev-list -n {count} HEAD")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("`git rev-list` failed: {e}")))?;

    let mut rows = Vec::new();
    for commit in list.lines().map(str::trim).filter(|c| !c.is_empty()) {
        let parent = format!("{commit}^");
        let has_parent = cmd!(sh, "git -C {workspace} rev-parse --verify --quiet {parent}")
            .quiet()
            .ignore_stdout()
            .run()
            .is_ok();
        if !has_parent {
            continue;
        }
        let Replayed { without, with } =
            replay(&base_options, &parent, commit, Some(&recording_path))?;
        let with = with.expect("a recording was given");
        rows.push(Row {
            commit: commit.chars().take(10).collect(),
            files: with.changed_files.len(),
            without: without.selected_binaries().len(),
            without_all: without.all,
            with: with.selected_binaries().len(),
            with_all: with.all,
            misses: with.misses(&recording),
            misses_without: without.misses(&recording).len(),
        });
        eprint!(".");
    }
    eprintln!();
    let total_without: usize = rows.iter().map(|r| r.without).sum();
    let total_with: usize = rows.iter().map(|r| r.with).sum();
    let misses: usize = rows.iter().map(|r| r.misses.len()).sum();
    let all_without = rows.iter().filter(|r| r.without_all).count();
    let all_with = rows.iter().filter(|r| r.with_all).count();
    let misses_without: usize = rows.iter().map(|r| r.misses_without).sum();
    let short: String = recording.commit.chars().take(10).collect();
    if json {
        let value = serde_json::json!({
            "version": 1,
            "recording": {"path": recording_path.display().to_string(), "commit": recording.commit, "lane": recording.lane},
            "commits": rows.iter().map(|r| serde_json::json!({
                "commit": r.commit, "changed_files": r.files,
                "without": {"binaries": r.without, "all": r.without_all},
                "with": {"binaries": r.with, "all": r.with_all},
                "misses": r.misses.iter().map(|(b, f)| serde_json::json!({"test": b, "file": f})).collect::<Vec<_>>(),
                "misses_without": r.misses_without,
            })).collect::<Vec<_>>(),
            "totals": {"commits": rows.len(), "without": total_without, "with": total_with,
                       "all_without": all_without, "all_with": all_with, "misses": misses,
                       "misses_without": misses_without},
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value)
                .map_err(|e| Failure::environment(e.to_string()))?
        );
    } else {
        println!(
            "recording {short} (lane {})",
            recording.lane.as_deref().unwrap_or("all")
        );
        println!(
            "{:<12} {:>6} {:>18} {:>18} {:>7} {:>16}",
            "commit", "files", "without recording", "with recording", "misses", "misses without"
        );
        let cell = |n: usize, all: bool| {
            if all {
                format!("{n} (all)")
            } else {
                n.to_string()
            }
        };
        for row in &rows {
            println!(
                "{:<12} {:>6} {:>18} {:>18} {:>7} {:>16}",
                row.commit,
                row.files,
                cell(row.without, row.without_all),
                cell(row.with, row.with_all),
                row.misses.len(),
                row.misses_without
            );
            for (binary, file) in &row.misses {
                println!("    miss: {binary} read {file}");
            }
        }
        println!(
            "{} commits: {total_without} binaries selected without the recording ({all_without} all), {total_with} with it ({all_with} all); {misses} misses with it, {misses_without} without it",
            rows.len()
        );
    }
    if misses > 0 {
        return Err(Failure::check_failed(format!(
            "{misses} miss(es): a binary that read a changed file was not selected"
        )));
    }
    Ok(Exit::Success)
}
