//! `cargo xtask bench soundness [--recording FILE] [--only NAME,..] [--dir DIR]
//! [--target-dir DIR] [--output FILE]`
//!
//! Impact analysis against ground truth. Each mutation below breaks at least one test of this
//! repository. For each, in a clone of this repository's HEAD (never the checkout itself):
//! apply the mutation to the working tree, ask the real `xtask impact` (this binary) what it
//! selects, build every test binary with every feature (one that no longer builds counts as
//! all of its tests broken), run the tests with nextest (`--all-features --profile ci`,
//! failures read from its JUnit report), and count the broken tests outside the selection:
//! the misses. Binaries are matched by nextest binary id, never by path (features and the
//! lockfile are in every executable's file name); a listed binary the mutated workspace no
//! longer has is gone, not broken; nextest refusing to run makes every test it was to run
//! broken; a binary that does not build under the mutation is built again without it, and
//! left out if it does not build there either. Every test some selection leaves out runs to the end, so the misses are exact;
//! the tests every selection includes cannot be missed and only show that the mutation breaks
//! something, so they run until the first failure (the table then says `>=N`). A mutation that
//! breaks nothing proves nothing and is reported as invalid. At the end every failed test is
//! run again without any mutation; one that fails there too is left out. With
//! `--recording FILE` the selection is asked for twice, without and with that run-time
//! recording (`cargo xtask impact record`), and both are checked.
//!
//! The clone lives at a fixed path (`--dir`, default `$TMPDIR/impact-soundness/repo`) and
//! builds into its own target directory (`--target-dir`, default next to it), so rebuilds are
//! incremental from one mutation to the next and from one run to the next. Impact analysis
//! gets a target directory of its own without any build in it, as on a fresh CI runner: no
//! rustc dep-info helps it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use output_types::Shape;
use output_types::bench::{BenchSoundness, SoundnessMutation, SoundnessSelection};
use serde_json::Value;
use support::{Exit, Failure};

use crate::cli::SoundnessArgs;

/// What a mutation does to one file.
enum Edit {
    /// Replace the first occurrence (it must exist).
    Replace(&'static str, &'static str),
    /// Replace every occurrence (at least one must exist).
    ReplaceAll(&'static str, &'static str),
}

struct Mutation {
    name: &'static str,
    category: &'static str,
    file: &'static str,
    edit: Edit,
}

use Edit::*;

const fn m(name: &'static str, category: &'static str, file: &'static str, edit: Edit) -> Mutation {
    Mutation {
        name,
        category,
        file,
        edit,
    }
}

const CORE: &str = "core library";
const FEATURE: &str = "feature-gated dependent";
const RUNTIME: &str = "read at run time";
const INCLUDED: &str = "include_str! fixture";
const SHARED: &str = "shared test module";
const MANIFEST: &str = "manifest";
const WORKFLOW: &str = "workflow";
const TEST: &str = "test file";

/// The mutations, each breaking at least one test when this table was written; the three
/// changes impact analysis once missed come first.
const MUTATIONS: &[Mutation] = &[
    m(
        "governance-approvals-off-by-one",
        FEATURE,
        "crates/governance/src/verify.rs",
        Replace(
            "if report.approved_by.len() < report.required {",
            "if report.approved_by.len() <= report.required {",
        ),
    ),
    m(
        "node-api-uses-reserved-crate",
        MANIFEST,
        "crates/node-api/Cargo.toml",
        Replace(
            "[dependencies]\n",
            "[dependencies]\nproptest.workspace = true\n",
        ),
    ),
    m(
        "workspace-excludes-node-api",
        MANIFEST,
        "Cargo.toml",
        Replace(
            "members = [\"xtask\", \"crates/*\"]",
            "members = [\"xtask\", \"crates/*\"]\nexclude = [\"crates/node-api\"]",
        ),
    ),
    m(
        "readme-names-an-older-toolchain",
        RUNTIME,
        "README.md",
        Replace(
            "Rust toolchain (1.91 or newer)",
            "Rust toolchain (1.90 or newer)",
        ),
    ),
    m(
        "ci-pins-another-nextest",
        WORKFLOW,
        ".github/workflows/ci.yml",
        Replace(
            "NEXTEST_VERSION: \"0.9.143\"",
            "NEXTEST_VERSION: \"0.9.142\"",
        ),
    ),
    m(
        "ingest-fixture-wrong-digest",
        SHARED,
        "crates/node/tests/ingest/fixture.rs",
        Replace(
            "\"digest\": sha256_digest(content),",
            "\"digest\": sha256_digest(b\"other\"),",
        ),
    ),
    m(
        "metadata-fixture-package-renamed",
        INCLUDED,
        "crates/impact/tests/fixtures/small-workspace.json",
        Replace("\"name\": \"checker\"", "\"name\": \"checkr\""),
    ),
    m(
        "lanes-fast-renamed",
        RUNTIME,
        "lanes.toml",
        Replace("[lanes.fast]", "[lanes.quick]"),
    ),
    m(
        "groups-forget-node-api",
        RUNTIME,
        "deps-groups.toml",
        Replace(
            "members = [\"governance\", \"node-api\"]",
            "members = [\"governance\"]",
        ),
    ),
    m(
        "governance-verifier-renamed",
        FEATURE,
        "crates/governance/src/verify.rs",
        Replace(
            "pub fn new(trust: TrustFile) -> Verifier {",
            "pub fn with_trust(trust: TrustFile) -> Verifier {",
        ),
    ),
    m(
        "deps-test-expects-more-members",
        TEST,
        "xtask/tests/deps.rs",
        Replace(
            "assert!(members.len() >= 9,",
            "assert!(members.len() >= 99,",
        ),
    ),
    m(
        "release-test-expects-no-releases",
        TEST,
        "crates/release/tests/federation.rs",
        Replace(
            "assert!(!releases.is_empty());",
            "assert!(releases.is_empty());",
        ),
    ),
    m(
        "gates-quality-raised",
        RUNTIME,
        "manifests/gates.toml",
        Replace("min_quality = 0.75", "min_quality = 0.99"),
    ),
    m(
        "kernel-lists-a-missing-file",
        RUNTIME,
        "manifests/kernel.toml",
        Replace(
            "\"crates/release/src/chain.rs\",",
            "\"crates/release/src/chain.rs\",\n  \"crates/release/src/gone.rs\",",
        ),
    ),
    m(
        "strace-fixture-reads-another-file",
        INCLUDED,
        "crates/impact/tests/fixtures/strace/fixture-reader.trace",
        ReplaceAll("fixtures/a.txt", "fixtures/b.txt"),
    ),
    m(
        "lane-fixture-smoke-renamed",
        SHARED,
        "xtask/tests/common/mod.rs",
        Replace("[lanes.smoke]\n", "[lanes.smoky]\n"),
    ),
    m(
        "ci-runs-an-unknown-lane",
        WORKFLOW,
        ".github/workflows/ci.yml",
        Replace(
            "- run: cargo xtask lane fast\n",
            "- run: cargo xtask lane quick\n",
        ),
    ),
    m(
        "governance-test-expects-two-approvals",
        TEST,
        "crates/governance/tests/governance.rs",
        Replace("Verifier::new(trust(1))", "Verifier::new(trust(2))"),
    ),
    m(
        "governance-builders-unrecognised",
        FEATURE,
        "crates/governance/src/trust.rs",
        Replace(
            ".any(|role| role == BUILDER_ROLE)",
            ".any(|role| role == \"ci\")",
        ),
    ),
    m(
        "gates-exclusive",
        CORE,
        "crates/release/src/select.rs",
        Replace("pass: value >= threshold,", "pass: value > threshold,"),
    ),
    m(
        "canonical-array-separator",
        CORE,
        "crates/release/src/canonical.rs",
        Replace("out.push(',');", "out.push(';');"),
    ),
    m(
        "exit-code-invalid-input",
        CORE,
        "crates/support/src/exit.rs",
        Replace("Exit::InvalidInput => 2,", "Exit::InvalidInput => 4,"),
    ),
    m(
        "junit-errors-pass",
        CORE,
        "crates/support/src/junit.rs",
        Replace(
            "body.contains(\"<failure\") || body.contains(\"<error\")",
            "body.contains(\"<failure\")",
        ),
    ),
    m(
        "closure-drops-dev-dependents",
        CORE,
        "crates/impact/src/closure.rs",
        Replace(
            "EdgeKind::Dev => reverse_dev[dependency].push(dependent),",
            "EdgeKind::Dev => {}",
        ),
    ),
    m(
        "node-accepts-rollback",
        CORE,
        "crates/node/src/verify.rs",
        Replace(
            "if offered.release_seq < current.release_seq {",
            "if offered.release_seq < current.release_seq && false {",
        ),
    ),
    m(
        "conformance-harness-inverts-exit",
        SHARED,
        "xtask/tests/impact_conformance/harness.rs",
        Replace(
            "assert_eq!(outcome.exit, expect.exit,",
            "assert_ne!(outcome.exit, expect.exit,",
        ),
    ),
    m(
        "rust-version-from-the-future",
        MANIFEST,
        "Cargo.toml",
        Replace("rust-version = \"1.91\"", "rust-version = \"1.999\""),
    ),
];

struct Options {
    recording: Option<PathBuf>,
    only: Option<Vec<String>>,
    dir: PathBuf,
    target_dir: Option<PathBuf>,
    output: Option<PathBuf>,
}

impl Options {
    /// The flags, paths made absolute (the clone runs elsewhere); names and files checked.
    fn new(args: &SoundnessArgs) -> Result<Options, Failure> {
        let only: Vec<String> = args.only.iter().map(|n| n.trim().to_owned()).collect();
        for name in &only {
            if !MUTATIONS.iter().any(|m| m.name == name) {
                let known: Vec<&str> = MUTATIONS.iter().map(|m| m.name).collect();
                return Err(Failure::invalid_input(format!(
                    "--only: no mutation `{name}`; mutations: {}",
                    known.join(", ")
                )));
            }
        }
        if let Some(recording) = &args.recording
            && !recording.is_file()
        {
            return Err(Failure::invalid_input(format!(
                "--recording {}: no such file\nhelp: make one with `cargo xtask impact record -- --all-features`",
                recording.display()
            )));
        }
        Ok(Options {
            recording: args.recording.clone().map(absolute),
            only: (!only.is_empty()).then_some(only),
            dir: absolute(
                args.dir
                    .clone()
                    .unwrap_or_else(|| std::env::temp_dir().join("impact-soundness")),
            ),
            target_dir: args.target_dir.clone().map(absolute),
            output: args.output.clone(),
        })
    }
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// A test as nextest names it: (binary id, test name).
type TestId = (String, String);

/// One mutation as measured: its row of the report and what the row is decided from.
struct Outcome {
    row: SoundnessMutation,
    /// Every failed test (of the binaries that did not build: all of their tests).
    failed: BTreeSet<TestId>,
    /// impact's JSON, without and with the recording.
    reports: (Value, Option<Value>),
}

impl Outcome {
    /// Decides `broken`, `invalid` and the misses from the failures, leaving out the tests
    /// that also fail without the mutation.
    fn settle(&mut self, pre_existing: &BTreeSet<TestId>) {
        let broken: BTreeSet<TestId> = self.failed.difference(pre_existing).cloned().collect();
        self.row.broken = broken.iter().map(|(b, n)| format!("{b} {n}")).collect();
        self.row.invalid = broken.is_empty();
        self.row.without_recording = check(&self.reports.0, &broken);
        self.row.with_recording = self.reports.1.as_ref().map(|r| check(r, &broken));
    }
}

/// The run so far.
struct Report {
    commit: String,
    recording: Option<String>,
    outcomes: Vec<Outcome>,
    /// Tests that failed with some mutation and also fail without any (left out).
    pre_existing: Vec<String>,
    started: Instant,
}

impl Report {
    /// `bench-soundness/v1`, with the totals of the mutations so far.
    fn shape(&self) -> BenchSoundness {
        let mutations: Vec<SoundnessMutation> =
            self.outcomes.iter().map(|o| o.row.clone()).collect();
        let missed = |c: &SoundnessSelection| c.missed.len();
        BenchSoundness {
            schema: BenchSoundness::schema(),
            commit: self.commit.clone(),
            recording: self.recording.clone(),
            misses_without_recording: mutations.iter().map(|o| missed(&o.without_recording)).sum(),
            misses_with_recording: self.recording.as_ref().map(|_| {
                mutations
                    .iter()
                    .filter_map(|o| o.with_recording.as_ref().map(missed))
                    .sum()
            }),
            invalid: mutations.iter().filter(|o| o.invalid).count(),
            pre_existing: self.pre_existing.clone(),
            seconds: self.started.elapsed().as_secs_f64(),
            mutations,
        }
    }
}

pub fn run(args: &SoundnessArgs) -> Result<Exit, Failure> {
    if args.check_table {
        return check_table(&crate::project_root());
    }
    let options = Options::new(args)?;
    let started = Instant::now();
    let (engine, _) = crate::this_xtask()?;
    let source = crate::project_root();
    let bench = Bench::new(&options, &source, engine)?;
    let commit = bench.git(&["rev-parse", "HEAD"])?;
    println!(
        "impact soundness: {} mutations of {} at {}, in {} (target {})",
        MUTATIONS.len(),
        source.display(),
        &commit[..12.min(commit.len())],
        bench.repo.display(),
        bench.target.display()
    );
    eprintln!("building the unmutated clone and listing its tests");
    let tests = bench.list()?;
    let mut report = Report {
        commit,
        recording: options.recording.as_ref().map(|p| p.display().to_string()),
        outcomes: Vec::new(),
        pre_existing: Vec::new(),
        started,
    };
    print_header(options.recording.is_some());
    let chosen = MUTATIONS.iter().filter(|m| {
        options
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|n| n == m.name))
    });
    for mutation in chosen {
        let outcome = bench.mutate(mutation, &tests, options.recording.as_deref())?;
        print_row(&outcome.row);
        report.outcomes.push(outcome);
        // Written after every mutation, so a long run that is stopped keeps what it measured.
        write_json(options.output.as_deref(), &report.shape())?;
    }
    // A failure counts only if the test passes without the mutation: rerun every failed test
    // (of binaries that built) on the unmutated clone, and leave out the ones failing there too.
    let failed: BTreeSet<TestId> = report
        .outcomes
        .iter()
        .flat_map(|o| {
            o.failed
                .iter()
                .filter(|(b, _)| !o.row.unbuilt.contains(b))
                .cloned()
        })
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "rerunning the {} failed test(s) without any mutation",
            failed.len()
        );
        bench.build(&tests)?;
        let filter = failed
            .iter()
            .map(|(binary, name)| {
                format!(
                    "(binary_id({}) & test({}))",
                    support::shell::filterset_exact(binary),
                    support::shell::filterset_exact(name)
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let pre_existing = match bench.run_tests(&filter, None, false)? {
            Ran::Failed(failed) => failed,
            // nextest refusing to run on the unmutated clone: none of them can be shown to
            // pass without the mutation.
            Ran::Rejected(why) => {
                eprintln!("warning: without any mutation, {why}");
                failed.clone()
            }
        };
        if !pre_existing.is_empty() {
            eprintln!(
                "warning: {} test(s) fail without any mutation and are left out: {}",
                pre_existing.len(),
                show(&pre_existing)
            );
            for outcome in &mut report.outcomes {
                outcome.settle(&pre_existing);
            }
        }
        report.pre_existing = pre_existing
            .iter()
            .map(|(b, n)| format!("{b} {n}"))
            .collect();
        write_json(options.output.as_deref(), &report.shape())?;
    }
    let report = report.shape();
    print_summary(&report);
    if report.misses_without_recording > 0
        || report.misses_with_recording.unwrap_or(0) > 0
        || report.invalid > 0
    {
        return Err(Failure::check_failed(
            "impact analysis missed broken tests, or a mutation broke nothing (see above)",
        ));
    }
    Ok(Exit::Success)
}

fn write_json(path: Option<&Path>, report: &BenchSoundness) -> Result<(), Failure> {
    let Some(path) = path else { return Ok(()) };
    let text = serde_json::to_string_pretty(report).expect("the report serializes");
    support::atomic::write_atomic(path, text.as_bytes())
        .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
}

fn show(tests: &BTreeSet<TestId>) -> String {
    tests
        .iter()
        .map(|(binary, name)| format!("{binary} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_header(with_recording: bool) {
    let extra = if with_recording {
        format!(" {:>9} {:>6}", "sel(rec)", "missed")
    } else {
        String::new()
    };
    println!(
        "{:<42} {:<24} {:>6} {:>9} {:>6}{extra} {:>7}",
        "mutation", "category", "broken", "selected", "missed", "seconds"
    );
}

fn selected_text(checked: &SoundnessSelection) -> String {
    if checked.all {
        "all".to_owned()
    } else {
        checked.selected.len().to_string()
    }
}

fn print_row(outcome: &SoundnessMutation) {
    let broken = match (outcome.invalid, outcome.broken_complete) {
        (true, _) => "INVALID".to_owned(),
        (false, true) => outcome.broken.len().to_string(),
        (false, false) => format!(">={}", outcome.broken.len()),
    };
    let extra = match &outcome.with_recording {
        Some(with) => format!(" {:>9} {:>6}", selected_text(with), with.missed.len()),
        None => String::new(),
    };
    println!(
        "{:<42} {:<24} {:>6} {:>9} {:>6}{extra} {:>7.1}",
        outcome.name,
        outcome.category,
        broken,
        selected_text(&outcome.without_recording),
        outcome.without_recording.missed.len(),
        outcome.seconds
    );
}

fn print_summary(report: &BenchSoundness) {
    let mut any = false;
    for outcome in &report.mutations {
        let sides = [
            ("without the recording", Some(&outcome.without_recording)),
            ("with the recording", outcome.with_recording.as_ref()),
        ];
        for (side, checked) in sides {
            for test in checked.map(|c| c.missed.as_slice()).unwrap_or_default() {
                any = true;
                println!("MISSED ({side}): {}: {test}", outcome.name);
            }
        }
        if outcome.invalid {
            println!(
                "INVALID: {}: breaks no test, so it proves nothing",
                outcome.name
            );
        }
        if let Some(why) = &outcome.nextest_refused {
            println!(
                "NEXTEST REFUSED: {}: {why} (every test it was to run counts as broken)",
                outcome.name
            );
        }
        if !outcome.gone.is_empty() {
            println!(
                "GONE: {}: {} (no longer in the mutated workspace: not run, not broken)",
                outcome.name,
                outcome.gone.join(", ")
            );
        }
        if !outcome.unbuilt_anyway.is_empty() {
            println!(
                "LEFT OUT: {}: {} (do not build without the mutation either)",
                outcome.name,
                outcome.unbuilt_anyway.join(", ")
            );
        }
        if !outcome.not_run.is_empty() {
            println!(
                "NOT RUN: {}: {} (built, but their package has a test binary that does not)",
                outcome.name,
                outcome.not_run.join(", ")
            );
        }
    }
    if !any {
        println!("no misses");
    }
    let with = report
        .misses_with_recording
        .map(|n| format!(", {n} with the recording"))
        .unwrap_or_default();
    println!(
        "{} mutations, {} invalid; misses: {} without the recording{with}; {:.0} s",
        report.mutations.len(),
        report.invalid,
        report.misses_without_recording,
        report.seconds
    );
}

/// The clone, its target directory, and the engine.
struct Bench {
    repo: PathBuf,
    target: PathBuf,
    /// An empty target directory for impact analysis (its metadata cache only).
    impact_target: PathBuf,
    engine: PathBuf,
}

/// What one run of the suite found.
struct SuiteRun {
    /// Tests that failed (every test of a binary that did not build included).
    failed: BTreeSet<TestId>,
    unbuilt: Vec<String>,
    /// Built test binaries of packages with one that did not build: not run.
    not_run: Vec<String>,
    /// Listed binaries the mutated workspace no longer has.
    gone: Vec<String>,
    /// Why nextest refused to run (its tests then all count as broken).
    rejected: Option<String>,
    /// Whether `failed` is every broken test, or only enough to show there is one.
    complete: bool,
}

/// What a build of the test binaries left.
struct Built {
    /// Listed binaries that the workspace still has and that did not build.
    unbuilt: BTreeSet<String>,
    /// When some did not build, the packages whose binaries all built (`None`: all built).
    whole_packages: Option<BTreeSet<String>>,
    /// Listed binaries the workspace no longer has (their package or target left).
    gone: BTreeSet<String>,
}

/// The workspace members of a working tree, from `cargo metadata --no-deps`.
#[derive(Default)]
struct Members {
    /// manifest path -> package name.
    packages: BTreeMap<String, String>,
    /// The nextest binary id of every target of every member.
    binaries: BTreeSet<String>,
}

/// nextest's binary id of a target (a `cargo metadata` or cargo JSON message target):
/// `pkg` for the library, `pkg::name` for an integration test, `pkg::bin/name`,
/// `pkg::example/name`, `pkg::bench/name`; `None` for a build script.
fn binary_id(package: &str, target: &Value) -> Option<String> {
    let name = target["name"].as_str()?;
    let kinds: Vec<&str> = target["kind"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let has = |kind: &str| kinds.contains(&kind);
    if has("test") {
        Some(format!("{package}::{name}"))
    } else if has("bin") {
        Some(format!("{package}::bin/{name}"))
    } else if has("example") {
        Some(format!("{package}::example/{name}"))
    } else if has("bench") {
        Some(format!("{package}::bench/{name}"))
    } else if has("custom-build") {
        None
    } else {
        Some(package.to_owned())
    }
}

/// The nextest binary ids of the test executables in cargo's JSON messages (`--message-format
/// json`): every `compiler-artifact` of the test profile, its package found by manifest path.
fn built_binaries(messages: &str, packages: &BTreeMap<String, String>) -> BTreeSet<String> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["profile"]["test"] == true
                && message["executable"].is_string()
        })
        .filter_map(|message| {
            let package = packages.get(message["manifest_path"].as_str()?)?;
            binary_id(package, &message["target"])
        })
        .collect()
}

/// Every test of the unmutated clone: test names per nextest binary id.
type Listing = BTreeMap<String, Vec<String>>;

/// What one nextest run gave.
enum Ran {
    /// It ran: the tests that failed.
    Failed(BTreeSet<TestId>),
    /// It refused to run any test (exit code and its error), e.g. a filter in
    /// `.config/nextest.toml` that names a package no longer in the workspace.
    Rejected(String),
}

/// Every test of `binaries`, as broken tests.
fn every_test<'a>(
    tests: &Listing,
    binaries: impl IntoIterator<Item = &'a String>,
) -> BTreeSet<TestId> {
    binaries
        .into_iter()
        .flat_map(|id| {
            tests
                .get(id)
                .into_iter()
                .flatten()
                .map(move |name| (id.clone(), name.clone()))
        })
        .collect()
}

/// A short account of nextest refusing to run: its exit code and its `error` lines.
fn nextest_refusal(code: Option<i32>, stderr: &str) -> String {
    let errors: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| {
            line.starts_with("error")
                || line.starts_with("Caused by")
                || line.contains("didn't match")
        })
        .take(4)
        .collect();
    let code = code.map_or("a signal".to_owned(), |c| format!("exit {c}"));
    if errors.is_empty() {
        format!("nextest ran no test ({code})")
    } else {
        format!("nextest ran no test ({code}): {}", errors.join(" / "))
    }
}

/// The package of a nextest binary id (`pkg` or `pkg::name`).
fn package_of(binary: &str) -> &str {
    binary.split("::").next().unwrap_or(binary)
}

impl Bench {
    fn new(options: &Options, source: &Path, engine: PathBuf) -> Result<Bench, Failure> {
        let repo = options.dir.join("repo");
        let target = options
            .target_dir
            .clone()
            .unwrap_or_else(|| options.dir.join("target"));
        let impact_target = options.dir.join("impact-target");
        std::fs::create_dir_all(&options.dir).map_err(|e| {
            Failure::environment(format!("cannot create {}: {e}", options.dir.display()))
        })?;
        crate::measure::clear_old_clone(&repo)?;
        let bench = Bench {
            repo,
            target,
            impact_target,
            engine,
        };
        let status = git_command(source)
            .args(["clone", "-q"])
            .arg(source)
            .arg(&bench.repo)
            .status()
            .map_err(|e| Failure::environment(format!("cannot run git clone: {e}")))?;
        if !status.success() {
            return Err(Failure::environment(format!(
                "git clone of {} failed",
                source.display()
            )));
        }
        Ok(bench)
    }

    fn git(&self, args: &[&str]) -> Result<String, Failure> {
        let output = git_command(&self.repo)
            .args(args)
            .output()
            .map_err(|e| Failure::environment(format!("cannot run git: {e}")))?;
        if !output.status.success() {
            return Err(Failure::environment(format!(
                "`{}` failed: {}",
                support::shell::command_line(std::iter::once(&"git").chain(args)),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// cargo in the clone, building into the bench's target directory, with nothing of the
    /// cargo or nextest run we may be inside of.
    fn cargo(&self) -> Command {
        let mut command = Command::new(support::shell::cargo());
        support::nested::isolate(&mut command);
        command
            .current_dir(&self.repo)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("XTASK_WORKSPACE_ROOT");
        command
    }

    /// Builds the unmutated clone and lists every test.
    fn list(&self) -> Result<Listing, Failure> {
        let output = self
            .cargo()
            .args(["nextest", "list", "--workspace", "--all-features"])
            .args(["--message-format", "json"])
            .output()
            .map_err(|e| Failure::environment(format!("cannot run cargo nextest list: {e}")))?;
        if !output.status.success() {
            return Err(Failure::environment(format!(
                "cargo nextest list failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| Failure::environment(format!("cargo nextest list JSON: {e}")))?;
        let mut binaries = BTreeMap::new();
        for (id, suite) in json["rust-suites"].as_object().into_iter().flatten() {
            let names = suite["testcases"]
                .as_object()
                .map(|cases| cases.keys().cloned().collect())
                .unwrap_or_default();
            binaries.insert(id.clone(), names);
        }
        Ok(binaries)
    }

    /// Builds every test binary (`cargo build --tests --keep-going`: the test profile and
    /// features of nextest's own `cargo test --no-run`, going past errors) and matches what
    /// was built to the listing by nextest binary id (package, target kind and name), never
    /// by path: a change of features or of the lockfile changes the hash in every
    /// executable's file name, not which tests exist.
    fn build(&self, tests: &Listing) -> Result<Built, Failure> {
        // Which binaries the working tree still has: a package that left the workspace (or a
        // test target that was removed) took its tests with it; they are gone, not broken.
        let Some(names) = self.member_targets()? else {
            // No workspace to speak of (a manifest cargo cannot read): nothing builds.
            return Ok(Built {
                unbuilt: tests.keys().cloned().collect(),
                whole_packages: Some(BTreeSet::new()),
                gone: BTreeSet::new(),
            });
        };
        let build = self
            .cargo()
            .args([
                "build",
                "--tests",
                "--workspace",
                "--all-features",
                "--keep-going",
            ])
            .args(["--message-format", "json"])
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| Failure::environment(format!("cannot run cargo build --tests: {e}")))?;
        let built = built_binaries(&String::from_utf8_lossy(&build.stdout), &names.packages);
        if build.status.success() {
            // Everything built: a listed binary not among them has no test target any more.
            let gone = tests
                .keys()
                .filter(|id| !built.contains(*id))
                .cloned()
                .collect();
            return Ok(Built {
                unbuilt: BTreeSet::new(),
                whole_packages: None,
                gone,
            });
        }
        let (mut unbuilt, mut gone) = (BTreeSet::new(), BTreeSet::new());
        let mut whole: BTreeMap<&str, bool> = BTreeMap::new();
        for id in tests.keys() {
            if !names.binaries.contains(id) {
                gone.insert(id.clone());
                continue;
            }
            let ok = built.contains(id);
            *whole.entry(package_of(id)).or_insert(true) &= ok;
            if !ok {
                unbuilt.insert(id.clone());
            }
        }
        let whole_packages = whole
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(p, _)| p.to_owned())
            .collect();
        Ok(Built {
            unbuilt,
            whole_packages: Some(whole_packages),
            gone,
        })
    }

    /// The workspace members of the working tree (manifest path -> name) and the nextest
    /// binary ids their targets would have; `None` when `cargo metadata` fails.
    fn member_targets(&self) -> Result<Option<Members>, Failure> {
        let output = self
            .cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .map_err(|e| Failure::environment(format!("cannot run cargo metadata: {e}")))?;
        if !output.status.success() {
            return Ok(None);
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| Failure::environment(format!("cargo metadata printed no JSON: {e}")))?;
        let mut members = Members::default();
        for package in json["packages"].as_array().into_iter().flatten() {
            let name = package["name"].as_str().unwrap_or_default();
            let manifest = package["manifest_path"].as_str().unwrap_or_default();
            members
                .packages
                .insert(manifest.to_owned(), name.to_owned());
            for target in package["targets"].as_array().into_iter().flatten() {
                members.binaries.extend(binary_id(name, target));
            }
        }
        Ok(Some(members))
    }

    /// Runs the tests `filter` selects (`-E`), every one of them or, with `first_failure`,
    /// until one fails; returns the failed ones from nextest's JUnit report, or why nextest
    /// refused to run at all (no report: its configuration or the test list was rejected).
    fn run_tests(
        &self,
        filter: &str,
        packages: Option<&BTreeSet<String>>,
        first_failure: bool,
    ) -> Result<Ran, Failure> {
        // nextest keeps its store (and the `ci` profile's JUnit file) under the workspace.
        let junit = self.repo.join("target/nextest/ci/junit.xml");
        let _ = std::fs::remove_file(&junit);
        let mut run = self.cargo();
        run.args(["nextest", "run", "--all-features", "--profile", "ci"])
            .args(["--no-tests", "pass", "-E", filter]);
        if first_failure {
            run.args(["--max-fail", "1"]);
        } else {
            run.arg("--no-fail-fast");
        }
        match packages {
            None => {
                run.arg("--workspace");
            }
            Some(list) => {
                for package in list {
                    run.args(["--package", package]);
                }
            }
        }
        let output = run
            .output()
            .map_err(|e| Failure::environment(format!("cannot run cargo nextest: {e}")))?;
        match std::fs::read_to_string(&junit) {
            Ok(text) => Ok(Ran::Failed(junit_failures(&text))),
            Err(e) if output.status.success() => Err(Failure::environment(format!(
                "cargo nextest passed but wrote no JUnit report at {} ({e})",
                junit.display()
            ))),
            Err(_) => Ok(Ran::Rejected(nextest_refusal(
                output.status.code(),
                &String::from_utf8_lossy(&output.stderr),
            ))),
        }
    }

    /// Runs the tests of `binaries` (see [`Bench::run_tests`]); when nextest refuses to run,
    /// every one of their tests is broken: no test of them can run.
    fn run_binaries(
        &self,
        tests: &Listing,
        binaries: &[&String],
        packages: Option<&BTreeSet<String>>,
        first_failure: bool,
    ) -> Result<(BTreeSet<TestId>, Option<String>), Failure> {
        let filter = binaries
            .iter()
            .map(|id| format!("binary_id({})", support::shell::filterset_exact(id)))
            .collect::<Vec<_>>()
            .join(" | ");
        Ok(match self.run_tests(&filter, packages, first_failure)? {
            Ran::Failed(failed) => (failed, None),
            Ran::Rejected(why) => (every_test(tests, binaries.iter().copied()), Some(why)),
        })
    }

    /// The ground truth for one mutation. Every test a selection leaves out runs to the end:
    /// that is where misses are, so that part is exact. The tests every selection includes
    /// can only show that the mutation breaks something, so they run until the first failure,
    /// and not at all when a failure is already known. `complete` says whether `failed` is
    /// every broken test or a part of them.
    fn suite(&self, tests: &Listing, selections: &[&Value]) -> Result<SuiteRun, Failure> {
        let Built {
            unbuilt,
            whole_packages: packages,
            gone,
        } = self.build(tests)?;
        let mut failed = every_test(tests, &unbuilt);
        // cargo builds a package's tests together: the built binaries of a package with one
        // that does not build cannot be run, and are reported.
        let (runnable, not_run): (Vec<&String>, Vec<&String>) = tests
            .keys()
            .filter(|id| !unbuilt.contains(*id) && !gone.contains(*id))
            .partition(|id| packages.as_ref().is_none_or(|p| p.contains(package_of(id))));
        let (inside, outside): (Vec<&String>, Vec<&String>) = runnable
            .into_iter()
            .partition(|id| selections.iter().all(|report| selects(report, id)));
        let mut rejected = None;
        if !outside.is_empty() {
            let (found, why) = self.run_binaries(tests, &outside, packages.as_ref(), false)?;
            failed.extend(found);
            rejected = rejected.or(why);
        }
        let mut complete = inside.is_empty();
        if failed.is_empty() && !inside.is_empty() {
            let (found, why) = self.run_binaries(tests, &inside, packages.as_ref(), true)?;
            complete = found.is_empty() || why.is_some();
            failed.extend(found);
            rejected = rejected.or(why);
        }
        Ok(SuiteRun {
            failed,
            unbuilt: unbuilt.into_iter().collect(),
            not_run: not_run.into_iter().cloned().collect(),
            gone: gone.into_iter().collect(),
            rejected,
            complete,
        })
    }

    /// `xtask impact` on the mutated working tree against the clone's HEAD.
    fn impact(&self, recording: Option<&Path>) -> Result<Value, Failure> {
        let mut command = Command::new(&self.engine);
        support::nested::isolate(&mut command);
        command
            .current_dir(&self.repo)
            .args(["impact", "--manifest-path"])
            .arg(self.repo.join("Cargo.toml"))
            .args(["--base", "HEAD", "--format", "json"])
            .env("CARGO_TARGET_DIR", &self.impact_target)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("IMPACT_RECORDING")
            .env_remove("XTASK_WORKSPACE_ROOT");
        if let Some(path) = recording {
            command.arg("--recording").arg(path);
        }
        let output = command
            .output()
            .map_err(|e| Failure::environment(format!("cannot run xtask impact: {e}")))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(Failure::check_failed(format!(
                "xtask impact failed on the mutated clone:\n{stderr}"
            )));
        }
        if recording.is_some() && stderr.contains("warning: ignoring the impact recording") {
            return Err(Failure::invalid_input(format!(
                "impact did not use the recording:\n{stderr}"
            )));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| Failure::environment(format!("xtask impact printed no JSON: {e}")))
    }

    fn mutate(
        &self,
        mutation: &Mutation,
        tests: &Listing,
        recording: Option<&Path>,
    ) -> Result<Outcome, Failure> {
        let started = Instant::now();
        self.apply(mutation)?;
        let result = (|| {
            let without = self.impact(None)?;
            let with = recording.map(|path| self.impact(Some(path))).transpose()?;
            let selections: Vec<&Value> = std::iter::once(&without).chain(with.as_ref()).collect();
            let run = self.suite(tests, &selections)?;
            Ok::<_, Failure>((without, with, run))
        })();
        // Back to HEAD whatever happened, so the next mutation starts clean.
        self.git(&["checkout", "-q", "--", "."])?;
        self.git(&["clean", "-fdq"])?;
        let (without, with, mut run) = result?;
        let unbuilt_anyway = self.recheck_unbuilt(tests, &mut run)?;
        let mut outcome = Outcome {
            row: SoundnessMutation {
                name: mutation.name.to_owned(),
                category: mutation.category.to_owned(),
                file: mutation.file.to_owned(),
                broken: Vec::new(),
                broken_complete: run.complete,
                unbuilt: run.unbuilt,
                unbuilt_anyway,
                not_run: run.not_run,
                gone: run.gone,
                nextest_refused: run.rejected,
                invalid: false,
                without_recording: check(&without, &BTreeSet::new()),
                with_recording: with.as_ref().map(|r| check(r, &BTreeSet::new())),
                seconds: started.elapsed().as_secs_f64(),
            },
            failed: run.failed,
            reports: (without, with),
        };
        outcome.settle(&BTreeSet::new());
        Ok(outcome)
    }

    /// Builds the unmutated working tree again when some binaries did not build under the
    /// mutation: a binary that does not build without it either (a full disk, a broken
    /// toolchain, a pre-existing error) says nothing about the mutation, so its tests are
    /// taken out of `run` and returned.
    fn recheck_unbuilt(&self, tests: &Listing, run: &mut SuiteRun) -> Result<Vec<String>, Failure> {
        if run.unbuilt.is_empty() {
            return Ok(Vec::new());
        }
        let unmutated = self.build(tests)?;
        let (anyway, caused): (Vec<String>, Vec<String>) = std::mem::take(&mut run.unbuilt)
            .into_iter()
            .partition(|id| unmutated.unbuilt.contains(id));
        run.unbuilt = caused;
        run.failed.retain(|(binary, _)| !anyway.contains(binary));
        if !anyway.is_empty() {
            eprintln!(
                "warning: {} test binar(ies) do not build without the mutation either, left out: {}",
                anyway.len(),
                anyway.join(", ")
            );
        }
        Ok(anyway)
    }

    fn apply(&self, mutation: &Mutation) -> Result<(), Failure> {
        let path = self.repo.join(mutation.file);
        let mutated = mutation.applied_to(&path)?;
        std::fs::write(&path, mutated)
            .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
    }
}

/// `--check-table`: every mutation still applies to the checkout at `root` (the first that
/// does not is the error, exit 2, naming the table to update), and the files the table edits,
/// one per line. A small test binary runs this on every change to those files
/// (crates/bench/tests/mutation_table.rs, selected by a rule in lanes.toml), so the table
/// cannot go stale between runs of the bench itself.
fn check_table(root: &Path) -> Result<Exit, Failure> {
    let mut files = BTreeSet::new();
    for mutation in MUTATIONS {
        mutation.applied_to(&root.join(mutation.file))?;
        files.insert(mutation.file);
    }
    for file in files {
        println!("{file}");
    }
    Ok(Exit::Success)
}

impl Mutation {
    /// The text of `path` (this mutation's file in some checkout) with the mutation applied.
    fn applied_to(&self, path: &Path) -> Result<String, Failure> {
        let mutation = self;
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::invalid_input(format!(
                "mutation {}: cannot read {}: {e}",
                mutation.name, mutation.file
            ))
        })?;
        let (from, to, all) = match mutation.edit {
            Replace(from, to) => (from, to, false),
            ReplaceAll(from, to) => (from, to, true),
        };
        if !text.contains(from) {
            return Err(Failure::invalid_input(format!(
                "mutation {} no longer applies: {} does not contain {from:?}\nhelp: update the table in crates/bench/src/soundness.rs",
                mutation.name, mutation.file
            )));
        }
        Ok(if all {
            text.replace(from, to)
        } else {
            text.replacen(from, to, 1)
        })
    }
}

/// git with the developer's configuration (hooks, signing) kept out.
fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// Whether `report` (impact's JSON) selects the test binary `binary`.
fn selects(report: &Value, binary: &str) -> bool {
    if report["all"] == true {
        return true;
    }
    let package = binary.split("::").next().unwrap_or(binary);
    report["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == package)
        .any(|p| match &p["targets"] {
            Value::String(all) => all == "all",
            Value::Array(ids) => ids.iter().any(|id| id == binary),
            _ => false,
        })
}

/// Whether `report` selects the test `test` of `binary`: with its whole binary, or by name
/// (impact selects single tests when a recording shows only they read a changed file).
fn selects_test(report: &Value, binary: &str, test: &str) -> bool {
    selects(report, binary)
        || report["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["name"] == package_of(binary))
            .any(|p| {
                p["tests"][binary]
                    .as_array()
                    .is_some_and(|names| names.iter().any(|name| name == test))
            })
}

fn check(report: &Value, broken: &BTreeSet<TestId>) -> SoundnessSelection {
    let selected = report["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            match &p["targets"] {
                Value::String(_) => format!("{name}*"),
                _ => name.to_owned(),
            }
        })
        .collect();
    SoundnessSelection {
        all: report["all"] == true,
        selected,
        missed: broken
            .iter()
            .filter(|(binary, name)| !selects_test(report, binary, name))
            .map(|(binary, name)| format!("{binary} {name}"))
            .collect(),
    }
}

/// Failed tests of a nextest JUnit report: each `<testcase>` holding a `<failure>` or
/// `<error>`, as (classname = binary id, name).
fn junit_failures(xml: &str) -> BTreeSet<TestId> {
    support::junit::outcomes(xml).failed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_failures_are_the_testcases_with_a_failure_or_error() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="4" failures="1" errors="1">
  <testsuite name="xtask::deps" tests="2">
    <testcase name="passes" classname="xtask::deps" timestamp="t" time="0.1">
    </testcase>
    <testcase name="fails &amp; says so" classname="xtask::deps" time="0.2">
      <failure type="test failure">assertion failed</failure>
    </testcase>
  </testsuite>
  <testsuite name="node" tests="2">
    <testcase name="crash::killed" classname="node" time="1"><error type="SIGKILL"/></testcase>
    <testcase name="quiet" classname="node" time="0"/>
  </testsuite>
</testsuites>"#;
        let failed = junit_failures(xml);
        let expected: BTreeSet<TestId> = [
            ("xtask::deps".to_owned(), "fails & says so".to_owned()),
            ("node".to_owned(), "crash::killed".to_owned()),
        ]
        .into();
        assert_eq!(failed, expected);
    }

    #[test]
    fn a_test_is_selected_by_all_its_package_or_its_binary() {
        let report = serde_json::json!({"all": false, "packages": [
            {"name": "xtask", "targets": ["xtask::deps"]},
            {"name": "node", "targets": "all"},
        ]});
        assert!(selects(&report, "xtask::deps"));
        assert!(!selects(&report, "xtask::preflight"));
        assert!(selects(&report, "node::ingest") && selects(&report, "node"));
        assert!(!selects(&report, "governance"));
        assert!(selects(
            &serde_json::json!({"all": true, "packages": []}),
            "governance"
        ));
        let broken: BTreeSet<TestId> = [
            ("xtask::preflight".to_owned(), "tidy".to_owned()),
            ("node".to_owned(), "unit".to_owned()),
        ]
        .into();
        let checked = check(&report, &broken);
        assert_eq!(checked.missed, ["xtask::preflight tidy"]);
        assert_eq!(checked.selected, ["xtask", "node*"]);
        // Single tests: selected by name, the rest of their binary is not.
        let by_name = serde_json::json!({"all": false, "packages": [
            {"name": "xtask", "targets": [], "tests": {"xtask::preflight": ["tidy"]}},
        ]});
        assert!(!selects(&by_name, "xtask::preflight"));
        assert!(selects_test(&by_name, "xtask::preflight", "tidy"));
        assert!(!selects_test(&by_name, "xtask::preflight", "msrv"));
        let broken: BTreeSet<TestId> = [
            ("xtask::preflight".to_owned(), "tidy".to_owned()),
            ("xtask::preflight".to_owned(), "msrv".to_owned()),
        ]
        .into();
        assert_eq!(check(&by_name, &broken).missed, ["xtask::preflight msrv"]);
    }

    /// A two-member workspace (`a`: unit test, integration test `it`, feature `x`; `b`: unit
    /// test) whose nextest configuration names `b`, in a temporary directory, and a bench on it.
    fn small_workspace() -> (tempfile::TempDir, Bench) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let files = [
            (
                "Cargo.toml",
                "[workspace]\nresolver = \"2\"\nmembers = [\"a\", \"b\"]\n",
            ),
            (
                "a/Cargo.toml",
                "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nx = []\n",
            ),
            (
                "a/src/lib.rs",
                "pub fn v() -> u32 { 1 }\n#[test]\nfn unit() { assert_eq!(v(), 1); }\n",
            ),
            (
                "a/tests/it.rs",
                "#[test]\nfn it() { assert_eq!(a::v(), 1); }\n",
            ),
            (
                "b/Cargo.toml",
                "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("b/src/lib.rs", "#[test]\nfn unit() {}\n"),
            (
                ".config/nextest.toml",
                "[profile.ci]\nfail-fast = false\n\n[profile.ci.junit]\npath = \"junit.xml\"\n\n\
                 [[profile.ci.overrides]]\nfilter = \"package(b) & test(/^http_/)\"\nretries = 1\n",
            ),
        ];
        for (path, text) in files {
            let path = repo.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let bench = Bench {
            target: dir.path().join("target"),
            impact_target: dir.path().join("impact-target"),
            engine: PathBuf::from("xtask-is-not-run-here"),
            repo,
        };
        (dir, bench)
    }

    fn edit(bench: &Bench, file: &str, from: &str, to: &str) {
        let path = bench.repo.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}: {from}");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The ground truth on a real workspace: a feature change (new hashes in every
    /// executable's name) leaves every binary in place; an excluded member is gone while
    /// nextest, whose configuration still names it, refuses to run, which breaks every test;
    /// a binary that does not build without the mutation either is left out.
    #[test]
    fn slow_ground_truth_follows_binaries_by_id_and_counts_a_refused_run_as_broken() {
        let (_dir, bench) = small_workspace();
        let tests = bench.list().unwrap();
        assert_eq!(
            tests.keys().cloned().collect::<Vec<_>>(),
            ids(&["a", "a::it", "b"])
        );
        let nothing = serde_json::json!({"all": false, "packages": []});

        // A feature more: under --all-features every test executable gets a new file name.
        edit(&bench, "a/Cargo.toml", "x = []\n", "x = []\ny = []\n");
        let built = bench.build(&tests).unwrap();
        assert!(built.gone.is_empty(), "{:?}", built.gone);
        assert!(built.unbuilt.is_empty() && built.whole_packages.is_none());
        let run = bench.suite(&tests, &[&nothing]).unwrap();
        assert!(run.failed.is_empty() && run.rejected.is_none());
        edit(&bench, "a/Cargo.toml", "x = []\ny = []\n", "x = []\n");

        // `b` leaves the workspace: its test is gone, and nextest rejects `package(b)`.
        edit(&bench, "Cargo.toml", "[\"a\", \"b\"]", "[\"a\"]");
        let run = bench.suite(&tests, &[&nothing]).unwrap();
        assert_eq!(run.gone, ids(&["b"]));
        let refused = run.rejected.as_deref().unwrap_or_default();
        assert!(refused.contains("nextest ran no test"), "{refused}");
        let failed: Vec<String> = run.failed.iter().map(|(b, n)| format!("{b} {n}")).collect();
        assert_eq!(failed, ids(&["a unit", "a::it it"]));
        edit(&bench, "Cargo.toml", "[\"a\"]", "[\"a\", \"b\"]");

        // `it` does not compile, with and without "the mutation": left out, not broken.
        let broken_test = "#[test]\nfn it() { assert_eq!(a::gone(), 1); }\n";
        std::fs::write(bench.repo.join("a/tests/it.rs"), broken_test).unwrap();
        let mut run = bench.suite(&tests, &[&nothing]).unwrap();
        assert_eq!(run.unbuilt, ids(&["a::it"]));
        assert_eq!(run.not_run, ids(&["a"]));
        let anyway = bench.recheck_unbuilt(&tests, &mut run).unwrap();
        assert_eq!(anyway, ids(&["a::it"]));
        assert!(run.unbuilt.is_empty() && run.failed.is_empty());
        // Broken by the mutation only: it stays broken.
        let mut run = bench.suite(&tests, &[&nothing]).unwrap();
        std::fs::write(
            bench.repo.join("a/tests/it.rs"),
            "#[test]\nfn it() { assert_eq!(a::v(), 1); }\n",
        )
        .unwrap();
        assert!(bench.recheck_unbuilt(&tests, &mut run).unwrap().is_empty());
        assert_eq!(run.unbuilt, ids(&["a::it"]));
        assert!(run.failed.contains(&("a::it".to_owned(), "it".to_owned())));
    }

    /// The JSON the bench writes (`--output`) is `bench-soundness/v1` as committed in
    /// `schemas/`, with and without a recording.
    #[test]
    fn the_json_report_matches_its_schema() {
        let impact = serde_json::json!({"all": false, "packages": [
            {"name": "xtask", "targets": ["xtask::deps"]},
        ]});
        let failed: BTreeSet<TestId> = [
            ("xtask::deps".to_owned(), "audit".to_owned()),
            ("xtask::lanes".to_owned(), "fast".to_owned()),
        ]
        .into();
        for recording in [None, Some("recording.json".to_owned())] {
            let mut outcome = Outcome {
                row: SoundnessMutation {
                    name: MUTATIONS[0].name.to_owned(),
                    category: MUTATIONS[0].category.to_owned(),
                    file: MUTATIONS[0].file.to_owned(),
                    broken: Vec::new(),
                    broken_complete: false,
                    unbuilt: Vec::new(),
                    unbuilt_anyway: vec!["node".to_owned()],
                    not_run: Vec::new(),
                    gone: vec!["node-api".to_owned()],
                    nextest_refused: Some(nextest_refusal(Some(96), "error: no")),
                    invalid: false,
                    without_recording: check(&impact, &BTreeSet::new()),
                    with_recording: recording.as_ref().map(|_| check(&impact, &BTreeSet::new())),
                    seconds: 1.5,
                },
                failed: failed.clone(),
                reports: (impact.clone(), recording.as_ref().map(|_| impact.clone())),
            };
            outcome.settle(&BTreeSet::new());
            let report = Report {
                commit: "0123abcd".to_owned(),
                recording,
                outcomes: vec![outcome],
                pre_existing: vec!["node unit".to_owned()],
                started: Instant::now(),
            };
            let shape = report.shape();
            assert_eq!(shape.misses_without_recording, 1);
            let text = serde_json::to_string_pretty(&shape).unwrap();
            output_types::validate::check(&text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn the_table_spans_every_category_and_has_unique_names() {
        assert!(MUTATIONS.len() >= 25);
        let names: BTreeSet<&str> = MUTATIONS.iter().map(|m| m.name).collect();
        assert_eq!(names.len(), MUTATIONS.len());
        for category in [
            CORE, FEATURE, RUNTIME, INCLUDED, SHARED, MANIFEST, WORKFLOW, TEST,
        ] {
            assert!(
                MUTATIONS.iter().any(|m| m.category == category),
                "{category}"
            );
        }
    }
}
