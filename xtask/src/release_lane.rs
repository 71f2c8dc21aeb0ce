//! `cargo xtask release-lane`: the canonical must-pass CI job, as a list of steps.
//!
//! Steps: preflight; the exact tests of `manifests/release-lane.toml` (each must exist: a
//! listed test that is gone fails the step, exit 1, naming it and pointing at its entry);
//! a federation dry run; the kernel check. Every step runs and is timed (after a failed
//! preflight the rest are skipped: nothing else is meaningful on code that does not compile),
//! and a summary table ends the run. nextest writes JUnit through the `release` profile.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use support::{Exit, Failure, Located};
use toml::Spanned;

use crate::lanes::{self, Doc, Source, config::ExactTests};
use crate::nextest::{self, TestId};

pub const MANIFEST: &str = "manifests/release-lane.toml";
/// The lane in `lanes.toml` that runs the manifest's tests (`tests-from`).
pub const RELEASE_LANE: &str = "release";

/// One release-lane step. Adding a step is one line in [`STEPS`].
struct Step {
    name: &'static str,
    run: fn(&Path) -> Result<String, Failure>,
}

const STEPS: &[Step] = &[
    Step {
        name: "preflight",
        run: preflight,
    },
    Step {
        name: "release tests",
        run: release_tests,
    },
    Step {
        name: "federate --dry-run",
        run: |root| xtask(root, &["federate", "--dry-run"]),
    },
    Step {
        name: "kernel --check",
        run: |root| xtask(root, &["kernel", "--check"]),
    },
];

/// A listed test: exactly one binary and test name.
#[derive(Debug, Clone)]
pub struct Entry {
    pub binary_id: Spanned<String>,
    pub name: Spanned<String>,
}

impl Entry {
    pub fn id(&self) -> TestId {
        TestId {
            binary_id: self.binary_id.get_ref().clone(),
            name: self.name.get_ref().clone(),
        }
    }

    /// The package a binary id belongs to (`release::kernel` -> `release`).
    pub fn package(&self) -> &str {
        let id = self.binary_id.get_ref();
        id.split_once("::")
            .map_or(id.as_str(), |(package, _)| package)
    }
}

/// `manifests/release-lane.toml`.
#[derive(Debug, Clone)]
pub struct ReleaseLaneManifest {
    pub path: PathBuf,
    pub text: String,
    pub tests: Vec<Entry>,
}

impl ReleaseLaneManifest {
    pub fn load(path: &Path) -> Result<ReleaseLaneManifest, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::from(Located::file(
                path,
                format!("cannot read the release-lane manifest: {e}"),
            ))
        })?;
        ReleaseLaneManifest::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<ReleaseLaneManifest, Failure> {
        let (mut doc, root) = Doc::parse(path, &text)?;
        doc.reject_unknown_keys(
            root.get_ref(),
            &["version", "test"],
            "the release-lane manifest",
        );
        match root.get_ref().get("version") {
            Some(v) if matches!(v.get_ref(), toml::de::DeValue::Integer(i) if i.as_str() == "1") => {
            }
            Some(v) => doc.error(
                v.span(),
                "unsupported `version`",
                "this xtask reads `version = 1`",
            ),
            None => doc.error(
                0..0,
                "missing `version = 1`",
                "start the file with `version = 1`",
            ),
        }
        let mut tests = Vec::new();
        if let Some(list) = root.get_ref().get("test") {
            for table in doc.table_list(list, "`[[test]]`") {
                doc.reject_unknown_keys(
                    table,
                    &["binary-id", "name", "covers"],
                    "a `[[test]]` entry",
                );
                let binary_id = table
                    .get("binary-id")
                    .and_then(|v| doc.string(v, "`binary-id`"));
                let name = table.get("name").and_then(|v| doc.string(v, "`name`"));
                // `covers` says what the test stands for; it is for readers only.
                if let Some(v) = table.get("covers") {
                    doc.string(v, "`covers`");
                }
                match (binary_id, name) {
                    (Some(binary_id), Some(name)) => tests.push(Entry { binary_id, name }),
                    _ => {
                        let span = table.values().next().map_or(0..0, |v| v.span());
                        doc.error(
                            span,
                            "a `[[test]]` entry needs `binary-id` and `name`",
                            "copy both from `cargo nextest list`",
                        );
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for entry in &tests {
            if !seen.insert(entry.id()) {
                doc.error(
                    entry.name.span(),
                    format!("`{}` is listed twice", entry.name.get_ref()),
                    "remove one entry",
                );
            }
        }
        if !doc.diagnostics.is_empty() {
            return Err(Failure::located(doc.diagnostics));
        }
        Ok(ReleaseLaneManifest {
            path: path.to_path_buf(),
            text: text.clone(),
            tests,
        })
    }

    /// `(binary_id(=B) & test(=T)) | ...`: exactly the listed tests, nothing that merely
    /// shares a prefix.
    pub fn exact_tests(&self) -> ExactTests {
        let terms: Vec<String> = self
            .tests
            .iter()
            .map(|e| {
                format!(
                    "(binary_id({}) & test({}))",
                    nextest::exact(e.binary_id.get_ref()),
                    nextest::exact(e.name.get_ref())
                )
            })
            .collect();
        let mut packages: Vec<String> = Vec::new();
        for entry in &self.tests {
            if !packages.iter().any(|p| p == entry.package()) {
                packages.push(entry.package().to_owned());
            }
        }
        ExactTests {
            filterset: if terms.is_empty() {
                "none()".to_owned()
            } else {
                terms.join(" | ")
            },
            packages,
        }
    }
}

/// `cargo xtask release-lane [--no-install] [--format json]`
pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut no_install = false;
    let mut json = false;
    while let Some(arg) = parser.next().map_err(crate::usage_error)? {
        match arg {
            Long("no-install") => no_install = true,
            Long("format") => {
                json = match parser.value().map_err(crate::usage_error)?.to_str() {
                    Some("json") => true,
                    Some("human") => false,
                    _ => return Err(Failure::invalid_input("--format takes `human` or `json`")),
                }
            }
            _ => return Err(crate::usage_error(arg.unexpected())),
        }
    }
    let root = crate::project_root();
    nextest::ensure(no_install)?;

    let mut results: Vec<(&str, f64, Result<String, Failure>)> = Vec::new();
    let mut gate_failed = false;
    for step in STEPS {
        if gate_failed {
            results.push((
                step.name,
                0.0,
                Err(Failure::check_failed("skipped: preflight failed")),
            ));
            continue;
        }
        eprintln!("\n==> release-lane: {}", step.name);
        let started = Instant::now();
        let outcome = (step.run)(&root);
        let seconds = started.elapsed().as_secs_f64();
        if let Err(failure) = &outcome {
            crate::output::report_failure(failure);
            gate_failed = step.name == "preflight";
        }
        results.push((step.name, seconds, outcome));
    }

    let total: f64 = results.iter().map(|(_, s, _)| s).sum();
    let verdict = |r: &Result<String, Failure>| match r {
        Ok(_) => "passed",
        Err(f)
            if f.message
                .as_deref()
                .is_some_and(|m| m.starts_with("skipped")) =>
        {
            "skipped"
        }
        Err(_) => "FAILED",
    };
    let detail = |r: &Result<String, Failure>| match r {
        Ok(detail) => detail.clone(),
        Err(f) => first_line(&f.to_string()),
    };
    if json {
        let steps: Vec<_> = results
            .iter()
            .map(|(name, seconds, r)| json!({"name": name, "seconds": seconds, "verdict": verdict(r), "detail": detail(r)}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"version": 1, "steps": steps, "seconds": total}))
                .expect("JSON values serialize")
        );
    } else {
        println!("\nrelease-lane summary");
        println!("{:20}  {:>8}  {:8}  DETAIL", "STEP", "TIME", "VERDICT");
        for (name, seconds, r) in &results {
            println!(
                "{name:20}  {:>7.1}s  {:8}  {}",
                seconds,
                verdict(r),
                detail(r)
            );
        }
        println!("{:20}  {:>7.1}s", "total", total);
    }
    let mut markdown = String::from(
        "### Release lane\n\n| step | time | verdict | detail |\n|---|---:|---|---|\n",
    );
    for (name, seconds, r) in &results {
        markdown.push_str(&format!(
            "| {name} | {seconds:.1} s | {} | {} |\n",
            verdict(r),
            detail(r).replace('|', "\\|")
        ));
    }
    let _ = crate::output::append_step_summary(&markdown);

    match results.iter().find_map(|(_, _, r)| r.as_ref().err()) {
        None => Ok(Exit::Success),
        Some(first) => Err(Failure::new(
            first.exit,
            "the release lane failed (see the summary above)",
        )),
    }
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
    let lanes = lanes::load(root)?;
    let lane = lanes.get(RELEASE_LANE)?.clone();
    let members = lanes.workspace.member_names();

    // Existence is checked against everything nextest can see in the packages involved, so a
    // renamed or deleted test is reported by name before anything runs.
    let packages: Vec<String> = lane
        .packages
        .iter()
        .filter(|p| members.contains(p))
        .cloned()
        .collect();
    let mut list_args = Vec::new();
    for package in &packages {
        list_args.extend(["--package".to_owned(), package.clone()]);
    }
    if packages.is_empty() {
        list_args.push("--workspace".to_owned());
    }
    list_args.push("--all-features".to_owned());
    let existing: BTreeSet<TestId> = nextest::list(root, &list_args)?.into_iter().collect();
    let missing: Vec<Located> = manifest
        .tests
        .iter()
        .filter(|entry| !existing.contains(&entry.id()))
        .map(|entry| {
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
            .with_help("it was renamed or deleted: update manifests/release-lane.toml (`cargo nextest list` shows the names)")
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
    let count = lanes::run_lane(root, &lane, &Source::Build, None, &[])?;
    let junit = lanes
        .workspace
        .target_directory
        .join("nextest")
        .join(&lane.profile)
        .join("junit.xml");
    Ok(format!("{count} tests passed; JUnit: {}", junit.display()))
}

/// Runs another command of this xtask against the same workspace.
fn xtask(root: &Path, args: &[&str]) -> Result<String, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::environment(format!("cannot find the xtask binary: {e}")))?;
    let status = std::process::Command::new(exe)
        .args(args)
        .env("XTASK_WORKSPACE_ROOT", root)
        .status()
        .map_err(|e| {
            Failure::environment(format!("cannot run `cargo xtask {}`: {e}", args.join(" ")))
        })?;
    match status.code() {
        Some(0) => Ok(format!("`cargo xtask {}` passed", args.join(" "))),
        code => Err(Failure::new(
            match code {
                Some(2) => Exit::InvalidInput,
                Some(3) => Exit::Environment,
                _ => Exit::CheckFailed,
            },
            format!("`cargo xtask {}` failed ({status})", args.join(" ")),
        )),
    }
}
