//! Signing, verification and approval policy, through the public API only.

use std::path::Path;

use governance::{
    Envelope, EnvelopeError, Rejection, SigningKey, TrustFile, Verifier, VerifyError,
    public_key_hex,
};

const MANIFEST: &[u8] = br#"{"release_seq":7,"units":{"gcp":{"id":"spiralverse/embedder-v2"}}}"#;

/// Test keys come from fixed seeds so every run signs identically.
fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// alice, bob and carol approve; ci is trusted but only builds.
fn trust(min_approvals: usize) -> TrustFile {
    let entry = |id: &str, seed: u8, roles: &str| {
        format!(
            "[keys.{id}]\npublic-key = \"{}\"\nroles = [{roles}]\n",
            public_key_hex(&key(seed).verifying_key())
        )
    };
    let text = format!(
        "version = 1\n[policy]\nmin-approvals = {min_approvals}\n\
         approver-roles = [\"release-approver\"]\n{}{}{}{}",
        entry("alice", 1, "\"release-approver\""),
        entry("bob", 2, "\"release-approver\""),
        entry("carol", 3, "\"release-approver\""),
        entry("ci", 4, "\"builder\""),
    );
    TrustFile::parse(Path::new("trust.toml"), &text).unwrap()
}

fn signed_by(signers: &[(&str, u8)]) -> Envelope {
    let mut envelope = Envelope::unsigned(MANIFEST);
    for (keyid, seed) in signers {
        envelope.add_signature(keyid, &key(*seed)).unwrap();
    }
    envelope
}

fn not_approved(
    result: Result<governance::VerificationReport, VerifyError>,
) -> governance::VerificationReport {
    match result {
        Err(VerifyError::NotApproved(report)) => report,
        other => panic!("expected NotApproved, got {other:?}"),
    }
}

#[test]
fn sign_verify_round_trip() {
    let envelope = Envelope::sign(MANIFEST, "alice", &key(1));
    let report = Verifier::new(trust(1))
        .verify_manifest(MANIFEST, &envelope.to_json())
        .unwrap();
    assert_eq!(report.approved_by, ["alice"]);
    assert!(report.rejected.is_empty());
    assert_eq!(envelope.payload_bytes().unwrap(), MANIFEST);
}

#[test]
fn signing_is_deterministic() {
    // ed25519 signatures are deterministic, so a fixed key gives byte-identical envelopes.
    assert_eq!(
        Envelope::sign(MANIFEST, "alice", &key(1)).to_json(),
        Envelope::sign(MANIFEST, "alice", &key(1)).to_json()
    );
}

#[test]
fn changing_any_manifest_byte_fails_verification() {
    let envelope = Envelope::sign(MANIFEST, "alice", &key(1)).to_json();
    let verifier = Verifier::new(trust(1));
    for index in [0, MANIFEST.len() / 2, MANIFEST.len() - 1] {
        let mut tampered = MANIFEST.to_vec();
        tampered[index] ^= 0x01;
        assert_eq!(
            verifier.verify_manifest(&tampered, &envelope),
            Err(VerifyError::Envelope(EnvelopeError::PayloadMismatch)),
            "byte {index}"
        );
    }
}

#[test]
fn changing_the_signed_payload_inside_the_envelope_fails_verification() {
    // An attacker who rewrites both the manifest and the envelope payload still lacks the key.
    let mut tampered = MANIFEST.to_vec();
    tampered[5] ^= 0x01;
    let mut envelope = Envelope::sign(MANIFEST, "alice", &key(1));
    envelope.payload = Envelope::unsigned(&tampered).payload;
    let report =
        not_approved(Verifier::new(trust(1)).verify_manifest(&tampered, &envelope.to_json()));
    assert_eq!(report.rejected[0].reason, Rejection::BadSignature);
}

#[test]
fn a_signature_by_an_unknown_key_fails() {
    let envelope = Envelope::sign(MANIFEST, "mallory", &key(9));
    let verifier = Verifier::new(trust(1));
    let report = not_approved(verifier.verify_manifest(MANIFEST, &envelope.to_json()));
    assert_eq!(report.rejected[0].keyid, "mallory");
    assert_eq!(report.rejected[0].reason, Rejection::UnknownKey);

    // A trusted id with a key that is not the trusted one is a bad signature, not an approval.
    let impostor = Envelope::sign(MANIFEST, "alice", &key(9));
    let report = not_approved(verifier.verify_manifest(MANIFEST, &impostor.to_json()));
    assert_eq!(report.rejected[0].reason, Rejection::BadSignature);
}

#[test]
fn unknown_keys_are_reported_but_do_not_block_an_approved_release() {
    let envelope = signed_by(&[("alice", 1), ("mallory", 9), ("bob", 2)]);
    let report = Verifier::new(trust(2))
        .verify_manifest(MANIFEST, &envelope.to_json())
        .unwrap();
    assert_eq!(report.approved_by, ["alice", "bob"]);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reason, Rejection::UnknownKey);
}

#[test]
fn a_threshold_not_met_fails_and_says_who_counted() {
    let envelope = signed_by(&[("alice", 1), ("ci", 4)]);
    let error = Verifier::new(trust(2))
        .verify_manifest(MANIFEST, &envelope.to_json())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "release is not approved: 1 of 2 required approvals (approved by alice); \
         not counted: 'ci': key holds no approver role"
    );
}

#[test]
fn a_key_id_that_signs_twice_is_refused_before_any_signature_is_verified() {
    // Three signatures by alice; the last one is garbage, which shows no verification ran.
    let mut envelope = signed_by(&[("alice", 1)]);
    envelope.signatures.push(envelope.signatures[0].clone());
    envelope.signatures.push(governance::EnvelopeSignature {
        keyid: "alice".into(),
        sig: "!!!".into(),
    });
    assert_eq!(
        Verifier::new(trust(1)).verify_manifest(MANIFEST, &envelope.to_json()),
        Err(VerifyError::Envelope(EnvelopeError::RepeatedKeyId(
            "alice".into()
        )))
    );
    // And `add_signature` will not make such an envelope.
    let mut envelope = signed_by(&[("alice", 1)]);
    assert_eq!(
        envelope.add_signature("alice", &key(1)),
        Err(EnvelopeError::RepeatedKeyId("alice".into()))
    );
}

#[test]
fn signatures_per_envelope_are_capped_before_any_is_verified() {
    let mut envelope = signed_by(&[("alice", 1)]);
    let original = envelope.signatures[0].clone();
    for n in 0..governance::MAX_SIGNATURES {
        envelope.signatures.push(governance::EnvelopeSignature {
            keyid: format!("k{n}"),
            sig: original.sig.clone(),
        });
    }
    let started = std::time::Instant::now();
    assert_eq!(
        Verifier::new(trust(1)).verify_manifest(MANIFEST, &envelope.to_json()),
        Err(VerifyError::Envelope(EnvelopeError::TooManySignatures(
            governance::MAX_SIGNATURES + 1
        )))
    );
    // 10,000 signatures: refused as fast as reading them (ed25519 would take seconds).
    for n in 0..10_000 {
        envelope.signatures.push(governance::EnvelopeSignature {
            keyid: format!("x{n}"),
            sig: original.sig.clone(),
        });
    }
    assert!(matches!(
        Verifier::new(trust(1)).verify_manifest(MANIFEST, &envelope.to_json()),
        Err(VerifyError::Envelope(EnvelopeError::TooManySignatures(_)))
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn malformed_envelopes_are_refused_with_a_reason() {
    let verifier = Verifier::new(trust(1));
    let unsigned = Envelope::unsigned(MANIFEST).to_json();
    assert_eq!(
        verifier.verify_manifest(MANIFEST, &unsigned),
        Err(VerifyError::Envelope(EnvelopeError::Unsigned))
    );
    assert!(matches!(
        verifier.verify_manifest(MANIFEST, b"not json"),
        Err(VerifyError::Envelope(EnvelopeError::Malformed(_)))
    ));
    let mut garbled = Envelope::sign(MANIFEST, "alice", &key(1));
    garbled.signatures[0].sig = "!!!".to_owned();
    let report = not_approved(verifier.verify_manifest(MANIFEST, &garbled.to_json()));
    assert_eq!(report.rejected[0].reason, Rejection::BadSignature);
}

#[test]
fn trust_file_loads_from_disk_and_missing_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("trust.toml");
    let failure = TrustFile::load(&missing).unwrap_err();
    assert_eq!(failure.exit, support::Exit::InvalidInput);
    assert!(
        failure.located[0]
            .to_string()
            .contains("cannot read trust file")
    );
}

/// The `governance` binary: keygen, two approvals, verify (human and JSON), and refusals.
mod cli {
    use std::path::Path;
    use std::process::{Command, Output};

    fn governance(args: &[&str], dir: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_governance"))
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run governance")
    }

    #[test]
    fn help_and_version_exit_0_and_bad_usage_exits_2() {
        let dir = tempfile::tempdir().unwrap();
        for (args, expected) in [
            (&["--version"][..], "governance "),
            (&["--help"], "verify"),
            (&["sign", "--help"], "--keyid <ID>"),
            (&["help", "verify"], "--trust <FILE>"),
        ] {
            let output = governance(args, dir.path());
            assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
            assert!(
                String::from_utf8_lossy(&output.stdout).contains(expected),
                "{args:?}"
            );
        }
        for (args, expected) in [
            (&[][..], "Usage: governance <COMMAND>"),
            (&["verify", "--manifest", "m.json"], "--envelope <FILE>"),
            (&["keygen", "--secret-key"], "a value is required"),
            (
                &["verify", "--format", "yaml"],
                "[possible values: human, json]",
            ),
            (&["sing"], "unrecognized subcommand 'sing'"),
        ] {
            let output = governance(args, dir.path());
            assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
            assert!(
                String::from_utf8_lossy(&output.stderr).contains(expected),
                "{args:?}"
            );
        }
    }

    fn keygen(dir: &Path, file: &str) -> String {
        let output = governance(&["keygen", "--secret-key", file], dir);
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn keygen_sign_twice_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let alice = keygen(dir, "alice.key");
        let bob = keygen(dir, "bob.key");
        assert_eq!(alice.len(), 64);
        assert_ne!(alice, bob);
        std::fs::write(
            dir.join("trust.toml"),
            format!(
                "version = 1\n[policy]\nmin-approvals = 2\napprover-roles = [\"release-approver\"]\n\
                 [keys.alice]\npublic-key = \"{alice}\"\nroles = [\"release-approver\"]\n\
                 [keys.bob]\npublic-key = \"{bob}\"\nroles = [\"release-approver\"]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("release.json"), super::MANIFEST).unwrap();
        let verify = |format: &str| {
            governance(
                &[
                    "verify",
                    "--manifest",
                    "release.json",
                    "--envelope",
                    "release.sig.json",
                    "--trust",
                    "trust.toml",
                    "--format",
                    format,
                ],
                dir,
            )
        };
        for (keyid, file) in [("alice", "alice.key"), ("bob", "bob.key")] {
            let output = governance(
                &[
                    "sign",
                    "--manifest",
                    "release.json",
                    "--secret-key",
                    file,
                    "--keyid",
                    keyid,
                    "--envelope",
                    "release.sig.json",
                ],
                dir,
            );
            assert!(output.status.success(), "{output:?}");
            if keyid == "alice" {
                let output = verify("human");
                assert_eq!(output.status.code(), Some(1), "one approval is not enough");
                assert!(
                    String::from_utf8_lossy(&output.stdout).contains(
                        "NOT APPROVED: release is not approved: 1 of 2 required approvals"
                    )
                );
            }
        }
        let output = verify("json");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let report = output_types::validate::document(&output.stdout);
        assert_eq!(report["schema"], "governance-verify/v1");
        assert_eq!(report["approved"], true);
        assert_eq!(report["approved_by"], serde_json::json!(["alice", "bob"]));

        // Any change to the manifest after signing is refused.
        let mut tampered = super::MANIFEST.to_vec();
        tampered[3] ^= 0x01;
        std::fs::write(dir.join("release.json"), tampered).unwrap();
        let output = verify("json");
        assert_eq!(output.status.code(), Some(1));
        let report = output_types::validate::document(&output.stdout);
        assert_eq!(report["approved"], false);
        assert!(
            report["error"]
                .as_str()
                .unwrap()
                .contains("not byte for byte")
        );
    }

    /// A signed release and a trust file requiring alice, in `dir`.
    fn signed_release(dir: &Path) {
        let alice = keygen(dir, "alice.key");
        std::fs::write(
            dir.join("trust.toml"),
            format!(
                "version = 1\n[policy]\nmin-approvals = 1\napprover-roles = [\"release-approver\"]\n\
                 [keys.alice]\npublic-key = \"{alice}\"\nroles = [\"release-approver\"]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("release.json"), super::MANIFEST).unwrap();
        let sign = governance(
            &[
                "sign",
                "--manifest",
                "release.json",
                "--secret-key",
                "alice.key",
                "--keyid",
                "alice",
                "--envelope",
                "release.sig.json",
            ],
            dir,
        );
        assert!(sign.status.success(), "{sign:?}");
    }

    const VERIFY: [&str; 9] = [
        "verify",
        "--manifest",
        "release.json",
        "--envelope",
        "release.sig.json",
        "--trust",
        "trust.toml",
        "--format",
        "json",
    ];

    #[test]
    fn a_malformed_envelope_is_invalid_input_at_its_location_for_verify_and_sign() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        signed_release(dir);
        let text = std::fs::read_to_string(dir.join("release.sig.json")).unwrap();
        // A trailing comma on line 2, then a repeated key id on its own.
        let broken = text.replacen(",\n", ",,\n", 1);
        std::fs::write(dir.join("release.sig.json"), &broken).unwrap();
        for args in [
            &VERIFY[..],
            &[
                "sign",
                "--manifest",
                "release.json",
                "--secret-key",
                "alice.key",
                "--keyid",
                "bob",
                "--envelope",
                "release.sig.json",
            ][..],
        ] {
            let output = governance(args, dir);
            assert_eq!(output.status.code(), Some(2), "{output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("release.sig.json:2:"), "{stderr}");
        }
        let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut doubled = envelope.clone();
        let first = doubled["signatures"][0].clone();
        doubled["signatures"].as_array_mut().unwrap().push(first);
        std::fs::write(
            dir.join("release.sig.json"),
            serde_json::to_string_pretty(&doubled).unwrap(),
        )
        .unwrap();
        let output = governance(&VERIFY, dir);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("release.sig.json:")
                && stderr.contains("more than one signature by key 'alice'"),
            "{stderr}"
        );
    }

    #[test]
    fn a_closed_or_full_stdout_never_panics_and_the_exit_code_keeps_the_verdict() {
        use std::io::Read as _;
        use std::process::Stdio;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        signed_release(dir);
        // A reader that stops at once (`| head -c0`): the write fails with a broken pipe.
        let mut child = Command::new(env!("CARGO_BIN_EXE_governance"))
            .args(VERIFY)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // A full device: the verdict stands, the failed write is a warning.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_governance"))
            .args(VERIFY)
            .current_dir(dir)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("governance: warning: writing to stdout failed"),
            "{stderr}"
        );
    }

    #[test]
    fn keygen_never_overwrites_and_secret_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path(), "k");
        let mode = std::fs::metadata(dir.path().join("k"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = governance(&["keygen", "--secret-key", "k"], dir.path());
        assert_eq!(again.status.code(), Some(2));
    }

    #[test]
    fn a_malformed_trust_file_is_invalid_input_with_its_location() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("trust.toml"),
            "version = 1\n[policy]\nmin-approvals = 0\napprover-roles = [\"a\"]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("m.json"), "{}").unwrap();
        std::fs::write(dir.path().join("e.json"), "{}").unwrap();
        let output = governance(
            &[
                "verify",
                "--manifest",
                "m.json",
                "--envelope",
                "e.json",
                "--trust",
                "trust.toml",
            ],
            dir.path(),
        );
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("trust.toml:3:17: min-approvals must be at least 1"),
            "{stderr}"
        );
        assert!(governance(&["frobnicate"], dir.path()).status.code() == Some(2));
    }

    /// A trust file with a misspelt key, a value of the wrong type and a missing key: all three
    /// are reported in one run with their codes and positions (exit 2), and under GitHub
    /// Actions each is also an annotation on the file.
    #[test]
    fn every_trust_file_problem_is_reported_with_its_code() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("trust.toml"),
            "version = 1\n[policy]\nmin-aprovals = 1\napprover-roles = \"a\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("m.json"), "{}").unwrap();
        std::fs::write(dir.path().join("e.json"), "{}").unwrap();
        let args = [
            "verify",
            "--manifest",
            "m.json",
            "--envelope",
            "e.json",
            "--trust",
            "trust.toml",
        ];
        let run = |github: bool| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_governance"));
            command.args(args).current_dir(dir.path());
            command.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
            if github {
                command
                    .env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_WORKSPACE", dir.path());
            }
            command.output().expect("run governance")
        };
        let output = run(false);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for expected in [
            "error[config::missing-key]: trust.toml:2:1: [policy] has no `min-approvals`",
            "error[config::unknown-key]: trust.toml:3:1: unknown key `min-aprovals` in [policy] \
             (help: did you mean `min-approvals`?",
            "error[config::wrong-type]: trust.toml:4:18: `approver-roles` must be a list of strings",
        ] {
            assert!(
                stderr.contains(expected),
                "missing `{expected}` in:\n{stderr}"
            );
        }
        assert!(!stderr.contains("::error"), "{stderr}");

        let output = run(true);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for expected in [
            "\n::error file=trust.toml,line=2,col=1::[config::missing-key] ",
            "\n::error file=trust.toml,line=3,col=1::[config::unknown-key] ",
            "\n::error file=trust.toml,line=4,col=18::[config::wrong-type] ",
        ] {
            assert!(
                stderr.contains(expected),
                "missing `{expected}` in:\n{stderr}"
            );
        }
    }
}

/// The governance/crypto integration path, end to end with real crates and files: federation
/// builds a release from provider run manifests and local artifacts, two approvers sign it,
/// and a node that requires signatures installs it through `governance::Verifier`. A manifest
/// changed after signing, a release short of approvals, an unsigned release and a signature
/// by an unknown key are each refused with the installed release left in place.
#[test]
fn governance_crypto_integration_path_signed_release_installs_and_tampered_is_refused() {
    use node::{IngestError, IngestOptions, IngestOutcome, IngestRequest, NodePolicy, NodeStore};
    use release::federation::{ArtifactLocator, Inputs, federate};

    // 2026-06-01T00:00:00Z, for federation's timestamps and the node's expiry check alike.
    const NOW: i64 = 1_780_272_000;
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let release_for = |generation: u32, previous: Option<release::ReleaseManifest>| {
        let providers = [
            ("hf", "textgen", "hf://spiralverse/textgen-lora"),
            (
                "gcp",
                "embed",
                "gs://scbe-vertex-staging/spiralverse/embedder",
            ),
            ("aws", "runtime", "s3://spiralverse/runtime-distilled"),
        ];
        let manifests = providers
            .iter()
            .map(|(provider, role, uri)| {
                let uri = format!("{uri}-v{generation}");
                let file = ArtifactLocator {
                    base: dir.path().to_owned(),
                    dir: Some(artifacts.clone()),
                }
                .local_path(&uri)
                .unwrap();
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, format!("{provider} weights v{generation}\n")).unwrap();
                let text = serde_json::json!({"provider": provider, "artifacts": [{
                    "id": format!("spiralverse/{provider}-v{generation}"), "role": role, "uri": uri,
                    "metrics": {"quality": 0.86, "safety": 0.99, "latency_ms_p95": 90, "cost_per_1k_tokens": 0.6},
                }]})
                .to_string();
                release::ProviderManifest::parse(&dir.path().join(format!("{provider}.json")), &text)
                    .unwrap()
            })
            .collect();
        let outcome = federate(Inputs {
            manifests,
            thresholds: release::Thresholds::default(),
            expires_after_days: 30,
            previous,
            carry_forward: false,
            artifacts: ArtifactLocator {
                base: dir.path().to_owned(),
                dir: Some(artifacts.clone()),
            },
            now: NOW,
            kernel_digest: None,
            source: None,
        })
        .unwrap();
        outcome.release.expect("every provider passes its gates")
    };
    let first = release_for(1, None);
    let second = release_for(2, Some(first.clone()));
    assert!(
        first.units.values().all(|unit| unit.digest.is_some()),
        "artifacts were hashed"
    );

    let verifier = Verifier::new(trust(2));
    let store = NodeStore::new(dir.path().join("node"));
    let options = IngestOptions {
        policy: NodePolicy {
            require_signature: true,
            require_artifacts: true,
            ..NodePolicy::default()
        },
        verifier: Some(&verifier),
        now_unix: Some(NOW),
        ..IngestOptions::default()
    };
    let ingest = |manifest: &[u8], signature: Option<&[u8]>| {
        store.ingest(
            IngestRequest {
                manifest,
                manifest_path: None,
                signature,
                artifacts_dir: Some(&artifacts),
                statements: &[],
            },
            &options,
        )
    };
    let approved = |manifest: &[u8]| {
        let mut envelope = Envelope::sign(manifest, "alice", &key(1));
        envelope.add_signature("bob", &key(2)).unwrap();
        envelope.to_json()
    };
    let installed_digest = || store.current().unwrap().map(|release| release.digest);

    // Signed by two approvers: installs, and the store records who approved it.
    let first_bytes = first.to_bytes();
    match ingest(&first_bytes, Some(&approved(&first_bytes))).unwrap() {
        IngestOutcome::Installed(report) => {
            assert_eq!(report.digest, first.digest);
            assert_eq!(report.signed_by.as_deref(), Some("alice, bob"));
        }
        other => panic!("expected an install, got {other:?}"),
    }

    let second_bytes = second.to_bytes();
    // Changed after signing (and re-digested, as an attacker without a key would).
    let mut altered = second.clone();
    altered.units.get_mut("gcp").unwrap().uri = Some("gs://attacker/embedder".to_owned());
    altered.seal();
    let signed_for_other_bytes = approved(&second_bytes);
    let refusals = [
        (
            altered.to_bytes(),
            Some(signed_for_other_bytes),
            "not byte for byte the release manifest",
        ),
        (
            second_bytes.clone(),
            Some(Envelope::sign(&second_bytes, "alice", &key(1)).to_json()),
            "release is not approved: 1 of 2 required approvals (approved by alice)",
        ),
        (
            second_bytes.clone(),
            Some(Envelope::sign(&second_bytes, "mallory", &key(9)).to_json()),
            "'mallory': unknown key",
        ),
        (second_bytes.clone(), None, "requires a signed release"),
    ];
    for (manifest, signature, expected) in refusals {
        let err = ingest(&manifest, signature.as_deref()).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::SignatureRejected { .. } | IngestError::SignatureMissing
            ),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(
            installed_digest(),
            Some(first.digest.clone()),
            "after: {err}"
        );
    }

    // The genuine next release, properly approved, installs over the first.
    assert!(matches!(
        ingest(&second_bytes, Some(&approved(&second_bytes))).unwrap(),
        IngestOutcome::Installed(_)
    ));
    assert_eq!(installed_digest(), Some(second.digest));
}
