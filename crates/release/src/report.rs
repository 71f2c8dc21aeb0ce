//! The per-artifact, per-gate verdict report: a table for people, JSON for machines.
//!
//! JSON shape (`federation-report/v1`):
//! `{"schema","ok","gates":{thresholds},"policy_digest","providers":[{"provider","expected_role",
//! "selected":id|null,"carried_forward","failure":msg|null,"ignored":[{"id","role"}],
//! "artifacts":[{"id","role","uri","score","selected","pass","verdict":{gate:{"value","comparison",
//! "threshold","pass"},...}}]}],"release":{"digest","release_seq","previous_release",
//! "fused_model_id"}|null}`; front ends add where the release went.

use serde_json::{Value, json};

use crate::canonical;
use crate::federation::Outcome;
use crate::select::fmt_num;

/// The versioned name of the JSON report.
pub const REPORT_SCHEMA: &str = "federation-report/v1";

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

/// The same report as versioned JSON.
pub fn json(outcome: &Outcome) -> Value {
    let mut value = skeleton(outcome);
    for (evaluation, provider) in outcome.evaluations.iter().zip(
        value["providers"]
            .as_array_mut()
            .expect("providers is a list"),
    ) {
        provider["artifacts"] = Value::Array(artifact_values(evaluation).collect());
    }
    value
}

/// The JSON report with `extra` top-level keys, in the stored form (sorted keys, two-space
/// indent, final newline: exactly `canonical::to_pretty_string` of [`json`] plus `extra`),
/// handed to `emit` piece by piece. Only one artifact's JSON exists at a time, so memory
/// stays with what the outcome holds, however many artifacts were judged.
pub fn write_json(outcome: &Outcome, extra: Vec<(&str, Value)>, emit: &mut dyn FnMut(&str)) {
    let Value::Object(mut top) = skeleton(outcome) else {
        unreachable!("the report is an object")
    };
    for (key, value) in extra {
        top.insert(key.to_owned(), value);
    }
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
        for (a, artifact) in artifact_values(evaluation).enumerate() {
            if a > 0 {
                out.push(',');
            }
            canonical::newline(out, Some(2), 4);
            canonical::write_value(out, &artifact, Some(2), 4);
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

/// Each candidate of one provider as it appears in the report.
fn artifact_values(evaluation: &crate::select::Evaluation) -> impl Iterator<Item = Value> + '_ {
    evaluation
        .candidates
        .iter()
        .enumerate()
        .map(move |(i, judged)| {
            json!({
                "id": judged.artifact.id,
                "role": judged.artifact.role,
                "uri": judged.artifact.uri,
                "score": judged.score,
                "selected": evaluation.selected == Some(i),
                "pass": judged.verdict.pass,
                "verdict": judged.verdict,
            })
        })
}

/// The report with every provider's `artifacts` left empty.
fn skeleton(outcome: &Outcome) -> Value {
    let providers: Vec<Value> = outcome
        .evaluations
        .iter()
        .map(|evaluation| {
            let ignored: Vec<Value> = evaluation.ignored.iter().map(|a| json!({"id": a.id, "role": a.role})).collect();
            json!({
                "provider": evaluation.provider.name(),
                "expected_role": evaluation.provider.expected_role(),
                "selected": evaluation.selected().map(|j| j.artifact.id.clone()),
                "carried_forward": outcome.carried.contains(&evaluation.provider),
                "failure": if outcome.carried.contains(&evaluation.provider) { None } else { evaluation.failure_message() },
                "ignored": ignored,
                "artifacts": [],
            })
        })
        .collect();
    json!({
        "schema": REPORT_SCHEMA,
        "ok": outcome.release.is_some(),
        "gates": outcome.thresholds,
        "policy_digest": outcome.thresholds.policy_digest(),
        "providers": providers,
        "release": outcome.release.as_ref().map(|r| json!({
            "digest": r.digest,
            "release_seq": r.release_seq,
            "previous_release": r.previous_release,
            "fused_model_id": r.fused_model_id,
        })),
    })
}
