//! The tamper suite: every attack is refused with its own error and leaves the installed
//! release (indeed every byte of the node directory) untouched.

use node::IngestError;
use serde_json::Value;

use crate::fixture::*;

/// R1 and R2 of a three-release chain installed; returns the fixture, the chain and a snapshot.
fn installed_two() -> (
    Fixture,
    Vec<Value>,
    std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    let before = fx.snapshot();
    (fx, releases, before)
}

fn assert_untouched(
    fx: &Fixture,
    before: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
    installed: &Value,
) {
    assert_eq!(
        &fx.snapshot(),
        before,
        "a refused ingest changed the node directory"
    );
    let current = fx
        .store
        .current()
        .unwrap()
        .expect("a release stays installed");
    assert_eq!(current.digest, digest_of(installed));
}

#[test]
fn changed_manifest_byte_is_a_digest_mismatch() {
    let (fx, releases, before) = installed_two();
    let mut tampered = bytes(&releases[2]);
    let at = tampered
        .windows(11)
        .position(|w| w == b"spiralverse")
        .unwrap();
    tampered[at] = b'S';
    let err = fx.ingest(&tampered).unwrap_err();
    assert!(matches!(err, IngestError::DigestMismatch { .. }), "{err}");
    assert_eq!(err.kind(), "digest-mismatch");
    assert!(
        err.to_string().contains("changed after it was published"),
        "{err}"
    );
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn changed_artifact_byte_is_an_artifact_digest_error() {
    let (fx, releases, before) = installed_two();
    let path = fx.artifact_path(&releases[2], "hf");
    let mut content = std::fs::read(&path).unwrap();
    content[17] ^= 0x01;
    std::fs::write(&path, &content).unwrap();
    let err = fx.ingest(&bytes(&releases[2])).unwrap_err();
    match &err {
        IngestError::ArtifactDigest {
            provider, path: p, ..
        } => {
            assert_eq!(provider, "hf");
            assert_eq!(p, &path);
        }
        other => panic!("expected an artifact digest error, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn truncated_artifact_is_an_artifact_size_error() {
    let (fx, releases, before) = installed_two();
    let path = fx.artifact_path(&releases[2], "gcp");
    let content = std::fs::read(&path).unwrap();
    std::fs::write(&path, &content[..content.len() / 2]).unwrap();
    let err = fx.ingest(&bytes(&releases[2])).unwrap_err();
    match &err {
        IngestError::ArtifactSize {
            provider,
            declared,
            actual,
            ..
        } => {
            assert_eq!(provider, "gcp");
            assert_eq!(*actual, *declared / 2);
        }
        other => panic!("expected an artifact size error, got {other}"),
    }
    assert!(err.to_string().contains("(truncated)"), "{err}");
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn wrong_declared_size_is_an_artifact_size_error() {
    let (fx, releases, before) = installed_two();
    let mut wrong = releases[2].clone();
    let size = wrong["units"]["aws"]["size"].as_u64().unwrap();
    wrong["units"]["aws"]["size"] = (size + 1).into();
    redigest(&mut wrong);
    let err = fx.ingest(&bytes(&wrong)).unwrap_err();
    match &err {
        IngestError::ArtifactSize {
            provider,
            declared,
            actual,
            ..
        } => {
            assert_eq!(provider, "aws");
            assert_eq!((*declared, *actual), (size + 1, size));
        }
        other => panic!("expected an artifact size error, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn missing_signature_is_refused_when_the_node_requires_one() {
    let (fx, releases, before) = installed_two();
    let verifier = KeyedHashVerifier {
        trusted: vec![("release-key".into(), b"s3cret".to_vec())],
    };
    let err = fx
        .ingest_with(&bytes(&releases[2]), None, &require_signature(&verifier))
        .unwrap_err();
    assert!(matches!(err, IngestError::SignatureMissing), "{err}");
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn signature_by_an_unknown_key_is_rejected() {
    let (fx, releases, before) = installed_two();
    let verifier = KeyedHashVerifier {
        trusted: vec![("release-key".into(), b"s3cret".to_vec())],
    };
    let manifest = bytes(&releases[2]);
    let forged = KeyedHashVerifier::sign("attacker-key", b"other", &manifest);
    let err = fx
        .ingest_with(&manifest, Some(&forged), &require_signature(&verifier))
        .unwrap_err();
    match &err {
        IngestError::SignatureRejected { reason } => {
            assert!(reason.contains("not trusted"), "{reason}")
        }
        other => panic!("expected a rejected signature, got {other}"),
    }
    // A trusted key id with the wrong secret fails the cryptographic check itself.
    let wrong_secret = KeyedHashVerifier::sign("release-key", b"guess", &manifest);
    let err = fx
        .ingest_with(
            &manifest,
            Some(&wrong_secret),
            &require_signature(&verifier),
        )
        .unwrap_err();
    assert!(
        matches!(err, IngestError::SignatureRejected { .. }),
        "{err}"
    );
    assert_untouched(&fx, &before, &releases[1]);
    // The genuine signature installs, and the key is recorded.
    let genuine = KeyedHashVerifier::sign("release-key", b"s3cret", &manifest);
    match fx
        .ingest_with(&manifest, Some(&genuine), &require_signature(&verifier))
        .unwrap()
    {
        node::IngestOutcome::Installed(report) => {
            assert_eq!(report.signed_by.as_deref(), Some("release-key"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lower_release_seq_is_a_rollback_attack() {
    let (fx, releases, before) = installed_two();
    let err = fx.ingest(&bytes(&releases[0])).unwrap_err();
    match &err {
        IngestError::RollbackAttack {
            offered_seq,
            installed_seq,
        } => assert_eq!((*offered_seq, *installed_seq), (1, 2)),
        other => panic!("expected a rollback attack, got {other}"),
    }
    assert!(err.to_string().contains("cargo xtask rollback"), "{err}");
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn equal_release_seq_with_another_digest_is_a_conflict() {
    let (fx, releases, before) = installed_two();
    let mut twin = releases[2].clone();
    twin["release_seq"] = 2.into();
    redigest(&mut twin);
    let err = fx.ingest(&bytes(&twin)).unwrap_err();
    match &err {
        IngestError::SeqConflict {
            seq,
            installed,
            offered,
        } => {
            assert_eq!(*seq, 2);
            assert_eq!(installed, &digest_of(&releases[1]));
            assert_eq!(offered, &digest_of(&twin));
        }
        other => panic!("expected a seq conflict, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
    // The same release again is not a conflict: nothing to do.
    assert!(matches!(
        fx.ingest(&bytes(&releases[1])).unwrap(),
        node::IngestOutcome::AlreadyCurrent { .. }
    ));
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn expired_manifest_is_refused() {
    let (fx, releases, before) = installed_two();
    let mut stale = releases[2].clone();
    stale["expires"] = "2026-05-31T23:59:59Z".into();
    redigest(&mut stale);
    let err = fx.ingest(&bytes(&stale)).unwrap_err();
    match &err {
        IngestError::Expired { expires, now } => {
            assert_eq!(expires, "2026-05-31T23:59:59Z");
            assert_eq!(now, "2026-06-01T00:00:00Z");
        }
        other => panic!("expected an expired manifest, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn unit_taken_from_a_different_release_is_refused() {
    let (fx, releases, before) = installed_two();
    // R3 with R1's hf unit spliced in. Without the digest recomputed, the digest catches it.
    let mut spliced = releases[2].clone();
    spliced["units"]["hf"] = releases[0]["units"]["hf"].clone();
    let err = fx.ingest(&bytes(&spliced)).unwrap_err();
    assert!(matches!(err, IngestError::DigestMismatch { .. }), "{err}");
    // Recomputed (no signature required): the unit is R1's artifact, which R2 replaced.
    redigest(&mut spliced);
    let err = fx.ingest(&bytes(&spliced)).unwrap_err();
    match &err {
        IngestError::MixAndMatch {
            provider,
            from_seq,
            replaced_by_seq,
            ..
        } => {
            assert_eq!(provider, "hf");
            assert_eq!((*from_seq, *replaced_by_seq), (1, 2));
        }
        other => panic!("expected mix-and-match, got {other}"),
    }
    // With signatures required, the publisher's signature over the real R3 does not cover it.
    let verifier = KeyedHashVerifier {
        trusted: vec![("release-key".into(), b"s3cret".to_vec())],
    };
    let signature = KeyedHashVerifier::sign("release-key", b"s3cret", &bytes(&releases[2]));
    let err = fx
        .ingest_with(
            &bytes(&spliced),
            Some(&signature),
            &require_signature(&verifier),
        )
        .unwrap_err();
    assert!(
        matches!(err, IngestError::SignatureRejected { .. }),
        "{err}"
    );
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn rollback_mixing_units_of_two_releases_is_refused() {
    let (fx, releases, before) = installed_two();
    // A rollback to R1 must restore R1's units; this one keeps R2's gcp unit.
    let mut units = fx.units(1);
    units.insert("gcp".into(), releases[1]["units"]["gcp"].clone());
    let r1 = digest_of(&releases[0]);
    let r2 = digest_of(&releases[1]);
    let mixed = manifest(3, Some(&r2), Some(&r1), &units);
    let err = fx.ingest(&bytes(&mixed)).unwrap_err();
    match &err {
        IngestError::RollbackUnitsMismatch {
            provider,
            target_seq,
            ..
        } => {
            assert_eq!(provider, "gcp");
            assert_eq!(*target_seq, 1);
        }
        other => panic!("expected a rollback units mismatch, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn checks_run_in_the_documented_order() {
    let (fx, releases, before) = installed_two();
    // Old, expired and with a broken digest: the digest is reported first.
    let mut bad = releases[0].clone();
    bad["expires"] = "2020-01-01T00:00:00Z".into();
    let err = fx.ingest(&bytes(&bad)).unwrap_err();
    assert!(matches!(err, IngestError::DigestMismatch { .. }), "{err}");
    // Honest digest, old and expired: anti-rollback comes before expiry.
    redigest(&mut bad);
    let err = fx.ingest(&bytes(&bad)).unwrap_err();
    assert!(matches!(err, IngestError::RollbackAttack { .. }), "{err}");
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn unit_judged_under_another_policy_is_refused() {
    let (fx, releases, before) = installed_two();
    // R3's hf unit carries a verdict reached under looser gates than R3 declares.
    let mut mixed = releases[2].clone();
    mixed["units"]["hf"]["verdict"]["quality"]["threshold"] = 0.7.into();
    redigest(&mut mixed);
    let err = fx.ingest(&bytes(&mixed)).unwrap_err();
    match &err {
        IngestError::UnitFromOtherPolicy {
            provider,
            gate,
            unit_threshold,
            release_threshold,
        } => {
            assert_eq!((provider.as_str(), gate.as_str()), ("hf", "quality"));
            assert_eq!((*unit_threshold, *release_threshold), (0.7, 0.75));
        }
        other => panic!("expected a unit from another policy, got {other}"),
    }
    // And a policy_digest that is not the digest of the gates is refused on its own.
    let mut lying = releases[2].clone();
    lying["policy_digest"] = release::canonical::sha256_digest(b"another policy").into();
    redigest(&mut lying);
    let err = fx.ingest(&bytes(&lying)).unwrap_err();
    assert!(
        matches!(err, IngestError::PolicyDigestMismatch { .. }),
        "{err}"
    );
    assert_untouched(&fx, &before, &releases[1]);
}

#[test]
fn carried_forward_unit_that_differs_from_its_source_is_refused() {
    let (fx, releases, before) = installed_two();
    // R3 claims hf was carried forward from R2, but the unit is R1's.
    let mut forged = releases[2].clone();
    forged["units"]["hf"] = releases[0]["units"]["hf"].clone();
    forged["units"]["hf"]["carried_forward"] = true.into();
    forged["units"]["hf"]["carried_from"] = digest_of(&releases[1]).into();
    redigest(&mut forged);
    let err = fx.ingest(&bytes(&forged)).unwrap_err();
    match &err {
        IngestError::CarriedUnitMismatch {
            provider,
            carried_from,
        } => {
            assert_eq!(provider, "hf");
            assert_eq!(carried_from, &digest_of(&releases[1]));
        }
        other => panic!("expected a carried unit mismatch, got {other}"),
    }
    assert_untouched(&fx, &before, &releases[1]);
    // Carrying R2's real unit forward is fine.
    let mut carried = releases[2].clone();
    carried["units"]["hf"] = releases[1]["units"]["hf"].clone();
    carried["units"]["hf"]["carried_forward"] = true.into();
    carried["units"]["hf"]["carried_from"] = digest_of(&releases[1]).into();
    redigest(&mut carried);
    fx.install(&bytes(&carried));
}

#[test]
fn units_whose_recorded_judgement_is_not_what_judging_them_gives_are_refused() {
    let (fx, releases, before) = installed_two();
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 5] = [
        (
            "verdict.pass false",
            |unit| unit["verdict"]["pass"] = false.into(),
            "verdict.pass is false but its gates say true",
        ),
        (
            "metric below its gate, verdict still passing",
            |unit| {
                unit["metrics"]["quality"] = 0.5.into();
                unit["verdict"]["quality"]["value"] = 0.5.into();
            },
            "verdict.quality says 0.5 >= 0.75: pass",
        ),
        (
            "metric differing from its verdict value",
            |unit| unit["metrics"]["safety"] = 0.99.into(),
            "verdict.safety.value is 0.97 but the metric is 0.99",
        ),
        (
            "wrong score",
            |unit| unit["score"] = 0.9.into(),
            "score is 0.9 but its metrics score",
        ),
        (
            "failing unit, consistently recorded",
            |unit| {
                unit["metrics"]["quality"] = 0.5.into();
                unit["verdict"]["quality"]["value"] = 0.5.into();
                unit["verdict"]["quality"]["pass"] = false.into();
                unit["verdict"]["pass"] = false.into();
                unit["score"] = release::select::score(0.5, 0.97, 140.0, 0.9).into();
            },
            "fails the gates, so it cannot have been promoted",
        ),
    ];
    for (case, edit, expected) in cases {
        let mut lying = releases[2].clone();
        edit(&mut lying["units"]["gcp"]);
        redigest(&mut lying);
        let err = fx.ingest(&bytes(&lying)).unwrap_err();
        assert_eq!(err.kind(), "misjudged-unit", "{case}: {err}");
        assert_eq!(err.exit(), support::Exit::CheckFailed, "{case}");
        let message = err.to_string();
        assert!(message.starts_with("unit `gcp`: "), "{case}: {message}");
        assert!(message.contains(expected), "{case}: {message}");
        assert_untouched(&fx, &before, &releases[1]);
    }
}
