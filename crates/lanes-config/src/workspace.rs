//! `lanes.toml` checked against its workspace: the members `cargo metadata` lists, the groups
//! of `deps-groups.toml`, the profiles of `.config/nextest.toml` and the release-lane manifest
//! a lane takes its tests from. [`load`] resolves every lane, collecting every problem.

use std::path::{Path, PathBuf};

use depgroups::GroupsFile;
use serde::Deserialize;
use support::config::{Code, unknown_name_help};
use support::{Failure, Located};
use xshell::Shell;

use crate::config::{Context, LaneSelection, LanesFile, resolve};
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
