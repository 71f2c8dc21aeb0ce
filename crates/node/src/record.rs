//! What the store keeps about each release it holds: the verification record written at
//! install, and the release as read back (every file checked against its history line).

use std::fs;
use std::io;
use std::path::PathBuf;

use release::ReleaseManifest;
use serde::{Deserialize, Serialize};

/// The manifest's file name in a release directory.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRef {
    pub release_seq: u64,
    pub digest: String,
}

/// What ingest established about one unit's artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCheck {
    pub provider: String,
    pub uri: Option<String>,
    pub path: Option<PathBuf>,
    pub status: UnitStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitStatus {
    /// Size and digest match the local file.
    Verified,
    /// The manifest has a size but no digest; the size matches.
    SizeOnly,
    /// The manifest has neither digest nor size for this unit: nothing to compare.
    NothingDeclared,
    /// No local file at the mapped path.
    Absent,
    /// No artifacts directory was given.
    NotChecked,
    /// The unit has no URI.
    NoUri,
}

/// The verification record kept next to each installed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    pub schema: String,
    pub release_seq: u64,
    pub digest: String,
    pub verified_at: String,
    pub signed_by: Option<String>,
    pub units: Vec<UnitCheck>,
}

/// A release kept in the store, every file of it checked against its history line.
#[derive(Debug, Clone)]
pub struct InstalledRelease {
    pub release_seq: u64,
    pub digest: String,
    pub dir: PathBuf,
    /// The manifest as stored, parsed; its digest was re-checked when it was read.
    pub manifest: ReleaseManifest,
    /// `verification.json`, whose bytes hash to what the history line committed.
    pub record: VerificationRecord,
}

impl InstalledRelease {
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }

    pub fn manifest_bytes(&self) -> io::Result<Vec<u8>> {
        fs::read(self.manifest_path())
    }

    pub fn release_ref(&self) -> ReleaseRef {
        ReleaseRef {
            release_seq: self.release_seq,
            digest: self.digest.clone(),
        }
    }
}
