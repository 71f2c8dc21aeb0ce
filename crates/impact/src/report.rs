//! The analysis result. Its JSON shape is `output_types::impact::ImpactReport`
//! (`impact-report/v1`, made by `render::json`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer};

use crate::git::ChangedFile;
use crate::graph::Graph;
use crate::recording::{Recording, TestId, UsableRecording};

#[derive(Debug, Clone)]
pub struct Report {
    /// The base commit, or `None` when it could not be read (`--fallback all`).
    pub base: Option<String>,
    /// The head commit, or `None` for the working tree.
    pub head: Option<String>,
    /// Every member is affected; `all_reasons` says why.
    pub all: bool,
    pub all_reasons: Vec<String>,
    pub changed_files: Vec<ChangedFile>,
    /// Affected workspace members, sorted by name.
    pub packages: Vec<AffectedPackage>,
    /// A nextest filterset selecting exactly `packages`.
    pub filterset: String,
    /// Files that were looked at and affect nothing, with the reason (for the human view).
    pub unaffecting: Vec<Reason>,
    /// The head graph, for pictures.
    pub graph: Graph,
    pub stats: Stats,
    /// Things the user should know that do not change the shape (printed to stderr).
    pub warnings: Vec<String>,
    /// The run-time recording used as evidence, if any.
    pub recording: Option<UsableRecording>,
}

/// How the decision was made, for benchmarks and `--verbose` output.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub head_graph_cached: bool,
    pub base_graph_cached: bool,
    pub cargo_metadata_runs: u32,
    /// Wall time of each phase, in order (`IMPACT_TIMINGS=1` prints them).
    pub phases: Vec<(String, std::time::Duration)>,
}

impl Stats {
    /// Records the time since `since` as phase `name` and restarts the clock.
    pub fn lap(&mut self, name: &str, since: &mut std::time::Instant) {
        self.phases.push((name.to_owned(), since.elapsed()));
        *since = std::time::Instant::now();
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AffectedPackage {
    pub name: String,
    pub distance: u32,
    pub targets: Targets,
    /// Binaries of which only some tests are affected (a run-time recording saw only these
    /// tests read the change): binary id -> test names. A binary listed here is not in
    /// `targets`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<String, Vec<String>>,
    pub reasons: Vec<Reason>,
}

/// Which test binaries of a package are affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    All,
    /// nextest binary ids, sorted.
    Some(Vec<String>),
}

impl Serialize for Targets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Targets::All => serializer.serialize_str("all"),
            Targets::Some(ids) => ids.serialize(serializer),
        }
    }
}

/// One piece of evidence, with a one-line human summary of the why-chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `file -> owner or rule -> edge chain`, in words.
    pub summary: String,
    /// `owner`, `target`, `include`, `dep-info`, `manifest`, `workspace-manifest`, `lockfile`,
    /// `features`, `rule`, `workspace-file`, `unowned-file`, `deleted-package`, `dependency`,
    /// `fallback`, `workflow` (a GitHub Actions change that runs no test); with a run-time recording `recorded-read`, `unrecorded-binary` and
    /// `recording` (a file no recorded test read).
    pub evidence: String,
    /// The changed file behind it, repository-relative.
    pub file: Option<String>,
    /// Packages from the directly affected one to this one, for dependency chains.
    pub chain: Vec<String>,
}

impl Reason {
    pub fn new(evidence: &str, file: Option<&str>, summary: impl Into<String>) -> Reason {
        Reason {
            summary: summary.into(),
            evidence: evidence.to_owned(),
            file: file.map(str::to_owned),
            chain: Vec::new(),
        }
    }
}

impl Report {
    /// Explicit `package(=..)`, `binary_id(=..)` and `binary_id(=..) & test(=..)` terms;
    /// `none()` for an empty selection.
    pub fn build_filterset(packages: &[AffectedPackage]) -> String {
        let mut terms = Vec::new();
        for package in packages {
            match &package.targets {
                Targets::All => terms.push(format!("package(={})", package.name)),
                Targets::Some(ids) => {
                    terms.extend(ids.iter().map(|id| format!("binary_id(={id})")));
                    for (id, tests) in &package.tests {
                        let names: Vec<String> =
                            tests.iter().map(|t| format!("test(={t})")).collect();
                        terms.push(match names.as_slice() {
                            [one] => format!("(binary_id(={id}) & {one})"),
                            _ => format!("(binary_id(={id}) & ({}))", names.join(" | ")),
                        });
                    }
                }
            }
        }
        if terms.is_empty() {
            "none()".to_owned()
        } else {
            terms.join(" | ")
        }
    }
}

/// What a decision selects, and what it missed against a run-time recording.
impl Report {
    /// Test binaries a report selects whole, expanded to nextest binary ids (binaries of which only
    /// some tests are selected are in [`Report::selected_tests`]).
    pub fn selected_binaries(&self) -> BTreeSet<String> {
        let report = self;
        let mut selected = BTreeSet::new();
        for package in &report.packages {
            match &package.targets {
                Targets::All => {
                    if let Some(index) = report.graph.find(&package.name) {
                        selected.extend(
                            report.graph.packages[index]
                                .targets
                                .iter()
                                .filter_map(|t| t.binary_id.clone()),
                        );
                    }
                }
                Targets::Some(ids) => selected.extend(ids.iter().cloned()),
            }
        }
        selected
    }

    /// Single tests a report selects, as `(binary id, test name)`, beyond whole binaries.
    pub fn selected_tests(&self) -> BTreeSet<(String, String)> {
        self.packages
            .iter()
            .flat_map(|p| &p.tests)
            .flat_map(|(id, tests)| tests.iter().map(move |t| (id.clone(), t.clone())))
            .collect()
    }

    /// Every test binary of the report's head workspace members.
    pub fn all_binaries(&self) -> BTreeSet<String> {
        self.graph
            .members()
            .flat_map(|(_, p)| p.targets.iter().filter_map(|t| t.binary_id.clone()))
            .collect()
    }

    /// Misses of a decision against a recording: `(test, changed file)` where the recording says
    /// the test read the file (or listed the directory a file appeared in or left), its binary
    /// exists at the head, and the decision selected neither the binary nor the test. A test is
    /// `binary-id test-name`, or the binary id alone for processes without a test name.
    pub fn misses(&self, recording: &Recording) -> Vec<(String, String)> {
        let report = self;
        let binaries = self.selected_binaries();
        let tests = self.selected_tests();
        let existing = self.all_binaries();
        let mut missed = BTreeSet::new();
        for file in &report.changed_files {
            for path in std::iter::once(&file.path).chain(&file.old_path) {
                let mut readers: Vec<TestId<'_>> = recording.readers(path);
                if file.status != crate::git::Status::Modified {
                    readers.extend(
                        recording
                            .listing_readers(path)
                            .into_iter()
                            .map(|(_, test)| test),
                    );
                }
                for (id, test) in readers {
                    let selected =
                        binaries.contains(id) || tests.contains(&(id.to_owned(), test.to_owned()));
                    if existing.contains(id) && !selected {
                        let who = if test.is_empty() {
                            id.to_owned()
                        } else {
                            format!("{id} {test}")
                        };
                        missed.insert((who, path.clone()));
                    }
                }
            }
        }
        missed.into_iter().collect()
    }
}
