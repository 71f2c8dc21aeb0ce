//! Dependency groups: `cargo xtask deps audit` and `deps report` with `--format json`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `deps-audit/v1`: every member's group and every broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DepsAudit {
    pub schema: String,
    pub workspace_root: String,
    pub groups_file: String,
    /// The builds audited (`no-default`, `default`, `all-features`).
    pub settings: Vec<String>,
    /// Every workspace member and its group (`null`: in no group).
    pub members: BTreeMap<String, Option<String>>,
    pub passed: bool,
    pub violations: Vec<Violation>,
}

impl Shape for DepsAudit {
    const SCHEMA: &'static str = "deps-audit/v1";
}

/// One broken rule, with the shortest witness and the place to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Violation {
    pub kind: ViolationKind,
    pub member: Option<String>,
    pub group: Option<String>,
    /// The crate reached that should not be.
    pub target: Option<String>,
    pub target_group: Option<String>,
    /// The builds in which it happens, weakest first.
    pub settings: Vec<String>,
    /// The witness path in one line.
    pub witness: Option<String>,
    /// The witness path, edge by edge.
    pub path: Option<Vec<Hop>>,
    pub location: Location,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// A member reaches a member of a group its group may not depend on.
    ForbiddenGroup,
    /// A member reaches an external crate reserved for a group its group may not depend on.
    ReservedCrate,
    /// An excepted dependency is reached in a default or no-default build.
    DefaultBuild,
    /// A workspace member no group lists.
    UnassignedMember,
    /// A group lists a crate that is not a workspace member.
    UnknownMember,
    /// A member listed more than once.
    DuplicateMember,
    /// An exception that matches nothing the audit found.
    StaleException,
}

/// One dependency edge of a witness path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Hop {
    pub from_name: String,
    pub to_name: String,
    /// The dependency key in `from_name`'s Cargo.toml.
    pub dep_key: String,
    /// `normal`, `build` or `dev`.
    pub kind: String,
    /// Features of `from_name`, in activation order, that switched the edge on.
    pub features: Vec<String>,
    /// The feature-table entry that named the dependency (`dep:x`, `x/f`, ...).
    pub entry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// `deps-report/v1`: what each group is made of and what it pulls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DepsReport {
    pub schema: String,
    pub groups: Vec<GroupReport>,
}

impl Shape for DepsReport {
    const SCHEMA: &'static str = "deps-report/v1";
}

/// One group's figures. External crates are counted by name; dev-dependencies are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GroupReport {
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<String>,
    /// External crates the members declare directly (normal and build dependencies).
    pub direct_external: BTreeSet<String>,
    /// External crates built for the members with default features.
    pub closure_default: BTreeSet<String>,
    /// External crates built for the members with all features.
    pub closure_all_features: BTreeSet<String>,
    /// Crates the group builds with all features that a default core build does not.
    pub adds_over_core: BTreeSet<String>,
}
