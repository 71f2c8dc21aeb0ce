//! The bench's JSON (`cargo xtask bench ... --format json` and `--output FILE`), and the report
//! of the `impact-anchors` binary it runs.

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

/// `bench-soundness/v1`: impact analysis against ground truth, one row per mutation of the
/// repository (`cargo xtask bench soundness --json FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BenchSoundness {
    pub schema: String,
    /// The commit the mutations were applied to.
    pub commit: String,
    /// The run-time recording the selections were also made with, if any.
    pub recording: Option<String>,
    pub mutations: Vec<SoundnessMutation>,
    pub misses_without_recording: usize,
    /// `null` without a recording.
    pub misses_with_recording: Option<usize>,
    /// Mutations that broke no test.
    pub invalid: usize,
    /// Tests that failed with some mutation and also fail without any (left out), as
    /// `binary-id test-name`.
    pub pre_existing: Vec<String>,
    /// Wall time of the whole run so far.
    pub seconds: f64,
}

impl Shape for BenchSoundness {
    const SCHEMA: &'static str = "bench-soundness/v1";
}

/// One mutation and what it broke. Tests are `binary-id test-name`, binaries nextest binary
/// ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SoundnessMutation {
    pub name: String,
    pub category: String,
    /// The file the mutation edits.
    pub file: String,
    /// Tests that fail with the mutation and pass without it.
    pub broken: Vec<String>,
    /// Whether `broken` is all of them (false: the tests every selection includes stopped at
    /// the first failure, which is all a selected test can tell).
    pub broken_complete: bool,
    /// Test binaries that no longer build (each counts with all of its tests).
    pub unbuilt: Vec<String>,
    /// Test binaries that did not build under the mutation nor without it: left out.
    pub unbuilt_anyway: Vec<String>,
    /// Test binaries that built but share a package with one that did not: not run.
    pub not_run: Vec<String>,
    /// Test binaries the mutated workspace no longer has (their package or target left).
    pub gone: Vec<String>,
    /// Why nextest refused to run any test under the mutation (all of those tests then count
    /// as broken).
    pub nextest_refused: Option<String>,
    /// The mutation broke no test, so it proves nothing.
    pub invalid: bool,
    pub without_recording: SoundnessSelection,
    /// `null` without a recording.
    pub with_recording: Option<SoundnessSelection>,
    pub seconds: f64,
}

/// One selection of `xtask impact`, checked against the broken tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SoundnessSelection {
    /// Everything was selected.
    pub all: bool,
    /// Selected packages, with `*` when all of their test binaries are selected.
    pub selected: Vec<String>,
    /// Broken tests outside the selection.
    pub missed: Vec<String>,
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

/// `bench-all/v1`: `cargo xtask bench all --output FILE`, the product against its anchors in
/// one table (README.md, "Performance"): the table's lines, its notes, and every selection and
/// timing behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BenchAll {
    pub schema: String,
    /// `dev` or `release`: the build of the xtask binary measured.
    pub build: String,
    /// `--quick`: small sizes and a subset.
    pub quick: bool,
    /// Wall time of the whole run.
    pub seconds: f64,
    pub lines: Vec<AllLine>,
    /// Misses, left-out changes and failed sections, one sentence each.
    pub notes: Vec<String>,
    pub measured: AllMeasured,
}

impl Shape for BenchAll {
    const SCHEMA: &'static str = "bench-all/v1";
}

/// One line of the table. `ratio` is ours / theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllLine {
    pub area: String,
    pub measure: String,
    pub ratio: Option<f64>,
    pub ours: String,
    pub theirs: String,
    /// What ours is compared with.
    pub anchor: String,
    /// The target, as text (`ratio <= 0.7`); `null` for a line without one.
    pub target: Option<String>,
    pub met: Option<bool>,
}

/// Everything measured, per section; `null` (or empty) for a section not run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllMeasured {
    pub scenarios: Option<AllPrecision>,
    pub history: Option<AllPrecision>,
    pub speed: Vec<ImpactRow>,
    pub artifacts: Option<AllArtifacts>,
    pub preflight: Option<AllPreflight>,
    pub build: Option<AllBuild>,
}

/// One change and the packages each tool selected for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllSelection {
    pub name: String,
    /// The scenario's required packages; for history (no declared set), what both anchors
    /// select.
    pub required: BTreeSet<String>,
    pub ours: BTreeSet<String>,
    pub determinator: BTreeSet<String>,
    pub rdeps: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllPrecision {
    pub changes: Vec<AllSelection>,
    /// Changes left out: `[name, why]`.
    pub skipped: Vec<(String, String)>,
    /// What `required` means here.
    pub required_means: String,
}

/// Artifact hashing: ours against `sha256sum`, best runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllArtifacts {
    pub single_bytes: u64,
    pub several_files: usize,
    pub several_bytes: u64,
    pub ours_single_s: f64,
    pub sha256sum_single_s: f64,
    pub ours_several_s: f64,
    pub sha256sum_several_s: f64,
}

/// `xtask preflight` against the `fast` lane on an injected syntax error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllPreflight {
    pub injected_into: String,
    pub preflight_s: f64,
    pub preflight_exit: i32,
    pub lane_fast_s: f64,
    pub lane_fast_exit: i32,
}

/// A clean build of xtask and its dependency count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllBuild {
    /// `null` in a quick run, which does not build.
    pub clean_build_s: Option<f64>,
    pub dependencies: usize,
    pub external_dependencies: usize,
}

/// `bench-impact/v1`: `cargo xtask bench impact --output FILE`, impact analysis cold and warm
/// on synthetic workspaces (README.md, "Performance").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BenchImpact {
    pub schema: String,
    /// The xtask binary timed.
    pub engine: String,
    /// `dev` or `release`: its build.
    pub profile: String,
    pub seed: u64,
    pub warm_runs: usize,
    /// Where the workspaces were generated.
    pub dir: String,
    pub rows: Vec<ImpactRow>,
}

impl Shape for BenchImpact {
    const SCHEMA: &'static str = "bench-impact/v1";
}

/// One workspace: our decision cold and warm, and (in `bench all`) the determinator's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactRow {
    /// `synthetic` or `this workspace`.
    pub workspace: String,
    pub crates: usize,
    /// Generating and committing the workspace; `null` for this workspace.
    pub generate_ms: Option<u64>,
    pub cold_ms: u64,
    /// Median of the warm runs.
    pub warm_ms: u64,
    /// One plain `cargo metadata` on the same workspace: the floor a cold decision pays.
    pub cargo_metadata_ms: u64,
    /// Peak resident set of the cold decision (it includes `cargo metadata`), MiB; `null`
    /// without GNU time.
    pub cold_peak_mib: Option<f64>,
    pub warm_peak_mib: Option<f64>,
    pub selected: usize,
    /// Size of the brute-force reference closure (synthetic workspaces only).
    pub reference: Option<usize>,
    /// The determinator on the same change, end to end (`bench all` only, else `null`).
    pub determinator: Option<AnchorsRun>,
}

/// What the anchors selected for one change, as the bench ran them (`impact-anchors`), and
/// how long the determinator took end to end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnchorsRun {
    pub determinator: BTreeSet<String>,
    pub rdeps: BTreeSet<String>,
    /// The least any sound selection holds (see `impact-anchors/v1`).
    pub lower_bound: BTreeSet<String>,
    pub members: usize,
    /// Spawn to exit: git diff, tree exports, both `cargo metadata` runs, graphs, computation.
    pub seconds: f64,
    pub peak_mib: Option<f64>,
    /// The binary's own phase timings, seconds.
    pub phases: BTreeMap<String, f64>,
    /// Stopped at the time limit: `seconds` is then a lower bound and nothing was selected.
    pub timed_out: bool,
}

/// `impact-anchors/v1`: what the `impact-anchors` binary prints for one change, the
/// selections of guppy's determinator and nextest `rdeps()` and a lower bound no sound
/// selection goes below (its crate documentation says how each is computed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImpactAnchors {
    pub schema: String,
    /// Workspace members at the head.
    pub members: usize,
    /// Changed paths, relative to the workspace root.
    pub changed_paths: BTreeSet<String>,
    pub determinator: AnchorsDeterminator,
    pub rdeps: AnchorsRdeps,
    pub lower_bound: AnchorsLowerBound,
    /// How each end's tree was exported; `null` where it was not (cached or checked out).
    pub exports: AnchorsExports,
    /// Wall time of each phase, seconds.
    pub phases: BTreeMap<String, f64>,
}

impl Shape for ImpactAnchors {
    const SCHEMA: &'static str = "impact-anchors/v1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnchorsDeterminator {
    /// Workspace members selected.
    pub packages: BTreeSet<String>,
    /// Every member was selected.
    pub all: bool,
    /// End to end: git diff, exports, both `cargo metadata` runs, graphs, computation.
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnchorsRdeps {
    /// The members owning a changed file: what `rdeps(package(=..) | ..)` names.
    pub seeds: BTreeSet<String>,
    pub packages: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnchorsLowerBound {
    /// Members owning a changed Rust source, build script or member manifest.
    pub seeds: BTreeSet<String>,
    /// Members whose resolved dependencies changed.
    pub resolved_changed: BTreeSet<String>,
    /// Members whose own test, bench, example or binary sources changed (no dependent links
    /// those).
    pub leaf_sources_of: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    /// Why every member is in the bound (the compiler of every test changed); `null` otherwise.
    pub toolchain: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnchorsExports {
    pub base: Option<String>,
    pub head: Option<String>,
}
