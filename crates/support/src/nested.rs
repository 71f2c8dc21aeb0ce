//! Starting cargo or nextest inside a cargo or nextest run.
//!
//! A test (or a bench) that runs cargo or nextest on another workspace inherits the outer run's
//! environment: `NEXTEST_PROFILE=ci` makes the inner nextest look for a profile the inner
//! workspace may not have, `CARGO_TARGET_<triple>_RUNNER` wraps its binaries, `CARGO_PROFILE_*`
//! and `CARGO_BUILD_*` change how it builds, and the `CARGO_PKG_*`/`CARGO_MANIFEST_*` a test
//! process gets describe the outer package. [`outer_run_variables`] names them so the inner
//! run sees the environment a person typing the command would have.

use std::ffi::OsString;
use std::process::Command;

/// `CARGO_*` variables kept: where cargo lives and fetches from, where it builds, and how it
/// prints. None of them changes what a build or a test run does.
const KEPT: &[&str] = &[
    "CARGO_HOME",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_JOBS",
    "CARGO_INCREMENTAL",
];
const KEPT_PREFIXES: &[&str] = &[
    "CARGO_NET_",
    "CARGO_HTTP_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
    "CARGO_TERM_",
];

/// Whether `name` is set by (or for) an outer cargo or nextest run and would change an inner
/// one: every `NEXTEST_*` (profile, run id, threads, retries, binary paths) and every
/// `CARGO_*` except the few in `KEPT` (the path of `cargo` itself, `$CARGO`, stays too).
pub fn is_outer_run_variable(name: &str) -> bool {
    if name.starts_with("NEXTEST_") || name.starts_with("__NEXTEST_") {
        return true;
    }
    let Some(_) = name.strip_prefix("CARGO_") else {
        return false;
    };
    !(KEPT.contains(&name) || KEPT_PREFIXES.iter().any(|p| name.starts_with(p)))
}

/// The variables of this process's environment that [`is_outer_run_variable`] names.
pub fn outer_run_variables() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.to_str().is_some_and(is_outer_run_variable))
        .collect()
}

/// Removes the outer run's variables from `command` (variables set on it afterwards stay).
pub fn isolate(command: &mut Command) -> &mut Command {
    for name in outer_run_variables() {
        command.env_remove(name);
    }
    command
}

/// The same for any command builder that is passed by value: `remove` removes one variable
/// (`xshell::Cmd::env_remove`, for instance).
pub fn isolated<C>(command: C, remove: impl Fn(C, OsString) -> C) -> C {
    outer_run_variables().into_iter().fold(command, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_and_cargo_run_variables_are_outer_but_locations_are_kept() {
        for outer in [
            "NEXTEST_PROFILE",
            "NEXTEST_RUN_ID",
            "NEXTEST_TEST_THREADS",
            "__NEXTEST_ORIGINAL_CARGO",
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PROFILE_DEV_OPT_LEVEL",
            "CARGO_BUILD_TARGET",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
            "CARGO_BIN_EXE_xtask",
        ] {
            assert!(is_outer_run_variable(outer), "{outer}");
        }
        for kept in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_NET_OFFLINE",
            "CARGO_TERM_COLOR",
            "PATH",
            "RUSTUP_TOOLCHAIN",
            "NEXTEST",
        ] {
            assert!(!is_outer_run_variable(kept), "{kept}");
        }
    }

    #[test]
    fn isolate_removes_what_the_outer_run_set() {
        // Under nextest and under cargo test alike, the test process has CARGO_MANIFEST_DIR.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let mut command = Command::new("env");
        isolate(&mut command);
        let output = command.output().expect("run env");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(!text.contains("CARGO_MANIFEST_DIR="), "{text}");
        assert!(!text.contains("NEXTEST_"), "{text}");
    }
}
