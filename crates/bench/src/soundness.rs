//! `cargo xtask bench soundness [--recording FILE] [--only NAME,..] [--dir DIR]
//! [--target-dir DIR] [--json FILE]`
//!
//! Impact analysis against ground truth. Each mutation below breaks at least one test of this
//! repository. For each, in a clone of this repository's HEAD (never the checkout itself):
//! apply the mutation to the working tree, ask the real `xtask impact` (this binary) what it
//! selects, build every test binary with every feature (one that no longer builds counts as
//! all of its tests broken), run the tests with nextest (`--all-features --profile ci`,
//! failures read from its JUnit report), and count the broken tests outside the selection:
//! the misses. Every test some selection leaves out runs to the end, so the misses are exact;
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
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use support::{Exit, Failure};

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
        "readme-loses-the-test-command",
        RUNTIME,
        "README.md",
        ReplaceAll(
            "cargo nextest run --workspace --all-features",
            "cargo nextest run --workspace",
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
        "xtask-signing-feature-without-dependency",
        FEATURE,
        "xtask/Cargo.toml",
        Replace("signing = [\"dep:governance\"]", "signing = []"),
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

const USAGE: &str = "usage: cargo xtask bench soundness [--recording FILE] [--only NAME,..] [--dir DIR] \
[--target-dir DIR] [--json FILE]";

struct Options {
    recording: Option<PathBuf>,
    only: Option<Vec<String>>,
    dir: PathBuf,
    target_dir: Option<PathBuf>,
    json: Option<PathBuf>,
}

fn parse(args: Vec<OsString>) -> Result<Option<Options>, Failure> {
    use lexopt::prelude::*;
    let mut options = Options {
        recording: None,
        only: None,
        dir: std::env::temp_dir().join("impact-soundness"),
        target_dir: None,
        json: None,
    };
    let mut parser = lexopt::Parser::from_args(args);
    let path = |parser: &mut lexopt::Parser| -> Result<PathBuf, Failure> {
        Ok(parser.value().map_err(crate::usage_error)?.into())
    };
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long("recording") => options.recording = Some(absolute(path(&mut parser)?)),
            Long("dir") => options.dir = absolute(path(&mut parser)?),
            Long("target-dir") => options.target_dir = Some(absolute(path(&mut parser)?)),
            Long("json") => options.json = Some(path(&mut parser)?),
            Long("only") => {
                let names: Vec<String> = crate::string(&mut parser)?
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect();
                for name in &names {
                    if !MUTATIONS.iter().any(|m| m.name == name) {
                        let known: Vec<&str> = MUTATIONS.iter().map(|m| m.name).collect();
                        return Err(Failure::invalid_input(format!(
                            "--only: no mutation `{name}`; mutations: {}",
                            known.join(", ")
                        )));
                    }
                }
                options.only = Some(names);
            }
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(None);
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    if let Some(recording) = &options.recording
        && !recording.is_file()
    {
        return Err(Failure::invalid_input(format!(
            "--recording {}: no such file\nhelp: make one with `cargo xtask impact record -- --all-features`",
            recording.display()
        )));
    }
    Ok(Some(options))
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

/// One selection of `xtask impact`, checked against the broken tests.
#[derive(Serialize)]
struct Checked {
    all: bool,
    /// Selected packages, with `*` when all of their test binaries are selected.
    selected: Vec<String>,
    missed: Vec<String>,
}

#[derive(Serialize)]
struct Outcome {
    name: &'static str,
    category: &'static str,
    file: &'static str,
    /// Tests that fail with the mutation and pass without it.
    broken: Vec<String>,
    /// Whether `broken` is all of them (false: the tests every selection includes stopped at
    /// the first failure, which is all a selected test can tell).
    broken_complete: bool,
    /// Test binaries that no longer build (each counts with all of its tests).
    unbuilt: Vec<String>,
    /// Test binaries that built but share a package with one that did not: not run.
    not_run: Vec<String>,
    invalid: bool,
    without_recording: Checked,
    with_recording: Option<Checked>,
    seconds: f64,
    #[serde(skip)]
    failed: BTreeSet<TestId>,
    /// impact's JSON, without and with the recording.
    #[serde(skip)]
    reports: (Value, Option<Value>),
}

impl Outcome {
    /// Decides `broken`, `invalid` and the misses from the failures, leaving out the tests
    /// that also fail without the mutation.
    fn settle(&mut self, pre_existing: &BTreeSet<TestId>) {
        let broken: BTreeSet<TestId> = self.failed.difference(pre_existing).cloned().collect();
        self.broken = broken.iter().map(|(b, n)| format!("{b} {n}")).collect();
        self.invalid = broken.is_empty();
        self.without_recording = check(&self.reports.0, &broken);
        self.with_recording = self.reports.1.as_ref().map(|r| check(r, &broken));
    }
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    commit: String,
    recording: Option<String>,
    mutations: Vec<Outcome>,
    misses_without_recording: usize,
    misses_with_recording: Option<usize>,
    invalid: usize,
    /// Tests that failed with some mutation and also fail without any (left out).
    pre_existing: Vec<String>,
    seconds: f64,
}

impl Report {
    /// Recomputes the totals from the mutations.
    fn total(&mut self, started: Instant) {
        let missed = |c: &Checked| c.missed.len();
        self.misses_without_recording = self
            .mutations
            .iter()
            .map(|o| missed(&o.without_recording))
            .sum();
        self.misses_with_recording = self.recording.as_ref().map(|_| {
            self.mutations
                .iter()
                .filter_map(|o| o.with_recording.as_ref().map(missed))
                .sum()
        });
        self.invalid = self.mutations.iter().filter(|o| o.invalid).count();
        self.seconds = started.elapsed().as_secs_f64();
    }
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    let Some(options) = parse(args)? else {
        return Ok(Exit::Success);
    };
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
        schema: "bench-soundness/v1",
        commit,
        recording: options.recording.as_ref().map(|p| p.display().to_string()),
        mutations: Vec::new(),
        misses_without_recording: 0,
        misses_with_recording: None,
        invalid: 0,
        pre_existing: Vec::new(),
        seconds: 0.0,
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
        print_row(&outcome);
        report.mutations.push(outcome);
        report.total(started);
        // Written after every mutation, so a long run that is stopped keeps what it measured.
        write_json(options.json.as_deref(), &report)?;
    }
    // A failure counts only if the test passes without the mutation: rerun every failed test
    // (of binaries that built) on the unmutated clone, and leave out the ones failing there too.
    let failed: BTreeSet<TestId> = report
        .mutations
        .iter()
        .flat_map(|o| {
            o.failed
                .iter()
                .filter(|(b, _)| !o.unbuilt.contains(b))
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
        let pre_existing = bench.run_tests(&filter, None, false)?;
        if !pre_existing.is_empty() {
            eprintln!(
                "warning: {} test(s) fail without any mutation and are left out: {}",
                pre_existing.len(),
                show(&pre_existing)
            );
            for outcome in &mut report.mutations {
                outcome.settle(&pre_existing);
            }
        }
        report.pre_existing = pre_existing
            .iter()
            .map(|(b, n)| format!("{b} {n}"))
            .collect();
        report.total(started);
        write_json(options.json.as_deref(), &report)?;
    }
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

fn write_json(path: Option<&Path>, report: &Report) -> Result<(), Failure> {
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

fn selected_text(checked: &Checked) -> String {
    if checked.all {
        "all".to_owned()
    } else {
        checked.selected.len().to_string()
    }
}

fn print_row(outcome: &Outcome) {
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

fn print_summary(report: &Report) {
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
    /// Whether `failed` is every broken test, or only enough to show there is one.
    complete: bool,
}

/// What a build of the test binaries left: (binaries that did not build, the packages whose
/// binaries all built when some did not, binaries no longer in the workspace).
type Built = (BTreeSet<String>, Option<BTreeSet<String>>, BTreeSet<String>);

/// Every test of the unmutated clone, per binary id: (binary path, test names).
type Listing = BTreeMap<String, (String, Vec<String>)>;

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
        if repo.exists() {
            std::fs::remove_dir_all(&repo).map_err(|e| {
                Failure::environment(format!(
                    "cannot remove the old clone {}: {e}",
                    repo.display()
                ))
            })?;
        }
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
            let path = suite["binary-path"].as_str().unwrap_or_default().to_owned();
            let names = suite["testcases"]
                .as_object()
                .map(|cases| cases.keys().cloned().collect())
                .unwrap_or_default();
            binaries.insert(id.clone(), (path, names));
        }
        Ok(binaries)
    }

    /// Builds every test binary (`cargo build --tests --keep-going`: the test profile and
    /// features of nextest's own `cargo test --no-run`, going past errors). Returns the test
    /// binaries that did not build, when some did not the packages whose test binaries all
    /// built (`None`: everything built), and the binaries no longer in the workspace.
    fn build(&self, tests: &Listing) -> Result<Built, Failure> {
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
        let built: BTreeSet<String> = String::from_utf8_lossy(&build.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter_map(|message| message["executable"].as_str().map(str::to_owned))
            .collect();
        if build.status.success() {
            // Everything built: a binary not among the artifacts left the workspace (its
            // package was excluded or removed); its tests are gone, not broken.
            let gone = tests
                .iter()
                .filter(|(_, (path, _))| !built.contains(path))
                .map(|(id, _)| id.clone())
                .collect();
            return Ok((BTreeSet::new(), None, gone));
        }
        let mut unbuilt = BTreeSet::new();
        let mut whole: BTreeMap<&str, bool> = BTreeMap::new();
        for (id, (path, _)) in tests {
            let ok = built.contains(path);
            *whole.entry(package_of(id)).or_insert(true) &= ok;
            if !ok {
                unbuilt.insert(id.clone());
            }
        }
        let packages = whole
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(p, _)| p.to_owned())
            .collect();
        Ok((unbuilt, Some(packages), BTreeSet::new()))
    }

    /// Runs the tests `filter` selects (`-E`), every one of them or, with `first_failure`,
    /// until one fails; returns the failed ones from nextest's JUnit report.
    fn run_tests(
        &self,
        filter: &str,
        packages: Option<&BTreeSet<String>>,
        first_failure: bool,
    ) -> Result<BTreeSet<TestId>, Failure> {
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
        let text = std::fs::read_to_string(&junit).map_err(|e| {
            Failure::environment(format!(
                "cargo nextest wrote no JUnit report at {} ({e}); its output:\n{}",
                junit.display(),
                String::from_utf8_lossy(&output.stderr)
            ))
        })?;
        Ok(junit_failures(&text))
    }

    /// The ground truth for one mutation. Every test a selection leaves out runs to the end:
    /// that is where misses are, so that part is exact. The tests every selection includes
    /// can only show that the mutation breaks something, so they run until the first failure,
    /// and not at all when a failure is already known. `complete` says whether `failed` is
    /// every broken test or a part of them.
    fn suite(&self, tests: &Listing, selections: &[&Value]) -> Result<SuiteRun, Failure> {
        let (unbuilt, packages, gone) = self.build(tests)?;
        let mut failed: BTreeSet<TestId> = BTreeSet::new();
        for id in &unbuilt {
            failed.extend(tests[id].1.iter().map(|n| (id.clone(), n.clone())));
        }
        // cargo builds a package's tests together: the built binaries of a package with one
        // that does not build cannot be run, and are reported.
        let (runnable, not_run): (Vec<&String>, Vec<&String>) = tests
            .keys()
            .filter(|id| !unbuilt.contains(*id) && !gone.contains(*id))
            .partition(|id| packages.as_ref().is_none_or(|p| p.contains(package_of(id))));
        let (inside, outside): (Vec<&String>, Vec<&String>) = runnable
            .into_iter()
            .partition(|id| selections.iter().all(|report| selects(report, id)));
        let any_of = |ids: &[&String]| {
            ids.iter()
                .map(|id| format!("binary_id({})", support::shell::filterset_exact(id)))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        if !outside.is_empty() {
            failed.extend(self.run_tests(&any_of(&outside), packages.as_ref(), false)?);
        }
        let mut complete = inside.is_empty();
        if failed.is_empty() && !inside.is_empty() {
            let found = self.run_tests(&any_of(&inside), packages.as_ref(), true)?;
            complete = found.is_empty();
            failed.extend(found);
        }
        Ok(SuiteRun {
            failed,
            unbuilt: unbuilt.into_iter().collect(),
            not_run: not_run.into_iter().cloned().collect(),
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
        let (without, with, run) = result?;
        Ok(Outcome {
            name: mutation.name,
            category: mutation.category,
            file: mutation.file,
            broken: Vec::new(),
            broken_complete: run.complete,
            unbuilt: run.unbuilt,
            not_run: run.not_run,
            invalid: false,
            without_recording: check(&without, &BTreeSet::new()),
            with_recording: with.as_ref().map(|r| check(r, &BTreeSet::new())),
            seconds: started.elapsed().as_secs_f64(),
            failed: run.failed,
            reports: (without, with),
        })
        .map(|mut outcome| {
            outcome.settle(&BTreeSet::new());
            outcome
        })
    }

    fn apply(&self, mutation: &Mutation) -> Result<(), Failure> {
        let path = self.repo.join(mutation.file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
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
        let mutated = if all {
            text.replace(from, to)
        } else {
            text.replacen(from, to, 1)
        };
        std::fs::write(&path, mutated)
            .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
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

fn check(report: &Value, broken: &BTreeSet<TestId>) -> Checked {
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
    Checked {
        all: report["all"] == true,
        selected,
        missed: broken
            .iter()
            .filter(|(binary, _)| !selects(report, binary))
            .map(|(binary, name)| format!("{binary} {name}"))
            .collect(),
    }
}

/// Failed tests of a nextest JUnit report: each `<testcase>` holding a `<failure>` or
/// `<error>`, as (classname = binary id, name).
fn junit_failures(xml: &str) -> BTreeSet<TestId> {
    let mut failed = BTreeSet::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<testcase ") {
        rest = &rest[start..];
        let open_end = rest.find('>').unwrap_or(rest.len());
        let open = &rest[..open_end];
        let (body, next) = if open.ends_with('/') {
            ("", &rest[open_end..])
        } else {
            let close = rest.find("</testcase>").unwrap_or(rest.len());
            (&rest[open_end..close], &rest[close..])
        };
        if (body.contains("<failure") || body.contains("<error"))
            && let (Some(name), Some(class)) =
                (attribute(open, "name"), attribute(open, "classname"))
        {
            failed.insert((class, name));
        }
        rest = &next[next.len().min(1)..];
    }
    failed
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
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
