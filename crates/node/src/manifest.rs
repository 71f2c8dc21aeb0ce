//! Reading an offered release manifest. The format, its validation and its digest belong to the
//! `release` crate ([`release::ReleaseManifest`]); this module adapts them to ingest's errors.

use std::path::Path;

use release::ReleaseManifest;
use release::manifest::Unit;
use support::Located;

use crate::error::IngestError;
use crate::request::IngestRequest;

/// Largest release manifest accepted (a release holds a handful of units; about 2 KiB each).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest signature envelope accepted: the manifest in base64 plus the signatures.
pub const MAX_SIGNATURE_BYTES: u64 = MAX_MANIFEST_BYTES * 4 / 3 + (1 << 20);

/// Refuses a manifest or envelope over its limit before anything reads it as JSON.
pub fn check_sizes(request: IngestRequest<'_>) -> Result<(), IngestError> {
    let too_large = |what: &str, size: usize, limit: u64| {
        (size as u64 > limit).then(|| IngestError::TooLarge {
            what: what.to_owned(),
            size: size as u64,
            limit,
        })
    };
    if let Some(err) = too_large(
        "the release manifest",
        request.manifest.len(),
        MAX_MANIFEST_BYTES,
    ) {
        return Err(err);
    }
    match request.signature {
        Some(envelope) => too_large(
            "the signature envelope",
            envelope.len(),
            MAX_SIGNATURE_BYTES,
        )
        .map_or(Ok(()), Err),
        None => Ok(()),
    }
}

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
