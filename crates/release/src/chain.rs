//! The release chain in a directory: every release names its predecessor's digest, so history
//! can be audited and rollbacks traced (a rollback is a newer release with `rollback_of`).

use std::path::{Path, PathBuf};

use support::Located;

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
    let paths = match crate::repo::json_files(dir) {
        Ok(paths) => paths,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
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
