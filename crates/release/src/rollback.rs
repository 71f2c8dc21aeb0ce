//! A whole rollback, as `cargo xtask rollback` asks for it (README.md, "Nodes"): publish a
//! rollback as TUF wants it, as a NEW release. The decision (which release it restores, what it
//! refuses) is [`chain::plan_rollback`]'s, the write [`chain::publish_with`]'s; this module
//! reads the chain and the gate policy's expiry, builds the provenance, and says what happened
//! in the command's words.
//!
//! The rollback release has the next `release_seq` (never a lower number, which nodes refuse as
//! a rollback attack), chains to the latest release with `previous_release`, and carries the
//! units (and the policy they were judged under) of the release it returns to, which
//! `rollback_of` names: by default the last stable release before the latest. Nodes install it
//! like any other release.

use std::path::{Path, PathBuf};

use output_types::chain::Rollback;
use output_types::{ReleaseRef, Shape};
use support::Failure;

use crate::chain::{self, RollbackRefused};
use crate::repo::GATES_FILE;
use crate::{GatePolicy, ReleaseManifest, time};

/// What to roll back, and where.
pub struct Request<'a> {
    /// The workspace, whose gate policy gives the default expiry.
    pub root: &'a Path,
    /// The release chain.
    pub dir: &'a Path,
    /// The digest or `release_seq` to restore; `None` is the last stable one.
    pub to: Option<&'a str>,
    /// Days until the rollback expires [default: the gate policy's `expires_after_days`].
    pub expires_in_days: Option<u32>,
    /// Decide and report, write nothing.
    pub dry_run: bool,
}

/// A rollback written (or, for a dry run, decided).
pub struct Done {
    /// `chain-rollback/v1`.
    pub shape: Rollback,
    /// Temp files of killed writers removed from the directory under the lock.
    pub removed_stale: Vec<PathBuf>,
}

/// Removes the temp files killed writers left in the directory (unless a dry run), before
/// anything is read; returns them so they can be named.
pub fn clean_stale(request: &Request<'_>) -> Result<Vec<PathBuf>, Failure> {
    if request.dry_run {
        return Ok(Vec::new());
    }
    Ok(chain::clean_stale_temp_files(request.dir)?)
}

/// Decides the rollback and, unless `dry_run`, publishes it with its provenance. Exit 1 when
/// the chain does not verify or has nothing to return to, 2 for unreadable releases or an
/// unknown `to`, 3 for I/O.
pub fn run(request: &Request<'_>) -> Result<Done, Failure> {
    let dir = request.dir;
    let mut removed_stale = Vec::new();
    let releases = chain::load_releases(dir).map_err(Failure::located)?;
    let expires_in_days = match request.expires_in_days {
        Some(days) => days,
        None => GatePolicy::load(&request.root.join(GATES_FILE))
            .map(|policy| policy.expires_after_days)
            .unwrap_or_else(|_| GatePolicy::default().expires_after_days),
    };
    let now = time::now_epoch().map_err(Failure::invalid_input)?;
    let plan = chain::plan_rollback(&releases, request.to, now, expires_in_days)
        .map_err(|refused| refusal(refused, dir, request.to))?;
    let (latest, target, rollback) = (plan.rolls_back, plan.restores, &plan.release);
    let name = |release: &ReleaseManifest| chain::release_file_name(release.release_seq);
    let provenance = crate::attest::rollback_provenance_statement(
        rollback,
        &name(rollback),
        (target, &name(target)),
        (latest, &name(latest)),
    )
    .to_bytes();
    if !request.dry_run {
        let published = chain::publish_with(dir, rollback, &[("provenance", &provenance)])?;
        removed_stale.extend(published.removed_stale);
    }
    let reference = |release: &ReleaseManifest| ReleaseRef {
        release_seq: release.release_seq,
        digest: release.digest.clone(),
    };
    Ok(Done {
        shape: Rollback {
            schema: Rollback::schema(),
            path: dir.join(name(rollback)).display().to_string(),
            written: !request.dry_run,
            release_seq: rollback.release_seq,
            digest: rollback.digest.clone(),
            rolls_back: reference(latest),
            restores: reference(target),
            expires: rollback.expires.clone(),
        },
        removed_stale,
    })
}

impl Done {
    /// Two lines for people: what was (or would be) written, and its digest and expiry.
    pub fn text(&self) -> String {
        let s = &self.shape;
        format!(
            "{} {}: release_seq {} rolls back release_seq {} ({}) to the units of release_seq {} ({})\n  digest {}  expires {}\n",
            if s.written { "wrote" } else { "would write" },
            s.path,
            s.release_seq,
            s.rolls_back.release_seq,
            s.rolls_back.digest,
            s.restores.release_seq,
            s.restores.digest,
            s.digest,
            s.expires
        )
    }
}

/// The refusal in the command's words (its flags, its directory).
fn refusal(refused: RollbackRefused, dir: &Path, to: Option<&str>) -> Failure {
    let exit = refused.exit();
    match refused {
        RollbackRefused::ChainBroken(broken) => Failure {
            exit,
            located: broken,
            message: Some(
                "the release chain does not verify; refusing to extend it with a rollback".into(),
            ),
        },
        RollbackRefused::NoReleases => Failure::new(
            exit,
            format!("no releases in {}: nothing to roll back", dir.display()),
        ),
        RollbackRefused::NoSuchRelease(_) => Failure::new(
            exit,
            format!(
                "--to {}: no release in {} has that digest or release_seq",
                to.unwrap_or_default(),
                dir.display()
            ),
        ),
        RollbackRefused::SameUnits { release_seq } => Failure::new(
            exit,
            format!(
                "release_seq {release_seq} has the same units as the latest release; nothing to roll back"
            ),
        ),
        RollbackRefused::NothingStable {
            release_seq,
            digest,
        } => Failure::new(
            exit,
            format!(
                "the latest release (release_seq {release_seq}, {digest}) has no stable release \
                 before it to roll back to"
            ),
        ),
    }
}
