//! How many tests each lane selects, remembered between runs of `cargo xtask lanes`.
//!
//! Counting a lane means building its tests with its own features, which takes minutes when
//! they differ from the last build's. A count can only change when something its build reads
//! changes, so it is remembered with what that is, and reused while none of it changed:
//! - the lane itself (packages, features, filterset), the toolchain and nextest versions and the
//!   environment cargo and rustc read;
//! - the workspace's build configuration: the root `Cargo.toml`, `Cargo.lock`, `.cargo/config`,
//!   the toolchain file and `.config/nextest.toml`;
//! - every file of the packages the lane's tests are built from (its members, the members they
//!   depend on, the path dependencies they name; a file belongs to the nearest package
//!   directory above it), added and deleted ones included: a new `tests/x.rs` is a new binary;
//! - the files outside those packages that the compiler read for the lane's test binaries
//!   (`include!`, `include_str!`, `#[path]`), and the environment variables their code reads
//!   (`env!`), as rustc's dep-info lists them after the build. When one of the packages has a
//!   build script, which may read anything, every file outside every package counts instead.
//!
//! An edit anywhere else (another crate, the docs, the CI files) keeps the count; the files of
//! the workspace are git's view (tracked and untracked, not ignored), every file but the target
//! directory outside a git checkout.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use support::Failure;
use support::paths::lexically_normal;
use support::shell::command_line;

use crate::config::{Features, LaneSelection};
use crate::workspace::{BuiltFrom, Workspace};

/// Counts of earlier runs kept besides this run's, so switching branches back and forth stays
/// cheap without the file growing without end.
const KEPT: usize = 256;

/// The build configuration every lane's count depends on, read whether or not git lists it
/// (a lockfile may be ignored).
const CONFIGURATION: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".cargo/config",
    ".cargo/config.toml",
    "rust-toolchain",
    "rust-toolchain.toml",
    ".config/nextest.toml",
];

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

/// The workspace's files as they are now, each with the package directory it belongs to, and
/// the digests of their contents (each file read at most once).
pub struct WorkspaceFiles {
    root: PathBuf,
    target_directory: PathBuf,
    /// Relative to `root` with `/` separators, sorted, with the owning package's directory.
    files: Vec<(String, Option<String>)>,
    /// What does not depend on the workspace's files: the tools and the build environment.
    tools: String,
    digests: RefCell<HashMap<String, String>>,
}

/// A lane's count and what it was counted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// [`WorkspaceFiles::key`]: everything known before the build.
    key: String,
    /// What the build showed it read besides.
    read: ReadElsewhere,
    count: usize,
}

/// What the compiler read for a lane's test binaries besides the files of its packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadElsewhere {
    /// Files of the workspace outside the lane's packages, with their digests.
    files: Vec<(String, String)>,
    /// Environment variables the code reads at compile time, with their values.
    environment: Vec<(String, Option<String>)>,
}

impl WorkspaceFiles {
    /// Lists the files under `root` (skipping `target_directory`) and the package directories
    /// of `workspace`; `tools` is the toolchain's and nextest's version output.
    pub fn list(
        root: &Path,
        target_directory: &Path,
        workspace: &Workspace,
        tools: &[String],
    ) -> std::io::Result<WorkspaceFiles> {
        let root = root.canonicalize()?;
        let packages: Vec<String> = workspace
            .package_directories()
            .iter()
            .filter_map(|dir| relative_inside(&root, dir))
            .collect();
        let files = workspace_files(&root, target_directory)?
            .into_iter()
            .map(|file| {
                let owner = packages
                    .iter()
                    .filter(|dir| within(dir, &file))
                    .max_by_key(|dir| dir.len())
                    .cloned();
                (file, owner)
            })
            .collect();
        let mut hasher = Sha256::new();
        for tool in tools {
            field(&mut hasher, tool.as_bytes());
        }
        for (name, value) in build_environment() {
            field(&mut hasher, name.as_bytes());
            field(&mut hasher, value.as_bytes());
        }
        Ok(WorkspaceFiles {
            root,
            target_directory: target_directory.to_path_buf(),
            files,
            tools: hex(&hasher.finalize()),
            digests: RefCell::default(),
        })
    }

    /// The digest of a file's content (`-` for a missing one).
    fn digest(&self, relative: &str) -> std::io::Result<String> {
        if let Some(known) = self.digests.borrow().get(relative) {
            return Ok(known.clone());
        }
        let digest = match std::fs::read(self.root.join(relative)) {
            Ok(bytes) => hex(&Sha256::digest(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "-".to_owned(),
            Err(e) => return Err(e),
        };
        self.digests
            .borrow_mut()
            .insert(relative.to_owned(), digest.clone());
        Ok(digest)
    }

    /// Everything a lane's count depends on that is known before its build: the tools, the
    /// lane, the build configuration and every file of the packages its tests are built from
    /// (`built_from`). `None` when a package lies outside the workspace's directory, whose
    /// files are not listed: such a lane is counted every time.
    pub fn key(
        &self,
        lane: &LaneSelection,
        built_from: &BuiltFrom,
    ) -> std::io::Result<Option<String>> {
        let mut directories = BTreeSet::new();
        for dir in &built_from.directories {
            match relative_inside(&self.root, dir) {
                Some(relative) => directories.insert(relative),
                None => return Ok(None),
            };
        }
        let mut hasher = Sha256::new();
        field(&mut hasher, self.tools.as_bytes());
        for arg in lane.build_args() {
            field(&mut hasher, arg.as_bytes());
        }
        field(&mut hasher, lane.filterset.as_bytes());
        for file in CONFIGURATION {
            field(&mut hasher, file.as_bytes());
            field(&mut hasher, self.digest(file)?.as_bytes());
        }
        for (file, owner) in &self.files {
            let read = match owner {
                Some(dir) => directories.contains(dir),
                None => built_from.build_script,
            };
            if read {
                field(&mut hasher, file.as_bytes());
                field(&mut hasher, self.digest(file)?.as_bytes());
            }
        }
        Ok(Some(hex(&hasher.finalize())))
    }

    /// What the compiler read for `binaries` beyond the packages of `built_from`, by their
    /// dep-info files (`deps/NAME-HASH.d` beside each binary). `None` when one is missing: what
    /// that binary read is unknown, so its count is not remembered.
    fn read_by(
        &self,
        binaries: &[PathBuf],
        built_from: &BuiltFrom,
    ) -> std::io::Result<Option<ReadElsewhere>> {
        let directories: BTreeSet<String> = built_from
            .directories
            .iter()
            .filter_map(|dir| relative_inside(&self.root, dir))
            .collect();
        let mut files = BTreeSet::new();
        let mut environment = BTreeSet::new();
        for binary in binaries {
            let Ok(text) = std::fs::read_to_string(binary.with_extension("d")) else {
                return Ok(None);
            };
            let dep_info = DepInfo::parse(&text);
            environment.extend(dep_info.environment);
            for path in dep_info.files {
                let path = self.root.join(path);
                if lexically_normal(&path).starts_with(&self.target_directory) {
                    continue; // generated by a build script, whose inputs count already
                }
                let Some(relative) = relative_inside(&self.root, &path) else {
                    continue; // the toolchain's or a registry crate's: Cargo.lock and the tools
                };
                let owned = directories.iter().any(|dir| within(dir, &relative));
                if !owned {
                    files.insert(relative);
                }
            }
        }
        // Hashed after the build: an edit to one of these during the build is missed, as cargo
        // itself would miss it until the file's next change.
        let files = files
            .into_iter()
            .map(|file| self.digest(&file).map(|digest| (file, digest)))
            .collect::<std::io::Result<_>>()?;
        let environment = environment
            .into_iter()
            .map(|name| {
                let value = std::env::var(&name).ok();
                (name, value)
            })
            .collect();
        Ok(Some(ReadElsewhere { files, environment }))
    }

    /// Whether everything a remembered count read beyond its key is as it was.
    fn unchanged(&self, remembered: &Remembered) -> bool {
        remembered
            .read
            .files
            .iter()
            .all(|(file, digest)| self.digest(file).is_ok_and(|now| now == *digest))
            && remembered
                .read
                .environment
                .iter()
                .all(|(name, value)| std::env::var(name).ok() == *value)
    }
}

/// The files and environment variables rustc's dep-info (`--emit dep-info`) says a crate read.
#[derive(Debug, Default, PartialEq, Eq)]
struct DepInfo {
    files: Vec<PathBuf>,
    environment: Vec<String>,
}

impl DepInfo {
    /// Every file has a line `PATH:` of its own (spaces escaped as `\ `); the target lines
    /// above them list the same files after `TARGET: `. Variables read with `env!` are
    /// `# env-dep:NAME=VALUE` lines; those cargo sets for every crate are left out.
    fn parse(text: &str) -> DepInfo {
        let mut dep_info = DepInfo::default();
        for line in text.lines() {
            if let Some(variable) = line.strip_prefix("# env-dep:") {
                let name = variable.split('=').next().unwrap_or(variable);
                if !name.starts_with("CARGO") && name != "OUT_DIR" {
                    dep_info.environment.push(name.to_owned());
                }
            } else if let Some(path) = line.strip_suffix(':')
                && !line.starts_with('#')
                && !path.replace("\\ ", "").contains(": ")
            {
                dep_info.files.push(PathBuf::from(path.replace("\\ ", " ")));
            }
        }
        dep_info
    }
}

/// Whether the relative file `file` lies in the relative directory `dir` (`""` is the root).
fn within(dir: &str, file: &str) -> bool {
    dir.is_empty()
        || file
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `path` relative to `root` with `/` separators (`""` for the root itself), after resolving
/// `.` and `..` by their names; `None` when it lies outside `root`.
fn relative_inside(root: &Path, path: &Path) -> Option<String> {
    let relative = lexically_normal(path)
        .strip_prefix(root)
        .ok()?
        .to_path_buf();
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
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
    /// A file of another shape (an older version's) reads as empty.
    #[serde(default)]
    lanes: Vec<Remembered>,
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

    /// The count remembered under `key` whose other reads `files` finds unchanged.
    pub fn get(&self, key: &str, files: &WorkspaceFiles) -> Option<usize> {
        self.lanes
            .iter()
            .find(|known| known.key == key && files.unchanged(known))
            .map(|known| known.count)
    }

    /// Records a count as the most recent.
    pub fn insert(&mut self, remembered: Remembered) {
        self.lanes
            .retain(|known| known.key != remembered.key || known.read != remembered.read);
        self.lanes.insert(0, remembered);
        self.lanes.truncate(KEPT);
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

/// The number of tests each lane selects. A lane whose count is remembered with nothing it
/// depends on changed (this module's documentation) is not counted again. The others are built
/// as few times as possible: lanes that build alike share one build, and every lane with all
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
    let unreadable = |e: std::io::Error| {
        Failure::environment(format!(
            "cannot read the workspace's files to key the test counts: {e}"
        ))
    };
    let built_from: Vec<BuiltFrom> = lanes
        .iter()
        .map(|lane| workspace.built_from(&lane.packages, &lane.features))
        .collect();
    let keys_now = || -> Result<(WorkspaceFiles, Vec<Option<String>>), Failure> {
        let files =
            WorkspaceFiles::list(root, target_directory, workspace, &tools).map_err(unreadable)?;
        let keys = lanes
            .iter()
            .zip(&built_from)
            .map(|(lane, built_from)| files.key(lane, built_from))
            .collect::<std::io::Result<_>>()
            .map_err(unreadable)?;
        Ok((files, keys))
    };
    let (files, keys) = keys_now()?;
    let cache_path = cache_path(target_directory);
    let mut cache = CountCache::load(&cache_path);
    let mut counts: Vec<Option<usize>> = keys
        .iter()
        .map(|key| key.as_deref().and_then(|key| cache.get(key, &files)))
        .collect();
    let remembered: Vec<&str> = lanes
        .iter()
        .zip(&counts)
        .filter(|(_, count)| count.is_some())
        .map(|(lane, _)| lane.name.as_str())
        .collect();
    if !remembered.is_empty() {
        support::note!(
            "counted before, and nothing their tests are built from changed: {} ({})",
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
    let mut reads = vec![None; lanes.len()];
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
            let binaries = built.binaries()?;
            for &index in members {
                let lane = &lanes[index];
                counts[index] = Some(built.list(root, &lane.filterset)?.len());
                let own: Vec<PathBuf> = binaries
                    .iter()
                    .filter(|(package, _)| {
                        lane.packages.is_empty()
                            || workspace
                                .member_with_id(package)
                                .is_some_and(|name| lane.packages.iter().any(|p| p == name))
                    })
                    .map(|(_, binary)| binary.clone())
                    .collect();
                reads[index] = files
                    .read_by(&own, &built_from[index])
                    .map_err(unreadable)?;
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    counted?;
    // A build may write `Cargo.lock`, and files may be edited meanwhile: a count is remembered
    // only when what it was counted on is still what it was before the build.
    let (_, keys_after) = keys_now()?;
    let mut changed = Vec::new();
    for (index, lane) in lanes.iter().enumerate() {
        let (Some(key), Some(count), Some(read)) =
            (&keys[index], counts[index], reads[index].take())
        else {
            continue;
        };
        if keys_after[index].as_ref() != Some(key) {
            changed.push(lane.name.as_str());
            continue;
        }
        cache.insert(Remembered {
            key: key.clone(),
            read,
            count,
        });
    }
    if !changed.is_empty() {
        support::note!(
            "what the tests of lanes {} are built from changed while counting (Cargo.lock written?): their counts are not remembered",
            changed.join(", ")
        );
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

    /// `cargo metadata --no-deps` of alpha, beta and gamma under `root`, where gamma
    /// dev-depends on beta and beta has a build script when `beta_builds` is set.
    fn workspace_at(root: &Path, beta_builds: bool) -> Workspace {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let member = |name: &str, deps: &[&str], build: bool| {
            let deps: Vec<_> = deps
                .iter()
                .map(|d| serde_json::json!({"name": d, "path": root.join(d)}))
                .collect();
            let mut targets = vec![serde_json::json!({"kind": ["lib"]})];
            if build {
                targets.push(serde_json::json!({"kind": ["custom-build"]}));
            }
            serde_json::json!({
                "name": name,
                "id": format!("path+file://{}#{name}@0.1.0", root.join(name).display()),
                "manifest_path": root.join(name).join("Cargo.toml"),
                "dependencies": deps,
                "targets": targets,
            })
        };
        serde_json::from_value(serde_json::json!({
            "target_directory": root.join("target"),
            "packages": [
                member("alpha", &[], false),
                member("beta", &[], beta_builds),
                member("gamma", &["beta"], false),
            ],
        }))
        .unwrap()
    }

    fn workspace() -> Workspace {
        workspace_at(Path::new("/w"), false)
    }

    fn files(root: &Path, workspace: &Workspace, tools: &str) -> WorkspaceFiles {
        WorkspaceFiles::list(root, &root.join("target"), workspace, &[tools.to_owned()]).unwrap()
    }

    /// The key of `lane` over the workspace under `root` as it is now.
    fn key_of(root: &Path, workspace: &Workspace, lane: &LaneSelection) -> String {
        let files = files(root, workspace, "rustc 1.91.0");
        files
            .key(lane, &workspace.built_from(&lane.packages, &lane.features))
            .unwrap()
            .unwrap()
    }

    fn three_crates(root: &Path) {
        for name in ["alpha", "beta", "gamma"] {
            write(root, &format!("{name}/Cargo.toml"), "[package]\n");
            write(root, &format!("{name}/src/lib.rs"), "#[test]\nfn a() {}\n");
        }
        write(root, "Cargo.toml", "[workspace]\n");
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
    fn a_key_covers_the_lanes_packages_and_the_configuration_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        three_crates(root);
        let workspace = workspace_at(root, false);
        let mut gamma = lane("all()");
        gamma.packages = vec!["gamma".to_owned()];
        let alpha = lane("all()");
        let before = (
            key_of(root, &workspace, &alpha),
            key_of(root, &workspace, &gamma),
        );

        write(root, "target/debug/junk", "build output");
        write(root, "docs/notes.md", "outside every package");
        write(root, "alpha/README.md", "x");
        let now = (
            key_of(root, &workspace, &alpha),
            key_of(root, &workspace, &gamma),
        );
        assert_ne!(now.0, before.0, "a new file of alpha is alpha's");
        assert_eq!(
            now.1, before.1,
            "the target directory, docs and alpha are not gamma's"
        );

        write(root, "beta/src/lib.rs", "#[test]\nfn b() {}\n");
        let edited = (
            key_of(root, &workspace, &alpha),
            key_of(root, &workspace, &gamma),
        );
        assert_eq!(edited.0, now.0, "alpha does not depend on beta");
        assert_ne!(edited.1, now.1, "gamma's tests are built with beta");

        write(root, "Cargo.lock", "# changed\n");
        let locked = (
            key_of(root, &workspace, &alpha),
            key_of(root, &workspace, &gamma),
        );
        assert_ne!(locked.0, edited.0, "the lockfile is every lane's");
        assert_ne!(locked.1, edited.1);
    }

    #[test]
    fn with_a_build_script_every_file_outside_the_packages_counts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        three_crates(root);
        let workspace = workspace_at(root, true);
        let mut beta = lane("all()");
        beta.packages = vec!["beta".to_owned()];
        let before = (
            key_of(root, &workspace, &lane("all()")),
            key_of(root, &workspace, &beta),
        );
        write(root, "docs/notes.md", "a build script may read this");
        let after = (
            key_of(root, &workspace, &lane("all()")),
            key_of(root, &workspace, &beta),
        );
        assert_eq!(after.0, before.0, "alpha has no build script");
        assert_ne!(after.1, before.1, "beta has one");
    }

    #[test]
    fn in_git_untracked_files_count_and_ignored_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        three_crates(root);
        write(root, ".gitignore", "/alpha/ignored\n");
        let workspace = workspace_at(root, false);
        let before = key_of(root, &workspace, &lane("all()"));
        write(root, "alpha/ignored/big.bin", "anything");
        assert_eq!(
            key_of(root, &workspace, &lane("all()")),
            before,
            "ignored files are not inputs"
        );
        write(root, "alpha/src/new.rs", "#[test]\nfn new() {}\n");
        let untracked = key_of(root, &workspace, &lane("all()"));
        assert_ne!(untracked, before, "an untracked source is");
        git(root, &["add", "-A"]);
        std::fs::remove_file(root.join("alpha/src/new.rs")).unwrap();
        assert_ne!(
            key_of(root, &workspace, &lane("all()")),
            untracked,
            "a deleted tracked file is"
        );
    }

    #[test]
    fn a_key_changes_with_the_tools_the_lane_and_its_filterset() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        three_crates(root);
        let workspace = workspace_at(root, false);
        let key = |tools: &str, lane: &LaneSelection| {
            files(root, &workspace, tools)
                .key(lane, &workspace.built_from(&lane.packages, &lane.features))
                .unwrap()
                .unwrap()
        };
        let base = key("rustc 1.91.0", &lane("all()"));
        assert_ne!(base, key("rustc 1.92.0", &lane("all()")));
        assert_ne!(base, key("rustc 1.91.0", &lane("test(/x/)")));
        let mut all_features = lane("all()");
        all_features.features = Features::All;
        assert_ne!(base, key("rustc 1.91.0", &all_features));
        assert_eq!(base, key("rustc 1.91.0", &lane("all()")));
    }

    #[test]
    fn a_package_outside_the_workspace_directory_is_never_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("w");
        three_crates(&root);
        let workspace = workspace_at(&root, false);
        let mut built_from = workspace.built_from(&["alpha".to_owned()], &Features::Default);
        built_from.directories.insert(dir.path().join("elsewhere"));
        let files = files(&root, &workspace, "rustc");
        assert_eq!(files.key(&lane("all()"), &built_from).unwrap(), None);
    }

    #[test]
    fn dep_info_lists_every_file_and_the_variables_code_reads() {
        let text = "/t/deps/beta-1: beta/src/lib.rs beta/src/../../outside/with\\ space.rs\n\
                    \n\
                    /t/deps/beta-1.d: beta/src/lib.rs beta/src/../../outside/with\\ space.rs\n\
                    \n\
                    beta/src/lib.rs:\n\
                    beta/src/../../outside/with\\ space.rs:\n\
                    \n\
                    # env-dep:CARGO_MANIFEST_DIR=/w/beta\n\
                    # env-dep:GREETING=hello\n";
        assert_eq!(
            DepInfo::parse(text),
            DepInfo {
                files: vec![
                    PathBuf::from("beta/src/lib.rs"),
                    PathBuf::from("beta/src/../../outside/with space.rs"),
                ],
                environment: vec!["GREETING".to_owned()],
            }
        );
    }

    #[test]
    fn what_a_binary_read_outside_its_packages_is_remembered_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        three_crates(root);
        write(root, "outside/tests.rs", "#[test]\nfn outside() {}\n");
        let binary = root.join("target/debug/deps/alpha-1");
        write(
            root,
            "target/debug/deps/alpha-1.d",
            "alpha/src/lib.rs:\nalpha/src/../../outside/tests.rs:\n/rust/lib/core.rs:\n\
             target/debug/build/out.rs:\n",
        );
        let workspace = workspace_at(root, false);
        let built_from = workspace.built_from(&["alpha".to_owned()], &Features::Default);
        let files = files(root, &workspace, "rustc");
        let read = files
            .read_by(std::slice::from_ref(&binary), &built_from)
            .unwrap()
            .unwrap();
        assert_eq!(
            read.files
                .iter()
                .map(|(file, _)| file.as_str())
                .collect::<Vec<_>>(),
            ["outside/tests.rs"],
            "alpha's own files are in its key; the toolchain's and generated ones are not files of the workspace"
        );
        let remembered = Remembered {
            key: "k".to_owned(),
            read,
            count: 1,
        };
        assert!(files.unchanged(&remembered));
        write(
            root,
            "outside/tests.rs",
            "#[test]\nfn outside() {}\n#[test]\nfn more() {}\n",
        );
        let workspace_now = workspace_at(root, false);
        assert!(
            !super::WorkspaceFiles::list(root, &root.join("target"), &workspace_now, &[])
                .unwrap()
                .unchanged(&remembered)
        );
        assert_eq!(
            files
                .read_by(&[root.join("target/debug/deps/missing-2")], &built_from)
                .unwrap(),
            None,
            "no dep-info, nothing remembered"
        );
    }

    #[test]
    fn counts_survive_a_save_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        three_crates(dir.path());
        let workspace = workspace_at(dir.path(), false);
        let files = files(dir.path(), &workspace, "rustc");
        let path = cache_path(dir.path());
        let remembered = |key: String, count: usize| Remembered {
            key,
            read: ReadElsewhere::default(),
            count,
        };
        let mut cache = CountCache::load(&path);
        assert_eq!(cache.get("k", &files), None, "no file is an empty cache");
        for n in 0..KEPT + 10 {
            cache.insert(remembered(format!("k{n}"), n));
        }
        cache.insert(remembered("k".to_owned(), 7));
        cache.save().unwrap();
        let loaded = CountCache::load(&path);
        assert_eq!(loaded.get("k", &files), Some(7));
        assert_eq!(
            loaded.get(&format!("k{}", KEPT + 9), &files),
            Some(KEPT + 9)
        );
        assert_eq!(
            loaded.get("k0", &files),
            None,
            "the oldest counts are dropped"
        );
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(
            CountCache::load(&path).get("k", &files),
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
