//! `lanes.toml` checked against its workspace: the members `cargo metadata` lists, the groups
//! of `deps-groups.toml`, the profiles of `.config/nextest.toml` and the release-lane manifest
//! a lane takes its tests from. [`load`] resolves every lane, collecting every problem.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use depgroups::GroupsFile;
use serde::Deserialize;
use support::config::{Code, unknown_name_help};
use support::{Failure, Located};
use xshell::Shell;

use crate::config::{Context, Features, LaneSelection, LanesFile, resolve};
use crate::release_lane::ReleaseLaneManifest;
use crate::{GROUPS_FILE, LANES_FILE, NEXTEST_CONFIG};

/// Every lane of a workspace, validated and resolved.
#[derive(Debug)]
pub struct Lanes {
    pub file: LanesFile,
    pub selections: Vec<LaneSelection>,
    pub workspace: Workspace,
}

impl Lanes {
    pub fn get(&self, name: &str) -> Result<&LaneSelection, Failure> {
        self.selections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.selections.iter().map(|s| s.name.as_str()).collect();
                Failure::invalid_input(format!(
                    "no lane `{name}` in {LANES_FILE} ({})",
                    unknown_name_help(name, &names, "lanes")
                ))
            })
    }
}

/// The effective selection of one lane (packages, features, profile, filterset).
pub fn selection(root: &Path, lane: &str) -> Result<LaneSelection, Failure> {
    load(root)?.get(lane).cloned()
}

/// What `cargo metadata` says about the workspace.
#[derive(Debug, Clone, Deserialize)]
pub struct Workspace {
    pub target_directory: PathBuf,
    #[serde(rename = "packages")]
    members: Vec<Member>,
}

#[derive(Debug, Clone, Deserialize)]
struct Member {
    name: String,
    /// cargo's package id, as nextest names a test binary's package.
    id: String,
    manifest_path: PathBuf,
    /// As declared (normal, dev and build), with the package each names.
    dependencies: Vec<Dependency>,
    targets: Vec<Target>,
    /// `[features]`: each feature and what it enables.
    #[serde(default)]
    features: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Dependency {
    name: String,
    /// The name the depending package gives it (`package = ...` renames).
    #[serde(default)]
    rename: Option<String>,
    /// The directory of a path dependency.
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    optional: bool,
    /// Features the declaration turns on.
    #[serde(default)]
    features: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Target {
    kind: Vec<String>,
}

/// The packages whose files a build of some members compiles (see [`Workspace::built_from`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuiltFrom {
    /// The directories of the members built and of the path dependencies they name.
    pub directories: BTreeSet<PathBuf>,
    /// Whether one of those members has a build script, which may read any file.
    pub build_script: bool,
}

impl Workspace {
    pub fn load(root: &Path) -> Result<Workspace, Failure> {
        let sh =
            Shell::new().map_err(|e| Failure::environment(format!("cannot start a shell: {e}")))?;
        sh.change_dir(root);
        let cargo = support::shell::cargo();
        let output = xshell::cmd!(sh, "{cargo} metadata --no-deps --format-version 1")
            .quiet()
            .ignore_status()
            .output()
            .map_err(|e| Failure::environment(format!("cannot run `cargo metadata`: {e}")))?;
        if !output.status.success() {
            return Err(Failure::invalid_input(format!(
                "`cargo metadata` failed in {}:\n{}",
                root.display(),
                String::from_utf8_lossy(&output.stderr).trim_end()
            )));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| Failure::environment(format!("cannot read `cargo metadata` output: {e}")))
    }

    pub fn member_names(&self) -> Vec<String> {
        self.members.iter().map(|m| m.name.clone()).collect()
    }

    /// The name of the member with this package id (as nextest gives it for a test binary).
    pub fn member_with_id(&self, id: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.as_str())
    }

    /// Every package directory of the workspace: the members' and those of the path
    /// dependencies they name.
    pub fn package_directories(&self) -> BTreeSet<PathBuf> {
        self.built_from(&[], &Features::All).directories
    }

    /// What a build of `packages` (every member when empty) with `features` compiles: those
    /// members, the members they depend on in any way (normal, build or dev, transitively) and
    /// the path dependencies they name. An optional dependency counts when some feature that
    /// may be on enables it (see [`Workspace::may_enable`]); the rest errs on the side of more
    /// than the build needs, never less.
    pub fn built_from(&self, packages: &[String], features: &Features) -> BuiltFrom {
        let mut names: BTreeSet<&str> = if packages.is_empty() {
            self.members.iter().map(|m| m.name.as_str()).collect()
        } else {
            packages.iter().map(String::as_str).collect()
        };
        let mut pending: Vec<&str> = names.iter().copied().collect();
        let mut built = BuiltFrom::default();
        while let Some(name) = pending.pop() {
            let Some(member) = self.members.iter().find(|m| m.name == name) else {
                continue;
            };
            if let Some(dir) = member.manifest_path.parent() {
                built.directories.insert(dir.to_path_buf());
            }
            built.build_script |= member
                .targets
                .iter()
                .any(|t| t.kind.iter().any(|k| k == "custom-build"));
            let enabled = self.may_enable(member, features);
            for dependency in &member.dependencies {
                let local = dependency.rename.as_deref().unwrap_or(&dependency.name);
                if dependency.optional && !enabled.contains(local) {
                    continue;
                }
                if let Some(path) = &dependency.path {
                    built.directories.insert(path.clone());
                }
                if self.members.iter().any(|m| m.name == dependency.name)
                    && names.insert(dependency.name.as_str())
                {
                    pending.push(dependency.name.as_str());
                }
            }
        }
        built
    }

    /// The optional dependencies of `member` (by the name it gives them) that some feature
    /// which may be on enables: with all features every one; otherwise those its `default`
    /// feature, a feature the lane lists for it (`member/feature`) or a feature any member's
    /// declaration of it asks for enables, directly or through other features.
    fn may_enable(&self, member: &Member, features: &Features) -> BTreeSet<String> {
        if *features == Features::All {
            return member
                .dependencies
                .iter()
                .map(|d| d.rename.clone().unwrap_or_else(|| d.name.clone()))
                .collect();
        }
        let mut on: Vec<String> = vec!["default".to_owned()];
        if let Features::List(listed) = features {
            on.extend(listed.iter().filter_map(|f| {
                f.strip_prefix(&format!("{}/", member.name))
                    .map(str::to_owned)
            }));
        }
        on.extend(
            self.members
                .iter()
                .flat_map(|m| &m.dependencies)
                .filter(|d| d.name == member.name)
                .flat_map(|d| d.features.iter().cloned()),
        );
        let mut seen = BTreeSet::new();
        let mut enabled = BTreeSet::new();
        while let Some(feature) = on.pop() {
            if !seen.insert(feature.clone()) {
                continue;
            }
            // A feature without a `[features]` entry is an optional dependency's own name.
            let Some(entries) = member.features.get(&feature) else {
                enabled.insert(feature);
                continue;
            };
            for entry in entries {
                if let Some(dependency) = entry.strip_prefix("dep:") {
                    enabled.insert(dependency.to_owned());
                } else if let Some((dependency, _)) = entry.split_once('/') {
                    // `dep?/feature` only adds to a dependency that something else enables.
                    if !dependency.ends_with('?') {
                        enabled.insert(dependency.to_owned());
                    }
                } else {
                    on.push(entry.clone());
                }
            }
        }
        enabled
    }

    /// Whether no member depends on `package` (not even as a dev-dependency). Such a
    /// package's features are its own choice in every build that selects it, never widened by
    /// another selected member, so its tests are the same whichever members are built with it.
    pub fn nothing_depends_on(&self, package: &str) -> bool {
        self.members
            .iter()
            .flat_map(|m| &m.dependencies)
            .all(|dependency| dependency.name != package)
    }
}

/// Profile names `.config/nextest.toml` defines, plus nextest's built-in `default`.
pub fn nextest_profiles(root: &Path) -> Result<Vec<String>, Located> {
    let path = root.join(NEXTEST_CONFIG);
    let mut profiles = vec!["default".to_owned()];
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(profiles),
        Err(e) => {
            return Err(
                Located::file(&path, format!("cannot read: {e}")).with_code(Code::Unreadable)
            );
        }
    };
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| support::config::syntax_error(&path, &text, &e))?;
    if let Some(toml::Value::Table(defined)) = table.get("profile") {
        for name in defined.keys() {
            if !profiles.contains(name) {
                profiles.push(name.clone());
            }
        }
    }
    Ok(profiles)
}

/// Loads and validates `lanes.toml` against its neighbours; every diagnostic is collected.
pub fn load(root: &Path) -> Result<Lanes, Failure> {
    let (file, mut diagnostics) = LanesFile::load(&root.join(LANES_FILE))?;
    let workspace = Workspace::load(root)?;
    let groups = GroupsFile::load(&root.join(GROUPS_FILE));
    let profiles = nextest_profiles(root).unwrap_or_else(|located| {
        diagnostics.push(located);
        vec!["default".to_owned()]
    });
    let groups = match groups {
        Ok(groups) => groups,
        Err(mut failure) => {
            // Without the groups nothing else resolves; report what was found so far with it.
            diagnostics.append(&mut failure.located);
            failure.located = diagnostics;
            return Err(failure);
        }
    };
    if file.lanes.is_empty() {
        diagnostics.push(
            file.error_at(Code::MissingKey, 0..0, "no `[lanes.NAME]` tables")
                .with_help("define at least one lane"),
        );
    }
    let members = workspace.member_names();
    for crate_name in &file.critical {
        if !members.contains(crate_name.get_ref()) {
            diagnostics.push(
                file.error_at(
                    Code::UnknownName,
                    crate_name.span(),
                    format!(
                        "critical crate `{}` is not a workspace member",
                        crate_name.get_ref()
                    ),
                )
                .with_help(unknown_name_help(
                    crate_name.get_ref(),
                    &members,
                    "list workspace members",
                )),
            );
        }
    }
    let context = Context {
        groups: &groups,
        members: &members,
        profiles: &profiles,
    };
    let mut selections = Vec::new();
    for lane in &file.lanes {
        let exact = match &lane.tests_from {
            None => None,
            Some(manifest) => match ReleaseLaneManifest::load(&root.join(manifest.get_ref())) {
                Ok(manifest) => Some(manifest.exact_tests()),
                Err(failure) => {
                    diagnostics.extend(failure.located);
                    None
                }
            },
        };
        selections.push(resolve(&file, lane, &context, exact, &mut diagnostics));
    }
    if !diagnostics.is_empty() {
        // Shape and name problems were found in two passes; they are read in file order.
        diagnostics.sort_by(|a, b| (&a.path, a.line_col).cmp(&(&b.path, b.line_col)));
        return Err(Failure::located(diagnostics));
    }
    Ok(Lanes {
        file,
        selections,
        workspace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo metadata --no-deps` of a tool whose optional `signing` dependency comes with its
    /// `signing` feature, a plain library, and `ci`, which asks for the tool when `wanted` is
    /// given.
    fn workspace(tool_default: &[&str], wanted: Option<&[&str]>) -> Workspace {
        let member = |name: &str, dependencies: serde_json::Value, features: serde_json::Value| {
            serde_json::json!({
                "name": name,
                "id": format!("path+file:///w/{name}#0.1.0"),
                "manifest_path": format!("/w/{name}/Cargo.toml"),
                "dependencies": dependencies,
                "targets": [{"kind": ["lib"]}],
                "features": features,
            })
        };
        let ci_dependencies = match wanted {
            Some(features) => {
                serde_json::json!([{"name": "tool", "path": "/w/tool", "features": features}])
            }
            None => serde_json::json!([]),
        };
        serde_json::from_value(serde_json::json!({
            "target_directory": "/w/target",
            "packages": [
                member(
                    "tool",
                    serde_json::json!([
                        {"name": "library", "path": "/w/library"},
                        {"name": "signing", "path": "/w/signing", "optional": true},
                    ]),
                    serde_json::json!({"default": tool_default, "extras": ["signing-on"], "signing-on": ["dep:signing"]}),
                ),
                member("library", serde_json::json!([]), serde_json::json!({})),
                member("signing", serde_json::json!([]), serde_json::json!({})),
                member("ci", ci_dependencies, serde_json::json!({})),
            ],
        }))
        .unwrap()
    }

    fn built(workspace: &Workspace, features: Features) -> Vec<String> {
        workspace
            .built_from(&["tool".to_owned()], &features)
            .directories
            .iter()
            .map(|dir| dir.display().to_string())
            .collect()
    }

    #[test]
    fn an_optional_dependency_is_built_from_only_when_a_feature_that_may_be_on_enables_it() {
        let plain = workspace(&[], None);
        assert_eq!(built(&plain, Features::Default), ["/w/library", "/w/tool"]);
        assert_eq!(
            built(&plain, Features::All),
            ["/w/library", "/w/signing", "/w/tool"]
        );
        assert_eq!(
            built(&plain, Features::List(vec!["tool/extras".to_owned()])),
            ["/w/library", "/w/signing", "/w/tool"],
            "through another feature"
        );
        assert_eq!(
            built(&plain, Features::List(vec!["library/extras".to_owned()])),
            ["/w/library", "/w/tool"],
            "another package's feature"
        );
        assert_eq!(
            built(&workspace(&["extras"], None), Features::Default),
            ["/w/library", "/w/signing", "/w/tool"],
            "on by default"
        );
        assert_eq!(
            built(&workspace(&[], Some(&["signing-on"])), Features::Default),
            ["/w/library", "/w/signing", "/w/tool"],
            "a member that depends on the tool may turn it on"
        );
    }
}
