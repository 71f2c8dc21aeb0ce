//! `release::select::rejudge` on what federation really writes: a clean release judges clean,
//! and every edit to a unit, a verdict or the gates is refused, naming what changed.

use std::path::Path;

use release::federation::{ArtifactLocator, Inputs, federate};
use release::select::{Misjudged, rejudge};
use release::{ProviderManifest, ReleaseManifest, Thresholds};

/// A release as federation writes it, from real provider manifests.
fn federated() -> ReleaseManifest {
    let manifests = [("hf", "textgen"), ("gcp", "embed"), ("aws", "runtime")]
        .into_iter()
        .map(|(provider, role)| {
            let text = serde_json::json!({"provider": provider, "artifacts": [{
                "id": format!("{provider}-model"), "role": role,
                "uri": format!("{provider}://models/{provider}-model"),
                "metrics": {"quality": 0.82, "safety": 0.97, "latency_ms_p95": 140, "cost_per_1k_tokens": 0.9},
            }]});
            ProviderManifest::parse(Path::new(&format!("{provider}.json")), &text.to_string())
                .unwrap()
        })
        .collect();
    federate(Inputs {
        manifests,
        thresholds: Thresholds::default(),
        expires_after_days: 30,
        previous: None,
        carry_forward: false,
        artifacts: ArtifactLocator::default(),
        now: 0,
    })
    .unwrap()
    .release
    .unwrap()
}

fn edited(edit: impl FnOnce(&mut ReleaseManifest)) -> Vec<Misjudged> {
    let mut release = federated();
    edit(&mut release);
    release.seal();
    rejudge(&release)
}

fn unit_problem(found: &[Misjudged]) -> String {
    match found {
        [Misjudged::Unit { provider, problem }] if provider == "hf" => problem.clone(),
        other => panic!("expected one problem with unit hf, got {other:?}"),
    }
}

#[test]
fn what_federation_writes_rejudges_clean_even_after_a_round_trip() {
    let release = federated();
    assert_eq!(rejudge(&release), vec![]);
    let text = String::from_utf8(release.to_bytes()).unwrap();
    let back = ReleaseManifest::parse(Path::new("r.json"), &text).unwrap();
    assert_eq!(rejudge(&back), vec![]);
}

#[test]
fn a_failing_verdict_is_refused_even_when_it_says_so() {
    let found = edited(|r| {
        let unit = r.units.get_mut("hf").unwrap();
        unit.metrics
            .insert("quality".into(), serde_json::json!(0.5));
        unit.verdict.quality.value = 0.5;
        unit.verdict.quality.pass = false;
        unit.verdict.pass = false;
    });
    assert!(
        unit_problem(&found).contains("fails the gates"),
        "{found:?}"
    );
}

#[test]
fn a_metric_below_its_gate_with_a_passing_verdict_is_refused() {
    let found = edited(|r| {
        let unit = r.units.get_mut("hf").unwrap();
        unit.metrics
            .insert("quality".into(), serde_json::json!(0.5));
        unit.verdict.quality.value = 0.5;
    });
    let problem = unit_problem(&found);
    assert!(
        problem.contains("verdict.quality says 0.5 >= 0.75: pass"),
        "{problem}"
    );
}

#[test]
fn a_metric_that_differs_from_its_verdict_value_is_refused() {
    let found = edited(|r| {
        let unit = r.units.get_mut("hf").unwrap();
        unit.metrics
            .insert("safety".into(), serde_json::json!(0.99));
    });
    let problem = unit_problem(&found);
    assert!(
        problem.contains("verdict.safety.value is 0.97 but the metric is 0.99"),
        "{problem}"
    );
}

#[test]
fn a_wrong_score_a_wrong_role_and_a_flipped_pass_are_refused() {
    let problem = unit_problem(&edited(|r| r.units.get_mut("hf").unwrap().score = 0.99));
    assert!(
        problem.starts_with("score is 0.99 but its metrics score"),
        "{problem}"
    );
    let problem = unit_problem(&edited(|r| {
        r.units.get_mut("hf").unwrap().role = "embed".into()
    }));
    assert!(problem.contains("role is `embed`"), "{problem}");
    let problem = unit_problem(&edited(|r| {
        r.units.get_mut("hf").unwrap().verdict.latency_ms_p95.pass = false
    }));
    assert!(problem.contains("verdict.latency_ms_p95"), "{problem}");
}

#[test]
fn gates_that_no_longer_match_the_policy_digest_are_refused() {
    let found = edited(|r| r.gates.min_quality = 0.5);
    assert!(
        matches!(found.first(), Some(Misjudged::PolicyDigest { .. })),
        "{found:?}"
    );
    // Re-digesting the policy too leaves units judged under the old thresholds.
    let found = edited(|r| {
        r.gates.min_quality = 0.5;
        r.policy_digest = r.gates.policy_digest();
    });
    assert!(
        found.iter().all(|m| matches!(
            m,
            Misjudged::OtherPolicy {
                gate: "quality",
                ..
            }
        )),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
}
