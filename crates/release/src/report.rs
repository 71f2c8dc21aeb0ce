//! The per-artifact, per-gate verdict report: a table for people, JSON for machines.
//!
//! The JSON shape is `output_types::federation::FederationReport` (`federation-report/v1`,
//! `schemas/federation-report.v1.json`).

use output_types::Shape;
use output_types::federation::{
    ArtifactReport, FederationReport, Gates, IgnoredArtifact, ProviderReport, ReleaseSummary,
};
use serde_json::Value;

use crate::canonical;
use crate::federation::Outcome;
use crate::manifest::{GateVerdict, Verdict};
use crate::select::fmt_num;

/// A plain-text table: one row per artifact and gate, then selections and notes.
pub fn table(outcome: &Outcome) -> String {
    let mut out = String::new();
    write_table(outcome, &mut |chunk| out.push_str(chunk));
    out
}

/// [`table`], handed to `emit` piece by piece: rows are made once to measure the columns and
/// again to write them, so no row is kept, however many artifacts were judged.
pub fn write_table(outcome: &Outcome, emit: &mut dyn FnMut(&str)) {
    let mut widths = [0; 6];
    for row in table_rows(outcome) {
        for (w, cell) in widths.iter_mut().zip(&row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in table_rows(outcome) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(col, (cell, w))| {
                if col == 3 {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if out.len() >= 1 << 16 {
            emit(&out);
            out.clear();
        }
    }
    out.push_str("(* = selected: the passing artifact with the highest score, first in file order on a tie)\n");
    for evaluation in &outcome.evaluations {
        let provider = evaluation.provider;
        match evaluation.selected() {
            Some(judged) => out.push_str(&format!("selected {provider}: {} (score {:.4})\n", judged.artifact.shown_id(), judged.score)),
            None if outcome.carried.contains(&provider) => {
                out.push_str(&format!("carried forward {provider}: no artifact passed; the previous release's unit is kept with its original verdict\n"))
            }
            None => {}
        }
        if let Some(note) = evaluation.ignored_note() {
            out.push_str(&format!("note: {note}\n"));
        }
    }
    emit(&out);
}

/// The header, then one row per artifact and gate.
fn table_rows(outcome: &Outcome) -> impl Iterator<Item = [String; 6]> + '_ {
    let header = [
        "PROVIDER",
        "ARTIFACT",
        "GATE",
        "VALUE",
        "THRESHOLD",
        "RESULT",
    ]
    .map(String::from);
    let rows = outcome.evaluations.iter().flat_map(|evaluation| {
        evaluation
            .candidates
            .iter()
            .enumerate()
            .flat_map(move |(i, judged)| {
                let marker = if evaluation.selected == Some(i) {
                    " *"
                } else {
                    ""
                };
                judged.verdict.gates().map(|(gate, verdict)| {
                    [
                        evaluation.provider.name().to_owned(),
                        format!("{}{marker}", judged.artifact.shown_id()),
                        gate.to_owned(),
                        fmt_num(verdict.value),
                        format!("{} {}", verdict.comparison, fmt_num(verdict.threshold)),
                        if verdict.pass { "pass" } else { "FAIL" }.to_owned(),
                    ]
                })
            })
    });
    std::iter::once(header).chain(rows)
}

/// The report as its typed JSON shape (`output_types::federation`); `dry_run`, `written` and
/// `provenance` say what the front end did with the release.
pub fn report(
    outcome: &Outcome,
    dry_run: bool,
    written: Option<String>,
    provenance: Option<String>,
) -> FederationReport {
    let mut report = skeleton(outcome, dry_run, written, provenance);
    for (evaluation, provider) in outcome.evaluations.iter().zip(&mut report.providers) {
        provider.artifacts = artifact_reports(evaluation).collect();
    }
    report
}

/// [`report`] in the stored form (sorted keys, two-space indent, final newline: exactly
/// `canonical::to_pretty_string` of it), handed to `emit` piece by piece. Only one
/// artifact's JSON exists at a time, so memory stays with what the outcome holds, however
/// many artifacts were judged.
pub fn write_json(
    outcome: &Outcome,
    dry_run: bool,
    written: Option<String>,
    provenance: Option<String>,
    emit: &mut dyn FnMut(&str),
) {
    let Value::Object(top) = to_value(&skeleton(outcome, dry_run, written, provenance)) else {
        unreachable!("the report is an object")
    };
    let mut entries: Vec<(String, Value)> = top.into_iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    let mut out = String::from("{");
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        canonical::newline(&mut out, Some(2), 1);
        canonical::write_string(&mut out, key);
        out.push_str(": ");
        match value {
            Value::Array(providers) if key == "providers" && !providers.is_empty() => {
                out.push('[');
                for (p, (provider, evaluation)) in
                    providers.iter().zip(&outcome.evaluations).enumerate()
                {
                    if p > 0 {
                        out.push(',');
                    }
                    canonical::newline(&mut out, Some(2), 2);
                    write_provider(&mut out, provider, evaluation, emit);
                }
                canonical::newline(&mut out, Some(2), 1);
                out.push(']');
            }
            value => canonical::write_value(&mut out, value, Some(2), 1),
        }
    }
    canonical::newline(&mut out, Some(2), 0);
    out.push_str("}\n");
    emit(&out);
}

/// One provider's object at depth 2, its `artifacts` written one at a time.
fn write_provider(
    out: &mut String,
    provider: &Value,
    evaluation: &crate::select::Evaluation,
    emit: &mut dyn FnMut(&str),
) {
    let Value::Object(map) = provider else {
        unreachable!("a provider is an object")
    };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        canonical::newline(out, Some(2), 3);
        canonical::write_string(out, key);
        out.push_str(": ");
        if key != "artifacts" || evaluation.candidates.is_empty() {
            canonical::write_value(out, value, Some(2), 3);
            continue;
        }
        out.push('[');
        for (a, artifact) in artifact_reports(evaluation).enumerate() {
            if a > 0 {
                out.push(',');
            }
            canonical::newline(out, Some(2), 4);
            canonical::write_value(out, &to_value(&artifact), Some(2), 4);
            if out.len() >= 1 << 16 {
                emit(out);
                out.clear();
            }
        }
        canonical::newline(out, Some(2), 3);
        out.push(']');
    }
    canonical::newline(out, Some(2), 2);
    out.push('}');
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("report shapes serialize")
}

/// Each candidate of one provider as it appears in the report.
fn artifact_reports(
    evaluation: &crate::select::Evaluation,
) -> impl Iterator<Item = ArtifactReport> + '_ {
    evaluation
        .candidates
        .iter()
        .enumerate()
        .map(move |(i, judged)| ArtifactReport {
            id: judged.artifact.id.clone(),
            role: judged.artifact.role.clone(),
            uri: judged.artifact.uri.clone(),
            score: judged.score,
            selected: evaluation.selected == Some(i),
            pass: judged.verdict.pass,
            verdict: verdict_report(&judged.verdict),
        })
}

fn verdict_report(verdict: &Verdict) -> output_types::federation::Verdict {
    let gate = |g: &GateVerdict| output_types::federation::GateVerdict {
        value: g.value,
        comparison: g.comparison.clone(),
        threshold: g.threshold,
        pass: g.pass,
    };
    output_types::federation::Verdict {
        quality: gate(&verdict.quality),
        safety: gate(&verdict.safety),
        latency_ms_p95: gate(&verdict.latency_ms_p95),
        cost_per_1k_tokens: gate(&verdict.cost_per_1k_tokens),
        pass: verdict.pass,
    }
}

/// The report with every provider's `artifacts` left empty.
fn skeleton(
    outcome: &Outcome,
    dry_run: bool,
    written: Option<String>,
    provenance: Option<String>,
) -> FederationReport {
    let providers = outcome
        .evaluations
        .iter()
        .map(|evaluation| {
            let carried = outcome.carried.contains(&evaluation.provider);
            ProviderReport {
                provider: evaluation.provider.name().to_owned(),
                expected_role: evaluation.provider.expected_role().to_owned(),
                selected: evaluation.selected().map(|j| j.artifact.id.clone()),
                carried_forward: carried,
                failure: if carried {
                    None
                } else {
                    evaluation.failure_message()
                },
                ignored: evaluation
                    .ignored
                    .iter()
                    .map(|a| IgnoredArtifact {
                        id: a.id.clone(),
                        role: a.role.clone(),
                    })
                    .collect(),
                artifacts: Vec::new(),
            }
        })
        .collect();
    let t = &outcome.thresholds;
    FederationReport {
        schema: FederationReport::schema(),
        ok: outcome.release.is_some(),
        gates: Gates {
            min_quality: t.min_quality,
            min_safety: t.min_safety,
            max_latency_ms_p95: t.max_latency_ms_p95,
            max_cost_per_1k_tokens: t.max_cost_per_1k_tokens,
        },
        policy_digest: t.policy_digest(),
        providers,
        release: outcome.release.as_ref().map(|r| ReleaseSummary {
            digest: r.digest.clone(),
            release_seq: r.release_seq,
            previous_release: r.previous_release.clone(),
            fused_model_id: r.fused_model_id.clone(),
        }),
        dry_run,
        written,
        provenance,
    }
}
