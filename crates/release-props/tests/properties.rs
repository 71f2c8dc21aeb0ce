//! Properties of the release domain. Case counts follow proptest's default (256) and can be
//! raised with `PROPTEST_CASES`; failures print the minimal input.

use std::path::Path;

use proptest::prelude::*;
use release::canonical;
use release::manifest::ReleaseManifest;
use release::provider::{Provider, ProviderManifest};
use release::select::{evaluate, score, verdict};
use release_props::{
    Metrics, json_value, metrics, provider_manifest_text, release_manifest, thresholds,
};
use serde_json::Value;

/// The next representable value above or below `x` (gates compare exactly, so one ulp matters).
fn nudge(x: f64, up: bool) -> f64 {
    if up { x.next_up() } else { x.next_down() }
}

proptest! {
    // Minimal failing inputs are printed; pin them as plain tests below rather than in files.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Every gate is inclusive: metrics exactly at the thresholds pass.
    #[test]
    fn gates_pass_exactly_at_their_thresholds(t in thresholds()) {
        let v = verdict(&t, t.min_quality, t.min_safety, t.max_latency_ms_p95, t.max_cost_per_1k_tokens);
        prop_assert!(v.pass, "{v:?}");
        for (name, gate) in v.gates() {
            prop_assert!(gate.pass, "{name}: {gate:?}");
        }
    }

    /// One ulp past a threshold fails that gate and only that gate, and fails the verdict.
    #[test]
    fn one_ulp_past_a_threshold_fails_exactly_that_gate(t in thresholds(), which in 0usize..4) {
        let mut m = [t.min_quality, t.min_safety, t.max_latency_ms_p95, t.max_cost_per_1k_tokens];
        // quality and safety are lower bounds, latency and cost upper bounds.
        m[which] = nudge(m[which], which >= 2);
        let v = verdict(&t, m[0], m[1], m[2], m[3]);
        prop_assert!(!v.pass);
        for (i, (name, gate)) in v.gates().into_iter().enumerate() {
            prop_assert_eq!(gate.pass, i != which, "{}: {:?}", name, gate);
        }
    }

    /// The verdict passes exactly when all four gates pass, and each gate is its comparison.
    #[test]
    fn verdict_is_the_conjunction_of_its_gates(t in thresholds(), m in metrics()) {
        let v = verdict(&t, m[0], m[1], m[2], m[3]);
        prop_assert_eq!(v.pass, v.gates().iter().all(|(_, g)| g.pass));
        prop_assert_eq!(v.quality.pass, m[0] >= t.min_quality);
        prop_assert_eq!(v.safety.pass, m[1] >= t.min_safety);
        prop_assert_eq!(v.latency_ms_p95.pass, m[2] <= t.max_latency_ms_p95);
        prop_assert_eq!(v.cost_per_1k_tokens.pass, m[3] <= t.max_cost_per_1k_tokens);
    }

    /// Better quality or safety raises the score; more latency or cost lowers it.
    #[test]
    fn score_orders_by_each_metric(m in metrics(), which in 0usize..4, delta in 1e-3..10.0f64) {
        let base = score(m[0], m[1], m[2], m[3]);
        let mut better = m;
        if which < 2 { better[which] += delta } else { better[which] -= delta }
        let improved = score(better[0], better[1], better[2], better[3]);
        prop_assert!(improved > base, "{m:?} -> {better:?}: {base} vs {improved}");
    }

    /// Selection promotes the passing candidate with the highest score; a tie keeps the first
    /// in file order; nothing passing means nothing selected.
    #[test]
    fn selection_takes_the_best_passing_candidate_first_on_ties(
        t in thresholds(),
        mut candidates in prop::collection::vec(metrics(), 1..8),
        duplicate in any::<prop::sample::Index>(),
    ) {
        // Repeat one candidate at the end so ties happen often.
        let copy = candidates[duplicate.index(candidates.len())];
        candidates.push(copy);
        let text = provider_manifest_text(Provider::Gcp, &candidates);
        let manifest = ProviderManifest::parse(Path::new("gcp.json"), &text).unwrap();
        let evaluation = evaluate(&manifest, &t).unwrap();
        prop_assert_eq!(evaluation.ignored.len(), 1);
        let expected = oracle(&t, &candidates);
        prop_assert_eq!(evaluation.selected, expected, "{:?}", evaluation.candidates);
        if let Some(i) = expected {
            prop_assert_eq!(&evaluation.candidates[i].artifact.id, &format!("art-{i}"));
        }
    }

    /// Canonical JSON is a fixed point: re-reading it and writing it again gives the same text,
    /// so the digest survives storage in either the canonical or the pretty form.
    #[test]
    fn canonical_form_and_digest_are_stable_through_storage(v in json_value()) {
        let canonical_text = canonical::to_canonical_string(&v);
        let reread: Value = serde_json::from_str(&canonical_text).unwrap();
        prop_assert_eq!(&canonical::to_canonical_string(&reread), &canonical_text);
        let pretty: Value = serde_json::from_str(&canonical::to_pretty_string(&v)).unwrap();
        prop_assert_eq!(canonical::digest_of_value(&pretty), canonical::digest_of_value(&v));
        prop_assert!(canonical::is_sha256_digest(&canonical::digest_of_value(&v)));
    }

    /// A sealed manifest survives its stored bytes unchanged: same value, same digest, same
    /// bytes when written again.
    #[test]
    fn release_manifest_round_trips_through_its_bytes(manifest in release_manifest()) {
        manifest.verify_digest().unwrap();
        let bytes = manifest.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let back = ReleaseManifest::parse(Path::new("release.json"), &text)
            .map_err(|problems| TestCaseError::fail(format!("{problems:?}")))?;
        prop_assert_eq!(&back, &manifest);
        prop_assert!(back.verify_digest().is_ok());
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.canonical_bytes(), manifest.canonical_bytes());
    }

    /// The digest covers every field: changing the sequence number or any unit's score is seen.
    #[test]
    fn any_change_breaks_the_digest(manifest in release_manifest(), bump in 1u64..1000) {
        let mut changed = manifest.clone();
        changed.release_seq += bump;
        prop_assert!(changed.verify_digest().is_err());
        let mut changed = manifest.clone();
        let unit = changed.units.values_mut().next().unwrap();
        unit.score = if unit.score == 0.0 { 1.0 } else { -unit.score };
        prop_assert!(changed.verify_digest().is_err());
        changed.seal();
        prop_assert_ne!(changed.digest, manifest.digest);
    }
}

/// Inputs proptest once shrank to: shortest round-trip floats that a reader without correct
/// rounding gets one ulp wrong, which changed a stored release's digest on re-reading. The
/// workspace builds serde_json with `float_roundtrip` for this.
#[test]
fn stored_floats_read_back_exactly() {
    for x in [-3.4919658722278227e56, -0.9227345756019532, 0.1 + 0.2] {
        let text = canonical::format_f64(x);
        let back: f64 = serde_json::from_str(&text).unwrap();
        assert_eq!(back.to_bits(), x.to_bits(), "{text}");
    }
}

/// Selection written independently: first index of the maximum score among passing candidates.
fn oracle(t: &release::Thresholds, candidates: &[Metrics]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, m) in candidates.iter().enumerate() {
        if !verdict(t, m[0], m[1], m[2], m[3]).pass {
            continue;
        }
        let s = score(m[0], m[1], m[2], m[3]);
        match best {
            Some((_, top)) if s <= top => {}
            _ => best = Some((i, s)),
        }
    }
    best.map(|(i, _)| i)
}
