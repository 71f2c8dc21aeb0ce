//! The release chain in a directory: every release names its predecessor's digest, so history
//! can be audited and rollbacks traced (a rollback is a newer release with `rollback_of`).
//! [`plan_rollback`] decides which release a rollback restores, and [`publish`] is the one
//! writer of a releases directory: locked, re-checked against the head, never replacing a file.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use support::{Exit, Located};

use crate::manifest::ReleaseManifest;
use crate::time;

/// `release-000042.json`.
pub fn release_file_name(release_seq: u64) -> String {
    format!("release-{release_seq:06}.json")
}

/// A release with the file it was read from.
#[derive(Debug, Clone)]
pub struct StoredRelease {
    pub path: PathBuf,
    pub manifest: ReleaseManifest,
}

/// Reads every `*.json` in `dir` (a missing directory is an empty chain), sorted by `release_seq`.
/// Invalid files are invalid input; chain problems are reported by [`verify_chain`].
pub fn load_releases(dir: &Path) -> Result<Vec<StoredRelease>, Vec<Located>> {
    let paths = match support::input::json_files(dir) {
        Ok(paths) => paths,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(vec![
                Located::file(dir, "the releases directory is a file, not a directory")
                    .with_help("point --releases at a directory of release-NNNNNN.json files"),
            ]);
        }
        Err(err) => {
            return Err(vec![Located::file(
                dir,
                format!("cannot list releases: {err}"),
            )]);
        }
    };
    let mut releases = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match ReleaseManifest::load(&path) {
            Ok(manifest) => releases.push(StoredRelease { path, manifest }),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    releases.sort_by_key(|r| r.manifest.release_seq);
    Ok(releases)
}

/// Checks the chain: digests verify, `release_seq` runs 1, 2, 3... without gaps or repeats,
/// each `previous_release` is the digest of the release before it, every `rollback_of`
/// names an earlier release, and every unit judged again ([`crate::select::rejudge`]) gets the
/// verdict, score and policy the release records. Returns every problem found (each a failed check, exit 1).
pub fn verify_chain(releases: &[StoredRelease]) -> Vec<Located> {
    let mut problems = Vec::new();
    for (i, release) in releases.iter().enumerate() {
        let m = &release.manifest;
        let problem = |message: String| Located::file(&release.path, message);
        if let Err(message) = m.verify_digest() {
            problems.push(problem(message));
        }
        for misjudged in crate::select::rejudge(m) {
            problems.push(problem(misjudged.to_string()));
        }
        let expected_seq = i as u64 + 1;
        if m.release_seq != expected_seq {
            problems.push(problem(format!(
                "release_seq {} where {expected_seq} was expected (releases must be numbered 1, 2, 3... without gaps or repeats)",
                m.release_seq
            )));
        }
        let expected_previous = i
            .checked_sub(1)
            .map(|p| releases[p].manifest.digest.clone());
        if m.previous_release != expected_previous {
            problems.push(problem(format!(
                "previous_release is {} but the release before it has digest {}",
                m.previous_release.as_deref().unwrap_or("null"),
                expected_previous
                    .as_deref()
                    .unwrap_or("null (this is the first release)")
            )));
        }
        if let Some(target) = m
            .rollback_of
            .as_ref()
            .filter(|t| !releases[..i].iter().any(|r| &r.manifest.digest == *t))
        {
            problems.push(problem(format!(
                "rollback_of {target} names no earlier release"
            )));
        }
    }
    problems
}

/// The release that restores `target`'s units on top of `latest`: a new, higher `release_seq`
/// (never a lower number), chained to `latest`, with `rollback_of` set to `target`'s digest.
pub fn rollback_release(
    target: &ReleaseManifest,
    latest: &ReleaseManifest,
    now: i64,
    expires_after_days: u32,
) -> ReleaseManifest {
    let mut release = target.clone();
    release.fused_model_id = time::fused_model_id(now);
    release.generated_at = time::format_rfc3339(now);
    release.expires = time::format_rfc3339(now + i64::from(expires_after_days) * 86_400);
    release.release_seq = latest.release_seq + 1;
    release.previous_release = Some(latest.digest.clone());
    release.rollback_of = Some(target.digest.clone());
    release.seal();
    release
}

/// A rollback decided: the release it restores, the one it rolls back, and the new release
/// that does it (see [`plan_rollback`]).
#[derive(Debug, Clone)]
pub struct RollbackPlan<'a> {
    /// The release whose units come back (`rollback_of`).
    pub restores: &'a ReleaseManifest,
    /// The latest release, which the rollback chains to.
    pub rolls_back: &'a ReleaseManifest,
    pub release: ReleaseManifest,
}

/// Why there is no rollback to write.
#[derive(Debug)]
pub enum RollbackRefused {
    /// The directory holds no release.
    NoReleases,
    /// The chain does not verify: it is not extended.
    ChainBroken(Vec<Located>),
    /// No release has the digest or `release_seq` asked for.
    NoSuchRelease(String),
    /// The release asked for has the latest release's units: nothing would change.
    SameUnits { release_seq: u64 },
    /// The latest release has no stable release before it.
    NothingStable { release_seq: u64, digest: String },
}

impl RollbackRefused {
    /// No release or no such release is invalid input (2); the rest are failed checks (1).
    pub fn exit(&self) -> Exit {
        match self {
            RollbackRefused::NoReleases | RollbackRefused::NoSuchRelease(_) => Exit::InvalidInput,
            _ => Exit::CheckFailed,
        }
    }
}

/// Decides a rollback of the chain `releases` (as [`load_releases`] returns it): to the release
/// whose digest or `release_seq` is `to`, else to the last stable one before the latest
/// ([`previous_stable`]). The new release restores its units on top of the latest
/// ([`rollback_release`]), dated `now`, expiring `expires_after_days` later.
pub fn plan_rollback<'a>(
    releases: &'a [StoredRelease],
    to: Option<&str>,
    now: i64,
    expires_after_days: u32,
) -> Result<RollbackPlan<'a>, RollbackRefused> {
    let Some(latest) = releases.last().map(|r| &r.manifest) else {
        return Err(RollbackRefused::NoReleases);
    };
    let broken = verify_chain(releases);
    if !broken.is_empty() {
        return Err(RollbackRefused::ChainBroken(broken));
    }
    let restores = match to {
        Some(to) => {
            let target = find_release(releases, to)
                .ok_or_else(|| RollbackRefused::NoSuchRelease(to.to_owned()))?;
            if target.units == latest.units {
                return Err(RollbackRefused::SameUnits {
                    release_seq: target.release_seq,
                });
            }
            target
        }
        None => previous_stable(releases).ok_or_else(|| RollbackRefused::NothingStable {
            release_seq: latest.release_seq,
            digest: latest.digest.clone(),
        })?,
    };
    Ok(RollbackPlan {
        restores,
        rolls_back: latest,
        release: rollback_release(restores, latest, now, expires_after_days),
    })
}

/// The release whose digest is `of`, or whose `release_seq` `of` is.
pub fn find_release<'a>(releases: &'a [StoredRelease], of: &str) -> Option<&'a ReleaseManifest> {
    releases
        .iter()
        .map(|r| &r.manifest)
        .find(|m| m.digest == of || of.parse::<u64>().is_ok_and(|seq| seq == m.release_seq))
}

/// The newest release before the latest that is stable: no rollback undid it (a rollback to
/// release T undoes every release after T and before the rollback), and its units differ from
/// the latest's (returning to the same units would change nothing).
pub fn previous_stable(releases: &[StoredRelease]) -> Option<&ReleaseManifest> {
    let manifests: Vec<&ReleaseManifest> = releases.iter().map(|r| &r.manifest).collect();
    let (latest, earlier) = manifests.split_last()?;
    let mut undone = BTreeSet::new();
    for (index, release) in manifests.iter().enumerate() {
        let Some(restored) = release.rollback_of.as_deref() else {
            continue;
        };
        if let Some(at) = manifests[..index].iter().position(|m| m.digest == restored) {
            undone.extend(manifests[at + 1..index].iter().map(|m| m.digest.as_str()));
        }
    }
    earlier
        .iter()
        .rev()
        .find(|m| !undone.contains(m.digest.as_str()) && m.units != latest.units)
        .copied()
}

/// The lock file in a releases directory. Every writer (federate, rollback) holds it from
/// re-reading the chain head to linking the new file, so writers of one directory take turns.
pub const LOCK_FILE: &str = ".release.lock";

/// A release written by [`publish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub path: PathBuf,
    /// Temp files a killed writer had left in the directory, removed under the lock.
    pub removed_stale: Vec<PathBuf>,
}

/// Why [`publish`] wrote nothing.
#[derive(Debug)]
pub enum PublishError {
    /// Another writer holds the directory's lock right now.
    Locked {
        dir: PathBuf,
    },
    /// The chain gained a release since this one was built on it.
    ChainMoved {
        dir: PathBuf,
        head_seq: u64,
        head_digest: String,
    },
    /// The file is there already (a writer that does not take the lock, or a copy).
    Exists {
        path: PathBuf,
    },
    /// The releases in the directory no longer parse.
    Invalid(Vec<Located>),
    Io {
        path: PathBuf,
        err: io::Error,
    },
}

impl PublishError {
    /// Every refusal is about the environment (another process, the file system): exit 3.
    pub fn exit(&self) -> Exit {
        match self {
            PublishError::Invalid(_) => Exit::InvalidInput,
            _ => Exit::Environment,
        }
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::Locked { dir } => write!(
                f,
                "another federate or rollback is writing a release to {} right now; nothing \
                 written: run again when it has finished, to build on its release",
                dir.display()
            ),
            PublishError::ChainMoved {
                dir,
                head_seq,
                head_digest,
            } => write!(
                f,
                "release_seq {head_seq} ({head_digest}) was written to {} by another run while \
                 this one was working; nothing written: run again to build on it",
                dir.display()
            ),
            PublishError::Exists { path } => write!(
                f,
                "{} already exists and releases are never replaced; nothing written (run \
                 `cargo xtask federate --verify-chain`)",
                path.display()
            ),
            PublishError::Invalid(problems) => {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                write!(f, "{}", list.join("\n"))
            }
            PublishError::Io { path, err } => {
                write!(f, "cannot write {}: {err}; nothing written", path.display())
            }
        }
    }
}

impl std::error::Error for PublishError {}

impl From<PublishError> for support::Failure {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Invalid(problems) => support::Failure::located(problems),
            err => support::Failure::new(err.exit(), err.to_string()),
        }
    }
}

/// Writes `release` into `dir` as the next link of its chain, never replacing a file.
///
/// Under the directory's lock (not waiting for it: a busy directory is [`PublishError::Locked`]),
/// removes temp files killed writers left, re-reads the head of the chain and writes only if
/// `release` still extends it (`release_seq` one higher, `previous_release` its digest); the
/// file is linked into place from a fsynced temp file, so even a writer that ignores the lock
/// cannot be overwritten. Of two concurrent writers exactly one succeeds.
pub fn publish(dir: &Path, release: &ReleaseManifest) -> Result<Published, PublishError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |err| PublishError::Io { path, err }
    };
    if let Some(file) = support::atomic::blocking_ancestor(&dir.join(LOCK_FILE)) {
        return Err(PublishError::Io {
            path: dir.to_owned(),
            err: io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is a file, not a directory", file.display()),
            ),
        });
    }
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let lock = lock_dir(dir)?;
    let removed_stale = remove_stale_temp_files(dir).map_err(io_error(dir))?;
    let releases = load_releases(dir).map_err(PublishError::Invalid)?;
    let head = releases.last().map(|r| &r.manifest);
    let extends_head = match head {
        None => release.release_seq == 1 && release.previous_release.is_none(),
        Some(head) => {
            release.release_seq == head.release_seq + 1
                && release.previous_release.as_deref() == Some(head.digest.as_str())
        }
    };
    if let (false, Some(head)) = (extends_head, head) {
        return Err(PublishError::ChainMoved {
            dir: dir.to_owned(),
            head_seq: head.release_seq,
            head_digest: head.digest.clone(),
        });
    }
    let path = dir.join(release_file_name(release.release_seq));
    support::atomic::write_new(&path, &release.to_bytes()).map_err(|err| {
        if err.kind() == io::ErrorKind::AlreadyExists {
            PublishError::Exists { path: path.clone() }
        } else {
            PublishError::Io {
                path: path.clone(),
                err,
            }
        }
    })?;
    drop(lock);
    Ok(Published {
        path,
        removed_stale,
    })
}

/// Removes the temp files killed writers left in `dir`, if no writer is at work there (a
/// busy or missing directory is left alone). Returns what was removed.
pub fn clean_stale_temp_files(dir: &Path) -> Result<Vec<PathBuf>, PublishError> {
    let has_stale = fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|entry| {
            support::atomic::is_temp_file_of(&entry.file_name().to_string_lossy(), "release-")
        })
    });
    if !has_stale {
        return Ok(Vec::new());
    }
    let _lock = match lock_dir(dir) {
        Ok(lock) => lock,
        Err(PublishError::Locked { .. }) => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    remove_stale_temp_files(dir).map_err(|err| PublishError::Io {
        path: dir.to_owned(),
        err,
    })
}

fn lock_dir(dir: &Path) -> Result<File, PublishError> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|err| PublishError::Io {
            path: path.clone(),
            err,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(PublishError::Locked {
            dir: dir.to_owned(),
        }),
        Err(TryLockError::Error(err)) => Err(PublishError::Io { path, err }),
    }
}

/// Call only while holding the lock: then no temp file in `dir` belongs to a live writer.
fn remove_stale_temp_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if support::atomic::is_temp_file_of(&name.to_string_lossy(), "release-") {
            fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u64, previous: Option<&ReleaseManifest>) -> ReleaseManifest {
        let mut release = crate::manifest::tests::sample();
        release.release_seq = seq;
        release.previous_release = previous.map(|p| p.digest.clone());
        release.generated_at = time::format_rfc3339(seq as i64);
        release.seal();
        release
    }

    #[test]
    fn publish_extends_the_head_only_and_refuses_a_stale_or_busy_chain() {
        let dir = tempfile::tempdir().unwrap();
        let first = sample(1, None);
        let published = publish(dir.path(), &first).unwrap();
        assert_eq!(published.path, dir.path().join("release-000001.json"));
        // Built on the same (empty) chain by a second writer: the chain moved.
        let rival = sample(1, None);
        let err = publish(dir.path(), &rival).unwrap_err();
        assert!(
            matches!(err, PublishError::ChainMoved { head_seq: 1, .. }),
            "{err}"
        );
        assert_eq!(fs::read(&published.path).unwrap(), first.to_bytes());

        // A writer holding the lock keeps every other out, and killed writers' temp files
        // go when the next writer gets the lock.
        let held = lock_dir(dir.path()).unwrap();
        let second = sample(2, Some(&first));
        let err = publish(dir.path(), &second).unwrap_err();
        assert!(matches!(err, PublishError::Locked { .. }), "{err}");
        assert_eq!(err.exit(), Exit::Environment);
        drop(held);
        let stale = dir.path().join(".release-000002.json.tmp.99.1");
        fs::write(&stale, b"half").unwrap();
        let published = publish(dir.path(), &second).unwrap();
        assert_eq!(published.removed_stale, vec![stale.clone()]);
        assert!(!stale.exists());

        // A file that appeared without the lock is never replaced.
        let third = sample(3, Some(&second));
        fs::write(dir.path().join("release-000003.json"), b"foreign").unwrap();
        let err = publish(dir.path(), &third).unwrap_err();
        assert!(matches!(err, PublishError::Invalid(_)), "{err}");
        assert_eq!(
            fs::read(dir.path().join("release-000003.json")).unwrap(),
            b"foreign"
        );
    }
}
