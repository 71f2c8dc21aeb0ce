//! The per-artifact, per-gate verdict report: a table for people, JSON for machines.
//!
//! JSON shape (`federation-report/v1`):
//! `{"schema","ok","gates":{thresholds},"policy_digest","providers":[{"provider","expected_role",
//! "selected":id|null,"carried_forward","failure":msg|null,"ignored":[{"id","role"}],
//! "artifacts":[{"id","role","uri","score","selected","pass","verdict":{gate:{"value","comparison",
//! "threshold","pass"},...}}]}],"release":{"digest","release_seq","previous_release",
//! "fused_model_id"}|null}`; front ends add where the release went.

use serde_json::{Value, json};

use crate::federation::Outcome;
use crate::select::fmt_num;

/// The versioned name of the JSON report.
pub const REPORT_SCHEMA: &str = "federation-report/v1";

/// A plain-text table: one row per artifact and gate, then selections and notes.
pub fn table(outcome: &Outcome) -> String {
    let mut rows: Vec<[String; 6]> = vec![
        [
            "PROVIDER",
            "ARTIFACT",
            "GATE",
            "VALUE",
            "THRESHOLD",
            "RESULT",
        ]
        .map(String::from),
    ];
    for evaluation in &outcome.evaluations {
        for (i, judged) in evaluation.candidates.iter().enumerate() {
            let marker = if evaluation.selected == Some(i) {
                " *"
            } else {
                ""
            };
            for (gate, verdict) in judged.verdict.gates() {
                rows.push([
                    evaluation.provider.name().to_owned(),
                    format!("{}{marker}", judged.artifact.shown_id()),
                    gate.to_owned(),
                    fmt_num(verdict.value),
                    format!("{} {}", verdict.comparison, fmt_num(verdict.threshold)),
                    if verdict.pass { "pass" } else { "FAIL" }.to_owned(),
                ]);
            }
        }
    }
    let mut widths = [0; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
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
    out
}

/// The same report as versioned JSON.
pub fn json(outcome: &Outcome) -> Value {
    let providers: Vec<Value> = outcome
        .evaluations
        .iter()
        .map(|evaluation| {
            let artifacts: Vec<Value> = evaluation
                .candidates
                .iter()
                .enumerate()
                .map(|(i, judged)| {
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
                .collect();
            let ignored: Vec<Value> = evaluation.ignored.iter().map(|a| json!({"id": a.id, "role": a.role})).collect();
            json!({
                "provider": evaluation.provider.name(),
                "expected_role": evaluation.provider.expected_role(),
                "selected": evaluation.selected().map(|j| j.artifact.id.clone()),
                "carried_forward": outcome.carried.contains(&evaluation.provider),
                "failure": if outcome.carried.contains(&evaluation.provider) { None } else { evaluation.failure_message() },
                "ignored": ignored,
                "artifacts": artifacts,
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
