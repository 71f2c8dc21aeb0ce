//! The decision: changed files -> evidence -> directly affected packages and binaries ->
//! closure -> report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use support::{Failure, Located};

use crate::cargo_config;
use crate::closure;
use crate::git::{ChangedFile, Repo, Status};
use crate::graph::{
    self, EdgeKind, Graph, ResolutionChangeKind, Snapshot, TargetKindLite, normalize_join, relative,
};
use crate::includes::{self, IncludeKind};
use crate::manifest_diff::{self, ManifestEffect};
use crate::nextest_config;
use crate::recording::{self, Recording, UsableRecording};
use crate::report::{AffectedPackage, Reason, Report, Stats, Targets};
use crate::rules::{self, Affects, Rules};
use crate::workflows::{self, Verdict};

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The workspace's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Base revision; default: merge-base of HEAD with the default branch.
    pub base: Option<String>,
    /// Head revision; default: the working tree, with uncommitted and untracked files.
    pub head: Option<String>,
    /// Select everything instead of failing when the base revision is missing.
    pub fallback_all: bool,
    /// Where `cargo metadata` results are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Where to look for rustc dep-info; `None` skips that evidence.
    pub target_dir: Option<PathBuf>,
    /// The run-time recording (`cargo xtask impact record`); `None` uses none.
    pub recording: Option<PathBuf>,
    /// The recording was asked for by name, so its absence is worth a warning.
    pub recording_explicit: bool,
    /// Use the recording whatever commit it was made at (measuring past changes against
    /// today's recording); normally it must be an ancestor of the head and fresh enough.
    pub recording_any_commit: bool,
    /// Analyse these repository-relative files as modified in the working tree, instead of
    /// asking git what changed (`impact --explain`).
    pub assume_changed: Option<Vec<String>>,
}

/// Where `cargo xtask impact record` writes by default, relative to the workspace root.
pub const DEFAULT_RECORDING: &str = "target/impact-recording.json";

impl Options {
    /// Options for `manifest_path` with the default cache and target directories:
    /// `$CARGO_TARGET_DIR` (else the workspace's `target/`), cache under `impact-cache/`.
    pub fn for_manifest(manifest_path: impl Into<PathBuf>) -> Options {
        let manifest_path = manifest_path.into();
        let workspace = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir().unwrap_or_default().join(dir)
                }
            }
            None => workspace.join("target"),
        };
        let (recording, recording_explicit) = match std::env::var_os("IMPACT_RECORDING") {
            Some(path) => (PathBuf::from(path), true),
            None => (workspace.join(DEFAULT_RECORDING), false),
        };
        Options {
            manifest_path,
            cache_dir: Some(target_dir.join("impact-cache")),
            target_dir: Some(target_dir),
            recording: Some(recording),
            recording_explicit,
            ..Options::default()
        }
    }
}

/// The revisions an analysis compares.
pub struct Revisions {
    pub base: Option<String>,
    pub head: Option<String>,
    /// Set when the base is missing and `--fallback all` chose to select everything.
    pub fallback: Option<String>,
}

/// Finds the repository and resolves `--base` and `--head`.
pub fn resolve_revisions(repo: &Repo, options: &Options) -> Result<Revisions, Failure> {
    let head = match &options.head {
        Some(rev) => Some(resolve_named(repo, rev, "--head")?),
        None => None,
    };
    let missing = |what: String| -> Result<Revisions, Failure> {
        let message = format!(
            "{what}: this is a shallow clone without that history\n\
             help: fetch more history with `git fetch --deepen=100` (or `git fetch --unshallow`), \
             or in GitHub Actions set `fetch-depth: 0` on `actions/checkout`; \
             `--fallback all` selects every package instead"
        );
        if options.fallback_all {
            Ok(Revisions {
                base: None,
                head: head.clone(),
                fallback: Some(format!("{what} (shallow clone; --fallback all)")),
            })
        } else {
            Err(Failure::environment(message))
        }
    };
    let base = match &options.base {
        Some(rev) => match repo.resolve(rev)? {
            Some(sha) => sha,
            None if repo.is_shallow() => {
                return missing(format!("base revision `{rev}` is not in this repository"));
            }
            None => {
                return Err(Failure::invalid_input(format!(
                    "unknown base revision `{rev}`\nhelp: pass a commit, branch or tag that exists (`git log --oneline` lists them)"
                )));
            }
        },
        None => {
            let Some(branch) = repo.default_branch()? else {
                return Err(Failure::invalid_input(
                    "no default branch found (origin/HEAD, main or master)\nhelp: pass `--base REV`",
                ));
            };
            let head_rev = head.clone().unwrap_or_else(|| "HEAD".to_owned());
            match repo.merge_base(&head_rev, &branch)? {
                Some(sha) => sha,
                None if repo.is_shallow() => {
                    return missing(format!(
                        "the merge-base of {head_rev} and {branch} is not in this repository"
                    ));
                }
                None => {
                    return Err(Failure::invalid_input(format!(
                        "{head_rev} and {branch} share no history\nhelp: pass `--base REV`"
                    )));
                }
            }
        }
    };
    Ok(Revisions {
        base: Some(base),
        head,
        fallback: None,
    })
}

fn resolve_named(repo: &Repo, rev: &str, flag: &str) -> Result<String, Failure> {
    match repo.resolve(rev)? {
        Some(sha) => Ok(sha),
        None if repo.is_shallow() => Err(Failure::environment(format!(
            "{flag} revision `{rev}` is not in this shallow clone\nhelp: `git fetch --deepen=100` or `git fetch --unshallow`; in GitHub Actions set `fetch-depth: 0` on `actions/checkout`"
        ))),
        None => Err(Failure::invalid_input(format!(
            "unknown {flag} revision `{rev}`"
        ))),
    }
}

/// Runs the whole analysis.
pub fn analyze(options: &Options) -> Result<Report, Failure> {
    let mut stats = Stats::default();
    let mut clock = std::time::Instant::now();
    let manifest = options.manifest_path.canonicalize().map_err(|_| {
        Failure::invalid_input(format!(
            "{} does not exist: not a Cargo workspace\nhelp: pass `--manifest-path` pointing at a workspace's Cargo.toml",
            options.manifest_path.display()
        ))
    })?;
    if !manifest.is_file() || manifest.file_name().is_none_or(|n| n != "Cargo.toml") {
        return Err(Failure::invalid_input(format!(
            "{} is not a Cargo.toml: not a Cargo workspace",
            manifest.display()
        )));
    }
    let workspace_abs = manifest
        .parent()
        .expect("a file has a parent")
        .to_path_buf();
    let repo = Repo::discover(&workspace_abs)?;
    let workspace_dir = relative(&repo.root, &workspace_abs);
    let mut revisions = if options.assume_changed.is_some() {
        Revisions {
            base: Some(resolve_named(&repo, "HEAD", "HEAD")?),
            head: None,
            fallback: None,
        }
    } else {
        resolve_revisions(&repo, options)?
    };
    if options.assume_changed.is_some() {
        revisions.head = None;
    }
    stats.lap("resolve revisions", &mut clock);

    let head = match &revisions.head {
        Some(rev) => Snapshot::commit(&repo, rev)?,
        None => Snapshot::Worktree(&repo),
    };
    check_is_workspace(&head, &workspace_dir)?;
    let head_graph = graph::load(&head, &workspace_dir, options.cache_dir.as_deref(), None)?;
    stats.head_graph_cached = head_graph.from_cache;
    stats.cargo_metadata_runs += u32::from(!head_graph.from_cache);
    stats.phases.extend(
        head_graph
            .phases
            .iter()
            .map(|(n, d)| (format!("head graph: {n}"), *d)),
    );
    clock = std::time::Instant::now();
    let rules = load_rules(&head, &workspace_dir, &head_graph.graph)?;
    stats.lap("rules", &mut clock);

    let Some(base_rev) = revisions.base.clone() else {
        let reason = revisions.fallback.clone().unwrap_or_default();
        return Ok(everything(
            head_graph.graph,
            None,
            revisions.head,
            vec![reason],
            Vec::new(),
            stats,
        ));
    };
    let changed = match &options.assume_changed {
        Some(paths) => paths
            .iter()
            .map(|path| ChangedFile {
                path: path.clone(),
                status: Status::Modified,
                old_path: None,
            })
            .collect(),
        None => repo.changed_files(&base_rev, revisions.head.as_deref())?,
    };
    stats.lap("changed files", &mut clock);
    let mut warnings = Vec::new();
    let usable = load_recording(
        &repo,
        options,
        revisions.head.as_deref(),
        rules.recording_max_age,
        &mut warnings,
    )?;
    stats.lap("recording", &mut clock);
    let base = Snapshot::commit(&repo, &base_rev)?;
    let base_graph = graph::load(
        &base,
        &workspace_dir,
        options.cache_dir.as_deref(),
        Some(&head_graph),
    )?;
    stats.base_graph_cached = base_graph.from_cache;
    stats.cargo_metadata_runs += u32::from(!base_graph.from_cache);
    stats.phases.extend(
        base_graph
            .phases
            .iter()
            .map(|(n, d)| (format!("base graph: {n}"), *d)),
    );
    clock = std::time::Instant::now();
    let graphs_differ = base_graph.key != head_graph.key;

    let mut decision = Decision::default();
    let context = Context {
        repo: &repo,
        head: &head,
        base: &base,
        workspace_dir: &workspace_dir,
        workspace_abs: &workspace_abs,
        head_graph: &head_graph.graph,
        base_graph: &base_graph.graph,
        head_owners: Owners::new(&head_graph.graph),
        base_owners: Owners::new(&base_graph.graph),
        head_names: head_graph.graph.name_index(),
        rules: &rules,
        recording: usable.as_ref(),
        cache_dir: options.cache_dir.as_deref(),
        binaries: binary_index(&head_graph.graph),
        workflow_verdicts: std::cell::OnceCell::new(),
        excluded: Default::default(),
    };
    context.classify_files(
        &changed,
        graphs_differ,
        options.target_dir.as_deref(),
        &mut decision,
    )?;
    stats.lap("classify changed files", &mut clock);
    if graphs_differ {
        context.resolution_diff(&mut decision);
        context.members_named_by_nextest(&mut decision);
        stats.lap("resolution diff", &mut clock);
    }
    let mut report = decision.finish(&context, base_rev, revisions.head, changed, stats);
    report.stats.lap("closure and report", &mut clock);
    report.warnings = warnings;
    report.recording = usable;
    Ok(report)
}

/// nextest binary id -> head package index.
fn binary_index(graph: &Graph) -> HashMap<String, usize> {
    graph
        .packages
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.targets
                .iter()
                .filter_map(move |t| t.binary_id.clone().map(|id| (id, i)))
        })
        .collect()
}

/// The recording, when one exists for an ancestor of the head that is fresh enough and made
/// by this tool version; otherwise `None`, with a warning saying why.
fn load_recording(
    repo: &Repo,
    options: &Options,
    head: Option<&str>,
    max_age: u32,
    warnings: &mut Vec<String>,
) -> Result<Option<UsableRecording>, Failure> {
    let Some(path) = &options.recording else {
        return Ok(None);
    };
    if !path.exists() {
        if options.recording_explicit {
            warnings.push(recording::unusable(path, "it does not exist"));
        }
        return Ok(None);
    }
    let loaded = match Recording::load(path) {
        Ok(recording) => recording,
        Err(failure) => {
            let why = failure
                .located
                .first()
                .map(|l| format!("{}: {}", l.location(), l.message))
                .unwrap_or_else(|| failure.message.clone().unwrap_or_default());
            warnings.push(recording::unusable(path, why));
            return Ok(None);
        }
    };
    if loaded.schema != recording::RECORDING_SCHEMA || loaded.tool != recording::TOOL_VERSION {
        warnings.push(recording::unusable(
            path,
            format!(
                "it was made by {} ({}), this is {} ({})",
                loaded.tool,
                loaded.schema,
                recording::TOOL_VERSION,
                recording::RECORDING_SCHEMA
            ),
        ));
        return Ok(None);
    }
    if options.recording_any_commit {
        return Ok(Some(UsableRecording {
            recording: loaded,
            path: path.clone(),
            age: 0,
        }));
    }
    let head = head.unwrap_or("HEAD");
    let commit = loaded.commit.as_str();
    let short: String = commit.chars().take(12).collect();
    let ancestor = repo.git(&["merge-base", "--is-ancestor", commit, head], None)?;
    if !ancestor.ok {
        let why = if ancestor.code == Some(1) {
            format!("its commit {short} is not an ancestor of {head}")
        } else {
            format!("its commit {short} is not in this repository")
        };
        warnings.push(recording::unusable(path, why));
        return Ok(None);
    }
    let range = format!("{commit}..{head}");
    let count = repo.git(&["rev-list", "--count", &range], None)?;
    let age: u32 = String::from_utf8_lossy(&count.stdout)
        .trim()
        .parse()
        .unwrap_or(u32::MAX);
    if age > max_age {
        warnings.push(recording::unusable(
            path,
            format!(
                "its commit {short} is {age} commits old, more than `recording-max-age = {max_age}` ([impact] in lanes.toml)"
            ),
        ));
        return Ok(None);
    }
    Ok(Some(UsableRecording {
        recording: loaded,
        path: path.clone(),
        age,
    }))
}

/// Exit 2 unless the manifest is a package or a workspace root.
fn check_is_workspace(head: &Snapshot<'_>, workspace_dir: &str) -> Result<(), Failure> {
    let path = join_dir(workspace_dir, "Cargo.toml");
    let Some(bytes) = head.read(&path)? else {
        return Err(Failure::invalid_input(format!(
            "{path} does not exist at the head revision: not a Cargo workspace"
        )));
    };
    let text = String::from_utf8_lossy(&bytes);
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Failure::from(Located::from_toml(Path::new(&path), &text, &e)))?;
    if !table.contains_key("workspace") && !table.contains_key("package") {
        return Err(Failure::from(
            Located::file(
                &path,
                "not a Cargo workspace: the manifest has neither [workspace] nor [package]",
            )
            .with_help("point `--manifest-path` at the workspace root's Cargo.toml"),
        ));
    }
    Ok(())
}

fn load_rules(head: &Snapshot<'_>, workspace_dir: &str, graph: &Graph) -> Result<Rules, Failure> {
    let path = join_dir(workspace_dir, "lanes.toml");
    let Some(bytes) = head.read(&path)? else {
        return Ok(Rules::defaults());
    };
    let text = String::from_utf8_lossy(&bytes);
    let rules = Rules::parse(Path::new(&path), &text).map_err(Failure::located)?;
    let binaries = binary_index(graph);
    rules
        .validate_packages(&|name| match crate::rules::binary_selector(name) {
            Some(_) => binaries.contains_key(name),
            None => graph.find(name).is_some(),
        })
        .map_err(Failure::located)?;
    Ok(rules)
}

fn join_dir(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Selects every member.
fn everything(
    graph: Graph,
    base: Option<String>,
    head: Option<String>,
    all_reasons: Vec<String>,
    changed_files: Vec<ChangedFile>,
    stats: Stats,
) -> Report {
    // One reason per package: the first cause, pointing at `all_reasons` for the rest (a
    // change to thousands of unowned files must not repeat each one for every member).
    let mut summary = all_reasons.first().cloned().unwrap_or_default();
    if all_reasons.len() > 1 {
        summary.push_str(&format!(
            " (and {} more; see all_reasons)",
            all_reasons.len() - 1
        ));
    }
    let reason = Reason::new("all", None, summary);
    let mut packages: Vec<AffectedPackage> = graph
        .members()
        .map(|(_, p)| AffectedPackage {
            name: p.name.clone(),
            distance: 0,
            targets: Targets::All,
            tests: BTreeMap::new(),
            reasons: vec![reason.clone()],
        })
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let filterset = Report::build_filterset(&packages);
    Report {
        base,
        head,
        all: true,
        all_reasons,
        changed_files,
        packages,
        filterset,
        unaffecting: Vec::new(),
        graph,
        stats,
        warnings: Vec::new(),
        recording: None,
    }
}

/// Maps a workspace-relative path to the local package whose directory is nearest.
pub struct Owners {
    by_dir: HashMap<String, usize>,
}

impl Owners {
    pub fn new(graph: &Graph) -> Owners {
        Owners {
            by_dir: graph
                .packages
                .iter()
                .enumerate()
                .map(|(i, p)| (p.dir.clone(), i))
                .collect(),
        }
    }

    pub fn owner(&self, path: &str) -> Option<usize> {
        let mut dir = path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if let Some(&package) = self.by_dir.get(parent) {
                return Some(package);
            }
            dir = parent;
        }
        self.by_dir.get("").copied()
    }
}

/// Which part of a package a file feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The package's library or build: its dependents are affected too.
    Package,
    /// Only these test binaries (integration tests, benches, examples).
    Binaries(BTreeSet<String>),
    /// Only these tests of one binary (binary id, test names), per a run-time recording.
    Tests(String, BTreeSet<String>),
}

/// Classifies a workspace-relative file inside `package` at target level.
pub fn scope_of(graph: &Graph, package: usize, path: &str) -> Scope {
    let pkg = &graph.packages[package];
    let rel = if pkg.dir.is_empty() {
        path
    } else {
        path.strip_prefix(pkg.dir.as_str())
            .and_then(|p| p.strip_prefix('/'))
            .unwrap_or(path)
    };
    if rel == "Cargo.toml" || rel == "build.rs" {
        return Scope::Package;
    }
    let leaf_kinds = [
        TargetKindLite::Test,
        TargetKindLite::Bench,
        TargetKindLite::Example,
    ];
    let mut owned = BTreeSet::new();
    for target in pkg.targets.iter().filter(|t| leaf_kinds.contains(&t.kind)) {
        let Some(id) = &target.binary_id else {
            continue;
        };
        let src = target.src_path.as_str();
        let module_dir = if let Some(dir) = src.strip_suffix("/main.rs") {
            // `tests/x/main.rs` owns `tests/x/**`, but a `main.rs` right in `tests/` owns nothing more.
            let parent_is_kind_root = dir
                .rsplit('/')
                .next()
                .is_some_and(|d| matches!(d, "tests" | "benches" | "examples"));
            (!parent_is_kind_root).then(|| dir.to_owned())
        } else {
            src.strip_suffix(".rs").map(str::to_owned)
        };
        let under = module_dir
            .as_deref()
            .is_some_and(|d| path.strip_prefix(d).is_some_and(|r| r.starts_with('/')));
        if src == path || under {
            owned.insert(id.clone());
        }
    }
    if !owned.is_empty() {
        return Scope::Binaries(owned);
    }
    let kind_root = rel.split('/').next().unwrap_or("");
    let kind = match kind_root {
        "tests" => TargetKindLite::Test,
        "benches" => TargetKindLite::Bench,
        "examples" => TargetKindLite::Example,
        _ => return Scope::Package,
    };
    if !rel.contains('/') {
        return Scope::Package;
    }
    let ids: BTreeSet<String> = if path.ends_with(".rs") {
        // A shared module of that kind's binaries (`tests/common/mod.rs`).
        pkg.targets
            .iter()
            .filter(|t| t.kind == kind)
            .filter_map(|t| t.binary_id.clone())
            .collect()
    } else {
        // Data next to the tests may be read at run time by any of the package's tests.
        pkg.targets
            .iter()
            .filter_map(|t| t.binary_id.clone())
            .collect()
    };
    Scope::Binaries(ids)
}

struct Context<'a> {
    repo: &'a Repo,
    head: &'a Snapshot<'a>,
    base: &'a Snapshot<'a>,
    workspace_dir: &'a str,
    workspace_abs: &'a Path,
    head_graph: &'a Graph,
    base_graph: &'a Graph,
    head_owners: Owners,
    base_owners: Owners,
    head_names: HashMap<&'a str, usize>,
    rules: &'a Rules,
    recording: Option<&'a UsableRecording>,
    /// Where derived data (metadata graphs, include candidates) is cached.
    cache_dir: Option<&'a Path>,
    /// nextest binary id -> head package index.
    binaries: HashMap<String, usize>,
    /// What GitHub Actions workflows say about changed files (set once per analysis).
    workflow_verdicts: std::cell::OnceCell<BTreeMap<String, Verdict>>,
    /// `[workspace] exclude` of the root manifest, at the base and at the head.
    excluded: [std::cell::OnceCell<Vec<String>>; 2],
}

/// Evidence collected so far, keyed by head package index.
#[derive(Default)]
struct Decision {
    package_level: BTreeMap<usize, Vec<Reason>>,
    binary_level: BTreeMap<usize, (BTreeSet<String>, Vec<Reason>)>,
    /// Single tests per package: binary id -> test names (reasons go with `binary_level`).
    test_level: BTreeMap<usize, BTreeMap<String, BTreeSet<String>>>,
    all_reasons: Vec<String>,
    unaffecting: Vec<Reason>,
    /// (package, summary) pairs already recorded, so large changes stay linear.
    seen: HashSet<(usize, String)>,
    seen_all: HashSet<String>,
}

impl Decision {
    fn add(&mut self, package: usize, scope: Scope, reason: Reason) {
        let new = self.seen.insert((package, reason.summary.clone()));
        match scope {
            Scope::Package => {
                let reasons = self.package_level.entry(package).or_default();
                if new || !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
            Scope::Binaries(ids) => {
                let entry = self.binary_level.entry(package).or_default();
                entry.0.extend(ids);
                if new {
                    entry.1.push(reason);
                }
            }
            Scope::Tests(id, tests) => {
                let entry = self.binary_level.entry(package).or_default();
                if new {
                    entry.1.push(reason);
                }
                let binaries = self.test_level.entry(package).or_default();
                binaries.entry(id).or_default().extend(tests);
            }
        }
    }

    fn all(&mut self, reason: String) {
        if self.seen_all.insert(reason.clone()) {
            self.all_reasons.push(reason);
        }
    }

    fn finish(
        self,
        context: &Context<'_>,
        base: String,
        head: Option<String>,
        changed: Vec<ChangedFile>,
        stats: Stats,
    ) -> Report {
        let graph = context.head_graph;
        if !self.all_reasons.is_empty() {
            return everything(
                graph.clone(),
                Some(base),
                head,
                self.all_reasons,
                changed,
                stats,
            );
        }
        let edges: Vec<Vec<(usize, EdgeKind)>> =
            graph.packages.iter().map(|p| p.deps.clone()).collect();
        let seeds: Vec<usize> = self.package_level.keys().copied().collect();
        let reached = closure::affected(&edges, &seeds);
        let mut packages = Vec::new();
        for (index, package) in graph.members() {
            let binaries = self.binary_level.get(&index);
            let (distance, targets, mut reasons) = match reached[index] {
                Some(how) => {
                    let reasons = match self.package_level.get(&index) {
                        Some(direct) => direct.clone(),
                        None => vec![self.chain_reason(graph, &reached, index)],
                    };
                    (how.distance, Targets::All, reasons)
                }
                None => match binaries {
                    Some((ids, _)) => {
                        let all_ids: BTreeSet<&String> = package
                            .targets
                            .iter()
                            .filter_map(|t| t.binary_id.as_ref())
                            .collect();
                        let targets =
                            if !ids.is_empty() && ids.iter().collect::<BTreeSet<_>>() == all_ids {
                                Targets::All
                            } else {
                                Targets::Some(ids.iter().cloned().collect())
                            };
                        (0, targets, Vec::new())
                    }
                    None => continue,
                },
            };
            // Single tests count only for binaries not selected whole.
            let tests: BTreeMap<String, Vec<String>> = match &targets {
                Targets::All => BTreeMap::new(),
                Targets::Some(ids) => self
                    .test_level
                    .get(&index)
                    .into_iter()
                    .flatten()
                    .filter(|(id, _)| !ids.contains(id))
                    .map(|(id, tests)| (id.clone(), tests.iter().cloned().collect()))
                    .collect(),
            };
            if let Some((_, binary_reasons)) = binaries {
                // `add` recorded each summary once per package, across both lists.
                reasons.extend(binary_reasons.iter().cloned());
            }
            packages.push(AffectedPackage {
                name: package.name.clone(),
                distance,
                targets,
                tests,
                reasons,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        let filterset = Report::build_filterset(&packages);
        Report {
            base: Some(base),
            head,
            all: false,
            all_reasons: Vec::new(),
            changed_files: changed,
            packages,
            filterset,
            unaffecting: self.unaffecting,
            graph: graph.clone(),
            stats,
            warnings: Vec::new(),
            recording: None,
        }
    }

    /// `<seed evidence> -> b depends on a -> c dev-depends on b`.
    fn chain_reason(
        &self,
        graph: &Graph,
        reached: &[Option<closure::Reached>],
        index: usize,
    ) -> Reason {
        let mut steps = Vec::new();
        let mut chain = vec![graph.packages[index].name.clone()];
        let mut current = index;
        while let Some(closure::Reached {
            via: Some((from, kind)),
            ..
        }) = reached[current]
        {
            let gate = match graph.gate(current, from, kind) {
                Some(features) => format!(" (only with feature {})", feature_list(features)),
                None => String::new(),
            };
            steps.push(format!(
                "{} {} {}{gate}",
                graph.packages[current].name,
                kind.verb(),
                graph.packages[from].name
            ));
            chain.push(graph.packages[from].name.clone());
            current = from;
        }
        steps.reverse();
        chain.reverse();
        let seed = self.package_level.get(&current).and_then(|r| r.first());
        let mut summary = seed
            .map(|r| r.summary.clone())
            .unwrap_or_else(|| graph.packages[current].name.clone());
        for step in &steps {
            summary.push_str(" -> ");
            summary.push_str(step);
        }
        Reason {
            summary,
            evidence: "dependency".to_owned(),
            file: seed.and_then(|r| r.file.clone()),
            chain,
        }
    }
}

/// `` `a` `` or `` `a` or `b` ``: the features that turn an optional dependency on.
fn feature_list(features: &[String]) -> String {
    features
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A site that reads a file at compile time.
struct IncludeSite {
    package: usize,
    scope: Scope,
    from_file: String,
    kind: IncludeKind,
}

impl Context<'_> {
    /// Both ends of the change, as the manifest comparison reads them.
    fn sides(&self) -> manifest_diff::Sides<'_> {
        manifest_diff::Sides {
            head: self.head,
            base: self.base,
            workspace_dir: self.workspace_dir,
            head_graph: self.head_graph,
            base_graph: self.base_graph,
        }
    }

    fn to_workspace(&self, repo_path: &str) -> String {
        if self.workspace_dir.is_empty() {
            return repo_path.to_owned();
        }
        match repo_path
            .strip_prefix(self.workspace_dir)
            .and_then(|r| r.strip_prefix('/'))
        {
            Some(rest) => rest.to_owned(),
            None => relative(Path::new(self.workspace_dir), Path::new(repo_path)),
        }
    }

    fn classify_files(
        &self,
        changed: &[ChangedFile],
        graphs_differ: bool,
        target_dir: Option<&Path>,
        decision: &mut Decision,
    ) -> Result<(), Failure> {
        if changed.is_empty() {
            return Ok(());
        }
        let includes = self.include_index()?;
        let changed_ws: HashMap<String, &str> = changed
            .iter()
            .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()))
            .map(|p| (self.to_workspace(p), p))
            .collect();
        let dep_info = match target_dir {
            Some(dir) => self.dep_info_evidence(dir, &changed_ws),
            None => HashMap::new(),
        };
        let _ = self
            .workflow_verdicts
            .set(self.judge_workflows(changed, &changed_ws));
        let mut deleted_packages: BTreeMap<usize, String> = BTreeMap::new();
        for file in changed {
            let mut ends: Vec<(&str, bool)> = Vec::new(); // (repo path, in head)
            if file.status != Status::Deleted {
                ends.push((&file.path, true));
            }
            match (&file.status, &file.old_path) {
                (Status::Deleted, _) => ends.push((&file.path, false)),
                (Status::Renamed, Some(old)) => ends.push((old, false)),
                // A modified file whose owner moved between base and head counts at both ends.
                (Status::Modified, _) if graphs_differ && self.owner_moved(&file.path) => {
                    ends.push((&file.path, false))
                }
                _ => {}
            }
            for (repo_path, in_head) in ends {
                let path = self.to_workspace(repo_path);
                let mut explained = false;
                for site in includes
                    .get(&path)
                    .into_iter()
                    .flatten()
                    .chain(ancestors_sites(&includes, &path))
                {
                    let who = &self.head_graph.packages[site.package].name;
                    let summary = format!(
                        "{repo_path} {} {} ({who})",
                        site.kind.describe(),
                        site.from_file
                    );
                    decision.add(
                        site.package,
                        site.scope.clone(),
                        Reason::new("include", Some(repo_path), summary),
                    );
                    explained = true;
                }
                for (package, scope, crate_file) in dep_info.get(&path).into_iter().flatten() {
                    let who = &self.head_graph.packages[*package].name;
                    let summary = format!(
                        "{repo_path} is an input of {who} per rustc dep-info ({crate_file})"
                    );
                    decision.add(
                        *package,
                        scope.clone(),
                        Reason::new("dep-info", Some(repo_path), summary),
                    );
                    explained = true;
                }
                explained |= self.recorded_evidence(repo_path, file.status, decision);
                self.classify_end(
                    repo_path,
                    &path,
                    in_head,
                    explained,
                    decision,
                    &mut deleted_packages,
                );
            }
        }
        // A deleted package: what depended on it in the base still exists in the head.
        if !deleted_packages.is_empty() {
            let edges: Vec<Vec<(usize, EdgeKind)>> = self
                .base_graph
                .packages
                .iter()
                .map(|p| p.deps.clone())
                .collect();
            let seeds: Vec<usize> = deleted_packages.keys().copied().collect();
            let reached = closure::affected(&edges, &seeds);
            for (index, how) in reached.iter().enumerate() {
                let Some(how) = how else { continue };
                if how.via.is_none() {
                    continue;
                }
                let mut root = index;
                while let Some(closure::Reached {
                    via: Some((from, _)),
                    ..
                }) = reached[root]
                {
                    root = from;
                }
                let name = &self.base_graph.packages[index].name;
                if let Some(head_index) = self.head_names.get(name.as_str()).copied() {
                    let file = &deleted_packages[&root];
                    let summary = format!(
                        "{file} -> package {} was deleted -> {name} used it",
                        self.base_graph.packages[root].name
                    );
                    decision.add(
                        head_index,
                        Scope::Package,
                        Reason::new("deleted-package", Some(file), summary),
                    );
                }
            }
        }
        Ok(())
    }

    /// Verdicts on changed workflow files and files that workflow jobs run, when any changed
    /// file could be one (under `.github/`, or outside every package).
    fn judge_workflows(
        &self,
        changed: &[ChangedFile],
        changed_ws: &HashMap<String, &str>,
    ) -> BTreeMap<String, Verdict> {
        let relevant = changed_ws.iter().any(|(path, repo_path)| {
            repo_path.starts_with(".github/") || self.head_owners.owner(path).is_none()
        });
        if !relevant {
            return BTreeMap::new();
        }
        let paths: Vec<&str> = changed
            .iter()
            .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()))
            .collect();
        let base = workflows::Revision::load(&SnapshotFiles::new(self.base));
        let head = workflows::Revision::load(&SnapshotFiles::new(self.head));
        let inert = workflows::inert_list(&self.rules.inert_actions);
        workflows::judge(&paths, &base, &head, &inert)
    }

    /// The directory of a separate Cargo workspace that holds `path` below its owner's
    /// directory: listed in the root's `[workspace] exclude`, or with a `Cargo.toml` of its
    /// own that declares `[workspace]`. Cargo never builds it as part of this workspace.
    fn separate_workspace(&self, path: &str, owner_dir: &str, in_head: bool) -> Option<String> {
        let snapshot = if in_head { self.head } else { self.base };
        let excluded = self.excluded[usize::from(in_head)].get_or_init(|| {
            let manifest = join_dir(self.workspace_dir, "Cargo.toml");
            let text = snapshot.read(&manifest).ok().flatten().unwrap_or_default();
            let table: toml::Table =
                toml::from_str(&String::from_utf8_lossy(&text)).unwrap_or_default();
            table
                .get("workspace")
                .and_then(|w| w.get("exclude"))
                .and_then(|e| e.as_array())
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str())
                .map(|e| normalize_join("", e))
                .collect()
        });
        let mut current = path;
        while let Some((parent, _)) = current.rsplit_once('/') {
            if parent == owner_dir {
                break;
            }
            if excluded.iter().any(|e| e == parent) {
                return Some(parent.to_owned());
            }
            let manifest = join_dir(self.workspace_dir, &join_dir(parent, "Cargo.toml"));
            if snapshot.exists(&manifest) {
                let text = snapshot.read(&manifest).ok().flatten().unwrap_or_default();
                let declares = toml::from_str::<toml::Table>(&String::from_utf8_lossy(&text))
                    .is_ok_and(|t| t.contains_key("workspace"));
                if declares {
                    return Some(parent.to_owned());
                }
            }
            current = parent;
        }
        None
    }

    /// Whether `repo_path`, a cargo configuration file at both ends, changed only in Clippy
    /// lint flags ([`cargo_config::only_clippy_flags_changed`]).
    fn only_clippy_flags_changed(&self, repo_path: &str) -> bool {
        if !repo_path.ends_with("config") && !repo_path.ends_with("config.toml") {
            return false;
        }
        let text = |snapshot: &Snapshot<'_>| {
            snapshot
                .read(repo_path)
                .ok()
                .flatten()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        };
        match (text(self.base), text(self.head)) {
            (Some(old), Some(new)) => cargo_config::only_clippy_flags_changed(&old, &new),
            _ => false,
        }
    }

    fn owner_moved(&self, repo_path: &str) -> bool {
        let path = self.to_workspace(repo_path);
        let name = |graph: &Graph, owners: &Owners| {
            owners.owner(&path).map(|i| graph.packages[i].name.clone())
        };
        name(self.head_graph, &self.head_owners) != name(self.base_graph, &self.base_owners)
    }

    fn classify_end(
        &self,
        repo_path: &str,
        path: &str,
        in_head: bool,
        explained: bool,
        decision: &mut Decision,
        deleted_packages: &mut BTreeMap<usize, String>,
    ) {
        // Rules that add apply to every file, the root manifest and lockfile included, and
        // leave the rest of the decision to the other evidence.
        for rule in self.rules.additions(path) {
            self.select_rule_targets(rule, repo_path, path, " also", decision);
        }
        if path == "Cargo.toml" {
            let sides = self.sides();
            manifest_diff::root_manifest(&sides, repo_path, decision_sink(decision));
            self.root_manifest_read(repo_path, in_head, decision);
            return;
        }
        if path == "Cargo.lock" {
            decision.unaffecting.push(Reason::new(
                "lockfile",
                Some(repo_path),
                format!("{repo_path}: compared per member by resolved dependencies (name, version, source, features)"),
            ));
            return;
        }
        let rule = self.rules.matching(path);
        if rule.is_none_or(|r| r.is_default()) {
            // The project's own rules come first; then what workflows and the placement of
            // toolchain and cargo configuration files say; then the shipped defaults.
            let verdict = self.workflow_verdicts.get().and_then(|v| v.get(repo_path));
            match verdict {
                Some(Verdict::All(reason)) => return decision.all(reason.clone()),
                Some(Verdict::Nothing(reason)) => {
                    if !explained {
                        decision.unaffecting.push(Reason::new(
                            "workflow",
                            Some(repo_path),
                            reason.clone(),
                        ));
                    }
                    return;
                }
                None => {}
            }
            if let Some(reason) = rules::applies_to_workspace(path) {
                if self.only_clippy_flags_changed(repo_path) {
                    if !explained {
                        decision.unaffecting.push(Reason::new(
                            "cargo-config",
                            Some(repo_path),
                            format!(
                                "{repo_path}: only Clippy lint flags changed, which rustc leaves to Clippy: no test builds or runs differently"
                            ),
                        ));
                    }
                    return;
                }
                let place = if path.starts_with("../") {
                    "a directory above the workspace root"
                } else {
                    "the workspace root"
                };
                return decision.all(format!("{repo_path} is in {place}: {reason}"));
            }
        }
        if let Some(rule) = rule {
            let why = rule
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let glob = rule.glob_for(path);
            match &rule.affects {
                Affects::All => decision.all(format!(
                    "{repo_path} matches `{glob}` ({}){why}",
                    rule.origin
                )),
                Affects::Nothing => {
                    if !explained {
                        decision.unaffecting.push(Reason::new(
                            "rule",
                            Some(repo_path),
                            format!(
                                "{repo_path} matches `{glob}` ({}) -> nothing{why}",
                                rule.origin
                            ),
                        ));
                    }
                }
                Affects::Packages(_) | Affects::Also(_) => {
                    self.select_rule_targets(rule, repo_path, path, "", decision)
                }
            }
            return;
        }
        let (graph, owners) = if in_head {
            (self.head_graph, &self.head_owners)
        } else {
            (self.base_graph, &self.base_owners)
        };
        let owner = owners.owner(path);
        let separate =
            owner.and_then(|o| self.separate_workspace(path, &graph.packages[o].dir, in_head));
        match owner.filter(|_| separate.is_none()) {
            Some(owner) => {
                let name = &graph.packages[owner].name;
                let head_index = if in_head {
                    Some(owner)
                } else {
                    self.head_names.get(name.as_str()).copied()
                };
                let Some(head_index) = head_index else {
                    deleted_packages
                        .entry(owner)
                        .or_insert_with(|| repo_path.to_owned());
                    return;
                };
                let scope = scope_of(
                    self.head_graph,
                    head_index,
                    &path_in_head(graph, owner, self.head_graph, head_index, path),
                );
                let side = if in_head { "" } else { " (in the base)" };
                if in_head && let Some(read) = self.member_manifest_read(repo_path, path, owner) {
                    if let Some((scope, reason)) = read {
                        decision.add(head_index, scope, reason);
                    } else if !explained {
                        decision.unaffecting.push(Reason::new(
                            "recording",
                            Some(repo_path),
                            format!("{repo_path}: effective values unchanged and no test read it in the recording -> nothing"),
                        ));
                    }
                    return;
                }
                let (evidence, summary) = match &scope {
                    Scope::Package => ("owner", format!("{repo_path} -> owned by {name}{side}")),
                    Scope::Binaries(ids) => (
                        "target",
                        format!(
                            "{repo_path} -> only {} of {name}{side}",
                            ids.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Scope::Tests(id, tests) => (
                        "target",
                        format!(
                            "{repo_path} -> only tests {} of {id}{side}",
                            tests.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                };
                decision.add(
                    head_index,
                    scope,
                    Reason::new(evidence, Some(repo_path), summary),
                );
            }
            None if explained => {}
            None => match self.recording {
                Some(usable) => self.unread_file(repo_path, usable, decision),
                None => {
                    let belongs = separate
                        .map(|dir| format!(" (it belongs to `{dir}`, a separate Cargo workspace)"))
                        .unwrap_or_default();
                    decision.all(format!(
                        "{repo_path} is outside every package{belongs} and no rule or include explains it (add an [impact] rule in lanes.toml to narrow this)"
                    ))
                }
            },
        }
    }

    /// A member's own manifest whose effective values (inherited ones resolved) are the same
    /// at both ends: Cargo builds the member as before, so its dependents are not affected;
    /// its own tests may read the file at run time, so without a recording they are selected
    /// (with one, the tests it saw read the file were selected already). `None`: the file is
    /// not such a manifest, or its effective values changed (it then counts as the
    /// package's own).
    fn member_manifest_read(
        &self,
        repo_path: &str,
        path: &str,
        owner: usize,
    ) -> Option<Option<(Scope, Reason)>> {
        let package = &self.head_graph.packages[owner];
        if !package.member || package.dir.is_empty() || path != join_dir(&package.dir, "Cargo.toml")
        {
            return None;
        }
        let same_place = self
            .base_graph
            .members()
            .any(|(_, p)| p.name == package.name && p.dir == package.dir);
        if !same_place {
            return None;
        }
        let sides = self.sides();
        let changed = manifest_diff::member_manifest(&sides, repo_path)?;
        if !changed.is_empty() {
            return None;
        }
        if self.recording.is_some() {
            return Some(None);
        }
        let summary = format!(
            "{repo_path} changed only in how it is written (effective values, inherited ones resolved, are the same), but {}'s tests may read it at run time (a recording would tell which do)",
            package.name
        );
        Some(Some((
            all_binaries(package),
            Reason::new("manifest-read", Some(repo_path), summary),
        )))
    }

    /// The root manifest is also the root package's own file when the workspace has one: its
    /// tests may read it at run time (a version check, a test of the membership), whatever
    /// part of it changed, so without a recording they are selected (not its dependents, who
    /// do not build from the text). With a recording, the tests it saw read the file were
    /// selected already and the others did not read it.
    fn root_manifest_read(&self, repo_path: &str, in_head: bool, decision: &mut Decision) {
        if self.recording.is_some() || !in_head {
            return;
        }
        let Some((root, package)) = self.head_graph.members().find(|(_, p)| p.dir.is_empty())
        else {
            return;
        };
        let summary = format!(
            "{repo_path} is also the manifest of {}, whose tests may read it at run time (a recording would tell which do)",
            package.name
        );
        decision.add(
            root,
            all_binaries(package),
            Reason::new("manifest-read", Some(repo_path), summary),
        );
    }

    /// Selects the packages and test binaries a rule names (those the head still has).
    fn select_rule_targets(
        &self,
        rule: &crate::rules::Rule,
        repo_path: &str,
        path: &str,
        how: &str,
        decision: &mut Decision,
    ) {
        let why = rule
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let glob = rule.glob_for(path);
        for name in rule.affects.targets() {
            let summary = format!(
                "{repo_path} matches `{glob}` ({}){how} -> {name}{why}",
                rule.origin
            );
            let target = match crate::rules::binary_selector(name) {
                Some(_) => self
                    .binaries
                    .get(name.as_str())
                    .map(|&index| (index, Scope::Binaries([name.clone()].into()))),
                None => self
                    .head_names
                    .get(name.as_str())
                    .map(|&index| (index, Scope::Package)),
            };
            if let Some((index, scope)) = target {
                decision.add(index, scope, Reason::new("rule", Some(repo_path), summary));
            }
        }
    }

    /// Tests the recording saw touch `repo_path`, or list the directory it appeared in or
    /// vanished from. Returns whether any did. Each binary is selected for just those tests,
    /// unless they are all its tests, one was traced without a name, or a name cannot be
    /// written as a nextest filter: then for the whole binary.
    fn recorded_evidence(&self, repo_path: &str, status: Status, decision: &mut Decision) -> bool {
        let Some(usable) = self.recording else {
            return false;
        };
        let recording = &usable.recording;
        let mut found: Vec<(recording::TestId<'_>, String)> = recording
            .readers(repo_path)
            .into_iter()
            .map(|test| {
                let summary = format!(
                    "{repo_path} was read at run time by {} ({})",
                    shown_test(test),
                    usable.describe()
                );
                (test, summary)
            })
            .collect();
        if status != Status::Modified {
            for (dir, test) in recording.listing_readers(repo_path) {
                let dir = if dir.is_empty() {
                    "the repository root".to_owned()
                } else {
                    format!("{dir}/")
                };
                let summary = format!(
                    "{repo_path} appears in or leaves {dir}, which {} listed at run time ({})",
                    shown_test(test),
                    usable.describe()
                );
                found.push((test, summary));
            }
        }
        let mut by_binary: BTreeMap<&str, (BTreeSet<&str>, Vec<String>)> = BTreeMap::new();
        for ((id, test), summary) in found {
            let entry = by_binary.entry(id).or_default();
            entry.0.insert(test);
            entry.1.push(summary);
        }
        let mut any = false;
        for (id, (tests, summaries)) in by_binary {
            let Some(&package) = self.binaries.get(id) else {
                continue; // the binary is gone at the head
            };
            let whole = tests.iter().any(|t| !filterable_test_name(t))
                || recording
                    .test_count(id)
                    .is_some_and(|count| tests.len() as u64 >= u64::from(count));
            let scope = if whole {
                Scope::Binaries([id.to_owned()].into())
            } else {
                Scope::Tests(id.to_owned(), tests.iter().map(|t| t.to_string()).collect())
            };
            for summary in summaries {
                decision.add(
                    package,
                    scope.clone(),
                    Reason::new("recorded-read", Some(repo_path), summary),
                );
            }
            any = true;
        }
        any
    }

    /// A file outside every package that no evidence explains and no recorded test touched:
    /// nothing, except binaries the recording does not fully know (new, partly traced, or with
    /// tests that failed under the tracer), which might read it.
    fn unread_file(&self, repo_path: &str, usable: &UsableRecording, decision: &mut Decision) {
        let mut unknown: Vec<(&String, usize)> = self
            .binaries
            .iter()
            .filter(|(id, package)| {
                self.head_graph.packages[**package].member && !usable.recording.is_complete(id)
            })
            .map(|(id, package)| (id, *package))
            .collect();
        unknown.sort();
        for (id, package) in &unknown {
            let summary = format!(
                "{repo_path} is outside every package and no recorded test read it, but the {} does not cover {id} fully",
                usable.describe()
            );
            decision.add(
                *package,
                Scope::Binaries([(*id).clone()].into()),
                Reason::new("unrecorded-binary", Some(repo_path), summary),
            );
        }
        if unknown.is_empty() {
            decision.unaffecting.push(Reason::new(
                "recording",
                Some(repo_path),
                format!(
                    "{repo_path} is outside every package, no rule or include explains it, and no test read it in the {} -> nothing",
                    usable.describe()
                ),
            ));
        }
    }

    /// Included/`#[path]`/rerun-if-changed paths in the head's Rust sources.
    fn include_index(&self) -> Result<HashMap<String, Vec<IncludeSite>>, Failure> {
        let mut candidates = self
            .repo
            .include_candidates(self.head.rev(), self.cache_dir)?;
        if self.head.rev().is_none() {
            // `git grep` reads tracked files only; untracked sources are scanned directly.
            let untracked = self.repo.untracked()?.iter().filter(|p| p.ends_with(".rs"));
            candidates.extend(untracked.cloned());
        }
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let contents = self.head.read_many(&refs)?;
        let mut index: HashMap<String, Vec<IncludeSite>> = HashMap::new();
        for (repo_path, content) in candidates.iter().zip(contents) {
            let Some(content) = content else { continue };
            let path = self.to_workspace(repo_path);
            let Some(package) = self.head_owners.owner(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&content);
            let file_dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for (kind, literal) in includes::scan(&text) {
                let target = if literal.starts_with('/') {
                    relative(self.workspace_abs, Path::new(&literal))
                } else {
                    let base = if kind == IncludeKind::RerunIfChanged {
                        self.head_graph.packages[package].dir.as_str()
                    } else {
                        file_dir
                    };
                    normalize_join(base, &literal)
                };
                let scope = scope_of(self.head_graph, package, &path);
                index.entry(target).or_default().push(IncludeSite {
                    package,
                    scope,
                    from_file: repo_path.clone(),
                    kind,
                });
            }
        }
        Ok(index)
    }

    /// For each changed workspace-relative path, the packages whose dep-info lists it.
    fn dep_info_evidence(
        &self,
        target_dir: &Path,
        changed: &HashMap<String, &str>,
    ) -> HashMap<String, Vec<(usize, Scope, String)>> {
        let mut crates: HashMap<String, Vec<(usize, Scope)>> = HashMap::new();
        for (index, package) in self.head_graph.packages.iter().enumerate() {
            for target in &package.targets {
                let scope = match (&target.kind, &target.binary_id) {
                    (
                        TargetKindLite::Test | TargetKindLite::Bench | TargetKindLite::Example,
                        Some(id),
                    ) => Scope::Binaries(BTreeSet::from([id.clone()])),
                    (TargetKindLite::BuildScript, _) => continue,
                    _ => Scope::Package,
                };
                crates
                    .entry(target.name.replace('-', "_"))
                    .or_default()
                    .push((index, scope));
            }
        }
        let hits = includes::dep_info_hits(
            target_dir,
            self.workspace_abs,
            &|name| crates.contains_key(name),
            &|path| changed.contains_key(path),
        );
        let mut evidence: HashMap<String, Vec<(usize, Scope, String)>> = HashMap::new();
        for (crate_name, paths) in hits {
            for hit in paths {
                for (package, scope) in &crates[&crate_name] {
                    evidence.entry(hit.clone()).or_default().push((
                        *package,
                        scope.clone(),
                        format!("{crate_name}.d"),
                    ));
                }
            }
        }
        evidence
    }

    /// A member that left the workspace (membership change, deleted manifest) while
    /// `.config/nextest.toml` still names it in a filter that then matches no package: nextest
    /// rejects that configuration on every run, so every test is affected.
    fn members_named_by_nextest(&self, decision: &mut Decision) {
        let before: BTreeSet<&str> = member_names(self.base_graph);
        let after: BTreeSet<&str> = member_names(self.head_graph);
        let gone: Vec<&str> = before.difference(&after).copied().collect();
        if gone.is_empty() {
            return;
        }
        let path = join_dir(self.workspace_dir, ".config/nextest.toml");
        let Some(Some(text)) = manifest_diff::Files::read_files(self.head, &[path.as_str()])
            .into_iter()
            .next()
        else {
            return;
        };
        for operator in nextest_config::operators(&String::from_utf8_lossy(&text)) {
            if operator.breaks_without(gone.iter().copied(), after.iter().copied()) {
                let left: Vec<&str> = gone
                    .iter()
                    .copied()
                    .filter(|name| operator.matches(name))
                    .collect();
                decision.all(format!(
                    "{path}:{} names {} in `{}`, which then matches no package: nextest rejects the configuration, so every test run fails",
                    operator.line,
                    left.join(", "),
                    operator.text
                ));
            }
        }
    }

    /// Per local package: resolved external closure and enabled features, base vs head.
    fn resolution_diff(&self, decision: &mut Decision) {
        let lockfile = join_dir(self.workspace_dir, "Cargo.lock");
        for change in graph::resolution_changes(self.base_graph, self.head_graph) {
            let package = &self.head_graph.packages[change.package];
            let shown = change
                .changes
                .iter()
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            let more = match change.changes.len() {
                n if n > 4 => format!(" and {} more", n - 4),
                _ => String::new(),
            };
            let name = &package.name;
            let (scope, reason) = match change.what {
                ResolutionChangeKind::Dependencies => (
                    Scope::Package,
                    Reason::new(
                        "lockfile",
                        Some(&lockfile),
                        format!(
                            "Cargo.lock -> resolved dependencies of {name} changed: {shown}{more}"
                        ),
                    ),
                ),
                ResolutionChangeKind::DevDependencies => (
                    all_binaries(package),
                    Reason::new(
                        "lockfile",
                        Some(&lockfile),
                        format!(
                            "Cargo.lock -> resolved dev-dependencies of {name} changed (its tests only): {shown}{more}"
                        ),
                    ),
                ),
                ResolutionChangeKind::Features => (
                    Scope::Package,
                    Reason::new(
                        "features",
                        None,
                        format!("enabled features of {name} changed: {shown}{more}"),
                    ),
                ),
            };
            decision.add(change.package, scope, reason);
        }
    }
}

fn member_names(graph: &Graph) -> BTreeSet<&str> {
    graph.members().map(|(_, p)| p.name.as_str()).collect()
}

/// Every test binary of a package: its own tests, without its dependents.
fn all_binaries(package: &graph::Package) -> Scope {
    Scope::Binaries(
        package
            .targets
            .iter()
            .filter_map(|t| t.binary_id.clone())
            .collect(),
    )
}

/// A base-side path re-expressed in the head package's directory (for packages that moved).
fn path_in_head(
    graph: &Graph,
    owner: usize,
    head_graph: &Graph,
    head_index: usize,
    path: &str,
) -> String {
    let old_dir = &graph.packages[owner].dir;
    let new_dir = &head_graph.packages[head_index].dir;
    if old_dir == new_dir {
        return path.to_owned();
    }
    let rest = if old_dir.is_empty() {
        path
    } else {
        path.strip_prefix(old_dir.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    };
    join_dir(new_dir, rest)
}

fn ancestors_sites<'a>(
    index: &'a HashMap<String, Vec<IncludeSite>>,
    path: &str,
) -> impl Iterator<Item = &'a IncludeSite> {
    let mut dirs = Vec::new();
    let mut current = path;
    while let Some((parent, _)) = current.rsplit_once('/') {
        dirs.push(parent.to_owned());
        current = parent;
    }
    dirs.into_iter()
        .filter_map(move |d| index.get(&d))
        .flatten()
        .filter(|site| site.kind == IncludeKind::RerunIfChanged)
}

/// One revision's files as the workflow model reads them.
struct SnapshotFiles<'a> {
    snapshot: &'a Snapshot<'a>,
    read: std::cell::RefCell<HashMap<String, Option<String>>>,
}

impl<'a> SnapshotFiles<'a> {
    fn new(snapshot: &'a Snapshot<'a>) -> Self {
        SnapshotFiles {
            snapshot,
            read: Default::default(),
        }
    }
}

impl workflows::Files for SnapshotFiles<'_> {
    fn read(&self, path: &str) -> Option<String> {
        if let Some(known) = self.read.borrow().get(path) {
            return known.clone();
        }
        // A file git cannot give is one that cannot be read: the model then errs on the
        // safe side (a job running it counts as running tests).
        let text = self
            .snapshot
            .read(path)
            .ok()
            .flatten()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        self.read.borrow_mut().insert(path.to_owned(), text.clone());
        text
    }

    fn workflow_paths(&self) -> Vec<String> {
        let paths: Vec<String> = self
            .snapshot
            .list_dir(workflows::WORKFLOWS_DIR)
            .into_iter()
            .filter(|p| workflows::is_workflow_path(p))
            .collect();
        // One batch for all workflow files instead of one git process each.
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        if let Ok(contents) = self.snapshot.read_many(&refs) {
            let mut read = self.read.borrow_mut();
            for (path, bytes) in paths.iter().zip(contents) {
                let text = bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
                read.insert(path.clone(), text);
            }
        }
        paths
    }
}

/// `binary-id test-name`, or the binary id alone for a process traced without a test name.
fn shown_test((id, test): recording::TestId<'_>) -> String {
    if test.is_empty() {
        id.to_owned()
    } else {
        format!("{id} {test}")
    }
}

/// A test name nextest's `test(=..)` matches as written: Rust path characters only (no
/// parentheses, commas or spaces, which the filterset language would read as syntax).
fn filterable_test_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

fn decision_sink(decision: &mut Decision) -> impl FnMut(ManifestEffect) + '_ {
    move |effect| match effect {
        ManifestEffect::All(reason) => decision.all(reason),
        ManifestEffect::Package(index, reason) => decision.add(index, Scope::Package, reason),
        ManifestEffect::Nothing(reason) => decision.unaffecting.push(reason),
    }
}
