//! cargo-nextest: finding it (installing the pinned version when missing), listing the tests a
//! filterset selects, running it with inherited output, and its exit codes in ours. Every
//! command that runs nextest (`cargo xtask lanes`, `lane`, `release-lane`, `test --affected`,
//! `impact record`) goes through here. Progress goes to stderr (`support::note!`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use nextest_metadata::{BinaryListSummary, NextestExitCode, TestListSummary};
use support::shell::command_line;
use support::{Exit, Failure};
use xshell::{Shell, cmd};

/// The version installed when nextest is missing. `.config/nextest.toml` recommends the same
/// one and `.ci/run` installs it with the same command (a tidy test keeps the three in step).
pub const PINNED_VERSION: &str = "0.9.143";

pub fn install_command() -> String {
    format!("cargo install --locked cargo-nextest --version {PINNED_VERSION}")
}

pub use support::shell::cargo;

pub fn shell(root: &Path) -> Result<Shell, Failure> {
    let sh =
        Shell::new().map_err(|e| Failure::environment(format!("cannot start a shell: {e}")))?;
    sh.change_dir(root);
    Ok(sh)
}

/// `cargo nextest --version` as run in `root`.
pub fn version(root: &Path) -> Result<String, Failure> {
    let sh = shell(root)?;
    let cargo = cargo();
    cmd!(sh, "{cargo} nextest --version")
        .quiet()
        .read()
        .map_err(|e| Failure::environment(format!("`cargo nextest --version` failed: {e}")))
}

pub fn is_installed() -> bool {
    let Ok(sh) = Shell::new() else { return false };
    let cargo = cargo();
    cmd!(sh, "{cargo} nextest --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Makes sure `cargo nextest` works: installs the pinned version (saying so) or, with
/// `no_install`, fails with exit 3 and the exact command to run.
pub fn ensure(no_install: bool) -> Result<(), Failure> {
    if is_installed() {
        return Ok(());
    }
    let command = install_command();
    if no_install {
        return Err(Failure::environment(format!(
            "cargo-nextest is not installed (`cargo nextest` failed); install it with:\n    {command}"
        )));
    }
    support::note!("cargo-nextest is missing: installing {PINNED_VERSION} with `{command}`");
    let sh = Shell::new().map_err(|e| Failure::environment(e.to_string()))?;
    let cargo = cargo();
    cmd!(
        sh,
        "{cargo} install --locked cargo-nextest --version {PINNED_VERSION}"
    )
    .run()
    .map_err(|e| Failure::environment(format!("installing cargo-nextest failed: {e}")))?;
    if !is_installed() {
        return Err(Failure::environment(
            "cargo-nextest was installed but `cargo nextest` still fails: is $CARGO_HOME/bin on PATH?",
        ));
    }
    Ok(())
}

pub use crate::release_lane::TestId;

/// Every test `cargo nextest list <args>` selects. It builds first, and cargo's progress and
/// messages go to stderr as they happen.
pub fn list(root: &Path, args: &[String]) -> Result<Vec<TestId>, Failure> {
    let output = list_json(root, args)?;
    selected(&output)
}

/// The tests a `cargo nextest list --message-format json` document selects, read with nextest's
/// own types (`nextest-metadata`).
fn selected(json: &[u8]) -> Result<Vec<TestId>, Failure> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Failure::environment(format!("cannot read `cargo nextest list` JSON output: {e}"))
    };
    let text = std::str::from_utf8(json).map_err(|e| unreadable(&e))?;
    let summary = TestListSummary::parse_json(text).map_err(|e| unreadable(&e))?;
    let mut tests = Vec::new();
    for (binary_id, suite) in summary.rust_suites {
        for (name, case) in suite.test_cases {
            if case.filter_match.is_match() {
                tests.push(TestId {
                    binary_id: binary_id.as_str().to_owned(),
                    name: name.as_str().to_owned(),
                });
            }
        }
    }
    Ok(tests)
}

/// `cargo nextest list --message-format json <args>`: its stdout; stderr is inherited.
fn list_json(root: &Path, args: &[String]) -> Result<Vec<u8>, Failure> {
    let mut words = vec!["list".to_owned(), "--message-format".into(), "json".into()];
    words.extend(args.iter().cloned());
    let output = Command::new(cargo())
        .arg("nextest")
        .args(&words)
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::environment(format!("cannot run `cargo nextest list`: {e}")))?;
    if !output.status.success() {
        // The compiler's or nextest's own message, above, is the useful part.
        let command = command_line(
            ["cargo", "nextest"]
                .into_iter()
                .chain(words.iter().map(|w| w.as_str())),
        );
        return Err(failure(output.status, format!("`{command}`")));
    }
    Ok(output.stdout)
}

/// The test binaries of one build, listed once (`--list-type binaries-only`) with the
/// workspace's `cargo metadata`, so that several filtersets can be counted against them
/// without cargo building or checking anything again.
pub struct Built {
    binaries: PathBuf,
    metadata: PathBuf,
}

impl Built {
    /// Builds with `build_args` and writes what nextest needs to reuse the build into `dir`
    /// (`name` keeps several builds apart there).
    pub fn new(
        root: &Path,
        build_args: &[String],
        dir: &Path,
        name: &str,
    ) -> Result<Built, Failure> {
        let mut args = vec!["--list-type".to_owned(), "binaries-only".to_owned()];
        args.extend(build_args.iter().cloned());
        let binaries = list_json(root, &args)?;
        let sh = shell(root)?;
        let cargo = cargo();
        let metadata = cmd!(sh, "{cargo} metadata --format-version 1 --all-features")
            .quiet()
            .output()
            .map_err(|e| Failure::environment(format!("`cargo metadata` failed: {e}")))?
            .stdout;
        let write = |suffix: &str, bytes: &[u8]| {
            let path = dir.join(format!("{name}-{suffix}.json"));
            std::fs::write(&path, bytes)
                .map(|()| path)
                .map_err(|e| Failure::environment(format!("cannot write {}: {e}", dir.display())))
        };
        Ok(Built {
            binaries: write("binaries", &binaries)?,
            metadata: write("metadata", &metadata)?,
        })
    }

    /// The test binaries built: each one's package id and path.
    pub fn binaries(&self) -> Result<Vec<(String, PathBuf)>, Failure> {
        let unreadable = |e: &dyn std::fmt::Display| {
            Failure::environment(format!(
                "cannot read the test binaries nextest listed in {}: {e}",
                self.binaries.display()
            ))
        };
        let text = std::fs::read_to_string(&self.binaries).map_err(|e| unreadable(&e))?;
        let summary: BinaryListSummary = serde_json::from_str(&text).map_err(|e| unreadable(&e))?;
        Ok(summary
            .rust_binaries
            .into_values()
            .map(|binary| (binary.package_id, binary.binary_path.into_std_path_buf()))
            .collect())
    }

    /// Every test `filterset` selects among the built binaries.
    pub fn list(&self, root: &Path, filterset: &str) -> Result<Vec<TestId>, Failure> {
        list(
            root,
            &[
                "--binaries-metadata".to_owned(),
                self.binaries.display().to_string(),
                "--cargo-metadata".to_owned(),
                self.metadata.display().to_string(),
                "-E".to_owned(),
                filterset.to_owned(),
            ],
        )
    }
}

/// Runs `cargo nextest <args>` in `root` with output going straight to the terminal.
pub fn run(root: &Path, args: &[String]) -> Result<ExitStatus, Failure> {
    run_with_env(root, args, &[])
}

/// [`run`] with extra environment variables (a target runner, for instance).
pub fn run_with_env(
    root: &Path,
    args: &[String],
    env: &[(String, String)],
) -> Result<ExitStatus, Failure> {
    let sh = shell(root)?;
    let cargo = cargo();
    let mut command: Command = cmd!(sh, "{cargo} nextest {args...}").into();
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let words = ["cargo", "nextest"]
        .into_iter()
        .chain(args.iter().map(String::as_str));
    support::note!("$ {}", command_line(words));
    command
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `cargo nextest`: {e}")))
}

/// What a failed `cargo nextest` run means in this workspace's exit codes (README.md,
/// "Commands"), with nextest's documented codes (`NextestExitCode`): failing tests, or a
/// selection without tests, are a failed check (1); a workspace that does not build, a filterset,
/// profile or configuration nextest refuses are invalid input (2); a run that was killed, or that
/// nextest could not carry out (archives, listing test binaries, setup scripts, writing output,
/// a nextest too old for the configuration) is the environment (3). A code nextest does not
/// document stays a failed check, as nextest says unknown failures are 1.
pub fn exit_of(status: ExitStatus) -> (Exit, &'static str) {
    let Some(code) = status.code() else {
        return (Exit::Environment, "killed by a signal");
    };
    match code {
        NextestExitCode::OK => (Exit::Success, "ok"),
        NextestExitCode::TEST_RUN_FAILED => (Exit::CheckFailed, "tests failed"),
        NextestExitCode::NO_TESTS_RUN => (Exit::CheckFailed, "no tests to run"),
        NextestExitCode::BUILD_FAILED => (Exit::InvalidInput, "the tests do not build"),
        NextestExitCode::CARGO_METADATA_FAILED => (Exit::InvalidInput, "`cargo metadata` failed"),
        NextestExitCode::INVALID_FILTERSET => (Exit::InvalidInput, "the filterset is invalid"),
        // Not in nextest's list: its command line parser's usage error.
        2 => (Exit::InvalidInput, "nextest refused its arguments"),
        NextestExitCode::SETUP_ERROR => (
            Exit::InvalidInput,
            "nextest refused its arguments or configuration",
        ),
        NextestExitCode::EXPERIMENTAL_FEATURE_NOT_ENABLED => (
            Exit::InvalidInput,
            "an experimental nextest feature is not enabled",
        ),
        NextestExitCode::REQUIRED_VERSION_NOT_MET => (
            Exit::Environment,
            "the installed nextest is older than the configuration requires",
        ),
        NextestExitCode::ARCHIVE_CREATION_FAILED => {
            (Exit::Environment, "the archive could not be created")
        }
        NextestExitCode::TEST_LIST_CREATION_FAILED => {
            (Exit::Environment, "the test binaries could not be listed")
        }
        NextestExitCode::SETUP_SCRIPT_FAILED => (Exit::Environment, "a setup script failed"),
        NextestExitCode::WRITE_OUTPUT_ERROR => (Exit::Environment, "output could not be written"),
        NextestExitCode::DOUBLE_SPAWN_ERROR => {
            (Exit::Environment, "a test process could not be started")
        }
        _ => (Exit::CheckFailed, "failed"),
    }
}

/// The failure of `what` (a lane, a command) when `cargo nextest` ended with `status`.
pub fn failure(status: ExitStatus, what: impl std::fmt::Display) -> Failure {
    let (exit, meaning) = exit_of(status);
    let code = status
        .code()
        .map_or_else(|| "a signal".to_owned(), |c| c.to_string());
    Failure::new(
        exit,
        format!("{what} failed: {meaning} (cargo nextest exited with {code})"),
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;

    use super::*;

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn only_failing_tests_are_a_failed_check_setup_errors_are_2_or_3() {
        for (code, exit) in [
            (0, Exit::Success),
            (100, Exit::CheckFailed),
            (4, Exit::CheckFailed),
            (101, Exit::InvalidInput),
            (102, Exit::InvalidInput),
            (94, Exit::InvalidInput),
            (96, Exit::InvalidInput),
            (2, Exit::InvalidInput),
            (92, Exit::Environment),
            (103, Exit::Environment),
            (104, Exit::Environment),
            (105, Exit::Environment),
            (110, Exit::Environment),
            (1, Exit::CheckFailed),
            (17, Exit::CheckFailed),
        ] {
            assert_eq!(exit_of(exited(code)).0, exit, "nextest exit {code}");
        }
        // SIGKILL: the run was killed, not judged.
        assert_eq!(exit_of(ExitStatus::from_raw(9)).0, Exit::Environment);
        let failure = failure(exited(94), "lane `fast`");
        assert_eq!(failure.exit, Exit::InvalidInput);
        assert_eq!(
            failure.message.as_deref(),
            Some("lane `fast` failed: the filterset is invalid (cargo nextest exited with 94)")
        );
    }

    #[test]
    fn a_test_list_is_read_with_nextests_types_keeping_only_matches() {
        // The shape `cargo nextest list --message-format json` prints (nextest 0.9.143).
        let json = r#"{
            "rust-build-meta": {
                "target-directory": "/t", "build-directory": "/t", "base-output-directories": ["debug"],
                "non-test-binaries": {}, "build-script-out-dirs": {}, "linked-paths": [],
                "platforms": {
                    "host": {"platform": {"triple": "x86_64-unknown-linux-gnu", "target-features": "all"},
                             "libdir": {"status": "available", "path": "/l"}},
                    "targets": []
                },
                "target-platforms": [], "target-platform": null
            },
            "test-count": 2,
            "rust-suites": {
                "alpha": {
                    "package-name": "alpha", "binary-id": "alpha", "binary-name": "alpha",
                    "package-id": "path+file:///w/alpha#0.1.0", "kind": "lib",
                    "binary-path": "/t/debug/deps/alpha-1", "build-platform": "target",
                    "cwd": "/w/alpha", "status": "listed",
                    "testcases": {
                        "tests::kept": {"ignored": false, "filter-match": {"status": "matches"}},
                        "tests::dropped": {"ignored": false,
                            "filter-match": {"status": "mismatch", "reason": "expression"}}
                    }
                }
            }
        }"#;
        assert_eq!(
            selected(json.as_bytes()).unwrap(),
            [TestId {
                binary_id: "alpha".to_owned(),
                name: "tests::kept".to_owned(),
            }]
        );
        let broken = selected(b"{\"rust-suites\": 3}").unwrap_err();
        assert_eq!(broken.exit, Exit::Environment);
    }
}
