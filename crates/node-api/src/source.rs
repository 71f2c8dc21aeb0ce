//! Where the API reads the installed release from.

use serde_json::Value;

/// The verified release a node has installed, as the API reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledRelease {
    /// `sha256:<hex>` over the manifest's canonical JSON.
    pub digest: String,
    pub release_seq: u64,
    /// Set when this release rolls back to an earlier one: the digest it replaces.
    pub rollback_of: Option<String>,
    /// The manifest as installed.
    pub manifest: Value,
}

/// The installed release, or why there is none to serve (the readiness reason).
pub trait ReleaseSource {
    fn current(&self) -> Result<InstalledRelease, String>;
}
