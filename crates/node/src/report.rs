//! Ingest results and node status as their JSON shapes (`output_types::node`).

use output_types::node as out;
use output_types::{ReleaseRef as OutRef, Shape};

use crate::{
    Action, HistoryEntry, IngestError, IngestOutcome, InstalledRelease, NodePolicy, NodeStatus,
    ReleaseRef, UnitCheck, UnitRef, UnitStatus,
};

/// `node-ingest/v1` for an ingest that was not refused.
pub fn ingest(outcome: &IngestOutcome) -> out::NodeIngest {
    let outcome = match outcome {
        IngestOutcome::Installed(report) => out::IngestOutcome::Installed(out::Installed {
            release_seq: report.release_seq,
            digest: report.digest.clone(),
            action: action(report.action),
            rollback_of: report.rollback_of.clone(),
            replaced: report.replaced.as_ref().map(release_ref),
            signed_by: report.signed_by.clone(),
            units: report.units.iter().map(unit_check).collect(),
            warm: report.warm.iter().map(release_ref).collect(),
            history_index: report.history_index,
            policy_created: report.policy_created.map(policy),
            statements: report
                .statements
                .iter()
                .map(|s| out::VerifiedStatement {
                    predicate_type: s.predicate_type.clone(),
                    envelope: s.envelope.clone(),
                    signed_by: s.signed_by.clone(),
                    tests_passed: s.tests_passed,
                })
                .collect(),
            warnings: report.warnings.clone(),
        }),
        IngestOutcome::AlreadyCurrent {
            release_seq,
            digest,
        } => out::IngestOutcome::AlreadyCurrent {
            release_seq: *release_seq,
            digest: digest.clone(),
        },
    };
    out::NodeIngest {
        schema: out::NodeIngest::schema(),
        outcome,
    }
}

/// `node-ingest/v1` for a refused ingest.
pub fn refused(err: &IngestError) -> out::NodeIngest {
    out::NodeIngest {
        schema: out::NodeIngest::schema(),
        outcome: out::IngestOutcome::Refused {
            error: out::Refusal {
                kind: err.kind().to_owned(),
                message: err.to_string(),
            },
        },
    }
}

/// `node-status/v2`.
pub fn status(node_dir: &std::path::Path, status: &NodeStatus) -> out::NodeStatus {
    out::NodeStatus {
        schema: out::NodeStatus::schema(),
        node_dir: node_dir.display().to_string(),
        current: status.current.as_ref().map(installed),
        warm: status.warm.iter().map(installed).collect(),
        policy: status.policy.map(policy),
        history: status.history.iter().map(history_entry).collect(),
        history_verified: true,
        history_append_pending: status.history_append_pending,
    }
}

fn installed(release: &InstalledRelease) -> out::InstalledRelease {
    let m = &release.manifest;
    out::InstalledRelease {
        release_seq: release.release_seq,
        digest: release.digest.clone(),
        fused_model_id: m.fused_model_id.clone(),
        generated_at: m.generated_at.clone(),
        expires: m.expires.clone(),
        previous_release: m.previous_release.clone(),
        rollback_of: m.rollback_of.clone(),
        dir: release.dir.display().to_string(),
        verified_at: release.record.verified_at.clone(),
        signed_by: release.record.signed_by.clone(),
        units: release.record.units.iter().map(unit_check).collect(),
    }
}

fn history_entry(entry: &HistoryEntry) -> out::HistoryEntry {
    out::HistoryEntry {
        schema: entry.schema.clone(),
        index: entry.index,
        prev: entry.prev.clone(),
        action: action(entry.action),
        release_seq: entry.release_seq,
        digest: entry.digest.clone(),
        rollback_of: entry.rollback_of.clone(),
        signed_by: entry.signed_by.clone(),
        who: out::Who {
            user: entry.who.user.clone(),
            host: entry.who.host.clone(),
        },
        when: entry.when.clone(),
        units: entry
            .units
            .iter()
            .map(|(provider, unit)| (provider.clone(), unit_ref(unit)))
            .collect(),
        record: entry.record.clone(),
        signature: entry.signature.clone(),
    }
}

fn unit_ref(unit: &UnitRef) -> out::UnitRef {
    out::UnitRef {
        id: unit.id.clone(),
        uri: unit.uri.clone(),
        digest: unit.digest.clone(),
        size: unit.size,
    }
}

fn unit_check(unit: &UnitCheck) -> out::UnitCheck {
    out::UnitCheck {
        provider: unit.provider.clone(),
        uri: unit.uri.clone(),
        path: unit.path.as_ref().map(|p| p.display().to_string()),
        status: match unit.status {
            UnitStatus::Verified => out::UnitStatus::Verified,
            UnitStatus::SizeOnly => out::UnitStatus::SizeOnly,
            UnitStatus::NothingDeclared => out::UnitStatus::NothingDeclared,
            UnitStatus::Absent => out::UnitStatus::Absent,
            UnitStatus::NotChecked => out::UnitStatus::NotChecked,
            UnitStatus::NoUri => out::UnitStatus::NoUri,
        },
    }
}

fn action(action: Action) -> out::Action {
    match action {
        Action::Install => out::Action::Install,
        Action::Rollback => out::Action::Rollback,
    }
}

fn release_ref(r: &ReleaseRef) -> OutRef {
    OutRef {
        release_seq: r.release_seq,
        digest: r.digest.clone(),
    }
}

fn policy(policy: NodePolicy) -> out::NodePolicy {
    out::NodePolicy {
        require_signature: policy.require_signature,
        require_artifacts: policy.require_artifacts,
        require_provenance: policy.require_provenance,
        require_tests: policy.require_tests,
    }
}
