//! `cargo xtask bench history --repo PATH [--commits N] [--recording FILE] [--output FILE]
//! [--reuse FILE] [--manifest REL] [--anchor-limit SECS] [--dir DIR]`: replays the last N first-parent commits
//! of any git repository holding a Cargo workspace, each against its first parent, and puts our
//! selection beside guppy's determinator, nextest `rdeps()` and a lower bound.
//!
//! The repository is never touched: it is cloned (`git clone --shared`, objects borrowed, a
//! sparse checkout holding only the workspace manifest) into a scratch directory, and every
//! decision reads git objects. Per commit:
//!
//! - **ours**: `impact::analyze` through `impact::replay` (the code `cargo xtask impact`
//!   runs), without a recording, and with `--recording FILE` a second time with it;
//! - **determinator**, **rdeps()** and the **lower bound**: the `impact-anchors` binary
//!   (`anchors.rs`). The lower bound comes from guppy's graphs and git alone, not from the
//!   impact crate, so a bug in our graph or closure code shows up as a miss: owners of changed
//!   Rust sources and manifests, their reverse closure over normal and build edges, one hop of
//!   dev-dependents, plus members whose resolved dependencies changed (see `impact-anchors`).
//!   With a recording, the packages of binaries the recording saw read a changed file are added.
//!   Each commit's `cargo metadata` is kept for the next commit, whose base it is. The anchors
//!   do not depend on our code, so `--reuse FILE` takes their answers for the same commits from
//!   an earlier run's JSON, and only our decisions run again.
//!
//! Units are workspace packages, so the three tools compare: a package counts once when we
//! select any of its test binaries (the binaries we select are counted too). Commits where we
//! select everything are counted with the class of each reason (workflow, toolchain,
//! cargo-config, nextest-config, outside-file, root-manifest, rule, fallback, other).
//! `cargo metadata` runs with the toolchain running the bench (`RUSTUP_TOOLCHAIN` as cargo sets
//! it), not a repository's pinned one, which need not be installed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use impact::recording::{self, Recording};
use impact::{Options, Report};
use output_types::Shape;
use output_types::bench::{
    BenchHistory, HistoryRecordingInfo as RecordingInfo, HistoryRecordingTotals as RecordingTotals,
    HistoryRow as Row, HistorySelection as Ours, HistoryTotals as Totals,
    HistoryWithRecording as WithRecording,
};
use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::anchors::{self, Change};
use crate::cli::HistoryArgs;
use crate::measure::ScratchDir;
use impact::replay::{Replayed, replay};

struct Args {
    repo: PathBuf,
    commits: usize,
    recording: Option<PathBuf>,
    output: Option<PathBuf>,
    /// An earlier run's JSON whose anchors' answers are reused.
    reuse: Option<PathBuf>,
    /// The workspace manifest, relative to the repository root.
    manifest: String,
    anchor_limit: Duration,
    dir: PathBuf,
}

impl Args {
    fn new(args: &HistoryArgs) -> Args {
        Args {
            repo: args.repo.clone(),
            commits: args.commits,
            recording: args.recording.clone(),
            output: args.output.clone(),
            reuse: args.reuse.clone(),
            manifest: args.manifest.clone(),
            anchor_limit: Duration::from_secs(args.anchor_limit),
            dir: args.dir.clone().unwrap_or_else(std::env::temp_dir),
        }
    }
}

/// Our selection on one commit, from the decision.
fn ours_from(report: &Report) -> Ours {
    Ours {
        packages: report.packages.iter().map(|p| p.name.clone()).collect(),
        binaries: report.selected_binaries().len(),
        binaries_in_head: report.all_binaries().len(),
        tests: report.selected_tests().len(),
        all: report.all,
        all_reasons: report
            .all_reasons
            .iter()
            .map(|r| (reason_class(r).to_owned(), r.clone()))
            .collect(),
    }
}

/// The classes of the reasons a selection of everything gives.
fn classes(ours: &Ours) -> BTreeSet<&str> {
    ours.all_reasons.iter().map(|(c, _)| c.as_str()).collect()
}

const UNITS: &str = "workspace packages: a package counts once when any of its test binaries is \
selected; the determinator and rdeps() select whole packages";

/// The class of a reason for selecting everything, from the file it names.
fn reason_class(reason: &str) -> &'static str {
    let path = reason.split_whitespace().next().unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or(path);
    if reason.contains("outside every package") {
        "outside-file"
    } else if path.starts_with(".github/")
        || path.ends_with(".yml:")
        || path.ends_with(".yaml:")
        || reason.contains(" is run by job `")
    {
        // A workflow verdict names the workflow file (`ci.yml: job ...`), or the script or
        // local action a test job runs.
        "workflow"
    } else if name == "rust-toolchain" || name == "rust-toolchain.toml" {
        "toolchain"
    } else if path.contains(".cargo/config") {
        "cargo-config"
    } else if path.ends_with(".config/nextest.toml") {
        "nextest-config"
    } else if name == "Cargo.toml" || reason.contains("applies to every member") {
        "root-manifest"
    } else if reason.contains("shallow") {
        "fallback"
    } else if reason.contains(" matches `") {
        "rule"
    } else {
        "other"
    }
}

pub fn run(args: &HistoryArgs) -> Result<Exit, Failure> {
    let args = Args::new(args);
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let repo = &args.repo;
    let top = cmd!(sh, "git -C {repo} rev-parse --show-toplevel")
        .quiet()
        .ignore_stderr()
        .read()
        .map_err(|_| {
            Failure::invalid_input(format!(
                "{} is not a git repository\nhelp: pass `--repo` a clone of the repository to replay",
                repo.display()
            ))
        })?;
    let tip = cmd!(sh, "git -C {top} rev-parse HEAD")
        .quiet()
        .read()
        .map_err(|e| Failure::invalid_input(format!("{top} has no commit: {e}")))?;
    let manifest_spec = format!("{tip}:{}", args.manifest);
    if cmd!(sh, "git -C {top} cat-file -e {manifest_spec}")
        .quiet()
        .ignore_stderr()
        .run()
        .is_err()
    {
        return Err(Failure::invalid_input(format!(
            "{top} holds no {} at HEAD: not a Cargo workspace\nhelp: pass `--manifest REL/Cargo.toml` for a workspace below the root",
            args.manifest
        )));
    }
    let recording = match &args.recording {
        Some(path) => Some(load_recording(path)?),
        None => None,
    };

    let scratch = ScratchDir::new(&args.dir, 0)?;
    let clone = scratch.0.join("repo");
    let sparse = format!("/{}", args.manifest);
    cmd!(sh, "git clone --quiet --shared --no-checkout {top} {clone}")
        .quiet()
        .run()
        .map_err(|e| Failure::environment(format!("cannot clone {top}: {e}")))?;
    cmd!(sh, "git -C {clone} sparse-checkout set --no-cone {sparse}")
        .quiet()
        .run()
        .and_then(|_| {
            cmd!(sh, "git -C {clone} checkout --quiet --detach {tip}")
                .quiet()
                .run()
        })
        .map_err(|e| {
            Failure::environment(format!(
                "cannot check out {tip} in {}: {e}",
                clone.display()
            ))
        })?;
    let manifest = clone.join(&args.manifest);
    let count = (args.commits + 1).to_string();
    let log = cmd!(
        sh,
        "git -C {clone} rev-list --first-parent -n {count} {tip}"
    )
    .quiet()
    .read()
    .map_err(|e| Failure::environment(format!("git rev-list failed: {e}")))?;
    let shas: Vec<&str> = log.lines().collect();
    if shas.len() <= args.commits {
        eprintln!(
            "history: only {} commits have a parent, not {}",
            shas.len().saturating_sub(1),
            args.commits
        );
    }

    let anchors_bin = anchors::build()?;
    let reused = match &args.reuse {
        Some(path) => reused_anchors(path)?,
        None => BTreeMap::new(),
    };
    let options = Options {
        manifest_path: manifest.clone(),
        cache_dir: Some(scratch.0.join("impact-cache")),
        ..Options::default()
    };
    let anchors_scratch = scratch.0.join("anchors");
    std::fs::create_dir_all(&anchors_scratch)
        .map_err(|e| Failure::environment(format!("{}: {e}", anchors_scratch.display())))?;
    let mut rows = Vec::new();
    let pairs: Vec<(&str, &str)> = shas.windows(2).map(|w| (w[0], w[1])).collect();
    for (index, (commit, parent)) in pairs.iter().enumerate() {
        let started = Instant::now();
        let row = replay_commit(
            &sh,
            &clone,
            &options,
            commit,
            parent,
            &args,
            recording.as_ref(),
            &anchors_bin,
            &anchors_scratch,
            &reused,
        )?;
        let row = Row {
            seconds: started.elapsed().as_secs_f64(),
            ..row
        };
        eprintln!("[{}/{}] {}", index + 1, pairs.len(), progress(&row));
        rows.push(row);
        // Written after every commit, so a long replay stopped half-way keeps what it measured.
        if let Some(path) = &args.output {
            let totals = totals(&rows);
            write_json(path, &top, &tip, &args, recording.as_ref(), &rows, &totals)?;
        }
    }
    let totals = totals(&rows);
    print!("{}", table(&top, &tip, &rows, &totals, recording.as_ref()));
    if let Some(path) = &args.output {
        eprintln!("wrote {}", path.display());
    }
    let recording_misses = totals.with_recording.as_ref().map_or(0, |r| r.misses);
    if totals.misses > 0 || recording_misses > 0 || totals.errors > 0 {
        return Err(Failure::check_failed(format!(
            "{} miss(es) against the lower bound, {recording_misses} with the recording, {} error(s)",
            totals.misses, totals.errors
        )));
    }
    Ok(Exit::Success)
}

fn write_json(
    path: &Path,
    repository: &str,
    tip: &str,
    args: &Args,
    recording: Option<&(RecordingInfo, PathBuf)>,
    rows: &[Row],
    totals: &Totals,
) -> Result<(), Failure> {
    let measured = BenchHistory {
        schema: BenchHistory::schema(),
        repository: repository.to_owned(),
        tip: tip.to_owned(),
        manifest: args.manifest.clone(),
        recording: recording.map(|(info, _)| info.clone()),
        units: UNITS.to_owned(),
        rows: rows.to_vec(),
        totals: totals.clone(),
    };
    let mut text =
        serde_json::to_string_pretty(&measured).map_err(|e| Failure::environment(e.to_string()))?;
    text.push('\n');
    support::atomic::write_atomic(path, text.as_bytes())
        .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
}

/// The anchors' answers per commit id from an earlier run's JSON (`--reuse`): commits they
/// answered, with the determinator, rdeps() and the lower bound.
fn reused_anchors(path: &Path) -> Result<BTreeMap<String, anchors::Anchors>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::invalid_input(format!("cannot read {}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::from(support::Located::from_json(path, &text, &e)))?;
    if json["schema"] != "bench-history/v1" {
        return Err(Failure::invalid_input(format!(
            "{} is not a `cargo xtask bench history --output` file (bench-history/v1)",
            path.display()
        )));
    }
    let names = |value: &serde_json::Value| -> Option<BTreeSet<String>> {
        value.as_array().map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
    };
    let mut reused = BTreeMap::new();
    for row in json["rows"].as_array().into_iter().flatten() {
        let (Some(sha), Some(determinator), Some(rdeps), Some(lower_bound)) = (
            row["sha"].as_str(),
            names(&row["determinator"]),
            names(&row["rdeps"]),
            names(&row["lower_bound"]),
        ) else {
            continue;
        };
        let answer = anchors::Anchors {
            determinator,
            rdeps,
            lower_bound,
            ..anchors::Anchors::default()
        };
        reused.insert(sha.to_owned(), answer);
    }
    eprintln!(
        "reusing the anchors' answers for {} commits from {}",
        reused.len(),
        path.display()
    );
    Ok(reused)
}

/// The recording, refused (exit 2) unless this tool version can use it.
fn load_recording(path: &Path) -> Result<(RecordingInfo, PathBuf), Failure> {
    let loaded = Recording::load(path)?;
    if loaded.schema != recording::RECORDING_SCHEMA || loaded.tool != recording::TOOL_VERSION {
        return Err(Failure::invalid_input(format!(
            "{}: made by {} ({}), this is {} ({})\nhelp: record again with `cargo xtask impact record`",
            path.display(),
            loaded.tool,
            loaded.schema,
            recording::TOOL_VERSION,
            recording::RECORDING_SCHEMA
        )));
    }
    let absolute = std::path::absolute(path)
        .map_err(|e| Failure::environment(format!("{}: {e}", path.display())))?;
    Ok((
        RecordingInfo {
            path: path.display().to_string(),
            commit: loaded.commit,
            lane: loaded.lane,
            filterset: loaded.filterset,
        },
        absolute,
    ))
}

#[allow(clippy::too_many_arguments)]
fn replay_commit(
    sh: &Shell,
    clone: &Path,
    options: &Options,
    commit: &str,
    parent: &str,
    args: &Args,
    recording: Option<&(RecordingInfo, PathBuf)>,
    anchors_bin: &Path,
    anchors_scratch: &Path,
    reused: &BTreeMap<String, anchors::Anchors>,
) -> Result<Row, Failure> {
    let subject = cmd!(sh, "git -C {clone} log -1 --format=%s {commit}")
        .quiet()
        .read()
        .unwrap_or_default();
    let mut row = Row {
        commit: commit.chars().take(10).collect(),
        sha: commit.to_owned(),
        subject: subject.chars().take(60).collect(),
        ..Row::default()
    };
    let recording_path = recording.map(|(_, path)| path.as_path());
    let decided = replay(options, parent, commit, recording_path);
    let manifest = options.manifest_path.as_path();
    let theirs = match reused.get(commit) {
        Some(answer) => Ok(answer.clone()),
        None => anchors::run(
            anchors_bin,
            &Change {
                manifest,
                base: parent,
                head: Some(commit),
                head_checked_out: false,
                metadata_cache: Some(&anchors_scratch.join("metadata")),
            },
            false,
            anchors_scratch,
            Some(args.anchor_limit),
        ),
    };
    match theirs {
        Ok(theirs) if theirs.timed_out => {
            row.anchors_error = Some(format!(
                "stopped after {} s (--anchor-limit)",
                args.anchor_limit.as_secs()
            ))
        }
        Ok(theirs) => {
            row.determinator = Some(theirs.determinator);
            row.rdeps = Some(theirs.rdeps);
            row.lower_bound = Some(theirs.lower_bound);
        }
        Err(failure) => row.anchors_error = Some(first_line(&failure)),
    }
    match decided {
        Ok(Replayed { without, with }) => {
            row.changed_files = without.changed_files.len();
            row.members = without.graph.members().count();
            let ours = ours_from(&without);
            let binaries_of = |packages: &BTreeSet<String>| -> usize {
                without
                    .graph
                    .members()
                    .filter(|(_, p)| packages.contains(&p.name))
                    .map(|(_, p)| p.targets.iter().filter(|t| t.binary_id.is_some()).count())
                    .sum()
            };
            row.determinator_binaries = row.determinator.as_ref().map(binaries_of);
            row.rdeps_binaries = row.rdeps.as_ref().map(binaries_of);
            if let Some(bound) = &row.lower_bound {
                row.misses = bound.difference(&ours.packages).cloned().collect();
                if let Some(determinator) = &row.determinator {
                    row.determinator_misses = bound.difference(determinator).cloned().collect();
                }
            }
            if let (Some(with), Some((_, path))) = (with, recording) {
                row.with_recording = Some(with_recording(&with, path, row.lower_bound.as_ref())?);
            }
            row.ours = Some(ours);
        }
        Err(failure) => row.ours_error = Some(first_line(&failure)),
    }
    Ok(row)
}

fn with_recording(
    report: &Report,
    path: &Path,
    bound: Option<&BTreeSet<String>>,
) -> Result<WithRecording, Failure> {
    let usable = report.recording.as_ref().ok_or_else(|| {
        Failure::environment(format!(
            "the recording {} was not used: {}",
            path.display(),
            report.warnings.join("; ")
        ))
    })?;
    let recording = &usable.recording;
    let ours = ours_from(report);
    let binary_misses = report.misses(recording);
    let mut lower_bound = bound.cloned().unwrap_or_default();
    let packages_of: BTreeMap<String, String> = report
        .graph
        .members()
        .flat_map(|(_, p)| {
            p.targets
                .iter()
                .filter_map(|t| t.binary_id.clone().map(|id| (id, p.name.clone())))
        })
        .collect();
    for file in &report.changed_files {
        for path in std::iter::once(&file.path).chain(&file.old_path) {
            for (id, _) in recording.readers(path) {
                if let Some(package) = packages_of.get(id) {
                    lower_bound.insert(package.clone());
                }
            }
        }
    }
    let misses = lower_bound.difference(&ours.packages).cloned().collect();
    Ok(WithRecording {
        ours,
        lower_bound,
        misses,
        binary_misses,
    })
}

fn first_line(failure: &Failure) -> String {
    failure
        .message
        .as_deref()
        .unwrap_or("failed")
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

fn totals(rows: &[Row]) -> Totals {
    let mut totals = Totals {
        commits: rows.len(),
        errors: rows.iter().filter(|r| r.ours_error.is_some()).count(),
        anchor_errors: rows.iter().filter(|r| r.anchors_error.is_some()).count(),
        ..Totals::default()
    };
    let mut recorded = RecordingTotals::default();
    let mut any_recording = false;
    for row in rows {
        let (Some(ours), Some(determinator), Some(rdeps), Some(bound)) =
            (&row.ours, &row.determinator, &row.rdeps, &row.lower_bound)
        else {
            continue;
        };
        totals.compared += 1;
        totals.ours += ours.packages.len();
        totals.ours_binaries += ours.binaries;
        totals.binaries_in_head += ours.binaries_in_head;
        totals.determinator += determinator.len();
        totals.determinator_binaries += row.determinator_binaries.unwrap_or(0);
        totals.rdeps += rdeps.len();
        totals.rdeps_binaries += row.rdeps_binaries.unwrap_or(0);
        totals.lower_bound += bound.len();
        totals.misses += row.misses.len();
        totals.determinator_misses += row.determinator_misses.len();
        if ours.all {
            totals.everything += 1;
            let classes = classes(ours);
            for class in &classes {
                *totals
                    .everything_by_class
                    .entry(class.to_string())
                    .or_default() += 1;
            }
            if classes.len() == 1 {
                let class = classes.iter().next().expect("one class").to_string();
                // What selecting everything cost beyond the lower bound, for this class alone.
                *totals
                    .everything_packages_by_class
                    .entry(class)
                    .or_default() += ours.packages.len() - bound.len().min(ours.packages.len());
            }
        }
        if let Some(with) = &row.with_recording {
            any_recording = true;
            recorded.ours += with.ours.packages.len();
            recorded.ours_binaries += with.ours.binaries;
            recorded.ours_tests += with.ours.tests;
            recorded.lower_bound += with.lower_bound.len();
            recorded.everything += usize::from(with.ours.all);
            recorded.misses += with.misses.len();
            recorded.binary_misses += with.binary_misses.len();
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    totals.ours_vs_determinator = ratio(totals.ours, totals.determinator);
    totals.ours_vs_lower_bound = ratio(totals.ours, totals.lower_bound);
    totals.everything_share = ratio(totals.everything, totals.compared);
    if any_recording {
        recorded.ours_vs_lower_bound = ratio(recorded.ours, recorded.lower_bound);
        totals.with_recording = Some(recorded);
    }
    totals
}

fn progress(row: &Row) -> String {
    let size =
        |set: &Option<BTreeSet<String>>| set.as_ref().map_or("-".into(), |s| s.len().to_string());
    let ours = match (&row.ours, &row.ours_error) {
        (Some(ours), _) => ours.packages.len().to_string(),
        (None, Some(error)) => format!("error ({error})"),
        _ => "-".into(),
    };
    let mut line = format!(
        "{} ours {ours} determinator {} rdeps {} lower bound {} ({:.1} s)",
        row.commit,
        size(&row.determinator),
        size(&row.rdeps),
        size(&row.lower_bound),
        row.seconds
    );
    if let Some(error) = &row.anchors_error {
        line.push_str(&format!("; anchors: {error}"));
    }
    line
}

fn table(
    repository: &str,
    tip: &str,
    rows: &[Row],
    totals: &Totals,
    recording: Option<&(RecordingInfo, PathBuf)>,
) -> String {
    let mut header = vec![
        "commit", "files", "members", "ours", "bins", "determ.", "rdeps", "lower", "misses",
    ];
    if recording.is_some() {
        header.extend(["rec.", "rec. bins+tests", "rec. lower", "rec. misses"]);
    }
    header.push("everything because");
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let size =
        |set: &Option<BTreeSet<String>>| set.as_ref().map_or("-".into(), |s| s.len().to_string());
    for row in rows {
        let mut line = vec![
            row.commit.clone(),
            row.changed_files.to_string(),
            row.members.to_string(),
        ];
        match &row.ours {
            Some(ours) => line.extend([
                ours.packages.len().to_string(),
                format!("{}/{}", ours.binaries, ours.binaries_in_head),
            ]),
            None => line.extend(["error".into(), "-".into()]),
        }
        line.extend([
            size(&row.determinator),
            size(&row.rdeps),
            size(&row.lower_bound),
            row.misses.len().to_string(),
        ]);
        if recording.is_some() {
            match &row.with_recording {
                Some(with) => line.extend([
                    with.ours.packages.len().to_string(),
                    format!("{}+{}", with.ours.binaries, with.ours.tests),
                    with.lower_bound.len().to_string(),
                    (with.misses.len() + with.binary_misses.len()).to_string(),
                ]),
                None => line.extend(["-".into(), "-".into(), "-".into(), "-".into()]),
            }
        }
        let why = match (&row.ours, &row.ours_error, &row.anchors_error) {
            (_, Some(error), _) => format!("ours failed: {error}"),
            (Some(ours), _, _) if ours.all => {
                classes(ours).into_iter().collect::<Vec<_>>().join(", ")
            }
            (_, _, Some(error)) => format!("anchors failed: {error}"),
            _ => String::new(),
        };
        line.push(why);
        lines.push(line);
    }
    let short: String = tip.chars().take(10).collect();
    let mut text = format!(
        "{repository} at {short}: {} first-parent commits, each against its first parent\nunits: {UNITS}\n",
        totals.commits
    );
    if let Some((info, _)) = recording {
        let commit: String = info.commit.chars().take(10).collect();
        text.push_str(&format!(
            "recording: {} (commit {commit}, lane {})\n",
            info.path,
            info.lane.as_deref().unwrap_or("all")
        ));
    }
    text.push_str(&crate::aligned_table(&lines));
    let percent = |x: f64| format!("{:.0}%", x * 100.0);
    text.push_str(&format!(
        "\ntotal over {} compared commits ({} ours failed, {} anchors failed):\n",
        totals.compared, totals.errors, totals.anchor_errors
    ));
    text.push_str(&format!(
        "  ours {} packages ({} of {} test binaries), determinator {}, rdeps() {}, lower bound {}\n",
        totals.ours,
        totals.ours_binaries,
        totals.binaries_in_head,
        totals.determinator,
        totals.rdeps,
        totals.lower_bound
    ));
    text.push_str(&format!(
        "  ours / determinator {} (target at most 60%), ours / lower bound {:.2}x, lower bound / determinator {}\n",
        percent(totals.ours_vs_determinator),
        totals.ours_vs_lower_bound,
        percent(if totals.determinator == 0 { 0.0 } else { totals.lower_bound as f64 / totals.determinator as f64 })
    ));
    text.push_str(&format!(
        "  in test binaries: ours {}, determinator's packages {}, rdeps()'s packages {} (ours / determinator {})\n",
        totals.ours_binaries,
        totals.determinator_binaries,
        totals.rdeps_binaries,
        percent(if totals.determinator_binaries == 0 { 0.0 } else { totals.ours_binaries as f64 / totals.determinator_binaries as f64 })
    ));
    let classes: Vec<String> = totals
        .everything_by_class
        .iter()
        .map(|(class, n)| {
            let cost = totals
                .everything_packages_by_class
                .get(class)
                .map_or(String::new(), |p| {
                    format!(", {p} packages over the bound alone")
                });
            format!("{class} {n}{cost}")
        })
        .collect();
    text.push_str(&format!(
        "  everything on {} commits ({}; target under 15%){}\n",
        totals.everything,
        percent(totals.everything_share),
        if classes.is_empty() {
            String::new()
        } else {
            format!(": {}", classes.join("; "))
        }
    ));
    text.push_str(&format!(
        "  misses against the lower bound: ours {}, determinator {} (target 0 for ours)\n",
        totals.misses, totals.determinator_misses
    ));
    if let Some(recorded) = &totals.with_recording {
        text.push_str(&format!(
            "  with the recording: ours {} packages ({} whole binaries and {} single tests), lower bound with recorded reads {}, {:.2}x (target at most 1.3x), everything on {} commits, misses {} packages and {} tests\n",
            recorded.ours,
            recorded.ours_binaries,
            recorded.ours_tests,
            recorded.lower_bound,
            recorded.ours_vs_lower_bound,
            recorded.everything,
            recorded.misses,
            recorded.binary_misses
        ));
    }
    for row in rows {
        for miss in &row.misses {
            text.push_str(&format!(
                "  miss {}: {miss} (lower bound, not selected)\n",
                row.commit
            ));
        }
        if let Some(with) = &row.with_recording {
            for (binary, file) in &with.binary_misses {
                text.push_str(&format!(
                    "  miss {} with the recording: {binary} read {file}\n",
                    row.commit
                ));
            }
        }
        if let Some(error) = &row.ours_error {
            text.push_str(&format!("  error {}: {error}\n", row.commit));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::reason_class;

    #[test]
    fn reasons_are_classed_by_the_file_they_name() {
        let cases = [
            (
                ".github/workflows/ci.yml matches `.github/workflows/**` (default rule): CI",
                "workflow",
            ),
            (
                "rust-toolchain.toml matches `rust-toolchain.toml` (default rule)",
                "toolchain",
            ),
            (
                ".cargo/config.toml matches `.cargo/config.toml` (default rule)",
                "cargo-config",
            ),
            (
                "scripts/x.py is outside every package and no rule or include explains it",
                "outside-file",
            ),
            (
                "Cargo.toml [profile] changed (applies to every build)",
                "root-manifest",
            ),
            (
                "workspace.dependencies changed (applies to every member)",
                "root-manifest",
            ),
            ("docs/x matches `docs/**` (lanes.toml): docs", "rule"),
            (
                "ci.yml: job `test` runs tests (step 4: `cargo nextest run` runs `cargo nextest`) and its steps changed",
                "workflow",
            ),
            (
                "scripts/test.sh is run by job `test` of ci.yml, which runs tests",
                "workflow",
            ),
        ];
        for (reason, class) in cases {
            assert_eq!(reason_class(reason), class, "{reason}");
        }
    }
}
