//! The node store: a directory holding the current release, the last two stable releases kept
//! warm for rollback, and the hash-chained history.
//!
//! ```text
//! <node-dir>/
//!   lock                      held (flock) for the whole of an ingest
//!   current.json              the commit point: which release is current + committed history
//!   history.jsonl             append-only, hash-chained (see `history`)
//!   releases/<seq>-<hex16>/   one directory per kept release:
//!     manifest.json           the manifest exactly as ingested
//!     signature               the signature envelope, when one came with it
//!     verification.json       what was verified at install (key id, per-unit artifact checks)
//! ```
//!
//! An install writes the new release into a staging directory, fsyncs it, renames it into
//! `releases/`, appends its history line, and only then replaces `current.json` atomically. That
//! replacement is the single commit point: a crash before it leaves the old release current (the
//! published directory and history line are leftovers that the next ingest discards); a crash
//! after it leaves the new one. Pruning runs last and is safe to interrupt.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::IngestError;
use crate::hash::{self, ProgressFn};
use crate::history::{self, Action, HistoryEntry, StoredLine, Who};
use crate::{artifacts, manifest, verify};
use release::ReleaseManifest;
use release::time;

pub const CURRENT_SCHEMA: &str = "node-current/v1";
pub const VERIFICATION_SCHEMA: &str = "node-verification/v1";
/// Stable releases kept besides the current one, so a rollback needs no download.
pub const WARM_RELEASES: usize = 2;

const RELEASES_DIR: &str = "releases";
const STAGING_PREFIX: &str = ".staging-";

/// Checks a detached signature over the exact manifest bytes and names the key that made it.
///
/// Core only defines the seam; the governance crate implements it (ed25519 envelopes), so core
/// builds never compile signing code.
pub trait SignatureVerifier {
    /// `Ok(key_id)` when `envelope` is a valid signature of `manifest_bytes` by a trusted key;
    /// `Err(reason)` otherwise (unknown key, bad signature, payload mismatch, unparsable envelope).
    fn verify(&self, manifest_bytes: &[u8], envelope: &[u8]) -> Result<String, String>;
}

/// What this node demands of a release beyond the always-on checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodePolicy {
    /// Refuse releases that come without a signature the verifier accepts.
    pub require_signature: bool,
    /// Refuse releases whose unit artifacts are not all present in the artifacts directory.
    pub require_artifacts: bool,
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
    /// The history line is appended (not yet committed).
    HistoryAppended,
    /// `current.json` names the new release: the install is committed.
    Committed,
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
        InstallStep::HistoryAppended,
        InstallStep::Committed,
        InstallStep::Pruned,
    ];
}

/// How to run one ingest.
#[derive(Clone, Copy, Default)]
pub struct IngestOptions<'a> {
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
}

/// The result of an ingest that was not refused.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum IngestOutcome {
    /// The release is now current.
    Installed(InstallReport),
    /// The offered release is already the current one; nothing changed.
    AlreadyCurrent { release_seq: u64, digest: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
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
}

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

/// A release kept in the store.
#[derive(Debug, Clone)]
pub struct InstalledRelease {
    pub release_seq: u64,
    pub digest: String,
    pub dir: PathBuf,
    /// The manifest as stored, parsed; its digest was re-checked when it was read.
    pub manifest: ReleaseManifest,
}

impl InstalledRelease {
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    pub fn manifest_bytes(&self) -> io::Result<Vec<u8>> {
        fs::read(self.manifest_path())
    }

    pub fn verification(&self) -> io::Result<VerificationRecord> {
        let bytes = fs::read(self.dir.join("verification.json"))?;
        serde_json::from_slice(&bytes).map_err(io::Error::other)
    }

    pub fn as_ref(&self) -> ReleaseRef {
        ReleaseRef {
            release_seq: self.release_seq,
            digest: self.digest.clone(),
        }
    }
}

/// Everything a status view shows.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    pub current: Option<InstalledRelease>,
    pub warm: Vec<InstalledRelease>,
    /// Committed history, oldest first; the chain was verified while reading it.
    pub history: Vec<HistoryEntry>,
    /// History lines written by an ingest that did not reach its commit point.
    pub uncommitted_lines: usize,
}

/// `current.json`: the single commit point of an install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CurrentPointer {
    schema: String,
    release_seq: u64,
    digest: String,
    /// Relative to the node directory.
    dir: String,
    history_len: u64,
    history_head: String,
}

/// The store as read under (or without) the lock.
struct Loaded {
    lines: Vec<StoredLine>,
    entries: Vec<HistoryEntry>,
    current: Option<InstalledRelease>,
    warm: Vec<InstalledRelease>,
}

/// A node directory.
#[derive(Debug, Clone)]
pub struct NodeStore {
    dir: PathBuf,
}

impl NodeStore {
    /// The store at `dir`; nothing is created until the first ingest.
    pub fn new(dir: impl Into<PathBuf>) -> NodeStore {
        NodeStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("lock")
    }

    pub fn history_path(&self) -> PathBuf {
        self.dir.join("history.jsonl")
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join("current.json")
    }

    fn releases_dir(&self) -> PathBuf {
        self.dir.join(RELEASES_DIR)
    }

    /// The current release, its manifest re-hashed against the committed digest.
    ///
    /// `Ok(None)` means nothing is installed. A manifest that no longer matches is an error:
    /// a node must not serve a release it cannot vouch for.
    pub fn current(&self) -> Result<Option<InstalledRelease>, IngestError> {
        let Some(pointer) = self.read_pointer()? else {
            return Ok(None);
        };
        self.open_release(&pointer.dir, pointer.release_seq, &pointer.digest)
            .map(Some)
    }

    /// Current, warm and committed history, with the history chain verified.
    pub fn status(&self) -> Result<NodeStatus, IngestError> {
        let loaded = self.load()?;
        Ok(NodeStatus {
            uncommitted_lines: loaded.lines.len() - loaded.entries.len(),
            current: loaded.current,
            warm: loaded.warm,
            history: loaded.entries,
        })
    }

    /// Verifies the offered release and, when every check passes, installs it atomically.
    ///
    /// Holds the store lock throughout; a concurrent ingest gets [`IngestError::Locked`].
    /// Any refusal leaves the store exactly as it was.
    pub fn ingest(
        &self,
        request: IngestRequest<'_>,
        options: &IngestOptions<'_>,
    ) -> Result<IngestOutcome, IngestError> {
        let observe = |step| {
            if let Some(observer) = options.observer {
                observer(step);
            }
        };
        fs::create_dir_all(&self.dir).map_err(|e| IngestError::io(&self.dir, e))?;
        let _lock = self.lock()?;
        observe(InstallStep::Locked);
        let loaded = self.load()?;
        let now = match options.now_unix {
            Some(now) => now,
            None => time::now_epoch().map_err(|message| IngestError::BadClock { message })?,
        };
        let checked = match verify::check(request, options, &loaded.current, &loaded.warm, now)? {
            verify::Checked::AlreadyCurrent(manifest) => {
                return Ok(IngestOutcome::AlreadyCurrent {
                    release_seq: manifest.release_seq,
                    digest: manifest.digest,
                });
            }
            verify::Checked::Fresh(checked) => checked,
        };
        observe(InstallStep::Verified);
        let offered = &checked.manifest;
        let action = if offered.rollback_of.is_some() {
            Action::Rollback
        } else {
            Action::Install
        };
        let record = VerificationRecord {
            schema: VERIFICATION_SCHEMA.into(),
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            verified_at: time::format_rfc3339(now),
            signed_by: checked.signed_by.clone(),
            units: checked.units.clone(),
        };

        // Stage and publish the release directory.
        let releases = self.releases_dir();
        fs::create_dir_all(&releases).map_err(|e| IngestError::io(&releases, e))?;
        let name = release_dir_name(offered.release_seq, &offered.digest);
        let staging = releases.join(format!("{STAGING_PREFIX}{name}.{}", std::process::id()));
        remove_dir_if_present(&staging)?;
        fs::create_dir(&staging).map_err(|e| IngestError::io(&staging, e))?;
        write_synced(&staging.join("manifest.json"), request.manifest)?;
        observe(InstallStep::StagedManifest);
        if let Some(signature) = request.signature {
            write_synced(&staging.join("signature"), signature)?;
        }
        let record_json = serde_json::to_vec_pretty(&record).expect("records serialize");
        write_synced(&staging.join("verification.json"), &record_json)?;
        support::atomic::sync_dir(&staging).map_err(|e| IngestError::io(&staging, e))?;
        observe(InstallStep::Staged);
        let published = releases.join(&name);
        // A directory under this name can only be the leftover of an ingest of this same
        // release that crashed before committing (its seq is above the current one).
        remove_dir_if_present(&published)?;
        fs::rename(&staging, &published).map_err(|e| IngestError::io(&published, e))?;
        support::atomic::sync_dir(&releases).map_err(|e| IngestError::io(&releases, e))?;
        observe(InstallStep::Published);

        // Append the history line, after dropping any uncommitted tail of a crashed ingest.
        let history_path = self.history_path();
        let committed = loaded.entries.len();
        let on_disk = fs::metadata(&history_path).map_or(0, |m| m.len());
        if on_disk != history::committed_len(&loaded.lines, committed) {
            history::truncate(&history_path, &loaded.lines, committed)
                .map_err(|e| IngestError::io(&history_path, e))?;
        }
        let entry = HistoryEntry {
            schema: history::HISTORY_SCHEMA.into(),
            index: committed as u64,
            prev: loaded.lines[..committed].last().map(|l| l.hash.clone()),
            action,
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            rollback_of: offered.rollback_of.clone(),
            signed_by: checked.signed_by.clone(),
            who: Who::from_env(),
            when: time::format_rfc3339(now),
        };
        let line = history::encode(&entry);
        history::append(&history_path, &line).map_err(|e| IngestError::io(&history_path, e))?;
        if committed == 0 {
            support::atomic::sync_dir(&self.dir).map_err(|e| IngestError::io(&self.dir, e))?;
        }
        observe(InstallStep::HistoryAppended);

        // Commit.
        let pointer = CurrentPointer {
            schema: CURRENT_SCHEMA.into(),
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            dir: format!("{RELEASES_DIR}/{name}"),
            history_len: committed as u64 + 1,
            history_head: line.hash.clone(),
        };
        let pointer_json = serde_json::to_vec_pretty(&pointer).expect("pointers serialize");
        support::atomic::write_atomic(&self.current_path(), &pointer_json)
            .map_err(|e| IngestError::io(self.current_path(), e))?;
        observe(InstallStep::Committed);

        let mut entries = loaded.entries;
        entries.push(entry);
        let warm = warm_refs(&entries, &offered.digest);
        self.prune(&name, &warm)?;
        observe(InstallStep::Pruned);

        Ok(IngestOutcome::Installed(InstallReport {
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            action,
            rollback_of: offered.rollback_of.clone(),
            replaced: loaded.current.as_ref().map(InstalledRelease::as_ref),
            signed_by: checked.signed_by,
            units: checked.units,
            warm,
            history_index: committed as u64,
        }))
    }

    fn lock(&self) -> Result<File, IngestError> {
        let path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| IngestError::io(&path, e))?;
        // flock: the kernel drops it when the holder dies, so a killed ingest never leaves
        // the node locked.
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(IngestError::Locked { lock: path }),
            Err(fs::TryLockError::Error(e)) => Err(IngestError::io(&path, e)),
        }
    }

    fn read_pointer(&self) -> Result<Option<CurrentPointer>, IngestError> {
        let path = self.current_path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(IngestError::io(&path, err)),
        };
        let pointer: CurrentPointer =
            serde_json::from_slice(&bytes).map_err(|err| IngestError::StoreCorrupt {
                message: format!("{}: {err}", path.display()),
            })?;
        if pointer.schema != CURRENT_SCHEMA {
            return Err(IngestError::StoreCorrupt {
                message: format!(
                    "{}: schema is `{}`, expected `{CURRENT_SCHEMA}`",
                    path.display(),
                    pointer.schema
                ),
            });
        }
        Ok(Some(pointer))
    }

    fn open_release(
        &self,
        relative_dir: &str,
        release_seq: u64,
        digest: &str,
    ) -> Result<InstalledRelease, IngestError> {
        let dir = self.dir.join(relative_dir);
        let manifest_path = dir.join("manifest.json");
        let bytes = fs::read(&manifest_path).map_err(|e| IngestError::io(&manifest_path, e))?;
        let corrupt = |message: String| IngestError::StoreCorrupt {
            message: format!("{}: {message}", manifest_path.display()),
        };
        let parsed = manifest::parse(&manifest_path, &bytes).map_err(|e| corrupt(e.to_string()))?;
        let computed = parsed.compute_digest();
        if computed != digest || parsed.digest != digest || parsed.release_seq != release_seq {
            return Err(corrupt(format!(
                "the stored manifest (release_seq {}, hashing to {computed}) is not the \
                 installed release_seq {release_seq} {digest}",
                parsed.release_seq
            )));
        }
        Ok(InstalledRelease {
            release_seq,
            digest: digest.to_owned(),
            dir,
            manifest: parsed,
        })
    }

    fn load(&self) -> Result<Loaded, IngestError> {
        let pointer = self.read_pointer()?;
        let history_path = self.history_path();
        let lines =
            history::read_lines(&history_path).map_err(|e| IngestError::io(&history_path, e))?;
        let (committed, head) = match &pointer {
            Some(p) => (p.history_len as usize, Some(p.history_head.as_str())),
            None => (0, None),
        };
        let entries = history::verify_chain(&lines, committed, head)
            .map_err(|message| IngestError::StoreCorrupt { message })?;
        let current = match &pointer {
            Some(p) => Some(self.open_release(&p.dir, p.release_seq, &p.digest)?),
            None => None,
        };
        if let (Some(current), Some(last)) = (&current, entries.last())
            && last.digest != current.digest
        {
            return Err(IngestError::StoreCorrupt {
                message: format!(
                    "the last history entry installs {} but current.json names {}",
                    last.digest, current.digest
                ),
            });
        }
        let mut warm = Vec::new();
        if let Some(current) = &current {
            for release in warm_refs(&entries, &current.digest) {
                let name = release_dir_name(release.release_seq, &release.digest);
                let relative = format!("{RELEASES_DIR}/{name}");
                // A warm release whose directory is gone is simply not warm any more.
                if self.dir.join(&relative).join("manifest.json").exists() {
                    warm.push(self.open_release(
                        &relative,
                        release.release_seq,
                        &release.digest,
                    )?);
                }
            }
        }
        Ok(Loaded {
            lines,
            entries,
            current,
            warm,
        })
    }

    /// Removes every release directory that is neither current nor warm, and staging leftovers.
    fn prune(&self, current_name: &str, warm: &[ReleaseRef]) -> Result<(), IngestError> {
        let releases = self.releases_dir();
        let mut keep: BTreeSet<String> = warm
            .iter()
            .map(|r| release_dir_name(r.release_seq, &r.digest))
            .collect();
        keep.insert(current_name.to_owned());
        let listing = fs::read_dir(&releases).map_err(|e| IngestError::io(&releases, e))?;
        for entry in listing {
            let entry = entry.map_err(|e| IngestError::io(&releases, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                remove_dir_if_present(&entry.path())?;
            }
        }
        support::atomic::sync_dir(&releases).map_err(|e| IngestError::io(&releases, e))
    }
}

/// The warm set: the latest [`WARM_RELEASES`] installed releases other than `current` that no
/// later rollback named as rolled back, newest first.
pub fn warm_refs(entries: &[HistoryEntry], current: &str) -> Vec<ReleaseRef> {
    let rolled_back: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.rollback_of.as_deref())
        .collect();
    let mut seen = BTreeSet::new();
    let mut warm = Vec::new();
    for entry in entries.iter().rev() {
        if entry.digest == current
            || rolled_back.contains(entry.digest.as_str())
            || !seen.insert(entry.digest.as_str())
        {
            continue;
        }
        warm.push(ReleaseRef {
            release_seq: entry.release_seq,
            digest: entry.digest.clone(),
        });
        if warm.len() == WARM_RELEASES {
            break;
        }
    }
    warm
}

/// `0000000042-<first 16 hex of the digest>`: sorts by seq, unique per release.
fn release_dir_name(release_seq: u64, digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("{release_seq:010}-{}", &hex[..hex.len().min(16)])
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    (|| {
        let mut file = File::create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    })()
    .map_err(|e| IngestError::io(path, e))
}

fn remove_dir_if_present(path: &Path) -> Result<(), IngestError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(IngestError::io(path, err)),
    }
}

/// Maps a unit's URI to its local artifact, for [`verify`].
pub(crate) fn artifact_path(
    artifacts_dir: &Path,
    provider: &str,
    uri: &str,
) -> Result<PathBuf, IngestError> {
    artifacts::local_path(artifacts_dir, uri).map_err(|reason| IngestError::BadArtifactUri {
        provider: provider.to_owned(),
        reason,
    })
}

pub(crate) fn hash_paths(
    paths: &[PathBuf],
    options: &IngestOptions<'_>,
) -> Vec<io::Result<hash::FileDigest>> {
    hash::hash_files(paths, options.jobs, options.progress)
}
