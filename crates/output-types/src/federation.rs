//! `cargo xtask federate --format json`: every provider's candidates judged against the gates.

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `federation-report/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FederationReport {
    pub schema: String,
    /// A release was federated (every provider has a unit).
    pub ok: bool,
    pub gates: Gates,
    /// `sha256:` of the canonical JSON of `gates`.
    pub policy_digest: String,
    pub providers: Vec<ProviderReport>,
    pub release: Option<ReleaseSummary>,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// Where the release was written, when it was.
    pub written: Option<String>,
    /// Where its provenance statement was written, next to it.
    pub provenance: Option<String>,
}

impl Shape for FederationReport {
    const SCHEMA: &'static str = "federation-report/v1";
}

/// The thresholds every candidate is compared against; all comparisons are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Gates {
    pub min_quality: f64,
    pub min_safety: f64,
    pub max_latency_ms_p95: f64,
    pub max_cost_per_1k_tokens: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProviderReport {
    pub provider: String,
    pub expected_role: String,
    /// The id of the selected artifact, if one passed.
    pub selected: Option<String>,
    /// No artifact passed and the previous release's unit is kept.
    pub carried_forward: bool,
    pub failure: Option<String>,
    /// Artifacts whose role is not the expected one.
    pub ignored: Vec<IgnoredArtifact>,
    pub artifacts: Vec<ArtifactReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IgnoredArtifact {
    pub id: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactReport {
    pub id: String,
    pub role: String,
    pub uri: Option<String>,
    pub score: f64,
    pub selected: bool,
    pub pass: bool,
    pub verdict: Verdict,
}

/// The per-gate verdict for one artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Verdict {
    pub quality: GateVerdict,
    pub safety: GateVerdict,
    pub latency_ms_p95: GateVerdict,
    pub cost_per_1k_tokens: GateVerdict,
    /// All four gates passed.
    pub pass: bool,
}

/// One gate: `value comparison threshold`, inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateVerdict {
    pub value: f64,
    /// `">="` or `"<="`.
    pub comparison: String,
    pub threshold: f64,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseSummary {
    pub digest: String,
    pub release_seq: u64,
    pub previous_release: Option<String>,
    pub fused_model_id: String,
}
