//! `manifests/release-lane.toml`: the exact tests the release lane runs, each named by binary
//! id and test name, turned into one filterset that selects exactly them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use support::{Failure, Located};
use toml::Spanned;

use crate::config::ExactTests;
use crate::fields::Doc;

/// Where the manifest lives in the workspace.
pub const MANIFEST: &str = "manifests/release-lane.toml";
/// The lane in `lanes.toml` that runs the manifest's tests (`tests-from`).
pub const RELEASE_LANE: &str = "release";

/// A listed test: exactly one binary and test name.
#[derive(Debug, Clone)]
pub struct Entry {
    pub binary_id: Spanned<String>,
    pub name: Spanned<String>,
}

/// A test as nextest names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestId {
    pub binary_id: String,
    pub name: String,
}

impl Entry {
    pub fn id(&self) -> TestId {
        TestId {
            binary_id: self.binary_id.get_ref().clone(),
            name: self.name.get_ref().clone(),
        }
    }

    /// The package a binary id belongs to (`release::kernel` -> `release`).
    pub fn package(&self) -> &str {
        let id = self.binary_id.get_ref();
        id.split_once("::")
            .map_or(id.as_str(), |(package, _)| package)
    }
}

/// `manifests/release-lane.toml`.
#[derive(Debug, Clone)]
pub struct ReleaseLaneManifest {
    pub path: PathBuf,
    pub text: String,
    pub tests: Vec<Entry>,
}

impl ReleaseLaneManifest {
    pub fn load(path: &Path) -> Result<ReleaseLaneManifest, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::from(Located::file(
                path,
                format!("cannot read the release-lane manifest: {e}"),
            ))
        })?;
        ReleaseLaneManifest::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<ReleaseLaneManifest, Failure> {
        let (mut doc, root) = Doc::parse(path, &text)?;
        doc.reject_unknown_keys(
            root.get_ref(),
            &["version", "test"],
            "the release-lane manifest",
        );
        match root.get_ref().get("version") {
            Some(v) if matches!(v.get_ref(), toml::de::DeValue::Integer(i) if i.as_str() == "1") => {
            }
            Some(v) => doc.error(
                v.span(),
                "unsupported `version`",
                "this xtask reads `version = 1`",
            ),
            None => doc.error(
                0..0,
                "missing `version = 1`",
                "start the file with `version = 1`",
            ),
        }
        let mut tests = Vec::new();
        if let Some(list) = root.get_ref().get("test") {
            for table in doc.table_list(list, "`[[test]]`") {
                doc.reject_unknown_keys(
                    table,
                    &["binary-id", "name", "covers"],
                    "a `[[test]]` entry",
                );
                let binary_id = table
                    .get("binary-id")
                    .and_then(|v| doc.string(v, "`binary-id`"));
                let name = table.get("name").and_then(|v| doc.string(v, "`name`"));
                // `covers` says what the test stands for; it is for readers only.
                if let Some(v) = table.get("covers") {
                    doc.string(v, "`covers`");
                }
                match (binary_id, name) {
                    (Some(binary_id), Some(name)) => tests.push(Entry { binary_id, name }),
                    _ => {
                        let span = table.values().next().map_or(0..0, |v| v.span());
                        doc.error(
                            span,
                            "a `[[test]]` entry needs `binary-id` and `name`",
                            "copy both from `cargo nextest list`",
                        );
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for entry in &tests {
            if !seen.insert(entry.id()) {
                doc.error(
                    entry.name.span(),
                    format!("`{}` is listed twice", entry.name.get_ref()),
                    "remove one entry",
                );
            }
        }
        if !doc.diagnostics.is_empty() {
            return Err(Failure::located(doc.diagnostics));
        }
        Ok(ReleaseLaneManifest {
            path: path.to_path_buf(),
            text: text.clone(),
            tests,
        })
    }

    /// `(binary_id(=B) & test(=T)) | ...`: exactly the listed tests, nothing that merely
    /// shares a prefix.
    pub fn exact_tests(&self) -> ExactTests {
        let terms: Vec<String> = self
            .tests
            .iter()
            .map(|e| {
                format!(
                    "(binary_id({}) & test({}))",
                    support::shell::filterset_exact(e.binary_id.get_ref()),
                    support::shell::filterset_exact(e.name.get_ref())
                )
            })
            .collect();
        let mut packages: Vec<String> = Vec::new();
        for entry in &self.tests {
            if !packages.iter().any(|p| p == entry.package()) {
                packages.push(entry.package().to_owned());
            }
        }
        ExactTests {
            filterset: if terms.is_empty() {
                "none()".to_owned()
            } else {
                terms.join(" | ")
            },
            packages,
        }
    }
}
