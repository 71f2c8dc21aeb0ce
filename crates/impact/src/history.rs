//! Replaying recent history against a recording (`cargo xtask impact history`): the last N
//! commits, each against its first parent, decided with and without the run-time recording
//! ([`crate::replay`]), counting misses: a test the recording saw read a changed file that the
//! decision selected neither whole binary nor test of. The result is `impact-history/v1`.

use std::path::{Path, PathBuf};

use output_types::Shape;
use output_types::impact::{
    HistoryCommit, HistoryRecording, HistoryTotals, ImpactHistory, Miss, Selection,
};
use support::Failure;
use xshell::{Shell, cmd};

use crate::Options;
use crate::recording::Recording;
use crate::replay::{Replayed, replay};

/// Replays the last `commits` commits of the workspace of `manifest` (its `Cargo.toml`) with
/// the recording at `recording` (default: the one `impact record` writes). A dot on stderr per
/// commit shows progress.
pub fn replay_recent(
    manifest: &Path,
    recording: Option<PathBuf>,
    commits: usize,
) -> Result<ImpactHistory, Failure> {
    let base_options = Options::for_manifest(manifest);
    let recording_path = recording
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
        rows.push(HistoryCommit {
            commit: commit.chars().take(10).collect(),
            changed_files: with.changed_files.len(),
            without: Selection {
                binaries: without.selected_binaries().len(),
                all: without.all,
            },
            with: Selection {
                binaries: with.selected_binaries().len(),
                all: with.all,
            },
            misses: with
                .misses(&recording)
                .into_iter()
                .map(|(test, file)| Miss { test, file })
                .collect(),
            misses_without: without.misses(&recording).len(),
        });
        support::stdout::print_err(format_args!("."));
    }
    support::stdout::print_err(format_args!("\n"));
    let totals = HistoryTotals {
        commits: rows.len(),
        without: rows.iter().map(|r| r.without.binaries).sum(),
        with: rows.iter().map(|r| r.with.binaries).sum(),
        all_without: rows.iter().filter(|r| r.without.all).count(),
        all_with: rows.iter().filter(|r| r.with.all).count(),
        misses: rows.iter().map(|r| r.misses.len()).sum(),
        misses_without: rows.iter().map(|r| r.misses_without).sum(),
    };
    Ok(ImpactHistory {
        schema: ImpactHistory::schema(),
        recording: HistoryRecording {
            path: recording_path.display().to_string(),
            commit: recording.commit.clone(),
            lane: recording.lane.clone(),
        },
        commits: rows,
        totals,
    })
}

/// The replay as a table for people: one row per commit, its misses under it, the totals.
pub fn text(history: &ImpactHistory) -> String {
    let short: String = history.recording.commit.chars().take(10).collect();
    let mut text = format!(
        "recording {short} (lane {})\n{:<12} {:>6} {:>18} {:>18} {:>7} {:>16}\n",
        history.recording.lane.as_deref().unwrap_or("all"),
        "commit",
        "files",
        "without recording",
        "with recording",
        "misses",
        "misses without"
    );
    let cell = |n: usize, all: bool| {
        if all {
            format!("{n} (all)")
        } else {
            n.to_string()
        }
    };
    for row in &history.commits {
        text.push_str(&format!(
            "{:<12} {:>6} {:>18} {:>18} {:>7} {:>16}\n",
            row.commit,
            row.changed_files,
            cell(row.without.binaries, row.without.all),
            cell(row.with.binaries, row.with.all),
            row.misses.len(),
            row.misses_without
        ));
        for miss in &row.misses {
            text.push_str(&format!("    miss: {} read {}\n", miss.test, miss.file));
        }
    }
    let totals = &history.totals;
    text.push_str(&format!(
        "{} commits: {} binaries selected without the recording ({} all), {} with it ({} all); {} misses with it, {} without it\n",
        totals.commits,
        totals.without,
        totals.all_without,
        totals.with,
        totals.all_with,
        totals.misses,
        totals.misses_without
    ));
    text
}

/// Exit 1 when the recording missed anything.
pub fn verdict(history: &ImpactHistory) -> Result<(), Failure> {
    let misses = history.totals.misses;
    if misses > 0 {
        return Err(Failure::check_failed(format!(
            "{misses} miss(es): a binary that read a changed file was not selected"
        )));
    }
    Ok(())
}
