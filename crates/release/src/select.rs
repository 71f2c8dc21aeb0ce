//! Judging and selection, with exactly the original semantics (README.md, "Federation"):
//!
//! - candidates are the artifacts whose role is the provider's expected role; others are ignored
//!   and reported; no candidate is an error naming role and provider;
//! - every gate is inclusive (`quality >= min_quality`, `latency <= max`, ...); a missing or
//!   non-numeric metric (booleans are not numbers) is an error naming artifact and metric;
//! - the passing candidate with the highest score wins; a tie keeps the first in file order.

use serde_json::Value;
use support::Located;

use crate::gates::Thresholds;
use crate::jsonpos::Seg;
use crate::manifest::{GateVerdict, Verdict};
use crate::provider::{Artifact, Provider, ProviderManifest, kind};

/// The four metrics, in report order.
pub const METRICS: [&str; 4] = ["quality", "safety", "latency_ms_p95", "cost_per_1k_tokens"];

/// `0.45*quality + 0.45*safety - 0.0005*latency_ms_p95 - 0.1*cost_per_1k_tokens`.
pub fn score(quality: f64, safety: f64, latency_ms_p95: f64, cost_per_1k_tokens: f64) -> f64 {
    0.45 * quality + 0.45 * safety - 0.0005 * latency_ms_p95 - 0.1 * cost_per_1k_tokens
}

/// One candidate with its verdict and score.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub artifact: Artifact,
    pub verdict: Verdict,
    pub score: f64,
}

impl Judged {
    /// The failed gates as `quality 0.7 < min_quality 0.75`, for error messages.
    pub fn failed_gates(&self) -> Vec<String> {
        self.verdict
            .gates()
            .into_iter()
            .zip(threshold_names())
            .filter(|((_, gate), _)| !gate.pass)
            .map(|((metric, gate), name)| {
                let broken = if gate.comparison == ">=" { "<" } else { ">" };
                format!(
                    "{metric} {} {broken} {name} {}",
                    fmt_num(gate.value),
                    fmt_num(gate.threshold)
                )
            })
            .collect()
    }
}

fn threshold_names() -> [&'static str; 4] {
    [
        "min_quality",
        "min_safety",
        "max_latency_ms_p95",
        "max_cost_per_1k_tokens",
    ]
}

/// Numbers in messages and tables, written as in the manifests (`90`, `0.86`).
pub fn fmt_num(value: f64) -> String {
    crate::canonical::format_f64(value)
}

/// The outcome for one provider.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub provider: Provider,
    /// Candidates (expected role) in file order.
    pub candidates: Vec<Judged>,
    /// Artifacts skipped because their role is not the expected one.
    pub ignored: Vec<Artifact>,
    /// Index into `candidates` of the promoted artifact; `None` when nothing passed.
    pub selected: Option<usize>,
}

impl Evaluation {
    pub fn selected(&self) -> Option<&Judged> {
        self.selected.map(|i| &self.candidates[i])
    }

    /// "provider 'X' has no artifacts passing promotion gates: id: gate, gate; id: ...".
    pub fn failure_message(&self) -> Option<String> {
        if self.selected.is_some() {
            return None;
        }
        let details: Vec<String> = self
            .candidates
            .iter()
            .map(|c| format!("{}: {}", c.artifact.id, c.failed_gates().join(", ")))
            .collect();
        Some(format!(
            "provider '{}' has no artifacts passing promotion gates ({})",
            self.provider,
            details.join("; ")
        ))
    }

    /// "ignored 1 artifact(s) with role other than 'embed': id (role)".
    pub fn ignored_note(&self) -> Option<String> {
        if self.ignored.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .ignored
            .iter()
            .map(|a| format!("{} ({})", a.id, a.role))
            .collect();
        Some(format!(
            "provider '{}': ignored {} artifact(s) whose role is not '{}': {}",
            self.provider,
            self.ignored.len(),
            self.provider.expected_role(),
            list.join(", ")
        ))
    }
}

/// Judges every candidate of one provider manifest. Errors are invalid input (metrics, roles).
pub fn evaluate(
    manifest: &ProviderManifest,
    thresholds: &Thresholds,
) -> Result<Evaluation, Vec<Located>> {
    let provider = manifest.provider;
    let role = provider.expected_role();
    let (candidates, ignored): (Vec<&Artifact>, Vec<&Artifact>) =
        manifest.artifacts.iter().partition(|a| a.role == role);
    if candidates.is_empty() {
        let found: Vec<String> = ignored
            .iter()
            .map(|a| format!("{} ({})", a.id, a.role))
            .collect();
        return Err(vec![
            manifest
                .located(
                    &[Seg::Key("artifacts")],
                    format!("no artifacts with role '{role}' for provider '{provider}'"),
                )
                .with_help(format!("found: {}", found.join(", "))),
        ]);
    }
    let mut problems = Vec::new();
    let mut judged = Vec::new();
    for artifact in candidates {
        let mut values = [0.0; 4];
        let mut ok = true;
        for (slot, metric) in values.iter_mut().zip(METRICS) {
            match metric_value(manifest, artifact, metric) {
                Ok(v) => *slot = v,
                Err(located) => {
                    problems.push(located);
                    ok = false;
                }
            }
        }
        if ok {
            let [quality, safety, latency, cost] = values;
            judged.push(Judged {
                artifact: artifact.clone(),
                verdict: verdict(thresholds, quality, safety, latency, cost),
                score: score(quality, safety, latency, cost),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut selected: Option<usize> = None;
    for (i, candidate) in judged.iter().enumerate() {
        if !candidate.verdict.pass {
            continue;
        }
        // Strictly greater: on a tie the earlier artifact stays.
        if selected.is_none_or(|best| candidate.score > judged[best].score) {
            selected = Some(i);
        }
    }
    Ok(Evaluation {
        provider,
        candidates: judged,
        ignored: ignored.into_iter().cloned().collect(),
        selected,
    })
}

/// The per-gate verdict for metric values against thresholds (inclusive comparisons).
pub fn verdict(t: &Thresholds, quality: f64, safety: f64, latency: f64, cost: f64) -> Verdict {
    let at_least = |value: f64, threshold: f64| GateVerdict {
        value,
        comparison: ">=".into(),
        threshold,
        pass: value >= threshold,
    };
    let at_most = |value: f64, threshold: f64| GateVerdict {
        value,
        comparison: "<=".into(),
        threshold,
        pass: value <= threshold,
    };
    let quality = at_least(quality, t.min_quality);
    let safety = at_least(safety, t.min_safety);
    let latency_ms_p95 = at_most(latency, t.max_latency_ms_p95);
    let cost_per_1k_tokens = at_most(cost, t.max_cost_per_1k_tokens);
    let pass = quality.pass && safety.pass && latency_ms_p95.pass && cost_per_1k_tokens.pass;
    Verdict {
        quality,
        safety,
        latency_ms_p95,
        cost_per_1k_tokens,
        pass,
    }
}

fn metric_value(
    manifest: &ProviderManifest,
    artifact: &Artifact,
    metric: &str,
) -> Result<f64, Located> {
    let at = [
        Seg::Key("artifacts"),
        Seg::Index(artifact.index),
        Seg::Key("metrics"),
    ];
    match artifact.metrics.get(metric) {
        // JSON numbers only: `true` is not 1, "0.9" is not 0.9.
        Some(Value::Number(n)) => n.as_f64().filter(|v| v.is_finite()).ok_or_else(|| {
            manifest.located(
                &[at[0], at[1], at[2], Seg::Key(metric)],
                format!(
                    "artifact '{}': metric '{metric}' is out of range",
                    artifact.id
                ),
            )
        }),
        Some(other) => Err(manifest.located(
            &[at[0], at[1], at[2], Seg::Key(metric)],
            format!(
                "artifact '{}': metric '{metric}' must be a number, found {}",
                artifact.id,
                kind(other)
            ),
        )),
        None => Err(manifest
            .located(
                &at,
                format!("artifact '{}': missing metric '{metric}'", artifact.id),
            )
            .with_help(format!(
                "every candidate needs numeric {}",
                METRICS.join(", ")
            ))),
    }
}
