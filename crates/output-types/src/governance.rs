//! `governance verify --format json`.

use serde::{Deserialize, Serialize};

use crate::Shape;

/// `governance-verify/v1`: whether a release's signatures approve it, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GovernanceVerify {
    pub schema: String,
    pub approved: bool,
    /// Key ids whose signatures counted.
    pub approved_by: Vec<String>,
    /// Approvals the trust file requires; `null` when the envelope could not be read.
    pub required: Option<usize>,
    pub rejected: Vec<RejectedSignature>,
    pub error: Option<String>,
}

impl Shape for GovernanceVerify {
    const SCHEMA: &'static str = "governance-verify/v1";
}

/// `governance-verify-statement/v1`: whether a statement envelope is signed by a builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GovernanceVerifyStatement {
    pub schema: String,
    pub verified: bool,
    /// Builder key ids whose signatures verify.
    pub signed_by: Vec<String>,
    pub error: Option<String>,
}

impl Shape for GovernanceVerifyStatement {
    const SCHEMA: &'static str = "governance-verify-statement/v1";
}

/// A signature that did not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RejectedSignature {
    pub keyid: String,
    pub reason: Rejection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Rejection {
    /// The key id is not in the trust file.
    UnknownKey,
    /// The key is trusted, but the signature does not verify over this payload.
    BadSignature,
    /// The signature is valid, but the key holds no approver role.
    NotAnApprover,
    /// On a statement: the signature is valid, but the key holds no builder role.
    NotABuilder,
}
