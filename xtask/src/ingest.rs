//! `cargo xtask ingest`: verify a release and install it into a node directory, or show what a
//! node holds (`--status`). The logic lives in the `node` crate; this is the front end.
//!
//! Exit codes: 0 installed (or already current); 1 the release was refused (digest, signature,
//! anti-rollback, expiry, mix-and-match, artifacts); 2 invalid input (the manifest does not
//! parse, bad flags); 3 the environment failed (another ingest holds the node's lock, I/O, no
//! signature verifier in this build, a corrupt store).

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use node::hash::Progress;
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use node::{
    HistoryEntry, IngestError, IngestOptions, IngestOutcome, IngestRequest, InstalledRelease,
    NodePolicy, NodeStatus, NodeStore,
};
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
                describe_outcome(store, &outcome)
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
            Err(failure_of(err, store.dir()))
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

/// An ingest error as a failure with the right exit code; manifest problems keep their location.
fn failure_of(err: IngestError, node_dir: &Path) -> Failure {
    let exit = err.exit();
    match err {
        IngestError::Malformed { problems } | IngestError::BadPolicy { problems } => {
            Failure::located(problems)
        }
        IngestError::NoVerifier => Failure::new(
            exit,
            format!(
                "{err}: pass --trusted-keys FILE (with xtask built with `--features signing`) \
                 so signatures can be checked"
            ),
        ),
        other if exit == Exit::CheckFailed => Failure::new(
            exit,
            format!(
                "{}: release refused ({}): {other}; the installed release is unchanged",
                node_dir.display(),
                other.kind()
            ),
        ),
        other => Failure::new(exit, format!("{}: {other}", node_dir.display())),
    }
}

fn describe_outcome(store: &NodeStore, outcome: &IngestOutcome) -> String {
    match outcome {
        IngestOutcome::AlreadyCurrent {
            release_seq,
            digest,
        } => format!(
            "{}: release_seq {release_seq} ({digest}) is already current; nothing to do",
            store.dir().display()
        ),
        IngestOutcome::Installed(report) => {
            let mut lines = vec![format!(
                "{}: installed release_seq {} ({}){}{}",
                store.dir().display(),
                report.release_seq,
                report.digest,
                match &report.rollback_of {
                    Some(of) => format!(", a rollback of {of}"),
                    None => String::new(),
                },
                match &report.replaced {
                    Some(old) => format!(", replacing release_seq {}", old.release_seq),
                    None => String::new(),
                }
            )];
            if let Some(key) = &report.signed_by {
                lines.push(format!("  signed by {key}"));
            }
            for statement in &report.statements {
                lines.push(format!(
                    "  statement {} verified, signed by builder {}",
                    statement.predicate_type,
                    statement.signed_by.join(", ")
                ));
            }
            for unit in &report.units {
                let status = serde_json::to_value(unit.status).expect("statuses serialize");
                lines.push(format!(
                    "  {:<4} {:<16} {}",
                    unit.provider,
                    status.as_str().unwrap_or_default(),
                    support::text::escape_controls(unit.uri.as_deref().unwrap_or("(no uri)"))
                ));
            }
            if let Some(policy) = report.policy_created {
                lines.push(format!(
                    "  node policy written: {}",
                    describe_policy(policy)
                ));
            }
            lines.join("\n")
        }
    }
}

fn policy_of(args: &IngestArgs) -> NodePolicy {
    NodePolicy {
        require_signature: args.require_signature,
        require_artifacts: args.require_artifacts,
        require_provenance: args.require_provenance,
        require_tests: args.require_tests,
    }
}

fn describe_policy(policy: NodePolicy) -> String {
    let yes_no = |on: bool| if on { "required" } else { "not required" };
    format!(
        "signatures {}, artifacts {}, provenance {}, test result {}",
        yes_no(policy.require_signature),
        yes_no(policy.require_artifacts),
        yes_no(policy.require_provenance),
        yes_no(policy.require_tests)
    )
}

fn set_policy(store: &NodeStore, args: &IngestArgs) -> Result<Exit, Failure> {
    let policy = policy_of(args);
    store
        .set_policy(policy)
        .map_err(|err| failure_of(err, store.dir()))?;
    let _ = support::stdout::print(&format!(
        "{}: node policy set: {}",
        store.dir().display(),
        describe_policy(policy)
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
        describe_status(store, &status)
    };
    // A reader that stopped early (`| head -3`) ends the output quietly.
    support::stdout::print(&text).map_err(|err| {
        Failure::environment(format!("writing the status to stdout failed: {err}"))
    })?;
    Ok(Exit::Success)
}

fn describe_status(store: &NodeStore, status: &NodeStatus) -> String {
    let mut lines = vec![format!("node {}", store.dir().display())];
    match &status.current {
        Some(current) => lines.push(format!("current  {}", describe(current))),
        None => lines.push("current  (nothing installed)".to_owned()),
    }
    if status.warm.is_empty() {
        lines.push("warm     (none)".to_owned());
    }
    for (i, warm) in status.warm.iter().enumerate() {
        lines.push(format!(
            "{}{}",
            if i == 0 { "warm     " } else { "         " },
            describe(warm)
        ));
    }
    lines.push(format!(
        "policy   {}",
        status.policy.map_or(
            "(none yet; the first install writes it)".to_owned(),
            describe_policy
        )
    ));
    lines.push(format!(
        "history  {} entries, hash chain verified{}",
        status.history.len(),
        if status.history_append_pending {
            " (the last entry is held by current.json; an interrupted ingest did not append it \
             to history.jsonl, the next ingest does)"
        } else {
            ""
        }
    ));
    for entry in &status.history {
        lines.push(format!("  {}", describe_entry(entry)));
    }
    lines.join("\n")
}

fn describe(release: &InstalledRelease) -> String {
    let m = &release.manifest;
    let mut text = format!(
        "release_seq {:<4} {}  {}  expires {}",
        release.release_seq, release.digest, m.fused_model_id, m.expires
    );
    if let Some(of) = &m.rollback_of {
        text.push_str(&format!("  (rollback of {of})"));
    }
    text
}

fn describe_entry(entry: &HistoryEntry) -> String {
    format!(
        "#{:<3} {}  {:<8} release_seq {:<4} {}  by {}@{}{}",
        entry.index,
        entry.when,
        entry.action.as_str(),
        entry.release_seq,
        entry.digest,
        entry.who.user,
        entry.who.host,
        entry
            .signed_by
            .as_deref()
            .map(|k| format!(", signed by {k}"))
            .unwrap_or_default()
    )
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("report shapes serialize")
}

/// Progress of large artifacts on stderr: one updating line on a terminal, a line per step in
/// plain mode (logs, `NO_COLOR`).
pub struct ProgressPrinter {
    plain: bool,
    printed: Mutex<bool>,
}

impl ProgressPrinter {
    pub fn new() -> ProgressPrinter {
        ProgressPrinter {
            plain: support::render::plain(),
            printed: Mutex::new(false),
        }
    }

    pub fn report(&self, progress: Progress<'_>) {
        let mut printed = self.printed.lock().unwrap_or_else(|e| e.into_inner());
        const MIB: u64 = 1 << 20;
        let line = format!(
            "hashing {}: {} / {} MiB",
            progress.path.display(),
            progress.done / MIB,
            progress.total / MIB
        );
        let mut stderr = std::io::stderr().lock();
        if self.plain {
            let _ = writeln!(stderr, "{line}");
        } else {
            let _ = write!(stderr, "\r\x1b[2K{line}");
            *printed = true;
        }
        let _ = stderr.flush();
    }

    /// Ends an updating line so the next output starts clean.
    pub fn finish(&self) {
        if std::mem::take(&mut *self.printed.lock().unwrap_or_else(|e| e.into_inner())) {
            let _ = writeln!(std::io::stderr());
        }
    }
}
