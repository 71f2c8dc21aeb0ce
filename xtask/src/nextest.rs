//! cargo-nextest: finding it (installing the pinned version when missing), listing the tests a
//! filterset selects, and running it with inherited output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde::Deserialize;
use support::Failure;
use support::shell::command_line;
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
    eprintln!("cargo-nextest is missing: installing {PINNED_VERSION} with `{command}`");
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

pub use lanes_config::release_lane::TestId;

#[derive(Deserialize)]
struct ListOutput {
    #[serde(rename = "rust-suites")]
    rust_suites: BTreeMap<String, Suite>,
}

#[derive(Deserialize)]
struct Suite {
    testcases: BTreeMap<String, Case>,
}

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "filter-match")]
    filter_match: FilterMatch,
}

#[derive(Deserialize)]
struct FilterMatch {
    status: String,
}

/// Every test `cargo nextest list <args>` selects. It builds first, and cargo's progress and
/// messages go to stderr as they happen.
pub fn list(root: &Path, args: &[String]) -> Result<Vec<TestId>, Failure> {
    let output = list_json(root, args)?;
    let parsed: ListOutput = serde_json::from_slice(&output).map_err(|e| {
        Failure::environment(format!("cannot read `cargo nextest list` JSON output: {e}"))
    })?;
    let mut tests = Vec::new();
    for (binary_id, suite) in parsed.rust_suites {
        for (name, case) in suite.testcases {
            if case.filter_match.status == "matches" {
                tests.push(TestId {
                    binary_id: binary_id.clone(),
                    name,
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
        return Err(Failure::check_failed(format!(
            "`{}` failed ({})",
            command_line(
                ["cargo", "nextest"]
                    .into_iter()
                    .chain(words.iter().map(|w| w.as_str()))
            ),
            output.status
        )));
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
    eprintln!("$ {}", command_line(words));
    command
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `cargo nextest`: {e}")))
}
