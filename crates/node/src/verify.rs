//! The checks an offered release must pass, in the order DESIGN.md section 8 gives: manifest
//! digest, signature, `release_seq`, expiry, then units (mixing, artifacts).
//!
//! Nothing here writes; the store installs only what [`check`] returns.

use std::path::PathBuf;

use crate::error::IngestError;
use crate::manifest::{self, ReleaseView};
use crate::store::{
    IngestOptions, IngestRequest, InstalledRelease, UnitCheck, UnitStatus, artifact_path,
    hash_paths,
};
use crate::time;

pub(crate) enum Checked {
    /// The offered release is the installed one.
    AlreadyCurrent(ReleaseView),
    Fresh(Fresh),
}

pub(crate) struct Fresh {
    pub view: ReleaseView,
    pub signed_by: Option<String>,
    pub units: Vec<UnitCheck>,
}

pub(crate) fn check(
    request: IngestRequest<'_>,
    options: &IngestOptions<'_>,
    current: &Option<InstalledRelease>,
    warm: &[InstalledRelease],
    now: i64,
) -> Result<Checked, IngestError> {
    // 1. The manifest digest.
    let (value, view) = manifest::parse(request.manifest).map_err(|e| IngestError::Malformed {
        message: e.to_string(),
    })?;
    let computed = manifest::computed_digest(&value);
    if computed != view.digest {
        return Err(IngestError::DigestMismatch {
            declared: view.digest,
            computed,
        });
    }

    // 2. The signature, when required or offered.
    let signed_by = match (request.signature, options.policy.require_signature) {
        (None, true) => return Err(IngestError::SignatureMissing),
        (None, false) => None,
        (Some(envelope), _) => {
            let verifier = options.verifier.ok_or(IngestError::NoVerifier)?;
            let key = verifier
                .verify(request.manifest, envelope)
                .map_err(|reason| IngestError::SignatureRejected { reason })?;
            Some(key)
        }
    };

    // 3. Anti-rollback.
    if let Some(current) = current {
        if view.release_seq < current.release_seq {
            return Err(IngestError::RollbackAttack {
                offered_seq: view.release_seq,
                installed_seq: current.release_seq,
            });
        }
        if view.release_seq == current.release_seq {
            if view.digest == current.digest {
                return Ok(Checked::AlreadyCurrent(view));
            }
            return Err(IngestError::SeqConflict {
                seq: view.release_seq,
                installed: current.digest.clone(),
                offered: view.digest,
            });
        }
    }

    // 4. Freshness.
    if now > view.expires_unix {
        return Err(IngestError::Expired {
            expires: view.expires,
            now: time::format_rfc3339(now),
        });
    }

    // 5. Units: no mixing across releases, then the artifacts themselves.
    if let Some(current) = current {
        check_units_against_known(&view, current, warm)?;
    }
    let units = check_artifacts(&view, request, options)?;

    Ok(Checked::Fresh(Fresh {
        view,
        signed_by,
        units,
    }))
}

/// Mix-and-match: the node knows the current release and the warm ones before it.
///
/// - An ordinary release may not bring back, for a provider, an artifact that an older kept
///   release had and the current one replaced: that unit was taken from another release. Only
///   a rollback release may restore replaced units.
/// - A rollback of the current release must restore exactly the units of the stable release
///   before it (the newest warm one), for every provider.
fn check_units_against_known(
    view: &ReleaseView,
    current: &InstalledRelease,
    warm: &[InstalledRelease],
) -> Result<(), IngestError> {
    if view.rollback_of.is_some() {
        if view.rollback_of.as_deref() != Some(current.digest.as_str()) {
            return Ok(());
        }
        let Some(target) = warm.first() else {
            return Ok(());
        };
        let providers = view.units.keys().chain(target.view.units.keys());
        for provider in providers {
            let same = match (view.units.get(provider), target.view.units.get(provider)) {
                (Some(offered), Some(kept)) => offered.id == kept.id && offered.same_artifact(kept),
                _ => false,
            };
            if !same {
                return Err(IngestError::RollbackUnitsMismatch {
                    provider: provider.clone(),
                    target_seq: target.release_seq,
                    target: target.digest.clone(),
                });
            }
        }
        return Ok(());
    }
    for (provider, offered) in &view.units {
        let installed = current.view.units.get(provider);
        if installed.is_some_and(|unit| unit.id == offered.id && unit.same_artifact(offered)) {
            continue;
        }
        for older in warm {
            let Some(old) = older.view.units.get(provider) else {
                continue;
            };
            if old.id == offered.id && old.same_artifact(offered) {
                return Err(IngestError::MixAndMatch {
                    provider: provider.clone(),
                    uri: offered.uri.clone().unwrap_or_else(|| offered.id.clone()),
                    from_seq: older.release_seq,
                    replaced_by_seq: current.release_seq,
                });
            }
        }
    }
    Ok(())
}

/// Size then digest of every unit whose artifact is present locally; hashing runs in parallel.
fn check_artifacts(
    view: &ReleaseView,
    request: IngestRequest<'_>,
    options: &IngestOptions<'_>,
) -> Result<Vec<UnitCheck>, IngestError> {
    let require = options.policy.require_artifacts;
    let mut checks = Vec::new();
    // (index into checks, path, declared digest, declared size)
    let mut to_hash: Vec<(usize, PathBuf, String)> = Vec::new();
    for (provider, unit) in &view.units {
        let missing = |path: Option<PathBuf>| IngestError::ArtifactMissing {
            provider: provider.clone(),
            uri: unit.uri.clone(),
            path,
        };
        let mut check = UnitCheck {
            provider: provider.clone(),
            uri: unit.uri.clone(),
            path: None,
            status: UnitStatus::NoUri,
        };
        let (Some(uri), Some(dir)) = (&unit.uri, request.artifacts_dir) else {
            if require {
                return Err(missing(None));
            }
            if unit.uri.is_some() {
                check.status = UnitStatus::NotChecked;
            }
            checks.push(check);
            continue;
        };
        let path = artifact_path(dir, provider, uri)?;
        check.path = Some(path.clone());
        let metadata = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                return Err(IngestError::io(
                    &path,
                    std::io::Error::other("not a regular file"),
                ));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if require {
                    return Err(missing(Some(path)));
                }
                check.status = UnitStatus::Absent;
                checks.push(check);
                continue;
            }
            Err(err) => return Err(IngestError::io(&path, err)),
        };
        if let Some(declared) = unit.size
            && metadata.len() != declared
        {
            return Err(IngestError::ArtifactSize {
                provider: provider.clone(),
                path,
                declared,
                actual: metadata.len(),
            });
        }
        check.status = match (&unit.digest, unit.size) {
            (Some(digest), _) => {
                to_hash.push((checks.len(), path, digest.clone()));
                UnitStatus::Verified
            }
            (None, Some(_)) => UnitStatus::SizeOnly,
            (None, None) => UnitStatus::NothingDeclared,
        };
        checks.push(check);
    }
    let paths: Vec<PathBuf> = to_hash.iter().map(|(_, path, _)| path.clone()).collect();
    let results = hash_paths(&paths, options);
    for ((index, path, declared), result) in to_hash.into_iter().zip(results) {
        let provider = &checks[index].provider;
        let got = result.map_err(|e| IngestError::io(&path, e))?;
        let declared_size = view.units[provider].size;
        if let Some(declared_size) = declared_size
            && got.size != declared_size
        {
            // The file changed size while it was being read.
            return Err(IngestError::ArtifactSize {
                provider: provider.clone(),
                path,
                declared: declared_size,
                actual: got.size,
            });
        }
        if got.digest != declared {
            return Err(IngestError::ArtifactDigest {
                provider: provider.clone(),
                path,
                declared,
                actual: got.digest,
            });
        }
    }
    Ok(checks)
}
