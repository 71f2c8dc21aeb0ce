//! The checks an offered release must pass, in the order README.md gives ("Nodes"): manifest
//! digest, signature, `release_seq`, expiry, then its units (policy, mixing, artifacts).
//!
//! Nothing here writes; the store installs only what [`check`] returns.

use std::path::{Path, PathBuf};

use release::ReleaseManifest;

use crate::error::IngestError;
use crate::manifest::{self, same_artifact};
use crate::store::{IngestOptions, IngestRequest, InstalledRelease, UnitCheck, UnitStatus};
use crate::{artifacts, hash};

pub(crate) enum Checked {
    /// The offered release is the installed one.
    AlreadyCurrent(ReleaseManifest),
    Fresh(Fresh),
}

pub(crate) struct Fresh {
    pub manifest: ReleaseManifest,
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
    let path = request
        .manifest_path
        .unwrap_or(Path::new("<release manifest>"));
    let offered = manifest::parse(path, request.manifest)?;
    let computed = offered.compute_digest();
    if computed != offered.digest {
        return Err(IngestError::DigestMismatch {
            declared: offered.digest,
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
        if offered.release_seq < current.release_seq {
            return Err(IngestError::RollbackAttack {
                offered_seq: offered.release_seq,
                installed_seq: current.release_seq,
            });
        }
        if offered.release_seq == current.release_seq {
            if offered.digest == current.digest {
                return Ok(Checked::AlreadyCurrent(offered));
            }
            return Err(IngestError::SeqConflict {
                seq: offered.release_seq,
                installed: current.digest.clone(),
                offered: offered.digest,
            });
        }
    }

    // 4. Freshness.
    if offered.is_expired_at(now) {
        return Err(IngestError::Expired {
            expires: offered.expires,
            now: release::time::format_rfc3339(now),
        });
    }

    // 5. Units: judged under this release's policy, not mixed in from other releases, and
    //    matching their artifacts.
    check_policy(&offered)?;
    let kept: Vec<&InstalledRelease> = current.iter().chain(warm).collect();
    check_carried_units(&offered, &kept)?;
    if let Some(current) = current {
        check_units_against_known(&offered, current, warm, options.allow_replaced_units)?;
    }
    let units = check_artifacts(&offered, request, options)?;

    Ok(Checked::Fresh(Fresh {
        manifest: offered,
        signed_by,
        units,
    }))
}

/// `policy_digest` is the digest of `gates`, and every unit judged in this run was judged
/// against those gates (carried-forward units keep their original verdict, by design).
fn check_policy(offered: &ReleaseManifest) -> Result<(), IngestError> {
    let computed = offered.gates.policy_digest();
    if computed != offered.policy_digest {
        return Err(IngestError::PolicyDigestMismatch {
            declared: offered.policy_digest.clone(),
            computed,
        });
    }
    let gates = &offered.gates;
    for (provider, unit) in &offered.units {
        if unit.carried_forward {
            continue;
        }
        let expected = [
            gates.min_quality,
            gates.min_safety,
            gates.max_latency_ms_p95,
            gates.max_cost_per_1k_tokens,
        ];
        for ((gate, verdict), release_threshold) in unit.verdict.gates().into_iter().zip(expected) {
            if verdict.threshold != release_threshold {
                return Err(IngestError::UnitFromOtherPolicy {
                    provider: provider.clone(),
                    gate: gate.to_owned(),
                    unit_threshold: verdict.threshold,
                    release_threshold,
                });
            }
        }
    }
    Ok(())
}

/// A carried-forward unit must be the unit of the release it names, when this node keeps it.
fn check_carried_units(
    offered: &ReleaseManifest,
    kept: &[&InstalledRelease],
) -> Result<(), IngestError> {
    for (provider, unit) in &offered.units {
        let Some(from) = unit
            .carried_from
            .as_deref()
            .filter(|_| unit.carried_forward)
        else {
            continue;
        };
        let Some(source) = kept.iter().find(|r| r.digest == from) else {
            continue;
        };
        let matches = source.manifest.units.get(provider).is_some_and(|original| {
            same_artifact(original, unit) && original.verdict == unit.verdict
        });
        if !matches {
            return Err(IngestError::CarriedUnitMismatch {
                provider: provider.clone(),
                carried_from: from.to_owned(),
            });
        }
    }
    Ok(())
}

/// Mix-and-match against what the node keeps (the current release and the warm ones):
///
/// - A rollback restores the units of the release its `rollback_of` names: when this node keeps
///   that release, every unit must be exactly that release's unit.
/// - An ordinary release may not bring back, for a provider, an artifact that an older kept
///   release had and the current one replaced: that unit was taken from another release. Only
///   a rollback release may restore replaced units, unless the node's policy allows it
///   ([`IngestOptions::allow_replaced_units`]).
fn check_units_against_known(
    offered: &ReleaseManifest,
    current: &InstalledRelease,
    warm: &[InstalledRelease],
    allow_replaced_units: bool,
) -> Result<(), IngestError> {
    if let Some(restored) = offered.rollback_of.as_deref() {
        let Some(target) = std::iter::once(current)
            .chain(warm)
            .find(|r| r.digest == restored)
        else {
            return Ok(());
        };
        let providers = offered.units.keys().chain(target.manifest.units.keys());
        for provider in providers {
            let same = match (
                offered.units.get(provider),
                target.manifest.units.get(provider),
            ) {
                (Some(restored), Some(kept)) => same_artifact(restored, kept),
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
    if allow_replaced_units {
        return Ok(());
    }
    for (provider, unit) in &offered.units {
        let installed = current.manifest.units.get(provider);
        if installed.is_some_and(|installed| same_artifact(installed, unit)) {
            continue;
        }
        for older in warm {
            if older
                .manifest
                .units
                .get(provider)
                .is_some_and(|old| same_artifact(old, unit))
            {
                return Err(IngestError::MixAndMatch {
                    provider: provider.clone(),
                    uri: unit.uri.clone().unwrap_or_else(|| unit.id.clone()),
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
    offered: &ReleaseManifest,
    request: IngestRequest<'_>,
    options: &IngestOptions<'_>,
) -> Result<Vec<UnitCheck>, IngestError> {
    let require = options.policy.require_artifacts;
    let mut checks = Vec::new();
    // (index into checks, path, declared digest)
    let mut to_hash: Vec<(usize, PathBuf, String)> = Vec::new();
    for (provider, unit) in &offered.units {
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
        let path = artifacts::local_path(dir, uri).ok_or_else(|| IngestError::BadArtifactUri {
            provider: provider.clone(),
            reason: format!(
                "`{uri}` cannot name a file under the artifacts directory {}",
                dir.display()
            ),
        })?;
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
    let results = hash::hash_files(&paths, options.jobs, options.progress);
    for ((index, path, declared), result) in to_hash.into_iter().zip(results) {
        let provider = &checks[index].provider;
        let got = result.map_err(|e| IngestError::io(&path, e))?;
        if let Some(declared_size) = offered.units[provider].size
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
