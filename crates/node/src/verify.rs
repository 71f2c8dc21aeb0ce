//! The checks an offered release must pass, in the order README.md (Nodes) gives: manifest
//! digest, signature, `release_seq`, expiry, then its units (judgement, mixing, artifacts).
//!
//! Nothing here writes; the store installs only what [`check`] returns.

use std::path::{Path, PathBuf};

use release::ReleaseManifest;
use release::select::Misjudged;

use crate::error::IngestError;
use crate::history::{Action, HistoryEntry, UnitRef};
use crate::manifest::{self, same_artifact};
use crate::policy::NodePolicy;
use crate::record::{InstalledRelease, UnitCheck, UnitStatus};
use crate::request::{IngestOptions, IngestRequest};
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

/// Step 1, before anything is created or locked: the manifest is within its size limit,
/// parses, and its digest is the digest of its contents.
pub(crate) fn read_offered(request: IngestRequest<'_>) -> Result<ReleaseManifest, IngestError> {
    let path = request
        .manifest_path
        .unwrap_or(Path::new("<release manifest>"));
    manifest::check_sizes(request)?;
    let offered = manifest::parse(path, request.manifest)?;
    let computed = offered.compute_digest();
    if computed != offered.digest {
        return Err(IngestError::DigestMismatch {
            declared: offered.digest,
            computed,
        });
    }
    Ok(offered)
}

/// What the node holds, read under the lock: what the offered release is checked against.
pub(crate) struct Held<'a> {
    /// Committed history, the pending line included.
    pub history: &'a [HistoryEntry],
    pub current: Option<&'a InstalledRelease>,
    pub warm: &'a [InstalledRelease],
}

/// Steps 2 onwards, under the lock, against what the node holds.
pub(crate) fn check(
    offered: ReleaseManifest,
    request: IngestRequest<'_>,
    options: &IngestOptions<'_>,
    policy: NodePolicy,
    held: Held<'_>,
    now: i64,
) -> Result<Checked, IngestError> {
    let Held {
        history,
        current,
        warm,
    } = held;
    // 2. The signature, when required or offered.
    let signed_by = match (request.signature, policy.require_signature) {
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

    // 5. Units: judged again and agreeing with their verdicts, not mixed in from other
    //    releases, and matching their artifacts.
    check_judgement(&offered)?;
    let kept: Vec<&InstalledRelease> = current.into_iter().chain(warm).collect();
    check_carried_units(&offered, &kept)?;
    check_units_against_history(&offered, history, options.allow_replaced_units)?;
    let units = check_artifacts(&offered, request, options, policy.require_artifacts)?;

    Ok(Checked::Fresh(Fresh {
        manifest: offered,
        signed_by,
        units,
    }))
}

/// Every unit judged again with the code federation judged it with ([`release::select::rejudge`]):
/// the policy digest matches the gates, each verdict is what its metrics give under those gates
/// (a carried-forward unit under the thresholds it was judged with), every unit passes, and every
/// score is right.
fn check_judgement(offered: &ReleaseManifest) -> Result<(), IngestError> {
    let Some(first) = release::select::rejudge(offered).into_iter().next() else {
        return Ok(());
    };
    Err(match first {
        Misjudged::PolicyDigest { declared, computed } => {
            IngestError::PolicyDigestMismatch { declared, computed }
        }
        Misjudged::OtherPolicy {
            provider,
            gate,
            unit_threshold,
            release_threshold,
        } => IngestError::UnitFromOtherPolicy {
            provider,
            gate: gate.to_owned(),
            unit_threshold,
            release_threshold,
        },
        Misjudged::Unit { provider, problem } => IngestError::Misjudged { provider, problem },
    })
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

/// Mix-and-match against the committed history (which records every installed release's
/// artifacts, so the rule holds after their directories are pruned):
///
/// - A rollback restores the units of the release its `rollback_of` names: when this node
///   installed that release, every unit must be exactly that release's unit.
/// - An ordinary release may not bring back, for a provider, an artifact that stopped being
///   current on this node: one a later release replaced or a rollback removed. That unit was
///   taken from another release. Only a rollback release may restore retired units, unless the
///   node's policy allows it ([`IngestOptions::allow_replaced_units`]).
fn check_units_against_history(
    offered: &ReleaseManifest,
    entries: &[HistoryEntry],
    allow_replaced_units: bool,
) -> Result<(), IngestError> {
    if let Some(restored) = offered.rollback_of.as_deref() {
        let Some(target) = entries.iter().find(|e| e.digest == restored) else {
            return Ok(());
        };
        let providers = offered.units.keys().chain(target.units.keys());
        for provider in providers {
            let same = match (offered.units.get(provider), target.units.get(provider)) {
                (Some(restored), Some(kept)) => UnitRef::of(restored) == *kept,
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
    let Some(current) = entries.last() else {
        return Ok(());
    };
    if allow_replaced_units {
        return Ok(());
    }
    for (provider, unit) in &offered.units {
        let unit = UnitRef::of(unit);
        if current.units.get(provider) == Some(&unit) {
            continue;
        }
        if let Some(retired) = retirement(entries, provider, &unit) {
            return Err(IngestError::MixAndMatch {
                provider: provider.clone(),
                uri: unit.name().to_owned(),
                from_seq: retired.from_seq,
                replaced_by_seq: retired.by_seq,
                by_rollback: retired.by_rollback,
            });
        }
    }
    Ok(())
}

/// When and by what an artifact stopped being a provider's current unit on this node.
struct Retired {
    from_seq: u64,
    by_seq: u64,
    by_rollback: bool,
}

/// The last time `unit` stopped being `provider`'s unit in the history, if it ever did.
fn retirement(entries: &[HistoryEntry], provider: &str, unit: &UnitRef) -> Option<Retired> {
    entries
        .windows(2)
        .rev()
        .find(|pair| {
            pair[0].units.get(provider) == Some(unit) && pair[1].units.get(provider) != Some(unit)
        })
        .map(|pair| Retired {
            from_seq: pair[0].release_seq,
            by_seq: pair[1].release_seq,
            by_rollback: pair[1].action == Action::Rollback,
        })
}

/// Size then digest of every unit whose artifact is present locally; hashing runs in parallel.
fn check_artifacts(
    offered: &ReleaseManifest,
    request: IngestRequest<'_>,
    options: &IngestOptions<'_>,
    require: bool,
) -> Result<Vec<UnitCheck>, IngestError> {
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
