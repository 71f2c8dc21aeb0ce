//! The node HTTP API's response bodies (`node-api`; README.md, "The node API"). Every body is
//! one of these four shapes; the status code says which.

use serde::{Deserialize, Serialize};

use crate::{ReleaseRef, Shape};

/// `node-api-health/v1`: `GET /healthz`, 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Health {
    pub schema: String,
    pub status: Liveness,
}

impl Shape for Health {
    const SCHEMA: &'static str = "node-api-health/v1";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Liveness {
    Alive,
}

/// `node-api-ready/v1`: `GET /readyz`, 200 with the installed release or 503 with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ready {
    pub schema: String,
    pub ready: bool,
    /// The installed release; `null` when not ready.
    pub release: Option<ReleaseRef>,
    /// Why the node is not ready; `null` when it is.
    pub reason: Option<String>,
}

impl Shape for Ready {
    const SCHEMA: &'static str = "node-api-ready/v1";
}

/// `node-api-release/v1`: `GET /v1/release`, 200: the installed release and its manifest.
/// `Manifest` is the manifest as installed (`release-manifest/v1`, a format of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Release<Manifest> {
    pub schema: String,
    pub digest: String,
    pub release_seq: u64,
    pub rollback_of: Option<String>,
    pub verified_at: String,
    /// Key ids that signed it, comma-separated; `null` for an unsigned release.
    pub signed_by: Option<String>,
    pub manifest: Manifest,
}

impl<Manifest: Serialize> Shape for Release<Manifest> {
    const SCHEMA: &'static str = "node-api-release/v1";
}

/// `node-api-error/v1`: every other status; `error` names the kind and decides the other keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Error {
    pub schema: String,
    #[serde(flatten)]
    pub error: ErrorKind,
}

impl Shape for Error {
    const SCHEMA: &'static str = "node-api-error/v1";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum ErrorKind {
    /// 503 on `/v1/release`: nothing (valid) is installed.
    NotReady { reason: String },
    /// 404.
    NotFound { path: String },
    /// 405, with an `Allow` header.
    MethodNotAllowed { method: String, allow: Vec<String> },
    /// 400: the request line or a header is not HTTP (or not ASCII).
    BadRequest { reason: String },
    /// 408: the request head did not arrive in time.
    RequestTimeout { limit_ms: u64 },
    /// 431: the request head is over the limit.
    HeadersTooLarge { limit_bytes: usize },
    /// 503: every connection slot is taken.
    Busy { max_connections: usize },
}
