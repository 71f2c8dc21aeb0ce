//! `cargo xtask rollback`: publish a rollback as TUF wants it, as a NEW release. The decisions
//! (which release it restores, what it refuses) are `release::chain::plan_rollback`'s, the
//! write is `release::chain::publish`'s; this is their front end.
//!
//! The rollback release has the next `release_seq` (never a lower number, which nodes refuse as
//! a rollback attack), chains to the latest release with `previous_release`, and carries the
//! units (and the policy they were judged under) of the release it returns to, which
//! `rollback_of` names: by default the last stable release before the latest. Nodes install it
//! like any other release.
//!
//! Exit codes: 0 written (or shown with `--dry-run`); 1 the chain does not verify or has no
//! stable release to return to; 2 invalid input (unreadable releases, bad flags); 3 I/O.

use std::path::Path;

use output_types::chain::Rollback;
use output_types::{ReleaseRef, Shape};
use release::chain::{self, RollbackRefused};
use release::repo::{GATES_FILE, RELEASES_DIR};
use release::{GatePolicy, time};
use support::{Exit, Failure};

use crate::cli::RollbackArgs;

pub fn run(args: &RollbackArgs) -> Result<Exit, Failure> {
    let json = args.format.json();
    let root = crate::project_root();
    let dir = args
        .releases_dir
        .clone()
        .unwrap_or_else(|| root.join(RELEASES_DIR));
    if !args.dry_run {
        crate::output::report_stale(chain::clean_stale_temp_files(&dir)?);
    }
    let releases = chain::load_releases(&dir).map_err(Failure::located)?;
    let expires_in_days = match args.expires_in_days {
        Some(days) => days,
        None => GatePolicy::load(&root.join(GATES_FILE))
            .map(|policy| policy.expires_after_days)
            .unwrap_or_else(|_| GatePolicy::default().expires_after_days),
    };
    let now = time::now_epoch().map_err(Failure::invalid_input)?;
    let plan = chain::plan_rollback(&releases, args.to.as_deref(), now, expires_in_days)
        .map_err(|refused| refusal(refused, &dir, args.to.as_deref()))?;
    let (latest, target, rollback) = (plan.rolls_back, plan.restores, &plan.release);

    let path = dir.join(chain::release_file_name(rollback.release_seq));
    let name = |release: &release::manifest::ReleaseManifest| {
        chain::release_file_name(release.release_seq)
    };
    let provenance = release::attest::rollback_provenance_statement(
        rollback,
        &name(rollback),
        (target, &name(target)),
        (latest, &name(latest)),
    )
    .to_bytes();
    if !args.dry_run {
        let published = chain::publish_with(&dir, rollback, &[("provenance", &provenance)])?;
        crate::output::report_stale(published.removed_stale);
    }
    if json {
        let summary = Rollback {
            schema: Rollback::schema(),
            path: path.display().to_string(),
            written: !args.dry_run,
            release_seq: rollback.release_seq,
            digest: rollback.digest.clone(),
            rolls_back: ReleaseRef {
                release_seq: latest.release_seq,
                digest: latest.digest.clone(),
            },
            restores: ReleaseRef {
                release_seq: target.release_seq,
                digest: target.digest.clone(),
            },
            expires: rollback.expires.clone(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("JSON values serialize")
        );
    } else {
        println!(
            "{} {}: release_seq {} rolls back release_seq {} ({}) to the units of release_seq {} ({})",
            if args.dry_run { "would write" } else { "wrote" },
            path.display(),
            rollback.release_seq,
            latest.release_seq,
            latest.digest,
            target.release_seq,
            target.digest
        );
        println!("  digest {}  expires {}", rollback.digest, rollback.expires);
    }
    Ok(Exit::Success)
}

/// The library's refusal in this command's words (its flags, its directory).
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
