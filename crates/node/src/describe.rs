//! Node results in words, for people: what an ingest did, what a node holds, a node policy,
//! an ingest error as a [`Failure`] with its exit code, and hashing progress on stderr. The
//! JSON shapes of the same results are [`crate::report`]'s; `cargo xtask ingest` prints both.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use support::Failure;
use support::exit::Exit;

use crate::hash::Progress;
use crate::{HistoryEntry, IngestError, IngestOutcome, InstalledRelease, NodePolicy, NodeStatus};

/// An ingest error as a failure with the right exit code; manifest problems keep their
/// location. `node_dir` names the node in the message.
pub fn failure(err: IngestError, node_dir: &Path) -> Failure {
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

/// What an ingest into `node_dir` did: the release, what it replaced, who signed it, each
/// unit and a policy it wrote.
pub fn outcome(node_dir: &Path, outcome: &IngestOutcome) -> String {
    match outcome {
        IngestOutcome::AlreadyCurrent {
            release_seq,
            digest,
        } => format!(
            "{}: release_seq {release_seq} ({digest}) is already current; nothing to do",
            node_dir.display()
        ),
        IngestOutcome::Installed(report) => {
            let mut lines = vec![format!(
                "{}: installed release_seq {} ({}){}{}",
                node_dir.display(),
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
            if let Some(written) = report.policy_created {
                lines.push(format!("  node policy written: {}", policy(written)));
            }
            lines.join("\n")
        }
    }
}

/// "signatures required, artifacts not required, ..."
pub fn policy(policy: NodePolicy) -> String {
    let yes_no = |on: bool| if on { "required" } else { "not required" };
    format!(
        "signatures {}, artifacts {}, provenance {}, test result {}",
        yes_no(policy.require_signature),
        yes_no(policy.require_artifacts),
        yes_no(policy.require_provenance),
        yes_no(policy.require_tests)
    )
}

/// What the node in `node_dir` holds: current and warm releases, policy, the history.
pub fn status(node_dir: &Path, status: &NodeStatus) -> String {
    let mut lines = vec![format!("node {}", node_dir.display())];
    match &status.current {
        Some(current) => lines.push(format!("current  {}", installed(current))),
        None => lines.push("current  (nothing installed)".to_owned()),
    }
    if status.warm.is_empty() {
        lines.push("warm     (none)".to_owned());
    }
    for (i, warm) in status.warm.iter().enumerate() {
        lines.push(format!(
            "{}{}",
            if i == 0 { "warm     " } else { "         " },
            installed(warm)
        ));
    }
    lines.push(format!(
        "policy   {}",
        status
            .policy
            .map_or("(none yet; the first install writes it)".to_owned(), policy)
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
        lines.push(format!("  {}", history_entry(entry)));
    }
    lines.join("\n")
}

fn installed(release: &InstalledRelease) -> String {
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

fn history_entry(entry: &HistoryEntry) -> String {
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

/// Progress of large artifacts on stderr: one updating line on a terminal, a line per step in
/// plain mode (logs, `NO_COLOR`).
pub struct ProgressPrinter {
    plain: bool,
    printed: Mutex<bool>,
}

impl Default for ProgressPrinter {
    fn default() -> Self {
        ProgressPrinter::new()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_says_what_each_install_requires() {
        let text = policy(NodePolicy {
            require_signature: true,
            require_artifacts: false,
            require_provenance: true,
            require_tests: false,
        });
        assert_eq!(
            text,
            "signatures required, artifacts not required, provenance required, \
             test result not required"
        );
    }

    #[test]
    fn no_verifier_keeps_its_exit_code_and_names_the_flag_that_supplies_keys() {
        let failure = failure(IngestError::NoVerifier, Path::new("node"));
        assert_eq!(failure.exit, IngestError::NoVerifier.exit());
        assert!(
            failure
                .message
                .unwrap()
                .contains("pass --trusted-keys FILE"),
            "names the flag that supplies keys"
        );
    }
}
