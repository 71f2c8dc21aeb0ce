//! Runs one conformance scenario: builds a real git repository holding a small Cargo workspace,
//! commits the base, applies the change (as a commit or left in the working tree), runs the real
//! `xtask impact` binary with `--format json`, and checks the selection against the scenario's
//! required and forbidden packages and test binaries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use xshell::{Shell, cmd};

use impact_scenarios::repo::Prepared;
use impact_scenarios::table::{Checkout, Expect, Scenario, selector_package};

/// What the user sees of a checkout: HEAD, `git status`, and every file except `.git/` and
/// `target/` directories with its contents.
#[derive(PartialEq, Eq)]
struct Snapshot {
    head: String,
    status: String,
    files: BTreeMap<PathBuf, Vec<u8>>,
}

fn snapshot(sh: &Shell, dir: &Path) -> Snapshot {
    let _cd = sh.push_dir(dir);
    let head = cmd!(sh, "git rev-parse HEAD").quiet().read().unwrap();
    let status = cmd!(sh, "git status --porcelain=v1 --untracked-files=all")
        .quiet()
        .read()
        .unwrap();
    let files = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name();
            !(e.file_type().is_dir() && (name == ".git" || name == "target"))
        })
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    Snapshot {
        head,
        status,
        files,
    }
}

/// What the engine said, parsed, plus what the harness knows about the head.
pub struct Outcome {
    pub exit: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: Option<Value>,
}

impl Outcome {
    pub fn package(&self, name: &str) -> Option<&Value> {
        self.json.as_ref()?["packages"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
    }

    pub fn selected_packages(&self) -> Vec<String> {
        self.json
            .as_ref()
            .and_then(|j| j["packages"].as_array())
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a selector is satisfied: `pkg` a package, `pkg::x` or `bin:pkg` a test binary.
    fn is_selected(&self, selector: &str) -> bool {
        let package = selector_package(selector);
        let binary = match selector.strip_prefix("bin:") {
            Some(lib) => Some(lib.to_string()),
            None => selector.contains("::").then(|| selector.to_string()),
        };
        let Some(entry) = self.package(package) else {
            return false;
        };
        match binary {
            None => true,
            Some(id) => match &entry["targets"] {
                Value::String(s) => s == "all",
                Value::Array(ids) => ids.iter().any(|t| t == id.as_str()),
                other => panic!("`targets` of {package} is neither \"all\" nor a list: {other}"),
            },
        }
    }
}

/// The engine under test: this package's `xtask` binary, or `$IMPACT_XTASK_BIN` when set (to
/// run the suite against another build, e.g. a release binary or a copy kept out of a shared
/// target directory that other builds overwrite).
pub fn xtask_binary() -> PathBuf {
    std::env::var_os("IMPACT_XTASK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_xtask")))
}

/// Builds the scenario's repository; recording scenarios record with the xtask under test.
pub fn prepare(scenario: &Scenario) -> Prepared {
    impact_scenarios::repo::prepare(scenario, &xtask_binary())
}

/// The xtask under test, run on a prepared scenario.
pub trait RunXtask {
    fn invoke(&self, extra: &[&str], format: &str, env: &[(&str, &Path)]) -> Outcome;
    fn xtask(&self, args: &[String], env: &[(&str, &Path)]) -> Outcome;
}

impl RunXtask for Prepared {
    /// Runs `xtask impact --manifest-path .. --base .. [--head ..] <extra> --format <format>`
    /// with `env` added to a clean environment.
    fn invoke(&self, extra: &[&str], format: &str, env: &[(&str, &Path)]) -> Outcome {
        let mut args = self.revision_args("impact");
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(["--format".into(), format.into()]);
        self.xtask(&args, env)
    }

    /// Runs the xtask under test in the scenario's checkout with `env` added to a clean
    /// environment.
    fn xtask(&self, args: &[String], env: &[(&str, &Path)]) -> Outcome {
        let bin = xtask_binary();
        let sh = &self.repo.sh;
        let _cd = sh.push_dir(&self.workdir);
        let mut command = impact_scenarios::repo::isolated(cmd!(sh, "{bin} {args...}"))
            .env(
                "CARGO_TARGET_DIR",
                self.manifest.parent().unwrap().join("target"),
            )
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("XTASK_WORKSPACE_ROOT");
        for (key, value) in env {
            command = command.env(key, value);
        }
        let output = command
            .quiet()
            .ignore_status()
            .output()
            .expect("run the xtask");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        Outcome {
            exit: output.status.code().unwrap_or(-1),
            json: serde_json::from_str(&stdout).ok(),
            stdout,
            stderr,
        }
    }
}

/// True when this test process is itself traced (for instance while `xtask impact record`
/// records this suite): ptrace does not nest, so recording scenarios cannot run here.
pub fn traced() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("TracerPid:").map(|v| v.trim() != "0"))
        })
        .unwrap_or(false)
}

/// Says why a recording scenario does not run under a tracer; true when it must not.
pub fn skip_when_traced(name: &str) -> bool {
    let skip = traced();
    if skip {
        println!(
            "impact-conformance: {name}: not run: this process is traced and ptrace does not nest"
        );
    }
    skip
}

pub fn run(scenario: &Scenario) {
    if scenario.record && skip_when_traced(scenario.name) {
        return;
    }
    let prepared = prepare(scenario);
    let before = snapshot(&prepared.repo.sh, &prepared.workdir);
    let outcome = prepared.invoke(scenario.extra_args, "json", &[]);
    let context = format!(
        "scenario `{}`: exit {}\n--- stdout\n{}\n--- stderr\n{}",
        scenario.name, outcome.exit, outcome.stdout, outcome.stderr
    );

    // The analysis never touches the user's checkout, whatever the outcome.
    let after = snapshot(&prepared.repo.sh, &prepared.workdir);
    assert_eq!(after.head, before.head, "HEAD moved\n{context}");
    assert_eq!(after.status, before.status, "git status changed\n{context}");
    assert!(
        after.files == before.files,
        "the working tree changed\n{context}"
    );

    // A shallow clone with `--fallback all` never saw the base, so it is not echoed back.
    let echoed_base = match scenario.checkout {
        Checkout::InPlace => Some(prepared.base_sha.as_str()),
        Checkout::ShallowClone => None,
    };
    check(
        &scenario.expect,
        &outcome,
        echoed_base,
        prepared.head_sha.as_deref(),
        prepared.head_members.as_deref(),
        &context,
    );

    let selected = outcome.selected_packages();
    let mut required_packages: Vec<&str> = scenario
        .expect
        .required
        .iter()
        .map(|s| selector_package(s))
        .collect();
    required_packages.dedup();
    println!(
        "impact-conformance: {:<52} exit={} all={:<5} selected={:<3} required={:<3} packages=[{}]",
        scenario.name,
        outcome.exit,
        outcome
            .json
            .as_ref()
            .and_then(|j| j["all"].as_bool())
            .unwrap_or(false),
        selected.len(),
        required_packages.len(),
        selected.join(",")
    );
}

fn check(
    expect: &Expect,
    outcome: &Outcome,
    base_sha: Option<&str>,
    head_sha: Option<&str>,
    head_members: Option<&[String]>,
    context: &str,
) {
    assert_eq!(outcome.exit, expect.exit, "exit code\n{context}");
    for needle in expect.stderr_mentions {
        assert!(
            outcome.stderr.contains(needle),
            "stderr should mention {needle:?}\n{context}"
        );
    }
    if expect.exit != 0 {
        return;
    }
    let json = outcome
        .json
        .as_ref()
        .unwrap_or_else(|| panic!("stdout is not JSON\n{context}"));
    if let Err(err) = output_types::validate::check(&outcome.stdout) {
        panic!("{err}\n{context}");
    }
    assert_eq!(json["schema"], "impact-report/v1", "schema\n{context}");
    if let Some(sha) = base_sha {
        assert_eq!(json["base"], sha, "base sha\n{context}");
    }
    match head_sha {
        Some(sha) => assert_eq!(json["head"], sha, "head sha\n{context}"),
        None => assert!(
            json["head"].is_null(),
            "working-tree head is null\n{context}"
        ),
    }
    let filterset = json["filterset"]
        .as_str()
        .unwrap_or_else(|| panic!("`filterset` is a string\n{context}"));
    assert!(
        !filterset.contains("rdeps("),
        "the filterset names packages and binaries explicitly, never rdeps()\n{context}"
    );

    let all = json["all"]
        .as_bool()
        .unwrap_or_else(|| panic!("`all` is a bool\n{context}"));
    if let Some(want) = expect.all {
        assert_eq!(all, want, "`all`\n{context}");
    }
    let selected = outcome.selected_packages();
    if let Some(members) = head_members {
        for name in &selected {
            assert!(
                members.contains(name),
                "selected `{name}` is not a member of the head workspace\n{context}"
            );
        }
        if all {
            for member in members {
                assert!(
                    selected.contains(member),
                    "`all` is true but member `{member}` is not listed\n{context}"
                );
            }
        }
    }
    for selector in expect.required {
        assert!(
            outcome.is_selected(selector),
            "`{selector}` must be selected\n{context}"
        );
    }
    for selector in expect.forbidden {
        assert!(
            !outcome.is_selected(selector),
            "`{selector}` must not be selected\n{context}"
        );
    }
    for (name, distance) in expect.distances {
        let entry = outcome
            .package(name)
            .unwrap_or_else(|| panic!("`{name}` must be selected\n{context}"));
        assert_eq!(
            entry["distance"], *distance,
            "distance of `{name}`\n{context}"
        );
    }
    for (name, _) in expect.distances {
        let reasons = &outcome.package(name).unwrap()["reasons"];
        assert!(
            reasons.as_array().is_some_and(|r| !r.is_empty()),
            "`{name}` comes with at least one reason\n{context}"
        );
    }
    for (path, status) in expect.changed {
        let files = json["changed_files"]
            .as_array()
            .unwrap_or_else(|| panic!("`changed_files` is a list\n{context}"));
        assert!(
            files
                .iter()
                .any(|f| f["path"] == *path && f["status"] == *status),
            "changed_files must hold {path} as {status}\n{context}"
        );
    }
    for (name, needle) in expect.why {
        let entry = outcome
            .package(name)
            .unwrap_or_else(|| panic!("`{name}` must be selected\n{context}"));
        assert!(
            entry["reasons"].to_string().contains(needle),
            "the reasons of `{name}` should mention {needle:?}\n{context}"
        );
    }
    if !expect.reasons_mention.is_empty() {
        let reasons = format!(
            "{} {} {}",
            json["all_reasons"], json["packages"], json["unaffecting"]
        );
        for needle in expect.reasons_mention {
            assert!(
                reasons.contains(needle),
                "the reasons should mention {needle:?}\n{context}"
            );
        }
    }
}
