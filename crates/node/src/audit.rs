//! The audit of one release as a chain of links, for `cargo xtask audit-release`: source commit
//! -> release lane passed -> kernel digest -> provenance -> per-unit training inputs and gate
//! verdicts -> approvals -> installed on a node. Each link holds or is broken, and a broken
//! link says why with the same kind ingest refuses with.
//!
//! The evidence is gathered by [`crate::evidence`] (signatures are checked by whatever
//! [`SignatureVerifier`](crate::SignatureVerifier) it has); this module only judges it.

use release::ReleaseManifest;
use release::attest::{self, Statement};

use crate::history::HistoryEntry;
use crate::record::StatementRecord;
use crate::request::{StatementRejection, VerifiedStatement};

/// A statement as the auditor has it.
#[derive(Debug, Clone)]
pub enum StatementEvidence {
    /// An envelope whose signatures were checked now.
    Checked {
        source: String,
        outcome: Result<VerifiedStatement, StatementRejection>,
    },
    /// A statement without an envelope, or an envelope whose signatures could not be checked
    /// (no trusted keys): its content is checked, but no builder vouches for it.
    Unverified {
        source: String,
        payload: Vec<u8>,
        why: String,
    },
    /// An envelope that could not be checked at all (no verifier in this build or no trusted
    /// keys given).
    Unchecked { source: String, why: String },
    /// Verified by the node at install (its history line records it).
    Recorded(StatementRecord),
}

/// Everything the auditor has about one release.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    pub release: &'a ReleaseManifest,
    pub statements: Vec<StatementEvidence>,
    /// The approval envelope's verification: approvers, or why not; `None` when none was given.
    pub approvals: Option<Result<String, String>>,
    /// The history line that installed the release, in node form.
    pub installed: Option<(String, &'a HistoryEntry)>,
}

/// One link of the chain, as `release-audit/v1` prints it.
pub use output_types::chain::AuditLink as Link;

fn link_ok(link: impl Into<String>, detail: impl Into<String>) -> Link {
    Link {
        link: link.into(),
        ok: true,
        kind: None,
        detail: detail.into(),
    }
}

fn link_broken(link: impl Into<String>, kind: &str, detail: impl Into<String>) -> Link {
    Link {
        link: link.into(),
        ok: false,
        kind: Some(kind.to_owned()),
        detail: detail.into(),
    }
}

/// What a statement turned out to be, once read.
struct Read {
    source: String,
    statement: Statement,
    /// Builders who signed it; `Err` why no builder vouches for it.
    signers: Result<Vec<String>, (String, &'static str)>,
}

/// The chain, in order. Broken links are the ones with `ok == false`.
pub fn audit(evidence: &Evidence<'_>) -> Vec<Link> {
    let release = evidence.release;
    let mut links = Vec::new();
    if let Err(message) = release.verify_digest() {
        links.push(link_broken("release digest", "digest-mismatch", message));
    }
    let mut read = Vec::new();
    let mut recorded = Vec::new();
    for item in &evidence.statements {
        match item {
            StatementEvidence::Recorded(record) => recorded.push(record),
            StatementEvidence::Unchecked { source, why } => links.push(link_broken(
                format!("statement {source}"),
                "no-verifier",
                why.clone(),
            )),
            StatementEvidence::Checked { source, outcome } => match outcome {
                Ok(verified) => match parse(&verified.payload) {
                    Ok(statement) => read.push(Read {
                        source: source.clone(),
                        statement,
                        signers: Ok(verified.builders.clone()),
                    }),
                    Err(why) => links.push(link_broken(
                        format!("statement {source}"),
                        "statement-malformed",
                        why,
                    )),
                },
                Err(rejection) => {
                    let (kind, why) = match rejection {
                        StatementRejection::Malformed(why) => ("statement-malformed", why),
                        StatementRejection::NotBuilderSigned(why) => ("statement-not-builder", why),
                        StatementRejection::Rejected(why) => ("statement-rejected", why),
                    };
                    links.push(link_broken(
                        format!("statement {source}"),
                        kind,
                        why.clone(),
                    ));
                }
            },
            StatementEvidence::Unverified {
                source,
                payload,
                why,
            } => match parse(payload) {
                Ok(statement) => read.push(Read {
                    source: source.clone(),
                    statement,
                    signers: Err((why.clone(), "statement-unsigned")),
                }),
                Err(why) => links.push(link_broken(
                    format!("statement {source}"),
                    "statement-malformed",
                    why,
                )),
            },
        }
    }
    let of_type = |predicate: &str| -> Vec<&Read> {
        read.iter()
            .filter(|r| r.statement.predicate_type == predicate)
            .collect()
    };
    let recorded_of = |predicate: &str| recorded.iter().find(|r| r.predicate_type == predicate);

    // Source commit.
    links.push(match &release.source {
        None => link_broken(
            "source commit",
            "source-unrecorded",
            "the release records no source commit (federated outside a git checkout)",
        ),
        Some(source) if source.dirty => link_broken(
            "source commit",
            "source-dirty",
            format!("{} with uncommitted changes (dirty)", source.commit),
        ),
        Some(source) => link_ok("source commit", format!("{} (clean tree)", source.commit)),
    });

    // Release lane.
    links.push(judge(
        "release lane",
        "test-result-missing",
        "no test-result statement (the release lane writes one; sign it with `governance attest`)",
        &of_type(attest::TEST_RESULT_PREDICATE),
        recorded_of(attest::TEST_RESULT_PREDICATE).map(|r| {
            format!(
                "passed ({} tests), verified at install, signed by builder {}",
                r.tests_passed.unwrap_or_default(),
                r.signed_by.join(", ")
            )
        }),
        |statement| {
            attest::check_test_result(statement, release).map(|result| {
                format!(
                    "passed ({} tests) on {}",
                    result.passed_tests.len(),
                    release.source.as_ref().map_or("", |s| s.commit.as_str())
                )
            })
        },
    ));

    // Kernel digest.
    links.push(match &release.kernel_digest {
        Some(kernel) => link_ok("kernel digest", kernel.clone()),
        None => link_broken(
            "kernel digest",
            "source-unrecorded",
            "the release records no kernel digest (no manifests/kernel.toml where it was federated)",
        ),
    });

    // Provenance.
    links.push(judge(
        "provenance",
        "provenance-missing",
        "no provenance statement (federate writes release-NNNNNN.provenance.json next to the release)",
        &of_type(attest::PROVENANCE_PREDICATE),
        recorded_of(attest::PROVENANCE_PREDICATE).map(|r| {
            format!(
                "verified at install, signed by builder {}",
                r.signed_by.join(", ")
            )
        }),
        |statement| {
            attest::check_provenance(statement, release).map(|provenance| {
                format!(
                    "about this release, {} inputs recorded",
                    provenance.build_definition.resolved_dependencies.len()
                )
            })
        },
    ));

    // Units: training inputs and gate verdicts, judged again.
    let misjudged = release::select::rejudge(release);
    for (provider, unit) in &release.units {
        let name = format!("unit {provider}");
        let problem = misjudged.iter().find(|m| match m {
            release::select::Misjudged::Unit { provider: p, .. }
            | release::select::Misjudged::OtherPolicy { provider: p, .. } => p == provider,
            release::select::Misjudged::PolicyDigest { .. } => true,
        });
        let gates: Vec<String> = unit
            .verdict
            .gates()
            .iter()
            .map(|(gate, v)| {
                format!(
                    "{gate} {} {} {} {}",
                    release::select::fmt_num(v.value),
                    v.comparison,
                    release::select::fmt_num(v.threshold),
                    if v.pass { "pass" } else { "FAIL" }
                )
            })
            .collect();
        let mut detail = format!(
            "{}{}; gates: {}",
            support::text::escape_controls(&unit.id),
            if unit.carried_forward {
                " (carried forward)"
            } else {
                ""
            },
            gates.join(", ")
        );
        match &unit.inputs {
            Some(inputs) => {
                for dataset in &inputs.datasets {
                    detail.push_str(&format!(
                        "; dataset {} sha256:{}",
                        support::text::escape_controls(&dataset.uri),
                        dataset.sha256
                    ));
                }
                if let Some(config) = &inputs.config_sha256 {
                    detail.push_str(&format!("; config sha256:{config}"));
                }
                if let Some(commit) = &inputs.source_commit {
                    detail.push_str(&format!("; training code {commit}"));
                }
            }
            None => detail.push_str("; no training inputs declared"),
        }
        links.push(match problem {
            Some(problem) => link_broken(name, "misjudged-unit", format!("{problem}; {detail}")),
            None => link_ok(name, detail),
        });
    }

    // Approvals.
    links.push(match &evidence.approvals {
        Some(Ok(approvers)) => link_ok("approvals", format!("approved by {approvers}")),
        Some(Err(why)) => link_broken("approvals", "signature-rejected", why.clone()),
        None => link_broken(
            "approvals",
            "signature-missing",
            "no approval envelope (pass --signature FILE and --trusted-keys FILE)",
        ),
    });

    // Installed.
    if let Some((node, entry)) = &evidence.installed {
        links.push(link_ok(
            "installed",
            format!(
                "on {node} at {} by {}@{} ({} of release_seq {}, history line {})",
                entry.when,
                entry.who.user,
                entry.who.host,
                entry.action.as_str(),
                entry.release_seq,
                entry.index
            ),
        ));
    }
    links
}

/// A link backed by statements of one kind: holds when one of them, signed by a builder (now
/// or at install), vouches for the release.
fn judge(
    link: &str,
    missing_kind: &str,
    missing: &str,
    candidates: &[&Read],
    recorded: Option<String>,
    check: impl Fn(&Statement) -> Result<String, attest::AttestationProblem>,
) -> Link {
    if let Some(detail) = recorded {
        return link_ok(link, detail);
    }
    let mut first_problem = None;
    for candidate in candidates {
        match (check(&candidate.statement), &candidate.signers) {
            (Ok(detail), Ok(builders)) => {
                return link_ok(
                    link,
                    format!(
                        "{detail}; {} signed by builder {}",
                        candidate.source,
                        builders.join(", ")
                    ),
                );
            }
            (Ok(detail), Err((why, kind))) => {
                first_problem.get_or_insert_with(|| {
                    link_broken(
                        link,
                        kind,
                        format!(
                            "{detail}, but {} is not signed by a builder: {why}",
                            candidate.source
                        ),
                    )
                });
            }
            (Err(problem), _) => {
                first_problem.get_or_insert_with(|| {
                    link_broken(
                        link,
                        problem.kind(),
                        format!("{}: {problem}", candidate.source),
                    )
                });
            }
        }
    }
    first_problem.unwrap_or_else(|| link_broken(link, missing_kind, missing))
}

fn parse(payload: &[u8]) -> Result<Statement, String> {
    let text = std::str::from_utf8(payload).map_err(|err| format!("not UTF-8 text: {err}"))?;
    Statement::parse(std::path::Path::new("<statement>"), text).map_err(|l| l.to_string())
}
