//! A small feature resolver: what one member builds under one feature setting, and the shortest
//! chain of dependencies and features that brings each package in.
//!
//! Nodes are "package P is built" and "entry E is active on package P" (E is a feature name or a
//! feature-table entry such as `dep:x`, `x/f`, `x?/f`). Edges follow cargo's rules:
//! non-optional dependencies of a built package; `dep:x` and `x/f` switch on optional dependency
//! `x`; `x?/f` only adds `f` when `x` is built anyway; a dependency brings its default features
//! unless `default-features = false`, plus the `features` it lists. Build dependencies count; the
//! root's own dev-dependencies count (lanes compile its tests), never a dependency's.
//! Platform-specific dependencies count for every platform (the audit errs on the strict side).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use serde::Serialize;

use crate::graph::{Dep, Graph, Kind};

/// Which features the root member is built with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    NoDefault,
    Default,
    All,
    /// One named feature and nothing else (how exceptions are checked).
    Only(String),
}

impl Setting {
    /// The three settings every member is audited under.
    pub const AUDITED: [Setting; 3] = [Setting::NoDefault, Setting::Default, Setting::All];

    /// How cargo spells it.
    pub fn flags(&self) -> String {
        match self {
            Setting::NoDefault => "--no-default-features".into(),
            Setting::Default => "default features".into(),
            Setting::All => "--all-features".into(),
            Setting::Only(f) => format!("--no-default-features --features {f}"),
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::NoDefault => f.write_str("no-default"),
            Setting::Default => f.write_str("default"),
            Setting::All => f.write_str("all-features"),
            Setting::Only(feature) => write!(f, "feature {feature}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Node {
    package: usize,
    /// `None`: the package is built. `Some(e)`: entry `e` is active on it.
    entry: Option<String>,
}

impl Node {
    fn built(package: usize) -> Node {
        Node {
            package,
            entry: None,
        }
    }
    fn entry(package: usize, entry: &str) -> Node {
        Node {
            package,
            entry: Some(entry.to_owned()),
        }
    }
}

/// Why an edge exists.
#[derive(Debug, Clone)]
struct Label {
    /// The dependency declaration crossed, when the edge leaves the package.
    dep: Option<(String, Kind)>,
    /// The feature-table entry that switched the edge on, if any.
    entry: Option<String>,
}

/// One dependency edge of a witness path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    #[serde(skip)]
    pub from: usize,
    #[serde(skip)]
    pub to: usize,
    pub from_name: String,
    pub to_name: String,
    /// The dependency key in `from`'s Cargo.toml.
    pub dep_key: String,
    pub kind: &'static str,
    /// Features of `from`, in activation order, that switched the edge on (empty: always on).
    pub features: Vec<String>,
    /// The feature-table entry that named the dependency (`dep:x`, `x/f`, ...).
    pub entry: Option<String>,
}

/// The shortest chain of hops from a root to a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    pub hops: Vec<Hop>,
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(first) = self.hops.first() else {
            return Ok(());
        };
        f.write_str(&first.from_name)?;
        for hop in &self.hops {
            let mut tags = Vec::new();
            match hop.kind {
                "build" => tags.push("build".to_owned()),
                "dev" => tags.push("dev".to_owned()),
                _ => {}
            }
            if !hop.features.is_empty() {
                let chain = hop.features.join(" -> ");
                tags.push(match &hop.entry {
                    Some(entry) if Some(entry) != hop.features.last() => {
                        format!("feature {chain}: {entry}")
                    }
                    _ => format!("feature {chain}"),
                });
            }
            if tags.is_empty() {
                write!(f, " --> {}", hop.to_name)?;
            } else {
                write!(f, " --[{}]--> {}", tags.join(", "), hop.to_name)?;
            }
        }
        Ok(())
    }
}

/// What `root` builds under `setting`.
pub struct Build<'g> {
    graph: &'g Graph,
    root: usize,
    /// Whether the root's dev-dependencies count (its tests are built).
    with_dev: bool,
    starts: Vec<Node>,
    /// Packages built (the fixpoint, with weak features settled).
    built: HashSet<usize>,
}

type Parents = HashMap<Node, Option<(Node, Label)>>;

impl<'g> Build<'g> {
    /// Resolves `root` under `setting`, with its tests (`with_dev`: its own dev-dependencies) or
    /// without. `None` when `Setting::Only` names a feature the root lacks.
    pub fn new(
        graph: &'g Graph,
        root: usize,
        setting: &Setting,
        with_dev: bool,
    ) -> Option<Build<'g>> {
        let features = &graph.packages[root].features;
        let mut starts = vec![Node::built(root)];
        match setting {
            Setting::NoDefault => {}
            Setting::Default => {
                if features.contains_key("default") {
                    starts.push(Node::entry(root, "default"));
                }
            }
            Setting::All => starts.extend(features.keys().map(|f| Node::entry(root, f))),
            Setting::Only(feature) => {
                if !features.contains_key(feature) {
                    return None;
                }
                starts.push(Node::entry(root, feature));
            }
        }
        let mut build = Build {
            graph,
            root,
            with_dev,
            starts,
            built: HashSet::new(),
        };
        // Weak entries (`x?/f`) fire only for packages built anyway: iterate to the fixpoint.
        loop {
            let parents = build.walk(|_| false);
            let built: HashSet<usize> = parents
                .keys()
                .filter(|n| n.entry.is_none())
                .map(|n| n.package)
                .collect();
            if built == build.built {
                return Some(build);
            }
            build.built = built;
        }
    }

    /// Every package built, the root included.
    pub fn packages(&self) -> &HashSet<usize> {
        &self.built
    }

    /// The shortest witness to every package `is_target` accepts. Targets are not walked
    /// through, so each reported path ends at the first target crate on it.
    pub fn witnesses(&self, is_target: impl Fn(usize) -> bool) -> Vec<(usize, Witness)> {
        let parents = self.walk(&is_target);
        let mut found: Vec<(usize, Witness)> = parents
            .keys()
            .filter(|n| n.entry.is_none() && n.package != self.root && is_target(n.package))
            .map(|n| (n.package, self.witness(&parents, n)))
            .collect();
        found
            .sort_by_key(|(package, w)| (w.hops.len(), self.graph.packages[*package].name.clone()));
        found
    }

    /// Breadth-first walk from the start nodes; `stop` packages are reached but not expanded.
    fn walk(&self, stop: impl Fn(usize) -> bool) -> Parents {
        let mut parents: Parents = HashMap::new();
        let mut queue = VecDeque::new();
        for start in &self.starts {
            if parents.insert(start.clone(), None).is_none() {
                queue.push_back(start.clone());
            }
        }
        while let Some(node) = queue.pop_front() {
            if node.package != self.root && stop(node.package) {
                continue;
            }
            for (next, label) in self.edges(&node) {
                if !parents.contains_key(&next) {
                    parents.insert(next.clone(), Some((node.clone(), label)));
                    queue.push_back(next);
                }
            }
        }
        parents
    }

    fn edges(&self, node: &Node) -> Vec<(Node, Label)> {
        let package = &self.graph.packages[node.package];
        let mut out = Vec::new();
        match &node.entry {
            None => {
                for dep in self.deps(node.package).filter(|d| !d.optional) {
                    let label = Label {
                        dep: Some((dep.key.clone(), dep.kind)),
                        entry: None,
                    };
                    self.switch_on(dep, &label, &mut out);
                }
            }
            Some(entry) => match package.features.get(entry) {
                Some(list) => {
                    for item in list {
                        self.entry_edges(node.package, item, &mut out);
                    }
                }
                // An entry listed in a dependency's `features = [...]` rather than a feature.
                None => self.entry_edges(node.package, entry, &mut out),
            },
        }
        out
    }

    /// The dependencies of `package` that count for this build.
    fn deps(&self, package: usize) -> impl Iterator<Item = &'g Dep> + '_ {
        let own_tests = self.with_dev && package == self.root;
        self.graph.packages[package]
            .deps
            .iter()
            .filter(move |d| d.kind != Kind::Dev || own_tests)
    }

    /// The edges one feature-table entry of `package` adds.
    fn entry_edges(&self, package: usize, item: &str, out: &mut Vec<(Node, Label)>) {
        let label = |dep: Option<&Dep>| Label {
            dep: dep.map(|d| (d.key.clone(), d.kind)),
            entry: Some(item.to_owned()),
        };
        if let Some(key) = item.strip_prefix("dep:") {
            for dep in self.deps(package).filter(|d| d.key == key) {
                self.switch_on(dep, &label(Some(dep)), out);
            }
        } else if let Some((key, feature)) = item.split_once('/') {
            let (key, weak) = match key.strip_suffix('?') {
                Some(key) => (key, true),
                None => (key, false),
            };
            for dep in self.deps(package).filter(|d| d.key == key) {
                if weak {
                    if self.built.contains(&dep.target) {
                        out.push((Node::entry(dep.target, feature), label(Some(dep))));
                    }
                } else {
                    self.switch_on(dep, &label(Some(dep)), out);
                    out.push((Node::entry(dep.target, feature), label(Some(dep))));
                }
            }
        } else if self.graph.packages[package].features.contains_key(item) {
            out.push((Node::entry(package, item), label(None)));
        } else {
            for dep in self.deps(package).filter(|d| d.key == item && d.optional) {
                self.switch_on(dep, &label(Some(dep)), out);
            }
        }
    }

    /// Building through `dep`: its package, its default features unless turned off, and the
    /// features the declaration lists.
    fn switch_on(&self, dep: &Dep, label: &Label, out: &mut Vec<(Node, Label)>) {
        out.push((Node::built(dep.target), label.clone()));
        if dep.default_features
            && self.graph.packages[dep.target]
                .features
                .contains_key("default")
        {
            out.push((Node::entry(dep.target, "default"), label.clone()));
        }
        for feature in &dep.features {
            out.push((Node::entry(dep.target, feature), label.clone()));
        }
    }

    fn witness(&self, parents: &Parents, target: &Node) -> Witness {
        let mut steps = Vec::new();
        let mut node = target.clone();
        while let Some(Some((parent, label))) = parents.get(&node) {
            steps.push((parent.clone(), node.clone(), label.clone()));
            node = parent.clone();
        }
        steps.reverse();
        let mut chain: Vec<String> = node.entry.iter().cloned().collect();
        let mut hops = Vec::new();
        for (from, to, label) in steps {
            if from.package == to.package {
                chain.extend(to.entry.clone());
                continue;
            }
            let (dep_key, kind) = label.dep.clone().unwrap_or_default();
            hops.push(Hop {
                from: from.package,
                to: to.package,
                from_name: self.graph.packages[from.package].name.clone(),
                to_name: self.graph.packages[to.package].name.clone(),
                dep_key,
                kind: match kind {
                    Kind::Normal => "normal",
                    Kind::Build => "build",
                    Kind::Dev => "dev",
                },
                features: if from.entry.is_some() {
                    std::mem::take(&mut chain)
                } else {
                    Vec::new()
                },
                entry: label.entry.clone(),
            });
            chain = to.entry.iter().cloned().collect();
        }
        Witness { hops }
    }
}
