//! `manifests/release-lane.toml`: the exact tests the release lane runs, each named by binary
//! id and test name, turned into one filterset that selects exactly them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use support::config::{Code, Doc};
use support::{Failure, Located};
use toml::Spanned;

use crate::config::ExactTests;

/// Where the manifest lives in the workspace.
pub const MANIFEST: &str = "manifests/release-lane.toml";
/// The `version` this build reads.
pub const MANIFEST_VERSION: i64 = 1;
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
            Failure::from(
                Located::file(path, format!("cannot read the release-lane manifest: {e}"))
                    .with_code(Code::Unreadable),
            )
        })?;
        ReleaseLaneManifest::parse(path, text)
    }

    /// Reads the manifest, reporting every problem in it at once.
    pub fn parse(path: &Path, text: String) -> Result<ReleaseLaneManifest, Failure> {
        let (mut doc, root) = Doc::parse(path, &text)?;
        let mut top = doc.root(&root, "the release-lane manifest");
        top.require_version(&mut doc, "release-lane manifest", MANIFEST_VERSION);
        let mut tests = Vec::new();
        if let Some(list) = top.get("test") {
            for mut table in doc.table_list(list, "a `[[test]]` entry") {
                let binary_id = table
                    .require(&mut doc, "binary-id", "binary-id = \"PACKAGE::BINARY\"")
                    .and_then(|v| doc.string(v, "`binary-id`"));
                let name = table
                    .require(&mut doc, "name", "name = \"module::test\"")
                    .and_then(|v| doc.string(v, "`name`"));
                // `covers` says what the test stands for; it is for readers only.
                if let Some(v) = table.get("covers") {
                    doc.string(v, "`covers`");
                }
                table.finish(&mut doc);
                if let (Some(binary_id), Some(name)) = (binary_id, name) {
                    tests.push(Entry { binary_id, name });
                }
            }
        }
        top.finish(&mut doc);
        let mut seen = BTreeSet::new();
        for entry in &tests {
            if !seen.insert(entry.id()) {
                doc.error(
                    Code::Duplicate,
                    entry.name.span(),
                    format!("`{}` is listed twice", entry.name.get_ref()),
                    "remove one entry",
                );
            }
        }
        let tests = doc.finish(tests).map_err(Failure::located)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let failure = ReleaseLaneManifest::parse(Path::new("release-lane.toml"), text.to_owned())
            .unwrap_err();
        failure
            .located
            .iter()
            .map(|d| format!("{} {}", d.location(), d.code.map_or("-", Code::as_str)))
            .collect()
    }

    #[test]
    fn every_problem_of_the_manifest_is_reported_with_its_code() {
        let text = "version = 2\n[[test]]\nbinary-id = \"alpha\"\n\
                    [[test]]\nbinary-id = \"beta\"\nname = \"tests::adds\"\nwhy = \"x\"\n\
                    [[test]]\nbinary-id = \"beta\"\nname = \"tests::adds\"\n[[tset]]\n";
        assert_eq!(
            problems(text),
            [
                "release-lane.toml:1:11 config::invalid-value",
                "release-lane.toml:2:1 config::missing-key",
                "release-lane.toml:7:1 config::unknown-key",
                "release-lane.toml:10:8 config::duplicate",
                "release-lane.toml:11:3 config::unknown-key",
            ]
        );
        assert_eq!(
            problems("[[test]]\nbinary-id = \"a\"\nname = \"t\"\n"),
            ["release-lane.toml:1:1 config::missing-key"]
        );
    }

    #[test]
    fn listed_tests_become_an_exact_filterset() {
        let manifest = ReleaseLaneManifest::parse(
            Path::new("release-lane.toml"),
            "version = 1\n[[test]]\nbinary-id = \"release::kernel\"\nname = \"a\"\ncovers = \"x\"\n"
                .to_owned(),
        )
        .unwrap();
        let exact = manifest.exact_tests();
        assert_eq!(exact.packages, ["release"]);
        assert_eq!(exact.filterset, "(binary_id(=release::kernel) & test(=a))");
    }
}
