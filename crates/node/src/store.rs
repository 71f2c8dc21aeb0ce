//! The node store: a directory holding the current release, the last two stable releases kept
//! warm for rollback, and the hash-chained history.
//!
//! ```text
//! <node-dir>/
//!   lock                      held (flock) for the whole of an ingest
//!   policy.json               what this node demands of every release (see `policy`)
//!   current.json              the commit point: the current release and a copy of the last
//!                             history line (length and hash of the committed history)
//!   history.jsonl             append-only, hash-chained: the authority (see `history`)
//!   releases/<seq>-<hex16>/   one directory per kept release:
//!     manifest.json           the manifest exactly as ingested
//!     signature               the signature envelope, when one came with it
//!     verification.json       what was verified at install (key id, per-unit artifact checks)
//! ```
//!
//! An install writes the new release into a staging directory, fsyncs it and renames it into
//! `releases/`, then replaces `current.json` atomically, then appends the history line that
//! `current.json` already holds. The replacement of `current.json` is the single commit point:
//! a crash before it leaves the old release current (the published directory is a leftover the
//! next ingest discards); a crash after it leaves the new one, with at most the history line
//! still to append (the next ingest appends it). Pruning runs last and is safe to interrupt.
//!
//! The committed history is the authority. `current.json` must name its last line; when it is
//! missing, older than the history, or disagrees with it, the store is corrupt and nothing is
//! truncated, pruned or installed on the strength of it. Every file served from a release
//! directory is checked against the digests its history line committed.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::IngestError;
use crate::history::{self, Action, HistoryEntry, StoredLine, UnitRef, Who};
use crate::policy::{self, NodePolicy};
use crate::record::{InstalledRelease, MANIFEST_FILE, ReleaseRef, UnitCheck, VerificationRecord};
use crate::request::{IngestOptions, IngestRequest, InstallStep};
use crate::{manifest, verify};
use release::canonical::sha256_digest;
use release::time;

pub const CURRENT_SCHEMA: &str = "node-current/v2";
pub const VERIFICATION_SCHEMA: &str = "node-verification/v1";
/// Stable releases kept besides the current one, so a rollback needs no download.
pub const WARM_RELEASES: usize = 2;

/// Times a reader without the lock reads an inconsistent-looking store again (an ingest may be
/// committing or pruning meanwhile) before reporting it corrupt.
const RACE_RETRIES: usize = 3;

/// How long a second ingest waits for a busy lock before it is refused.
pub const LOCK_PATIENCE: Duration = Duration::from_millis(250);

const RELEASES_DIR: &str = "releases";
const SIGNATURE_FILE: &str = "signature";
const RECORD_FILE: &str = "verification.json";
/// `current.json` holds one history line and a few names.
const MAX_CURRENT_BYTES: u64 = 2 * history::MAX_LINE_BYTES as u64 + 4096;
/// `verification.json` holds one line per unit.
const MAX_RECORD_BYTES: u64 = 1 << 20;
const STAGING_PREFIX: &str = ".staging-";

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
    /// The policy file this install wrote, when the node had none.
    pub policy_created: Option<NodePolicy>,
    /// What went wrong after the commit point (the install stands): a history line left for
    /// the next ingest to append, a directory not synced, releases not pruned.
    pub warnings: Vec<String>,
}

/// Everything a status view shows.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    pub current: Option<InstalledRelease>,
    pub warm: Vec<InstalledRelease>,
    /// Committed history, oldest first; the chain was verified while reading it.
    pub history: Vec<HistoryEntry>,
    /// The node's policy file, when it has one.
    pub policy: Option<NodePolicy>,
    /// The last committed entry is held by `current.json` but not yet appended to
    /// `history.jsonl` (an ingest stopped between the two; the next one appends it).
    pub history_append_pending: bool,
}

/// `current.json`: the single commit point of an install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CurrentPointer {
    schema: String,
    release_seq: u64,
    digest: String,
    /// Relative to the node directory.
    dir: String,
    /// Committed history entries, the last one included.
    history_len: u64,
    /// `sha256:` of `head_line`.
    history_head: String,
    /// The last committed history line, exactly as it is (or is to be) in `history.jsonl`.
    head_line: String,
}

/// The store as read under (or without) the lock.
pub(crate) struct Loaded {
    /// Committed history, the pending line included.
    pub entries: Vec<HistoryEntry>,
    /// The last committed line when `history.jsonl` does not hold it yet.
    pending: Option<StoredLine>,
    /// Bytes of complete lines in `history.jsonl`.
    complete_bytes: u64,
    /// `sha256:` of the last committed line.
    head: Option<String>,
    pub current: Option<InstalledRelease>,
    pub warm: Vec<InstalledRelease>,
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

    pub fn policy_path(&self) -> PathBuf {
        self.dir.join(policy::POLICY_FILE)
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join("current.json")
    }

    fn releases_dir(&self) -> PathBuf {
        self.dir.join(RELEASES_DIR)
    }

    /// The current release, checked against the committed history: its manifest re-hashed
    /// against the committed digest, its `verification.json` against the committed record.
    ///
    /// `Ok(None)` means nothing is installed. A store that does not agree with itself is an
    /// error: a node must not serve a release it cannot vouch for.
    pub fn current(&self) -> Result<Option<InstalledRelease>, IngestError> {
        self.load().map(|loaded| loaded.current)
    }

    /// Current, warm and committed history, with the history chain verified.
    pub fn status(&self) -> Result<NodeStatus, IngestError> {
        let loaded = self.load()?;
        Ok(NodeStatus {
            policy: self.policy()?,
            history_append_pending: loaded.pending.is_some(),
            current: loaded.current,
            warm: loaded.warm,
            history: loaded.entries,
        })
    }

    /// The node's policy file, `None` when it has none yet.
    pub fn policy(&self) -> Result<Option<NodePolicy>, IngestError> {
        let path = self.policy_path();
        let Some(bytes) = read_limited(&path, policy::MAX_POLICY_BYTES)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes).map_err(|err| IngestError::BadPolicy {
            problems: vec![support::Located::file(
                &path,
                format!("not UTF-8 text: {err}"),
            )],
        })?;
        policy::parse(&path, text)
            .map(Some)
            .map_err(|problems| IngestError::BadPolicy { problems })
    }

    /// Replaces the node's policy, under the node's lock (creating the node directory).
    pub fn set_policy(&self, policy: NodePolicy) -> Result<(), IngestError> {
        self.create_dir()?;
        let _lock = self.lock()?;
        let path = self.policy_path();
        support::atomic::write_atomic(&path, &policy::to_bytes(policy))
            .map_err(|e| IngestError::io(&path, e))
    }

    /// Verifies the offered release and, when every check passes, installs it atomically.
    ///
    /// Holds the store lock throughout; a concurrent ingest gets [`IngestError::Locked`].
    /// Any refusal leaves the store exactly as it was; a manifest that does not parse or whose
    /// digest is wrong is refused before the node directory or its lock is created.
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
        let offered = verify::read_offered(request)?;
        self.create_dir()?;
        let _lock = self.lock()?;
        observe(InstallStep::Locked);
        let loaded = self.load()?;
        let stored_policy = self.policy()?;
        let policy = stored_policy.unwrap_or_default().and(options.policy);
        let now = match options.now_unix {
            Some(now) => now,
            None => time::now_epoch().map_err(|message| IngestError::BadClock { message })?,
        };
        let held = verify::Held {
            history: &loaded.entries,
            current: loaded.current.as_ref(),
            warm: &loaded.warm,
        };
        let checked = match verify::check(offered, request, options, policy, held, now)? {
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

        let record_json = serde_json::to_vec_pretty(&record).expect("records serialize");
        let index = loaded.entries.len();
        let entry = HistoryEntry {
            schema: history::HISTORY_SCHEMA.into(),
            index: index as u64,
            prev: loaded.head.clone(),
            action,
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            rollback_of: offered.rollback_of.clone(),
            signed_by: checked.signed_by.clone(),
            who: Who::from_env(),
            when: time::format_rfc3339(now),
            units: offered
                .units
                .iter()
                .map(|(provider, unit)| (provider.clone(), UnitRef::of(unit)))
                .collect(),
            record: sha256_digest(&record_json),
            signature: request.signature.map(sha256_digest),
        };
        let line = history::encode(&entry);
        if line.text.len() > history::MAX_LINE_BYTES {
            return Err(IngestError::TooLarge {
                what: "the release's history line (unit ids and URIs)".into(),
                size: line.text.len() as u64,
                limit: history::MAX_LINE_BYTES as u64,
            });
        }

        // Stage and publish the release directory.
        let releases = self.releases_dir();
        fs::create_dir_all(&releases).map_err(|e| IngestError::io(&releases, e))?;
        let name = release_dir_name(offered.release_seq, &offered.digest);
        let staging = releases.join(format!("{STAGING_PREFIX}{name}.{}", std::process::id()));
        remove_dir_if_present(&staging)?;
        fs::create_dir(&staging).map_err(|e| IngestError::io(&staging, e))?;
        write_synced(&staging.join(MANIFEST_FILE), request.manifest)?;
        observe(InstallStep::StagedManifest);
        if let Some(signature) = request.signature {
            write_synced(&staging.join(SIGNATURE_FILE), signature)?;
        }
        write_synced(&staging.join(RECORD_FILE), &record_json)?;
        support::atomic::sync_dir(&staging).map_err(|e| IngestError::io(&staging, e))?;
        observe(InstallStep::Staged);
        let published = releases.join(&name);
        // A directory under this name can only be the leftover of an ingest of this same
        // release that crashed before committing (its seq is above the current one).
        remove_dir_if_present(&published)?;
        fs::rename(&staging, &published).map_err(|e| IngestError::io(&published, e))?;
        support::atomic::sync_dir(&releases).map_err(|e| IngestError::io(&releases, e))?;
        observe(InstallStep::Published);

        // A node without a policy file gets one from this install: its flags, and signatures
        // required from now on when this or an earlier install was signed.
        let policy_created = match stored_policy {
            Some(_) => None,
            None => {
                let signed = checked.signed_by.is_some()
                    || loaded.entries.iter().any(|e| e.signed_by.is_some());
                let first = NodePolicy {
                    require_signature: policy.require_signature || signed,
                    ..policy
                };
                let path = self.policy_path();
                support::atomic::write_atomic(&path, &policy::to_bytes(first))
                    .map_err(|e| IngestError::io(&path, e))?;
                Some(first)
            }
        };

        // An install committed before whose history line was never appended: append it now,
        // so the new line can follow it.
        let history_path = self.history_path();
        let mut complete_bytes = loaded.complete_bytes;
        if let Some(line) = &loaded.pending {
            history::append(&history_path, complete_bytes, line)
                .map_err(|e| IngestError::io(&history_path, e))?;
            complete_bytes += line.text.len() as u64 + 1;
        }

        // Commit: the rename of current.json. From here on the install stands, and what fails
        // is reported as a warning.
        let pointer = CurrentPointer {
            schema: CURRENT_SCHEMA.into(),
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            dir: format!("{RELEASES_DIR}/{name}"),
            history_len: index as u64 + 1,
            history_head: line.hash.clone(),
            head_line: line.text.clone(),
        };
        let pointer_json = serde_json::to_vec_pretty(&pointer).expect("pointers serialize");
        let current_path = self.current_path();
        support::atomic::replace(&current_path, &pointer_json)
            .map_err(|e| IngestError::io(&current_path, e))?;
        observe(InstallStep::Committed);
        let mut warnings = Vec::new();
        let mut warn = |what: String| warnings.push(what);
        if let Err(err) = support::atomic::sync_dir(&self.dir) {
            warn(format!(
                "{}: syncing the directory after the commit failed ({err}); the install is \
                 committed but may not survive a power loss",
                self.dir.display()
            ));
        }
        match history::append(&history_path, complete_bytes, &line) {
            Ok(()) if index == 0 => {
                if let Err(err) = support::atomic::sync_dir(&self.dir) {
                    warn(format!(
                        "{}: syncing the directory after creating history.jsonl failed ({err})",
                        self.dir.display()
                    ));
                }
            }
            Ok(()) => {}
            Err(err) => warn(format!(
                "{}: appending the history line failed ({err}); the install is committed \
                 (current.json holds the line) and the next ingest appends it",
                history_path.display()
            )),
        }
        observe(InstallStep::HistoryAppended);

        let mut entries = loaded.entries;
        entries.push(entry);
        let warm = warm_refs(&entries, &offered.digest);
        if let Err(err) = self.prune(&name, &warm) {
            warn(format!(
                "pruning old releases failed ({err}); the install is committed and the next \
                 ingest prunes again"
            ));
        }
        observe(InstallStep::Pruned);

        Ok(IngestOutcome::Installed(InstallReport {
            release_seq: offered.release_seq,
            digest: offered.digest.clone(),
            action,
            rollback_of: offered.rollback_of.clone(),
            replaced: loaded.current.as_ref().map(InstalledRelease::release_ref),
            signed_by: checked.signed_by,
            units: checked.units,
            warm,
            history_index: index as u64,
            policy_created,
            warnings,
        }))
    }

    /// Creates the node directory, saying so plainly when the path (or a parent) is a file.
    fn create_dir(&self) -> Result<(), IngestError> {
        for ancestor in self.dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            match fs::metadata(ancestor) {
                Ok(metadata) if metadata.is_dir() => break,
                Ok(_) => {
                    return Err(IngestError::NotADirectory {
                        node_dir: self.dir.clone(),
                        file: ancestor.to_path_buf(),
                    });
                }
                // Keep climbing: the file (if any) is further up.
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) => {}
                Err(err) => return Err(IngestError::io(ancestor, err)),
            }
        }
        fs::create_dir_all(&self.dir).map_err(|e| IngestError::io(&self.dir, e))
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
        // the node locked. A lock can also look held for an instant after its holder released
        // it, when another thread of the holder's process forked (the child shares the lock
        // until it execs), so a busy lock is retried briefly before the ingest is refused.
        let deadline = Instant::now() + LOCK_PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(IngestError::Locked { lock: path });
                }
                Err(fs::TryLockError::Error(e)) => return Err(IngestError::io(&path, e)),
            }
        }
    }

    fn read_pointer(&self) -> Result<Option<CurrentPointer>, IngestError> {
        let path = self.current_path();
        let Some(bytes) = read_limited(&path, MAX_CURRENT_BYTES)? else {
            return Ok(None);
        };
        let pointer: CurrentPointer = std::str::from_utf8(&bytes)
            .map_err(|err| err.to_string())
            .and_then(|text| support::json::parse(&path, text).map_err(|err| err.to_string()))
            .map_err(|message| IngestError::StoreCorrupt { message })?;
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

    /// Opens the release a history entry installed, checking every file the node serves from
    /// its directory against what the entry committed.
    fn open_release(&self, entry: &HistoryEntry) -> Result<InstalledRelease, IngestError> {
        let dir = self
            .releases_dir()
            .join(release_dir_name(entry.release_seq, &entry.digest));
        let manifest_path = dir.join(MANIFEST_FILE);
        let corrupt = |path: &Path, message: String| IngestError::StoreCorrupt {
            message: format!("{}: {message}", path.display()),
        };
        let bytes = read_limited(&manifest_path, manifest::MAX_MANIFEST_BYTES)?
            .ok_or_else(|| corrupt(&manifest_path, "missing".to_owned()))?;
        let parsed = manifest::parse(&manifest_path, &bytes)
            .map_err(|e| corrupt(&manifest_path, e.to_string()))?;
        let computed = parsed.compute_digest();
        if computed != entry.digest
            || parsed.digest != entry.digest
            || parsed.release_seq != entry.release_seq
        {
            return Err(corrupt(
                &manifest_path,
                format!(
                    "the stored manifest (release_seq {}, hashing to {computed}) is not the \
                     installed release_seq {} {}",
                    parsed.release_seq, entry.release_seq, entry.digest
                ),
            ));
        }
        let record_path = dir.join(RECORD_FILE);
        let record_bytes = read_limited(&record_path, MAX_RECORD_BYTES)?
            .ok_or_else(|| corrupt(&record_path, "missing".to_owned()))?;
        let record_digest = sha256_digest(&record_bytes);
        if record_digest != entry.record {
            return Err(corrupt(
                &record_path,
                format!(
                    "changed since it was installed: it hashes to {record_digest}, the history \
                     committed {}",
                    entry.record
                ),
            ));
        }
        let record: VerificationRecord = std::str::from_utf8(&record_bytes)
            .map_err(|err| corrupt(&record_path, err.to_string()))
            .and_then(|text| {
                support::json::parse(&record_path, text).map_err(|err| IngestError::StoreCorrupt {
                    message: err.to_string(),
                })
            })?;
        let signature_path = dir.join(SIGNATURE_FILE);
        let signature = read_limited(&signature_path, manifest::MAX_SIGNATURE_BYTES)?
            .map(|b| sha256_digest(&b));
        if signature != entry.signature {
            return Err(corrupt(
                &signature_path,
                format!(
                    "is {} but the history committed {}",
                    signature.as_deref().unwrap_or("absent"),
                    entry.signature.as_deref().unwrap_or("no signature")
                ),
            ));
        }
        Ok(InstalledRelease {
            release_seq: entry.release_seq,
            digest: entry.digest.clone(),
            dir,
            manifest: parsed,
            record,
        })
    }

    /// Reads the store and checks that it agrees with itself, the committed history being the
    /// authority: `current.json` must hold the history's last line (or the one line an
    /// interrupted commit has yet to append), and each kept release must match its line.
    ///
    /// Readers without the lock (status, the node API) may race an ingest: what looks
    /// inconsistent is read again a few times before it is called corrupt.
    pub(crate) fn load(&self) -> Result<Loaded, IngestError> {
        let mut attempts = 0;
        loop {
            match self.load_once() {
                Err(IngestError::StoreCorrupt { .. }) if attempts < RACE_RETRIES => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
                result => return result,
            }
        }
    }

    fn load_once(&self) -> Result<Loaded, IngestError> {
        let corrupt = |message: String| IngestError::StoreCorrupt { message };
        // History first: an ingest commits current.json before it appends, so a pointer read
        // after the history is never older than it unless something replaced it.
        let history_path = self.history_path();
        let file = history::read(&history_path).map_err(corrupt)?;
        let pointer = self.read_pointer()?;
        let mut entries = history::verify_chain(&file.lines).map_err(corrupt)?;
        let on_disk = file.lines.len();
        let mut pending = None;
        let current_path = self.current_path();
        let Some(pointer) = pointer else {
            if on_disk > 0 || file.partial_tail {
                return Err(corrupt(format!(
                    "{} is missing but {} holds {on_disk} committed install(s); the history is \
                     the authority, so nothing is installed or pruned until current.json is \
                     restored",
                    current_path.display(),
                    history_path.display()
                )));
            }
            return Ok(Loaded {
                entries,
                pending,
                complete_bytes: 0,
                head: None,
                current: None,
                warm: Vec::new(),
            });
        };
        let head = StoredLine::new(pointer.head_line.clone());
        if head.hash != pointer.history_head {
            return Err(corrupt(format!(
                "{}: its copy of the last history line does not hash to its history_head",
                current_path.display()
            )));
        }
        let committed = pointer.history_len as usize;
        let older = |what: &str| {
            corrupt(format!(
                "{} records {committed} committed install(s) but {} {what}; current.json is \
                 older than the committed history or disagrees with it (restored or replayed?), \
                 and the history is the authority",
                current_path.display(),
                history_path.display()
            ))
        };
        if on_disk == committed && committed > 0 {
            if file.partial_tail {
                return Err(older("has bytes after its last committed line"));
            }
            if file.lines[on_disk - 1] != head {
                return Err(older("ends with another line"));
            }
        } else if on_disk + 1 == committed {
            // The commit happened; the append did not (or was cut short).
            let prev = file.lines.last().map(|l| l.hash.as_str());
            entries.push(history::parse_line(&head, on_disk, prev).map_err(corrupt)?);
            pending = Some(head);
        } else if on_disk > committed {
            return Err(older(&format!("holds {on_disk}")));
        } else {
            return Err(corrupt(format!(
                "{} records {committed} committed install(s) but {} holds only {on_disk}: \
                 committed history lines are missing",
                current_path.display(),
                history_path.display()
            )));
        }
        let last = entries.last().expect("at least one committed entry");
        if last.digest != pointer.digest
            || last.release_seq != pointer.release_seq
            || pointer.dir
                != format!(
                    "{RELEASES_DIR}/{}",
                    release_dir_name(last.release_seq, &last.digest)
                )
        {
            return Err(corrupt(format!(
                "the last history entry installs release_seq {} {} but current.json names \
                 release_seq {} {} in {}",
                last.release_seq, last.digest, pointer.release_seq, pointer.digest, pointer.dir
            )));
        }
        let current = self.open_release(last)?;
        let mut warm = Vec::new();
        for entry in warm_entries(&entries, &current.digest) {
            let dir = self
                .releases_dir()
                .join(release_dir_name(entry.release_seq, &entry.digest));
            // A warm release whose directory is gone is simply not warm any more.
            if dir.join(MANIFEST_FILE).exists() {
                warm.push(self.open_release(entry)?);
            }
        }
        Ok(Loaded {
            head: Some(pointer.history_head),
            entries,
            pending,
            complete_bytes: file.complete_bytes,
            current: Some(current),
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
/// rollback undid, newest first.
pub fn warm_refs(entries: &[HistoryEntry], current: &str) -> Vec<ReleaseRef> {
    warm_entries(entries, current)
        .into_iter()
        .map(|entry| ReleaseRef {
            release_seq: entry.release_seq,
            digest: entry.digest.clone(),
        })
        .collect()
}

fn warm_entries<'a>(entries: &'a [HistoryEntry], current: &str) -> Vec<&'a HistoryEntry> {
    let rolled_back = rolled_back(entries);
    let mut seen = BTreeSet::new();
    let mut warm = Vec::new();
    for entry in entries.iter().rev() {
        if entry.digest == current
            || rolled_back.contains(entry.digest.as_str())
            || !seen.insert(entry.digest.as_str())
        {
            continue;
        }
        warm.push(entry);
        if warm.len() == WARM_RELEASES {
            break;
        }
    }
    warm
}

/// Releases a rollback undid: a rollback restores the units of the release its `rollback_of`
/// names, so everything installed after that release and before the rollback was rolled back
/// (just the release before the rollback, when the restored one was never installed here).
pub fn rolled_back(entries: &[HistoryEntry]) -> BTreeSet<&str> {
    let mut undone = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let Some(restored) = entry.rollback_of.as_deref() else {
            continue;
        };
        let start = entries[..index]
            .iter()
            .rposition(|e| e.digest == restored)
            .map_or(index.saturating_sub(1), |at| at + 1);
        undone.extend(entries[start..index].iter().map(|e| e.digest.as_str()));
    }
    undone
}

/// `0000000042-<first 16 hex of the digest>`: sorts by seq, unique per release.
fn release_dir_name(release_seq: u64, digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("{release_seq:010}-{}", &hex[..hex.len().min(16)])
}

/// The contents of `path`, `None` when it does not exist; a file over `limit` bytes is refused
/// without being read whole.
fn read_limited(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, IngestError> {
    use std::io::Read as _;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(IngestError::io(path, err)),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::io(path, e))?;
    check_size(path, bytes.len() as u64, limit)?;
    Ok(Some(bytes))
}

fn check_size(path: &Path, size: u64, limit: u64) -> Result<(), IngestError> {
    if size > limit {
        return Err(IngestError::StoreCorrupt {
            message: format!(
                "{} is over {limit} bytes, larger than anything an ingest writes",
                path.display()
            ),
        });
    }
    Ok(())
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
