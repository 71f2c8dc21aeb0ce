//! `impact-anchors`: what the tools a user would otherwise pick select for one change, so
//! `cargo xtask bench all` can put our impact analysis beside them, measured in the same run.
//!
//! ```text
//! impact-anchors --manifest-path PATH/Cargo.toml --base REV [--head REV] [--head-checked-out]
//!                [--metadata-cache DIR]
//! ```
//!
//! (`--help` says what each flag does; `Args` below declares them.)
//!
//! Prints one JSON object (`"schema": "impact-anchors/v1"`) with the selections of
//!
//! - **guppy's determinator**, configured as its documentation recommends: package graphs from
//!   `cargo metadata` of the base and of the head, the shipped default rules
//!   (`DeterminatorRules::default()`), its default Cargo options (dev-dependencies on, the
//!   current platform) with feature resolver 2, and the changed paths from
//!   `git diff -z --name-only <base> [<head>]` (plus untracked files for a working-tree head);
//! - **nextest `rdeps()`**: `rdeps(package(=a) | package(=b) ...)` over the packages owning a
//!   changed file (the nearest workspace member, in the head or the base), which is what a
//!   user writes when selecting tests by graph closure. nextest evaluates `rdeps()` as guppy's
//!   reverse query over every dependency kind (normal, build and dev, transitively); this binary
//!   runs that same query on the head graph. Files no package owns seed nothing.
//! - a **lower bound** no sound selection may go below, computed from guppy's graphs and git
//!   alone (none of the impact crate's code): the members owning a changed Rust source, build
//!   script or member manifest (the nearest `Cargo.toml` above the file, at either end, must be
//!   a member's), their reverse closure over normal and build edges, one hop of members that
//!   dev-depend on anything in it; a source only of the member's own test, bench, example or
//!   binary targets (under `tests/`, `benches/`, `examples/`, `src/bin/`, or `src/main.rs`)
//!   selects that member alone, since no other package links it; a file counts at an end only
//!   where it exists (a file added under a new member's directory is no file of the package
//!   above it in the base); a changed manifest counts only when what guppy reads of its
//!   package differs (version, edition, `rust-version`, features, dependency requests and
//!   kinds, targets), so a `[workspace]`-only edit of a root manifest that is also a package's
//!   is left to the other rules; plus every member whose resolved dependencies (external
//!   packages reachable over normal and build edges, and over its own dev-dependencies, by
//!   name, version and source) differ between base and head. When the compiler of every test
//!   changes, the bound is every member: a `rust-toolchain(.toml)` in the workspace root or
//!   above it changed, or the toolchain of a GitHub Actions job that certainly runs tests (a
//!   `run` step with `cargo test|nextest|llvm-cov`): its toolchain actions' versions and
//!   `toolchain` inputs (a `${{ matrix.KEY }}` input as the set of values the matrix gives
//!   KEY) and its `rustup` toolchain commands. Data files, features, other workflow edits and
//!   other workspace-level files are left out, so it is a bound, not a decision.
//!
//! The timings cover everything the determinator needs end to end: exporting the base tree
//! from git (and the head's, unless it is the checked-out working tree), both `cargo metadata`
//! runs, the graphs and the computation. With `--metadata-cache DIR` (for replaying a chain of
//! commits, each the base of the next) a commit's `cargo metadata` output is kept there, keyed
//! by what `cargo metadata` reads (the blob ids of every manifest, lockfile and cargo
//! configuration file, and the paths of the Rust sources, which decide auto-discovered
//! targets), and reused for any commit with the same key, so neither its export nor its
//! `cargo metadata` runs again; timings are then not end to end. Only the bench builds this crate (deps-groups.toml,
//! group `bench`): guppy and determinator never enter the xtask binary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use determinator::Determinator;
use determinator::rules::DeterminatorRules;
use guppy::PackageId;
use guppy::graph::cargo::CargoResolverVersion;
use guppy::graph::{DependencyDirection, PackageGraph};
use output_types::Shape;
use output_types::bench::{
    AnchorsDeterminator, AnchorsExports, AnchorsLowerBound, AnchorsRdeps, ImpactAnchors,
};
use support::Failure;
use xshell::{Shell, cmd};

/// The command line (`--help` lists it; README.md, "Commands", has the synopsis).
#[derive(Debug, clap::Parser)]
#[command(
    name = "impact-anchors",
    version,
    about = "What guppy's determinator and nextest rdeps() select for one change, and a lower \
             bound no sound selection goes below, as one JSON document (impact-anchors/v1).",
    after_help = "Exit codes: 0 success, 2 invalid input or usage, 3 the environment failed."
)]
struct Args {
    /// The workspace's Cargo.toml
    #[arg(long = "manifest-path", value_name = "PATH/Cargo.toml")]
    manifest: PathBuf,
    /// The revision the change starts from
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision the change ends at [default: the working tree, untracked files included]
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// The working tree holds --head, so it need not be exported
    #[arg(long)]
    head_checked_out: bool,
    /// Keep each commit's `cargo metadata` here and reuse it (timings are then not end to end)
    #[arg(long, value_name = "DIR")]
    metadata_cache: Option<PathBuf>,
}

fn main() -> ExitCode {
    use clap::Parser as _;
    let exit = match Args::try_parse() {
        Ok(args) => match run(&args) {
            Ok(report) => {
                let report = serde_json::to_string(&report).expect("the report serializes");
                support::stdout::print_out(format_args!("{report}\n"));
                support::Exit::Success
            }
            Err(failure) => {
                support::stdout::print_err(format_args!(
                    "impact-anchors: {}\n",
                    failure.message.unwrap_or_default()
                ));
                failure.exit
            }
        },
        Err(err) => support::cli::report(&err),
    };
    support::stdout::finish();
    ExitCode::from(exit.code() as u8)
}

fn env_error(what: &str) -> impl Fn(xshell::Error) -> Failure + '_ {
    move |e| Failure::environment(format!("{what}: {e}"))
}

fn run(args: &Args) -> Result<ImpactAnchors, Failure> {
    let started = Instant::now();
    let manifest = std::path::absolute(&args.manifest)
        .map_err(|e| Failure::environment(format!("{}: {e}", args.manifest.display())))?;
    let workspace_dir = manifest.parent().expect("a manifest path has a parent");
    let sh = Shell::new().map_err(env_error("cannot start a shell"))?;
    sh.change_dir(workspace_dir);
    // Paths as git sees them from the repository root down to the workspace.
    let prefix = cmd!(sh, "git rev-parse --show-prefix")
        .quiet()
        .read()
        .map_err(env_error("not a git repository"))?;
    let manifest_in_repo = format!("{prefix}{}", manifest_file_name(&manifest));

    let scratch = Scratch::new()?;
    let mut laps = Laps::default();

    // Changed paths, relative to the workspace root (`--relative`), both ends of a rename.
    let base = args.base.as_str();
    let mut changed = match &args.head {
        Some(head) => cmd!(
            sh,
            "git diff -z --name-only --no-renames --relative {base} {head} --"
        )
        .quiet()
        .read(),
        None => cmd!(
            sh,
            "git diff -z --name-only --no-renames --relative {base} --"
        )
        .quiet()
        .read(),
    }
    .map_err(env_error("git diff failed"))?;
    if args.head.is_none() {
        let untracked = cmd!(sh, "git ls-files -z --others --exclude-standard")
            .quiet()
            .read()
            .map_err(env_error("git ls-files failed"))?;
        changed.push('\0');
        changed.push_str(&untracked);
    }
    let changed: BTreeSet<&str> = changed.split('\0').filter(|p| !p.is_empty()).collect();
    laps.lap("git diff", &started);

    // The base tree (and the head's, unless checked out), as a checkout for `cargo metadata`.
    let lap = Instant::now();
    let mut exports = AnchorsExports::default();
    let cache = MetadataCache::new(&sh, args.metadata_cache.as_deref(), &manifest_in_repo);
    let base_cached = cache.get(base)?;
    let base_manifest = match &base_cached {
        Some(_) => None,
        None => {
            let (manifest, how) = export(&sh, base, &scratch.0.join("base"), &manifest_in_repo)?;
            exports.base = Some(how.to_owned());
            Some(manifest)
        }
    };
    let head_cached = match &args.head {
        Some(head) => cache.get(head)?,
        None => None,
    };
    let head_manifest = match &args.head {
        _ if head_cached.is_some() => None,
        Some(head) if !args.head_checked_out => {
            let (manifest, how) = export(&sh, head, &scratch.0.join("head"), &manifest_in_repo)?;
            exports.head = Some(how.to_owned());
            Some(manifest)
        }
        _ => Some(manifest.clone()),
    };
    laps.lap("export trees", &lap);

    let lap = Instant::now();
    let target = scratch.0.join("target");
    let old_text = match (base_cached, &base_manifest) {
        (Some(text), _) => text,
        (None, Some(path)) => cache.put(base, metadata(&sh, path, &target)?)?,
        (None, None) => unreachable!("the base is cached or exported"),
    };
    let old = package_graph(&old_text)?;
    laps.lap("cargo metadata base", &lap);
    let lap = Instant::now();
    let new_text = match (head_cached, &head_manifest) {
        (Some(text), _) => text,
        (None, Some(path)) => match &args.head {
            Some(head) => cache.put(head, metadata(&sh, path, &target)?)?,
            None => metadata(&sh, path, &target)?,
        },
        (None, None) => unreachable!("the head is cached or exported"),
    };
    let new = package_graph(&new_text)?;
    laps.lap("cargo metadata head", &lap);

    let lap = Instant::now();
    let mut cargo_options = Determinator::default_cargo_options();
    cargo_options.set_resolver(CargoResolverVersion::V2);
    let rules = DeterminatorRules::default();
    let mut determinator = Determinator::new(&old, &new);
    determinator
        .set_rules(&rules)
        .map_err(|e| Failure::environment(format!("the default rules do not apply: {e}")))?
        .set_cargo_options(&cargo_options)
        .add_changed_paths(changed.iter().copied());
    let decided = determinator.compute();
    let determinator_selected = workspace_names(
        decided
            .affected_set
            .packages(DependencyDirection::Forward)
            .filter(|p| p.in_workspace())
            .map(|p| p.name()),
    );
    laps.lap("determinator", &lap);
    let end_to_end = started.elapsed().as_secs_f64();

    let lap = Instant::now();
    let seeds = owners(&new, &old, &changed);
    let rdeps = new
        .query_reverse(seeds.iter().copied())
        .map_err(|e| Failure::environment(format!("rdeps query: {e}")))?
        .resolve();
    let rdeps_selected = workspace_names(
        rdeps
            .packages(DependencyDirection::Forward)
            .filter(|p| p.in_workspace())
            .map(|p| p.name()),
    );
    laps.lap("rdeps", &lap);

    let lap = Instant::now();
    let head_rev = args.head.as_deref().unwrap_or("HEAD");
    let bound = lower_bound(
        &new,
        &old,
        &changed,
        &Tree::list(&sh, head_rev, args.head.is_none())?,
        &Tree::list(&sh, base, false)?,
    )?;

    let toolchain = toolchain_change(&sh, base, args.head.as_deref())?;
    let mut bound = bound;
    if let Some(reason) = toolchain {
        // Every test builds with the toolchain: the bound is every member.
        bound.packages = workspace_names(new.workspace().iter().map(|p| p.name()));
        bound.toolchain = Some(reason);
    }
    laps.lap("lower bound", &lap);

    let members = new.workspace().iter().count();
    Ok(ImpactAnchors {
        schema: ImpactAnchors::schema(),
        members,
        changed_paths: changed.iter().map(|p| p.to_string()).collect(),
        determinator: AnchorsDeterminator {
            all: determinator_selected.len() == members,
            packages: determinator_selected,
            seconds: end_to_end,
        },
        rdeps: AnchorsRdeps {
            seeds: workspace_names(
                seeds
                    .iter()
                    .map(|&id| new.metadata(id).expect("a head package").name()),
            ),
            packages: rdeps_selected,
        },
        lower_bound: bound,
        exports,
        phases: laps.0,
    })
}

fn manifest_file_name(manifest: &Path) -> String {
    manifest
        .file_name()
        .map_or("Cargo.toml".into(), |n| n.to_string_lossy().into_owned())
}

fn workspace_names<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    names.map(str::to_string).collect()
}

/// Writes the tree of `rev` under `dir` (`git archive`, then `tar`) and returns the path of the
/// workspace manifest in it, and whether the export is `"full"` or `"sparse"`. A repository
/// missing some blobs (a partial copy without its largest files) cannot be archived whole; it
/// is then archived sparsely, with only what `cargo metadata` reads (manifests, the lockfile,
/// Rust sources for target discovery, cargo configuration).
fn export(
    sh: &Shell,
    rev: &str,
    dir: &Path,
    manifest_in_repo: &str,
) -> Result<(PathBuf, &'static str), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::environment(format!("{}: {e}", dir.display())))?;
    let tar = dir.with_extension("tar");
    let top = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .read()
        .map_err(env_error("git rev-parse failed"))?;
    let _top = sh.push_dir(top);
    let how = if cmd!(sh, "git archive --format=tar -o {tar} {rev}")
        .quiet()
        .ignore_stderr()
        .run()
        .is_ok()
    {
        "full"
    } else {
        let listing = cmd!(sh, "git ls-tree -r -z --name-only {rev}")
            .quiet()
            .read()
            .map_err(env_error("git ls-tree failed"))?;
        let mut specs = vec![":(glob)**/Cargo.toml".to_string(), ":(glob)**/*.rs".into()];
        for name in ["Cargo.lock", "config", "config.toml"] {
            let pattern = format!("**/{name}");
            if listing.split('\0').any(|p| {
                Path::new(p).file_name().is_some_and(|f| f == name)
                    && (name == "Cargo.lock" || p.contains(".cargo/"))
            }) {
                specs.push(format!(":(glob){pattern}"));
            }
        }
        cmd!(sh, "git archive --format=tar -o {tar} {rev} -- {specs...}")
            .quiet()
            .run()
            .map_err(env_error("git archive failed"))?;
        "sparse"
    };
    cmd!(sh, "tar -xf {tar} -C {dir}")
        .quiet()
        .run()
        .map_err(env_error("tar failed"))?;
    Ok((dir.join(manifest_in_repo), how))
}

/// `cargo metadata` (with the resolve, as guppy's `MetadataCommand` runs it), with its own
/// target directory so no other build is disturbed.
fn metadata(sh: &Shell, manifest: &Path, target_dir: &Path) -> Result<String, Failure> {
    cmd!(
        sh,
        "cargo metadata --format-version 1 --manifest-path {manifest}"
    )
    .env("CARGO_TARGET_DIR", target_dir)
    .quiet()
    .read()
    .map_err(|e| {
        Failure::invalid_input(format!(
            "cargo metadata failed on {}: {e}",
            manifest.display()
        ))
    })
}

fn package_graph(text: &str) -> Result<PackageGraph, Failure> {
    guppy::CargoMetadata::parse_json(text)
        .and_then(guppy::CargoMetadata::build_graph)
        .map_err(|e| Failure::environment(format!("guppy: {e}")))
}

/// `cargo metadata` output kept per content key (and workspace manifest path), when asked for.
struct MetadataCache<'a> {
    sh: &'a Shell,
    dir: Option<&'a Path>,
    manifest_in_repo: String,
}

impl<'a> MetadataCache<'a> {
    fn new(sh: &'a Shell, dir: Option<&'a Path>, manifest_in_repo: &str) -> Self {
        MetadataCache {
            sh,
            dir,
            manifest_in_repo: manifest_in_repo.replace('/', "%"),
        }
    }

    fn file(&self, rev: &str) -> Result<Option<PathBuf>, Failure> {
        let Some(dir) = self.dir else {
            return Ok(None);
        };
        let listing = cmd!(self.sh, "git ls-tree -r --full-tree {rev}")
            .quiet()
            .read()
            .map_err(env_error("git ls-tree failed"))?;
        let mut inputs = String::new();
        for line in listing.lines() {
            let Some((_, path)) = line.split_once('\t') else {
                continue;
            };
            let name = path.rsplit('/').next().unwrap_or(path);
            if path.ends_with(".rs") {
                inputs.push_str(path);
                inputs.push('\n');
            } else if matches!(name, "Cargo.toml" | "Cargo.lock") || path.contains(".cargo/config")
            {
                inputs.push_str(line);
                inputs.push('\n');
            }
        }
        let key = cmd!(self.sh, "git hash-object --stdin")
            .stdin(inputs)
            .quiet()
            .read()
            .map_err(env_error("git hash-object failed"))?;
        Ok(Some(dir.join(format!(
            "{}-{}.json",
            key.trim(),
            self.manifest_in_repo
        ))))
    }

    fn get(&self, rev: &str) -> Result<Option<String>, Failure> {
        Ok(self
            .file(rev)?
            .and_then(|path| std::fs::read_to_string(path).ok()))
    }

    /// Keeps `text` for `rev` (atomically) and hands it back.
    fn put(&self, rev: &str, text: String) -> Result<String, Failure> {
        if let Some(path) = self.file(rev)? {
            let parent = path.parent().expect("a cache file has a directory");
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::environment(format!("{}: {e}", parent.display())))?;
            support::atomic::write_atomic(&path, text.as_bytes())
                .map_err(|e| Failure::environment(format!("{}: {e}", path.display())))?;
        }
        Ok(text)
    }
}

/// The workspace members of the head owning a changed path: the nearest member directory in the
/// head, or in the base (a deleted or moved file) when that member still exists in the head.
fn owners<'g>(
    new: &'g PackageGraph,
    old: &PackageGraph,
    changed: &BTreeSet<&str>,
) -> Vec<&'g PackageId> {
    let mut seeds = BTreeSet::new();
    for path in changed {
        if let Some(id) = nearest_member(new, path) {
            seeds.insert(id);
        }
        if let Some(old_id) = nearest_member(old, path) {
            let name = old.metadata(old_id).expect("a base package").name();
            if let Ok(member) = new.workspace().member_by_name(name) {
                seeds.insert(member.id());
            }
        }
    }
    seeds.into_iter().collect()
}

fn nearest_member<'g>(graph: &'g PackageGraph, path: &str) -> Option<&'g PackageId> {
    graph
        .workspace()
        .iter_by_path()
        .filter(|(dir, _)| {
            let dir = dir.as_str();
            dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
        })
        .max_by_key(|(dir, _)| dir.as_str().len())
        .map(|(_, package)| package.id())
}

/// The files of one end of the change, relative to the workspace root.
struct Tree {
    /// Every file.
    paths: BTreeSet<String>,
    /// Directories holding a `Cargo.toml` (`""` for the root).
    manifests: BTreeSet<String>,
}

impl Tree {
    /// The tree of `rev`, or the working tree (tracked and untracked files) when `worktree`
    /// is set.
    fn list(sh: &Shell, rev: &str, worktree: bool) -> Result<Tree, Failure> {
        let listing = if worktree {
            cmd!(sh, "git ls-files -z --cached --others --exclude-standard")
                .quiet()
                .read()
        } else {
            cmd!(sh, "git ls-tree -r -z --name-only {rev}")
                .quiet()
                .read()
        }
        .map_err(env_error("listing the tree failed"))?;
        let paths: BTreeSet<String> = listing
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let manifests = paths
            .iter()
            .filter_map(|path| match path.rsplit_once('/') {
                Some((dir, "Cargo.toml")) => Some(dir.to_string()),
                None if path == "Cargo.toml" => Some(String::new()),
                _ => None,
            })
            .collect();
        Ok(Tree { paths, manifests })
    }
}

/// Is `path` a Rust source, a build script or a manifest: a file that is certainly an input of
/// the package it belongs to?
fn is_code(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".rs") || name == "Cargo.toml"
}

/// The member whose directory is the nearest one holding a `Cargo.toml` above `path`, if that
/// manifest is a member's (a nested package or workspace that is not a member owns nothing).
fn code_owner<'g>(
    graph: &'g PackageGraph,
    manifests: &BTreeSet<String>,
    path: &str,
) -> Option<guppy::graph::PackageMetadata<'g>> {
    let mut dir = path;
    let nearest = loop {
        dir = match dir.rsplit_once('/') {
            Some((parent, _)) => parent,
            None if !dir.is_empty() => "",
            None => return None,
        };
        if manifests.contains(dir) {
            break dir;
        }
    };
    graph
        .workspace()
        .iter_by_path()
        .find(|(member_dir, _)| member_dir.as_str() == nearest)
        .map(|(_, package)| package)
}

/// What guppy reads of a package from its manifest, with paths relative to the package.
fn package_shape(package: &guppy::graph::PackageMetadata<'_>) -> String {
    let dir = package.manifest_path().as_std_path().parent();
    let relative = |path: &Path| {
        dir.and_then(|d| path.strip_prefix(d).ok())
            .unwrap_or(path)
            .display()
            .to_string()
    };
    // Sorted: guppy does not promise an order of a package's features.
    let mut features: Vec<&str> = package.named_features().collect();
    features.sort_unstable();
    let mut shape = vec![
        package.version().to_string(),
        package.edition().to_string(),
        // Cargo refuses to build a package whose `rust-version` the toolchain is below, and
        // the package sees it as `CARGO_PKG_RUST_VERSION`.
        package
            .minimum_rust_version()
            .map_or_else(String::new, ToString::to_string),
        features.join(","),
    ];
    let mut links: Vec<String> = package
        .direct_links()
        .map(|link| {
            format!(
                "{} {} {} {}{}{}",
                link.dep_name(),
                link.to().name(),
                link.version_req(),
                link.normal().is_present(),
                link.build().is_present(),
                link.dev().is_present()
            )
        })
        .collect();
    links.sort();
    let mut targets: Vec<String> = package
        .build_targets()
        .map(|t| {
            format!(
                "{:?} {:?} {}",
                t.id(),
                t.kind(),
                relative(t.path().as_std_path())
            )
        })
        .collect();
    targets.sort();
    shape.extend(links);
    shape.extend(targets);
    shape.join("\n")
}

/// The nearest directory above `path` holding a `Cargo.toml` (`""`: the root).
fn owner_dir(manifests: &BTreeSet<String>, path: &str) -> String {
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if manifests.contains(parent) {
            return parent.to_string();
        }
        dir = parent;
    }
    String::new()
}

/// Is `path` (a source inside the package at `dir`) a source of the package's own test,
/// bench, example or binary targets only, by Cargo's conventional layout?
fn is_leaf_source(path: &str, dir: &str) -> bool {
    let rel = if dir.is_empty() {
        path
    } else {
        path.strip_prefix(dir)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    };
    rel.ends_with(".rs")
        && (["tests/", "benches/", "examples/", "src/bin/"]
            .iter()
            .any(|prefix| rel.starts_with(prefix))
            || rel == "src/main.rs")
}

/// External packages a member's build and tests resolve to: reachable over normal and build
/// edges, and over the member's own dev-dependencies, as `name version source`.
fn resolved(graph: &PackageGraph, member: &PackageId) -> Result<BTreeSet<String>, Failure> {
    let set = graph
        .query_forward([member])
        .map_err(|e| Failure::environment(format!("forward query: {e}")))?
        .resolve_with_fn(|_, link| !link.dev_only() || link.from().id() == member);
    Ok(set
        .packages(DependencyDirection::Forward)
        .filter(|p| !p.in_workspace())
        .map(|p| format!("{} {} {}", p.name(), p.version(), p.source()))
        .collect())
}

/// The lower bound described in the crate documentation (without the toolchain rule, which
/// [`run`] applies).
fn lower_bound(
    new: &PackageGraph,
    old: &PackageGraph,
    changed: &BTreeSet<&str>,
    head: &Tree,
    base: &Tree,
) -> Result<AnchorsLowerBound, Failure> {
    let mut seeds: BTreeSet<&PackageId> = BTreeSet::new();
    // Members whose own test, bench, example or binary sources changed: no dependent links those.
    let mut leaves: BTreeSet<String> = BTreeSet::new();
    for path in changed.iter().filter(|p| is_code(p)) {
        // Each end counts only where the file exists: a file added under a new package's
        // directory belongs to no package of the base, whatever manifest is above it there.
        let (head_manifests, base_manifests) = (&head.manifests, &base.manifests);
        let head_owner = code_owner(new, head_manifests, path)
            .filter(|_| head.paths.contains(*path))
            .map(|o| (o, head_manifests));
        let base_owner = code_owner(old, base_manifests, path)
            .filter(|_| base.paths.contains(*path))
            .and_then(|o| {
                Some((
                    new.workspace().member_by_name(o.name()).ok()?,
                    base_manifests,
                ))
            });
        let manifest_unchanged = path.rsplit('/').next() == Some("Cargo.toml")
            && head_owner.as_ref().is_some_and(|(owner, _)| {
                old.workspace()
                    .member_by_name(owner.name())
                    .is_ok_and(|before| package_shape(owner) == package_shape(&before))
            });
        if manifest_unchanged {
            continue;
        }
        for (owner, manifests) in head_owner.into_iter().chain(base_owner) {
            let dir = owner_dir(manifests, path);
            if is_leaf_source(path, &dir) {
                leaves.insert(owner.name().to_string());
            } else {
                seeds.insert(owner.id());
            }
        }
    }
    let closure = new
        .query_reverse(seeds.iter().copied())
        .map_err(|e| Failure::environment(format!("reverse query: {e}")))?
        .resolve_with_fn(|_, link| !link.dev_only());
    let mut packages: BTreeSet<String> = BTreeSet::new();
    for package in closure.packages(DependencyDirection::Forward) {
        if package.in_workspace() {
            packages.insert(package.name().to_string());
        }
        for link in package.reverse_direct_links() {
            if link.dev().is_present() && link.from().in_workspace() {
                packages.insert(link.from().name().to_string());
            }
        }
    }
    let mut resolved_changed = BTreeSet::new();
    for member in new.workspace().iter() {
        let Ok(before) = old.workspace().member_by_name(member.name()) else {
            continue;
        };
        if resolved(new, member.id())? != resolved(old, before.id())? {
            resolved_changed.insert(member.name().to_string());
        }
    }
    packages.extend(resolved_changed.iter().cloned());
    packages.extend(leaves.iter().cloned());
    Ok(AnchorsLowerBound {
        seeds: workspace_names(
            seeds
                .iter()
                .map(|&id| new.metadata(id).expect("a head package").name()),
        ),
        resolved_changed,
        leaf_sources_of: leaves,
        packages,
        toolchain: None,
    })
}

/// Whether the compiler every test builds with changed, and how: a `rust-toolchain` or
/// `rust-toolchain.toml` file in the workspace root or a directory above it (up to the
/// repository root, where rustup looks when tests run from the workspace root), or the
/// toolchain of a workflow job that certainly runs tests (see [`workflow_toolchains`]).
fn toolchain_change(sh: &Shell, base: &str, head: Option<&str>) -> Result<Option<String>, Failure> {
    let prefix = cmd!(sh, "git rev-parse --show-prefix")
        .quiet()
        .read()
        .map_err(env_error("not a git repository"))?;
    let mut dirs = vec![String::new()];
    let mut dir = prefix.trim_end_matches('/');
    while !dir.is_empty() {
        dirs.push(format!("{dir}/"));
        dir = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    let read = |rev: Option<&str>, path: &str| -> Option<String> {
        match rev {
            Some(rev) => {
                let spec = format!("{rev}:{path}");
                cmd!(sh, "git show {spec}")
                    .quiet()
                    .ignore_stderr()
                    .read()
                    .ok()
            }
            None => {
                let top = cmd!(sh, "git rev-parse --show-toplevel")
                    .quiet()
                    .read()
                    .ok()?;
                std::fs::read_to_string(Path::new(&top).join(path)).ok()
            }
        }
    };
    for dir in &dirs {
        for name in ["rust-toolchain", "rust-toolchain.toml"] {
            let path = format!("{dir}{name}");
            if read(Some(base), &path) != read(head, &path) {
                return Ok(Some(format!("{path} changed")));
            }
        }
    }
    let listing = |rev: Option<&str>| -> Result<BTreeSet<String>, Failure> {
        let rev = rev.unwrap_or("HEAD");
        let text = cmd!(
            sh,
            "git ls-tree -r -z --name-only --full-tree {rev} -- .github/workflows"
        )
        .quiet()
        .read()
        .map_err(env_error("git ls-tree failed"))?;
        Ok(text
            .split('\0')
            .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
            .map(str::to_owned)
            .collect())
    };
    let top = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .read()
        .map_err(env_error("git rev-parse failed"))?;
    let _top = sh.push_dir(top);
    let mut workflows = listing(Some(base))?;
    workflows.extend(listing(head)?);
    for path in workflows {
        let (old, new) = (read(Some(base), &path), read(head, &path));
        if old == new {
            continue;
        }
        let (old, new) = (
            workflow_toolchains(old.as_deref()),
            workflow_toolchains(new.as_deref()),
        );
        for (job, toolchain) in &new {
            if let Some(before) = old.get(job)
                && before != toolchain
            {
                return Ok(Some(format!(
                    "{path}: the toolchain of job `{job}`, which runs `cargo test`, changed"
                )));
            }
        }
    }
    Ok(None)
}

/// The toolchain of each job of a workflow that certainly runs tests (a `run` step with
/// `cargo test`, `cargo nextest` or `cargo llvm-cov`, the program possibly given as
/// `$CARGO`/`${{ env.CARGO }}`, a `+toolchain` allowed): the toolchain actions it uses (name,
/// version and `toolchain` input, with a `${{ matrix.KEY }}` input replaced by the values
/// the matrix gives KEY) and its `rustup` toolchain commands. A file that cannot be parsed
/// has no such job: the bound then does not count it.
fn workflow_toolchains(text: Option<&str>) -> std::collections::BTreeMap<String, Vec<String>> {
    use yaml_rust2::{Yaml, YamlLoader};
    let mut found = std::collections::BTreeMap::new();
    let Some(doc) = text
        .and_then(|t| YamlLoader::load_from_str(t).ok())
        .and_then(|docs| docs.into_iter().next())
    else {
        return found;
    };
    let text_of = |value: &Yaml| match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(n) => n.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    };
    let Some(jobs) = doc["jobs"].as_hash() else {
        return found;
    };
    for (id, job) in jobs {
        let steps = job["steps"].as_vec().map(Vec::as_slice).unwrap_or(&[]);
        let runs_tests = steps.iter().any(|step| {
            step["run"].as_str().is_some_and(|script| {
                script.lines().any(|line| {
                    let words: Vec<&str> = line
                        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                        .filter(|w| !w.is_empty())
                        .collect();
                    words.windows(2).enumerate().any(|(i, pair)| {
                        let program = pair[0].rsplit('/').next().unwrap_or(pair[0]);
                        let cargo = program == "cargo"
                            || program == "$CARGO"
                            || (program == "env.CARGO" && i > 0 && words[i - 1] == "${{");
                        // `cargo +1.80 test`; `${{ env.CARGO }} test` (the word after `}}`).
                        let sub = if pair[1].starts_with('+') || program == "env.CARGO" {
                            words.get(i + 2).copied().unwrap_or("")
                        } else {
                            pair[1]
                        };
                        cargo && matches!(sub, "test" | "nextest" | "llvm-cov")
                    })
                })
            })
        });
        if !runs_tests {
            continue;
        }
        let matrix = &job["strategy"]["matrix"];
        let matrix_values = |name: &str| -> Vec<String> {
            let mut values: Vec<String> = match &matrix[name] {
                Yaml::Array(items) => items.iter().map(text_of).collect(),
                other => vec![text_of(other)],
            };
            for entry in matrix["include"].as_vec().map(Vec::as_slice).unwrap_or(&[]) {
                values.push(text_of(&entry[name]));
            }
            // The toolchains used, not how many configurations use each: a matrix entry
            // added for a new target with a toolchain already in use changes no toolchain.
            values.retain(|v| !v.is_empty());
            values.sort();
            values.dedup();
            values
        };
        let mut toolchain = Vec::new();
        for step in steps {
            if let Some(action) = step["uses"].as_str() {
                let name = action
                    .split('@')
                    .next()
                    .unwrap_or(action)
                    .to_ascii_lowercase();
                if name.contains("rust-toolchain")
                    || name.ends_with("/toolchain")
                    || name.contains("setup-rust")
                {
                    let input = text_of(&step["with"]["toolchain"]);
                    let inner = input
                        .strip_prefix("${{")
                        .and_then(|i| i.strip_suffix("}}"))
                        .map(str::trim);
                    let input = match inner.and_then(|i| i.strip_prefix("matrix.")) {
                        Some(name) => matrix_values(name).join(","),
                        None => input,
                    };
                    toolchain.push(format!("{action} {input}"));
                }
            }
            if let Some(script) = step["run"].as_str() {
                toolchain.extend(
                    script
                        .lines()
                        .map(str::trim)
                        .filter(|line| {
                            [
                                "rustup toolchain install",
                                "rustup default",
                                "rustup override",
                                "rustup update",
                            ]
                            .iter()
                            .any(|command| line.contains(command))
                        })
                        .map(str::to_owned),
                );
            }
        }
        found.insert(text_of(id), toolchain);
    }
    found
}

/// Wall time of each phase, in seconds.
#[derive(Default)]
struct Laps(BTreeMap<String, f64>);

impl Laps {
    fn lap(&mut self, phase: &str, since: &Instant) {
        self.0
            .insert(phase.to_string(), since.elapsed().as_secs_f64());
    }
}

/// A scratch directory for exported trees, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Failure> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("impact-anchors-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::environment(format!("{}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_every_flag_is_in_the_help_and_the_readme() {
        use clap::CommandFactory as _;
        let cli = Args::command();
        assert_eq!(support::cli::check_help(&cli), Ok(1));
        let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let reference = support::cli::reference(&cli);
        support::cli::check_readme_block(&readme, "crates/impact-anchors/src/main.rs", &reference)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn the_manifest_and_the_base_are_required() {
        use clap::Parser as _;
        let err = Args::try_parse_from(["impact-anchors", "--base", "HEAD~1"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .contains("--manifest-path <PATH/Cargo.toml>"),
            "{err}"
        );
        let args = Args::try_parse_from([
            "impact-anchors",
            "--manifest-path",
            "w/Cargo.toml",
            "--base",
            "HEAD~1",
            "--head-checked-out",
        ])
        .unwrap();
        assert_eq!(args.manifest, Path::new("w/Cargo.toml"));
        assert!(args.head_checked_out && args.head.is_none());
    }

    #[test]
    fn own_test_bench_example_and_binary_sources_are_leaves() {
        for path in [
            "tokio/tests/udp.rs",
            "tokio/benches/spawn.rs",
            "tokio/examples/echo.rs",
            "tokio/src/bin/tool.rs",
            "tokio/src/main.rs",
        ] {
            assert!(is_leaf_source(path, "tokio"), "{path}");
        }
        for path in ["tokio/src/lib.rs", "tokio/src/net/udp.rs", "tokio/build.rs"] {
            assert!(!is_leaf_source(path, "tokio"), "{path}");
        }
        assert!(is_leaf_source("tests/cli.rs", ""), "the root package");
        assert!(
            !is_leaf_source("tokio/tests/data.json", "tokio"),
            "not a source"
        );
    }

    #[test]
    fn a_test_jobs_toolchain_is_its_toolchain_actions_and_matrix_values() {
        let workflow = |rust: &str, tool: &str| {
            format!(
                "on: push\njobs:\n  test:\n    strategy:\n      matrix:\n        include:\n        - rust: {rust}\n        - rust: stable\n    runs-on: x\n    steps:\n    - uses: dtolnay/rust-toolchain@master\n      with:\n        toolchain: ${{{{ matrix.rust }}}}\n    - run: ${{{{ env.CARGO }}}} test --workspace\n  release:\n    runs-on: x\n    steps:\n    - uses: dtolnay/rust-toolchain@{tool}\n    - run: cargo build --release\n"
            )
        };
        let base = workflow_toolchains(Some(&workflow("1.85.0", "stable")));
        assert_eq!(
            base["test"],
            ["dtolnay/rust-toolchain@master 1.85.0,stable"],
            "{base:?}"
        );
        assert!(!base.contains_key("release"), "builds, runs no test");
        // The pinned toolchain of the test job moved: a different compiler for every test.
        assert_ne!(
            workflow_toolchains(Some(&workflow("1.96.0", "stable"))),
            base
        );
        // A release job's toolchain is not the tests'; nor is a new entry with a toolchain
        // already in use.
        assert_eq!(workflow_toolchains(Some(&workflow("1.85.0", "1.90"))), base);
        assert_eq!(
            workflow_toolchains(Some(&workflow("stable", "stable")))["test"],
            ["dtolnay/rust-toolchain@master stable"]
        );
        let rustup = "on: push\njobs:\n  t:\n    steps:\n    - run: |\n        rustup toolchain install 1.80\n        cargo +1.80 nextest run\n";
        assert_eq!(
            workflow_toolchains(Some(rustup))["t"],
            ["rustup toolchain install 1.80"]
        );
        assert!(workflow_toolchains(Some("jobs: [")).is_empty());
        assert!(workflow_toolchains(None).is_empty());
    }

    #[test]
    fn the_nearest_manifest_owns_a_file() {
        let manifests: BTreeSet<String> = ["", "crates/a", "crates/a/fuzz"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(owner_dir(&manifests, "crates/a/src/lib.rs"), "crates/a");
        assert_eq!(
            owner_dir(&manifests, "crates/a/fuzz/targets/x.rs"),
            "crates/a/fuzz"
        );
        assert_eq!(owner_dir(&manifests, "scripts/gen.rs"), "");
        assert!(is_code("crates/a/Cargo.toml") && is_code("build.rs"));
        assert!(!is_code("crates/a/README.md") && !is_code("Cargo.lock"));
    }
}
