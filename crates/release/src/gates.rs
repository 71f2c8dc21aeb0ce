//! Promotion gates: the four thresholds (README.md, "Federation") and the policy file
//! `manifests/gates.toml` that holds them with the release expiry period.

use std::path::Path;

use serde::{Deserialize, Serialize};
use support::Located;
use support::config::{Code, Doc};

use crate::canonical;

/// The thresholds every candidate artifact is compared against. All comparisons are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// `quality >= min_quality`
    pub min_quality: f64,
    /// `safety >= min_safety`
    pub min_safety: f64,
    /// `latency_ms_p95 <= max_latency_ms_p95`
    pub max_latency_ms_p95: f64,
    /// `cost_per_1k_tokens <= max_cost_per_1k_tokens`
    pub max_cost_per_1k_tokens: f64,
}

impl Default for Thresholds {
    /// The defaults of the original federation script.
    fn default() -> Self {
        Thresholds {
            min_quality: 0.75,
            min_safety: 0.95,
            max_latency_ms_p95: 250.0,
            max_cost_per_1k_tokens: 1.5,
        }
    }
}

impl Thresholds {
    /// `sha256:` of the canonical JSON of the thresholds: the release's `policy_digest`.
    /// Anyone holding a release can recompute it from the release's own `gates` object.
    pub fn policy_digest(&self) -> String {
        canonical::digest_of_value(&serde_json::to_value(self).expect("thresholds serialize"))
    }
}

/// How long a release stays valid when the policy does not say.
pub const DEFAULT_EXPIRES_AFTER_DAYS: u32 = 30;

/// `manifests/gates.toml`: thresholds plus release settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GatePolicy {
    pub thresholds: Thresholds,
    /// Days from `generated_at` to `expires`.
    pub expires_after_days: u32,
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            thresholds: Thresholds::default(),
            expires_after_days: DEFAULT_EXPIRES_AFTER_DAYS,
        }
    }
}

/// The range of a threshold, the same wherever it is given (gates.toml or a flag):
/// `min_quality` and `min_safety` between 0 and 1, the maxima finite and non-negative.
/// `name` is the gates.toml key; the error says what the value must be.
pub fn check_threshold(name: &str, value: f64) -> Result<(), String> {
    let unit = name.starts_with("min_");
    if !value.is_finite() || value < 0.0 || (unit && value > 1.0) {
        let range = if unit {
            "between 0 and 1"
        } else {
            "a non-negative number"
        };
        return Err(format!("{name} must be {range}, got {value}"));
    }
    Ok(())
}

/// The longest a release may stay valid.
pub const MAX_EXPIRES_AFTER_DAYS: u32 = 3650;

/// Days a release stays valid, the same wherever it is given: 1 to 3650 (a release that is
/// expired when written could never be installed).
pub fn check_expires_after_days(days: i64) -> Result<u32, String> {
    match u32::try_from(days) {
        Ok(d) if (1..=MAX_EXPIRES_AFTER_DAYS).contains(&d) => Ok(d),
        _ => Err(format!(
            "expires_after_days must be between 1 and {MAX_EXPIRES_AFTER_DAYS}, got {days}"
        )),
    }
}

/// The largest gates file read (64 KiB).
pub const MAX_BYTES: u64 = 64 << 10;

/// The supported `version` of gates.toml.
pub const GATES_FILE_VERSION: i64 = 1;

impl GatePolicy {
    /// Reads and validates a gates file.
    pub fn load(path: &Path) -> Result<GatePolicy, Vec<Located>> {
        let text =
            support::input::read_text(path, MAX_BYTES, "gate policy").map_err(|located| {
                vec![located.with_code(Code::Unreadable).with_help(
                    "`manifests/gates.toml` holds the promotion gates; see README, Federation",
                )]
            })?;
        GatePolicy::parse(path, &text)
    }

    /// Parses then validates, reporting every problem found.
    pub fn parse(path: &Path, text: &str) -> Result<GatePolicy, Vec<Located>> {
        let (mut doc, root) = Doc::parse(path, text).map_err(|located| {
            vec![located.with_help(
                "expected `version = 1`, a [gates] table with min_quality, min_safety, \
                 max_latency_ms_p95, max_cost_per_1k_tokens, and optionally [release] expires_after_days",
            )]
        })?;
        let mut top = doc.root(&root, "the gates file");
        top.require_version(&mut doc, "gates file", GATES_FILE_VERSION);
        let defaults = Thresholds::default();
        let mut thresholds = defaults;
        let gates = top.require(&mut doc, "gates", "[gates]");
        if let Some(mut gates) = gates.and_then(|v| doc.table(v, "[gates]")) {
            let fields: [(&'static str, f64, &mut f64); 4] = [
                (
                    "min_quality",
                    defaults.min_quality,
                    &mut thresholds.min_quality,
                ),
                (
                    "min_safety",
                    defaults.min_safety,
                    &mut thresholds.min_safety,
                ),
                (
                    "max_latency_ms_p95",
                    defaults.max_latency_ms_p95,
                    &mut thresholds.max_latency_ms_p95,
                ),
                (
                    "max_cost_per_1k_tokens",
                    defaults.max_cost_per_1k_tokens,
                    &mut thresholds.max_cost_per_1k_tokens,
                ),
            ];
            for (name, example, slot) in fields {
                let value = gates.require(&mut doc, name, &format!("{name} = {example}"));
                let Some(value) = value.and_then(|v| doc.float(v, &format!("`{name}`"))) else {
                    continue;
                };
                match check_threshold(name, *value.get_ref()) {
                    Ok(()) => *slot = *value.get_ref(),
                    Err(message) => doc.error(
                        Code::OutOfRange,
                        value.span(),
                        message,
                        "`min_` thresholds are between 0 and 1; the maxima are non-negative",
                    ),
                }
            }
            gates.finish(&mut doc);
        }
        let mut expires_after_days = DEFAULT_EXPIRES_AFTER_DAYS;
        if let Some(mut release) = top.get("release").and_then(|v| doc.table(v, "[release]")) {
            let days = release
                .get("expires_after_days")
                .and_then(|v| doc.integer(v, "`expires_after_days`"));
            if let Some(days) = days {
                match check_expires_after_days(*days.get_ref()) {
                    Ok(days) => expires_after_days = days,
                    Err(message) => doc.error(
                        Code::OutOfRange,
                        days.span(),
                        message,
                        "a release must be valid for at least a day and at most ten years",
                    ),
                }
            }
            release.finish(&mut doc);
        }
        top.finish(&mut doc);
        doc.finish(GatePolicy {
            thresholds,
            expires_after_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version = 1\n[gates]\nmin_quality = 0.75\nmin_safety = 0.95\nmax_latency_ms_p95 = 250\nmax_cost_per_1k_tokens = 1.5\n[release]\nexpires_after_days = 14\n";

    #[test]
    fn gates_file_parses_integers_as_thresholds() {
        let policy = GatePolicy::parse(Path::new("gates.toml"), GOOD).unwrap();
        assert_eq!(policy.thresholds, Thresholds::default());
        assert_eq!(policy.expires_after_days, 14);
    }

    #[test]
    fn gates_file_problems_are_all_reported_with_locations() {
        let text = GOOD
            .replace("0.75", "1.75")
            .replace("= 1.5", "= -1")
            .replace("= 14", "= 0");
        let problems = GatePolicy::parse(Path::new("gates.toml"), &text).unwrap_err();
        let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{rendered:#?}");
        assert!(problems.iter().all(|p| p.code == Some(Code::OutOfRange)));
        assert!(
            rendered[0].starts_with("gates.toml:3:15: min_quality must be between 0 and 1"),
            "{rendered:#?}"
        );
        assert!(
            rendered[1].starts_with("gates.toml:6:26: max_cost_per_1k_tokens"),
            "{rendered:#?}"
        );
        assert!(
            rendered[2].starts_with("gates.toml:8:22: expires_after_days"),
            "{rendered:#?}"
        );
    }

    fn codes(problems: &[Located]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{} {}", p.location(), p.code.map_or("-", |c| c.as_str())))
            .collect()
    }

    #[test]
    fn a_gates_file_that_cannot_be_read_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let problems = GatePolicy::load(&dir.path().join("gates.toml")).unwrap_err();
        assert_eq!(problems[0].code, Some(Code::Unreadable), "{}", problems[0]);
    }

    #[test]
    fn malformed_or_misspelled_gates_file_is_located() {
        // A typo, a wrong type and the key the typo left out, all in one run.
        let text = GOOD
            .replace("min_safety", "min_safty")
            .replace("= 250", "= \"fast\"");
        let problems = GatePolicy::parse(Path::new("gates.toml"), &text).unwrap_err();
        assert_eq!(
            codes(&problems),
            [
                "gates.toml:2:1 config::missing-key",
                "gates.toml:4:1 config::unknown-key",
                "gates.toml:5:22 config::wrong-type",
            ]
        );
        assert!(
            problems[1]
                .to_string()
                .starts_with("gates.toml:4:1: unknown key `min_safty` in [gates]"),
            "{}",
            problems[1]
        );
        assert_eq!(
            problems[1].help.as_deref(),
            Some(
                "did you mean `min_safety`? [gates] takes `min_quality`, `min_safety`, \
                 `max_latency_ms_p95`, `max_cost_per_1k_tokens`"
            )
        );
        let problems =
            GatePolicy::parse(Path::new("gates.toml"), "version = 1\n[gates\n").unwrap_err();
        assert_eq!(
            problems[0].line_col.map(|(l, _)| l),
            Some(2),
            "{}",
            problems[0]
        );
        assert_eq!(problems[0].code, Some(Code::Syntax));
    }
}
