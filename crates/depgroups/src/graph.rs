//! The package graph the audit walks: every package `cargo metadata` knows, with its declared
//! dependencies resolved to packages and its `[features]` table.
//!
//! `cargo metadata`'s own resolve is feature-unified across the whole workspace, so it cannot say
//! what one member pulls in under one feature setting. It is used only to map each dependency
//! declaration to the package it resolved to; [`crate::resolve`] then activates features per
//! member and per setting. Metadata is taken with `--all-features`, a superset of every setting.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cargo_metadata::{CargoOpt, DependencyKind, Metadata, MetadataCommand, PackageId};
use support::Failure;

/// A package: workspace member or external crate.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub manifest_path: PathBuf,
    pub member: bool,
    pub features: BTreeMap<String, Vec<String>>,
    pub deps: Vec<Dep>,
}

/// One declared dependency, resolved to the package it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// The key in `Cargo.toml` (the rename if there is one); features refer to it by this name.
    pub key: String,
    pub target: usize,
    pub kind: Kind,
    pub optional: bool,
    pub default_features: bool,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    #[default]
    Normal,
    Build,
    Dev,
}

impl Kind {
    /// The `Cargo.toml` table that declares dependencies of this kind.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Normal => "dependencies",
            Kind::Build => "build-dependencies",
            Kind::Dev => "dev-dependencies",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub workspace_root: PathBuf,
    pub packages: Vec<Package>,
}

impl Graph {
    /// Runs `cargo metadata --all-features` on the workspace at `manifest_path`.
    pub fn load(manifest_path: &Path) -> Result<Graph, Failure> {
        let metadata = MetadataCommand::new()
            .manifest_path(manifest_path)
            .features(CargoOpt::AllFeatures)
            .exec()
            .map_err(|err| match err {
                cargo_metadata::Error::CargoMetadata { stderr } => {
                    let stderr = stderr.trim();
                    // A broken manifest is the user's input; anything else is the environment.
                    if stderr.contains("failed to parse manifest")
                        || stderr.contains("could not find")
                    {
                        Failure::invalid_input(format!("cargo metadata failed: {stderr}"))
                    } else {
                        Failure::environment(format!("cargo metadata failed: {stderr}"))
                    }
                }
                other => Failure::environment(format!("cannot run cargo metadata: {other}")),
            })?;
        Graph::from_metadata(&metadata)
    }

    pub fn from_metadata(metadata: &Metadata) -> Result<Graph, Failure> {
        let resolve = metadata
            .resolve
            .as_ref()
            .ok_or_else(|| Failure::environment("cargo metadata returned no resolve graph"))?;
        let index: HashMap<&PackageId, usize> = metadata
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id, i))
            .collect();
        let members: BTreeSet<&PackageId> = metadata.workspace_members.iter().collect();
        let mut packages: Vec<Package> = metadata
            .packages
            .iter()
            .map(|p| Package {
                name: p.name.to_string(),
                version: p.version.to_string(),
                manifest_path: p.manifest_path.clone().into_std_path_buf(),
                member: members.contains(&p.id),
                features: with_implicit_features(p),
                deps: Vec::new(),
            })
            .collect();
        for node in &resolve.nodes {
            let Some(&from) = index.get(&node.id) else {
                continue;
            };
            let declared = &metadata.packages[from].dependencies;
            let mut deps: Vec<Dep> = Vec::new();
            for node_dep in &node.deps {
                let Some(&target) = index.get(&node_dep.pkg) else {
                    continue;
                };
                let target_name = metadata.packages[target].name.as_str();
                for decl in declared {
                    let Some(kind) = kind_of(decl.kind) else {
                        continue;
                    };
                    let kind_matches = node_dep
                        .dep_kinds
                        .iter()
                        .any(|k| kind_of(k.kind) == Some(kind));
                    let name_matches = match &decl.rename {
                        Some(rename) => rename.replace('-', "_") == node_dep.name,
                        None => decl.name == target_name,
                    };
                    if !(kind_matches && name_matches) {
                        continue;
                    }
                    let dep = Dep {
                        key: decl.rename.clone().unwrap_or_else(|| decl.name.clone()),
                        target,
                        kind,
                        optional: decl.optional,
                        default_features: decl.uses_default_features,
                        features: decl.features.clone(),
                    };
                    if !deps.contains(&dep) {
                        deps.push(dep);
                    }
                }
            }
            deps.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
            packages[from].deps = deps;
        }
        Ok(Graph {
            workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
            packages,
        })
    }

    pub fn members(&self) -> impl Iterator<Item = (usize, &Package)> {
        self.packages.iter().enumerate().filter(|(_, p)| p.member)
    }

    pub fn member_named(&self, name: &str) -> Option<usize> {
        self.members().find(|(_, p)| p.name == name).map(|(i, _)| i)
    }
}

fn kind_of(kind: DependencyKind) -> Option<Kind> {
    match kind {
        DependencyKind::Normal => Some(Kind::Normal),
        DependencyKind::Build => Some(Kind::Build),
        DependencyKind::Development => Some(Kind::Dev),
        _ => None,
    }
}

/// The `[features]` table plus the implicit feature cargo creates for every optional dependency
/// that no feature names with `dep:`.
fn with_implicit_features(package: &cargo_metadata::Package) -> BTreeMap<String, Vec<String>> {
    let mut features = package.features.clone();
    let explicit: BTreeSet<&str> = package
        .features
        .values()
        .flatten()
        .filter_map(|entry| entry.strip_prefix("dep:"))
        .collect();
    for decl in package.dependencies.iter().filter(|d| d.optional) {
        let key = decl.rename.as_deref().unwrap_or(&decl.name);
        if !explicit.contains(key) && !features.contains_key(key) {
            features.insert(key.to_owned(), vec![format!("dep:{key}")]);
        }
    }
    features
}
