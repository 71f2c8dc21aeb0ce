//! Every JSON shape the project's commands print or write as a report, as serde types.
//!
//! One convention holds for all of them (README.md, "Machine-readable output"):
//!
//! - a top-level `"schema": "NAME/vN"`, the shape's name and version ([`Shape::SCHEMA`]); `N`
//!   goes up on any change a reader could trip over;
//! - snake_case keys everywhere;
//! - a JSON Schema per shape in the repository's `schemas/NAME.vN.json`, generated from these
//!   types (feature `schema`) and kept current by this crate's tidy test.
//!
//! Producers (libraries and front ends) build these values; nothing prints JSON built by hand.
//! Document formats with their own schema (release manifests, recordings, node state files)
//! are not here: they are data, not reports.

pub mod bench;
pub mod chain;
pub mod deps;
pub mod federation;
pub mod governance;
pub mod impact;
pub mod kernel;
pub mod lanes;
pub mod node;
pub mod node_api;

#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "validate")]
pub mod validate;

/// A top-level shape: the value of its `schema` key.
pub trait Shape: serde::Serialize {
    /// `NAME/vN`.
    const SCHEMA: &'static str;

    /// [`Self::SCHEMA`] as the owned value of the `schema` field.
    fn schema() -> String {
        Self::SCHEMA.to_owned()
    }
}

/// A located problem: `file:line:col` (or the file alone) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Diagnostic {
    pub location: String,
    pub message: String,
}

/// A release by its place in the chain and its digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReleaseRef {
    pub release_seq: u64,
    pub digest: String,
}
