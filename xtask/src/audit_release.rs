//! `cargo xtask audit-release`: the whole chain of one release for an auditor, from the source
//! commit to the node it is installed on (README.md, "Provenance"). The evidence is gathered by
//! `node::evidence` and judged by `node::audit`; this module picks the source and prints.
//!
//! Exit codes: 0 every link holds; 1 a link is broken (each named); 2 invalid input; 3 the
//! environment failed (a corrupt node store).

use node::evidence::{self, ReleaseFiles};
use support::{Exit, Failure};

use crate::cli::AuditReleaseArgs;

pub fn run(args: &AuditReleaseArgs) -> Result<Exit, Failure> {
    let audited = match (&args.release, &args.node_dir) {
        (Some(release), None) => {
            let verifier = match &args.trusted_keys {
                Some(keys) => Some(crate::ingest::load_verifier(keys)?),
                None => None,
            };
            let files = ReleaseFiles {
                release,
                statements: &args.statements,
                signature: args.signature.as_deref(),
            };
            evidence::of_release(&files, verifier.as_deref())?
        }
        (None, Some(node_dir)) => evidence::of_node(node_dir)?,
        // clap's argument group lets exactly one of them through.
        _ => {
            return Err(Failure::invalid_input(
                "give exactly one of --release FILE and --node-dir DIR \
                 (see `cargo xtask audit-release --help`)",
            ));
        }
    };
    if args.format.json() {
        println!(
            "{}",
            serde_json::to_string_pretty(&audited.shape()).expect("JSON values serialize")
        );
    } else {
        print!("{}", audited.text());
    }
    audited.verdict()
}
