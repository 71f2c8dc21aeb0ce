//! Impact analysis: `cargo xtask impact --format json`, `impact --explain FILE --format json`
//! and `impact history --format json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `impact-report/v1`: what a change affects, with the evidence for each package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactReport {
    pub schema: String,
    /// The base commit, or `null` when it could not be read (`--fallback all`).
    pub base: Option<String>,
    /// The head commit, or `null` for the working tree.
    pub head: Option<String>,
    /// Every member is affected; `all_reasons` says why.
    pub all: bool,
    pub all_reasons: Vec<String>,
    pub changed_files: Vec<ChangedFile>,
    /// Affected workspace members, sorted by name.
    pub packages: Vec<AffectedPackage>,
    /// A nextest filterset selecting exactly `packages`.
    pub filterset: String,
    /// Files that were looked at and affect nothing, with the reason.
    pub unaffecting: Vec<Reason>,
}

impl Shape for ImpactReport {
    const SCHEMA: &'static str = "impact-report/v1";
}

/// One changed file, with repository-relative `/`-separated paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangedFile {
    pub path: String,
    pub status: FileStatus,
    /// The path before a rename.
    pub old_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AffectedPackage {
    pub name: String,
    /// Dependency hops from a directly affected package.
    pub distance: u32,
    pub targets: Targets,
    /// Binaries of which only some tests are affected: binary id -> test names. A binary
    /// listed here is not in `targets`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<String, Vec<String>>,
    pub reasons: Vec<Reason>,
}

/// Which test binaries of a package are affected: `"all"` or nextest binary ids, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Targets {
    Every(EveryTarget),
    Some(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum EveryTarget {
    All,
}

/// One piece of evidence, with a one-line human summary of the why-chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reason {
    /// `file -> owner or rule -> edge chain`, in words.
    pub summary: String,
    /// The kind of evidence (`owner`, `target`, `include`, `dep-info`, `rule`, ...; README.md,
    /// "Impact analysis").
    pub evidence: String,
    /// The changed file behind it, repository-relative.
    pub file: Option<String>,
    /// Packages from the directly affected one to this one, for dependency chains.
    pub chain: Vec<String>,
}

/// `impact-explain/v1`: who reads one file at run time, which evidence covers it, and what a
/// change to it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactExplain {
    pub schema: String,
    pub file: String,
    /// The run-time recording consulted, if one was usable.
    pub recording: Option<ExplainRecording>,
    pub evidence: Vec<Reason>,
    pub all: bool,
    pub all_reasons: Vec<String>,
    pub selects: Vec<Selected>,
    pub filterset: String,
}

impl Shape for ImpactExplain {
    const SCHEMA: &'static str = "impact-explain/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ExplainRecording {
    pub path: String,
    pub commit: String,
    /// Commits between the recording and the head.
    pub age: u32,
    /// Tests that read the file.
    pub read_by: Vec<TestRef>,
    /// Tests that listed a directory holding it.
    pub listed_by: Vec<ListedBy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestRef {
    pub binary_id: String,
    pub test: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ListedBy {
    pub dir: String,
    pub binary_id: String,
    pub test: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Selected {
    pub name: String,
    pub targets: Targets,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<String, Vec<String>>,
}

/// `impact-history/v1`: recent commits decided with and without a run-time recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactHistory {
    pub schema: String,
    pub recording: HistoryRecording,
    pub commits: Vec<HistoryCommit>,
    pub totals: HistoryTotals,
}

impl Shape for ImpactHistory {
    const SCHEMA: &'static str = "impact-history/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRecording {
    pub path: String,
    pub commit: String,
    /// The lane recorded (`null`: the whole workspace).
    pub lane: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryCommit {
    pub commit: String,
    pub changed_files: usize,
    pub without: Selection,
    pub with: Selection,
    /// Tests that read a changed file but were not selected with the recording.
    pub misses: Vec<Miss>,
    pub misses_without: usize,
}

/// Test binaries selected, and whether the decision was "everything".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Selection {
    pub binaries: usize,
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Miss {
    pub test: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryTotals {
    pub commits: usize,
    pub without: usize,
    pub with: usize,
    pub all_without: usize,
    pub all_with: usize,
    pub misses: usize,
    pub misses_without: usize,
}
