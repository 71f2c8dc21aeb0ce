//! The anchors impact analysis is measured against (guppy's determinator and nextest
//! `rdeps()`), run through the `impact-anchors` binary: guppy and determinator live in that
//! bench-only crate, never in xtask. It is built on demand (`cargo build -p impact-anchors`, in
//! the bench's own profile: see [`build`]) and run as a child process, timed from spawn to
//! exit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use output_types::bench::ImpactAnchors;
use support::Failure;
use xshell::{Shell, cmd};

use crate::measure::{GNU_TIME, peak_mib};

/// What the anchors selected for one change, and how long the determinator took end to end, as
/// the bench's reports hold it.
pub use output_types::bench::AnchorsRun as Anchors;

/// Builds the anchors binary (this workspace's target directory) in the profile the bench
/// itself was built with, and returns its path. `cargo xtask bench` builds the bench in xtask's
/// profile, so the anchors and the engine they are timed against share one: release for the
/// figures of record (`cargo run --release -p xtask -- bench all`); the bench's own tests,
/// debug builds, then need no release build of guppy.
pub fn build() -> Result<PathBuf, Failure> {
    let root = crate::project_root();
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(&root);
    let (profile_dir, release) = if cfg!(debug_assertions) {
        ("debug", None)
    } else {
        ("release", Some("--release"))
    };
    eprintln!(
        "building impact-anchors (guppy's determinator) with `cargo build{} -p impact-anchors`",
        release.map_or(String::new(), |flag| format!(" {flag}"))
    );
    cmd!(sh, "cargo build --quiet {release...} -p impact-anchors")
        .run()
        .map_err(|e| Failure::environment(format!("cannot build impact-anchors: {e}")))?;
    let metadata = cmd!(sh, "cargo metadata --no-deps --format-version 1")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("cargo metadata failed: {e}")))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|e| Failure::environment(format!("cargo metadata printed no JSON: {e}")))?;
    let target = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| Failure::environment("cargo metadata names no target directory"))?;
    Ok(Path::new(target).join(profile_dir).join("impact-anchors"))
}

/// The change the anchors are asked about.
pub struct Change<'a> {
    pub manifest: &'a Path,
    pub base: &'a str,
    /// `None`: the working tree.
    pub head: Option<&'a str>,
    /// The working tree holds `head`, so the anchors need not export it.
    pub head_checked_out: bool,
    /// Keep each commit's `cargo metadata` here and reuse it (`--metadata-cache`): for replays
    /// of many commits, where each is the base of the next. Timings are then not end to end.
    pub metadata_cache: Option<&'a Path>,
}

/// Runs the anchors on one change; scratch files (exported trees) go under `scratch`. With a
/// `limit`, a run still going then is stopped (coreutils `timeout`) and reported as such.
pub fn run(
    binary: &Path,
    change: &Change<'_>,
    measure_memory: bool,
    scratch: &Path,
    limit: Option<Duration>,
) -> Result<Anchors, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(change.manifest.parent().unwrap_or(Path::new(".")));
    let mut args = vec![
        "--manifest-path".to_string(),
        change.manifest.display().to_string(),
        "--base".into(),
        change.base.into(),
    ];
    if let Some(head) = change.head {
        args.extend(["--head".into(), head.into()]);
    }
    if change.head_checked_out {
        args.push("--head-checked-out".into());
    }
    if let Some(dir) = change.metadata_cache {
        args.extend(["--metadata-cache".into(), dir.display().to_string()]);
    }
    let mut prefix: Vec<String> = Vec::new();
    if measure_memory {
        prefix.extend([GNU_TIME.to_string(), "-v".into()]);
    }
    if let Some(limit) = limit {
        prefix.extend(["timeout".into(), format!("{}", limit.as_secs().max(1))]);
    }
    let mut argv = prefix;
    argv.push(binary.display().to_string());
    argv.extend(args);
    let (program, rest) = argv.split_first().expect("the binary is always there");
    let command = cmd!(sh, "{program} {rest...}");
    let started = Instant::now();
    let output = command
        .env("TMPDIR", scratch)
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| Failure::environment(format!("cannot run impact-anchors: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // `timeout` exits 124 when it stopped the command (GNU time passes the code on).
    if limit.is_some() && output.status.code() == Some(124) {
        return Ok(Anchors {
            seconds,
            peak_mib: peak_mib(&stderr),
            timed_out: true,
            ..Anchors::default()
        });
    }
    if !output.status.success() {
        return Err(Failure::environment(format!(
            "impact-anchors failed on {} ({}):\n{stderr}",
            change.manifest.display(),
            output.status
        )));
    }
    let report: ImpactAnchors = serde_json::from_slice(&output.stdout).map_err(|e| {
        Failure::environment(format!(
            "impact-anchors printed no impact-anchors/v1 JSON: {e}"
        ))
    })?;
    Ok(Anchors {
        determinator: report.determinator.packages,
        rdeps: report.rdeps.packages,
        lower_bound: report.lower_bound.packages,
        members: report.members,
        seconds,
        peak_mib: peak_mib(&stderr),
        phases: report.phases,
        timed_out: false,
    })
}
