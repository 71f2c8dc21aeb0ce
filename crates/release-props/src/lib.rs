//! Property-based suites (proptest) over the core release domain: gate boundaries, score
//! ordering, canonical digest stability and manifest round trips (`tests/properties.rs`).
//!
//! This crate is in the `property` dependency group: proptest is reserved for it, and no core
//! crate depends on it, so core builds and the fast lane never compile proptest. The strategies
//! live here, in the library, so other property suites can reuse them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use release::canonical;
use release::gates::Thresholds;
use release::manifest::{ReleaseManifest, SCHEMA, Unit};
use release::provider::Provider;
use release::select::{score, verdict};
use release::time;
use serde_json::{Map, Value};

/// Metric values in the order `quality, safety, latency_ms_p95, cost_per_1k_tokens`.
pub type Metrics = [f64; 4];

/// Thresholds as a gates file may hold them: unit interval for quality and safety,
/// non-negative latency and cost.
pub fn thresholds() -> impl Strategy<Value = Thresholds> {
    (0.0..=1.0f64, 0.0..=1.0f64, 0.0..=2_000.0f64, 0.0..=20.0f64).prop_map(
        |(min_quality, min_safety, max_latency_ms_p95, max_cost_per_1k_tokens)| Thresholds {
            min_quality,
            min_safety,
            max_latency_ms_p95,
            max_cost_per_1k_tokens,
        },
    )
}

/// Metric values for one artifact, in the same ranges as [`thresholds`], as they come out of a
/// JSON manifest (a value read back from its own text).
pub fn metrics() -> impl Strategy<Value = Metrics> {
    (0.0..=1.0f64, 0.0..=1.0f64, 0.0..=2_000.0f64, 0.0..=20.0f64)
        .prop_map(|(q, s, l, c)| [q, s, l, c].map(as_read_from_json))
}

/// `value` after a trip through the canonical number format, as every stored value makes it.
pub fn as_read_from_json(value: f64) -> f64 {
    canonical::format_f64(value)
        .parse()
        .expect("canonical numbers parse")
}

/// The metrics object of a provider manifest or release unit.
pub fn metrics_object(metrics: &Metrics) -> Map<String, Value> {
    let text = format!(
        r#"{{"quality":{},"safety":{},"latency_ms_p95":{},"cost_per_1k_tokens":{}}}"#,
        canonical::format_f64(metrics[0]),
        canonical::format_f64(metrics[1]),
        canonical::format_f64(metrics[2]),
        canonical::format_f64(metrics[3]),
    );
    serde_json::from_str(&text).expect("metrics text is JSON")
}

/// The text of a provider run manifest with one candidate per entry of `candidates`, in order
/// (`art-0`, `art-1`, ...), plus one artifact of another role that selection must ignore.
pub fn provider_manifest_text(provider: Provider, candidates: &[Metrics]) -> String {
    let mut artifacts: Vec<Value> = candidates
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({
                "id": format!("art-{i}"),
                "role": provider.expected_role(),
                "metrics": metrics_object(m),
            })
        })
        .collect();
    artifacts.push(serde_json::json!({"id": "other", "role": "unrelated", "metrics": {}}));
    serde_json::json!({"provider": provider.name(), "artifacts": artifacts}).to_string()
}

/// Any JSON value: nested arrays and objects, arbitrary Unicode strings (control characters
/// and astral planes included), integers of both signs and finite floats.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `sha256:` digest of some bytes.
pub fn digest() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..16).prop_map(|bytes| canonical::sha256_digest(&bytes))
}

fn unit(provider: Provider, thresholds: Thresholds) -> impl Strategy<Value = Unit> {
    (
        "[a-z0-9/._-]{1,24}",
        metrics(),
        prop::option::of(digest()),
        prop::option::of(0u64..(1 << 40)),
        any::<bool>(),
        prop::option::of(digest()),
    )
        .prop_map(
            move |(id, m, artifact_digest, size, carried_forward, carried_from)| {
                let [q, s, l, c] = m;
                Unit {
                    uri: Some(format!("{}://{id}", provider.name())),
                    id,
                    role: provider.expected_role().to_owned(),
                    metrics: metrics_object(&m),
                    digest: artifact_digest,
                    size,
                    score: as_read_from_json(score(q, s, l, c)),
                    verdict: verdict(&thresholds, q, s, l, c),
                    carried_forward,
                    carried_from: carried_from.filter(|_| carried_forward),
                    inputs: None,
                }
            },
        )
}

/// A sealed, valid release manifest: one to three providers, any sequence number, timestamps
/// between 1970 and 2100.
pub fn release_manifest() -> impl Strategy<Value = ReleaseManifest> {
    (
        thresholds().prop_map(|t| Thresholds {
            min_quality: as_read_from_json(t.min_quality),
            min_safety: as_read_from_json(t.min_safety),
            max_latency_ms_p95: as_read_from_json(t.max_latency_ms_p95),
            max_cost_per_1k_tokens: as_read_from_json(t.max_cost_per_1k_tokens),
        }),
        0i64..4_102_444_800,
        1u32..=3650,
        1u64..1_000_000,
        prop::option::of(digest()),
        prop::option::of(digest()),
        prop::sample::subsequence(Provider::ALL.to_vec(), 1..=3),
    )
        .prop_flat_map(
            |(gates, epoch, days, seq, previous, rollback_of, providers)| {
                let units: Vec<_> = providers.iter().map(|p| unit(*p, gates)).collect();
                (
                    units,
                    Just((gates, epoch, days, seq, previous, rollback_of, providers)),
                )
            },
        )
        .prop_map(
            |(units, (gates, epoch, days, seq, previous, rollback_of, providers))| {
                let names: Vec<String> = providers.iter().map(|p| p.name().to_owned()).collect();
                let units: BTreeMap<String, Unit> = names.iter().cloned().zip(units).collect();
                let mut manifest = ReleaseManifest {
                    schema: SCHEMA.to_owned(),
                    fused_model_id: time::fused_model_id(epoch),
                    generated_at: time::format_rfc3339(epoch),
                    release_seq: seq,
                    previous_release: previous,
                    rollback_of,
                    expires: time::format_rfc3339(epoch + i64::from(days) * 86_400),
                    policy_digest: gates.policy_digest(),
                    providers: names,
                    gates,
                    units,
                    kernel_digest: None,
                    source: None,
                    digest: String::new(),
                };
                manifest.seal();
                manifest
            },
        )
}
