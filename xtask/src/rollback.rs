//! `cargo xtask rollback`: publish a rollback as TUF wants it, as a NEW release.
//!
//! The rollback release has the next `release_seq` (never a lower number, which nodes refuse as
//! a rollback attack), chains to the latest release with `previous_release`, and carries the
//! units (and the policy they were judged under) of the release it returns to, which
//! `rollback_of` names: by default the last stable release before the latest. Nodes install it
//! like any other release.
//!
//! Exit codes: 0 written (or shown with `--dry-run`); 1 the chain does not verify or has no
//! stable release to return to; 2 invalid input (unreadable releases, bad flags); 3 I/O.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use output_types::chain::Rollback;
use output_types::{ReleaseRef, Shape};
use release::chain::{self, StoredRelease};
use release::repo::{GATES_FILE, RELEASES_DIR};
use release::{GatePolicy, ReleaseManifest, time};
use support::{Exit, Failure};

const USAGE: &str = "\
usage: cargo xtask rollback [--releases-dir DIR] [--to DIGEST|SEQ] [--expires-in-days N]
                            [--dry-run] [--format json]

Writes DIR/release-NNNNNN.json (default DIR: manifests/releases): a new release with the next
release_seq, chained to the latest, restoring the units of the release given by --to (default:
the last stable release before the latest, skipping releases an earlier rollback undid);
rollback_of names that release. Expiry defaults to manifests/gates.toml's expires_after_days.

exit codes: 0 written, 1 chain does not verify / nothing to return to, 2 invalid input, 3 I/O";

#[derive(Default)]
struct Args {
    releases_dir: Option<PathBuf>,
    to: Option<String>,
    expires_in_days: Option<u32>,
    dry_run: bool,
    format: Option<String>,
}

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    match parse_args(args).map_err(crate::usage_error)? {
        Some(args) => rollback(args),
        None => Ok(Exit::Success),
    }
}

fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parsed = Args::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("releases-dir") => parsed.releases_dir = Some(parser.value()?.into()),
            Long("to") => parsed.to = Some(parser.value()?.string()?),
            Long("expires-in-days") => {
                let days: i64 = parser.value()?.parse()?;
                let days = release::gates::check_expires_after_days(days).map_err(|message| {
                    format!(
                        "--expires-in-days: {message} (the range gates.toml's expires_after_days allows)"
                    )
                })?;
                parsed.expires_in_days = Some(days);
            }
            Long("dry-run") => parsed.dry_run = true,
            Long("format") => parsed.format = Some(parser.value()?.string()?),
            Long("help") | Short('h') => {
                println!("{USAGE}");
                return Ok(None);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(parsed))
}

fn rollback(args: Args) -> Result<Exit, Failure> {
    let json = args
        .format
        .as_deref()
        .map_or(Ok(false), crate::output::json_format)?;
    let root = crate::project_root();
    let dir = args
        .releases_dir
        .clone()
        .unwrap_or_else(|| root.join(RELEASES_DIR));
    if !args.dry_run {
        crate::output::report_stale(chain::clean_stale_temp_files(&dir)?);
    }
    let releases = chain::load_releases(&dir).map_err(Failure::located)?;
    if releases.is_empty() {
        return Err(Failure::invalid_input(format!(
            "no releases in {}: nothing to roll back",
            dir.display()
        )));
    }
    let broken = chain::verify_chain(&releases);
    if !broken.is_empty() {
        return Err(Failure {
            exit: Exit::CheckFailed,
            located: broken,
            message: Some(
                "the release chain does not verify; refusing to extend it with a rollback".into(),
            ),
        });
    }
    let latest = &releases.last().expect("not empty").manifest;
    let target = match &args.to {
        Some(to) => {
            let target = find(&releases, to).ok_or_else(|| {
                Failure::invalid_input(format!(
                    "--to {to}: no release in {} has that digest or release_seq",
                    dir.display()
                ))
            })?;
            if target.units == latest.units {
                return Err(Failure::check_failed(format!(
                    "release_seq {} has the same units as the latest release; nothing to roll back",
                    target.release_seq
                )));
            }
            target
        }
        None => previous_stable(&releases).ok_or_else(|| {
            Failure::check_failed(format!(
                "the latest release (release_seq {}, {}) has no stable release before it to \
                 roll back to",
                latest.release_seq, latest.digest
            ))
        })?,
    };
    let expires_in_days = match args.expires_in_days {
        Some(days) => days,
        None => GatePolicy::load(&root.join(GATES_FILE))
            .map(|policy| policy.expires_after_days)
            .unwrap_or_else(|_| GatePolicy::default().expires_after_days),
    };
    let now = time::now_epoch().map_err(Failure::invalid_input)?;
    let rollback = chain::rollback_release(target, latest, now, expires_in_days);

    let path = dir.join(chain::release_file_name(rollback.release_seq));
    if !args.dry_run {
        crate::output::report_stale(chain::publish(&dir, &rollback)?.removed_stale);
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

fn find<'a>(releases: &'a [StoredRelease], of: &str) -> Option<&'a ReleaseManifest> {
    releases
        .iter()
        .map(|r| &r.manifest)
        .find(|m| m.digest == of || of.parse::<u64>().is_ok_and(|seq| seq == m.release_seq))
}

/// The newest release before the latest that is stable: no rollback undid it (a rollback to
/// release T undoes every release after T and before the rollback), and its units differ from
/// the latest's (returning to the same units would change nothing).
fn previous_stable(releases: &[StoredRelease]) -> Option<&ReleaseManifest> {
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
