//! Runs one conformance scenario: builds a real git repository holding a small Cargo workspace,
//! commits the base, applies the change (as a commit or left in the working tree), runs the real
//! `xtask impact` binary with `--format json`, and checks the selection against the scenario's
//! required and forbidden packages and test binaries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use xshell::{Shell, cmd};

use crate::scenarios::{Base, Checkout, Expect, Head, Op, Scenario};

/// A temporary git repository with a workspace in it. Dropping it deletes everything.
pub struct Repo {
    _dir: tempfile::TempDir,
    /// Where the workspace's git repository lives (the shallow clone, when there is one).
    pub root: PathBuf,
    /// Local git repositories standing in for remote dependency sources (`@EXT@` in files).
    pub ext: PathBuf,
    pub sh: Shell,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::Builder::new()
            .prefix("impact-conformance-")
            .tempdir()
            .expect("create a temporary directory");
        let root = dir.path().join("repo");
        let ext = dir.path().join("ext");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&ext).unwrap();
        let sh = Shell::new().unwrap();
        // Keep the developer's git configuration (signing, hooks, templates) out of the test.
        sh.set_var("GIT_CONFIG_GLOBAL", "/dev/null");
        sh.set_var("GIT_CONFIG_NOSYSTEM", "1");
        sh.set_var("GIT_AUTHOR_NAME", "Conformance");
        sh.set_var("GIT_AUTHOR_EMAIL", "conformance@example.invalid");
        sh.set_var("GIT_COMMITTER_NAME", "Conformance");
        sh.set_var("GIT_COMMITTER_EMAIL", "conformance@example.invalid");
        sh.change_dir(&root);
        Repo {
            _dir: dir,
            root,
            ext,
            sh,
        }
    }

    fn ext_url(&self) -> String {
        format!("file://{}", self.ext.display())
    }

    pub fn write(&self, rel: &str, contents: &str) {
        let contents = contents.replace("@EXT@", &self.ext_url());
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    fn git(&self, args: &[&str]) -> String {
        cmd!(self.sh, "git {args...}")
            .quiet()
            .read()
            .unwrap_or_else(|e| panic!("git {args:?}: {e}"))
    }

    fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs `cargo metadata` so that `Cargo.lock` matches the manifests (path and local git
    /// sources only: no network), as it would in a real commit. Returns the member names.
    fn sync_lockfile(&self, manifest: &Path) -> Vec<String> {
        let target = self.root.join("target");
        let out = cmd!(
            self.sh,
            "cargo metadata --format-version 1 --manifest-path {manifest}"
        )
        .env("CARGO_TARGET_DIR", &target)
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_else(|e| panic!("cargo metadata on {}: {e}", manifest.display()));
        let metadata: Value = serde_json::from_str(&out).unwrap();
        let members: Vec<&str> = metadata["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| members.contains(&p["id"].as_str().unwrap()))
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn apply(&self, op: &Op, base_sha: &str) {
        match op {
            Op::Write(rel, text) => self.write(rel, text),
            Op::Append(rel, text) => {
                let path = self.root.join(rel);
                let mut current = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("append to {rel}: {e}"));
                current.push_str(text);
                self.write(rel, &current);
            }
            Op::Replace(rel, from, to) => {
                let path = self.root.join(rel);
                let current =
                    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("edit {rel}: {e}"));
                assert!(current.contains(from), "{rel} does not contain {from:?}");
                self.write(rel, &current.replacen(from, to, 1));
            }
            Op::Remove(rel) => {
                let path = self.root.join(rel);
                if path.is_dir() {
                    std::fs::remove_dir_all(&path).unwrap();
                } else {
                    std::fs::remove_file(&path).unwrap();
                }
            }
            Op::Rename(from, to) => {
                let to_path = self.root.join(to);
                std::fs::create_dir_all(to_path.parent().unwrap()).unwrap();
                std::fs::rename(self.root.join(from), to_path).unwrap();
            }
            Op::Git(args) => {
                let args: Vec<String> =
                    args.iter().map(|a| a.replace("@BASE@", base_sha)).collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.git(&args);
            }
            Op::ExtGit(repo, args) => {
                let _dir = self.sh.push_dir(self.ext.join(repo));
                self.git(args);
            }
            Op::Cargo(args) => {
                let args = *args;
                cmd!(self.sh, "cargo {args...}")
                    .env("CARGO_TARGET_DIR", self.root.join("target"))
                    .quiet()
                    .ignore_stderr()
                    .run()
                    .unwrap_or_else(|e| panic!("cargo {args:?}: {e}"));
            }
        }
    }

    /// `xtask impact record` on the checked-out commit: real nextest, real strace, into the
    /// default recording file under the workspace's `target/`.
    pub fn record(&self, manifest: &Path) {
        let output = self.record_output(manifest);
        assert!(
            output.status.success(),
            "impact record failed\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs `xtask impact record` and returns what it did, whatever the outcome.
    pub fn record_output(&self, manifest: &Path) -> std::process::Output {
        let bin = xtask_binary();
        let target = manifest.parent().unwrap().join("target");
        cmd!(self.sh, "{bin} impact record --manifest-path {manifest}")
            .env("CARGO_TARGET_DIR", &target)
            .env("NO_COLOR", "1")
            .env_remove("XTASK_WORKSPACE_ROOT")
            .quiet()
            .ignore_status()
            .output()
            .expect("run xtask impact record")
    }

    /// A crate in its own local git repository under `ext/`, with one commit per version,
    /// each tagged `vX.Y.Z`. `deps` goes into `[dependencies]` of every version.
    fn ext_crate(&self, name: &str, versions: &[&str], deps: &str) {
        let dir = self.ext.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let _cd = self.sh.push_dir(&dir);
        self.git(&["init", "-q", "-b", "main"]);
        for version in versions {
            let manifest = format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n\
                 [dependencies]\n{}\n",
                deps.replace("@EXT@", &self.ext_url())
            );
            std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
            std::fs::write(
                dir.join("src/lib.rs"),
                format!("pub const VERSION: &str = \"{version}\";\n"),
            )
            .unwrap();
            self.commit_all(&format!("{name} {version}"));
            self.git(&["tag", &format!("v{version}")]);
        }
    }
}

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

/// A scenario's repository after the change: ready for the engine.
pub struct Prepared {
    pub repo: Repo,
    /// Where the engine runs: the repository, or its shallow clone.
    pub workdir: PathBuf,
    pub manifest: PathBuf,
    pub base_sha: String,
    pub head_sha: Option<String>,
    /// Members of the head workspace per `cargo metadata`, when the head has a valid one.
    pub head_members: Option<Vec<String>>,
    pub pass_base: bool,
}

pub fn prepare(scenario: &Scenario) -> Prepared {
    let repo = Repo::new();
    let files = crate::scenarios::base_files(scenario.base);
    if matches!(
        scenario.base,
        Base::WorkspaceGitDep | Base::TransitiveGitDep
    ) {
        repo.ext_crate("extleaf", &["0.1.0", "0.2.0"], "");
        // `stable` starts at the first release; scenarios move it to bump the lockfile.
        let _cd = repo.sh.push_dir(repo.ext.join("extleaf"));
        repo.git(&["branch", "stable", "v0.1.0"]);
        drop(_cd);
        repo.ext_crate(
            "extwrap",
            &["1.0.0"],
            "extleaf = { git = \"@EXT@/extleaf\", branch = \"stable\" }",
        );
    }
    for (rel, text) in &files {
        repo.write(rel, text);
    }
    repo.git(&["init", "-q", "-b", "main"]);
    let manifest = repo.root.join(crate::scenarios::manifest_of(scenario.base));
    if manifest.exists() {
        repo.sync_lockfile(&manifest);
    }
    let base_sha = repo.commit_all("base");
    if scenario.record {
        repo.record(&manifest);
    }

    for op in scenario.change {
        repo.apply(op, &base_sha);
    }
    let head_members = if scenario.sync_lockfile && manifest.exists() {
        Some(repo.sync_lockfile(&manifest))
    } else {
        None
    };
    let head_sha = match scenario.head {
        Head::Commit => Some(repo.commit_all("change")),
        Head::WorkingTree => None,
    };
    for op in scenario.after {
        repo.apply(op, &base_sha);
    }

    // A shallow clone of the head: the base commit is not in it.
    let workdir = match scenario.checkout {
        Checkout::InPlace => repo.root.clone(),
        Checkout::ShallowClone => {
            let clone = repo.root.parent().unwrap().join("shallow");
            let url = format!("file://{}", repo.root.display());
            cmd!(repo.sh, "git clone -q --depth 1 {url} {clone}")
                .quiet()
                .run()
                .unwrap();
            clone
        }
    };
    let manifest = workdir.join(crate::scenarios::manifest_of(scenario.base));
    Prepared {
        repo,
        workdir,
        manifest,
        base_sha,
        head_sha,
        head_members,
        pass_base: scenario.pass_base,
    }
}

impl Prepared {
    /// Runs `xtask impact --manifest-path .. --base .. [--head ..] <extra> --format <format>`
    /// with `env` added to a clean environment.
    pub fn invoke(&self, extra: &[&str], format: &str, env: &[(&str, &Path)]) -> Outcome {
        let mut args: Vec<String> = vec![
            "impact".into(),
            "--manifest-path".into(),
            self.manifest.display().to_string(),
        ];
        if self.pass_base {
            args.extend(["--base".into(), self.base_sha.clone()]);
        }
        if let Some(head) = &self.head_sha {
            args.extend(["--head".into(), head.clone()]);
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(["--format".into(), format.into()]);
        let bin = xtask_binary();
        let sh = &self.repo.sh;
        let _cd = sh.push_dir(&self.workdir);
        let mut command = cmd!(sh, "{bin} {args...}")
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
            .expect("run xtask impact");
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

/// The package a selector names: `pkg`, `pkg::x` and `bin:pkg` all name `pkg`.
fn selector_package(selector: &str) -> &str {
    match selector.strip_prefix("bin:") {
        Some(lib) => lib,
        None => selector.split_once("::").map_or(selector, |(pkg, _)| pkg),
    }
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
    assert_eq!(json["version"], 1, "schema version\n{context}");
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
