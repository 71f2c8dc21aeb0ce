//! A node's installs: `cargo xtask ingest --format json` and `ingest --status --format json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ReleaseRef, Shape};

/// `node-ingest/v1`: what one ingest did, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NodeIngest {
    pub schema: String,
    #[serde(flatten)]
    pub outcome: IngestOutcome,
}

impl Shape for NodeIngest {
    const SCHEMA: &'static str = "node-ingest/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum IngestOutcome {
    /// The release is now current.
    Installed(Installed),
    /// The offered release is already the current one; nothing changed.
    AlreadyCurrent { release_seq: u64, digest: String },
    /// Nothing changed; `error` says why.
    Refused { error: Refusal },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Installed {
    pub release_seq: u64,
    pub digest: String,
    pub action: Action,
    pub rollback_of: Option<String>,
    /// The release that was current before, if any.
    pub replaced: Option<ReleaseRef>,
    pub signed_by: Option<String>,
    pub units: Vec<UnitCheck>,
    pub warm: Vec<ReleaseRef>,
    pub history_index: u64,
    /// The policy file this install wrote, when the node had none.
    pub policy_created: Option<NodePolicy>,
    /// The statements verified with the release (`--statement`).
    pub statements: Vec<VerifiedStatement>,
    /// What went wrong after the commit point (the install stands).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Refusal {
    /// A stable name for the kind of refusal (README.md, "Node").
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Install,
    Rollback,
}

/// What ingest established about one unit's artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnitCheck {
    pub provider: String,
    pub uri: Option<String>,
    /// The local file the URI maps to.
    pub path: Option<String>,
    pub status: UnitStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum UnitStatus {
    /// Size and digest match the local file.
    Verified,
    /// The manifest has a size but no digest; the size matches.
    SizeOnly,
    /// The manifest has neither digest nor size for this unit.
    NothingDeclared,
    /// No local file at the mapped path.
    Absent,
    /// No artifacts directory was given.
    NotChecked,
    /// The unit has no URI.
    NoUri,
}

/// What a node demands of a release beyond the always-on checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NodePolicy {
    pub require_signature: bool,
    pub require_artifacts: bool,
    /// A provenance statement about the release, signed by a builder key.
    pub require_provenance: bool,
    /// A PASSED test-result statement for its source commit and kernel digest.
    pub require_tests: bool,
}

/// A statement ingest verified with the release (as the node's history records it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifiedStatement {
    /// `https://slsa.dev/provenance/v1` or `https://in-toto.io/attestation/test-result/v0.1`.
    pub predicate_type: String,
    /// `sha256:` of the envelope's bytes.
    pub envelope: String,
    /// Builder key ids whose signatures verified.
    pub signed_by: Vec<String>,
    /// For a test result: how many tests passed.
    pub tests_passed: Option<usize>,
}

/// `node-status/v2`: the installed release, the warm ones, the policy and the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NodeStatus {
    pub schema: String,
    pub node_dir: String,
    pub current: Option<InstalledRelease>,
    pub warm: Vec<InstalledRelease>,
    pub policy: Option<NodePolicy>,
    /// Committed history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The history's hash chain was verified while reading it (always true: a broken chain
    /// is an error, not a status).
    pub history_verified: bool,
    /// The last committed entry is not yet appended to `history.jsonl`.
    pub history_append_pending: bool,
}

impl Shape for NodeStatus {
    const SCHEMA: &'static str = "node-status/v2";
}

/// A release kept in the store, every file of it checked against its history line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InstalledRelease {
    pub release_seq: u64,
    pub digest: String,
    pub fused_model_id: String,
    pub generated_at: String,
    pub expires: String,
    pub previous_release: Option<String>,
    pub rollback_of: Option<String>,
    pub dir: String,
    pub verified_at: String,
    pub signed_by: Option<String>,
    pub units: Vec<UnitCheck>,
}

/// One line of the node's `history.jsonl` (`node-history/v2`), as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HistoryEntry {
    /// `node-history/v2`: the line's own format.
    pub schema: String,
    pub index: u64,
    /// `sha256:` of the previous line, `null` for the first entry.
    pub prev: Option<String>,
    pub action: Action,
    pub release_seq: u64,
    pub digest: String,
    pub rollback_of: Option<String>,
    pub signed_by: Option<String>,
    pub who: Who,
    /// RFC 3339, UTC.
    pub when: String,
    /// The artifact of every unit, by provider.
    pub units: BTreeMap<String, UnitRef>,
    /// `sha256:` of the release directory's `verification.json`.
    pub record: String,
    /// `sha256:` of the release directory's `signature`, when one came with the release.
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Who {
    pub user: String,
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnitRef {
    pub id: String,
    pub uri: Option<String>,
    pub digest: Option<String>,
    pub size: Option<u64>,
}
