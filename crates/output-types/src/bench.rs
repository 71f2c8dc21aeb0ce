//! The bench's JSON (`cargo xtask bench ... --format json`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `bench-artifacts/v1`: artifact hashing throughput, best of `runs`, page cache warm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BenchArtifacts {
    pub schema: String,
    /// `debug` or `release`: the build of the bench that measured.
    pub build: String,
    /// Hashing threads used.
    pub cores: usize,
    pub runs: usize,
    /// The read buffer of one hashing thread.
    pub buffer_bytes: usize,
    /// Peak resident memory of the bench process; `null` where it cannot be read.
    pub peak_rss_kib: Option<u64>,
    pub rows: Vec<ArtifactsRow>,
}

impl Shape for BenchArtifacts {
    const SCHEMA: &'static str = "bench-artifacts/v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactsRow {
    /// What was hashed (one large file, many small ones, ...).
    pub case: String,
    pub files: usize,
    pub bytes: u64,
    /// The best run's wall time.
    pub seconds: f64,
    pub mib_per_s: f64,
}

/// `bench-history/v1`: `cargo xtask bench history --json FILE`, a replay of a repository's
/// first-parent history with our selection beside guppy's determinator, nextest `rdeps()` and
/// a lower bound, per commit and in total (README.md, "Real history").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BenchHistory {
    pub schema: String,
    /// The repository replayed (its top level).
    pub repository: String,
    /// The newest commit replayed.
    pub tip: String,
    /// The workspace manifest, relative to the repository root.
    pub manifest: String,
    /// The recording replayed with (`--recording`), if any.
    pub recording: Option<HistoryRecordingInfo>,
    /// What the package counts count.
    pub units: String,
    pub rows: Vec<HistoryRow>,
    pub totals: HistoryTotals,
}

impl Shape for BenchHistory {
    const SCHEMA: &'static str = "bench-history/v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRecordingInfo {
    pub path: String,
    /// The commit the recording was made at.
    pub commit: String,
    pub lane: Option<String>,
    pub filterset: Option<String>,
}

/// Our selection on one commit, in packages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistorySelection {
    pub packages: BTreeSet<String>,
    /// Test binaries selected whole, and how many the head has.
    pub binaries: usize,
    pub binaries_in_head: usize,
    /// Single tests selected in binaries not selected whole (with a recording).
    pub tests: usize,
    pub all: bool,
    /// Why everything was selected: `[class, reason]` pairs.
    pub all_reasons: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryWithRecording {
    pub ours: HistorySelection,
    /// The lower bound plus the packages of binaries the recording saw read a changed file.
    pub lower_bound: BTreeSet<String>,
    pub misses: BTreeSet<String>,
    /// `[test, file]`: a test the recording saw read a changed file, not selected.
    pub binary_misses: Vec<(String, String)>,
}

/// One replayed commit, decided against its first parent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRow {
    /// The abbreviated commit id.
    pub commit: String,
    pub sha: String,
    pub subject: String,
    pub changed_files: usize,
    /// Workspace members at the head.
    pub members: usize,
    pub ours: Option<HistorySelection>,
    pub ours_error: Option<String>,
    pub determinator: Option<BTreeSet<String>>,
    pub rdeps: Option<BTreeSet<String>>,
    pub lower_bound: Option<BTreeSet<String>>,
    pub anchors_error: Option<String>,
    /// Test binaries of the determinator's and rdeps()'s packages (they select whole
    /// packages), to compare with ours binary by binary.
    pub determinator_binaries: Option<usize>,
    pub rdeps_binaries: Option<usize>,
    /// Lower-bound packages we did not select.
    pub misses: BTreeSet<String>,
    /// Lower-bound packages the determinator did not select (a check on the bound itself).
    pub determinator_misses: BTreeSet<String>,
    pub with_recording: Option<HistoryWithRecording>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryTotals {
    pub commits: usize,
    /// Commits every tool and the lower bound answered (the totals below count only these).
    pub compared: usize,
    pub errors: usize,
    pub anchor_errors: usize,
    pub ours: usize,
    pub ours_binaries: usize,
    pub binaries_in_head: usize,
    pub determinator: usize,
    pub determinator_binaries: usize,
    pub rdeps: usize,
    pub rdeps_binaries: usize,
    pub lower_bound: usize,
    pub ours_vs_determinator: f64,
    pub ours_vs_lower_bound: f64,
    pub everything: usize,
    pub everything_share: f64,
    /// Commits selecting everything per reason class (a commit may count in several).
    pub everything_by_class: BTreeMap<String, usize>,
    /// Packages that commits selecting everything contribute, per class alone.
    pub everything_packages_by_class: BTreeMap<String, usize>,
    pub misses: usize,
    pub determinator_misses: usize,
    pub with_recording: Option<HistoryRecordingTotals>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryRecordingTotals {
    pub ours: usize,
    pub ours_binaries: usize,
    pub ours_tests: usize,
    pub lower_bound: usize,
    pub ours_vs_lower_bound: f64,
    pub everything: usize,
    pub misses: usize,
    pub binary_misses: usize,
}
