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

const DEPENDENCY_KEYS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// A manifest as Cargo reads it: every `key.workspace = true` of `[package]`, of the
/// dependency tables (platform-specific ones included) and of `[lints]` replaced by what the
/// workspace table gives it (a dependency keeps its own `features`, added, and `optional`).
pub fn effective(manifest: &Table, workspace: Option<&Table>) -> Table {
    let inherited = |v: &Value| v.get("workspace").and_then(Value::as_bool) == Some(true);
    let from_workspace = |section: &str, key: &str| {
        workspace
            .and_then(|w| table(w, section))
            .and_then(|t| t.get(key))
    };
    let mut out = manifest.clone();
    if let Some(Value::Table(package)) = out.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if inherited(value)
                && let Some(given) = from_workspace("package", key)
            {
                *value = given.clone();
            }
        }
    }
    let resolve_dependencies = |deps: &mut Table| {
        for (name, value) in deps.iter_mut() {
            if !inherited(value) {
                continue;
            }
            let Some(given) = from_workspace("dependencies", name) else {
                continue;
            };
            let mut resolved = match given {
                Value::String(version) => {
                    Table::from_iter([("version".to_owned(), Value::String(version.clone()))])
                }
                Value::Table(t) => t.clone(),
                _ => continue,
            };
            for (key, own) in value.as_table().into_iter().flatten() {
                match (key.as_str(), resolved.get_mut(key)) {
                    ("workspace", _) => {}
                    ("features", Some(Value::Array(features))) => {
                        features.extend(own.as_array().into_iter().flatten().cloned())
                    }
                    _ => {
                        resolved.insert(key.clone(), own.clone());
                    }
                }
            }
            *value = Value::Table(resolved);
        }
    };
    for key in DEPENDENCY_KEYS {
        if let Some(Value::Table(deps)) = out.get_mut(key) {
            resolve_dependencies(deps);
        }
    }
    if let Some(Value::Table(targets)) = out.get_mut("target") {
        for (_, platform) in targets.iter_mut() {
            let Some(platform) = platform.as_table_mut() else {
                continue;
            };
            for key in DEPENDENCY_KEYS {
                if let Some(Value::Table(deps)) = platform.get_mut(key) {
                    resolve_dependencies(deps);
                }
            }
        }
    }
    if out.get("lints").is_some_and(inherited)
        && let Some(given) = workspace.and_then(|w| w.get("lints"))
    {
        out.insert("lints".into(), given.clone());
    }
    out
}

/// The top-level keys of a manifest whose effective values differ between the base and the
/// head (`package.FIELD` for a field of `[package]`); the `[workspace]` table is left out.
pub fn effective_changes(
    (old, new): (&Table, &Table),
    (old_workspace, new_workspace): (Option<&Table>, Option<&Table>),
) -> Vec<String> {
    let (old, new) = (effective(old, old_workspace), effective(new, new_workspace));
    let mut changed = Vec::new();
    for key in changed_keys(Some(&old), Some(&new)) {
        match (key.as_str(), table(&old, &key), table(&new, &key)) {
            ("workspace", _, _) => {}
            ("package", Some(a), Some(b)) => changed.extend(
                changed_keys(Some(a), Some(b))
                    .into_iter()
                    .map(|field| format!("package.{field}")),
            ),
            _ => changed.push(key),
        }
    }
    changed
}

/// A member's own manifest changed: which of its effective values did. `None` when a
/// manifest (the member's or the workspace's) is missing or unreadable at one end: the file
/// then counts as changed in every way.
pub fn member_manifest(sides: &Sides<'_>, member_path: &str) -> Option<Vec<String>> {
    let root = if sides.workspace_dir.is_empty() {
        "Cargo.toml".to_owned()
    } else {
        format!("{}/Cargo.toml", sides.workspace_dir)
    };
    let (old_root, new_root) = (parse(sides.base, &root)?, parse(sides.head, &root)?);
    let (old, new) = (
        parse(sides.base, member_path)?,
        parse(sides.head, member_path)?,
    );
    Some(effective_changes(
        (&old, &new),
        (table(&old_root, "workspace"), table(&new_root, "workspace")),
    ))
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
    let effective_change = effective_changes(
        (&old, &new),
        (table(&old, "workspace"), table(&new, "workspace")),
    );
    let effectively_same = |key: &str| {
        !effective_change
            .iter()
            .any(|c| c == key || c.starts_with(&format!("{key}.")))
    };
    let mut touched_something = false;
    for key in changed_keys(Some(&old), Some(&new)) {
        touched_something = true;
        match key.as_str() {
            "workspace" => workspace_table(sides, repo_path, (&old, &new), &mut report),
            key if PACKAGE_KEYS.contains(&key) && effectively_same(key) => {
                report(ManifestEffect::Nothing(Reason::new(
                    "workspace-manifest",
                    Some(repo_path),
                    format!(
                        "{repo_path} [{key}] changed only in how it is written: its effective values (inherited ones resolved) are the same"
                    ),
                )))
            }
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
        base,
        workspace_dir,
        head_graph,
        ..
    } = *sides;
    let (old_ws, new_ws) = (table(old, "workspace"), table(new, "workspace"));
    let mut member_manifests: Option<Vec<MemberManifests>> = None;
    let mut load_members = || -> Vec<MemberManifests> {
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
        let parsed = |content: Option<Vec<u8>>| -> Option<Table> {
            toml::from_str(&String::from_utf8_lossy(&content?)).ok()
        };
        head_graph
            .members()
            .zip(
                head.read_files(&refs)
                    .into_iter()
                    .zip(base.read_files(&refs)),
            )
            .filter_map(|((index, _), (at_head, at_base))| {
                Some(MemberManifests {
                    index,
                    head: parsed(at_head)?,
                    base: parsed(at_base),
                })
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
                let members = member_manifests.get_or_insert_with(&mut load_members);
                let (old_t, new_t) = (
                    old_ws.and_then(|t| table(t, &key)),
                    new_ws.and_then(|t| table(t, &key)),
                );
                for entry in changed_keys(old_t, new_t) {
                    let uses = |manifest: &Table| {
                        let found = inherits(manifest);
                        if key == "dependencies" {
                            found.dependencies.contains(&entry)
                        } else {
                            found.fields.contains(&entry)
                        }
                    };
                    select_changed_members(
                        members,
                        |base, head| {
                            (uses(base) || uses(head))
                                && effective_entry(&effective(base, old_ws), &key, &entry)
                                    != effective_entry(&effective(head, new_ws), &key, &entry)
                        },
                        |index| {
                            let name = &head_graph.packages[index].name;
                            format!(
                                "{repo_path} [workspace.{key}] `{entry}` changed -> inherited by {name}, whose effective value changed"
                            )
                        },
                        format!(
                            "{repo_path} [workspace.{key}] `{entry}` changed; no member's effective value changed"
                        ),
                        repo_path,
                        report,
                    );
                }
            }
            // Only members that inherit the lints (`[lints] workspace = true`) compile with
            // them: a member's lints are its effective `[lints]`, compared at both ends, so a
            // member that does not inherit them, or whose inherited lints are the same, builds
            // and tests exactly as before. A member whose lints changed may now warn or fail to
            // compile, which reaches its dependents: it is selected like any member whose
            // effective manifest changed.
            "lints" => {
                let members = member_manifests.get_or_insert_with(&mut load_members);
                let lints = |manifest: &Table, workspace: Option<&Table>| {
                    effective(manifest, workspace).get("lints").cloned()
                };
                select_changed_members(
                    members,
                    |base, head| lints(base, old_ws) != lints(head, new_ws),
                    |index| {
                        let name = &head_graph.packages[index].name;
                        format!(
                            "{section} changed -> inherited by {name} (`[lints] workspace = true`), whose lints changed"
                        )
                    },
                    format!(
                        "{section} changed; no member inherits them (`[lints] workspace = true`) or its lints are the same"
                    ),
                    repo_path,
                    report,
                );
            }
            _ => report(ManifestEffect::All(format!(
                "{section} changed (applies to every member)"
            ))),
        }
    }
}

/// Selects each member that was one at both ends and for which `changed(base, head)` holds
/// (a member that joined is judged by the membership change), each with the reason `why`
/// gives for its index; when there is none, says `nothing`.
fn select_changed_members(
    members: &[MemberManifests],
    changed: impl Fn(&Table, &Table) -> bool,
    why: impl Fn(usize) -> String,
    nothing: String,
    repo_path: &str,
    report: &mut impl FnMut(ManifestEffect),
) {
    let mut any = false;
    for member in members {
        let Some(base) = &member.base else {
            continue;
        };
        if !changed(base, &member.head) {
            continue;
        }
        any = true;
        report(ManifestEffect::Package(
            member.index,
            Reason::new("workspace-manifest", Some(repo_path), why(member.index)),
        ));
    }
    if !any {
        report(ManifestEffect::Nothing(Reason::new(
            "workspace-manifest",
            Some(repo_path),
            nothing,
        )));
    }
}

/// A member's manifest at the head and, when it was a member there too, at the base.
struct MemberManifests {
    index: usize,
    head: Table,
    base: Option<Table>,
}

/// What an effective manifest says of one `[package]` field or one dependency (every
/// dependency table naming it, platform-specific ones included).
fn effective_entry(manifest: &Table, section: &str, entry: &str) -> Vec<Value> {
    if section == "package" {
        return table(manifest, "package")
            .and_then(|p| p.get(entry))
            .cloned()
            .into_iter()
            .collect();
    }
    let mut tables: Vec<&Table> = DEPENDENCY_KEYS
        .iter()
        .filter_map(|key| table(manifest, key))
        .collect();
    if let Some(targets) = table(manifest, "target") {
        for platform in targets.values().filter_map(Value::as_table) {
            tables.extend(
                DEPENDENCY_KEYS
                    .iter()
                    .filter_map(|key| table(platform, key)),
            );
        }
    }
    tables
        .into_iter()
        .filter_map(|deps| deps.get(entry))
        .cloned()
        .collect()
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
