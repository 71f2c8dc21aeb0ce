//! The root `Cargo.toml`, diffed by structure rather than treated as "everything".

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

use crate::graph::{Graph, Snapshot};
use crate::report::Reason;

/// What the diff of a manifest means for the selection; the decision applies each.
pub enum ManifestEffect {
    /// Everything is affected, for this reason.
    All(String),
    /// The member with this graph index is affected.
    Package(usize, Reason),
    /// The change affects nothing.
    Nothing(Reason),
}

/// Keys of a package manifest: a change to one of them in a root package affects that package.
const PACKAGE_KEYS: &[&str] = &[
    "package",
    "lib",
    "bin",
    "test",
    "bench",
    "example",
    "dependencies",
    "dev-dependencies",
    "build-dependencies",
    "target",
    "features",
    "badges",
    "lints",
];

/// What each member inherits from the workspace: dependency keys and `[package]` fields.
#[derive(Default)]
struct Inherits {
    dependencies: BTreeSet<String>,
    fields: BTreeSet<String>,
}

/// Where manifests are read from: a git snapshot, or a map in tests.
pub trait Files {
    /// Contents of each path, `None` when it does not exist or cannot be read.
    fn read_files(&self, paths: &[&str]) -> Vec<Option<Vec<u8>>>;
}

impl Files for Snapshot<'_> {
    fn read_files(&self, paths: &[&str]) -> Vec<Option<Vec<u8>>> {
        self.read_many(paths)
            .unwrap_or_else(|_| vec![None; paths.len()])
    }
}

impl Files for BTreeMap<&str, &str> {
    fn read_files(&self, paths: &[&str]) -> Vec<Option<Vec<u8>>> {
        paths
            .iter()
            .map(|p| self.get(p).map(|t| t.as_bytes().to_vec()))
            .collect()
    }
}

fn parse(files: &dyn Files, path: &str) -> Option<Table> {
    let bytes = files.read_files(&[path]).pop()??;
    toml::from_str(&String::from_utf8_lossy(&bytes)).ok()
}

fn table<'a>(table: &'a Table, key: &str) -> Option<&'a Table> {
    table.get(key).and_then(Value::as_table)
}

/// Keys whose values differ between two tables (present on one side only counts).
fn changed_keys(base: Option<&Table>, head: Option<&Table>) -> Vec<String> {
    let empty = Table::new();
    let (base, head) = (base.unwrap_or(&empty), head.unwrap_or(&empty));
    let keys: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    keys.into_iter()
        .filter(|k| base.get(*k) != head.get(*k))
        .cloned()
        .collect()
}

fn inherits(manifest: &Table) -> Inherits {
    let mut found = Inherits::default();
    let inherited = |v: &Value| v.get("workspace").and_then(Value::as_bool) == Some(true);
    let mut dep_tables: Vec<&Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        dep_tables.extend(table(manifest, key));
    }
    if let Some(targets) = table(manifest, "target") {
        for platform in targets.values().filter_map(Value::as_table) {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                dep_tables.extend(table(platform, key));
            }
        }
    }
    for deps in dep_tables {
        found.dependencies.extend(
            deps.iter()
                .filter(|(_, v)| inherited(v))
                .map(|(k, _)| k.clone()),
        );
    }
    if let Some(package) = table(manifest, "package") {
        found.fields.extend(
            package
                .iter()
                .filter(|(_, v)| inherited(v))
                .map(|(k, _)| k.clone()),
        );
    }
    found
}

/// Both ends of the comparison.
pub struct Sides<'a> {
    pub head: &'a dyn Files,
    pub base: &'a dyn Files,
    /// The workspace root, repository-relative.
    pub workspace_dir: &'a str,
    pub head_graph: &'a Graph,
    pub base_graph: &'a Graph,
}

/// Diffs the root manifest at `repo_path` and reports each effect.
pub fn root_manifest(sides: &Sides<'_>, repo_path: &str, mut report: impl FnMut(ManifestEffect)) {
    let Sides {
        head,
        base,
        head_graph,
        ..
    } = *sides;
    let (Some(new), Some(old)) = (parse(head, repo_path), parse(base, repo_path)) else {
        report(ManifestEffect::All(format!(
            "{repo_path} was added, removed or is unreadable at one end"
        )));
        return;
    };
    let root_package = head_graph
        .packages
        .iter()
        .position(|p| p.dir.is_empty() && new.contains_key("package"));
    let mut touched_something = false;
    for key in changed_keys(Some(&old), Some(&new)) {
        touched_something = true;
        match key.as_str() {
            "workspace" => workspace_table(sides, repo_path, (&old, &new), &mut report),
            key if PACKAGE_KEYS.contains(&key) => match root_package {
                Some(index) => report(ManifestEffect::Package(
                    index,
                    Reason::new(
                        "manifest",
                        Some(repo_path),
                        format!(
                            "{repo_path} [{key}] changed -> owned by {}",
                            head_graph.packages[index].name
                        ),
                    ),
                )),
                None => report(ManifestEffect::All(format!("{repo_path} [{key}] changed"))),
            },
            // [profile], [patch], [replace], cargo-features and anything unknown: every build.
            other => report(ManifestEffect::All(format!(
                "{repo_path} [{other}] changed (applies to every build)"
            ))),
        }
    }
    if !touched_something {
        report(ManifestEffect::Nothing(Reason::new(
            "workspace-manifest",
            Some(repo_path),
            format!("{repo_path}: formatting or comments only"),
        )));
    }
}

fn workspace_table(
    sides: &Sides<'_>,
    repo_path: &str,
    (old, new): (&Table, &Table),
    report: &mut impl FnMut(ManifestEffect),
) {
    let Sides {
        head,
        workspace_dir,
        head_graph,
        ..
    } = *sides;
    let (old_ws, new_ws) = (table(old, "workspace"), table(new, "workspace"));
    let mut member_inherits: Option<BTreeMap<usize, Inherits>> = None;
    let mut load_inherits = || -> BTreeMap<usize, Inherits> {
        let paths: Vec<String> = head_graph
            .members()
            .map(|(_, p)| {
                let dir = [workspace_dir, p.dir.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/");
                if dir.is_empty() {
                    "Cargo.toml".to_owned()
                } else {
                    format!("{dir}/Cargo.toml")
                }
            })
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let contents = head.read_files(&refs);
        head_graph
            .members()
            .zip(contents)
            .filter_map(|((index, _), content)| {
                let manifest: Table = toml::from_str(&String::from_utf8_lossy(&content?)).ok()?;
                Some((index, inherits(&manifest)))
            })
            .collect()
    };
    for key in changed_keys(old_ws, new_ws) {
        let section = format!("{repo_path} [workspace.{key}]");
        match key.as_str() {
            "members" | "exclude" => membership(sides, repo_path, &section, report),
            "default-members" | "metadata" => report(ManifestEffect::Nothing(Reason::new(
                "workspace-manifest",
                Some(repo_path),
                format!("{section} changed: does not change what any test compiles"),
            ))),
            "dependencies" | "package" => {
                let inherit = member_inherits.get_or_insert_with(&mut load_inherits);
                let (old_t, new_t) = (
                    old_ws.and_then(|t| table(t, &key)),
                    new_ws.and_then(|t| table(t, &key)),
                );
                for entry in changed_keys(old_t, new_t) {
                    let mut any = false;
                    for (index, found) in inherit.iter() {
                        let uses = if key == "dependencies" {
                            found.dependencies.contains(&entry)
                        } else {
                            found.fields.contains(&entry)
                        };
                        if uses {
                            any = true;
                            let name = &head_graph.packages[*index].name;
                            report(ManifestEffect::Package(
                                *index,
                                Reason::new(
                                    "workspace-manifest",
                                    Some(repo_path),
                                    format!(
                                        "{repo_path} [workspace.{key}] `{entry}` changed -> inherited by {name}"
                                    ),
                                ),
                            ));
                        }
                    }
                    if !any {
                        report(ManifestEffect::Nothing(Reason::new(
                            "workspace-manifest",
                            Some(repo_path),
                            format!(
                                "{repo_path} [workspace.{key}] `{entry}` changed; no member inherits it"
                            ),
                        )));
                    }
                }
            }
            _ => report(ManifestEffect::All(format!(
                "{section} changed (applies to every member)"
            ))),
        }
    }
}

/// A change to `[workspace] members` or `exclude` is a change of membership: a package that
/// joined brings its tests; one that left and is still built as a path dependency may build
/// differently (workspace lints, inherited fields) for its dependents; one that left entirely
/// takes its tests out of the run. Tests that read the membership at run time are named by
/// `also` rules on the root manifest (`[impact]` in lanes.toml).
fn membership(
    sides: &Sides<'_>,
    repo_path: &str,
    section: &str,
    report: &mut impl FnMut(ManifestEffect),
) {
    let Sides {
        head_graph,
        base_graph,
        ..
    } = *sides;
    let before: BTreeSet<&str> = base_graph.members().map(|(_, p)| p.name.as_str()).collect();
    let after: BTreeSet<&str> = head_graph.members().map(|(_, p)| p.name.as_str()).collect();
    let reason = |text: String| Reason::new("workspace-manifest", Some(repo_path), text);
    for (index, package) in head_graph.members() {
        if !before.contains(package.name.as_str()) {
            report(ManifestEffect::Package(
                index,
                reason(format!(
                    "{section} changed -> {} joined the workspace",
                    package.name
                )),
            ));
        }
    }
    for name in before.difference(&after) {
        match head_graph.find(name) {
            Some(index) => report(ManifestEffect::Package(
                index,
                reason(format!(
                    "{section} changed -> {name} left the workspace but is still built as a path dependency"
                )),
            )),
            None => report(ManifestEffect::Nothing(reason(format!(
                "{section} changed -> {name} left the workspace: its tests no longer run"
            )))),
        }
    }
    if before == after {
        report(ManifestEffect::Nothing(reason(format!(
            "{section} changed; the members are the same"
        ))));
    }
}
