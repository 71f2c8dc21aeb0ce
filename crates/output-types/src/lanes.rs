//! Test lanes: `cargo xtask lanes`, `preflight` and `release-lane` with `--format json`.

use serde::{Deserialize, Serialize};

use crate::{Diagnostic, Shape};

/// `lanes/v1`: every lane of `lanes.toml`, resolved, with its test count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Lanes {
    pub schema: String,
    pub lanes: Vec<Lane>,
}

impl Shape for Lanes {
    const SCHEMA: &'static str = "lanes/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Lane {
    pub name: String,
    pub description: String,
    /// Packages, `group:NAME` expanded.
    pub packages: Vec<String>,
    pub features: Features,
    pub profile: String,
    /// The lane includes tests named `slow_*`.
    pub slow: bool,
    /// An empty lane is not an error.
    pub allow_empty: bool,
    /// The one effective nextest filterset.
    pub filterset: String,
    /// Tests the filterset selects; `null` when they could not be counted.
    pub tests: Option<usize>,
}

/// The features a lane builds with: `"all"` or a list (empty: the default features).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Features {
    Named(FeatureSet),
    List(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum FeatureSet {
    /// `--all-features`.
    All,
}

/// `preflight/v1`: Gate 0's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Preflight {
    pub schema: String,
    pub verdict: Verdict,
    /// The process's exit code (README.md, "Exit codes").
    pub exit: i32,
    pub seconds: f64,
    /// Configuration and manifest files validated; `null` when preflight failed.
    pub files: Option<usize>,
    /// Critical crates compiled; `null` when preflight failed.
    pub critical_crates: Option<usize>,
    pub diagnostics: Vec<Diagnostic>,
    /// The failure's message beyond its located diagnostics, if any.
    pub message: Option<String>,
}

impl Shape for Preflight {
    const SCHEMA: &'static str = "preflight/v1";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// `release-lane/v1`: each step of the release lane with its time and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseLane {
    pub schema: String,
    pub steps: Vec<Step>,
    /// Wall time of the whole lane.
    pub seconds: f64,
}

impl Shape for ReleaseLane {
    const SCHEMA: &'static str = "release-lane/v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Step {
    pub name: String,
    pub seconds: f64,
    pub verdict: Verdict,
    /// One line: what passed, or the first line of the failure.
    pub detail: String,
}
