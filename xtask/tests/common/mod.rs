//! A small Cargo workspace in a temporary directory, and the real xtask binary pointed at it.
//!
//! Every fixture test calls `mark(ID)` when it runs, which creates `$LANE_MARKERS/ID` and
//! fails if it already exists: the marker directory says exactly which tests ran, and that
//! none ran twice.

#![allow(dead_code)] // each test binary uses its own part of the fixture

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Tests of the fixture, per crate: (crate, unit tests, integration tests in tests/smoke.rs).
pub const CRATES: &[(&str, &[&str], &[&str])] = &[
    (
        "alpha",
        &[
            "doubles",
            "slow_doubles_many",
            "smoke_double",
            "slow_smoke_double",
        ],
        &["smoke_end_to_end", "slow_smoke_end_to_end"],
    ),
    ("beta", &["adds", "smoke_adds"], &[]),
    ("gamma", &["signs"], &[]),
];

pub const LANES: &str = r#"critical = ["alpha", "beta"]

[lanes.core]
packages = ["group:core"]

[lanes.smoke]
packages = ["group:core"]
filter = "test(/smoke/)"

[lanes.smoke-slow]
packages = ["group:core"]
filter = "test(/smoke/)"
slow = true

[lanes.everything]
slow = true
profile = "ci"

[lanes.empty]
filter = "test(=no_such_test)"

[lanes.empty-ok]
filter = "test(=no_such_test)"
allow-empty = true

[lanes.release]
tests-from = "manifests/release-lane.toml"
profile = "release"
slow = true

[impact]
# Impact analysis reads this table (preflight checks it); lanes leave it alone.
recording-max-age = 50
"#;

const GROUPS: &str = r#"[groups.core]
members = ["alpha", "beta"]

[groups.enterprise]
members = ["gamma"]
may-depend-on = ["core"]
"#;

const NEXTEST: &str = r#"[profile.ci]
fail-fast = false

[profile.release]
fail-fast = false

[profile.release.junit]
path = "junit.xml"
"#;

pub struct Fixture {
    dir: TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = Fixture { dir };
        let members: Vec<String> = CRATES
            .iter()
            .map(|(name, _, _)| format!("\"{name}\""))
            .collect();
        fixture.write(
            "Cargo.toml",
            &format!(
                "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
                members.join(", ")
            ),
        );
        for (name, unit, integration) in CRATES {
            fixture.write(
                &format!("{name}/Cargo.toml"),
                &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            );
            fixture.write(&format!("{name}/src/lib.rs"), &lib_rs(name, unit));
            if !integration.is_empty() {
                fixture.write(
                    &format!("{name}/tests/smoke.rs"),
                    &integration_rs(name, integration),
                );
            }
        }
        fixture.write("lanes.toml", LANES);
        fixture.write("deps-groups.toml", GROUPS);
        fixture.write(".config/nextest.toml", NEXTEST);
        fixture.write("manifests/release-lane.toml", "version = 1\n");
        std::fs::create_dir_all(fixture.markers()).unwrap();
        fixture
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn markers(&self) -> PathBuf {
        self.root().join("markers")
    }

    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// The xtask binary, pointed at the fixture, building into the fixture's own target dir.
    pub fn xtask(&self, args: &[&str]) -> Command {
        let mut command = xtask_command();
        command
            .args(args)
            .env("XTASK_WORKSPACE_ROOT", self.root())
            .env("CARGO_TARGET_DIR", self.root().join("target"))
            .env("LANE_MARKERS", self.markers())
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_ACTIONS");
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.xtask(args).output().expect("run xtask"))
    }

    /// Ids (`crate::test`) of the tests that ran since the last call, which clears them.
    pub fn take_marked(&self) -> BTreeSet<String> {
        let mut ran = BTreeSet::new();
        for entry in std::fs::read_dir(self.markers()).unwrap() {
            let entry = entry.unwrap();
            ran.insert(entry.file_name().to_string_lossy().into_owned());
            std::fs::remove_file(entry.path()).unwrap();
        }
        ran
    }
}

/// The xtask binary, without the outer test run's cargo and nextest variables: the cargo or
/// nextest it starts must behave as it does for a person (`support::nested`).
pub fn xtask_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    support::nested::isolate(&mut command);
    command
}

/// The output of one xtask run, with both streams as text for assertions.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().expect("exited normally"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Whether stderr has a diagnostic with `code` whose location and message start with
    /// `located` (`lanes.toml:4:8: ...`; the file may be printed with its directory).
    pub fn has_diagnostic(&self, code: &str, located: &str) -> bool {
        let prefix = format!("error[{code}]: ");
        self.stderr.lines().any(|line| {
            line.strip_prefix(&prefix).is_some_and(|rest| {
                rest.starts_with(located) || rest.contains(&format!("/{located}"))
            })
        })
    }
}

impl Run {
    /// Asserts invalid input (exit 2) reported with every `(code, located)` diagnostic of
    /// `expected` (see [`Run::has_diagnostic`]).
    pub fn assert_diagnostics(&self, expected: &[(&str, &str)]) {
        assert_eq!(self.code, 2, "{self}");
        for expected in expected {
            assert!(
                self.has_diagnostic(expected.0, expected.1),
                "missing `{expected:?}` in:\n{self}"
            );
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Every test id the fixture has, as `mark` records them.
pub fn all_test_ids() -> BTreeSet<String> {
    CRATES
        .iter()
        .flat_map(|(name, unit, integration)| {
            unit.iter()
                .chain(integration.iter())
                .map(move |t| format!("{name}-{t}"))
        })
        .collect()
}

fn lib_rs(name: &str, tests: &[&str]) -> String {
    let mut text = String::from(
        "/// Records that test `id` ran; panics if it already did.\n\
         pub fn mark(id: &str) {\n\
         \x20   if let Some(dir) = std::env::var_os(\"LANE_MARKERS\") {\n\
         \x20       std::fs::OpenOptions::new().write(true).create_new(true)\n\
         \x20           .open(std::path::Path::new(&dir).join(id))\n\
         \x20           .unwrap_or_else(|e| panic!(\"{id} ran twice? {e}\"));\n\
         \x20   }\n\
         }\n\n#[cfg(test)]\nmod tests {\n",
    );
    for test in tests {
        text.push_str(&format!(
            "    #[test]\n    fn {test}() {{\n        super::mark(\"{name}-{test}\");\n    }}\n"
        ));
    }
    text.push_str("}\n");
    text
}

fn integration_rs(name: &str, tests: &[&str]) -> String {
    tests
        .iter()
        .map(|test| format!("#[test]\nfn {test}() {{\n    {name}::mark(\"{name}-{test}\");\n}}\n"))
        .collect()
}
