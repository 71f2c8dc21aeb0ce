//! `impact-anchors`: what the tools a user would otherwise pick select for one change, so
//! `cargo xtask bench all` can put our impact analysis beside them, measured in the same run.
//!
//! ```text
//! impact-anchors --manifest-path PATH/Cargo.toml --base REV [--head REV] [--head-checked-out]
//! ```
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
//!
//! The timings cover everything the determinator needs end to end: exporting the base tree
//! from git (and the head's, unless it is the checked-out working tree), both `cargo metadata`
//! runs, the graphs and the computation. Only the bench builds this crate (deps-groups.toml,
//! group `bench`): guppy and determinator never enter the xtask binary.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use determinator::Determinator;
use determinator::rules::DeterminatorRules;
use guppy::PackageId;
use guppy::graph::cargo::CargoResolverVersion;
use guppy::graph::{DependencyDirection, PackageGraph};
use serde_json::json;
use support::Failure;
use xshell::{Shell, cmd};

const USAGE: &str = "usage: impact-anchors --manifest-path PATH/Cargo.toml --base REV \
                     [--head REV] [--head-checked-out]";

struct Args {
    manifest: PathBuf,
    base: String,
    /// `None`: the working tree, uncommitted and untracked files included.
    head: Option<String>,
    /// The head revision is what the working tree holds, so it need not be exported.
    head_checked_out: bool,
}

fn main() -> ExitCode {
    match parse(std::env::args_os().skip(1).collect()).and_then(|args| run(&args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("impact-anchors: {}", failure.message.unwrap_or_default());
            ExitCode::from(failure.exit.code() as u8)
        }
    }
}

fn parse(args: Vec<OsString>) -> Result<Args, Failure> {
    use lexopt::prelude::*;
    let usage = |e: lexopt::Error| Failure::invalid_input(format!("{e}\n{USAGE}"));
    let (mut manifest, mut base, mut head, mut head_checked_out) = (None, None, None, false);
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Long("manifest-path") => manifest = Some(PathBuf::from(parser.value().map_err(usage)?)),
            Long("base") => base = Some(parser.value().map_err(usage)?.string().map_err(usage)?),
            Long("head") => head = Some(parser.value().map_err(usage)?.string().map_err(usage)?),
            Long("head-checked-out") => head_checked_out = true,
            _ => return Err(usage(arg.unexpected())),
        }
    }
    match (manifest, base) {
        (Some(manifest), Some(base)) => Ok(Args {
            manifest,
            base,
            head,
            head_checked_out,
        }),
        _ => Err(Failure::invalid_input(USAGE)),
    }
}

fn env_error(what: &str) -> impl Fn(xshell::Error) -> Failure + '_ {
    move |e| Failure::environment(format!("{what}: {e}"))
}

fn run(args: &Args) -> Result<serde_json::Value, Failure> {
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
    let base_manifest = export(&sh, base, &scratch.0.join("base"), &manifest_in_repo)?;
    let head_manifest = match &args.head {
        Some(head) if !args.head_checked_out => {
            export(&sh, head, &scratch.0.join("head"), &manifest_in_repo)?
        }
        _ => manifest.clone(),
    };
    laps.lap("export trees", &lap);

    let lap = Instant::now();
    let old = package_graph(&sh, &base_manifest, &scratch.0.join("target"))?;
    laps.lap("cargo metadata base", &lap);
    let lap = Instant::now();
    let new = package_graph(&sh, &head_manifest, &scratch.0.join("target"))?;
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

    let members = new.workspace().iter().count();
    Ok(json!({
        "schema": "impact-anchors/v1",
        "members": members,
        "changed_paths": changed,
        "determinator": {
            "packages": determinator_selected,
            "all": determinator_selected.len() == members,
            "seconds": end_to_end,
        },
        "rdeps": {
            "seeds": workspace_names(seeds.iter().map(|&id| new.metadata(id).expect("a head package").name())),
            "packages": rdeps_selected,
        },
        "phases": laps.0,
    }))
}

fn manifest_file_name(manifest: &Path) -> String {
    manifest
        .file_name()
        .map_or("Cargo.toml".into(), |n| n.to_string_lossy().into_owned())
}

fn workspace_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Writes the tree of `rev` under `dir` (`git archive`, then `tar`) and returns the path of the
/// workspace manifest in it.
fn export(sh: &Shell, rev: &str, dir: &Path, manifest_in_repo: &str) -> Result<PathBuf, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::environment(format!("{}: {e}", dir.display())))?;
    let tar = dir.with_extension("tar");
    let top = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .read()
        .map_err(env_error("git rev-parse failed"))?;
    let _top = sh.push_dir(top);
    cmd!(sh, "git archive --format=tar -o {tar} {rev}")
        .quiet()
        .run()
        .map_err(env_error("git archive failed"))?;
    cmd!(sh, "tar -xf {tar} -C {dir}")
        .quiet()
        .run()
        .map_err(env_error("tar failed"))?;
    Ok(dir.join(manifest_in_repo))
}

/// `cargo metadata` (with the resolve, as guppy's `MetadataCommand` runs it) into a package
/// graph, with its own target directory so no other build is disturbed.
fn package_graph(sh: &Shell, manifest: &Path, target_dir: &Path) -> Result<PackageGraph, Failure> {
    let text = cmd!(
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
    })?;
    guppy::CargoMetadata::parse_json(&text)
        .and_then(guppy::CargoMetadata::build_graph)
        .map_err(|e| Failure::environment(format!("guppy: {e}")))
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

/// Wall time of each phase, in seconds.
#[derive(Default)]
struct Laps(serde_json::Map<String, serde_json::Value>);

impl Laps {
    fn lap(&mut self, phase: &str, since: &Instant) {
        self.0
            .insert(phase.to_string(), json!(since.elapsed().as_secs_f64()));
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
