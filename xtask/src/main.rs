//! `cargo xtask`: the workspace's automation. `cli` declares every command and its flags; one
//! module per command does the work; `main` only dispatches.
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
mod cli;
mod deps;
mod federate;
mod impact;
mod ingest;
mod kernel;
mod lanes;
mod output;
mod preflight;
mod release_lane;
mod rollback;

use std::path::PathBuf;

use clap::Parser as _;
use cli::{Cli, Command, ImpactArgs, ImpactCommand};

fn main() {
    let exit = match Cli::try_parse() {
        Ok(cli) => {
            let result = match cli.command {
                Command::Preflight(args) => preflight::run(&args),
                Command::Lanes(args) => lanes::list(&args),
                Command::Lane(args) => lanes::run(args),
                Command::ReleaseLane(args) => release_lane::run(&args),
                Command::Impact(ImpactArgs {
                    command: Some(ImpactCommand::Record(args)),
                    ..
                }) => impact::record(args),
                Command::Impact(ImpactArgs {
                    command: Some(ImpactCommand::History(args)),
                    ..
                }) => impact::history(&args),
                Command::Impact(args) => impact::run(&args),
                Command::Test(args) => impact::test(&args),
                Command::Deps(args) => deps::run(&args),
                Command::Federate(args) => federate::run(&args),
                Command::Kernel(args) => kernel::run(&args),
                Command::Ingest(args) => ingest::run(&args),
                Command::Rollback(args) => rollback::run(&args),
                Command::AuditRelease(args) => audit_release::run(&args),
                Command::Bench(args) => bench::run(args.args),
                Command::TraceRunner(args) => impact::trace_runner(args.args),
            };
            result.unwrap_or_else(|failure| {
                output::report_failure(&failure);
                failure.exit
            })
        }
        Err(err) => support::cli::report(&err),
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
