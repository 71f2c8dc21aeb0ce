//! `cargo xtask bench impact [--sizes 50,500,2000,10000] [--seed N] [--warm-runs N] [--dir DIR]
//! [--this-workspace] [--output FILE]`
//!
//! For each size, generates a synthetic workspace (see `impact_scenarios::synthetic`) and times the real
//! decision, `xtask impact --base <base> --head <head> --format json`, run as a child process of
//! this very binary: cold (a freshly generated repository, nothing cached, so `cargo metadata`
//! runs) and warm (the same call again, answered from the metadata cache). Peak memory is the
//! maximum resident set of the decision's process tree, from `/usr/bin/time -v` when present.
//! Each decision is also checked against the brute-force reference closure of the change.
//! For scale, each row also times one plain `cargo metadata` on the same workspace: the floor
//! under any cold decision that needs the resolved graph.
//!
//! `--this-workspace` adds a row for this repository's own last commit (`--base HEAD~1 --head
//! HEAD`), cold and warm against a fresh target directory (so the shared build's dep-info and
//! cache play no part).
//!
//! Workspaces are generated under `--dir`, by default `/dev/shm` when it exists (tens of
//! thousands of small files are written and committed per size; on tmpfs that takes seconds, not
//! minutes), else the system temp dir. The header says which.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use output_types::Shape;
use output_types::bench::{BenchImpact, ImpactRow as Row};
use support::{Exit, Failure};
use xshell::{Shell, cmd};

use impact_scenarios::synthetic;

use crate::cli::ImpactArgs;
use crate::measure::{GNU_TIME, ScratchDir, default_scratch_parent};

pub(super) struct Options {
    pub sizes: Vec<usize>,
    pub seed: u64,
    pub warm_runs: usize,
    pub output: Option<PathBuf>,
    pub dir: PathBuf,
    pub this_workspace: bool,
}

impl Options {
    fn new(args: &ImpactArgs) -> Options {
        Options {
            sizes: args.sizes.clone(),
            seed: args.seed,
            warm_runs: args.warm_runs as usize,
            output: args.output.clone(),
            dir: args.dir.clone().unwrap_or_else(default_scratch_parent),
            this_workspace: args.this_workspace,
        }
    }
}

pub fn run(args: &ImpactArgs) -> Result<Exit, Failure> {
    let options = Options::new(args);
    let (engine, profile) = crate::this_xtask()?;
    let measure_memory = Path::new(GNU_TIME).exists();
    eprintln!(
        "engine: {} impact (the `cargo xtask impact` CLI, {profile} build), workspaces in {}, \
         seed {}, {} warm runs{}",
        engine.display(),
        options.dir.display(),
        options.seed,
        options.warm_runs,
        if measure_memory {
            ""
        } else {
            "; /usr/bin/time not found, peak memory not measured"
        }
    );

    let mut rows = Vec::new();
    for &crates in &options.sizes {
        let row = bench_size(&engine, crates, &options, measure_memory, None)?;
        eprintln!(
            "  {crates} crates: cold {} ms, warm {} ms, selected {} (reference {})",
            row.cold_ms,
            row.warm_ms,
            row.selected,
            row.reference.unwrap_or_default()
        );
        rows.push(row);
    }
    if options.this_workspace {
        rows.push(bench_this_workspace(&engine, &options, measure_memory)?);
    }

    println!(
        "{:<15}  {:>7}  {:>11}  {:>8}  {:>8}  {:>13}  {:>9}  {:>9}  {:>8}",
        "workspace",
        "crates",
        "generate ms",
        "cold ms",
        "warm ms",
        "metadata ms",
        "cold MiB",
        "warm MiB",
        "selected"
    );
    let mib = |m: Option<f64>| m.map_or("-".to_string(), |m| format!("{m:.1}"));
    for row in &rows {
        println!(
            "{:<15}  {:>7}  {:>11}  {:>8}  {:>8}  {:>13}  {:>9}  {:>9}  {:>8}",
            row.workspace,
            row.crates,
            row.generate_ms.map_or("-".to_string(), |ms| ms.to_string()),
            row.cold_ms,
            row.warm_ms,
            row.cargo_metadata_ms,
            mib(row.cold_peak_mib),
            mib(row.warm_peak_mib),
            row.selected
        );
    }

    let mismatched: Vec<usize> = rows
        .iter()
        .filter(|r| r.reference.is_some_and(|reference| reference != r.selected))
        .map(|r| r.crates)
        .collect();
    if let Some(path) = &options.output {
        let report = BenchImpact {
            schema: BenchImpact::schema(),
            engine: engine.display().to_string(),
            profile: profile.to_owned(),
            seed: options.seed,
            warm_runs: options.warm_runs,
            dir: options.dir.display().to_string(),
            rows,
        };
        let text = serde_json::to_string_pretty(&report).expect("the report serializes");
        support::atomic::write_atomic(path, text.as_bytes())
            .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))?;
    }
    if mismatched.is_empty() {
        Ok(Exit::Success)
    } else {
        Err(Failure::check_failed(format!(
            "the selection differs from the reference closure for sizes {mismatched:?}"
        )))
    }
}

/// One synthetic size: our decision cold and warm; with `anchors` (the impact-anchors binary),
/// the determinator on the same change too.
pub(super) fn bench_size(
    engine: &Path,
    crates: usize,
    options: &Options,
    measure_memory: bool,
    anchors: Option<(&Path, Duration)>,
) -> Result<Row, Failure> {
    let dir = ScratchDir::new(&options.dir, crates)?;
    let started = Instant::now();
    let changed = synthetic::typical_change(&synthetic::graph(crates, options.seed));
    let workspace = synthetic::generate(&dir.0.join("ws"), crates, options.seed, changed)
        .map_err(|e| Failure::environment(format!("generating {crates} crates failed: {e}")))?;
    let generate_ms = millis(started.elapsed());
    eprintln!("  {crates} crates: generated and committed in {generate_ms} ms");

    let request = Request {
        root: &workspace.root,
        manifest: &workspace.manifest,
        base: &workspace.base,
        head: &workspace.head,
        target_dir: &workspace.root.join("target"),
    };
    let (cold, warm) = cold_then_warm(engine, &request, options.warm_runs, measure_memory)?;
    let median = &warm[warm.len() / 2];

    let reference: BTreeSet<String> =
        synthetic::reference_closure(&workspace.graph, workspace.changed)
            .into_iter()
            .map(synthetic::crate_name)
            .collect();
    if cold.selected != reference {
        let missing: Vec<_> = reference.difference(&cold.selected).take(5).collect();
        let extra: Vec<_> = cold.selected.difference(&reference).take(5).collect();
        eprintln!(
            "  {crates} crates: selection differs from the reference closure \
             (missing e.g. {missing:?}, extra e.g. {extra:?})"
        );
    }
    let determinator = anchors
        .map(|(binary, limit)| {
            crate::anchors::run(
                binary,
                &crate::anchors::Change {
                    manifest: &workspace.manifest,
                    base: &workspace.base,
                    head: Some(&workspace.head),
                    head_checked_out: true,
                    metadata_cache: None,
                },
                measure_memory,
                &dir.0,
                Some(limit),
            )
        })
        .transpose()?;
    Ok(Row {
        workspace: "synthetic".to_owned(),
        crates,
        generate_ms: Some(generate_ms),
        cold_ms: millis(cold.elapsed),
        warm_ms: millis(median.elapsed),
        cargo_metadata_ms: time_cargo_metadata(&request)?,
        cold_peak_mib: cold.peak_mib,
        warm_peak_mib: warm.iter().filter_map(|d| d.peak_mib).reduce(f64::max),
        selected: cold.selected.len(),
        reference: Some(reference.len()),
        determinator,
    })
}

/// This repository's last commit, decided cold then warm against a fresh target directory.
fn bench_this_workspace(
    engine: &Path,
    options: &Options,
    measure_memory: bool,
) -> Result<Row, Failure> {
    let root = crate::project_root();
    let manifest = root.join("Cargo.toml");
    let scratch = ScratchDir::new(&options.dir, 0)?;
    let request = Request {
        root: &root,
        manifest: &manifest,
        base: "HEAD~1",
        head: "HEAD",
        target_dir: &scratch.0.join("target"),
    };
    let (cold, warm) = cold_then_warm(engine, &request, options.warm_runs, measure_memory)?;
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let metadata = cmd!(
        sh,
        "cargo metadata --no-deps --format-version 1 --manifest-path {manifest}"
    )
    .quiet()
    .read()
    .map_err(|e| Failure::environment(format!("cargo metadata failed: {e}")))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|e| Failure::environment(format!("cargo metadata printed no JSON: {e}")))?;
    let crates = metadata["workspace_members"].as_array().map_or(0, Vec::len);
    eprintln!(
        "  this workspace (HEAD~1..HEAD, {crates} members): cold {} ms, warm {} ms, selected {}",
        cold.elapsed.as_millis(),
        warm[warm.len() / 2].elapsed.as_millis(),
        cold.selected.len()
    );
    Ok(Row {
        workspace: "this workspace".to_owned(),
        crates,
        generate_ms: None,
        cold_ms: millis(cold.elapsed),
        warm_ms: millis(warm[warm.len() / 2].elapsed),
        cargo_metadata_ms: time_cargo_metadata(&request)?,
        cold_peak_mib: cold.peak_mib,
        warm_peak_mib: warm.iter().filter_map(|d| d.peak_mib).reduce(f64::max),
        selected: cold.selected.len(),
        reference: None,
        determinator: None,
    })
}

/// Wall time of one `cargo metadata --format-version 1` (with dependencies resolved, as a cold
/// decision needs) on the request's workspace.
fn time_cargo_metadata(request: &Request<'_>) -> Result<u64, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(request.root);
    let manifest = request.manifest;
    let started = Instant::now();
    cmd!(
        sh,
        "cargo metadata --format-version 1 --offline --manifest-path {manifest}"
    )
    .env("CARGO_TARGET_DIR", request.target_dir)
    .quiet()
    .ignore_stdout()
    .run()
    .map_err(|e| Failure::environment(format!("cargo metadata failed: {e}")))?;
    Ok(millis(started.elapsed()))
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// What one decision is asked: the analysed revisions and where the engine keeps its cache.
struct Request<'a> {
    root: &'a Path,
    manifest: &'a Path,
    base: &'a str,
    head: &'a str,
    target_dir: &'a Path,
}

/// The first decision (cold: nothing cached in `target_dir` yet) and `warm_runs` more, sorted
/// by time; every one must select the same packages.
fn cold_then_warm(
    engine: &Path,
    request: &Request<'_>,
    warm_runs: usize,
    measure_memory: bool,
) -> Result<(Decision, Vec<Decision>), Failure> {
    let cold = decide(engine, request, measure_memory)?;
    let mut warm = Vec::with_capacity(warm_runs);
    for _ in 0..warm_runs {
        let decision = decide(engine, request, measure_memory)?;
        if decision.selected != cold.selected {
            return Err(Failure::check_failed(format!(
                "{}: a warm decision differs from the cold one",
                request.root.display()
            )));
        }
        warm.push(decision);
    }
    warm.sort_by_key(|d| d.elapsed);
    Ok((cold, warm))
}

pub(super) struct Decision {
    elapsed: Duration,
    peak_mib: Option<f64>,
    selected: BTreeSet<String>,
}

/// One run of the real decision as a child process, timed from spawn to exit.
fn decide(engine: &Path, request: &Request<'_>, measure_memory: bool) -> Result<Decision, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(request.root);
    let (manifest, base, head) = (request.manifest, request.base, request.head);
    let impact_args = [
        "impact",
        "--manifest-path",
        &manifest.display().to_string(),
        "--base",
        base,
        "--head",
        head,
        "--format",
        "json",
    ]
    .map(str::to_string);
    let command = if measure_memory {
        cmd!(sh, "{GNU_TIME} -v {engine} {impact_args...}")
    } else {
        cmd!(sh, "{engine} {impact_args...}")
    };
    let started = Instant::now();
    let output = command
        .env("CARGO_TARGET_DIR", request.target_dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| Failure::environment(format!("cannot run the impact engine: {e}")))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(Failure::check_failed(format!(
            "`xtask impact` failed on {} ({}):\n{stderr}",
            request.root.display(),
            output.status
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        Failure::check_failed(format!("`xtask impact --format json` printed no JSON: {e}"))
    })?;
    let selected = json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    // GNU time: "Maximum resident set size (kbytes): 12345".
    let peak_mib = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    Ok(Decision {
        elapsed,
        peak_mib,
        selected,
    })
}
