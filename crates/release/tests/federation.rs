//! The federation semantics table (README.md, "Federation"), release reproducibility and the chain.

use std::path::{Path, PathBuf};

use release::chain::{self, StoredRelease};
use release::federation::{self, ArtifactLocator, Inputs, Outcome};
use release::select;
use release::{ProviderManifest, ReleaseManifest, Thresholds};
use serde_json::{Value, json};

const EPOCH: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn artifact(id: &str, role: &str, q: Value, s: Value, l: Value, c: Value) -> Value {
    json!({"id": id, "role": role, "uri": format!("hf://{id}"),
           "metrics": {"quality": q, "safety": s, "latency_ms_p95": l, "cost_per_1k_tokens": c}})
}

fn good(provider: &str) -> Value {
    let (id, role) = match provider {
        "hf" => ("spiralverse/textgen-lora-v1", "textgen"),
        "gcp" => ("spiralverse/embedder-v2", "embed"),
        _ => ("spiralverse/runtime-distilled-v3", "runtime"),
    };
    json!({"provider": provider, "artifacts": [artifact(id, role, json!(0.82), json!(0.97), json!(140), json!(0.9))]})
}

fn manifest(name: &str, value: &Value) -> ProviderManifest {
    let text = serde_json::to_string_pretty(value).unwrap();
    ProviderManifest::parse(Path::new(name), &text).unwrap()
}

fn inputs(values: [Value; 3]) -> Inputs {
    Inputs {
        manifests: values
            .iter()
            .enumerate()
            .map(|(i, v)| manifest(&format!("m{i}.json"), v))
            .collect(),
        thresholds: Thresholds::default(),
        expires_after_days: 30,
        previous: None,
        carry_forward: false,
        artifacts: ArtifactLocator::default(),
        now: EPOCH,
        kernel_digest: None,
        source: None,
    }
}

fn run(values: [Value; 3]) -> Outcome {
    federation::federate(inputs(values)).unwrap()
}

fn errors(values: [Value; 3]) -> Vec<String> {
    federation::federate(inputs(values))
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn with_hf(artifacts: Vec<Value>) -> [Value; 3] {
    [
        json!({"provider": "hf", "artifacts": artifacts}),
        good("gcp"),
        good("aws"),
    ]
}

#[test]
fn every_gate_passes_exactly_at_its_threshold() {
    let outcome = run(with_hf(vec![artifact(
        "edge",
        "textgen",
        json!(0.75),
        json!(0.95),
        json!(250),
        json!(1.5),
    )]));
    let release = outcome.release.expect("a value at the threshold passes");
    let verdict = &release.units["hf"].verdict;
    assert!(
        verdict
            .gates()
            .iter()
            .all(|(_, g)| g.pass && g.value == g.threshold),
        "{verdict:?}"
    );
}

#[test]
fn each_gate_fails_just_beyond_its_threshold() {
    let beyond = [
        (
            "quality",
            [json!(0.7499), json!(0.95), json!(250), json!(1.5)],
            "quality 0.7499 < min_quality 0.75",
        ),
        (
            "safety",
            [json!(0.75), json!(0.9499), json!(250), json!(1.5)],
            "safety 0.9499 < min_safety 0.95",
        ),
        (
            "latency_ms_p95",
            [json!(0.75), json!(0.95), json!(250.01), json!(1.5)],
            "latency_ms_p95 250.01 > max_latency_ms_p95 250",
        ),
        (
            "cost_per_1k_tokens",
            [json!(0.75), json!(0.95), json!(250), json!(1.5001)],
            "cost_per_1k_tokens 1.5001 > max_cost_per_1k_tokens 1.5",
        ),
    ];
    for (gate, [q, s, l, c], expected) in beyond {
        let outcome = run(with_hf(vec![artifact("edge", "textgen", q, s, l, c)]));
        assert!(outcome.release.is_none(), "{gate}");
        assert_eq!(outcome.failures.len(), 1, "{gate}");
        let failure = &outcome.failures[0];
        assert!(
            failure.starts_with("provider 'hf' has no artifacts passing promotion gates"),
            "{failure}"
        );
        assert!(failure.contains(expected), "{gate}: {failure}");
        let judged = &outcome
            .evaluations
            .iter()
            .find(|e| e.provider.name() == "hf")
            .unwrap()
            .candidates[0];
        let failed: Vec<&str> = judged
            .verdict
            .gates()
            .iter()
            .filter(|(_, g)| !g.pass)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(failed, vec![gate]);
    }
}

#[test]
fn no_passing_artifact_names_every_failed_gate_of_every_candidate() {
    let outcome = run(with_hf(vec![
        artifact(
            "slow",
            "textgen",
            json!(0.9),
            json!(0.99),
            json!(900),
            json!(3),
        ),
        artifact(
            "bad",
            "textgen",
            json!(0.1),
            json!(0.5),
            json!(10),
            json!(0.1),
        ),
    ]));
    let failure = &outcome.failures[0];
    assert_eq!(
        failure,
        "provider 'hf' has no artifacts passing promotion gates (slow: latency_ms_p95 900 > max_latency_ms_p95 250, \
         cost_per_1k_tokens 3 > max_cost_per_1k_tokens 1.5; bad: quality 0.1 < min_quality 0.75, safety 0.5 < min_safety 0.95)"
    );
}

#[test]
fn highest_score_wins_and_a_tie_keeps_the_first_in_file_order() {
    let same = || (json!(0.8), json!(0.97), json!(100), json!(0.5));
    let (q, s, l, c) = same();
    let (q2, s2, l2, c2) = same();
    let outcome = run(with_hf(vec![
        artifact(
            "weaker",
            "textgen",
            json!(0.76),
            json!(0.96),
            json!(100),
            json!(0.5),
        ),
        artifact("first-tied", "textgen", q, s, l, c),
        artifact("second-tied", "textgen", q2, s2, l2, c2),
    ]));
    assert_eq!(outcome.release.unwrap().units["hf"].id, "first-tied");
    assert_eq!(
        select::score(0.82, 0.97, 140.0, 0.9),
        0.45 * 0.82 + 0.45 * 0.97 - 0.0005 * 140.0 - 0.1 * 0.9
    );
}

#[test]
fn a_failing_candidate_with_a_higher_score_is_not_selected() {
    let outcome = run(with_hf(vec![
        artifact(
            "cheap-but-unsafe",
            "textgen",
            json!(0.99),
            json!(0.94),
            json!(10),
            json!(0.1),
        ),
        artifact(
            "passing",
            "textgen",
            json!(0.76),
            json!(0.96),
            json!(200),
            json!(1.0),
        ),
    ]));
    assert_eq!(outcome.release.unwrap().units["hf"].id, "passing");
}

#[test]
fn artifacts_with_other_roles_are_ignored_and_reported() {
    let outcome = run(with_hf(vec![
        artifact(
            "embedder",
            "embed",
            json!(0.99),
            json!(0.99),
            json!(1),
            json!(0.01),
        ),
        artifact(
            "textgen",
            "textgen",
            json!(0.8),
            json!(0.96),
            json!(100),
            json!(1.0),
        ),
    ]));
    let hf = outcome
        .evaluations
        .iter()
        .find(|e| e.provider.name() == "hf")
        .unwrap();
    assert_eq!(hf.candidates.len(), 1);
    assert_eq!(
        hf.ignored_note().unwrap(),
        "provider 'hf': ignored 1 artifact(s) whose role is not 'textgen': embedder (embed)"
    );
    assert!(
        release::report::table(&outcome).contains("note: provider 'hf': ignored 1 artifact(s)")
    );
    assert_eq!(
        serde_json::to_value(release::report::report(&outcome, false, None, None)).unwrap()["providers"]
            [2]["ignored"],
        json!([{"id": "embedder", "role": "embed"}])
    );
    assert_eq!(outcome.release.unwrap().units["hf"].id, "textgen");
}

#[test]
fn no_artifact_with_the_expected_role_names_role_and_provider() {
    let errors = errors(with_hf(vec![artifact(
        "embedder",
        "embed",
        json!(0.9),
        json!(0.99),
        json!(1),
        json!(0.1),
    )]));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("no artifacts with role 'textgen' for provider 'hf'"),
        "{errors:?}"
    );
}

#[test]
fn providers_are_keyed_by_the_provider_field_not_the_file() {
    let errors = errors([good("gcp"), good("gcp"), good("aws")]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("missing provider manifests: hf"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("'gcp' is declared by m0.json and m1.json"),
        "{errors:?}"
    );
}

#[test]
fn a_fourth_manifest_for_a_provider_is_rejected() {
    let mut inputs = inputs([good("hf"), good("gcp"), good("aws")]);
    inputs.manifests.push(manifest("extra.json", &good("gcp")));
    let errors: Vec<String> = federation::federate(inputs)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        errors[0].starts_with("extra.json: provider 'gcp' has more than one run manifest"),
        "{errors:?}"
    );
}

#[test]
fn missing_and_non_numeric_metrics_name_artifact_and_metric_with_location() {
    let mut broken = artifact(
        "lora",
        "textgen",
        json!(true),
        json!("0.97"),
        json!(140),
        json!(0.9),
    );
    broken["metrics"]
        .as_object_mut()
        .unwrap()
        .remove("cost_per_1k_tokens");
    let errors = errors(with_hf(vec![broken]));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].contains("artifact 'lora': metric 'quality' must be a number, found a boolean"),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("artifact 'lora': metric 'safety' must be a number, found a string"),
        "{errors:#?}"
    );
    assert!(
        errors[2].contains("artifact 'lora': missing metric 'cost_per_1k_tokens'"),
        "{errors:#?}"
    );
    for error in &errors {
        let location = error.split(' ').next().unwrap();
        assert_eq!(
            location.split(':').count(),
            4,
            "m0.json:line:col: in {error}"
        );
    }
}

#[test]
fn release_is_reproducible_and_changes_with_one_metric() {
    let first = run([good("hf"), good("gcp"), good("aws")]).release.unwrap();
    let second = run([good("hf"), good("gcp"), good("aws")]).release.unwrap();
    assert_eq!(first.to_bytes(), second.to_bytes());
    first.verify_digest().unwrap();
    let mut changed = good("gcp");
    changed["artifacts"][0]["metrics"]["quality"] = json!(0.83);
    let third = run([good("hf"), changed, good("aws")]).release.unwrap();
    assert_ne!(third.digest, first.digest);
    assert_eq!(first.generated_at, "2026-01-01T00:00:00Z");
    assert_eq!(first.expires, "2026-01-31T00:00:00Z");
    assert_eq!(
        first.fused_model_id,
        "spiralverse-ai-federated-v2026.01.01.0000"
    );
    assert_eq!(first.providers, ["aws", "gcp", "hf"]);
    assert_eq!(first.policy_digest, first.gates.policy_digest());
}

#[test]
fn units_copy_metrics_verbatim_and_uri_null_when_absent() {
    let mut hf = good("hf");
    hf["artifacts"][0].as_object_mut().unwrap().remove("uri");
    hf["artifacts"][0]["metrics"]["extra_metric"] = json!({"kept": [1, "as is"]});
    let release = run([hf.clone(), good("gcp"), good("aws")]).release.unwrap();
    let unit = &release.units["hf"];
    assert_eq!(unit.uri, None);
    assert_eq!(
        Value::Object(unit.metrics.clone()),
        hf["artifacts"][0]["metrics"]
    );
    assert_eq!((unit.digest.as_ref(), unit.size), (None, None));
}

#[test]
fn local_artifacts_get_digest_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("hf/spiralverse/textgen-lora-v1");
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"weights").unwrap();
    let mut inputs = inputs([good("hf"), good("gcp"), good("aws")]);
    inputs.artifacts = ArtifactLocator {
        base: dir.path().to_owned(),
        dir: Some(dir.path().to_owned()),
    };
    let release = federation::federate(inputs).unwrap().release.unwrap();
    let unit = &release.units["hf"];
    assert_eq!(
        unit.digest.as_deref(),
        Some(release::canonical::sha256_digest(b"weights").as_str())
    );
    assert_eq!(unit.size, Some(7));
    assert_eq!(release.units["gcp"].digest, None);
}

fn store(dir: &Path, release: &ReleaseManifest) -> PathBuf {
    let path = dir.join(chain::release_file_name(release.release_seq));
    support::atomic::write_atomic(&path, &release.to_bytes()).unwrap();
    path
}

#[test]
fn chained_releases_verify_and_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let first = run([good("hf"), good("gcp"), good("aws")]).release.unwrap();
    store(dir.path(), &first);
    let mut next = inputs([good("hf"), good("gcp"), good("aws")]);
    next.previous = Some(first.clone());
    next.now += 3600;
    let second = federation::federate(next).unwrap().release.unwrap();
    assert_eq!(
        (second.release_seq, second.previous_release.as_deref()),
        (2, Some(first.digest.as_str()))
    );
    store(dir.path(), &second);
    let rollback = chain::rollback_release(&first, &second, EPOCH + 7200, 30);
    assert_eq!(
        (rollback.release_seq, rollback.rollback_of.as_deref()),
        (3, Some(first.digest.as_str()))
    );
    let third_path = store(dir.path(), &rollback);
    let releases = chain::load_releases(dir.path()).unwrap();
    assert_eq!(releases.len(), 3);
    assert!(chain::verify_chain(&releases).is_empty());

    // Edit a metric in the middle release without resealing: its digest and the link break.
    let mut tampered: Vec<StoredRelease> = releases.clone();
    tampered[1]
        .manifest
        .units
        .get_mut("hf")
        .unwrap()
        .metrics
        .insert("quality".into(), json!(0.99));
    let problems = chain::verify_chain(&tampered);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].to_string().contains("release digest mismatch"));
    // Judging the unit again disagrees with its recorded verdict.
    assert!(
        problems[1]
            .to_string()
            .contains("verdict.quality.value is 0.82 but the metric is 0.99"),
        "{problems:?}"
    );
    // Resealing hides the edit from the digest check but neither from re-judging nor from
    // the chain.
    tampered[1].manifest.seal();
    let problems = chain::verify_chain(&tampered);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].path.ends_with("release-000002.json"));
    assert!(
        problems[1].to_string().contains("previous_release is"),
        "{problems:?}"
    );
    assert!(problems[1].path.ends_with("release-000003.json"));

    std::fs::remove_file(dir.path().join("release-000002.json")).unwrap();
    let problems = chain::verify_chain(&chain::load_releases(dir.path()).unwrap());
    assert!(
        problems
            .iter()
            .any(|p| p.path == third_path && p.message.contains("release_seq 3 where 2")),
        "{problems:?}"
    );
}

#[test]
fn a_head_release_whose_judgement_does_not_hold_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let first = run([good("hf"), good("gcp"), good("aws")]).release.unwrap();
    store(dir.path(), &first);
    // Looser gates written into the head and resealed: the policy digest no longer matches.
    let mut head = first.clone();
    head.gates.min_quality = 0.5;
    head.seal();
    let problems = chain::verify_chain(&[StoredRelease {
        path: dir.path().join("release-000001.json"),
        manifest: head.clone(),
    }]);
    // The digest, and each unit judged under thresholds the gates no longer say.
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(
        problems[0].message.starts_with("policy_digest is"),
        "{problems:?}"
    );
    // A passing verdict kept for a metric that fails its gate.
    let mut head = first;
    let unit = head.units.get_mut("gcp").unwrap();
    unit.metrics.insert("safety".into(), json!(0.5));
    unit.verdict.safety.value = 0.5;
    head.seal();
    let problems = chain::verify_chain(&[StoredRelease {
        path: dir.path().join("release-000001.json"),
        manifest: head,
    }]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("unit `gcp`: verdict.safety says 0.5 >= 0.95: pass"),
        "{problems:?}"
    );
}

#[test]
fn carry_forward_keeps_the_previous_unit_and_its_verdict() {
    let first = run([good("hf"), good("gcp"), good("aws")]).release.unwrap();
    let failing = with_hf(vec![artifact(
        "worse",
        "textgen",
        json!(0.5),
        json!(0.99),
        json!(100),
        json!(1),
    )]);
    let mut without = inputs(failing.clone());
    without.previous = Some(first.clone());
    assert!(federation::federate(without).unwrap().release.is_none());

    let mut with = inputs(failing);
    with.previous = Some(first.clone());
    with.carry_forward = true;
    let outcome = federation::federate(with).unwrap();
    assert_eq!(outcome.carried.len(), 1);
    let release = outcome.release.clone().unwrap();
    let unit = &release.units["hf"];
    assert!(unit.carried_forward);
    assert_eq!(unit.carried_from.as_deref(), Some(first.digest.as_str()));
    assert_eq!(unit.verdict, first.units["hf"].verdict);
    assert_eq!(unit.id, first.units["hf"].id);
    assert!(!release.units["gcp"].carried_forward);
    assert_eq!(
        serde_json::to_value(release::report::report(&outcome, false, None, None)).unwrap()["providers"]
            [2]["carried_forward"],
        json!(true)
    );

    let mut nothing_to_carry = inputs(with_hf(vec![artifact(
        "worse",
        "textgen",
        json!(0.5),
        json!(0.99),
        json!(100),
        json!(1),
    )]));
    nothing_to_carry.carry_forward = true;
    let outcome = federation::federate(nothing_to_carry).unwrap();
    assert!(outcome.release.is_none());
    assert!(
        outcome.failures[0].ends_with("no previous release holds a 'hf' unit to carry forward")
    );
}

#[test]
fn this_workspace_manifests_validate_and_the_chain_verifies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let problems = release::repo::validate_manifests(&root);
    assert!(problems.is_empty(), "{problems:#?}");
    let releases = chain::load_releases(&root.join(release::repo::RELEASES_DIR)).unwrap();
    assert!(!releases.is_empty());
    assert!(chain::verify_chain(&releases).is_empty());
}

#[test]
fn validate_manifests_reports_every_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("manifests/providers/hf.json", "{\"provider\": \"hf\"}");
    write("manifests/gates.toml", "version = 2\n");
    write("manifests/kernel.toml", "version = 1\nfiles = []\n");
    write("manifests/releases/release-000001.json", "{}");
    let problems: Vec<String> = release::repo::validate_manifests(dir.path())
        .iter()
        .map(ToString::to_string)
        .collect();
    // Every broken file is named; the gates file twice (no `[gates]`, an unsupported version).
    let named = |file: &str| problems.iter().filter(|p| p.contains(file)).count();
    assert_eq!(
        [
            "hf.json",
            "gates.toml",
            "kernel.toml",
            "release-000001.json"
        ]
        .map(named),
        [1, 2, 1, 1],
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

#[test]
fn the_streamed_json_report_is_byte_for_byte_the_stored_form_of_the_report() {
    let mut hf = good("hf");
    let second = artifact(
        "b",
        "textgen",
        json!(0.9),
        json!(0.99),
        json!(1.5),
        json!(0),
    );
    let ignored = artifact("c", "other", json!(0.9), json!(0.99), json!(1), json!(0));
    hf["artifacts"]
        .as_array_mut()
        .unwrap()
        .extend([second, ignored]);
    for outcome in [
        run([hf, good("gcp"), good("aws")]),
        federation::federate(Inputs {
            thresholds: Thresholds {
                min_quality: 0.99,
                ..Thresholds::default()
            },
            ..inputs([good("hf"), good("gcp"), good("aws")])
        })
        .unwrap(),
    ] {
        let expected =
            serde_json::to_value(release::report::report(&outcome, true, None, None)).unwrap();
        let mut streamed = String::new();
        release::report::write_json(&outcome, true, None, None, &mut |chunk| {
            streamed.push_str(chunk)
        });
        assert_eq!(streamed, release::canonical::to_pretty_string(&expected));
    }
}

/// Federates the next release of `chain` with hf's quality at `quality` (so its units differ
/// from a release with another quality) and appends it.
fn extend(chain: &mut Vec<StoredRelease>, quality: f64) {
    let mut hf = good("hf");
    hf["artifacts"][0]["metrics"]["quality"] = json!(quality);
    let mut next = inputs([hf, good("gcp"), good("aws")]);
    next.previous = chain.last().map(|r| r.manifest.clone());
    next.now += 3600 * chain.len() as i64;
    let release = federation::federate(next).unwrap().release.unwrap();
    chain.push(StoredRelease {
        path: PathBuf::from(chain::release_file_name(release.release_seq)),
        manifest: release,
    });
}

fn roll_back(
    chain: &mut Vec<StoredRelease>,
    to: Option<&str>,
) -> Result<u64, chain::RollbackRefused> {
    let plan = chain::plan_rollback(chain, to, EPOCH + 86_400, 30)?;
    let (restores, release) = (plan.restores.release_seq, plan.release);
    assert_eq!(release.release_seq, chain.len() as u64 + 1);
    assert_eq!(release.units, chain[restores as usize - 1].manifest.units);
    chain.push(StoredRelease {
        path: PathBuf::from(chain::release_file_name(release.release_seq)),
        manifest: release,
    });
    assert!(
        chain::verify_chain(chain).is_empty(),
        "the rollback extends the chain"
    );
    Ok(restores)
}

#[test]
fn a_rollback_restores_the_last_stable_release_and_never_one_a_rollback_undid() {
    let mut chain = Vec::new();
    assert!(matches!(
        roll_back(&mut chain, None),
        Err(chain::RollbackRefused::NoReleases)
    ));
    extend(&mut chain, 0.80); // 1
    assert!(matches!(
        roll_back(&mut chain, None),
        Err(chain::RollbackRefused::NothingStable { release_seq: 1, .. })
    ));
    extend(&mut chain, 0.85); // 2
    extend(&mut chain, 0.90); // 3
    // 4 restores 2, undoing 3.
    assert_eq!(roll_back(&mut chain, None).unwrap(), 2);
    // From 4 (units of 2): 3 was undone and 2 has the same units, so 1.
    assert_eq!(roll_back(&mut chain, None).unwrap(), 1);
    // Asked by digest or release_seq; the latest's own units or an unknown release are refused.
    let digest_of_3 = chain[2].manifest.digest.clone();
    assert_eq!(roll_back(&mut chain, Some(&digest_of_3)).unwrap(), 3);
    let refused = roll_back(&mut chain, Some("3")).unwrap_err();
    assert!(
        matches!(
            refused,
            chain::RollbackRefused::SameUnits { release_seq: 3 }
        ),
        "{refused:?}"
    );
    assert_eq!(refused.exit(), support::Exit::CheckFailed);
    let refused = roll_back(&mut chain, Some("99")).unwrap_err();
    assert_eq!(refused.exit(), support::Exit::InvalidInput);
    // A chain that does not verify is never extended.
    chain[1].manifest.units.get_mut("hf").unwrap().score = 0.5;
    assert!(matches!(
        roll_back(&mut chain, Some("1")),
        Err(chain::RollbackRefused::ChainBroken(_))
    ));
}
