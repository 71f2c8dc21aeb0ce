//! Where a unit's artifact lives on this node: the same mapping federation used to measure it
//! ([`release::federation::ArtifactLocator`]), rooted at the node's artifacts directory.
//!
//! `SCHEME://REST` maps to `<artifacts>/SCHEME/REST`: `gs://bucket/spiralverse/embedder-v2` is
//! `<artifacts>/gs/bucket/spiralverse/embedder-v2`, `hf://spiralverse/textgen-lora-v1` is
//! `<artifacts>/hf/spiralverse/textgen-lora-v1`; `file://rel/path` is `<artifacts>/rel/path`.
//! A URI the policy refuses (absolute, `.` or `..` segments, control characters) maps nowhere.

use std::path::{Path, PathBuf};

use release::federation::ArtifactLocator;

/// The local file for `uri` under `artifacts_dir` (it may or may not exist); `None` when the
/// URI policy ([`release::federation::check_uri`], the one federation applies) refuses it.
pub fn local_path(artifacts_dir: &Path, uri: &str) -> Option<PathBuf> {
    ArtifactLocator {
        base: artifacts_dir.to_path_buf(),
        dir: Some(artifacts_dir.to_path_buf()),
    }
    .local_path(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_scheme_and_path_under_the_directory() {
        let root = Path::new("/art");
        assert_eq!(
            local_path(root, "gs://bucket/spiralverse/embedder-v2").unwrap(),
            Path::new("/art/gs/bucket/spiralverse/embedder-v2")
        );
        assert_eq!(
            local_path(root, "hf://spiralverse/textgen-lora-v1").unwrap(),
            Path::new("/art/hf/spiralverse/textgen-lora-v1")
        );
    }

    #[test]
    fn refuses_uris_that_escape_or_name_nothing() {
        let root = Path::new("/art");
        for uri in [
            "no-scheme",
            "s3://a/../../etc/passwd",
            "file://../x",
            "file:///etc/passwd",
            "file://",
        ] {
            assert_eq!(local_path(root, uri), None, "{uri}");
        }
    }
}
