//! The audit: every member, under no-default, default and all features, against the groups file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use output_types::Shape;
use output_types::deps::DepsAudit;
use support::{Failure, Located};

use crate::config::GroupsFile;
use crate::graph::Graph;
use crate::manifest::dependency_span;
use crate::resolve::{Build, Hop, Setting, Witness};

/// What rule a violation breaks.
pub use output_types::deps::ViolationKind;

/// One broken rule, with the shortest witness and the place to fix it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub kind: ViolationKind,
    /// The member audited (or listed), when there is one.
    pub member: Option<String>,
    pub group: Option<String>,
    /// The crate reached that should not be.
    pub target: Option<String>,
    pub target_group: Option<String>,
    /// The builds in which it happens, weakest first.
    pub settings: Vec<Setting>,
    pub witness: Option<Witness>,
    pub located: Located,
}

impl Violation {
    /// The violation as `deps-audit/v1` shows it.
    pub fn shape(&self) -> output_types::deps::Violation {
        let (line, column) = self.located.line_col.unzip();
        output_types::deps::Violation {
            kind: self.kind,
            member: self.member.clone(),
            group: self.group.clone(),
            target: self.target.clone(),
            target_group: self.target_group.clone(),
            settings: self.settings.iter().map(ToString::to_string).collect(),
            witness: self.witness.as_ref().map(ToString::to_string),
            path: self
                .witness
                .as_ref()
                .map(|w| w.hops.iter().map(hop_shape).collect()),
            location: output_types::deps::Location {
                file: self.located.path.display().to_string(),
                line,
                column,
            },
            message: self.located.message.clone(),
            help: self.located.help.clone(),
        }
    }
}

fn hop_shape(hop: &Hop) -> output_types::deps::Hop {
    output_types::deps::Hop {
        from_name: hop.from_name.clone(),
        to_name: hop.to_name.clone(),
        dep_key: hop.dep_key.clone(),
        kind: hop.kind.to_owned(),
        features: hop.features.clone(),
        entry: hop.entry.clone(),
    }
}

/// The result of one audit run.
#[derive(Debug, Clone)]
pub struct Audit {
    pub workspace_root: PathBuf,
    pub groups_path: PathBuf,
    /// Every workspace member and its group (`None`: in no group).
    pub members: BTreeMap<String, Option<String>>,
    pub violations: Vec<Violation>,
}

impl Audit {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Every violation as a located diagnostic, for the front end to render.
    pub fn diagnostics(&self) -> Vec<Located> {
        self.violations.iter().map(|v| v.located.clone()).collect()
    }

    /// The JSON shape, `deps-audit/v1` (README, "Dependency groups").
    pub fn shape(&self) -> DepsAudit {
        DepsAudit {
            schema: DepsAudit::schema(),
            workspace_root: self.workspace_root.display().to_string(),
            groups_file: self.groups_path.display().to_string(),
            settings: Setting::AUDITED.iter().map(ToString::to_string).collect(),
            members: self.members.clone(),
            passed: self.passed(),
            violations: self.violations.iter().map(Violation::shape).collect(),
        }
    }
}

/// Audits the workspace of `manifest_path` against `groups_path` (default: `deps-groups.toml`
/// at the workspace root). `Err` is for a malformed groups file (exit 2) or a failing
/// `cargo metadata`; violations are in the `Ok` value.
pub fn audit(manifest_path: &Path, groups_path: Option<&Path>) -> Result<Audit, Failure> {
    let graph = Graph::load(manifest_path)?;
    let groups_path = groups_path.map_or_else(
        || graph.workspace_root.join("deps-groups.toml"),
        Path::to_path_buf,
    );
    let mut groups = GroupsFile::load(&groups_path)?;
    // Diagnostics name files relative to the workspace root, as they name manifests.
    if let Ok(relative) = groups_path.strip_prefix(&graph.workspace_root) {
        groups.path = relative.to_path_buf();
    }
    Ok(audit_graph(&graph, &groups))
}

/// The audit over a graph already loaded (frozen metadata in tests, or a shared load).
pub fn audit_graph(graph: &Graph, groups: &GroupsFile) -> Audit {
    let mut auditor = Auditor {
        graph,
        groups,
        violations: Vec::new(),
        by_pair: HashMap::new(),
        exception_used: vec![false; groups.exceptions.len()],
        manifests: HashMap::new(),
    };
    auditor.check_membership();
    auditor.check_reachability();
    auditor.check_stale_exceptions();
    let mut violations = auditor.violations;
    violations.sort_by(|a, b| {
        (a.kind, &a.member, &a.target, &a.located.line_col).cmp(&(
            b.kind,
            &b.member,
            &b.target,
            &b.located.line_col,
        ))
    });
    Audit {
        workspace_root: graph.workspace_root.clone(),
        groups_path: groups.path.clone(),
        members: graph
            .members()
            .map(|(_, p)| (p.name.clone(), groups.group_of(&p.name).map(str::to_owned)))
            .collect(),
        violations,
    }
}

struct Auditor<'a> {
    graph: &'a Graph,
    groups: &'a GroupsFile,
    violations: Vec<Violation>,
    /// (root, target, kind) to the violation index, so settings merge into one finding.
    by_pair: HashMap<(usize, usize, ViolationKind), usize>,
    exception_used: Vec<bool>,
    manifests: HashMap<PathBuf, Option<String>>,
}

impl Auditor<'_> {
    fn check_membership(&mut self) {
        let members: BTreeSet<&str> = self.graph.members().map(|(_, p)| p.name.as_str()).collect();
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (group_name, group) in &self.groups.groups {
            for member in &group.members {
                let name = member.get_ref().as_str();
                if !members.contains(name) {
                    let located = self
                        .groups
                        .at(member.span(), format!("group `{group_name}` lists `{name}`, which is not a workspace member"))
                        .with_help(format!("remove `{name}` or add the crate to the workspace"));
                    self.push_plain(
                        ViolationKind::UnknownMember,
                        name,
                        Some(group_name),
                        located,
                    );
                } else if let Some(first) = seen.insert(name, group_name) {
                    let located = self
                        .groups
                        .at(
                            member.span(),
                            format!(
                                "`{name}` is listed again in `{group_name}` (already in `{first}`)"
                            ),
                        )
                        .with_help("every member belongs to exactly one group; keep one entry");
                    self.push_plain(
                        ViolationKind::DuplicateMember,
                        name,
                        Some(group_name),
                        located,
                    );
                }
            }
        }
        let known = self
            .groups
            .groups
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        for name in members {
            if seen.contains_key(name) {
                continue;
            }
            let located = self
                .groups
                .at(
                    self.groups.groups_span(),
                    format!("workspace member `{name}` is in no group"),
                )
                .with_help(format!(
                    "add `{name}` to the `members` of one group ({known})"
                ));
            self.push_plain(ViolationKind::UnassignedMember, name, None, located);
        }
    }

    fn push_plain(
        &mut self,
        kind: ViolationKind,
        member: &str,
        group: Option<&str>,
        located: Located,
    ) {
        self.violations.push(Violation {
            kind,
            member: Some(member.to_owned()),
            group: group.map(str::to_owned),
            target: None,
            target_group: None,
            settings: Vec::new(),
            witness: None,
            located,
        });
    }

    /// The group `target` belongs to (member) or is reserved for (external), when members of
    /// `group` may not reach it.
    fn forbidden_for(&self, group: &str, target: usize) -> Option<(ViolationKind, &str)> {
        let package = &self.graph.packages[target];
        let (kind, owner) = if package.member {
            (
                ViolationKind::ForbiddenGroup,
                self.groups.group_of(&package.name)?,
            )
        } else {
            (
                ViolationKind::ReservedCrate,
                self.groups.reserved_for(&package.name)?,
            )
        };
        (!self.groups.may_reach(group, owner)).then_some((kind, owner))
    }

    fn check_reachability(&mut self) {
        let roots: Vec<(usize, String)> = self
            .graph
            .members()
            .filter_map(|(i, p)| Some((i, self.groups.group_of(&p.name)?.to_owned())))
            .collect();
        for (root, group) in roots {
            for setting in Setting::AUDITED {
                let build = Build::new(self.graph, root, &setting, true)
                    .expect("audited settings always resolve");
                for (target, witness) in
                    build.witnesses(|t| self.forbidden_for(&group, t).is_some())
                {
                    let (kind, owner) = self
                        .forbidden_for(&group, target)
                        .expect("witnesses are forbidden");
                    let owner = owner.to_owned();
                    self.record(root, &group, target, &owner, kind, &setting, witness);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        root: usize,
        group: &str,
        target: usize,
        owner: &str,
        kind: ViolationKind,
        setting: &Setting,
        witness: Witness,
    ) {
        let root_name = self.graph.packages[root].name.clone();
        let target_name = self.graph.packages[target].name.clone();
        let last_from = witness
            .hops
            .last()
            .map(|h| h.from_name.clone())
            .unwrap_or_default();
        let exception = self.groups.exceptions.iter().position(|e| {
            e.to.get_ref() == &target_name
                && (e.from.get_ref() == &root_name || e.from.get_ref() == &last_from)
        });
        let mut kind = kind;
        if let Some(index) = exception {
            let allowed = self.exception_allows(index, target);
            if allowed {
                self.exception_used[index] = true;
            }
            match setting {
                Setting::All if allowed => return,
                Setting::NoDefault | Setting::Default if allowed => {
                    kind = ViolationKind::DefaultBuild
                }
                _ => {}
            }
        }
        if let Some(&existing) = self.by_pair.get(&(root, target, kind)) {
            self.violations[existing].settings.push(setting.clone());
            let settings = self.violations[existing].settings.clone();
            let first = self.violations[existing]
                .witness
                .clone()
                .expect("reach violations carry a witness");
            let rebuilt = self.describe(
                &root_name,
                group,
                &target_name,
                owner,
                kind,
                &settings,
                exception,
                &first,
            );
            self.violations[existing].located = rebuilt;
            return;
        }
        let settings = vec![setting.clone()];
        let located = self.describe(
            &root_name,
            group,
            &target_name,
            owner,
            kind,
            &settings,
            exception,
            &witness,
        );
        self.by_pair
            .insert((root, target, kind), self.violations.len());
        self.violations.push(Violation {
            kind,
            member: Some(root_name),
            group: Some(group.to_owned()),
            target: Some(target_name),
            target_group: Some(owner.to_owned()),
            settings,
            witness: Some(witness),
            located,
        });
    }

    /// Whether exception `index` covers reaching `target`: with a `feature`, that feature of
    /// `from` alone must bring `target` in.
    fn exception_allows(&self, index: usize, target: usize) -> bool {
        let exception = &self.groups.exceptions[index];
        let Some(feature) = &exception.feature else {
            return true;
        };
        let Some(from) = self.graph.member_named(exception.from.get_ref()) else {
            return false;
        };
        Build::new(
            self.graph,
            from,
            &Setting::Only(feature.get_ref().clone()),
            true,
        )
        .is_some_and(|build| build.packages().contains(&target))
    }

    #[allow(clippy::too_many_arguments)]
    fn describe(
        &mut self,
        member: &str,
        group: &str,
        target: &str,
        owner: &str,
        kind: ViolationKind,
        settings: &[Setting],
        exception: Option<usize>,
        witness: &Witness,
    ) -> Located {
        let builds = describe_settings(settings);
        let allowed: Vec<String> = self.groups.groups.get(group).map_or_else(Vec::new, |g| {
            g.may_depend_on
                .iter()
                .map(|d| d.get_ref().clone())
                .collect()
        });
        let allowed = if allowed.is_empty() {
            "no other group".to_owned()
        } else {
            allowed.join(", ")
        };
        let (message, help) = match kind {
            ViolationKind::DefaultBuild => {
                let at = exception.map_or_else(String::new, |i| {
                    let e = &self.groups.exceptions[i];
                    format!(
                        " (exception at {})",
                        self.groups.at(e.span(), "").location()
                    )
                });
                (
                    format!("`{member}` ({group}) reaches `{target}` ({owner}) in its {builds}; the exception{at} allows it only behind a named feature: {witness}"),
                    "make the dependency optional and switch it on only from a feature outside `default`".to_owned(),
                )
            }
            ViolationKind::ReservedCrate => (
                format!(
                    "`{member}` ({group}) reaches `{target}`, an external crate reserved for {owner}, in its {builds}: {witness}"
                ),
                format!(
                    "{group} may depend on: {allowed}; remove the dependency, or put it behind a named feature and add an [[exception]] with a reason"
                ),
            ),
            _ => (
                format!(
                    "`{member}` ({group}) reaches `{target}` ({owner}) in its {builds}: {witness}"
                ),
                format!(
                    "{group} may depend on: {allowed}; remove the dependency, or put it behind a named feature and add an [[exception]] with a reason"
                ),
            ),
        };
        self.locate_edge(witness, message).with_help(help)
    }

    /// Points at the dependency line responsible: the edge into the forbidden crate, or, when
    /// that edge is inside an external crate, the last edge a workspace member declares.
    fn locate_edge(&mut self, witness: &Witness, message: String) -> Located {
        let hop: &Hop = witness
            .hops
            .iter()
            .rev()
            .find(|h| self.graph.packages[h.from].member)
            .or(witness.hops.last())
            .expect("a witness has at least one hop");
        let manifest = self.graph.packages[hop.from].manifest_path.clone();
        let text = self
            .manifests
            .entry(manifest.clone())
            .or_insert_with(|| std::fs::read_to_string(&manifest).ok())
            .clone();
        let kind = match hop.kind {
            "build" => crate::graph::Kind::Build,
            "dev" => crate::graph::Kind::Dev,
            _ => crate::graph::Kind::Normal,
        };
        let shown = manifest
            .strip_prefix(&self.graph.workspace_root)
            .unwrap_or(&manifest)
            .to_path_buf();
        match text
            .as_deref()
            .and_then(|t| Some((t, dependency_span(t, &hop.dep_key, kind)?)))
        {
            Some((text, span)) => Located::at(shown, text, span, message),
            None => Located::file(shown, message),
        }
    }

    fn check_stale_exceptions(&mut self) {
        for (index, exception) in self.groups.exceptions.iter().enumerate() {
            if self.exception_used[index] {
                continue;
            }
            let from = exception.from.get_ref();
            let to = exception.to.get_ref();
            let mut help = "delete the exception, or fix `from`/`to`/`feature` so it names the dependency it allows".to_owned();
            let missing_feature = |i: usize| {
                exception
                    .feature
                    .as_ref()
                    .filter(|f| !self.graph.packages[i].features.contains_key(f.get_ref()))
            };
            match self.graph.member_named(from) {
                None => help = format!("`{from}` is not a workspace member; {help}"),
                Some(i) => {
                    if let Some(feature) = missing_feature(i) {
                        help = format!("`{from}` has no feature `{}`; {help}", feature.get_ref());
                    }
                }
            }
            let located = self
                .groups
                .at(exception.span(), format!("stale exception: no build of any member reaches `{to}` the way `{from}` -> `{to}` allows"))
                .with_help(help);
            self.violations.push(Violation {
                kind: ViolationKind::StaleException,
                member: Some(from.clone()),
                group: self.groups.group_of(from).map(str::to_owned),
                target: Some(to.clone()),
                target_group: None,
                settings: Vec::new(),
                witness: None,
                located,
            });
        }
    }
}

fn describe_settings(settings: &[Setting]) -> String {
    let names: Vec<String> = settings.iter().map(ToString::to_string).collect();
    match names.as_slice() {
        [one] => format!("{one} build"),
        [init @ .., last] => format!("{} and {last} builds", init.join(", ")),
        [] => "build".to_owned(),
    }
}
