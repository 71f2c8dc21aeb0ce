//! Attested releases end to end with real keys: a release federated with its source commit,
//! kernel digest and training inputs, its provenance and its release-lane test result signed
//! by a builder key, installed by a node whose policy requires both. Each way a statement can
//! fail to vouch for the release is refused with its own kind, and the installed release is
//! left in place.

use std::path::Path;

use governance::{Envelope, SigningKey, TrustFile, Verifier, public_key_hex};
use node::{IngestError, IngestOptions, IngestOutcome, IngestRequest, NodePolicy, NodeStore};
use release::attest::{self, FederationInputs, InputFile, LaneRun};
use release::federation::{ArtifactLocator, Inputs, federate};
use release::{ReleaseManifest, SourceRevision};

/// 2026-06-01T00:00:00Z.
const NOW: i64 = 1_780_272_000;
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const KERNEL: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// alice approves; ci builds.
fn trust() -> TrustFile {
    let entry = |id: &str, seed: u8, role: &str| {
        format!(
            "[keys.{id}]\npublic-key = \"{}\"\nroles = [\"{role}\"]\n",
            public_key_hex(&key(seed).verifying_key())
        )
    };
    let text = format!(
        "version = 1\n[policy]\nmin-approvals = 1\napprover-roles = [\"release-approver\"]\n{}{}",
        entry("alice", 1, "release-approver"),
        entry("ci", 4, "builder"),
    );
    TrustFile::parse(Path::new("trust.toml"), &text).unwrap()
}

/// A release of generation `n`, federated from `COMMIT` (clean) with `KERNEL`; the hf run
/// declares a dataset.
pub fn release(n: u32, previous: Option<ReleaseManifest>, dataset_sha: &str) -> ReleaseManifest {
    let manifests = [("hf", "textgen"), ("gcp", "embed"), ("aws", "runtime")]
        .iter()
        .map(|(provider, role)| {
            let mut artifact = serde_json::json!({
                "id": format!("spiralverse/{provider}-v{n}"), "role": role,
                "uri": format!("{provider}://spiralverse/{provider}-v{n}"),
                "metrics": {"quality": 0.86, "safety": 0.99, "latency_ms_p95": 90, "cost_per_1k_tokens": 0.6},
            });
            if *provider == "hf" {
                artifact["inputs"] = serde_json::json!({
                    "datasets": [{"uri": "hf://datasets/spiralverse/instruct", "sha256": dataset_sha}],
                    "config_sha256": "c".repeat(64),
                    "source_commit": "d".repeat(40),
                });
            }
            let text = serde_json::json!({"provider": provider, "artifacts": [artifact]}).to_string();
            release::ProviderManifest::parse(Path::new(&format!("{provider}.json")), &text).unwrap()
        })
        .collect();
    federate(Inputs {
        manifests,
        thresholds: release::Thresholds::default(),
        expires_after_days: 30,
        previous,
        carry_forward: false,
        artifacts: ArtifactLocator::default(),
        now: NOW,
        kernel_digest: Some(KERNEL.to_owned()),
        source: Some(SourceRevision {
            commit: COMMIT.to_owned(),
            dirty: false,
        }),
    })
    .unwrap()
    .release
    .unwrap()
}

pub fn provenance(release: &ReleaseManifest) -> Vec<u8> {
    let inputs = FederationInputs {
        providers: ["aws", "gcp", "hf"]
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    InputFile::of_bytes(format!("{p}.json"), p.as_bytes()),
                )
            })
            .collect(),
        gates: None,
        kernel: None,
        carry_forward: false,
        expires_after_days: 30,
    };
    attest::provenance_statement(release, "release.json", &inputs).to_bytes()
}

pub fn test_result(commit: &str, failed: &[&str]) -> Vec<u8> {
    attest::test_result_statement(&LaneRun {
        source: SourceRevision {
            commit: commit.to_owned(),
            dirty: false,
        },
        kernel_digest: KERNEL.to_owned(),
        configuration: InputFile::of_bytes("manifests/release-lane.toml", b"version = 1\n"),
        passed: vec!["release::kernel::tests::a".into(), "node::ingest::b".into()],
        failed: failed.iter().map(|f| f.to_string()).collect(),
    })
    .to_bytes()
}

fn signed(statement: &[u8], keyid: &str, seed: u8) -> Vec<u8> {
    Envelope::sign_statement(statement, keyid, &key(seed)).to_json()
}

#[test]
fn an_attested_release_installs_and_each_broken_link_is_refused_with_its_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let verifier = Verifier::new(trust());
    let store = NodeStore::new(dir.path().join("node"));
    let options = IngestOptions {
        policy: NodePolicy {
            require_provenance: true,
            require_tests: true,
            ..NodePolicy::default()
        },
        verifier: Some(&verifier),
        now_unix: Some(NOW),
        ..IngestOptions::default()
    };
    let ingest = |release: &ReleaseManifest, statements: &[Vec<u8>]| {
        store.ingest(
            IngestRequest {
                manifest: &release.to_bytes(),
                manifest_path: None,
                signature: None,
                artifacts_dir: None,
                statements,
            },
            &options,
        )
    };
    let dataset = "a".repeat(64);
    let first = release(1, None, &dataset);
    let passed = signed(&test_result(COMMIT, &[]), "ci", 4);
    let report = match ingest(
        &first,
        &[signed(&provenance(&first), "ci", 4), passed.clone()],
    )
    .unwrap()
    {
        IngestOutcome::Installed(report) => report,
        other => panic!("{other:?}"),
    };
    assert_eq!(report.statements.len(), 2);
    assert_eq!(
        report.statements[0].predicate_type,
        attest::PROVENANCE_PREDICATE
    );
    assert_eq!(report.statements[1].tests_passed, Some(2));
    let history = store.status().unwrap().history;
    assert_eq!(
        history[0].statements, report.statements,
        "the history records them"
    );
    assert_eq!(history[0].statements[0].signed_by, ["ci"]);

    let second = release(2, Some(first.clone()), &dataset);
    let good_provenance = signed(&provenance(&second), "ci", 4);
    // The hf dataset's digest edited in the release after federation, the release resealed.
    let mut edited = second.clone();
    edited
        .units
        .get_mut("hf")
        .unwrap()
        .inputs
        .as_mut()
        .unwrap()
        .datasets[0]
        .sha256 = "b".repeat(64);
    edited.seal();
    let other_commit = "fedcba9876543210fedcba9876543210fedcba98";
    let cases: Vec<(&str, &ReleaseManifest, Vec<Vec<u8>>)> = vec![
        ("provenance-missing", &second, vec![passed.clone()]),
        (
            "test-result-missing",
            &second,
            vec![good_provenance.clone()],
        ),
        (
            "test-subject-mismatch",
            &second,
            vec![
                good_provenance.clone(),
                signed(&test_result(other_commit, &[]), "ci", 4),
            ],
        ),
        (
            "provenance-subject-mismatch",
            &second,
            vec![signed(&provenance(&first), "ci", 4), passed.clone()],
        ),
        (
            "tests-failed",
            &second,
            vec![
                good_provenance.clone(),
                signed(&test_result(COMMIT, &["node::ingest::b"]), "ci", 4),
            ],
        ),
        (
            "statement-not-builder",
            &second,
            vec![signed(&provenance(&second), "alice", 1), passed.clone()],
        ),
        (
            "statement-rejected",
            &second,
            vec![signed(&provenance(&second), "mallory", 9), passed.clone()],
        ),
        (
            "dataset-digest-changed",
            &edited,
            vec![good_provenance.clone(), passed.clone()],
        ),
    ];
    for (kind, release, statements) in cases {
        let err = ingest(release, &statements).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.exit(), support::Exit::CheckFailed, "{err}");
        assert_eq!(store.current().unwrap().unwrap().digest, first.digest);
    }
    let err = ingest(&second, &[b"{}".to_vec()]).unwrap_err();
    assert!(
        matches!(err, IngestError::StatementMalformed { .. }),
        "{err}"
    );

    ingest(&second, &[good_provenance, passed]).unwrap();
    assert_eq!(store.current().unwrap().unwrap().digest, second.digest);
}

#[test]
fn a_dirty_or_unrecorded_source_cannot_satisfy_a_test_requirement() {
    let mut dirty = release(1, None, &"a".repeat(64));
    dirty.source.as_mut().unwrap().dirty = true;
    dirty.seal();
    let statement = attest::Statement::parse(
        Path::new("t.json"),
        std::str::from_utf8(&test_result(COMMIT, &[])).unwrap(),
    )
    .unwrap();
    assert_eq!(
        attest::check_test_result(&statement, &dirty)
            .unwrap_err()
            .kind(),
        "source-dirty"
    );
    dirty.source = None;
    dirty.seal();
    assert_eq!(
        attest::check_test_result(&statement, &dirty)
            .unwrap_err()
            .kind(),
        "source-unrecorded"
    );
}

#[test]
fn statements_are_byte_identical_for_the_same_inputs() {
    let a = release(1, None, &"a".repeat(64));
    let b = release(1, None, &"a".repeat(64));
    assert_eq!(provenance(&a), provenance(&b));
    assert_eq!(test_result(COMMIT, &[]), test_result(COMMIT, &[]));
    assert_eq!(
        signed(&provenance(&a), "ci", 4),
        signed(&provenance(&b), "ci", 4),
        "ed25519 signatures are deterministic too"
    );
    assert_ne!(
        provenance(&a),
        provenance(&release(1, None, &"e".repeat(64)))
    );
}
