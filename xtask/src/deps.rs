//! `cargo xtask deps audit|report`: a thin front end over the `depgroups` library.

use std::path::PathBuf;

use support::{Exit, Failure};

use crate::cli::{DepsArgs, DepsCommand, DepsInput, ReportFormat};

pub fn run(args: &DepsArgs) -> Result<Exit, Failure> {
    match &args.command {
        DepsCommand::Audit(audit_args) => audit(&audit_args.input, audit_args.format.json()),
        DepsCommand::Report(report_args) => report(&report_args.input, report_args.format),
    }
}

/// `--manifest-path`, else the project root's Cargo.toml.
fn manifest(input: &DepsInput) -> PathBuf {
    input
        .manifest_path
        .clone()
        .unwrap_or_else(|| crate::project_root().join("Cargo.toml"))
}

fn audit(input: &DepsInput, json: bool) -> Result<Exit, Failure> {
    let audit = depgroups::audit(&manifest(input), input.groups.as_deref())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&audit.shape()).expect("report shapes serialize")
        );
        return Ok(if audit.passed() {
            Exit::Success
        } else {
            Exit::CheckFailed
        });
    }
    let groups = audit
        .members
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if audit.passed() {
        println!(
            "deps audit: {} members in {groups} groups, each under no-default, default and all features: no violations",
            audit.members.len()
        );
        return Ok(Exit::Success);
    }
    Err(Failure {
        exit: Exit::CheckFailed,
        located: audit.diagnostics(),
        message: Some(format!(
            "deps audit: {} violation(s) across {} members",
            audit.violations.len(),
            audit.members.len()
        )),
    })
}

fn report(input: &DepsInput, format: ReportFormat) -> Result<Exit, Failure> {
    let report = depgroups::report(&manifest(input), input.groups.as_deref())?;
    if format == ReportFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.shape()).expect("report shapes serialize")
        );
    } else {
        print!("{}", report.to_markdown());
    }
    Ok(Exit::Success)
}
