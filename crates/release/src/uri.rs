//! The artifact URI policy, shared by federation (`federation::ArtifactLocator`), the manifest's
//! training inputs and node ingest: a module of its own so that the manifest need not import
//! federation, which imports the manifest.

/// Checks `uri` against the artifact URI policy; `(scheme, path segments)` when it holds,
/// else why not.
pub fn check_uri(uri: &str) -> Result<(&str, Vec<&str>), String> {
    if let Some(c) = uri.chars().find(|c| c.is_control()) {
        return Err(format!(
            "it contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err("it is not of the form scheme://path".into());
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("{scheme:?} is not a URI scheme"));
    }
    if rest.starts_with('/') {
        return Err(
            "its path is absolute; artifact paths are relative to the artifacts root".into(),
        );
    }
    if rest.contains('\\') {
        return Err("its path contains a backslash".into());
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err("its path has a `.` or `..` segment".into());
    }
    if segments.is_empty() {
        return Err("it names no file".into());
    }
    Ok((scheme, segments))
}
