//! Federation: provider run manifests plus a gate policy in, one release (or nothing) out.
//!
//! Cross-provider atomicity: if any provider has no artifact passing its gates, no release is
//! produced, unless the caller asks to carry forward, in which case that provider's unit is
//! copied from the previous release with its original verdict and marked `carried_forward`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use support::Located;

use crate::gates::Thresholds;
use crate::jsonpos::Seg;
use crate::manifest::{ReleaseManifest, SCHEMA, SourceRevision, Unit};
use crate::provider::{Provider, ProviderManifest};
use crate::select::{self, Evaluation};
use crate::time;

pub use crate::uri::check_uri;

/// Where local copies of artifacts are found, to fill a unit's `digest` and `size`; the one
/// artifact URI policy, shared by federation and node ingest.
///
/// A URI is `SCHEME://PATH`: the scheme ASCII letters, digits, `+`, `-`, `.`; the path
/// relative (no leading `/`), without `.` or `..` segments, backslashes or control characters.
/// Anything else is refused (see [`check_uri`]), so a URI can never name a file outside the
/// roots below:
///
/// - `file://rel/path` is `base/rel/path`;
/// - with `dir` set, `scheme://rest` is looked up at `dir/scheme/rest`, e.g.
///   `gs://bucket/model` at `DIR/gs/bucket/model`.
///
/// An artifact that is not found locally gets `digest` and `size` null.
#[derive(Debug, Clone, Default)]
pub struct ArtifactLocator {
    pub base: PathBuf,
    pub dir: Option<PathBuf>,
}

impl ArtifactLocator {
    /// The local file `uri` maps to, whether or not it exists: `Ok(None)` when it is not a
    /// `file://` URI and no artifacts directory is set, `Err` (why) when the policy refuses it.
    pub fn locate(&self, uri: &str) -> Result<Option<PathBuf>, String> {
        let (scheme, segments) = check_uri(uri)?;
        let mut path = if scheme == "file" {
            self.base.clone()
        } else {
            match &self.dir {
                Some(dir) => dir.join(scheme),
                None => return Ok(None),
            }
        };
        path.extend(segments);
        Ok(Some(path))
    }

    /// [`Self::locate`] without the reason.
    pub fn local_path(&self, uri: &str) -> Option<PathBuf> {
        self.locate(uri).ok().flatten()
    }

    /// `(sha256 digest, size)` of the local copy of `uri`, `None` when there is none.
    /// Call [`check_uri`] first: a refused URI has no local copy here.
    pub fn measure(&self, uri: &str) -> Result<Option<(String, u64)>, Located> {
        let Some(path) = self.local_path(uri).filter(|p| p.is_file()) else {
            return Ok(None);
        };
        hash_file(&path)
            .map(Some)
            .map_err(|err| Located::file(&path, format!("cannot read artifact for {uri}: {err}")))
    }
}

/// Streams a file through sha256: `(sha256:<hex>, size)`.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let size = io::copy(&mut File::open(path)?, &mut hasher)?;
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((format!("sha256:{hex}"), size))
}

/// Keys manifests by their `provider` field (not by file name or flag) and requires one per
/// provider: "missing provider manifests: ..." otherwise.
pub fn key_by_provider(
    manifests: Vec<ProviderManifest>,
) -> Result<BTreeMap<Provider, ProviderManifest>, Vec<Located>> {
    let mut by_provider: BTreeMap<Provider, Vec<ProviderManifest>> = BTreeMap::new();
    for manifest in manifests {
        by_provider
            .entry(manifest.provider)
            .or_default()
            .push(manifest);
    }
    let mut problems = Vec::new();
    let missing: Vec<&str> = Provider::ALL
        .iter()
        .filter(|p| !by_provider.contains_key(p))
        .map(|p| p.name())
        .collect();
    let duplicates: Vec<String> = by_provider
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(p, files)| {
            let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
            format!("'{p}' is declared by {}", paths.join(" and "))
        })
        .collect();
    if !missing.is_empty() {
        let message = format!("missing provider manifests: {}", missing.join(", "));
        let help = "providers are keyed by each file's `provider` field, not its name or flag";
        let help = if duplicates.is_empty() {
            help.to_owned()
        } else {
            format!("{help}; {}", duplicates.join("; "))
        };
        let path = by_provider
            .values()
            .flatten()
            .next()
            .map(|m| m.path.clone())
            .unwrap_or_default();
        problems.push(Located::file(path, message).with_help(help));
    } else {
        for (provider, files) in by_provider.iter().filter(|(_, f)| f.len() > 1) {
            let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
            problems.push(
                Located::file(
                    &files[1].path,
                    format!(
                        "provider '{provider}' has more than one run manifest: {}",
                        paths.join(", ")
                    ),
                )
                .with_help("keep exactly one run manifest per provider"),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(by_provider
        .into_iter()
        .map(|(p, mut files)| (p, files.remove(0)))
        .collect())
}

/// Everything one federation run needs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub manifests: Vec<ProviderManifest>,
    pub thresholds: Thresholds,
    pub expires_after_days: u32,
    /// The newest release; the new one chains to it.
    pub previous: Option<ReleaseManifest>,
    /// Carry a failing provider's unit forward from `previous` instead of failing.
    pub carry_forward: bool,
    pub artifacts: ArtifactLocator,
    /// Epoch seconds for `generated_at` (see [`time::now_epoch`]).
    pub now: i64,
    /// Recorded in the release: the kernel digest of the workspace federated in.
    pub kernel_digest: Option<String>,
    /// Recorded in the release: the commit federated from (see [`crate::source`]).
    pub source: Option<SourceRevision>,
}

/// What a run decided.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub thresholds: Thresholds,
    /// Sorted by provider name.
    pub evaluations: Vec<Evaluation>,
    /// Providers whose unit was carried forward from the previous release.
    pub carried: Vec<Provider>,
    /// One message per provider that failed its gates and was not carried forward.
    pub failures: Vec<String>,
    /// The sealed release, when every provider has a unit.
    pub release: Option<ReleaseManifest>,
}

/// Judges every provider and builds the next release. `Err` is invalid input (exit 2); an
/// `Outcome` without a release is a failed gate check (exit 1).
pub fn federate(inputs: Inputs) -> Result<Outcome, Vec<Located>> {
    let Inputs {
        manifests,
        thresholds,
        expires_after_days,
        previous,
        carry_forward,
        artifacts,
        now,
        kernel_digest,
        source,
    } = inputs;
    let by_provider = key_by_provider(manifests)?;
    let mut problems = Vec::new();
    let mut evaluations = Vec::new();
    for manifest in by_provider.values() {
        match select::evaluate(manifest, &thresholds) {
            Ok(evaluation) => evaluations.push(evaluation),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut units = BTreeMap::new();
    let mut carried = Vec::new();
    let mut failures = Vec::new();
    for evaluation in &evaluations {
        let provider = evaluation.provider;
        if let Some(judged) = evaluation.selected() {
            let measured = match &judged.artifact.uri {
                Some(uri) => {
                    // Refused here exactly when a node's ingest would refuse it.
                    check_uri(uri).map_err(|reason| {
                        let manifest = &by_provider[&provider];
                        vec![
                            manifest
                                .located(
                                    &[
                                        Seg::Key("artifacts"),
                                        Seg::Index(judged.artifact.index),
                                        Seg::Key("uri"),
                                    ],
                                    format!(
                                        "artifact '{}': uri {uri:?} is refused: {reason}",
                                        judged.artifact.shown_id()
                                    ),
                                )
                                .with_help(
                                    "write scheme://relative/path (file://rel/path for a file \
                                     under the current directory); nodes refuse any other URI",
                                ),
                        ]
                    })?;
                    artifacts.measure(uri).map_err(|e| vec![e])?
                }
                None => None,
            };
            let (digest, size) = measured.map_or((None, None), |(d, s)| (Some(d), Some(s)));
            units.insert(
                provider.name().to_owned(),
                Unit {
                    id: judged.artifact.id.clone(),
                    role: judged.artifact.role.clone(),
                    uri: judged.artifact.uri.clone(),
                    metrics: judged.artifact.metrics.clone(),
                    digest,
                    size,
                    score: judged.score,
                    verdict: judged.verdict.clone(),
                    carried_forward: false,
                    carried_from: None,
                    inputs: judged.artifact.inputs.clone(),
                },
            );
            continue;
        }
        let message = evaluation.failure_message().unwrap_or_default();
        let previous_unit = previous
            .as_ref()
            .and_then(|p| p.units.get(provider.name()).map(|u| (p, u)));
        match previous_unit {
            Some((previous, unit)) if carry_forward => {
                let mut unit = unit.clone();
                unit.carried_forward = true;
                unit.carried_from = Some(previous.digest.clone());
                units.insert(provider.name().to_owned(), unit);
                carried.push(provider);
            }
            None if carry_forward => failures.push(format!(
                "{message}; no previous release holds a '{provider}' unit to carry forward"
            )),
            _ => failures.push(message),
        }
    }
    let release = failures.is_empty().then(|| {
        let mut release = ReleaseManifest {
            schema: SCHEMA.to_owned(),
            fused_model_id: time::fused_model_id(now),
            generated_at: time::format_rfc3339(now),
            release_seq: previous.as_ref().map_or(1, |p| p.release_seq + 1),
            previous_release: previous.as_ref().map(|p| p.digest.clone()),
            rollback_of: None,
            expires: time::format_rfc3339(now + i64::from(expires_after_days) * 86_400),
            policy_digest: thresholds.policy_digest(),
            providers: units.keys().cloned().collect(),
            gates: thresholds,
            units,
            kernel_digest,
            source,
            digest: String::new(),
        };
        release.seal();
        release
    });
    if let Some(release) = &release {
        refuse_oversized(release, &by_provider)?;
    }
    Ok(Outcome {
        thresholds,
        evaluations,
        carried,
        failures,
        release,
    })
}

/// A release larger than nodes read ([`crate::manifest::MAX_BYTES`]) is refused here, naming
/// the provider whose unit is largest (its metrics are copied verbatim into the release).
fn refuse_oversized(
    release: &ReleaseManifest,
    by_provider: &BTreeMap<Provider, ProviderManifest>,
) -> Result<(), Vec<Located>> {
    let size = release.to_bytes().len() as u64;
    if size <= crate::manifest::MAX_BYTES {
        return Ok(());
    }
    let unit_size = |unit: &Unit| serde_json::to_vec(unit).map_or(0, |bytes| bytes.len());
    let largest = release
        .units
        .iter()
        .max_by_key(|(_, unit)| unit_size(unit))
        .map(|(name, unit)| (name.clone(), unit.id.clone(), unit_size(unit)));
    let (path, detail) = match largest {
        Some((name, id, bytes)) => (
            Provider::from_name(&name)
                .and_then(|p| by_provider.get(&p))
                .map(|m| m.path.clone())
                .unwrap_or_default(),
            format!("; its largest unit, artifact {id:?} of '{name}', takes {bytes} bytes"),
        ),
        None => (PathBuf::new(), String::new()),
    };
    Err(vec![
        Located::file(
            path,
            format!(
                "the release would be {size} bytes, over the {}-byte limit nodes accept{detail}",
                crate::manifest::MAX_BYTES
            ),
        )
        .with_help("keep the metrics of a run to what the gates and people need"),
    ])
}
