//! Outputs: the human view with why-chains, a Markdown summary, and pictures of the graph
//! (Mermaid, DOT) with the affected part highlighted.

use std::collections::BTreeMap;
use std::fmt::Write;

use output_types::Shape;
use output_types::impact as out;

use crate::git::Status;
use crate::recording::TestId;
use crate::report::{AffectedPackage, Reason, Report, Targets};

fn short(sha: &Option<String>, none: &str) -> String {
    match sha {
        Some(sha) => sha.chars().take(12).collect(),
        None => none.to_owned(),
    }
}

/// `all tests`, or the binaries and single tests selected.
fn targets_text(package: &AffectedPackage) -> String {
    match &package.targets {
        Targets::All => "all tests".to_owned(),
        Targets::Some(ids) => {
            let mut parts: Vec<String> = ids.clone();
            for (id, tests) in &package.tests {
                parts.push(format!("{id} (only {})", tests.join(", ")));
            }
            parts.join(", ")
        }
    }
}

/// `binary-id test-name`, or the binary id alone for a process traced without a test name.
fn test_text((id, test): TestId<'_>) -> String {
    if test.is_empty() {
        id.to_owned()
    } else {
        format!("{id} {test}")
    }
}

fn test_ref((id, test): TestId<'_>) -> out::TestRef {
    out::TestRef {
        binary_id: id.to_owned(),
        test: test.to_owned(),
    }
}

/// `impact --format json`: the report as `impact-report/v1`.
pub fn json(report: &Report) -> out::ImpactReport {
    out::ImpactReport {
        schema: out::ImpactReport::schema(),
        base: report.base.clone(),
        head: report.head.clone(),
        all: report.all,
        all_reasons: report.all_reasons.clone(),
        changed_files: report
            .changed_files
            .iter()
            .map(|file| out::ChangedFile {
                path: file.path.clone(),
                status: match file.status {
                    Status::Added => out::FileStatus::Added,
                    Status::Modified => out::FileStatus::Modified,
                    Status::Deleted => out::FileStatus::Deleted,
                    Status::Renamed => out::FileStatus::Renamed,
                },
                old_path: file.old_path.clone(),
            })
            .collect(),
        packages: report
            .packages
            .iter()
            .map(|p| out::AffectedPackage {
                name: p.name.clone(),
                distance: p.distance,
                targets: targets(&p.targets),
                tests: p.tests.clone(),
                reasons: p.reasons.iter().map(reason).collect(),
            })
            .collect(),
        filterset: report.filterset.clone(),
        unaffecting: report.unaffecting.iter().map(reason).collect(),
    }
}

fn targets(targets: &Targets) -> out::Targets {
    match targets {
        Targets::All => out::Targets::Every(out::EveryTarget::All),
        Targets::Some(ids) => out::Targets::Some(ids.clone()),
    }
}

fn reason(reason: &Reason) -> out::Reason {
    out::Reason {
        summary: reason.summary.clone(),
        evidence: reason.evidence.clone(),
        file: reason.file.clone(),
        chain: reason.chain.clone(),
    }
}

/// The human view: changed files, then each affected package with its why-chain.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "impact: {} .. {}, {} changed file(s)",
        short(&report.base, "(missing base)"),
        short(&report.head, "working tree"),
        report.changed_files.len()
    );
    for file in &report.changed_files {
        let status = format!("{:?}", file.status).to_lowercase();
        match &file.old_path {
            Some(old) => {
                let _ = writeln!(out, "  {status:<8} {old} -> {}", file.path);
            }
            None => {
                let _ = writeln!(out, "  {status:<8} {}", file.path);
            }
        }
    }
    if report.all {
        let _ = writeln!(
            out,
            "\nall {} packages are affected:",
            report.packages.len()
        );
        for reason in &report.all_reasons {
            let _ = writeln!(out, "  because {reason}");
        }
    } else if report.packages.is_empty() {
        let _ = writeln!(out, "\nnothing affected");
    } else {
        let _ = writeln!(out, "\n{} affected package(s):", report.packages.len());
        for package in &report.packages {
            let _ = writeln!(
                out,
                "  {} (distance {}): {}",
                package.name,
                package.distance,
                targets_text(package)
            );
            const SHOWN: usize = 4;
            for reason in package.reasons.iter().take(SHOWN) {
                let _ = writeln!(out, "    why: {}", reason.summary);
            }
            if package.reasons.len() > SHOWN {
                let _ = writeln!(
                    out,
                    "    ... and {} more reason(s) (see --format json)",
                    package.reasons.len() - SHOWN
                );
            }
        }
    }
    if !report.unaffecting.is_empty() {
        let _ = writeln!(out, "\nno effect:");
        for reason in &report.unaffecting {
            let _ = writeln!(out, "  {}", reason.summary);
        }
    }
    let _ = writeln!(out, "\nfilterset: {}", report.filterset);
    out
}

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Impact analysis\n");
    let _ = writeln!(
        out,
        "`{}` .. `{}`: {} changed file(s)\n",
        short(&report.base, "missing base"),
        short(&report.head, "working tree"),
        report.changed_files.len()
    );
    if report.all {
        let _ = writeln!(
            out,
            "**All {} packages** are affected:\n",
            report.packages.len()
        );
        for reason in &report.all_reasons {
            let _ = writeln!(out, "- {}", escape(reason));
        }
    } else if report.packages.is_empty() {
        let _ = writeln!(out, "Nothing affected.");
    } else {
        let _ = writeln!(
            out,
            "| package | distance | tests | why |\n|---|---|---|---|"
        );
        for package in &report.packages {
            let why = package
                .reasons
                .iter()
                .map(|r| escape(&r.summary))
                .collect::<Vec<_>>()
                .join("<br>");
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                package.name,
                package.distance,
                escape(&targets_text(package)),
                why
            );
        }
    }
    let _ = writeln!(out, "\nFilterset: `{}`", report.filterset);
    out
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn affected(report: &Report) -> BTreeMap<&str, &Targets> {
    report
        .packages
        .iter()
        .map(|p| (p.name.as_str(), &p.targets))
        .collect()
}

/// The workspace graph in Mermaid; affected packages filled, test-only ones outlined.
pub fn mermaid(report: &Report) -> String {
    let hit = affected(report);
    let mut out = String::from("graph LR\n");
    let _ = writeln!(
        out,
        "  classDef affected fill:#f96,stroke:#333,stroke-width:2px"
    );
    let _ = writeln!(
        out,
        "  classDef tests fill:#fd9,stroke:#333,stroke-dasharray:4"
    );
    for (index, package) in report.graph.packages.iter().enumerate() {
        let class = match hit.get(package.name.as_str()) {
            Some(Targets::All) => ":::affected",
            Some(Targets::Some(_)) => ":::tests",
            None => "",
        };
        let _ = writeln!(
            out,
            "  p{index}[\"{}\"]{class}",
            package.name.replace('"', "'")
        );
    }
    for (index, package) in report.graph.packages.iter().enumerate() {
        for (dep, kind) in &package.deps {
            let arrow = match kind {
                crate::graph::EdgeKind::Dev => "-.->|dev|",
                crate::graph::EdgeKind::Build => "-->|build|",
                crate::graph::EdgeKind::Normal => "-->",
            };
            let _ = writeln!(out, "  p{index} {arrow} p{dep}");
        }
    }
    out
}

/// The workspace graph in Graphviz DOT; affected packages filled.
pub fn dot(report: &Report) -> String {
    let hit = affected(report);
    let mut out = String::from("digraph workspace {\n  rankdir=LR;\n  node [shape=box];\n");
    for package in &report.graph.packages {
        let style = match hit.get(package.name.as_str()) {
            Some(Targets::All) => " style=filled fillcolor=\"#ff9966\"",
            Some(Targets::Some(_)) => " style=\"filled,dashed\" fillcolor=\"#ffdd99\"",
            None => "",
        };
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\"{style}];",
            package.name, package.name
        );
    }
    for package in &report.graph.packages {
        for (dep, kind) in &package.deps {
            let attrs = match kind {
                crate::graph::EdgeKind::Dev => " [style=dashed label=dev]",
                crate::graph::EdgeKind::Build => " [label=build]",
                crate::graph::EdgeKind::Normal => "",
            };
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\"{attrs};",
                package.name, report.graph.packages[*dep].name
            );
        }
    }
    out.push_str("}\n");
    out
}

/// Every reason the analysis gave for `file`, in order: selecting ones, then unaffecting ones.
fn reasons_for<'r>(report: &'r Report, file: &str) -> Vec<&'r crate::report::Reason> {
    let mut reasons: Vec<&crate::report::Reason> = Vec::new();
    for reason in report
        .packages
        .iter()
        .flat_map(|p| &p.reasons)
        .chain(&report.unaffecting)
    {
        if reason.file.as_deref() == Some(file) && !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    reasons
}

/// `impact --explain FILE`, as text: the run-time recording, then the evidence, then what a
/// change to the file selects.
pub fn explanation(report: &Report, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{file}");
    match &report.recording {
        Some(usable) => {
            let recording = &usable.recording;
            let readers = recording.readers(file);
            let _ = writeln!(
                out,
                "  run time ({} at {}):",
                usable.describe(),
                usable.path.display()
            );
            if readers.is_empty() {
                let _ = writeln!(out, "    no recorded test read it");
            } else {
                let readers: Vec<String> = readers.into_iter().map(test_text).collect();
                let _ = writeln!(out, "    read by {}", readers.join(", "));
            }
            for (dir, test) in recording.listing_readers(file) {
                let dir = if dir.is_empty() { "." } else { dir.as_str() };
                let _ = writeln!(
                    out,
                    "    its directory {dir}/ was listed by {} (adding or removing it selects that test)",
                    test_text(test)
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  run time: no recording in use (`cargo xtask impact record` makes one)"
            );
        }
    }
    let reasons = reasons_for(report, file);
    let _ = writeln!(out, "  evidence:");
    if report.all {
        for reason in &report.all_reasons {
            let _ = writeln!(out, "    {reason}");
        }
    }
    for reason in &reasons {
        let _ = writeln!(out, "    [{}] {}", reason.evidence, reason.summary);
    }
    if !report.all && reasons.is_empty() {
        let _ = writeln!(out, "    none");
    }
    if report.all {
        let _ = writeln!(
            out,
            "  a change to it selects everything ({} packages)",
            report.packages.len()
        );
    } else if report.packages.is_empty() {
        let _ = writeln!(out, "  a change to it selects nothing");
    } else {
        let _ = writeln!(out, "  a change to it selects:");
        for package in &report.packages {
            let _ = writeln!(out, "    {}: {}", package.name, targets_text(package));
        }
        let _ = writeln!(out, "  filterset: {}", report.filterset);
    }
    out
}

/// `impact --explain FILE --format json`: `impact-explain/v1`.
pub fn explanation_json(report: &Report, file: &str) -> out::ImpactExplain {
    let recording = report
        .recording
        .as_ref()
        .map(|usable| out::ExplainRecording {
            path: usable.path.display().to_string(),
            commit: usable.recording.commit.clone(),
            age: usable.age,
            read_by: usable
                .recording
                .readers(file)
                .into_iter()
                .map(test_ref)
                .collect(),
            listed_by: usable
                .recording
                .listing_readers(file)
                .into_iter()
                .map(|(dir, (id, test))| out::ListedBy {
                    dir,
                    binary_id: id.to_owned(),
                    test: test.to_owned(),
                })
                .collect(),
        });
    out::ImpactExplain {
        schema: out::ImpactExplain::schema(),
        file: file.to_owned(),
        recording,
        evidence: reasons_for(report, file).into_iter().map(reason).collect(),
        all: report.all,
        all_reasons: report.all_reasons.clone(),
        selects: report
            .packages
            .iter()
            .map(|p| out::Selected {
                name: p.name.clone(),
                targets: targets(&p.targets),
                tests: p.tests.clone(),
            })
            .collect(),
        filterset: report.filterset.clone(),
    }
}
