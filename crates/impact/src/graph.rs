//! The workspace graph the engine reasons over: local packages (members and path
//! dependencies), their test binaries, the dependency edges between them, and each member's
//! resolved external dependency closure. Built from `cargo metadata --all-features` (the
//! resolve CI and the full test command build) plus every declared path dependency, optional
//! ones included, so a dependent behind a feature is a dependent. Stored with
//! workspace-relative paths so it can be cached by content and reused from any checkout.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata, PackageId, TargetKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use support::{Failure, Located};
use xshell::{Shell, cmd};

use crate::cache;
use crate::git::Repo;

/// The kind of a dependency edge, as cargo resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    Normal,
    Build,
    Dev,
}

impl EdgeKind {
    pub fn verb(self) -> &'static str {
        match self {
            EdgeKind::Normal => "depends on",
            EdgeKind::Build => "build-depends on",
            EdgeKind::Dev => "dev-depends on",
        }
    }
}

/// How one local package's resolved inputs differ between two graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionChange {
    /// Index in the head graph.
    pub package: usize,
    pub what: ResolutionChangeKind,
    /// `+line` for what the head adds, `-line` for what it drops.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolutionChangeKind {
    /// External packages its normal and build dependencies reach: compiled into dependents too.
    Dependencies,
    /// What its dev-dependencies add: its own tests only.
    DevDependencies,
    /// Its own enabled features.
    Features,
}

/// Compares every local package present in both graphs (matched by name): its external
/// closures (name, version, source, features) and its own enabled features.
pub fn resolution_changes(base: &Graph, head: &Graph) -> Vec<ResolutionChange> {
    fn diff(head: BTreeSet<&str>, base: BTreeSet<&str>) -> Vec<String> {
        let mut changes: Vec<String> = head.difference(&base).map(|l| format!("+{l}")).collect();
        changes.extend(base.difference(&head).map(|l| format!("-{l}")));
        changes
    }
    let base_names = base.name_index();
    let mut found = Vec::new();
    for (index, package) in head.packages.iter().enumerate() {
        let Some(&base_index) = base_names.get(package.name.as_str()) else {
            continue;
        };
        let old = &base.packages[base_index];
        let comparisons = [
            (
                ResolutionChangeKind::Dependencies,
                diff(head.lines(&package.closure), base.lines(&old.closure)),
            ),
            (
                ResolutionChangeKind::DevDependencies,
                diff(
                    head.lines(&package.dev_closure),
                    base.lines(&old.dev_closure),
                ),
            ),
            (
                ResolutionChangeKind::Features,
                diff(
                    package.features.iter().map(String::as_str).collect(),
                    old.features.iter().map(String::as_str).collect(),
                ),
            ),
        ];
        for (what, changes) in comparisons {
            if !changes.is_empty() {
                found.push(ResolutionChange {
                    package: index,
                    what,
                    changes,
                });
            }
        }
    }
    found
}

/// What a target compiles to, for nextest binary ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKindLite {
    Lib,
    Bin,
    Test,
    Bench,
    Example,
    BuildScript,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    pub kind: TargetKindLite,
    /// Workspace-relative path of the crate root.
    pub src_path: String,
    /// nextest binary id, or `None` for build scripts.
    pub binary_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// Workspace-relative directory ("" for the root package; may start with "../").
    pub dir: String,
    pub member: bool,
    pub targets: Vec<Target>,
    /// Resolved features of this package.
    pub features: Vec<String>,
    /// Edges to local packages this one depends on, under any feature setting.
    pub deps: Vec<(usize, EdgeKind)>,
    /// The edges of `deps` that exist only when a feature of this package is enabled.
    #[serde(default)]
    pub gated: Vec<GatedEdge>,
    /// Indices into [`Graph::externals`]: the resolved external packages that its normal and
    /// build dependencies reach (they are compiled into it and into its dependents).
    pub closure: Vec<u32>,
    /// What its dev-dependencies add (compiled into its own tests only).
    #[serde(default)]
    pub dev_closure: Vec<u32>,
}

/// A dependency edge declared only as `optional = true`: it exists in a build only when one
/// of `features` (of the dependent) is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatedEdge {
    pub to: usize,
    pub kind: EdgeKind,
    pub features: Vec<String>,
}

/// The local part of a workspace's resolved graph.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Graph {
    pub packages: Vec<Package>,
    /// `name version source [features]` of every external package in some member's closure.
    pub externals: Vec<String>,
}

impl Graph {
    /// Converts `cargo metadata` output (with `resolve`) into the engine's graph.
    pub fn from_metadata(metadata: &Metadata) -> Graph {
        let root = metadata.workspace_root.as_std_path();
        let members: BTreeSet<&PackageId> = metadata.workspace_members.iter().collect();
        let mut index: HashMap<&PackageId, usize> = HashMap::new();
        let mut packages = Vec::new();
        let mut local: Vec<&cargo_metadata::Package> = metadata
            .packages
            .iter()
            .filter(|p| p.source.is_none())
            .collect();
        local.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then(a.manifest_path.cmp(&b.manifest_path))
        });
        for package in local {
            index.insert(&package.id, packages.len());
            let dir = package
                .manifest_path
                .parent()
                .map(|d| relative(root, d.as_std_path()))
                .unwrap_or_default();
            let targets = package
                .targets
                .iter()
                .map(|t| {
                    let kind = target_kind(&t.kind);
                    Target {
                        name: t.name.clone(),
                        kind,
                        src_path: relative(root, t.src_path.as_std_path()),
                        binary_id: binary_id(&package.name, kind, &t.name),
                    }
                })
                .collect();
            packages.push(Package {
                name: package.name.to_string(),
                version: package.version.to_string(),
                dir,
                member: members.contains(&package.id),
                targets,
                features: Vec::new(),
                deps: Vec::new(),
                gated: Vec::new(),
                closure: Vec::new(),
                dev_closure: Vec::new(),
            });
        }
        let mut externals: Vec<String> = Vec::new();
        let mut external_index: HashMap<String, u32> = HashMap::new();
        if let Some(resolve) = &metadata.resolve {
            let nodes: HashMap<&PackageId, &cargo_metadata::Node> =
                resolve.nodes.iter().map(|n| (&n.id, n)).collect();
            let by_id: HashMap<&PackageId, &cargo_metadata::Package> =
                metadata.packages.iter().map(|p| (&p.id, p)).collect();
            for node in &resolve.nodes {
                let Some(&from) = index.get(&node.id) else {
                    continue;
                };
                let mut features: Vec<String> =
                    node.features.iter().map(|f| f.to_string()).collect();
                features.sort();
                packages[from].features = features;
                let mut deps = BTreeSet::new();
                for dep in &node.deps {
                    let Some(&to) = index.get(&dep.pkg) else {
                        continue;
                    };
                    for kind in &dep.dep_kinds {
                        let kind = match kind.kind {
                            DependencyKind::Normal => EdgeKind::Normal,
                            DependencyKind::Build => EdgeKind::Build,
                            DependencyKind::Development => EdgeKind::Dev,
                            _ => EdgeKind::Normal,
                        };
                        deps.insert((to, kind));
                    }
                }
                packages[from].deps = deps.into_iter().collect();
            }
            // Each local package's external closure: the registry/git packages its own normal
            // and build dependencies reach, and separately what its dev-dependencies add.
            // Local dependencies are left out: their changes reach dependents by the closure.
            let is_external = |id: &PackageId| by_id.get(id).is_some_and(|p| p.source.is_some());
            for node in &resolve.nodes {
                let Some(&local) = index.get(&node.id) else {
                    continue;
                };
                let mut closures = [BTreeSet::new(), BTreeSet::new()];
                for (slot, dev) in [(0, false), (1, true)] {
                    let starts = node.deps.iter().filter(|d| {
                        is_external(&d.pkg)
                            && d.dep_kinds
                                .iter()
                                .any(|k| (k.kind == DependencyKind::Development) == dev)
                    });
                    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
                    let mut queue: VecDeque<&PackageId> = starts.map(|d| &d.pkg).collect();
                    while let Some(current) = queue.pop_front() {
                        if !seen.insert(current) {
                            continue;
                        }
                        let (Some(dep_node), Some(package)) =
                            (nodes.get(current), by_id.get(current))
                        else {
                            continue;
                        };
                        let mut features: Vec<&str> =
                            dep_node.features.iter().map(|f| f.as_str()).collect();
                        features.sort_unstable();
                        let line = format!(
                            "{} {} {} [{}]",
                            package.name,
                            package.version,
                            package
                                .source
                                .as_ref()
                                .map(|s| s.repr.as_str())
                                .unwrap_or(""),
                            features.join(",")
                        );
                        let next = externals.len() as u32;
                        let at = *external_index.entry(line.clone()).or_insert_with(|| {
                            externals.push(line);
                            next
                        });
                        closures[slot].insert(at);
                        queue.extend(
                            dep_node
                                .deps
                                .iter()
                                .map(|d| &d.pkg)
                                .filter(|id| is_external(id)),
                        );
                    }
                }
                let [normal, dev] = closures;
                packages[local].dev_closure = dev.difference(&normal).copied().collect();
                packages[local].closure = normal.into_iter().collect();
            }
        }
        add_declared_edges(&mut packages, &local_order(metadata, &index), root);
        Graph {
            packages,
            externals,
        }
    }

    /// The features that gate the edge `from -> to` of `kind`, when it exists only under one.
    pub fn gate(&self, from: usize, to: usize, kind: EdgeKind) -> Option<&[String]> {
        self.packages[from]
            .gated
            .iter()
            .find(|g| g.to == to && g.kind == kind)
            .map(|g| g.features.as_slice())
    }

    pub fn members(&self) -> impl Iterator<Item = (usize, &Package)> {
        self.packages.iter().enumerate().filter(|(_, p)| p.member)
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.packages.iter().position(|p| p.name == name)
    }

    /// Package index by name (the first local package with that name).
    pub fn name_index(&self) -> HashMap<&str, usize> {
        let mut index = HashMap::with_capacity(self.packages.len());
        for (i, package) in self.packages.iter().enumerate() {
            index.entry(package.name.as_str()).or_insert(i);
        }
        index
    }

    /// An external closure as text lines.
    pub fn lines<'a>(&'a self, closure: &[u32]) -> BTreeSet<&'a str> {
        closure
            .iter()
            .map(|&i| self.externals[i as usize].as_str())
            .collect()
    }
}

/// The local packages of `metadata` paired with their graph index.
fn local_order<'m>(
    metadata: &'m Metadata,
    index: &HashMap<&PackageId, usize>,
) -> Vec<(usize, &'m cargo_metadata::Package)> {
    metadata
        .packages
        .iter()
        .filter_map(|p| index.get(&p.id).map(|&i| (i, p)))
        .collect()
}

fn edge_kind(kind: DependencyKind) -> EdgeKind {
    match kind {
        DependencyKind::Build => EdgeKind::Build,
        DependencyKind::Development => EdgeKind::Dev,
        _ => EdgeKind::Normal,
    }
}

/// Adds every path dependency the manifests declare, whatever the features (the resolve of a
/// non-member path package, for one, has only its default features), and marks the edges that
/// exist only as optional dependencies with the features that turn them on.
fn add_declared_edges(
    packages: &mut [Package],
    locals: &[(usize, &cargo_metadata::Package)],
    root: &Path,
) {
    let by_dir: HashMap<(&str, String), usize> = locals
        .iter()
        .map(|(i, p)| ((p.name.as_str(), packages[*i].dir.clone()), *i))
        .collect();
    for (from, package) in locals {
        // (to, kind) -> (some declaration is unconditional, names it is declared under)
        let mut declared: BTreeMap<(usize, EdgeKind), (bool, BTreeSet<&str>)> = BTreeMap::new();
        for dep in &package.dependencies {
            let Some(path) = &dep.path else { continue };
            let dir = relative(root, path.as_std_path());
            let Some(&to) = by_dir.get(&(dep.name.as_str(), dir)) else {
                continue;
            };
            let entry = declared
                .entry((to, edge_kind(dep.kind)))
                .or_insert((false, BTreeSet::new()));
            entry.0 |= !dep.optional;
            entry.1.insert(dep.rename.as_deref().unwrap_or(&dep.name));
        }
        let mut deps: BTreeSet<(usize, EdgeKind)> = packages[*from].deps.iter().copied().collect();
        let mut gated = Vec::new();
        for ((to, kind), (unconditional, keys)) in declared {
            deps.insert((to, kind));
            if unconditional {
                continue;
            }
            let mut features: BTreeSet<String> = package
                .features
                .iter()
                .filter(|(_, enables)| {
                    enables.iter().any(|e| {
                        keys.iter().any(|key| {
                            e == key
                                || e.strip_prefix("dep:") == Some(key)
                                || e.strip_prefix(key).is_some_and(|r| r.starts_with('/'))
                        })
                    })
                })
                .map(|(name, _)| name.clone())
                .collect();
            if features.is_empty() {
                // No feature names it: cargo's implicit feature has the dependency's name.
                features.extend(keys.iter().map(|k| (*k).to_owned()));
            }
            gated.push(GatedEdge {
                to,
                kind,
                features: features.into_iter().collect(),
            });
        }
        packages[*from].deps = deps.into_iter().collect();
        packages[*from].gated = gated;
    }
}

fn target_kind(kinds: &[TargetKind]) -> TargetKindLite {
    for kind in kinds {
        match kind {
            TargetKind::Bin => return TargetKindLite::Bin,
            TargetKind::Test => return TargetKindLite::Test,
            TargetKind::Bench => return TargetKindLite::Bench,
            TargetKind::Example => return TargetKindLite::Example,
            TargetKind::CustomBuild => return TargetKindLite::BuildScript,
            _ => {}
        }
    }
    TargetKindLite::Lib
}

/// nextest's binary id: the package name for a lib or proc-macro, `pkg::name` for an
/// integration test, `pkg::kind/name` otherwise.
pub fn binary_id(package: &str, kind: TargetKindLite, target: &str) -> Option<String> {
    Some(match kind {
        TargetKindLite::Lib => package.to_owned(),
        TargetKindLite::Test => format!("{package}::{target}"),
        TargetKindLite::Bin => format!("{package}::bin/{target}"),
        TargetKindLite::Bench => format!("{package}::bench/{target}"),
        TargetKindLite::Example => format!("{package}::example/{target}"),
        TargetKindLite::BuildScript => return None,
    })
}

/// `path` relative to `base`, `/`-separated, with `..` where `path` is outside `base`.
pub fn relative(base: &Path, path: &Path) -> String {
    let base: Vec<Component<'_>> = base.components().collect();
    let path: Vec<Component<'_>> = path.components().collect();
    let common = base.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..base.len() {
        parts.push("..".into());
    }
    for component in &path[common..] {
        parts.push(component.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

/// Joins a relative `/` path onto a `/` directory and removes `.` and `..` segments.
pub fn normalize_join(dir: &str, rel: &str) -> String {
    // An absolute `rel` starts from the root: the result is then root-relative.
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    let mut ups = 0usize;
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    ups += 1;
                }
            }
            other => parts.push(other),
        }
    }
    let mut out: Vec<&str> = std::iter::repeat_n("..", ups).collect();
    out.extend(parts);
    out.join("/")
}

/// A revision of the repository: a commit, or the working tree.
pub enum Snapshot<'a> {
    Worktree(&'a Repo),
    Commit {
        repo: &'a Repo,
        rev: String,
        files: HashMap<String, String>,
    },
}

impl<'a> Snapshot<'a> {
    pub fn commit(repo: &'a Repo, rev: &str) -> Result<Self, Failure> {
        Ok(Snapshot::Commit {
            repo,
            rev: rev.to_owned(),
            files: repo.tree(rev)?,
        })
    }

    pub fn rev(&self) -> Option<&str> {
        match self {
            Snapshot::Worktree(_) => None,
            Snapshot::Commit { rev, .. } => Some(rev),
        }
    }

    /// Every file, repository-relative.
    pub fn files(&self) -> Result<Vec<String>, Failure> {
        match self {
            Snapshot::Worktree(repo) => repo.worktree_files(),
            Snapshot::Commit { files, .. } => {
                let mut list: Vec<String> = files.keys().cloned().collect();
                list.sort();
                Ok(list)
            }
        }
    }

    /// Contents of several files (missing ones are `None`).
    pub fn read_many(&self, paths: &[&str]) -> Result<Vec<Option<Vec<u8>>>, Failure> {
        match self {
            Snapshot::Worktree(repo) => Ok(paths
                .iter()
                .map(|p| std::fs::read(repo.root.join(p)).ok())
                .collect()),
            Snapshot::Commit { repo, files, .. } => {
                let present: Vec<(usize, &str)> = paths
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| files.get(*p).map(|oid| (i, oid.as_str())))
                    .collect();
                let oids: Vec<&str> = present.iter().map(|(_, oid)| *oid).collect();
                let blobs = repo.read_blobs(&oids)?;
                let mut out = vec![None; paths.len()];
                for ((i, _), blob) in present.into_iter().zip(blobs) {
                    out[i] = Some(blob);
                }
                Ok(out)
            }
        }
    }

    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Failure> {
        Ok(self.read_many(&[path])?.pop().flatten())
    }

    /// Whether a file exists, without reading it.
    pub fn exists(&self, path: &str) -> bool {
        match self {
            Snapshot::Worktree(repo) => repo.root.join(path).is_file(),
            Snapshot::Commit { files, .. } => files.contains_key(path),
        }
    }

    /// The files directly in a directory (repository-relative paths), sorted.
    pub fn list_dir(&self, dir: &str) -> Vec<String> {
        let mut list: Vec<String> = match self {
            Snapshot::Worktree(repo) => std::fs::read_dir(repo.root.join(dir))
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .filter_map(|e| e.file_name().into_string().ok())
                        .map(|name| format!("{dir}/{name}"))
                        .collect()
                })
                .unwrap_or_default(),
            Snapshot::Commit { files, .. } => files
                .keys()
                .filter(|path| {
                    path.strip_prefix(dir)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .is_some_and(|name| !name.contains('/'))
                })
                .cloned()
                .collect(),
        };
        list.sort();
        list
    }
}

/// Files whose contents decide what `cargo metadata` says.
fn is_metadata_input(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml"
    ) || path.ends_with(".cargo/config.toml")
        || path.ends_with(".cargo/config")
}

/// Files whose mere existence decides which targets cargo discovers.
fn is_target_discovery_input(path: &str) -> bool {
    if !path.ends_with(".rs") {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "build.rs"
        || path.ends_with("src/lib.rs")
        || path.ends_with("src/main.rs")
        || path
            .split('/')
            .any(|s| matches!(s, "bin" | "tests" | "benches" | "examples"))
}

/// A loaded graph and how it was obtained.
pub struct LoadedGraph {
    pub graph: Graph,
    pub key: String,
    pub from_cache: bool,
    /// Wall time of each step of the load.
    pub phases: Vec<(String, std::time::Duration)>,
}

/// Loads the graph of the workspace at `workspace_dir` (repository-relative) in `snapshot`:
/// from the cache when its key (sha256 of every manifest, the lockfile, toolchain and cargo
/// config files, and the target file layout) is known, else by running `cargo metadata` on a
/// sparse copy of those files in a temporary directory.
/// `same_as` is a graph already loaded: when the key matches, it is reused without I/O.
pub fn load(
    snapshot: &Snapshot<'_>,
    workspace_dir: &str,
    cache_dir: Option<&Path>,
    same_as: Option<&LoadedGraph>,
) -> Result<LoadedGraph, Failure> {
    let mut clock = std::time::Instant::now();
    let mut phases = Vec::new();
    let mut lap = |name: &str, phases: &mut Vec<(String, std::time::Duration)>| {
        phases.push((name.to_owned(), clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let files = snapshot.files()?;
    let inputs: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|p| is_metadata_input(p))
        .collect();
    let layout: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|p| is_target_discovery_input(p))
        .collect();
    let mut hasher = Sha256::new();
    // v4: the all-features resolve plus declared optional edges (`gated`).
    hasher.update(b"impact-graph-v4\0");
    hasher.update(workspace_dir.as_bytes());
    hasher.update(b"\0");
    // Git blob ids name the contents: a commit lists them, and the working tree's are the
    // index's for unmodified files (hashed by git only for modified ones). The same contents
    // give the same key either way.
    let blob_ids: Vec<String> = match snapshot {
        Snapshot::Commit { files, .. } => inputs.iter().map(|p| files[*p].clone()).collect(),
        Snapshot::Worktree(repo) => repo.worktree_blob_ids(&inputs)?,
    };
    for (path, oid) in inputs.iter().zip(&blob_ids) {
        hasher.update(path.as_bytes());
        hasher.update(b"\0blob\0");
        hasher.update(oid.as_bytes());
    }
    hasher.update(b"\0layout\0");
    for path in &layout {
        hasher.update(path.as_bytes());
        hasher.update(b"\0");
    }
    let key = format!("{:x}", hasher.finalize());
    lap("list and hash metadata inputs", &mut phases);
    if let Some(known) = same_as.filter(|known| known.key == key) {
        return Ok(LoadedGraph {
            graph: known.graph.clone(),
            key,
            from_cache: true,
            phases,
        });
    }
    let cache_file = cache_dir.map(|dir| dir.join(format!("{key}.json")));
    let cached = cache_file
        .as_ref()
        .and_then(|file| std::fs::read(file).ok())
        .and_then(|bytes| serde_json::from_slice::<Graph>(&bytes).ok());
    if let Some(graph) = cached {
        lap("read cached graph", &mut phases);
        return Ok(LoadedGraph {
            graph,
            key,
            from_cache: true,
            phases,
        });
    }
    let contents = snapshot.read_many(&inputs)?;
    let scratch = Scratch::new()?;
    let mut made_dirs = HashSet::new();
    for (path, content) in inputs.iter().zip(&contents) {
        if let Some(content) = content {
            write_file(&scratch.path, path, content, &mut made_dirs)?;
        }
    }
    // Sources only need to exist for cargo to discover targets; their contents do not matter.
    for path in &layout {
        write_file(&scratch.path, path, b"", &mut made_dirs)?;
    }
    lap("write sparse copy", &mut phases);
    let manifest = scratch.path.join(workspace_dir).join("Cargo.toml");
    let metadata = run_cargo_metadata(&manifest, snapshot, &inputs, &contents, &scratch.path)?;
    lap("cargo metadata", &mut phases);
    let graph = Graph::from_metadata(&metadata);
    lap("convert metadata", &mut phases);
    if let Some(file) = &cache_file {
        // A cache that cannot be written only costs speed.
        if let Ok(bytes) = serde_json::to_vec(&graph) {
            let dir = file.parent().expect("cache file has a directory");
            let _ = std::fs::create_dir_all(dir);
            let _ = support::atomic::write_atomic(file, &bytes);
            cache::prune(dir, "json", cache::ENTRIES);
        }
    }
    lap("write cache", &mut phases);
    Ok(LoadedGraph {
        graph,
        key,
        from_cache: false,
        phases,
    })
}

fn write_file(
    root: &Path,
    relative: &str,
    content: &[u8],
    made_dirs: &mut HashSet<PathBuf>,
) -> Result<(), Failure> {
    let path = root.join(relative);
    let parent = path.parent().filter(|p| made_dirs.insert(p.to_path_buf()));
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent).map_err(|e| {
            Failure::environment(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    std::fs::write(&path, content)
        .map_err(|e| Failure::environment(format!("cannot write {}: {e}", path.display())))
}

fn run_cargo_metadata(
    manifest: &Path,
    snapshot: &Snapshot<'_>,
    inputs: &[&str],
    contents: &[Option<Vec<u8>>],
    scratch: &Path,
) -> Result<Metadata, Failure> {
    let sh = Shell::new().map_err(|e| Failure::environment(format!("cannot start: {e}")))?;
    sh.change_dir(scratch);
    // Every feature, as CI and the full test command build: a dependent behind a feature is a
    // dependent, and the lockfile comparison sees what feature-gated code resolves.
    let out = cmd!(
        sh,
        "cargo metadata --format-version 1 --all-features --manifest-path {manifest}"
    )
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| {
            Failure::environment(format!(
                "could not run cargo: {e}\nhelp: install Rust with rustup and make sure `cargo` is on PATH"
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.replace(&format!("{}/", scratch.display()), "");
        let at = match snapshot.rev() {
            Some(rev) => format!("at revision {rev}"),
            None => "in the working tree".to_owned(),
        };
        let mut failure = Failure::invalid_input(format!(
            "`cargo metadata` failed on the workspace {at}:\n{}",
            stderr.trim()
        ));
        // Point at every manifest that is not valid TOML.
        for (path, content) in inputs.iter().zip(contents) {
            let Some(content) = content else { continue };
            if !path.ends_with("Cargo.toml") {
                continue;
            }
            let text = String::from_utf8_lossy(content);
            if let Err(err) = toml::from_str::<toml::Table>(&text) {
                failure
                    .located
                    .push(Located::from_toml(&PathBuf::from(path), &text, &err));
            }
        }
        return Err(failure);
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::environment(format!("cannot read `cargo metadata` output: {e}")))
}

/// `$TMPDIR` when set, else `/dev/shm` when present (thousands of small files are written
/// there and deleted again; on tmpfs that is much faster), else the system temp dir.
fn scratch_parent() -> PathBuf {
    if std::env::var_os("TMPDIR").is_none() {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            return shm.to_path_buf();
        }
    }
    std::env::temp_dir()
}

/// A temporary directory removed on drop.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = scratch_parent().join(format!("impact-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| Failure::environment(format!("cannot create {}: {e}", path.display())))?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
