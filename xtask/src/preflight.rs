//! `cargo xtask preflight`: Gate 0. Validates every configuration and manifest file (all
//! problems at once, each at `file:line:col`), then `cargo check`s the critical crates listed
//! in `lanes.toml`, stopping at the first compile error with the compiler's own message (exit 2,
//! as for a lane whose tests do not build).
//! It is the cheapest way to fail: no test binary is linked, no test runs.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use support::shell::command_line;
use support::{Exit, Failure, Located};
use walkdir::WalkDir;

use crate::cli::PreflightArgs;

use lanes_config::NEXTEST_CONFIG;
use lanes_config::nextest;
use lanes_config::release_lane::{MANIFEST, ReleaseLaneManifest};

/// What a passing preflight checked.
pub struct Report {
    pub files: usize,
    pub crates: usize,
}

/// `cargo xtask preflight [--format json]`
///
/// JSON (stdout, `"version": 1`): `verdict` (`passed`/`failed`), `exit`, `seconds`, `files`,
/// `critical_crates`, and `diagnostics` (`location`, `message`) when configuration is invalid.
/// Human-readable diagnostics and the compiler's messages always go to stderr.
pub fn run(args: &PreflightArgs) -> Result<Exit, Failure> {
    let json = args.format.json();
    let started = Instant::now();
    let outcome = check(&crate::project_root());
    let seconds = started.elapsed().as_secs_f64();
    if json {
        use output_types::lanes::{Preflight, Verdict};
        use output_types::{Diagnostic, Shape};
        let doc = match &outcome {
            Ok(report) => Preflight {
                schema: Preflight::schema(),
                verdict: Verdict::Passed,
                exit: Exit::Success.code(),
                seconds,
                files: Some(report.files),
                critical_crates: Some(report.crates),
                diagnostics: Vec::new(),
                message: None,
            },
            Err(failure) => Preflight {
                schema: Preflight::schema(),
                verdict: Verdict::Failed,
                exit: failure.exit.code(),
                seconds,
                files: None,
                critical_crates: None,
                diagnostics: failure
                    .located
                    .iter()
                    .map(|l| Diagnostic {
                        location: l.location(),
                        message: l.message.clone(),
                    })
                    .collect(),
                message: failure.message.clone(),
            },
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("report shapes serialize")
        );
    }
    let report = outcome?;
    eprintln!(
        "preflight passed: {} files valid, {} critical crates compile ({seconds:.1}s)",
        report.files, report.crates,
    );
    Ok(Exit::Success)
}

/// Validates the configuration, then compiles the critical crates.
pub fn check(root: &Path) -> Result<Report, Failure> {
    let (files, lanes) = validate_files(root)?;
    let critical: Vec<String> = lanes
        .file
        .critical
        .iter()
        .map(|c| c.get_ref().clone())
        .collect();
    if !critical.is_empty() {
        let packages: Vec<String> = critical
            .iter()
            .flat_map(|c| ["--package".to_owned(), c.clone()])
            .collect();
        let words = ["cargo", "check", "--all-targets"].into_iter();
        eprintln!(
            "preflight: {}",
            command_line(words.chain(packages.iter().map(String::as_str)))
        );
        // Output is inherited: the compiler's own message is the diagnostic.
        let status = Command::new(nextest::cargo())
            .args(["check", "--all-targets", "--quiet"])
            .args(&packages)
            .current_dir(root)
            .status()
            .map_err(|e| Failure::environment(format!("cannot run `cargo check`: {e}")))?;
        if !status.success() {
            // Source that does not compile is invalid input (exit 2) whichever command finds
            // it: a lane whose tests do not build exits 2 too (`nextest::exit_of`).
            return Err(Failure::invalid_input(format!(
                "preflight: a critical crate does not compile (the compiler's message is above); critical crates: {}",
                critical.join(", ")
            )));
        }
    }
    Ok(Report {
        files,
        crates: critical.len(),
    })
}

/// Parses and validates every configuration and manifest file; returns how many were read.
/// Every diagnostic from every file is collected before reporting.
fn validate_files(root: &Path) -> Result<(usize, lanes_config::Lanes), Failure> {
    let mut diagnostics: Vec<Located> = Vec::new();
    let mut files = 0;

    // lanes.toml, and through it deps-groups.toml, .config/nextest.toml and the release-lane
    // manifest (checked against each other: groups, members, profiles).
    let lanes = match lanes_config::load(root) {
        Ok(lanes) => Some(lanes),
        Err(failure) if failure.located.is_empty() => return Err(failure),
        Err(failure) => {
            diagnostics.extend(failure.located);
            None
        }
    };
    files += 3;
    // `[impact]` in lanes.toml belongs to impact analysis, which reads it on every decision;
    // a mistake in it fails here first, next to every other configuration problem.
    let lanes_path = root.join(lanes_config::LANES_FILE);
    if let Ok(text) = std::fs::read_to_string(&lanes_path)
        && let Err(problems) = impact::rules::Rules::parse(&lanes_path, &text)
    {
        diagnostics.extend(problems);
    }
    if !root.join(NEXTEST_CONFIG).exists() {
        diagnostics.push(
            Located::file(root.join(NEXTEST_CONFIG), "missing nextest configuration").with_help(
                "profiles `default`, `ci` and `release` and `nextest-version` belong here",
            ),
        );
    }

    let manifests = root.join("manifests");
    if manifests.is_dir() {
        for entry in WalkDir::new(&manifests).sort_by_file_name() {
            let entry =
                entry.map_err(|e| Failure::environment(format!("cannot walk manifests/: {e}")))?;
            let path = entry.path();
            let kind = path.extension().and_then(|e| e.to_str());
            if !entry.file_type().is_file() || !matches!(kind, Some("json" | "toml")) {
                continue;
            }
            files += 1;
            let shown = path.strip_prefix(root).unwrap_or(path);
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    diagnostics.push(Located::file(shown, format!("cannot read: {e}")));
                    continue;
                }
            };
            // Files the release domain knows get its typed loader (schema, not just syntax).
            let relative = shown.to_string_lossy().replace('\\', "/");
            if let Some(typed) = typed_loader(&relative) {
                if let Err(located) = typed(path) {
                    diagnostics.extend(located);
                }
                continue;
            }
            let parsed = if kind == Some("json") {
                support::json::parse::<serde_json::Value>(shown, &text).map(drop)
            } else {
                support::config::Doc::parse(shown, &text).map(drop)
            };
            if let Err(located) = parsed {
                diagnostics.push(located);
            }
        }
    }

    // Loaders see absolute paths; every file is named relative to the workspace, as cargo
    // does. The release-lane manifest is read both here and through `tests-from`: report once.
    let mut seen = std::collections::HashSet::new();
    let diagnostics: Vec<Located> = diagnostics
        .into_iter()
        .map(|d| d.relative_to(root))
        .filter(|d| seen.insert(d.to_string()))
        .collect();
    match lanes {
        Some(lanes) if diagnostics.is_empty() => Ok((files, lanes)),
        _ => Err(Failure::located(diagnostics)),
    }
}

type Loader = fn(&Path) -> Result<(), Vec<Located>>;

/// The release domain's loader for a file under `manifests/`, by its place there.
fn typed_loader(relative: &str) -> Option<Loader> {
    let in_dir = |dir: &str, ext: &str| {
        relative
            .strip_prefix(dir)
            .is_some_and(|name| !name.contains('/') && name.ends_with(ext))
    };
    if in_dir("manifests/providers/", ".json") {
        Some(|p| release::ProviderManifest::load(p).map(drop))
    } else if in_dir("manifests/releases/", ".dsse.json") {
        // A signed statement next to a release: governance checks its signatures.
        Some(|p| read_json(p).map(drop))
    } else if in_dir("manifests/releases/", ".json") && is_attachment(relative) {
        Some(|p| {
            let text = read_json(p)?;
            release::attest::Statement::parse(p, &text)
                .map(drop)
                .map_err(|l| vec![l])
        })
    } else if in_dir("manifests/releases/", ".json") {
        Some(|p| release::ReleaseManifest::load(p).map(drop))
    } else if relative == "manifests/gates.toml" {
        Some(|p| release::GatePolicy::load(p).map(drop))
    } else if relative == "manifests/kernel.toml" {
        Some(|p| release::KernelManifest::load(p).map(drop))
    } else if relative == MANIFEST {
        Some(|p| {
            ReleaseLaneManifest::load(p)
                .map(drop)
                .map_err(|f| f.located)
        })
    } else {
        None
    }
}

/// A release's attachment (`release-000001.provenance.json`), not a release.
fn is_attachment(relative: &str) -> bool {
    relative
        .rsplit('/')
        .next()
        .is_some_and(release::chain::is_release_attachment)
}

/// A JSON file read strictly; its text.
fn read_json(path: &Path) -> Result<String, Vec<Located>> {
    let text = support::input::read_text(path, release::attest::MAX_BYTES, "statement")
        .map_err(|l| vec![l])?;
    support::json::parse::<serde_json::Value>(path, &text).map_err(|l| vec![l])?;
    Ok(text)
}
