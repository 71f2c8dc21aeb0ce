//! Requiring signatures (and artifacts) is a property of the node, kept in its policy file,
//! not only of the flags one ingest is run with.

use node::{IngestError, IngestOptions, NodePolicy};
use support::Exit;

use crate::fixture::*;

#[test]
fn a_node_that_installed_a_signed_release_refuses_an_unsigned_one_without_the_flag() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    let verifier = KeyedHashVerifier {
        trusted: vec![("alice".into(), b"alice-secret".to_vec())],
    };
    // Signed, but --require-signature left off.
    let signed_only = IngestOptions {
        verifier: Some(&verifier),
        ..options()
    };
    let first = bytes(&releases[0]);
    let signature = KeyedHashVerifier::sign("alice", b"alice-secret", &first);
    fx.ingest_with(&first, Some(&signature), &signed_only)
        .unwrap();
    assert_eq!(
        fx.store.policy().unwrap(),
        Some(NodePolicy {
            require_signature: true,
            ..NodePolicy::default()
        })
    );
    let before = fx.snapshot();
    let err = fx.ingest(&bytes(&releases[1])).unwrap_err();
    assert!(matches!(err, IngestError::SignatureMissing), "{err}");
    assert_eq!(fx.snapshot(), before);
    assert_eq!(
        fx.store
            .status()
            .unwrap()
            .policy
            .map(|p| p.require_signature),
        Some(true)
    );

    // Only an explicit change of the node's policy lets it go back.
    fx.store.set_policy(NodePolicy::default()).unwrap();
    fx.install(&bytes(&releases[1]));
}

#[test]
fn the_first_install_keeps_its_flags_and_later_flags_only_tighten() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    let strict = IngestOptions {
        policy: NodePolicy {
            require_artifacts: true,
            ..NodePolicy::default()
        },
        ..options()
    };
    fx.ingest_with(&bytes(&releases[0]), None, &strict).unwrap();
    // Without the flag, a missing artifact is still refused: the node requires artifacts.
    std::fs::remove_file(fx.artifact_path(&releases[1], "gcp")).unwrap();
    let err = fx.ingest(&bytes(&releases[1])).unwrap_err();
    assert!(matches!(err, IngestError::ArtifactMissing { .. }), "{err}");

    // An unsigned first install wrote require_signature false; a flag can still demand it.
    let verifier = KeyedHashVerifier { trusted: vec![] };
    let err = fx
        .ingest_with(&bytes(&releases[1]), None, &require_signature(&verifier))
        .unwrap_err();
    assert!(matches!(err, IngestError::SignatureMissing), "{err}");
}

#[test]
fn a_policy_this_build_cannot_enforce_is_refused_with_its_location() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    let path = fx.store.policy_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("node-policy/v1", "node-policy/v2").replace(
            "\n}",
            ",\n  \"require_attestations\": [\"slsa-provenance\"]\n}",
        ),
    )
    .unwrap();
    let before = fx.snapshot();
    let err = fx.ingest(&bytes(&releases[1])).unwrap_err();
    assert_eq!(err.kind(), "bad-policy");
    assert_eq!(err.exit(), Exit::InvalidInput);
    let message = err.to_string();
    assert!(message.contains("policy.json:"), "{message}");
    assert!(message.contains("require_attestations"), "{message}");
    assert_eq!(fx.snapshot(), before);
}
