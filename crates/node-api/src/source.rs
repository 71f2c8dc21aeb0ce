//! Where the API reads the installed release from.

use serde_json::Value;

/// The verified release a node has installed, as the API reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledRelease {
    /// `sha256:<hex>` over the manifest's canonical JSON.
    pub digest: String,
    pub release_seq: u64,
    /// Set on a rollback release: the digest of the earlier release whose units it restores.
    pub rollback_of: Option<String>,
    /// When the node verified and installed it (RFC 3339 UTC).
    pub verified_at: String,
    /// The approving key ids when the release was signed.
    pub signed_by: Option<String>,
    /// The manifest as installed.
    pub manifest: Value,
}

/// The installed release, or why there is none to serve (the readiness reason).
pub trait ReleaseSource {
    fn current(&self) -> Result<InstalledRelease, String>;
}

/// The installed release of a node directory, read through the node library on every call,
/// so an ingest or rollback by another process is seen on the next request.
#[derive(Debug, Clone)]
pub struct NodeDirSource {
    store: node::NodeStore,
}

impl NodeDirSource {
    pub fn new(node_dir: std::path::PathBuf) -> NodeDirSource {
        NodeDirSource {
            store: node::NodeStore::new(node_dir),
        }
    }
}

impl ReleaseSource for NodeDirSource {
    fn current(&self) -> Result<InstalledRelease, String> {
        // `NodeStore::current` checks the store against its committed history: the manifest
        // re-hashed against the committed digest, `verification.json` against the committed
        // record. A store changed behind the node's back is reported, never served.
        let installed = self
            .store
            .current()
            .map_err(|err| format!("installed release cannot be verified: {err}"))?
            .ok_or_else(|| "no release installed".to_owned())?;
        let unreadable = |err: String| format!("installed release cannot be read: {err}");
        let bytes = installed
            .manifest_bytes()
            .map_err(|err| unreadable(err.to_string()))?;
        let manifest = serde_json::from_slice(&bytes).map_err(|err| unreadable(err.to_string()))?;
        let verification = installed.record;
        Ok(InstalledRelease {
            digest: installed.digest,
            release_seq: installed.release_seq,
            rollback_of: installed.manifest.rollback_of.clone(),
            verified_at: verification.verified_at,
            signed_by: verification.signed_by,
            manifest,
        })
    }
}
