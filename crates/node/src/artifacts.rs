//! Where a unit's artifact lives on this node.
//!
//! An artifacts directory mirrors artifact URIs: `SCHEME://REST` maps to
//! `<artifacts>/SCHEME/REST`. For example `gs://bucket/spiralverse/embedder-v2` is
//! `<artifacts>/gs/bucket/spiralverse/embedder-v2` and `hf://spiralverse/textgen-lora-v1` is
//! `<artifacts>/hf/spiralverse/textgen-lora-v1`. A URI that would leave the directory (`..`,
//! empty or absolute segments) is refused rather than mapped.

use std::path::{Path, PathBuf};

/// The local file for `uri` under `artifacts_dir`. The file may or may not exist.
pub fn local_path(artifacts_dir: &Path, uri: &str) -> Result<PathBuf, String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| format!("`{uri}` has no `scheme://`"))?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return Err(format!("`{uri}` has an invalid scheme `{scheme}`"));
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let mut path = artifacts_dir.join(scheme);
    let mut segments = 0;
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
            return Err(format!(
                "`{uri}` has a segment (`{segment}`) that cannot name a file under the artifacts directory"
            ));
        }
        path.push(segment);
        segments += 1;
    }
    if segments == 0 {
        return Err(format!("`{uri}` names no artifact"));
    }
    Ok(path)
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
            local_path(root, "hf://spiralverse/textgen-lora-v1?rev=3").unwrap(),
            Path::new("/art/hf/spiralverse/textgen-lora-v1")
        );
    }

    #[test]
    fn refuses_uris_that_escape_or_name_nothing() {
        let root = Path::new("/art");
        for uri in [
            "no-scheme",
            "s3://",
            "s3://a/../../etc/passwd",
            "s3://a//b",
            "s3:///abs",
            "s 3://x",
        ] {
            assert!(local_path(root, uri).is_err(), "{uri}");
        }
    }
}
