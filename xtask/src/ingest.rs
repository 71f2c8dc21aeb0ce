//! `cargo xtask ingest`: verify a release and install it into a node directory, or show what a
//! node holds (`--status`). The logic and its words live in the `node` crate (`node::describe`
//! for people, `node::report` for JSON); this is the front end.
//!
//! Exit codes: 0 installed (or already current); 1 the release was refused (digest, signature,
//! anti-rollback, expiry, mix-and-match, artifacts); 2 invalid input (the manifest does not
//! parse, bad flags); 3 the environment failed (another ingest holds the node's lock, I/O, no
//! signature verifier in this build, a corrupt store).

use std::path::Path;

use node::describe::{self, ProgressPrinter};
use node::hash::Progress;
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use node::{IngestOptions, IngestOutcome, IngestRequest, NodePolicy, NodeStore};
use support::{Exit, Failure};

use crate::cli::IngestArgs;

pub fn run(args: &IngestArgs) -> Result<Exit, Failure> {
    let json = args.format.json();
    let store = NodeStore::new(args.node_dir.clone());
    if args.status {
        return status(&store, json);
    }
    if args.set_policy {
        return set_policy(&store, args);
    }
    let release = args.release.clone().ok_or_else(|| {
        Failure::invalid_input(
            "--release FILE (or --status, or --set-policy) is required (see `cargo xtask ingest --help`)",
        )
    })?;
    ingest(&store, &release, args, json)
}

fn ingest(
    store: &NodeStore,
    release: &Path,
    args: &IngestArgs,
    json: bool,
) -> Result<Exit, Failure> {
    let manifest = support::input::read_bounded(release, MAX_MANIFEST_BYTES, "release")?;
    let signature = match &args.signature {
        Some(path) => Some(support::input::read_bounded(
            path,
            MAX_SIGNATURE_BYTES,
            "signature envelope",
        )?),
        None => None,
    };
    let statements = args
        .statements
        .iter()
        .map(|path| support::input::read_bounded(path, MAX_SIGNATURE_BYTES, "statement envelope"))
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = match &args.trusted_keys {
        Some(path) => Some(load_verifier(path)?),
        None => None,
    };
    let progress = ProgressPrinter::new();
    let report = |p: Progress<'_>| progress.report(p);
    let options = IngestOptions {
        policy: policy_of(args),
        allow_replaced_units: args.allow_replaced_units,
        verifier: verifier.as_deref(),
        jobs: args.jobs,
        progress: Some(&report),
        ..IngestOptions::default()
    };
    let result = store.ingest(
        IngestRequest {
            manifest: &manifest,
            manifest_path: Some(release),
            signature: signature.as_deref(),
            artifacts_dir: args.artifacts.as_deref(),
            statements: &statements,
        },
        &options,
    );
    progress.finish();
    match result {
        Ok(outcome) => {
            if let IngestOutcome::Installed(report) = &outcome {
                for warning in &report.warnings {
                    support::stdout::warn("ingest", warning);
                }
            }
            let text = if json {
                pretty(&node::report::ingest(&outcome))
            } else {
                describe::outcome(store.dir(), &outcome)
            };
            // The install is committed: the exit code says so whatever happens to stdout.
            if let Err(err) = support::stdout::print(&text) {
                support::stdout::warn(
                    "ingest",
                    &format!(
                        "writing the report to stdout failed ({err}); the ingest itself \
                         succeeded (check with `cargo xtask ingest --status`)"
                    ),
                );
            }
            Ok(Exit::Success)
        }
        Err(err) => {
            if json {
                // The refusal's exit code and stderr message stand even if stdout is gone.
                let _ = support::stdout::print(&pretty(&node::report::refused(&err)));
            }
            Err(describe::failure(err, store.dir()))
        }
    }
}

/// The trusted keys and approval policy that signatures are checked against.
#[cfg(feature = "signing")]
pub(crate) fn load_verifier(path: &Path) -> Result<Box<dyn node::SignatureVerifier>, Failure> {
    let trust = governance::TrustFile::load(path)?;
    Ok(Box::new(governance::Verifier::new(trust)))
}

/// Signature checks (ed25519) live in the enterprise governance crate, which a default build
/// of this core front end does not compile.
#[cfg(not(feature = "signing"))]
pub(crate) fn load_verifier(path: &Path) -> Result<Box<dyn node::SignatureVerifier>, Failure> {
    Err(Failure::environment(format!(
        "--trusted-keys {}: this xtask was built without signature checks; rerun as \
         `cargo run -p xtask --features signing -- ingest ...`",
        path.display()
    )))
}

fn policy_of(args: &IngestArgs) -> NodePolicy {
    NodePolicy {
        require_signature: args.require_signature,
        require_artifacts: args.require_artifacts,
        require_provenance: args.require_provenance,
        require_tests: args.require_tests,
    }
}

fn set_policy(store: &NodeStore, args: &IngestArgs) -> Result<Exit, Failure> {
    let policy = policy_of(args);
    store
        .set_policy(policy)
        .map_err(|err| describe::failure(err, store.dir()))?;
    let _ = support::stdout::print(&format!(
        "{}: node policy set: {}",
        store.dir().display(),
        describe::policy(policy)
    ));
    Ok(Exit::Success)
}

fn status(store: &NodeStore, json: bool) -> Result<Exit, Failure> {
    // An empty node directory is a node with nothing installed; a missing one is a typo.
    if !store.dir().is_dir() {
        let why = if store.dir().exists() {
            "it is a file, not a directory"
        } else {
            "it does not exist; the first ingest creates it"
        };
        return Err(Failure::invalid_input(format!(
            "{} is not a node directory ({why})",
            store.dir().display()
        )));
    }
    let status = store
        .status()
        .map_err(|err| Failure::new(err.exit(), format!("{}: {err}", store.dir().display())))?;
    let text = if json {
        pretty(&node::report::status(store.dir(), &status))
    } else {
        describe::status(store.dir(), &status)
    };
    // A reader that stopped early (`| head -3`) ends the output quietly.
    support::stdout::print(&text).map_err(|err| {
        Failure::environment(format!("writing the status to stdout failed: {err}"))
    })?;
    Ok(Exit::Success)
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("report shapes serialize")
}
