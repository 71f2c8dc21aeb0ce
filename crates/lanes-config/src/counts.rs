//! How many tests each lane selects, remembered between runs of `cargo xtask lanes`.
//!
//! Counting a lane means building its tests with its own features, which takes minutes when
//! they differ from the last build's. A count can only change when something the build reads
//! changes, so it is stored under a key made of everything that can: the content of every file
//! of the workspace (git's view: tracked and untracked files, not ignored ones; every file but
//! the target directory outside a git checkout), the toolchain and nextest versions, the
//! environment cargo and rustc read, and the lane's packages, features and filterset. A key
//! that matches is a count that would come out the same; anything else is counted again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use support::Failure;
use support::shell::command_line;

use crate::config::{Features, LaneSelection};
use crate::workspace::Workspace;

/// Counts of earlier runs kept besides this run's, so switching branches back and forth stays
/// cheap without the file growing without end.
const KEPT: usize = 256;

/// Where the counts live: inside the target directory, which `cargo clean` empties with them.
pub fn cache_path(target_directory: &Path) -> PathBuf {
    target_directory.join("xtask").join("lane-counts.json")
}

/// The build a lane's tests are counted in: the `--workspace --all-features` build for every
/// lane with all features; for a lane with other features, the build of a lane with the same
/// features and more packages when nothing depends on the lane's own packages (their features,
/// so their tests, are then the same in both builds); else the lane's own build.
pub fn build_counted_in(
    lane: &LaneSelection,
    lanes: &[LaneSelection],
    workspace: &Workspace,
) -> Vec<String> {
    if lane.features == Features::All {
        return vec!["--workspace".to_owned(), "--all-features".to_owned()];
    }
    let independent = !lane.packages.is_empty()
        && lane
            .packages
            .iter()
            .all(|package| workspace.nothing_depends_on(package));
    let wider = lanes
        .iter()
        .filter(|other| {
            independent
                && other.features == lane.features
                && !other.packages.is_empty()
                && lane.packages.iter().all(|p| other.packages.contains(p))
        })
        .max_by_key(|other| other.packages.len());
    wider.unwrap_or(lane).build_args()
}

/// Everything outside the lane itself that a lane's test count depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Hashes the workspace's files under `root` (skipping `target_directory`) with `tools`
    /// (the toolchain's and nextest's version output) and the build environment.
    pub fn of_workspace(
        root: &Path,
        target_directory: &Path,
        tools: &[String],
    ) -> std::io::Result<Fingerprint> {
        let mut hasher = Sha256::new();
        for tool in tools {
            field(&mut hasher, tool.as_bytes());
        }
        for (name, value) in build_environment() {
            field(&mut hasher, name.as_bytes());
            field(&mut hasher, value.as_bytes());
        }
        for relative in workspace_files(root, target_directory)? {
            field(&mut hasher, relative.as_bytes());
            match std::fs::read(root.join(&relative)) {
                Ok(bytes) => field(&mut hasher, &bytes),
                // Listed by git but deleted in the work tree.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => field(&mut hasher, b"-"),
                Err(e) => return Err(e),
            }
        }
        Ok(Fingerprint(hex(&hasher.finalize())))
    }

    /// The key of one lane's count.
    pub fn key(&self, lane: &LaneSelection) -> String {
        let mut hasher = Sha256::new();
        field(&mut hasher, self.0.as_bytes());
        for arg in lane.build_args() {
            field(&mut hasher, arg.as_bytes());
        }
        field(&mut hasher, lane.filterset.as_bytes());
        hex(&hasher.finalize())
    }
}

/// Length-prefixed, so that no two different sequences of fields hash alike.
fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The variables through which cargo and rustc can be told to compile something else (flags,
/// cfgs, target, toolchain); sorted, so their order does not matter.
fn build_environment() -> BTreeMap<String, String> {
    const NAMED: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTUP_TOOLCHAIN",
        "CARGO_ENCODED_RUSTFLAGS",
    ];
    std::env::vars()
        .filter(|(name, _)| {
            NAMED.contains(&name.as_str())
                || name.starts_with("CARGO_BUILD_")
                || name.starts_with("CARGO_PROFILE_")
                || name.starts_with("CARGO_TARGET_") && name != "CARGO_TARGET_DIR"
        })
        .collect()
}

/// The workspace's files, relative to `root` with `/` separators, sorted.
fn workspace_files(root: &Path, target_directory: &Path) -> std::io::Result<Vec<String>> {
    let git = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output();
    let mut files = match git {
        Ok(output) if output.status.success() => output
            .stdout
            .split(|b| *b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect(),
        // Not a git checkout (or no git): every file but the build output.
        _ => {
            let mut files = Vec::new();
            walk(root, root, target_directory, &mut files)?;
            files
        }
    };
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(
    root: &Path,
    dir: &Path,
    target_directory: &Path,
    files: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if path == target_directory || entry.file_name() == ".git" {
                continue;
            }
            walk(root, &path, target_directory, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
    Ok(())
}

/// The counts of earlier runs, most recent first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CountCache {
    counts: Vec<(String, usize)>,
    #[serde(skip)]
    path: PathBuf,
}

impl CountCache {
    /// The cache at `path`; an absent or unreadable file is an empty cache (counting again is
    /// always correct).
    pub fn load(path: &Path) -> CountCache {
        let read = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CountCache>(&bytes).ok());
        CountCache {
            path: path.to_path_buf(),
            ..read.unwrap_or_default()
        }
    }

    pub fn get(&self, key: &str) -> Option<usize> {
        self.counts
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, count)| *count)
    }

    /// Records a count as the most recent.
    pub fn insert(&mut self, key: String, count: usize) {
        self.counts.retain(|(known, _)| *known != key);
        self.counts.insert(0, (key, count));
        self.counts.truncate(KEPT);
    }

    /// Writes the cache atomically (a reader never sees half a file).
    pub fn save(&self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        support::atomic::write_atomic(&self.path, &json)
    }
}

/// The number of tests each lane selects. A lane counted before on exactly this workspace,
/// toolchain and nextest (`lanes_config::counts`) is not counted again. The others are built as
/// few times as possible: lanes that build alike share one build, and every lane with all
/// features counts against the one `--workspace --all-features` build (what the full test run
/// builds). A package's tests depend only on its own features, which are all on either way, and
/// the lane's filterset names its packages, so the counts are the lane's own. Each lane's
/// filterset is then counted against its build's binaries without cargo.
pub fn count_tests(
    root: &Path,
    lanes: &[LaneSelection],
    workspace: &Workspace,
) -> Result<Vec<Option<usize>>, Failure> {
    let target_directory = &workspace.target_directory;
    let tools = [toolchain_version(root)?, crate::nextest::version(root)?];
    let fingerprint = || {
        Fingerprint::of_workspace(root, target_directory, &tools).map_err(|e| {
            Failure::environment(format!(
                "cannot read the workspace's files to key the test counts: {e}"
            ))
        })
    };
    let before = fingerprint()?;
    let cache_path = cache_path(target_directory);
    let mut cache = CountCache::load(&cache_path);
    let keys: Vec<String> = lanes.iter().map(|lane| before.key(lane)).collect();
    let mut counts: Vec<Option<usize>> = keys.iter().map(|key| cache.get(key)).collect();
    let remembered: Vec<&str> = lanes
        .iter()
        .zip(&counts)
        .filter(|(_, count)| count.is_some())
        .map(|(lane, _)| lane.name.as_str())
        .collect();
    if !remembered.is_empty() {
        support::note!(
            "counted before on this exact workspace, toolchain and nextest: {} ({})",
            remembered.join(", "),
            cache_path.display()
        );
    }
    let mut builds: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (index, lane) in lanes.iter().enumerate() {
        if counts[index].is_some() {
            continue;
        }
        let args = build_counted_in(lane, lanes, workspace);
        match builds.iter_mut().find(|(built, _)| *built == args) {
            Some((_, members)) => members.push(index),
            None => builds.push((args, vec![index])),
        }
    }
    if builds.is_empty() {
        return Ok(counts);
    }
    let scratch = std::env::temp_dir().join(format!("xtask-lanes-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", scratch.display())))?;
    let counted = (|| -> Result<(), Failure> {
        for (number, (args, members)) in builds.iter().enumerate() {
            let names: Vec<&str> = members.iter().map(|&i| lanes[i].name.as_str()).collect();
            let words = ["cargo", "nextest", "list"]
                .into_iter()
                .chain(args.iter().map(String::as_str));
            support::note!(
                "building the tests of lanes {} ({}/{}): {}",
                names.join(", "),
                number + 1,
                builds.len(),
                command_line(words)
            );
            let built = crate::nextest::Built::new(root, args, &scratch, &number.to_string())?;
            for &index in members {
                counts[index] = Some(built.list(root, &lanes[index].filterset)?.len());
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    counted?;
    // A build may write `Cargo.lock`, and files may be edited meanwhile: a count is remembered
    // only under the key of what it was counted on.
    if fingerprint()? != before {
        support::note!(
            "the workspace changed while counting (Cargo.lock written?): counts not remembered"
        );
        return Ok(counts);
    }
    for (key, count) in keys.into_iter().zip(&counts) {
        if let Some(count) = count {
            cache.insert(key, *count);
        }
    }
    if let Err(e) = cache.save() {
        // The counts are right; the next run counts again.
        support::note!(
            "warning: cannot remember the test counts in {}: {e}",
            cache_path.display()
        );
    }
    Ok(counts)
}

/// `rustc -vV` of the toolchain cargo uses in `root` (`$RUSTC`, else `rustc`, which rustup
/// resolves per directory).
fn toolchain_version(root: &Path) -> Result<String, Failure> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = std::process::Command::new(&rustc)
        .arg("-vV")
        .current_dir(root)
        .output()
        .map_err(|e| Failure::environment(format!("cannot run `rustc -vV`: {e}")))?;
    if !output.status.success() {
        return Err(Failure::environment(format!(
            "`rustc -vV` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(filterset: &str) -> LaneSelection {
        LaneSelection {
            name: "fast".to_owned(),
            description: String::new(),
            packages: vec!["alpha".to_owned()],
            features: Features::Default,
            profile: "default".to_owned(),
            slow: false,
            allow_empty: false,
            filterset: filterset.to_owned(),
        }
    }

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn fingerprint(root: &Path) -> Fingerprint {
        Fingerprint::of_workspace(root, &root.join("target"), &["rustc 1.91.0".to_owned()]).unwrap()
    }

    fn git(root: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", root)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn outside_git_every_file_but_the_target_directory_counts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "alpha/src/lib.rs", "#[test]\nfn a() {}\n");
        let before = fingerprint(root);
        write(root, "target/debug/junk", "build output");
        assert_eq!(
            fingerprint(root),
            before,
            "the target directory is not an input"
        );
        write(
            root,
            "alpha/src/lib.rs",
            "#[test]\nfn a() {}\n#[test]\nfn b() {}\n",
        );
        let edited = fingerprint(root);
        assert_ne!(edited, before, "a source edit is");
        write(root, "notes/new.txt", "x");
        assert_ne!(fingerprint(root), edited, "so is a new file");
    }

    #[test]
    fn in_git_untracked_files_count_and_ignored_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, ".gitignore", "/ignored\n");
        write(root, "alpha/src/lib.rs", "pub fn a() {}\n");
        let before = fingerprint(root);
        write(root, "ignored/big.bin", "anything");
        assert_eq!(fingerprint(root), before, "ignored files are not inputs");
        write(root, "alpha/src/new.rs", "#[test]\nfn new() {}\n");
        let untracked = fingerprint(root);
        assert_ne!(untracked, before, "an untracked source is");
        git(root, &["add", "-A"]);
        std::fs::remove_file(root.join("alpha/src/new.rs")).unwrap();
        assert_ne!(fingerprint(root), untracked, "a deleted tracked file is");
    }

    #[test]
    fn a_key_changes_with_the_tools_the_lane_and_its_filterset() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.rs", "");
        let base = fingerprint(dir.path());
        let other_tools = Fingerprint::of_workspace(
            dir.path(),
            &dir.path().join("target"),
            &["rustc 1.92.0".to_owned()],
        )
        .unwrap();
        assert_ne!(base.key(&lane("all()")), other_tools.key(&lane("all()")));
        assert_ne!(base.key(&lane("all()")), base.key(&lane("test(/x/)")));
        let mut all_features = lane("all()");
        all_features.features = Features::All;
        assert_ne!(base.key(&lane("all()")), base.key(&all_features));
        assert_eq!(base.key(&lane("all()")), base.key(&lane("all()")));
    }

    #[test]
    fn counts_survive_a_save_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(dir.path());
        let mut cache = CountCache::load(&path);
        assert_eq!(cache.get("k"), None, "no file is an empty cache");
        for n in 0..KEPT + 10 {
            cache.insert(format!("k{n}"), n);
        }
        cache.insert("k".to_owned(), 7);
        cache.save().unwrap();
        let loaded = CountCache::load(&path);
        assert_eq!(loaded.get("k"), Some(7));
        assert_eq!(loaded.get(&format!("k{}", KEPT + 9)), Some(KEPT + 9));
        assert_eq!(loaded.get("k0"), None, "the oldest counts are dropped");
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(
            CountCache::load(&path).get("k"),
            None,
            "a broken file is an empty cache"
        );
    }

    fn selection(name: &str, packages: &[&str], features: Features) -> LaneSelection {
        LaneSelection {
            name: name.to_owned(),
            packages: packages.iter().map(|p| p.to_string()).collect(),
            features,
            ..lane("all()")
        }
    }

    /// `cargo metadata --no-deps` of alpha, beta and gamma, where gamma dev-depends on beta.
    fn workspace() -> Workspace {
        let member = |name: &str, deps: &[&str]| {
            let deps: Vec<_> = deps
                .iter()
                .map(|d| serde_json::json!({"name": d}))
                .collect();
            serde_json::json!({"name": name, "dependencies": deps})
        };
        serde_json::from_value(serde_json::json!({
            "target_directory": "/t",
            "packages": [member("alpha", &[]), member("beta", &[]), member("gamma", &["beta"])],
        }))
        .unwrap()
    }

    #[test]
    fn a_lane_shares_a_wider_build_only_when_its_packages_features_cannot_differ() {
        let workspace = workspace();
        let core = selection("core", &["alpha", "beta"], Features::Default);
        let alpha = selection("alpha", &["alpha"], Features::Default);
        let beta = selection("beta", &["beta"], Features::Default);
        let alpha_all = selection("alpha-all", &["alpha"], Features::All);
        let alpha_listed = selection("alpha-x", &["alpha"], Features::List(vec!["x".into()]));
        let lanes = [
            core.clone(),
            alpha.clone(),
            beta.clone(),
            alpha_all.clone(),
            alpha_listed.clone(),
        ];
        let build = |lane: &LaneSelection| build_counted_in(lane, &lanes, &workspace);
        // Nothing depends on alpha: its features are its own in any build.
        assert_eq!(build(&alpha), core.build_args());
        // gamma depends on beta and could widen its features in another build.
        assert_eq!(build(&beta), beta.build_args());
        // All features: the full run's build.
        assert_eq!(build(&alpha_all), ["--workspace", "--all-features"]);
        // Other features than the wider lane's: its own build.
        assert_eq!(build(&alpha_listed), alpha_listed.build_args());
        assert_eq!(build(&core), core.build_args());
    }
}
