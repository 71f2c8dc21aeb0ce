//! `cargo xtask ingest`: verify a release and install it into a node directory, or show what a
//! node holds (`--status`). The logic lives in the `node` crate; this is the front end.
//!
//! Exit codes: 0 installed (or already current); 1 the release was refused (digest, signature,
//! anti-rollback, expiry, mix-and-match, artifacts); 2 invalid input (the manifest does not
//! parse, bad flags); 3 the environment failed (another ingest holds the node's lock, I/O, no
//! signature verifier in this build, a corrupt store).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use node::hash::Progress;
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use node::{
    HistoryEntry, IngestError, IngestOptions, IngestOutcome, IngestRequest, InstalledRelease,
    NodePolicy, NodeStatus, NodeStore,
};
use support::{Exit, Failure};

const USAGE: &str = "\
usage: cargo xtask ingest --release FILE --node-dir DIR [--artifacts DIR] [--signature FILE]
                          [--statement FILE]... [--trusted-keys FILE] [--require-signature]
                          [--require-artifacts] [--require-provenance] [--require-tests]
                          [--allow-replaced-units] [--jobs N] [--format json]
       cargo xtask ingest --status --node-dir DIR [--format json]
       cargo xtask ingest --set-policy --node-dir DIR [--require-signature] [--require-artifacts]
                          [--require-provenance] [--require-tests]

Verifies, in order: manifest digest, signature (when required or given), release_seq above the
installed one, expiry, unit policy and mix-and-match, then each unit's artifact (size and sha256)
when it is present under --artifacts (SCHEME://REST is looked up at DIR/SCHEME/REST). Installs
atomically under the node's lock. The node's policy (DIR/policy.json) is written by its first
install from --require-signature/--require-artifacts (requiring signatures if that install was
signed) and applies to every later ingest; the flags only add to it. --set-policy replaces it
with exactly the flags given. Signatures (DSSE envelopes, ed25519) are checked against
--trusted-keys, which needs xtask built with the `signing` feature. Each --statement is a DSSE
envelope of an in-toto statement signed by a `builder` key (`governance attest`): the release's
provenance, or the PASSED test result of its source commit; --require-provenance and
--require-tests make them mandatory (README.md, section Provenance):
  cargo run -p xtask --features signing -- ingest --trusted-keys trust.toml ...

exit codes: 0 installed or already current, 1 refused, 2 invalid input, 3 environment (node
locked by another ingest, I/O, no signature verifier)";

#[derive(Default)]
struct Args {
    release: Option<PathBuf>,
    node_dir: Option<PathBuf>,
    artifacts: Option<PathBuf>,
    signature: Option<PathBuf>,
    statements: Vec<PathBuf>,
    trusted_keys: Option<PathBuf>,
    require_signature: bool,
    require_artifacts: bool,
    require_provenance: bool,
    require_tests: bool,
    allow_replaced_units: bool,
    jobs: usize,
    status: bool,
    set_policy: bool,
    format: Option<String>,
}

fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, Failure> {
    parse_lexopt(args).map_err(crate::usage_error)
}

fn parse_lexopt(args: Vec<OsString>) -> Result<Option<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parsed = Args::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("release") => parsed.release = Some(parser.value()?.into()),
            Long("node-dir") => parsed.node_dir = Some(parser.value()?.into()),
            Long("artifacts") => parsed.artifacts = Some(parser.value()?.into()),
            Long("signature") => parsed.signature = Some(parser.value()?.into()),
            Long("trusted-keys") => parsed.trusted_keys = Some(parser.value()?.into()),
            Long("require-signature") => parsed.require_signature = true,
            Long("require-artifacts") => parsed.require_artifacts = true,
            Long("require-provenance") => parsed.require_provenance = true,
            Long("require-tests") => parsed.require_tests = true,
            Long("statement") => parsed.statements.push(parser.value()?.into()),
            Long("allow-replaced-units") => parsed.allow_replaced_units = true,
            Long("jobs") | Short('j') => parsed.jobs = parser.value()?.parse()?,
            Long("status") => parsed.status = true,
            Long("set-policy") => parsed.set_policy = true,
            Long("format") => parsed.format = Some(parser.value()?.string()?),
            Long("help") | Short('h') => {
                println!("{USAGE}");
                return Ok(None);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(parsed))
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    let Some(args) = parse_args(args)? else {
        return Ok(Exit::Success);
    };
    let json = args
        .format
        .as_deref()
        .map_or(Ok(false), crate::output::json_format)?;
    let node_dir = args
        .node_dir
        .clone()
        .ok_or_else(|| Failure::invalid_input(format!("--node-dir is required\n\n{USAGE}")))?;
    let store = NodeStore::new(node_dir);
    if args.status {
        return status(&store, json);
    }
    if args.set_policy {
        return set_policy(&store, &args);
    }
    let release = args.release.clone().ok_or_else(|| {
        Failure::invalid_input(format!(
            "--release FILE (or --status) is required\n\n{USAGE}"
        ))
    })?;
    ingest(&store, &release, &args, json)
}

fn ingest(store: &NodeStore, release: &Path, args: &Args, json: bool) -> Result<Exit, Failure> {
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

fn policy_of(args: &Args) -> NodePolicy {
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

fn set_policy(store: &NodeStore, args: &Args) -> Result<Exit, Failure> {
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
