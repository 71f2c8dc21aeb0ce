//! `cargo xtask rollback`: publish a rollback as a NEW release (README.md, "Nodes"). Deciding,
//! writing and the words are `release::rollback`'s (over `release::chain::plan_rollback` and
//! `publish`); this is its front end.
//!
//! Exit codes: 0 written (or shown with `--dry-run`); 1 the chain does not verify or has no
//! stable release to return to; 2 invalid input (unreadable releases, bad flags); 3 I/O.

use release::repo::RELEASES_DIR;
use release::rollback::{self, Request};
use support::{Exit, Failure};

use crate::cli::RollbackArgs;

pub fn run(args: &RollbackArgs) -> Result<Exit, Failure> {
    let root = crate::project_root();
    let dir = args
        .releases_dir
        .clone()
        .unwrap_or_else(|| root.join(RELEASES_DIR));
    let request = Request {
        root: &root,
        dir: &dir,
        to: args.to.as_deref(),
        expires_in_days: args.expires_in_days,
        dry_run: args.dry_run,
    };
    crate::output::report_stale(rollback::clean_stale(&request)?);
    let done = rollback::run(&request)?;
    crate::output::report_stale(done.removed_stale.clone());
    if args.format.json() {
        println!(
            "{}",
            serde_json::to_string_pretty(&done.shape).expect("JSON values serialize")
        );
    } else {
        print!("{}", done.text());
    }
    Ok(Exit::Success)
}
