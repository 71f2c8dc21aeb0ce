//! Reading an offered release manifest. The format, its validation and its digest belong to the
//! `release` crate ([`release::ReleaseManifest`]); this module adapts them to ingest's errors.

use std::path::Path;

use release::ReleaseManifest;
use release::manifest::Unit;
use support::Located;

use crate::error::IngestError;

/// Parses and validates manifest bytes; `path` names the file in diagnostics.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<ReleaseManifest, IngestError> {
    let text = std::str::from_utf8(bytes).map_err(|err| IngestError::Malformed {
        problems: vec![Located::file(path, format!("not UTF-8 text: {err}"))],
    })?;
    ReleaseManifest::parse(path, text).map_err(|problems| IngestError::Malformed { problems })
}

/// Same artifact: same id, URI, content digest and size.
pub fn same_artifact(a: &Unit, b: &Unit) -> bool {
    a.id == b.id && a.uri == b.uri && a.digest == b.digest && a.size == b.size
}
