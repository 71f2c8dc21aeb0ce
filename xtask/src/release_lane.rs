//! `cargo xtask release-lane`: the canonical must-pass CI job, as a list of steps.
//!
//! Steps: preflight; the exact tests of `manifests/release-lane.toml` (each must exist: a
//! listed test that is gone fails the step, exit 1, naming it and pointing at its entry);
//! the dependency-group audit; a federation dry run; the kernel check. Every step runs and is timed (after a failed
//! preflight the rest are skipped: nothing else is meaningful on code that does not compile),
//! and a summary table ends the run. nextest writes JUnit through the `release` profile.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use lanes_config::release_lane::{MANIFEST, RELEASE_LANE, TestId};
use lanes_config::{LaneSelection, ReleaseLaneManifest};
use support::shell::command_line;
use support::{Exit, Failure, Located};

use crate::cli::ReleaseLaneArgs;
use lanes_config::nextest;
use lanes_config::run::{Source, run_lane};

/// One release-lane step: a function here, or another `cargo xtask` command run against the
/// same workspace. Adding a step is one line in [`STEPS`].
enum Step {
    Function(&'static str, fn(&Path) -> Result<String, Failure>),
    Xtask(&'static [&'static str]),
}

#[rustfmt::skip]
const STEPS: &[Step] = &[
    Step::Function("preflight", preflight),
    Step::Function("release tests", release_tests),
    Step::Xtask(&["deps", "audit"]),
    Step::Xtask(&["federate", "--dry-run"]),
    Step::Xtask(&["kernel", "--check"]),
];

impl Step {
    fn name(&self) -> String {
        match self {
            Step::Function(name, _) => (*name).to_owned(),
            Step::Xtask(args) => args.join(" "),
        }
    }

    fn run(&self, root: &Path) -> Result<String, Failure> {
        match self {
            Step::Function(_, run) => run(root),
            Step::Xtask(args) => xtask(root, args),
        }
    }
}

/// `cargo xtask release-lane [--no-install] [--format json]`
pub fn run(args: &ReleaseLaneArgs) -> Result<Exit, Failure> {
    let (no_install, json) = (args.install.no_install, args.format.json());
    let root = crate::project_root();
    nextest::ensure(no_install)?;

    let mut results: Vec<StepResult> = Vec::new();
    let mut gate_failed = false;
    for step in STEPS {
        let name = step.name();
        if gate_failed {
            results.push(StepResult {
                name,
                seconds: 0.0,
                outcome: Outcome::Skipped("preflight failed".to_owned()),
            });
            continue;
        }
        eprintln!("\n==> release-lane: {name}");
        let started = Instant::now();
        let outcome = match step.run(&root) {
            Ok(detail) => Outcome::Passed(detail),
            Err(failure) => {
                crate::output::report_failure(&failure);
                gate_failed = name == "preflight";
                Outcome::Failed(failure)
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        results.push(StepResult {
            name,
            seconds,
            outcome,
        });
    }
    print_summary(&results, json);

    match results.iter().find_map(|r| match &r.outcome {
        Outcome::Failed(failure) => Some(failure.exit),
        _ => None,
    }) {
        None => Ok(Exit::Success),
        Some(exit) => Err(Failure::new(
            exit,
            "the release lane failed (see the summary above)",
        )),
    }
}

struct StepResult {
    name: String,
    seconds: f64,
    outcome: Outcome,
}

enum Outcome {
    Passed(String),
    Failed(Failure),
    Skipped(String),
}

impl Outcome {
    fn verdict(&self) -> &'static str {
        match self {
            Outcome::Passed(_) => "passed",
            Outcome::Failed(_) => "FAILED",
            Outcome::Skipped(_) => "skipped",
        }
    }

    fn detail(&self) -> String {
        match self {
            Outcome::Passed(detail) | Outcome::Skipped(detail) => detail.clone(),
            Outcome::Failed(failure) => first_line(&failure.to_string()),
        }
    }
}

/// The one-screen table (or its JSON) on stdout, and the same table in the GitHub step summary.
fn print_summary(results: &[StepResult], json: bool) {
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    if json {
        use output_types::Shape;
        use output_types::lanes::{ReleaseLane, Step, Verdict};
        let steps = results
            .iter()
            .map(|r| Step {
                name: r.name.clone(),
                seconds: r.seconds,
                verdict: match r.outcome {
                    Outcome::Passed(_) => Verdict::Passed,
                    Outcome::Failed(_) => Verdict::Failed,
                    Outcome::Skipped(_) => Verdict::Skipped,
                },
                detail: r.outcome.detail(),
            })
            .collect();
        let doc = ReleaseLane {
            schema: ReleaseLane::schema(),
            steps,
            seconds: total,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("report shapes serialize")
        );
    } else {
        println!("\nrelease-lane summary");
        println!("{:20}  {:>8}  {:8}  DETAIL", "STEP", "TIME", "VERDICT");
        for r in results {
            println!(
                "{:20}  {:>7.1}s  {:8}  {}",
                r.name,
                r.seconds,
                r.outcome.verdict(),
                r.outcome.detail()
            );
        }
        println!("{:20}  {:>7.1}s", "total", total);
    }
    let mut markdown = String::from(
        "### Release lane\n\n| step | time | verdict | detail |\n|---|---:|---|---|\n",
    );
    for r in results {
        markdown.push_str(&format!(
            "| {} | {:.1} s | {} | {} |\n",
            r.name,
            r.seconds,
            r.outcome.verdict(),
            r.outcome.detail().replace('|', "\\|")
        ));
    }
    let _ = crate::output::append_step_summary(&markdown);
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

fn preflight(root: &Path) -> Result<String, Failure> {
    let report = crate::preflight::check(root)?;
    Ok(format!(
        "{} files valid, {} critical crates compile",
        report.files, report.crates
    ))
}

/// The manifest's tests: every one must exist, then exactly they run (release profile, JUnit).
fn release_tests(root: &Path) -> Result<String, Failure> {
    let manifest = ReleaseLaneManifest::load(&root.join(MANIFEST))?;
    let lanes = lanes_config::load(root)?;
    let lane = lanes.get(RELEASE_LANE)?.clone();
    // Existence is checked against everything nextest can see in the lane's packages, built
    // as the lane builds them, so a renamed or deleted test is named before anything runs.
    let everything = LaneSelection {
        filterset: "all()".to_owned(),
        ..lane.clone()
    };
    // A listed test runs even if it is #[ignore]d: the manifest asks for it by name.
    let run_ignored = ["--run-ignored".to_owned(), "all".to_owned()];
    let list_args = [
        everything.build_args(),
        vec!["-E".to_owned(), everything.filterset],
        run_ignored.to_vec(),
    ]
    .concat();
    let words = ["cargo", "nextest", "list"]
        .into_iter()
        .chain(list_args.iter().map(String::as_str));
    eprintln!(
        "building the release lane's tests to check they exist: {}",
        command_line(words)
    );
    let existing: BTreeSet<TestId> = nextest::list(root, &list_args)?.into_iter().collect();
    let missing: Vec<Located> = manifest
        .tests
        .iter()
        .filter(|entry| !existing.contains(&entry.id()))
        .map(|entry| {
            let renamed = support::config::did_you_mean(
                entry.name.get_ref(),
                existing
                    .iter()
                    .filter(|test| test.binary_id == *entry.binary_id.get_ref())
                    .map(|test| test.name.as_str()),
            );
            let help = match renamed {
                Some(name) => format!("did you mean `{name}`? update manifests/release-lane.toml"),
                None => "it was renamed or deleted: update manifests/release-lane.toml \
                         (`cargo nextest list` shows the names)"
                    .to_owned(),
            };
            Located::at(
                &manifest.path,
                &manifest.text,
                entry.name.span(),
                format!(
                    "release-lane test `{}` in binary `{}` does not exist",
                    entry.name.get_ref(),
                    entry.binary_id.get_ref()
                ),
            )
            .with_code(support::config::Code::UnknownName)
            .with_help(help)
        })
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = manifest
            .tests
            .iter()
            .filter(|e| !existing.contains(&e.id()))
            .map(|e| format!("{} {}", e.binary_id.get_ref(), e.name.get_ref()))
            .collect();
        return Err(Failure {
            exit: Exit::CheckFailed,
            located: missing,
            message: Some(format!("missing release-lane tests: {}", names.join(", "))),
        });
    }
    let junit = lanes
        .workspace
        .target_directory
        .join("nextest")
        .join(&lane.profile)
        .join("junit.xml");
    // A JUnit file of an earlier run must not stand for this one.
    let _ = std::fs::remove_file(&junit);
    let ran = run_lane(root, &lane, &Source::Build, None, &run_ignored);
    let statement = write_test_result(
        root,
        &manifest,
        &junit,
        &lanes.workspace.target_directory.join(TEST_RESULT_FILE),
    );
    let count = ran?;
    Ok(format!(
        "{count} tests passed; JUnit: {}; {}",
        junit.display(),
        statement?
    ))
}

/// Where the release lane writes its test-result statement, under the target directory.
pub const TEST_RESULT_FILE: &str = "release-lane/test-result.json";

/// The in-toto test-result statement of this run (README.md, section Provenance): subject the
/// source commit and the kernel digest, the release-lane manifest as configuration, every test
/// by name from the JUnit file. Written whether the tests passed or not; a workspace that is
/// not a clean git checkout, or has no kernel manifest, gets no statement (said in the detail).
fn write_test_result(
    root: &Path,
    manifest: &ReleaseLaneManifest,
    junit: &Path,
    out: &Path,
) -> Result<String, Failure> {
    let Some(source) = release::source::of_checkout(root).map_err(Failure::environment)? else {
        return Ok("no test-result statement: not a git checkout".to_owned());
    };
    let kernel_path = root.join(release::repo::KERNEL_FILE);
    if !kernel_path.is_file() {
        return Ok("no test-result statement: no kernel manifest".to_owned());
    }
    let kernel = release::KernelManifest::load(&kernel_path).map_err(Failure::located)?;
    let Some(kernel_digest) = kernel.inspect(root).map_err(Failure::from)?.digest() else {
        return Ok("no test-result statement: kernel files missing".to_owned());
    };
    let text = support::input::read_text(junit, 256 << 20, "JUnit report")?;
    let outcomes = support::junit::outcomes(&text);
    let statement = release::attest::test_result_statement(&release::attest::LaneRun {
        source,
        kernel_digest,
        configuration: release::attest::InputFile::of_bytes(MANIFEST, manifest.text.as_bytes()),
        passed: outcomes.passed.iter().map(shown_test).collect(),
        failed: outcomes.failed.iter().map(shown_test).collect(),
    });
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| Failure::environment(format!("{}: {err}", parent.display())))?;
    }
    support::atomic::write_atomic(out, &statement.to_bytes())
        .map_err(|err| Failure::environment(format!("writing {}: {err}", out.display())))?;
    Ok(format!("test result: {}", out.display()))
}

/// `binary-id test-name`, as nextest prints a test.
fn shown_test((binary, name): &(String, String)) -> String {
    format!("{binary} {name}")
}

/// `cargo xtask <args>`, quoted for pasting.
fn xtask_command(args: &[&str]) -> String {
    command_line(["cargo", "xtask"].iter().chain(args))
}

/// Runs another command of this xtask against the same workspace.
fn xtask(root: &Path, args: &[&str]) -> Result<String, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::environment(format!("cannot find the xtask binary: {e}")))?;
    // A step's own report goes to stderr: stdout carries only the summary (or its JSON).
    // A step's own report goes to stderr: stdout carries only the summary (or its JSON).
    let status = std::process::Command::new(exe)
        .args(args)
        .env("XTASK_WORKSPACE_ROOT", root)
        .stdout(std::io::stderr())
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `{}`: {e}", xtask_command(args))))?;
    match status.code() {
        Some(0) => Ok(format!("`{}` passed", xtask_command(args))),
        code => Err(Failure::new(
            match code {
                Some(2) => Exit::InvalidInput,
                Some(3) => Exit::Environment,
                _ => Exit::CheckFailed,
            },
            format!("`{}` failed ({status})", xtask_command(args)),
        )),
    }
}
