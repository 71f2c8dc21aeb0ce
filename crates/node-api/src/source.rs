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

/// The installed release of a node directory.
#[derive(Debug, Clone)]
pub struct NodeDirSource {
    node_dir: std::path::PathBuf,
}

impl NodeDirSource {
    pub fn new(node_dir: std::path::PathBuf) -> NodeDirSource {
        NodeDirSource { node_dir }
    }
}

impl ReleaseSource for NodeDirSource {
    fn current(&self) -> Result<InstalledRelease, String> {
        // Reading the store waits for the node library's public store API.
        Err(format!(
            "node store at {} cannot be read by this build yet",
            self.node_dir.display()
        ))
    }
}
