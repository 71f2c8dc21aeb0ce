//! Builds a conformance scenario ([`crate::table`]) as a real git repository: the base workspace
//! committed, then the change, as a commit or left in the working tree.
//!
//! A scenario that cannot be built is a bug in the table or a broken git/cargo, so building
//! panics with the step that failed, in the suite and in the bench alike.

use std::path::{Path, PathBuf};

use serde_json::Value;
use xshell::{Shell, cmd};

use crate::table::{Base, Checkout, Head, Op, Scenario};

/// `command` without the variables of the cargo or nextest run we may be inside of (a
/// scenario's cargo and nextest must run as they would for a person: `support::nested`).
pub fn isolated(command: xshell::Cmd<'_>) -> xshell::Cmd<'_> {
    support::nested::isolated(command, xshell::Cmd::env_remove)
}

/// `command` run in the scenario workspace of `manifest` as a person would: isolated from an
/// outer run, the scenario's own target directory, plain output, status left to the caller.
pub fn in_scenario<'a>(command: xshell::Cmd<'a>, manifest: &Path) -> xshell::Cmd<'a> {
    let target = manifest.parent().unwrap().join("target");
    isolated(command)
        .env("CARGO_TARGET_DIR", target)
        .env("NO_COLOR", "1")
        .env_remove("XTASK_WORKSPACE_ROOT")
        .quiet()
        .ignore_status()
}

/// A directory under the system temp dir, removed with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "{prefix}{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A temporary git repository with a workspace in it. Dropping it deletes everything.
pub struct Repo {
    _dir: TempDir,
    /// Where the workspace's git repository lives (the shallow clone, when there is one).
    pub root: PathBuf,
    /// Local git repositories standing in for remote dependency sources (`@EXT@` in files).
    pub ext: PathBuf,
    pub sh: Shell,
}

impl Repo {
    fn new() -> Repo {
        let dir = TempDir::new("impact-conformance-");
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

    pub fn git(&self, args: &[&str]) -> String {
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
        let out = isolated(cmd!(
            self.sh,
            "cargo metadata --format-version 1 --manifest-path {manifest}"
        ))
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
                isolated(cmd!(self.sh, "cargo {args...}"))
                    .env("CARGO_TARGET_DIR", self.root.join("target"))
                    .quiet()
                    .ignore_stderr()
                    .run()
                    .unwrap_or_else(|e| panic!("cargo {args:?}: {e}"));
            }
        }
    }

    /// A crate in its own local git repository under `ext/`, with one commit per version,
    /// each tagged `vX.Y.Z`. `deps` goes into `[dependencies]` of every version.
    /// `xtask impact record` on the checked-out commit: real nextest, real strace, into the
    /// default recording file under the workspace's `target/`.
    pub fn record(&self, xtask: &Path, manifest: &Path) {
        let output = self.record_output(xtask, manifest);
        assert!(
            output.status.success(),
            "impact record failed\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Runs `xtask impact record` and returns what it did, whatever the outcome.
    pub fn record_output(&self, xtask: &Path, manifest: &Path) -> std::process::Output {
        in_scenario(
            cmd!(self.sh, "{xtask} impact record --manifest-path {manifest}"),
            manifest,
        )
        .output()
        .expect("run xtask impact record")
    }

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

impl Prepared {
    /// `<command> --manifest-path .. --base .. [--head ..]` for this scenario.
    pub fn revision_args(&self, command: &str) -> Vec<String> {
        let mut args: Vec<String> = command.split(' ').map(str::to_owned).collect();
        args.extend([
            "--manifest-path".into(),
            self.manifest.display().to_string(),
        ]);
        if self.pass_base {
            args.extend(["--base".into(), self.base_sha.clone()]);
        }
        if let Some(head) = &self.head_sha {
            args.extend(["--head".into(), head.clone()]);
        }
        args
    }
}

/// Builds `scenario`; `xtask` is the binary that records the base when the scenario asks for a
/// recording.
pub fn prepare(scenario: &Scenario, xtask: &Path) -> Prepared {
    let repo = Repo::new();
    let files = crate::table::base_files(scenario.base);
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
    let manifest = repo.root.join(crate::table::manifest_of(scenario.base));
    if manifest.exists() {
        repo.sync_lockfile(&manifest);
    }
    let base_sha = repo.commit_all("base");
    if scenario.record {
        repo.record(xtask, &manifest);
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
    let manifest = workdir.join(crate::table::manifest_of(scenario.base));
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
