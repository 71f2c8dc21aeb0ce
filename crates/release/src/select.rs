//! Judging and selection, with exactly the original semantics (README.md, Federation):
//!
//! - candidates are the artifacts whose role is the provider's expected role; others are ignored
//!   and reported; no candidate is an error naming role and provider;
//! - every gate is inclusive (`quality >= min_quality`, `latency <= max`, ...); a missing or
//!   non-numeric metric (booleans are not numbers) is an error naming artifact and metric;
//! - the passing candidate with the highest score wins; a tie keeps the first in file order.
//!
//! [`rejudge`] runs the same judgement over a finished release, so what verifies a release (node
//! ingest, chain verification) is the code that judged it.

use serde_json::Value;
use support::Located;

use crate::gates::Thresholds;
use crate::jsonpos::Seg;
use crate::manifest::{GateVerdict, ReleaseManifest, Unit, Verdict};
use crate::provider::{Artifact, Provider, ProviderManifest, kind};

/// The four metrics, in report order.
pub const METRICS: [&str; 4] = ["quality", "safety", "latency_ms_p95", "cost_per_1k_tokens"];

/// The domain of each metric: finite; `quality` and `safety` in [0, 1]; `latency_ms_p95` and
/// `cost_per_1k_tokens` at least 0. Inside it every score is finite, so every release
/// federation writes has finite numbers only.
pub fn check_metric(metric: &str, value: f64) -> Result<f64, String> {
    let fraction = matches!(metric, "quality" | "safety");
    let inside = value.is_finite() && value >= 0.0 && (!fraction || value <= 1.0);
    if inside {
        return Ok(value);
    }
    let range = if fraction {
        "between 0 and 1"
    } else {
        "a finite number, not negative"
    };
    Err(format!(
        "metric '{metric}' must be {range}, got {}",
        if value.is_finite() {
            fmt_num(value)
        } else {
            "a number too large to represent".to_owned()
        }
    ))
}

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
            .map(|c| format!("{}: {}", c.artifact.shown_id(), c.failed_gates().join(", ")))
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
            .map(|a| format!("{} ({})", a.shown_id(), a.shown_role()))
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
            .map(|a| format!("{} ({})", a.shown_id(), a.shown_role()))
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
        Some(Value::Number(n)) => {
            let value = n.as_f64().unwrap_or(f64::NAN);
            check_metric(metric, value).map_err(|message| {
                manifest
                    .located(
                        &[at[0], at[1], at[2], Seg::Key(metric)],
                        format!("artifact '{}': {message}", artifact.shown_id()),
                    )
                    .with_help(
                        "quality and safety are fractions from 0 to 1; latency_ms_p95 and \
                         cost_per_1k_tokens are finite and not negative",
                    )
            })
        }
        Some(other) => Err(manifest.located(
            &[at[0], at[1], at[2], Seg::Key(metric)],
            format!(
                "artifact '{}': metric '{metric}' must be a number, found {}",
                artifact.shown_id(),
                kind(other)
            ),
        )),
        None => Err(manifest
            .located(
                &at,
                format!(
                    "artifact '{}': missing metric '{metric}'",
                    artifact.shown_id()
                ),
            )
            .with_help(format!(
                "every candidate needs numeric {}",
                METRICS.join(", ")
            ))),
    }
}

/// A way a release's recorded judgement disagrees with judging its units again.
#[derive(Debug, Clone, PartialEq)]
pub enum Misjudged {
    /// `policy_digest` is not the digest of the release's own `gates`.
    PolicyDigest { declared: String, computed: String },
    /// A unit judged in this run (not carried forward) was judged under other thresholds than
    /// the release's gates: it was taken from a release judged under another policy.
    OtherPolicy {
        provider: String,
        gate: &'static str,
        unit_threshold: f64,
        release_threshold: f64,
    },
    /// A unit's verdict, score or role is not what judging its metrics gives.
    Unit { provider: String, problem: String },
}

impl std::fmt::Display for Misjudged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Misjudged::PolicyDigest { declared, computed } => write!(
                f,
                "policy_digest is {declared} but the release's gates hash to {computed}"
            ),
            Misjudged::OtherPolicy {
                provider,
                gate,
                unit_threshold,
                release_threshold,
            } => write!(
                f,
                "unit `{provider}` was judged with {gate} threshold {} but the release's gates \
                 say {}; the unit was taken from a release judged under another policy",
                fmt_num(*unit_threshold),
                fmt_num(*release_threshold)
            ),
            Misjudged::Unit { provider, problem } => write!(f, "unit `{provider}`: {problem}"),
        }
    }
}

/// How far a recorded score may be from the recomputed one: it went through JSON once.
const SCORE_TOLERANCE: f64 = 1e-9;

/// Judges every unit of `release` again, with the functions federation judged them with
/// ([`verdict`], [`score`], the provider's expected role), and returns every disagreement.
///
/// A unit judged in this run must have been judged against the release's `gates`; a
/// carried-forward unit keeps the verdict of the release it came from, so it is re-judged
/// against the thresholds its own verdict records. Either way every promoted unit must pass,
/// each gate's value must be the unit's metric, and `score` must be the metrics' score.
pub fn rejudge(release: &ReleaseManifest) -> Vec<Misjudged> {
    let mut found = Vec::new();
    let computed = release.gates.policy_digest();
    if computed != release.policy_digest {
        found.push(Misjudged::PolicyDigest {
            declared: release.policy_digest.clone(),
            computed,
        });
    }
    for (provider, unit) in &release.units {
        if let Err(misjudged) = rejudge_unit(&release.gates, provider, unit) {
            found.push(misjudged);
        }
    }
    found
}

fn rejudge_unit(gates: &Thresholds, provider: &str, unit: &Unit) -> Result<(), Misjudged> {
    let problem = |problem: String| Misjudged::Unit {
        provider: provider.to_owned(),
        problem,
    };
    let expected_role = Provider::from_name(provider)
        .ok_or_else(|| problem("is not a known provider (hf, gcp, aws)".to_owned()))?
        .expected_role();
    if unit.role != expected_role {
        return Err(problem(format!(
            "role is `{}` but federation promotes `{expected_role}` artifacts for this provider",
            unit.role
        )));
    }
    let mut values = [0.0; 4];
    for (slot, metric) in values.iter_mut().zip(METRICS) {
        *slot = match unit.metrics.get(metric) {
            Some(Value::Number(n)) => n.as_f64().filter(|v| v.is_finite()),
            _ => None,
        }
        .ok_or_else(|| {
            problem(format!(
                "metric `{metric}` is missing or not a finite number"
            ))
        })?;
    }
    let recorded = &unit.verdict;
    let release_thresholds = [
        gates.min_quality,
        gates.min_safety,
        gates.max_latency_ms_p95,
        gates.max_cost_per_1k_tokens,
    ];
    let thresholds = if unit.carried_forward {
        let [q, s, l, c] = recorded.gates().map(|(_, gate)| gate.threshold);
        Thresholds {
            min_quality: q,
            min_safety: s,
            max_latency_ms_p95: l,
            max_cost_per_1k_tokens: c,
        }
    } else {
        for ((gate, verdict), release_threshold) in
            recorded.gates().into_iter().zip(release_thresholds)
        {
            if verdict.threshold != release_threshold {
                return Err(Misjudged::OtherPolicy {
                    provider: provider.to_owned(),
                    gate,
                    unit_threshold: verdict.threshold,
                    release_threshold,
                });
            }
        }
        *gates
    };
    let [quality, safety, latency, cost] = values;
    let judged = verdict(&thresholds, quality, safety, latency, cost);
    for ((gate, recorded), (_, judged)) in recorded.gates().into_iter().zip(judged.gates()) {
        if recorded.value != judged.value {
            return Err(problem(format!(
                "verdict.{gate}.value is {} but the metric is {}",
                fmt_num(recorded.value),
                fmt_num(judged.value)
            )));
        }
        if recorded.comparison != judged.comparison || recorded.pass != judged.pass {
            return Err(problem(format!(
                "verdict.{gate} says {} {} {}: {} but judging it gives {}",
                fmt_num(recorded.value),
                recorded.comparison,
                fmt_num(recorded.threshold),
                if recorded.pass { "pass" } else { "fail" },
                if judged.pass {
                    format!("pass ({})", judged.comparison)
                } else {
                    format!("fail ({})", judged.comparison)
                }
            )));
        }
    }
    if recorded.pass != judged.pass {
        return Err(problem(format!(
            "verdict.pass is {} but its gates say {}",
            recorded.pass, judged.pass
        )));
    }
    if !judged.pass {
        return Err(problem(
            "its verdict fails the gates, so it cannot have been promoted".to_owned(),
        ));
    }
    let computed = score(quality, safety, latency, cost);
    let close = (unit.score - computed).abs() <= SCORE_TOLERANCE * computed.abs().max(1.0);
    if !close {
        return Err(problem(format!(
            "score is {} but its metrics score {}",
            fmt_num(unit.score),
            fmt_num(computed)
        )));
    }
    Ok(())
}
