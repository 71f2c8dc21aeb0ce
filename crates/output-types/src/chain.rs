//! The release chain: `cargo xtask federate --verify-chain --format json`,
//! `cargo xtask rollback --format json` and `cargo xtask audit-release --format json`.

use serde::{Deserialize, Serialize};

use crate::{ReleaseRef, Shape};

/// `release-chain/v1`: every release in a directory, in order, and what does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseChain {
    pub schema: String,
    pub ok: bool,
    pub releases: Vec<ChainRelease>,
    /// Located problems, `file:line:col: message`.
    pub problems: Vec<String>,
}

impl Shape for ReleaseChain {
    const SCHEMA: &'static str = "release-chain/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChainRelease {
    pub path: String,
    pub release_seq: u64,
    pub digest: String,
    /// For a rollback release: the digest of the release whose units it restores.
    pub rollback_of: Option<String>,
}

/// `rollback/v1`: the rollback release written (or, with `--dry-run`, that would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rollback {
    pub schema: String,
    pub path: String,
    pub written: bool,
    pub release_seq: u64,
    pub digest: String,
    /// The release that was the head of the chain.
    pub rolls_back: ReleaseRef,
    /// The release whose units the rollback carries.
    pub restores: ReleaseRef,
    pub expires: String,
}

impl Shape for Rollback {
    const SCHEMA: &'static str = "rollback/v1";
}

/// `release-audit/v1`: every link of one release's chain, from its source commit to the node
/// that installed it, and whether the chain holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseAudit {
    pub schema: String,
    pub release: AuditedRelease,
    /// Every link holds.
    pub ok: bool,
    pub links: Vec<AuditLink>,
}

impl Shape for ReleaseAudit {
    const SCHEMA: &'static str = "release-audit/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditedRelease {
    /// The release file as given.
    pub path: String,
    pub release_seq: u64,
    pub digest: String,
    pub fused_model_id: String,
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditLink {
    pub link: String,
    pub ok: bool,
    /// For a broken link, a stable kind (`provenance-missing`, `tests-failed`, ...); `null`
    /// for a link that holds.
    pub kind: Option<String>,
    pub detail: String,
}
