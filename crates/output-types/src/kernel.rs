//! `cargo xtask kernel --format json`.

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `kernel-report/v2`: the kernel manifest, its files and digest.
///
/// v1 had `version` for `kernel.toml`'s version; it is `kernel_version` now, so that no key
/// but `schema` speaks of the shape itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KernelReport {
    pub schema: String,
    /// The `kernel.toml` read.
    pub manifest: String,
    /// `version` in `kernel.toml`.
    pub kernel_version: i64,
    pub file_count: usize,
    /// The kernel digest; `null` while files are missing.
    pub digest: Option<String>,
    /// Every listed file is present.
    pub ok: bool,
    pub missing: Vec<String>,
    pub files: Vec<KernelFile>,
}

impl Shape for KernelReport {
    const SCHEMA: &'static str = "kernel-report/v2";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KernelFile {
    pub path: String,
    pub digest: String,
    pub size: u64,
}
