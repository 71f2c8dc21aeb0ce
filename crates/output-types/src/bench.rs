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
