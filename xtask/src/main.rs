//! `cargo xtask`: the workspace's automation. One module per command; `main` only dispatches.
//!
//! Exit codes (README.md, "Commands") come from [`support::Exit`]: 0 success, 1 a check failed,
//! 2 invalid input or usage, 3 the environment failed.

// Every print in this crate goes through `output`: these shadow std's macros for the whole
// crate (they must come before the modules). std's would panic when stdout is a closed pipe
// (`cargo xtask federate | head -c100`); ours end output quietly there, and report any other
// write error once at exit without changing the exit code, which follows the work done.
macro_rules! print {
    ($($arg:tt)*) => { $crate::output::print_out(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { $crate::output::print_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_out(format_args!("{}\n", format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::output::print_err(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::output::print_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_err(format_args!("{}\n", format_args!($($arg)*))) };
}

mod audit_release;
mod bench;
mod deps;
mod federate;
mod impact;
mod impact_history;
mod impact_record;
mod ingest;
mod kernel;
mod lanes;
mod nextest;
mod output;
mod preflight;
mod release_lane;
mod rollback;

use std::ffi::OsString;
use std::path::PathBuf;

use support::{Exit, Failure};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  preflight             Gate 0: validate config and manifests, then `cargo check` critical crates
  lanes                 list test lanes with their filtersets and test counts
  lane NAME             run one test lane (see lanes.toml)
  release-lane          the canonical must-pass CI job
  impact                which packages and test binaries a change can affect, and why
  impact record         run the tests under strace and record what each binary reads
  impact --explain FILE who reads FILE at run time, which rules cover it, what it selects
  impact history        replay recent commits with and without the recording, count misses
  test --affected       run only the tests a change can affect
  deps audit|report     prove the dependency-group boundaries / report on each group
  federate              fuse provider training runs into a promoted release
  kernel                list or check the kernel manifest
  ingest                install a release into a node directory
  rollback              publish a rollback release
  audit-release         the chain of a release: source, tests, kernel, provenance, units, approvals, node
  bench all|impact|artifacts|history|soundness  rerunnable measurements, printed as a table

exit codes: 0 success, 1 a check failed, 2 invalid input or usage, 3 environment failure
";

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let command = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    let command = command.as_ref().and_then(|c| c.to_str());
    let result = match command {
        Some("preflight") => preflight::run(args),
        Some("lanes") => lanes::list(args),
        Some("lane") => lanes::run(args),
        Some("release-lane") => release_lane::run(args),
        Some("impact") if args.first().is_some_and(|a| a == "record") => {
            impact_record::run(args[1..].to_vec())
        }
        Some("impact") if args.first().is_some_and(|a| a == "history") => {
            impact_history::run(args[1..].to_vec())
        }
        Some("impact") => impact::run(args),
        Some("__trace-runner") => impact_record::trace_runner(args),
        Some("test") => impact::test(args),
        Some("deps") => deps::run(args),
        Some("federate") => federate::run(args),
        Some("kernel") => kernel::run(args),
        Some("ingest") => ingest::run(args),
        Some("rollback") => rollback::run(args),
        Some("audit-release") => audit_release::run(args),
        Some("bench") => bench::run(args),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(Exit::Success)
        }
        Some(other) => Err(Failure::invalid_input(format!(
            "unknown command `{other}`\n\n{USAGE}"
        ))),
        None => Err(Failure::invalid_input(format!(
            "no command given\n\n{USAGE}"
        ))),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(failure) => {
            output::report_failure(&failure);
            failure.exit
        }
    };
    output::finish();
    std::process::exit(exit.code());
}

/// The workspace root: `$XTASK_WORKSPACE_ROOT` when set (tests drive the real xtask against
/// temporary workspaces this way), else the directory above `xtask/`.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("XTASK_WORKSPACE_ROOT") {
        return PathBuf::from(root);
    }
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Turns a lexopt error into a usage failure (exit 2).
pub fn usage_error(err: lexopt::Error) -> Failure {
    Failure::invalid_input(format!("{err} (run `cargo xtask help` for usage)"))
}
