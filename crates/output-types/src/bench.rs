//! The bench's JSON (`cargo xtask bench ... --format json`).

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
