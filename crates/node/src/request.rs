//! What an ingest is asked to do: the release on offer, the options it runs with, and the
//! signature check the caller injects.

use std::path::Path;

use crate::hash::ProgressFn;
use crate::policy::NodePolicy;

/// Checks a detached signature over the exact manifest bytes and names the key that made it.
///
/// Core only defines the seam; the governance crate implements it (ed25519 envelopes), so core
/// builds never compile signing code.
pub trait SignatureVerifier {
    /// `Ok(key_id)` when `envelope` is a valid signature of `manifest_bytes` by a trusted key;
    /// `Err(reason)` otherwise (unknown key, bad signature, payload mismatch, unparsable envelope).
    fn verify(&self, manifest_bytes: &[u8], envelope: &[u8]) -> Result<String, String>;
}

/// The release on offer.
#[derive(Debug, Clone, Copy)]
pub struct IngestRequest<'a> {
    /// The manifest file's exact bytes (what a signature covers).
    pub manifest: &'a [u8],
    /// Where the manifest came from, for diagnostics (`file:line:col`).
    pub manifest_path: Option<&'a Path>,
    /// A detached signature envelope over `manifest`, when one came with it.
    pub signature: Option<&'a [u8]>,
    /// Where unit artifacts are mirrored locally (see [`crate::artifacts`]).
    pub artifacts_dir: Option<&'a Path>,
}

/// A point in an install, reported to [`IngestOptions::observer`] as it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstallStep {
    /// The store lock is held.
    Locked,
    /// Every check passed; nothing is written yet.
    Verified,
    /// The staging directory holds the manifest.
    StagedManifest,
    /// The staging directory is complete and flushed.
    Staged,
    /// The staging directory was renamed into `releases/`.
    Published,
    /// `current.json` names the new release: the install is committed.
    Committed,
    /// The history line `current.json` holds is appended to `history.jsonl`.
    HistoryAppended,
    /// Releases that are neither current nor warm were removed.
    Pruned,
}

impl InstallStep {
    pub const ALL: [InstallStep; 8] = [
        InstallStep::Locked,
        InstallStep::Verified,
        InstallStep::StagedManifest,
        InstallStep::Staged,
        InstallStep::Published,
        InstallStep::Committed,
        InstallStep::HistoryAppended,
        InstallStep::Pruned,
    ];
}

/// How to run one ingest.
#[derive(Clone, Copy, Default)]
pub struct IngestOptions<'a> {
    /// Demands for this ingest on top of the node's policy file (they never loosen it). The
    /// first install writes the file from them.
    pub policy: NodePolicy,
    pub verifier: Option<&'a dyn SignatureVerifier>,
    /// Hashing threads; 0 means one per core.
    pub jobs: usize,
    /// Progress of large artifacts, from hashing threads.
    pub progress: Option<ProgressFn<'a>>,
    /// Called at each [`InstallStep`] (crash tests stop the process here).
    pub observer: Option<&'a dyn Fn(InstallStep)>,
    /// Overrides "now" for the expiry check (default: `SOURCE_DATE_EPOCH` or the clock).
    pub now_unix: Option<i64>,
    /// Accept an ordinary release that brings back an artifact a newer kept release replaced
    /// (federation re-selected it on purpose). Off by default: such a unit is refused as
    /// mix-and-match unless the release is a rollback.
    pub allow_replaced_units: bool,
}
