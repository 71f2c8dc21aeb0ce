//! `cargo xtask bench <what> [args]`: runs the bench binary (`crates/bench`) with the same
//! arguments and exits with its code, so a plain xtask build never compiles the bench.
//!
//! The bench times this very binary: `$XTASK_BIN` names it and `$XTASK_PROFILE` its profile,
//! and the bench is built in the same profile (`--release` for a release xtask), so what it
//! runs in-process (history replays) is measured under the same optimisation as the engine.

use std::ffi::OsString;
use std::process::Command;

use support::{Exit, Failure};

pub fn run(args: Vec<OsString>) -> Result<Exit, Failure> {
    let xtask = std::env::current_exe()
        .map_err(|e| Failure::environment(format!("cannot find the xtask binary: {e}")))?;
    // The bench is a member of this repository's workspace, wherever a test points
    // `$XTASK_WORKSPACE_ROOT`.
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .join("Cargo.toml");
    let release = !cfg!(debug_assertions);
    let mut command = Command::new(lanes_config::nextest::cargo());
    command.arg("run").arg("--manifest-path").arg(&manifest);
    if release {
        command.arg("--release");
    }
    command
        .args(["--package", "bench", "--"])
        .args(args)
        .env("XTASK_BIN", &xtask)
        .env("XTASK_PROFILE", if release { "release" } else { "dev" });
    let status = command
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `cargo run -p bench`: {e}")))?;
    match status.code() {
        Some(0) => Ok(Exit::Success),
        Some(1) => Ok(Exit::CheckFailed),
        Some(2) => Ok(Exit::InvalidInput),
        Some(3) => Ok(Exit::Environment),
        // The bench reported nothing itself: cargo could not build it, or it crashed.
        other => Err(Failure::environment(format!(
            "`cargo run -p bench` failed ({})",
            other.map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"))
        ))),
    }
}
