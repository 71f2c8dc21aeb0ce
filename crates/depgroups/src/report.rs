//! `deps report`: what each group is made of and what it pulls in.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use output_types::Shape;
use output_types::deps::DepsReport;
use support::Failure;

use crate::config::GroupsFile;
use crate::graph::{Graph, Kind};
use crate::resolve::{Build, Setting};

/// One group's figures (external crates counted by name, versions merged; dev-dependencies
/// left out: this is what building the group's members costs), as `deps-report/v1` shows it.
pub use output_types::deps::GroupReport;

#[derive(Debug, Clone)]
pub struct Report {
    pub groups: Vec<GroupReport>,
}

pub fn report(manifest_path: &Path, groups_path: Option<&Path>) -> Result<Report, Failure> {
    let graph = Graph::load(manifest_path)?;
    let groups_path = groups_path.map_or_else(
        || graph.workspace_root.join("deps-groups.toml"),
        Path::to_path_buf,
    );
    let groups = GroupsFile::load(&groups_path)?;
    Ok(report_graph(&graph, &groups))
}

pub fn report_graph(graph: &Graph, groups: &GroupsFile) -> Report {
    let closure = |members: &[String], setting: &Setting| -> BTreeSet<String> {
        members
            .iter()
            .filter_map(|m| graph.member_named(m))
            .filter_map(|root| Build::new(graph, root, setting, false))
            .flat_map(|build| build.packages().iter().copied().collect::<Vec<_>>())
            .map(|p| graph.packages[p].name.clone())
            .collect()
    };
    let is_external = |name: &String| graph.member_named(name).is_none();
    let mut groups_out = Vec::new();
    // The baseline is what a plain core build compiles: core's optional features (such as
    // xtask's `signing`) pull in other groups' crates, which must still count as theirs.
    let mut core_default: BTreeSet<String> = BTreeSet::new();
    for (name, group) in &groups.groups {
        let members: Vec<String> = group.members.iter().map(|m| m.get_ref().clone()).collect();
        let direct_external = members
            .iter()
            .filter_map(|m| graph.member_named(m))
            .flat_map(|i| graph.packages[i].deps.iter())
            .filter(|d| d.kind != Kind::Dev && !graph.packages[d.target].member)
            .map(|d| graph.packages[d.target].name.clone())
            .collect();
        let all = closure(&members, &Setting::All);
        let default = closure(&members, &Setting::Default);
        if name == "core" {
            core_default = default.clone();
        }
        groups_out.push(GroupReport {
            name: name.clone(),
            description: group.description.clone(),
            direct_external,
            closure_default: default.into_iter().filter(is_external).collect(),
            closure_all_features: all.iter().filter(|n| is_external(n)).cloned().collect(),
            adds_over_core: all,
            members,
        });
    }
    for group in &mut groups_out {
        let own: BTreeSet<&String> = group.members.iter().collect();
        group.adds_over_core = group
            .adds_over_core
            .iter()
            .filter(|n| !core_default.contains(*n) && !own.contains(n))
            .cloned()
            .collect();
    }
    Report { groups: groups_out }
}

impl Report {
    /// The JSON shape, `deps-report/v1` (README, "Dependency groups").
    pub fn shape(&self) -> DepsReport {
        DepsReport {
            schema: DepsReport::schema(),
            groups: self.groups.clone(),
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::from("## Dependency groups\n\n");
        out.push_str("| group | members | direct external | closure (default) | closure (all features) | adds over core |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|\n");
        for g in &self.groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                g.name,
                g.members.len(),
                g.direct_external.len(),
                g.closure_default.len(),
                g.closure_all_features.len(),
                if g.name == "core" {
                    "-".to_owned()
                } else {
                    g.adds_over_core.len().to_string()
                },
            );
        }
        for g in &self.groups {
            let _ = writeln!(out, "\n### {}\n", g.name);
            if let Some(description) = &g.description {
                let _ = writeln!(out, "{description}\n");
            }
            let _ = writeln!(out, "- members: {}", list(g.members.iter()));
            let _ = writeln!(
                out,
                "- direct external dependencies: {}",
                list(g.direct_external.iter())
            );
            if g.name != "core" {
                let _ = writeln!(out, "- adds over core: {}", list(g.adds_over_core.iter()));
            }
        }
        out
    }
}

fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let items: Vec<String> = items.map(|i| format!("`{i}`")).collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
