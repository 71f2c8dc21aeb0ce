//! `cargo xtask bench all [--quick] [--output FILE] [--only LIST] [--commits N] [--sizes LIST]
//! [--anchor-limit SECS] [--dir DIR]`: the product against its anchors, side by side, in one run and one table.
//!
//! - **precision**: every conformance scenario (`impact_scenarios::table`, built by `impact_scenarios::repo`
//!   exactly as the suite builds it) and the last `--commits` commits of this repository
//!   (`HEAD~k+1..HEAD~k`): the packages our decision, guppy's determinator and nextest
//!   `rdeps()` select (see `anchors.rs` and the `impact-anchors` crate);
//! - **speed**: our decision cold and warm against the determinator end to end, with peak memory,
//!   on synthetic workspaces (`impact_scenarios::synthetic`); a determinator run longer than `--anchor-limit`
//!   (600 s) is stopped and its time reported as a lower bound;
//! - **artifacts**: `node::hash` against `sha256sum` on the same files (`artifacts.rs`);
//! - **preflight**: `xtask preflight` failing on an injected syntax error against the `fast`
//!   lane failing on it, warm cache, in a copy of the workspace;
//! - **build**: a clean build of the xtask binary and its dependency count.
//!
//! Ratios are ours / theirs; each target says which way is better and whether it is met.
//! `--quick` runs small sizes and a subset (for trying it out and for tests); figures of record
//! come from `cargo run --release -p xtask -- bench all`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ValueEnum as _;
use output_types::Shape;
use output_types::bench::{
    AllArtifacts as Artifacts, AllBuild as Build, AllLine as Line, AllMeasured as Measured,
    AllPrecision as Precision, AllPreflight as Preflight, AllSelection as Selection, BenchAll,
};
use support::{Exit, Failure};
use xshell::{Shell, cmd};

use crate::anchors::{self, Change};
use crate::cli::{AllArgs, ArtifactsArgs, Section};
use crate::measure::{GNU_TIME, ScratchDir};
use crate::{artifacts, impact};
use impact_scenarios::repo as scenario_repo;
use impact_scenarios::table::{Checkout, SCENARIOS, selector_package};

struct Options {
    quick: bool,
    output: Option<PathBuf>,
    only: BTreeSet<Section>,
    commits: usize,
    sizes: Vec<usize>,
    dir: PathBuf,
    /// The determinator's time limit per synthetic size.
    anchor_limit: Duration,
}

impl Options {
    /// The flags with their defaults, which `--quick` narrows.
    fn new(args: &AllArgs) -> Options {
        let (commits, sizes) = if args.quick {
            (10, vec![50, 500])
        } else {
            (50, vec![50, 500, 2000, 10000])
        };
        Options {
            quick: args.quick,
            output: args.output.clone(),
            only: if args.only.is_empty() {
                Section::value_variants().iter().copied().collect()
            } else {
                args.only.iter().copied().collect()
            },
            commits: args.commits.unwrap_or(commits),
            sizes: if args.sizes.is_empty() {
                sizes
            } else {
                args.sizes.clone()
            },
            dir: args
                .dir
                .clone()
                .unwrap_or_else(crate::measure::default_scratch_parent),
            anchor_limit: Duration::from_secs(args.anchor_limit),
        }
    }
}

/// Totals and misses over the changes of one precision section.
trait Totals {
    /// Packages `pick` selected, summed over the changes.
    fn total(&self, pick: impl Fn(&Selection) -> &BTreeSet<String>) -> usize;
    /// Required packages `pick` did not select, as `change: package`.
    fn misses(&self, pick: impl Fn(&Selection) -> &BTreeSet<String>) -> Vec<String>;
}

impl Totals for Precision {
    fn total(&self, pick: impl Fn(&Selection) -> &BTreeSet<String>) -> usize {
        self.changes.iter().map(|c| pick(c).len()).sum()
    }

    fn misses(&self, pick: impl Fn(&Selection) -> &BTreeSet<String>) -> Vec<String> {
        self.changes
            .iter()
            .flat_map(|c| {
                c.required
                    .difference(pick(c))
                    .map(|p| format!("{}: {p}", c.name))
            })
            .collect()
    }
}

pub fn run(args: &AllArgs) -> Result<Exit, Failure> {
    let options = Options::new(args);
    let (engine, profile) = crate::this_xtask()?;
    let measure_memory = Path::new(GNU_TIME).exists();
    if !measure_memory {
        eprintln!("{} not found: peak memory is not measured", GNU_TIME);
    }
    let wants = |section: Section| options.only.contains(&section);
    let needs_anchors =
        wants(Section::Scenarios) || wants(Section::History) || wants(Section::Speed);
    let anchors_bin = if needs_anchors {
        Some(anchors::build()?)
    } else {
        None
    };
    let mut measured = Measured::default();
    let started = Instant::now();
    // A section that fails is reported in the notes; the others still make the table.
    let mut failures: Vec<String> = Vec::new();
    let mut keep = |section: &str, result: Result<(), Failure>| {
        if let Err(failure) = result {
            let message = failure.message.unwrap_or_default();
            eprintln!("{section}: failed: {message}");
            failures.push(format!("{section} failed: {message}"));
        }
    };
    if let Some(bin) = &anchors_bin {
        if wants(Section::Scenarios) {
            let result = scenarios(&engine, bin, &options, measure_memory);
            keep("scenarios", result.map(|p| measured.scenarios = Some(p)));
        }
        if wants(Section::History) {
            let result = history(&engine, bin, &options, measure_memory);
            keep("history", result.map(|p| measured.history = Some(p)));
        }
        if wants(Section::Speed) {
            let impact_options = impact::Options {
                sizes: options.sizes.clone(),
                seed: 42,
                warm_runs: 3,
                output: None,
                dir: options.dir.clone(),
                this_workspace: false,
            };
            for &crates in &options.sizes {
                eprintln!("speed: {crates} crates");
                let result = impact::bench_size(
                    &engine,
                    crates,
                    &impact_options,
                    measure_memory,
                    Some((bin, options.anchor_limit)),
                );
                keep("speed", result.map(|row| measured.speed.push(row)));
            }
        }
    }
    if wants(Section::Artifacts) {
        let result = artifacts_section(&options);
        keep("artifacts", result.map(|a| measured.artifacts = Some(a)));
    }
    if wants(Section::Preflight) && !options.quick {
        let result = preflight(&engine, &options);
        keep("preflight", result.map(|p| measured.preflight = Some(p)));
    }
    if wants(Section::Build) {
        let result = build(&options);
        keep("build", result.map(|b| measured.build = Some(b)));
    }

    let lines = lines(&measured);
    let header = format!(
        "bench all: xtask {profile} build, {} core(s), {} in {:.0} s{}",
        node::hash::effective_jobs(0),
        if options.quick {
            "quick run"
        } else {
            "full run"
        },
        started.elapsed().as_secs_f64(),
        if measure_memory {
            ""
        } else {
            "; peak memory not measured (no /usr/bin/time)"
        }
    );
    println!("{header}\n{}", render(&lines));
    let notes: Vec<String> = notes(&measured)
        .into_iter()
        .chain(failures.clone())
        .collect();
    for note in &notes {
        println!("note: {note}");
    }
    if let Some(path) = &options.output {
        let report = BenchAll {
            schema: BenchAll::schema(),
            build: profile.to_owned(),
            quick: options.quick,
            seconds: started.elapsed().as_secs_f64(),
            lines,
            notes,
            measured,
        };
        let text = serde_json::to_string_pretty(&report).expect("the report serializes");
        support::atomic::write_atomic(path, text.as_bytes())
            .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    if failures.is_empty() {
        Ok(Exit::Success)
    } else {
        Err(Failure::environment(failures.join("\n")))
    }
}

/// A target on a line: on the ratio, or on our absolute figure.
enum Target {
    RatioAtMost(f64),
    RatioAtLeast(f64),
    OursAtMost(f64, &'static str),
    Zero,
}

impl Target {
    fn check(&self, ratio: Option<f64>, ours: f64) -> (String, Option<bool>) {
        match *self {
            Target::RatioAtMost(t) => (format!("ratio <= {t}"), ratio.map(|r| r <= t)),
            Target::RatioAtLeast(t) => (format!("ratio >= {t}"), ratio.map(|r| r >= t)),
            Target::OursAtMost(t, unit) => (format!("ours < {t} {unit}"), Some(ours < t)),
            Target::Zero => ("0".into(), Some(ours == 0.0)),
        }
    }
}

fn ratio(ours: f64, theirs: f64) -> Option<f64> {
    (theirs > 0.0).then(|| ours / theirs)
}

#[allow(clippy::too_many_arguments)]
fn line(
    area: &str,
    measure: &str,
    ours_value: f64,
    theirs_value: Option<f64>,
    ours: String,
    theirs: String,
    anchor: &str,
    target: Option<Target>,
) -> Line {
    let ratio = theirs_value.and_then(|t| ratio(ours_value, t));
    let (target, met) = match target {
        Some(t) => {
            let (text, met) = t.check(ratio, ours_value);
            (Some(text), met)
        }
        None => (None, None),
    };
    Line {
        area: area.into(),
        measure: measure.into(),
        ratio,
        ours,
        theirs,
        anchor: anchor.into(),
        target,
        met,
    }
}

fn precision_lines(area: &str, precision: &Precision, out: &mut Vec<Line>) {
    let ours = precision.total(|c| &c.ours) as f64;
    let determinator = precision.total(|c| &c.determinator) as f64;
    let rdeps = precision.total(|c| &c.rdeps) as f64;
    let required = precision.total(|c| &c.required) as f64;
    let count = |n: f64| format!("{n:.0} packages");
    out.push(line(
        area,
        "total selected",
        ours,
        Some(determinator),
        count(ours),
        count(determinator),
        "guppy determinator",
        Some(Target::RatioAtMost(0.70)),
    ));
    out.push(line(
        area,
        "total selected",
        ours,
        Some(rdeps),
        count(ours),
        count(rdeps),
        "nextest rdeps()",
        None,
    ));
    out.push(line(
        area,
        "total selected",
        ours,
        Some(required),
        count(ours),
        count(required),
        &precision.required_means,
        Some(Target::RatioAtMost(1.15)),
    ));
    let misses = |pick: fn(&Selection) -> &BTreeSet<String>| precision.misses(pick).len() as f64;
    out.push(line(
        area,
        "misses (required, not selected)",
        misses(|c| &c.ours),
        None,
        format!("{:.0}", misses(|c| &c.ours)),
        format!(
            "determinator {:.0}, rdeps {:.0}",
            misses(|c| &c.determinator),
            misses(|c| &c.rdeps)
        ),
        &precision.required_means,
        Some(Target::Zero),
    ));
}

/// The table, from what was measured (pure: unit tested).
fn lines(measured: &Measured) -> Vec<Line> {
    let mut out = Vec::new();
    if let Some(p) = &measured.scenarios {
        let area = format!("precision: {} conformance scenarios", p.changes.len());
        precision_lines(&area, p, &mut out);
    }
    if let Some(p) = &measured.history {
        let area = format!(
            "precision: last {} commits of this repository",
            p.changes.len()
        );
        precision_lines(&area, p, &mut out);
    }
    for row in &measured.speed {
        let area = format!("speed: {} crates", row.crates);
        let Some(det) = &row.determinator else {
            continue;
        };
        let det_ms = det.seconds * 1000.0;
        let ms = |v: f64| format!("{v:.0} ms");
        // A stopped run took at least this long: the ratio is then an upper bound.
        let theirs = if det.timed_out {
            format!("> {det_ms:.0} ms (stopped)")
        } else {
            ms(det_ms)
        };
        out.push(line(
            &area,
            "decision, warm",
            row.warm_ms as f64,
            Some(det_ms),
            ms(row.warm_ms as f64),
            theirs.clone(),
            "determinator end to end",
            Some(Target::RatioAtMost(0.05)),
        ));
        if row.crates >= 10000 {
            out.push(line(
                &area,
                "decision, warm (absolute)",
                row.warm_ms as f64,
                None,
                ms(row.warm_ms as f64),
                "-".into(),
                "-",
                Some(Target::OursAtMost(200.0, "ms")),
            ));
        }
        out.push(line(
            &area,
            "decision, cold",
            row.cold_ms as f64,
            Some(det_ms),
            ms(row.cold_ms as f64),
            theirs,
            "determinator end to end",
            None,
        ));
        if let (Some(ours), Some(theirs), false) = (row.cold_peak_mib, det.peak_mib, det.timed_out)
        {
            out.push(line(
                &area,
                "peak memory, cold",
                ours,
                Some(theirs),
                format!("{ours:.0} MiB"),
                format!("{theirs:.0} MiB"),
                "determinator end to end",
                None,
            ));
        }
    }
    if let Some(a) = &measured.artifacts {
        let mib_s = |bytes: u64, s: f64| bytes as f64 / (1 << 20) as f64 / s;
        let single = format!("verify 1 file of {} MiB", a.single_bytes >> 20);
        let (ours, theirs) = (
            mib_s(a.single_bytes, a.ours_single_s),
            mib_s(a.single_bytes, a.sha256sum_single_s),
        );
        out.push(line(
            "artifacts",
            &single,
            ours,
            Some(theirs),
            format!("{ours:.0} MiB/s"),
            format!("{theirs:.0} MiB/s"),
            "sha256sum",
            Some(Target::RatioAtLeast(0.95)),
        ));
        let several = format!(
            "verify {} files of {} MiB",
            a.several_files,
            (a.several_bytes / a.several_files.max(1) as u64) >> 20
        );
        let (ours, theirs) = (
            mib_s(a.several_bytes, a.ours_several_s),
            mib_s(a.several_bytes, a.sha256sum_several_s),
        );
        out.push(line(
            "artifacts",
            &several,
            ours,
            Some(theirs),
            format!("{ours:.0} MiB/s"),
            format!("{theirs:.0} MiB/s"),
            "sha256sum (best of one process, one per file)",
            None,
        ));
    }
    if let Some(p) = &measured.preflight {
        out.push(line(
            "preflight",
            "fail on a syntax error, warm",
            p.preflight_s,
            Some(p.lane_fast_s),
            format!("{:.2} s", p.preflight_s),
            format!("{:.2} s", p.lane_fast_s),
            "`xtask lane fast` failing on it",
            None,
        ));
    }
    if let Some(b) = &measured.build {
        out.push(line(
            "xtask build",
            "clean build (fresh target dir)",
            b.clean_build_s.unwrap_or(0.0),
            None,
            b.clean_build_s
                .map_or("skipped (--quick)".into(), |s| format!("{s:.0} s")),
            "-".into(),
            "-",
            None,
        ));
        out.push(line(
            "xtask build",
            "dependencies (normal, incl. workspace crates)",
            b.dependencies as f64,
            None,
            format!("{} ({} external)", b.dependencies, b.external_dependencies),
            "-".into(),
            "-",
            None,
        ));
    }
    out
}

/// What the table cannot say: changes left out, misses by name.
fn notes(measured: &Measured) -> Vec<String> {
    let mut notes = Vec::new();
    for (what, p) in [
        ("scenarios", &measured.scenarios),
        ("history", &measured.history),
    ] {
        let Some(p) = p else { continue };
        for (name, why) in &p.skipped {
            notes.push(format!("{what}: {name} left out: {why}"));
        }
        let ours = p.misses(|c| &c.ours);
        if !ours.is_empty() {
            notes.push(format!("{what}: we did not select {}", ours.join("; ")));
        }
    }
    notes
}

fn render(lines: &[Line]) -> String {
    let rows: Vec<[String; 8]> = std::iter::once(
        [
            "area",
            "measure",
            "ours/theirs",
            "ours",
            "theirs",
            "anchor",
            "target",
            "met",
        ]
        .map(String::from),
    )
    .chain(lines.iter().map(|l| {
        [
            l.area.clone(),
            l.measure.clone(),
            l.ratio.map_or("-".into(), |r| format!("{r:.3}")),
            l.ours.clone(),
            l.theirs.clone(),
            l.anchor.clone(),
            l.target.clone().unwrap_or_else(|| "-".into()),
            match l.met {
                Some(true) => "met".into(),
                Some(false) => "NOT MET".into(),
                None => "-".into(),
            },
        ]
    }))
    .collect();
    crate::aligned_table(&rows)
}

/// Our decision on one change, as a child process: the selected packages.
fn ours(
    engine: &Path,
    workdir: &Path,
    manifest: &Path,
    base: Option<&str>,
    head: Option<&str>,
    target_dir: &Path,
) -> Result<BTreeSet<String>, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(workdir);
    let mut args = vec![
        "impact".to_string(),
        "--manifest-path".into(),
        manifest.display().to_string(),
    ];
    if let Some(base) = base {
        args.extend(["--base".into(), base.into()]);
    }
    if let Some(head) = head {
        args.extend(["--head".into(), head.into()]);
    }
    args.extend(["--format".into(), "json".into()]);
    let output = cmd!(sh, "{engine} {args...}")
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("XTASK_WORKSPACE_ROOT")
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| Failure::environment(format!("cannot run xtask impact: {e}")))?;
    if !output.status.success() {
        return Err(Failure::check_failed(format!(
            "xtask impact failed on {} ({}):\n{}",
            manifest.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Failure::check_failed(format!("xtask impact printed no JSON: {e}")))?;
    Ok(json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect())
}

/// Every conformance scenario with a decision to compare: not the error cases (exit != 0),
/// not the shallow clones (no base to give the determinator) and not `--fallback`.
fn scenarios(
    engine: &Path,
    anchors_bin: &Path,
    options: &Options,
    measure_memory: bool,
) -> Result<Precision, Failure> {
    let mut precision = Precision {
        required_means: "scenarios' required sets".into(),
        ..Precision::default()
    };
    let limit = if options.quick { 8 } else { usize::MAX };
    for scenario in SCENARIOS.iter().take(limit) {
        let why_not = if scenario.expect.exit != 0 {
            Some("an error case (no selection)")
        } else if matches!(scenario.checkout, Checkout::ShallowClone) {
            Some("a shallow clone without the base (the determinator cannot run)")
        } else if !scenario.extra_args.is_empty() {
            Some("extra arguments")
        } else if scenario.record {
            Some("a recorded run (the anchors have no run-time evidence)")
        } else {
            None
        };
        if let Some(why) = why_not {
            precision
                .skipped
                .push((scenario.name.to_string(), why.to_string()));
            continue;
        }
        eprintln!("scenario {}", scenario.name);
        let prepared = scenario_repo::prepare(scenario, engine);
        let target = prepared.manifest.parent().unwrap().join("target");
        let ours = ours(
            engine,
            &prepared.workdir,
            &prepared.manifest,
            prepared.pass_base.then_some(prepared.base_sha.as_str()),
            prepared.head_sha.as_deref(),
            &target,
        )?;
        let theirs = anchors::run(
            anchors_bin,
            &Change {
                manifest: &prepared.manifest,
                base: &prepared.base_sha,
                head: prepared.head_sha.as_deref(),
                head_checked_out: false,
                metadata_cache: None,
            },
            measure_memory,
            prepared.repo.root.parent().unwrap(),
            None,
        )?;
        let required = if scenario.expect.all == Some(true) {
            prepared
                .head_members
                .clone()
                .map(|m| m.into_iter().collect())
                .unwrap_or_else(|| theirs.determinator.clone())
        } else {
            // Everything the suite insists on: required selectors, packages with an expected
            // distance or why-chain (the suite fails when one is missing).
            let expect = &scenario.expect;
            expect
                .required
                .iter()
                .map(|s| selector_package(s))
                .chain(expect.distances.iter().map(|(name, _)| *name))
                .chain(expect.why.iter().map(|(name, _)| *name))
                .map(str::to_string)
                .collect()
        };
        precision.changes.push(Selection {
            name: scenario.name.to_string(),
            required,
            ours,
            determinator: theirs.determinator,
            rdeps: theirs.rdeps,
        });
    }
    Ok(precision)
}

/// The last `--commits` commits of this repository, each against its first parent.
fn history(
    engine: &Path,
    anchors_bin: &Path,
    options: &Options,
    measure_memory: bool,
) -> Result<Precision, Failure> {
    let root = crate::project_root();
    let manifest = root.join("Cargo.toml");
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(&root);
    let count = options.commits + 1;
    let count_arg = count.to_string();
    let log = cmd!(sh, "git rev-list --first-parent -n {count_arg} HEAD")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("git rev-list failed: {e}")))?;
    let shas: Vec<&str> = log.lines().collect();
    let mut precision = Precision {
        required_means: "what both anchors select (history has no declared required set)".into(),
        ..Precision::default()
    };
    if shas.len() < count {
        precision.skipped.push((
            "history".into(),
            format!(
                "only {} commit pairs exist, not {}",
                shas.len().saturating_sub(1),
                options.commits
            ),
        ));
    }
    let scratch = ScratchDir::new(&options.dir, 1)?;
    let target = scratch.0.join("target");
    for pair in shas.windows(2) {
        let (head, base) = (pair[0], pair[1]);
        let name = format!("{}..{}", &base[..10], &head[..10]);
        eprintln!("history {name}");
        let theirs = anchors::run(
            anchors_bin,
            &Change {
                manifest: &manifest,
                base,
                head: Some(head),
                head_checked_out: false,
                metadata_cache: None,
            },
            measure_memory,
            &scratch.0,
            None,
        );
        let ours = ours(engine, &root, &manifest, Some(base), Some(head), &target);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => precision.changes.push(Selection {
                name,
                required: theirs
                    .determinator
                    .intersection(&theirs.rdeps)
                    .cloned()
                    .collect(),
                ours,
                determinator: theirs.determinator,
                rdeps: theirs.rdeps,
            }),
            (ours, theirs) => {
                let why = [ours.err(), theirs.err()]
                    .into_iter()
                    .flatten()
                    .map(|f| f.message.unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; ");
                precision
                    .skipped
                    .push((name, why.lines().next().unwrap_or("").to_string()));
            }
        }
    }
    Ok(precision)
}

fn artifacts_section(options: &Options) -> Result<Artifacts, Failure> {
    let args = ArtifactsArgs {
        size_mib: if options.quick { 64 } else { 1024 },
        files: 4,
        file_size_mib: if options.quick { 16 } else { 256 },
        jobs: 0,
        runs: if options.quick { 1 } else { 3 },
        dir: Some(options.dir.clone()),
        format: crate::cli::Format::Human,
    };
    let rows = artifacts::measure_in_scratch(&args)?;
    let best = |pick: &dyn Fn(&str) -> bool| {
        rows.iter()
            .filter(|r| r.files > 1 && pick(&r.case))
            .map(|r| r.best)
            .min()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64()
    };
    Ok(Artifacts {
        single_bytes: rows[0].bytes,
        several_files: args.files,
        several_bytes: (args.files as u64 * args.file_size_mib) << 20,
        ours_single_s: rows[0].best.as_secs_f64(),
        sha256sum_single_s: rows[1].best.as_secs_f64(),
        ours_several_s: best(&|case| case.starts_with("node::hash")),
        sha256sum_several_s: best(&|case| case.starts_with("sha256sum")),
    })
}

/// The files of this checkout (tracked and untracked, not ignored), copied into `dest`; files
/// whose contents did not change are left alone, so a kept copy keeps its build warm.
fn sync_copy(root: &Path, dest: &Path) -> Result<(), Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(root);
    let files = cmd!(sh, "git ls-files -z --cached --others --exclude-standard")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("git ls-files failed: {e}")))?;
    for rel in files.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(rel);
        let Ok(bytes) = std::fs::read(&from) else {
            continue; // deleted in the working tree
        };
        let to = dest.join(rel);
        if std::fs::read(&to).is_ok_and(|current| current == bytes) {
            continue;
        }
        std::fs::create_dir_all(to.parent().unwrap())
            .and_then(|()| std::fs::write(&to, &bytes))
            .map_err(|e| Failure::environment(format!("{}: {e}", to.display())))?;
    }
    Ok(())
}

/// Runs `xtask ARGS` against the copy; returns the exit code and the time.
fn time_xtask(engine: &Path, copy: &Path, target: &Path, args: &[&str]) -> (i32, f64) {
    let sh = match Shell::new() {
        Ok(sh) => sh,
        Err(_) => return (-1, 0.0),
    };
    sh.change_dir(copy);
    let started = Instant::now();
    let output = cmd!(sh, "{engine} {args...}")
        .env("XTASK_WORKSPACE_ROOT", copy)
        .env("CARGO_TARGET_DIR", target)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .quiet()
        .ignore_status()
        .output();
    let seconds = started.elapsed().as_secs_f64();
    (
        output.map_or(-1, |o| o.status.code().unwrap_or(-1)),
        seconds,
    )
}

/// A syntax error in a critical crate of a warm copy of this workspace: how long
/// `xtask preflight` takes to fail on it, and how long the `fast` lane takes.
fn preflight(engine: &Path, options: &Options) -> Result<Preflight, Failure> {
    let root = crate::project_root();
    // Kept between runs (under the scratch parent) so the cache is warm the second time.
    let base = options.dir.join("xtask-bench-preflight");
    let copy = base.join("workspace");
    let target = base.join("target");
    sync_copy(&root, &copy)?;
    let injected_into = "crates/release/src/lib.rs";
    let file = copy.join(injected_into);
    let original = std::fs::read_to_string(&file)
        .map_err(|e| Failure::environment(format!("{}: {e}", file.display())))?;
    eprintln!(
        "preflight: warming {} (a build of the fast lane the first time)",
        target.display()
    );
    time_xtask(engine, &copy, &target, &["preflight"]);
    time_xtask(engine, &copy, &target, &["lane", "fast", "--", "--no-run"]);
    std::fs::write(&file, format!("{original}\nfn injected_syntax_error( {{\n"))
        .map_err(|e| Failure::environment(format!("{}: {e}", file.display())))?;
    let (preflight_exit, preflight_s) = time_xtask(engine, &copy, &target, &["preflight"]);
    let (lane_fast_exit, lane_fast_s) = time_xtask(engine, &copy, &target, &["lane", "fast"]);
    std::fs::write(&file, original)
        .map_err(|e| Failure::environment(format!("{}: {e}", file.display())))?;
    if preflight_exit == 0 || lane_fast_exit == 0 {
        return Err(Failure::check_failed(format!(
            "a syntax error in {injected_into} did not fail preflight (exit {preflight_exit}) \
             and the fast lane (exit {lane_fast_exit})"
        )));
    }
    Ok(Preflight {
        injected_into: injected_into.into(),
        preflight_s,
        preflight_exit,
        lane_fast_s,
        lane_fast_exit,
    })
}

/// A clean `cargo build -p xtask` in a fresh target directory, and xtask's dependency count.
fn build(options: &Options) -> Result<Build, Failure> {
    let root = crate::project_root();
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    sh.change_dir(&root);
    let tree = cmd!(sh, "cargo tree -p xtask -e normal --prefix none")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("cargo tree failed: {e}")))?;
    let crates: BTreeSet<&str> = tree
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let external = crates.iter().filter(|c| !c.contains(" (/")).count();
    let clean_build_s = if options.quick {
        None
    } else {
        let scratch = ScratchDir::new(&options.dir, 2)?;
        eprintln!("build: cargo build -p xtask in a fresh target directory");
        let started = Instant::now();
        cmd!(sh, "cargo build --quiet -p xtask")
            .env("CARGO_TARGET_DIR", scratch.0.join("target"))
            .run()
            .map_err(|e| Failure::environment(format!("cargo build -p xtask failed: {e}")))?;
        Some(started.elapsed().as_secs_f64())
    };
    Ok(Build {
        clean_build_s,
        dependencies: crates.len(),
        external_dependencies: external,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn measured() -> Measured {
        Measured {
            scenarios: Some(Precision {
                changes: vec![
                    Selection {
                        name: "one".into(),
                        required: set(&["a", "b"]),
                        ours: set(&["a", "b"]),
                        determinator: set(&["a", "b", "c", "d"]),
                        rdeps: set(&["a", "b", "c"]),
                    },
                    Selection {
                        name: "two".into(),
                        required: set(&["x"]),
                        ours: set(&[]),
                        determinator: set(&["x", "y"]),
                        rdeps: set(&[]),
                    },
                ],
                skipped: vec![("three".into(), "an error case".into())],
                required_means: "required".into(),
            }),
            artifacts: Some(Artifacts {
                single_bytes: 1 << 30,
                several_files: 4,
                several_bytes: 1 << 30,
                ours_single_s: 1.0,
                sha256sum_single_s: 0.9,
                ours_several_s: 0.5,
                sha256sum_several_s: 0.5,
            }),
            ..Measured::default()
        }
    }

    #[test]
    fn precision_lines_carry_ratios_targets_and_misses() {
        let lines = lines(&measured());
        let det = &lines[0];
        assert_eq!(det.anchor, "guppy determinator");
        assert_eq!(det.ratio, Some(2.0 / 6.0));
        assert_eq!(det.met, Some(true));
        assert_eq!(lines[1].ratio, Some(2.0 / 3.0));
        assert_eq!(lines[2].ratio, Some(2.0 / 3.0), "ours / required");
        let misses = &lines[3];
        assert_eq!(misses.ours, "1");
        assert_eq!(misses.theirs, "determinator 0, rdeps 1");
        assert_eq!(misses.met, Some(false), "one miss fails the zero target");
        let notes = notes(&measured());
        assert!(notes.iter().any(|n| n.contains("two: x")), "{notes:?}");
        assert!(
            notes.iter().any(|n| n.contains("three left out")),
            "{notes:?}"
        );
    }

    #[test]
    fn artifact_lines_compare_throughput() {
        let lines = lines(&measured());
        let single = lines.iter().find(|l| l.area == "artifacts").unwrap();
        let ratio = single.ratio.unwrap();
        assert!((ratio - 0.9).abs() < 1e-9, "{ratio}");
        assert_eq!(single.met, Some(false), "0.9 < 0.95");
        assert_eq!(single.ours, "1024 MiB/s");
    }

    #[test]
    fn table_and_json_render_every_line() {
        let measured = measured();
        let lines = lines(&measured);
        let table = render(&lines);
        assert_eq!(table.lines().count(), lines.len() + 1, "{table}");
        assert!(table.starts_with("area"), "{table}");
        assert!(
            table.contains("NOT MET") && table.contains("met"),
            "{table}"
        );
        let json = serde_json::to_value(&lines).unwrap();
        assert_eq!(json.as_array().unwrap().len(), lines.len());
        assert_eq!(json[0]["met"], true);
        assert!(serde_json::to_string(&measured).is_ok());
    }

    #[test]
    fn quick_narrows_and_flags_override() {
        use clap::Parser as _;
        let options = |words: &[&str]| {
            let cli =
                crate::cli::Cli::try_parse_from(["bench", "all"].iter().chain(words).copied())
                    .unwrap();
            let crate::cli::Command::All(args) = cli.command else {
                panic!("not all")
            };
            Options::new(&args)
        };
        let quick = options(&["--quick", "--commits", "3"]);
        assert_eq!(quick.sizes, vec![50, 500]);
        assert_eq!(quick.commits, 3);
        let full = options(&[]);
        assert_eq!((full.commits, full.sizes.len()), (50, 4));
        assert_eq!(full.only.len(), 6, "every section");
        let only = options(&["--only", "artifacts,build"]);
        assert_eq!(
            only.only,
            BTreeSet::from([Section::Artifacts, Section::Build])
        );
    }
}
