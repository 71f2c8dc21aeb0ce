//! The kernel manifest (`manifests/kernel.toml`): the files that define the model surface, whose
//! change must be visible in provenance (README.md, "Kernel manifest").
//!
//! ```toml
//! version = 1
//! files = ["manifests/gates.toml", "crates/release/src/select.rs"]
//! ```
//!
//! The kernel digest is the sha256 of the canonical JSON array of `[path, "sha256:<hex>"]`
//! pairs sorted by path, so a content change in any kernel file, or a file added or removed,
//! changes it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::Located;
use support::config::{Code, Doc};

use crate::canonical;
use crate::federation::hash_file;

/// The largest kernel manifest read (1 MiB). The files it lists are hashed streaming, so
/// their size is not limited.
pub const MAX_BYTES: u64 = 1 << 20;

/// The supported `version` of kernel.toml.
pub const KERNEL_FILE_VERSION: i64 = 1;

/// A validated kernel manifest.
#[derive(Debug, Clone)]
pub struct KernelManifest {
    pub path: PathBuf,
    pub version: i64,
    /// Workspace-relative paths with `/` separators, sorted, without duplicates.
    pub files: Vec<String>,
    /// The manifest text and where each file is listed in it, for diagnostics.
    text: String,
    spans: BTreeMap<String, Range<usize>>,
}

/// One kernel file, hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelEntry {
    pub path: String,
    pub digest: String,
    pub size: u64,
}

/// The kernel as found on disk.
#[derive(Debug, Clone)]
pub struct KernelState {
    pub entries: Vec<KernelEntry>,
    /// Listed files that do not exist (or are not regular files).
    pub missing: Vec<String>,
}

impl KernelState {
    /// The kernel digest, defined only when no file is missing.
    pub fn digest(&self) -> Option<String> {
        self.missing
            .is_empty()
            .then(|| kernel_digest(&self.entries))
    }
}

/// `sha256:` of the canonical JSON `[[path, digest], ...]`, sorted by path.
pub fn kernel_digest(entries: &[KernelEntry]) -> String {
    let mut pairs: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.digest.as_str()))
        .collect();
    pairs.sort();
    let array = Value::Array(
        pairs
            .into_iter()
            .map(|(p, d)| Value::Array(vec![p.into(), d.into()]))
            .collect(),
    );
    canonical::digest_of_value(&array)
}

impl KernelManifest {
    pub fn load(path: &Path) -> Result<KernelManifest, Vec<Located>> {
        let text = support::input::read_text(path, MAX_BYTES, "kernel manifest")
            .map_err(|located| vec![located.with_code(Code::Unreadable)])?;
        KernelManifest::parse(path, &text)
    }

    /// Parses then validates, reporting every problem with its location.
    pub fn parse(path: &Path, text: &str) -> Result<KernelManifest, Vec<Located>> {
        let (mut doc, root) = Doc::parse(path, text).map_err(|located| {
            vec![located.with_help("expected `version = 1` and `files = [\"path\", ...]`")]
        })?;
        let mut top = doc.root(&root, "the kernel manifest");
        top.require_version(&mut doc, "kernel manifest", KERNEL_FILE_VERSION);
        let files = top.require(&mut doc, "files", "files = [\"manifests/gates.toml\"]");
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        if let Some(value) = files
            && let Some(files) = doc.string_list(value, "`files`")
        {
            if files.is_empty() {
                doc.error(
                    Code::InvalidValue,
                    value.span(),
                    "`files` is empty",
                    "list the files that define the model surface",
                );
            }
            for file in files {
                let name = file.get_ref();
                if !support::atomic::is_workspace_relative(name) {
                    doc.error(
                        Code::InvalidValue,
                        file.span(),
                        format!("{name:?} is not a workspace-relative path"),
                        "write paths relative to the workspace root with `/` separators, e.g. \"manifests/gates.toml\"",
                    );
                } else if seen.insert(name.clone(), file.span()).is_some() {
                    doc.error(
                        Code::Duplicate,
                        file.span(),
                        format!("{name:?} is listed twice"),
                        "remove one of the entries",
                    );
                }
            }
        }
        top.finish(&mut doc);
        doc.finish(())?;
        Ok(KernelManifest {
            path: path.to_owned(),
            // Any other version was reported above.
            version: KERNEL_FILE_VERSION,
            files: seen.keys().cloned().collect(),
            text: text.to_owned(),
            spans: seen,
        })
    }

    /// "kernel file does not exist" (or is a directory), pointing at its entry in the manifest.
    pub fn missing_file(&self, root: &Path, file: &str) -> Located {
        let message = if root.join(file).is_dir() {
            format!("kernel file {file:?} is a directory; list the files in it instead")
        } else {
            format!("kernel file {file:?} does not exist")
        };
        let help = "restore the file, or remove it from the kernel manifest if the model surface changed on purpose";
        match self.spans.get(file) {
            Some(span) => Located::at(&self.path, &self.text, span.clone(), message)
                .with_code(Code::UnknownName),
            None => Located::file(&self.path, message),
        }
        .with_help(help)
    }

    /// Hashes every listed file under `root`.
    pub fn inspect(&self, root: &Path) -> Result<KernelState, Located> {
        let mut entries = Vec::new();
        let mut missing = Vec::new();
        for file in &self.files {
            let full = root.join(file);
            if !full.is_file() {
                missing.push(file.clone());
                continue;
            }
            let (digest, size) = hash_file(&full)
                .map_err(|err| Located::file(&full, format!("cannot read kernel file: {err}")))?;
            entries.push(KernelEntry {
                path: file.clone(),
                digest,
                size,
            });
        }
        Ok(KernelState { entries, missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_file_that_cannot_be_read_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let problems = KernelManifest::load(&dir.path().join("kernel.toml")).unwrap_err();
        assert_eq!(problems[0].code, Some(Code::Unreadable), "{}", problems[0]);
    }

    #[test]
    fn kernel_paths_are_validated_with_locations() {
        let text = "version = 1\nfiles = [\n  \"a.txt\",\n  \"../etc/passwd\",\n  \"a.txt\",\n]\n";
        let problems = KernelManifest::parse(Path::new("kernel.toml"), text).unwrap_err();
        let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(rendered.len(), 2, "{rendered:#?}");
        assert!(
            rendered[0]
                .starts_with("kernel.toml:4:3: \"../etc/passwd\" is not a workspace-relative path"),
            "{rendered:#?}"
        );
        assert!(
            rendered[1].starts_with("kernel.toml:5:3: \"a.txt\" is listed twice"),
            "{rendered:#?}"
        );
    }

    #[test]
    fn every_kernel_manifest_problem_is_reported_with_its_code() {
        let text = "verison = 1\nfiles = [\"a.txt\", 7, \"a.txt\"]\n";
        let problems = KernelManifest::parse(Path::new("kernel.toml"), text).unwrap_err();
        let shown: Vec<String> = problems
            .iter()
            .map(|p| format!("{} {}", p.location(), p.code.map_or("-", |c| c.as_str())))
            .collect();
        assert_eq!(
            shown,
            [
                "kernel.toml:1:1 config::missing-key",
                "kernel.toml:1:1 config::unknown-key",
                "kernel.toml:2:19 config::wrong-type",
            ],
            "{problems:#?}"
        );
        assert!(
            problems[1]
                .help
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean `version`?")),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn kernel_digest_changes_with_any_file_content_and_ignores_listing_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("b.txt"), "b").unwrap();
        let forward = KernelManifest::parse(
            Path::new("k.toml"),
            "version = 1\nfiles = [\"a.txt\", \"b.txt\"]",
        )
        .unwrap();
        let backward = KernelManifest::parse(
            Path::new("k.toml"),
            "version = 1\nfiles = [\"b.txt\", \"a.txt\"]",
        )
        .unwrap();
        let before = forward.inspect(dir.path()).unwrap().digest().unwrap();
        assert_eq!(
            backward.inspect(dir.path()).unwrap().digest().unwrap(),
            before
        );
        std::fs::write(dir.path().join("b.txt"), "b2").unwrap();
        assert_ne!(
            forward.inspect(dir.path()).unwrap().digest().unwrap(),
            before
        );
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        let state = forward.inspect(dir.path()).unwrap();
        assert_eq!(state.missing, vec!["a.txt".to_owned()]);
        assert_eq!(state.digest(), None);
        assert!(
            forward
                .missing_file(dir.path(), "a.txt")
                .to_string()
                .contains("\"a.txt\" does not exist")
        );
        std::fs::create_dir(dir.path().join("a.txt")).unwrap();
        let located = forward.missing_file(dir.path(), "a.txt");
        assert!(
            located
                .to_string()
                .starts_with("k.toml:2:10: kernel file \"a.txt\" is a directory"),
            "{located}"
        );
    }
}
