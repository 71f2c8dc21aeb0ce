//! `cargo xtask federate`: fuse provider training runs into a promoted release.
//!
//! Two forms (README, "Federation"): the repository form (no manifest flags) and the original
//! flags `--hf-manifest --gcp-manifest --aws-manifest --output`. The run itself (reading,
//! judging, provenance, the write) is `release::federate`'s; this module maps flags to its
//! request and prints the verdict table, the report and the summary.

use release::federate::{self, Request};
use release::{repo, report};
use support::{Exit, Failure};

use crate::cli::FederateArgs;
use crate::output::report_stale;

pub fn run(args: &FederateArgs) -> Result<Exit, Failure> {
    let root = crate::project_root();
    let releases_dir = args
        .releases
        .clone()
        .unwrap_or_else(|| root.join(repo::RELEASES_DIR));
    let json = args.format.json();
    if args.verify_chain {
        let checked = federate::check_chain(&releases_dir)?;
        if json {
            let value = serde_json::to_value(checked.shape()).expect("report shapes serialize");
            print!("{}", release::canonical::to_pretty_string(&value));
        } else {
            print!("{}", checked.text());
        }
        return checked.verdict();
    }
    let request = Request {
        root,
        releases_dir,
        providers: args.providers.clone(),
        gates: args.gates.clone(),
        hf_manifest: args.hf_manifest.clone(),
        gcp_manifest: args.gcp_manifest.clone(),
        aws_manifest: args.aws_manifest.clone(),
        output: args.output.clone(),
        overrides: args.overrides(),
        artifacts: args.artifacts.clone(),
        carry_forward: args.carry_forward,
        dry_run: args.dry_run,
    };
    let run = federate::prepare(&request, &mut report_stale)?;
    if !json {
        // The verdicts first: they explain a failure to write as much as a success.
        report::write_table(&run.outcome, &mut |chunk| print!("{chunk}"));
    }
    let written = run.write()?;
    if let Some(written) = &written {
        report_stale(written.removed_stale.clone());
    }
    if json {
        let path = |p: &std::path::Path| p.display().to_string();
        report::write_json(
            &run.outcome,
            args.dry_run,
            written.as_ref().map(|w| path(&w.path)),
            written.as_ref().map(|w| path(&w.provenance)),
            &mut |chunk| print!("{chunk}"),
        );
    }
    run.verdict()?;
    if !json && let Some(summary) = run.summary(written.as_ref()) {
        print!("{summary}");
    }
    Ok(Exit::Success)
}
