//! Installs, upgrades, rollbacks, the warm set, history and the lock.

use node::{Action, IngestError, IngestOutcome, InstallStep, UnitStatus};
use serde_json::Value;

use crate::fixture::*;

fn report(outcome: IngestOutcome) -> node::InstallReport {
    match outcome {
        IngestOutcome::Installed(report) => report,
        other => panic!("expected an install, got {other:?}"),
    }
}

#[test]
fn install_verifies_every_artifact_and_records_history() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    let first = report(fx.ingest(&bytes(&releases[0])).unwrap());
    assert_eq!(
        (first.release_seq, first.action, first.replaced.clone()),
        (1, Action::Install, None)
    );
    assert_eq!(first.units.len(), 3);
    assert!(
        first.units.iter().all(|u| u.status == UnitStatus::Verified),
        "{:?}",
        first.units
    );
    let second = report(fx.ingest(&bytes(&releases[1])).unwrap());
    assert_eq!(second.replaced.unwrap().release_seq, 1);
    assert_eq!(second.history_index, 1);

    let status = fx.store.status().unwrap();
    let current = status.current.unwrap();
    assert_eq!(current.digest, digest_of(&releases[1]));
    assert_eq!(current.manifest_bytes().unwrap(), bytes(&releases[1]));
    assert_eq!(current.record.units, second.units);
    assert_eq!(status.warm.len(), 1);
    assert_eq!(status.warm[0].release_seq, 1);
    assert_eq!(status.history.len(), 2);
    assert_eq!(status.history[1].prev.as_deref().map(|p| p.len()), Some(71));
    assert_eq!(status.history[1].when, "2026-06-01T00:00:00Z");
    assert!(!status.history_append_pending);
}

#[test]
fn units_without_local_artifacts_install_and_say_so() {
    let fx = Fixture::new();
    let releases = chain(&fx, 1);
    let outcome = fx
        .store
        .ingest(
            node::IngestRequest {
                manifest: &bytes(&releases[0]),
                manifest_path: None,
                signature: None,
                artifacts_dir: None,
                statements: &[],
            },
            &options(),
        )
        .unwrap();
    assert!(
        report(outcome)
            .units
            .iter()
            .all(|u| u.status == UnitStatus::NotChecked)
    );
    // With require_artifacts, an absent artifact is refused.
    let fx = Fixture::new();
    let releases = chain(&fx, 1);
    std::fs::remove_file(fx.artifact_path(&releases[0], "aws")).unwrap();
    let strict = node::IngestOptions {
        policy: node::NodePolicy {
            require_artifacts: true,
            ..Default::default()
        },
        ..options()
    };
    let err = fx
        .ingest_with(&bytes(&releases[0]), None, &strict)
        .unwrap_err();
    assert!(matches!(err, IngestError::ArtifactMissing { .. }), "{err}");
    assert!(fx.store.current().unwrap().is_none());
}

#[test]
fn warm_set_keeps_the_last_two_stable_releases_and_prunes_the_rest() {
    let fx = Fixture::new();
    let releases = chain(&fx, 5);
    for release in &releases {
        fx.install(&bytes(release));
    }
    let status = fx.store.status().unwrap();
    assert_eq!(status.current.unwrap().release_seq, 5);
    let warm: Vec<u64> = status.warm.iter().map(|r| r.release_seq).collect();
    assert_eq!(warm, vec![4, 3]);
    let kept = std::fs::read_dir(fx.store.dir().join("releases"))
        .unwrap()
        .count();
    assert_eq!(kept, 3, "current plus two warm releases are kept");
    assert_eq!(status.history.len(), 5);
}

#[test]
fn rollback_release_restores_the_previous_stable_units() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    for release in &releases {
        fx.install(&bytes(release));
    }
    // R3 is bad: R4 chains to R3, restores R2's units, names R2 in rollback_of, and has a
    // higher seq.
    let r2 = digest_of(&releases[1]);
    let r3 = digest_of(&releases[2]);
    let units: std::collections::BTreeMap<String, Value> =
        serde_json::from_value(releases[1]["units"].clone()).unwrap();
    let rollback = manifest(4, Some(&r3), Some(&r2), &units);
    let installed = report(fx.ingest(&bytes(&rollback)).unwrap());
    assert_eq!(installed.action, Action::Rollback);
    assert_eq!(installed.rollback_of.as_deref(), Some(r2.as_str()));
    let status = fx.store.status().unwrap();
    assert_eq!(status.history.last().unwrap().action, Action::Rollback);
    // The rolled-back R3 is no longer warm; R2 (whose units are current again) and R1 are.
    let warm: Vec<u64> = status.warm.iter().map(|r| r.release_seq).collect();
    assert_eq!(warm, vec![2, 1]);
    // The old R3 cannot come back: its seq is lower.
    let err = fx.ingest(&bytes(&releases[2])).unwrap_err();
    assert!(matches!(err, IngestError::RollbackAttack { .. }), "{err}");
}

#[test]
fn a_second_concurrent_ingest_fails_clearly() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    let nested = std::cell::RefCell::new(None);
    let observer = |step: InstallStep| {
        if step == InstallStep::Verified {
            // While the first ingest holds the lock, a second one (another open file
            // description, as another process would have) must be refused.
            *nested.borrow_mut() = Some(fx.ingest(&bytes(&releases[1])));
        }
    };
    let options = node::IngestOptions {
        observer: Some(&observer),
        ..options()
    };
    fx.ingest_with(&bytes(&releases[1]), None, &options)
        .unwrap();
    let err = nested.into_inner().unwrap().unwrap_err();
    assert!(matches!(err, IngestError::Locked { .. }), "{err}");
    assert_eq!(err.exit(), support::Exit::Environment);
    assert!(
        err.to_string().contains("another ingest is running"),
        "{err}"
    );
    // The lock is released afterwards.
    assert!(matches!(
        fx.ingest(&bytes(&releases[1])).unwrap(),
        IngestOutcome::AlreadyCurrent { .. }
    ));
}

#[test]
fn tampering_with_committed_history_is_detected() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    for release in &releases {
        fx.install(&bytes(release));
    }
    let path = fx.store.history_path();
    let text = std::fs::read_to_string(&path).unwrap();
    // Rewrite who installed release 2: the next line's `prev` no longer matches.
    let edited = text.replacen("\"index\":1,", "\"index\":1, ", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    let err = fx.store.status().unwrap_err();
    assert!(matches!(err, IngestError::StoreCorrupt { .. }), "{err}");
    assert!(err.to_string().contains("chain broken"), "{err}");
}

#[test]
fn a_stored_manifest_edited_on_disk_is_not_served() {
    let fx = Fixture::new();
    let releases = chain(&fx, 1);
    fx.install(&bytes(&releases[0]));
    let current = fx.store.current().unwrap().unwrap();
    let text = std::fs::read_to_string(current.manifest_path()).unwrap();
    std::fs::write(
        current.manifest_path(),
        text.replacen("spiralverse", "Spiralverse", 1),
    )
    .unwrap();
    let err = fx.store.current().unwrap_err();
    assert!(matches!(err, IngestError::StoreCorrupt { .. }), "{err}");
}

#[test]
fn an_artifact_uri_that_escapes_the_artifacts_directory_is_refused() {
    let fx = Fixture::new();
    let mut release = chain(&fx, 1).remove(0);
    release["units"]["aws"]["uri"] = "s3://bucket/../../../etc/passwd".into();
    redigest(&mut release);
    let err = fx.ingest(&bytes(&release)).unwrap_err();
    assert!(matches!(err, IngestError::BadArtifactUri { .. }), "{err}");
    assert_eq!(err.exit(), support::Exit::InvalidInput);
    assert!(fx.store.current().unwrap().is_none());
}

#[test]
fn a_reselected_artifact_installs_only_when_the_policy_allows_it() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    // Federation picked R1's hf artifact again for R3, honestly digested.
    let mut reselected = releases[2].clone();
    reselected["units"]["hf"] = releases[0]["units"]["hf"].clone();
    redigest(&mut reselected);
    let err = fx.ingest(&bytes(&reselected)).unwrap_err();
    assert!(matches!(err, IngestError::MixAndMatch { .. }), "{err}");
    assert!(err.to_string().contains("--allow-replaced-units"), "{err}");
    let lenient = node::IngestOptions {
        allow_replaced_units: true,
        ..options()
    };
    let installed = report(fx.ingest_with(&bytes(&reselected), None, &lenient).unwrap());
    assert!(
        installed
            .units
            .iter()
            .all(|u| u.status == UnitStatus::Verified)
    );
}
