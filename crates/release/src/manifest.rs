//! The fused release manifest (`release-manifest/v1`): what federation writes and nodes ingest.
//!
//! Shape (keys as stored; the file is sorted-key JSON indented by two spaces):
//!
//! ```json
//! {"schema":"release-manifest/v1","fused_model_id":"spiralverse-ai-federated-v2026.01.01.0000",
//!  "generated_at":"2026-01-01T00:00:00Z","release_seq":2,"previous_release":"sha256:...",
//!  "rollback_of":null,"expires":"2026-01-31T00:00:00Z","policy_digest":"sha256:...",
//!  "providers":["aws","gcp","hf"],"gates":{"min_quality":0.75,...},
//!  "units":{"hf":{"id":"...","role":"textgen","uri":"hf://..."|null,"metrics":{...verbatim...},
//!           "digest":"sha256:..."|null,"size":123|null,"score":0.73,
//!           "verdict":{"quality":{"value":0.82,"comparison":">=","threshold":0.75,"pass":true},...,"pass":true},
//!           "carried_forward":false,"carried_from":null},...},
//!  "digest":"sha256:..."}
//! ```
//!
//! `digest` is the sha256 of the canonical JSON (RFC 8785 style) of the manifest without its
//! own `digest` key. `policy_digest` is the sha256 of the canonical JSON of `gates`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use support::Located;

use crate::canonical;
use crate::gates::Thresholds;
use crate::jsonpos::{Seg, located_at};
use crate::time;

/// The `schema` value this build writes and reads.
pub const SCHEMA: &str = "release-manifest/v1";

/// The largest release manifest read (4 MiB, the limit nodes apply on ingest). Federation
/// refuses to write a larger one, so nothing it writes is refused for its size.
pub const MAX_BYTES: u64 = 4 << 20;

/// One promoted release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseManifest {
    pub schema: String,
    /// `spiralverse-ai-federated-vYYYY.MM.DD.HHMM` (UTC of `generated_at`).
    pub fused_model_id: String,
    /// RFC 3339 UTC.
    pub generated_at: String,
    /// Monotonic: every release (rollbacks included) has a higher number than the one before.
    pub release_seq: u64,
    /// Digest of the release with `release_seq - 1`; `null` for the first release.
    pub previous_release: Option<String>,
    /// For a rollback release: the digest of the release whose units it restores.
    pub rollback_of: Option<String>,
    /// RFC 3339 UTC after which nodes refuse to install this release.
    pub expires: String,
    /// `sha256:` of the canonical JSON of `gates`.
    pub policy_digest: String,
    /// Sorted provider names, the keys of `units`.
    pub providers: Vec<String>,
    /// The thresholds the units were judged against.
    pub gates: Thresholds,
    /// The promoted artifact per provider.
    pub units: BTreeMap<String, Unit>,
    /// The kernel digest (`cargo xtask kernel`) of the workspace the release was federated in,
    /// when it has a kernel manifest. Absent in releases made before it was recorded, and then
    /// absent from the digested JSON too, so those releases keep their digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_digest: Option<String>,
    /// The source commit the release was federated from, when federated in a git checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRevision>,
    /// `sha256:` of the canonical JSON of everything above.
    pub digest: String,
}

/// The commit a release was federated from, and whether the working tree differed from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRevision {
    /// The full commit id (`git rev-parse HEAD`).
    pub commit: String,
    /// True when tracked or untracked files differed from the commit: the release was not
    /// made from that commit alone.
    pub dirty: bool,
}

/// What a training run consumed, as its provider run manifest declares it (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    /// Lowercase hex sha256 of the training configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
    /// The commit of the training code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
}

/// One training dataset: where it is and the sha256 (lowercase hex) of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub uri: String,
    pub sha256: String,
}

/// The artifact promoted for one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: String,
    pub role: String,
    pub uri: Option<String>,
    /// The provider manifest's metrics, copied verbatim.
    pub metrics: Map<String, Value>,
    /// `sha256:` of the artifact's bytes, when the artifact was available locally.
    pub digest: Option<String>,
    /// Artifact size in bytes, when the artifact was available locally.
    pub size: Option<u64>,
    /// `0.45*quality + 0.45*safety - 0.0005*latency_ms_p95 - 0.1*cost_per_1k_tokens`.
    pub score: f64,
    pub verdict: Verdict,
    /// True when the provider failed its gates in this run and the unit was copied from the
    /// previous release (only with `--carry-forward`); its verdict is the original one.
    pub carried_forward: bool,
    /// Digest of the release the unit was carried from, when `carried_forward`.
    pub carried_from: Option<String>,
    /// The training inputs the provider declared for this artifact, when it declared any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<TrainingInputs>,
}

/// The per-gate verdict for one artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub quality: GateVerdict,
    pub safety: GateVerdict,
    pub latency_ms_p95: GateVerdict,
    pub cost_per_1k_tokens: GateVerdict,
    /// All four gates passed.
    pub pass: bool,
}

impl Verdict {
    /// `(metric name, verdict)` in report order.
    pub fn gates(&self) -> [(&'static str, &GateVerdict); 4] {
        [
            ("quality", &self.quality),
            ("safety", &self.safety),
            ("latency_ms_p95", &self.latency_ms_p95),
            ("cost_per_1k_tokens", &self.cost_per_1k_tokens),
        ]
    }
}

/// One gate: `value comparison threshold`, inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateVerdict {
    pub value: f64,
    /// `">="` or `"<="`.
    pub comparison: String,
    pub threshold: f64,
    pub pass: bool,
}

impl ReleaseManifest {
    /// The manifest as a JSON value, `digest` included.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a release manifest always serializes")
    }

    /// The digest this manifest should carry: sha256 over the canonical JSON without `digest`.
    pub fn compute_digest(&self) -> String {
        let mut value = self.to_value();
        if let Value::Object(map) = &mut value {
            map.remove("digest");
        }
        canonical::digest_of_value(&value)
    }

    /// Sets `digest` from the current contents.
    pub fn seal(&mut self) {
        self.digest = self.compute_digest();
    }

    /// Checks that `digest` matches the contents.
    pub fn verify_digest(&self) -> Result<(), String> {
        let expected = self.compute_digest();
        if self.digest == expected {
            Ok(())
        } else {
            Err(format!(
                "release digest mismatch: manifest says {}, contents hash to {expected}",
                self.digest
            ))
        }
    }

    /// The exact bytes stored on disk: sorted-key JSON, two-space indent, trailing newline.
    /// Depends only on the contents, so identical inputs give identical files.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical::to_pretty_string(&self.to_value()).into_bytes()
    }

    /// The canonical (whitespace-free) JSON of the whole manifest, `digest` included.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::to_canonical_string(&self.to_value()).into_bytes()
    }

    /// `expires` as epoch seconds.
    pub fn expires_epoch(&self) -> Option<i64> {
        time::parse_rfc3339(&self.expires)
    }

    /// True when `now` (epoch seconds) is past `expires`; an unreadable `expires` counts as expired.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_epoch().is_none_or(|expires| now > expires)
    }

    /// Reads and validates a release manifest. Does not check `digest` (see [`Self::verify_digest`]).
    pub fn load(path: &Path) -> Result<ReleaseManifest, Vec<Located>> {
        let text = support::input::read_text(path, MAX_BYTES, "release manifest")
            .map_err(|located| vec![located])?;
        ReleaseManifest::parse(path, &text)
    }

    /// Parses then validates, reporting every problem with its location.
    pub fn parse(path: &Path, text: &str) -> Result<ReleaseManifest, Vec<Located>> {
        let manifest: ReleaseManifest = support::json::parse(path, text).map_err(|located| {
            let help = located.help.clone().unwrap_or_else(|| {
                format!(
                    "a release manifest is a `{SCHEMA}` JSON object; see crates/release/src/manifest.rs"
                )
            });
            vec![located.with_help(help)]
        })?;
        let mut problems = Vec::new();
        let mut problem = |segs: &[Seg<'_>], message: String| {
            problems.push(located_at(path, text, segs, message))
        };
        if manifest.schema != SCHEMA {
            problem(
                &[Seg::Key("schema")],
                format!(
                    "unsupported schema {:?}, expected {SCHEMA:?}",
                    manifest.schema
                ),
            );
        }
        let mut digest_field = |segs: &[Seg<'_>], value: Option<&String>| {
            if let Some(value) = value.filter(|v| !canonical::is_sha256_digest(v)) {
                problem(
                    segs,
                    format!(
                        "{value:?} is not a digest of the form sha256:<64 lowercase hex digits>"
                    ),
                );
            }
        };
        digest_field(&[Seg::Key("digest")], Some(&manifest.digest));
        digest_field(&[Seg::Key("policy_digest")], Some(&manifest.policy_digest));
        digest_field(
            &[Seg::Key("previous_release")],
            manifest.previous_release.as_ref(),
        );
        digest_field(&[Seg::Key("rollback_of")], manifest.rollback_of.as_ref());
        for (name, unit) in &manifest.units {
            digest_field(
                &[Seg::Key("units"), Seg::Key(name), Seg::Key("digest")],
                unit.digest.as_ref(),
            );
            digest_field(
                &[Seg::Key("units"), Seg::Key(name), Seg::Key("carried_from")],
                unit.carried_from.as_ref(),
            );
        }
        digest_field(
            &[Seg::Key("kernel_digest")],
            manifest.kernel_digest.as_ref(),
        );
        let mut problem = |segs: &[Seg<'_>], message: String| {
            problems.push(located_at(path, text, segs, message))
        };
        if let Some(source) = manifest
            .source
            .as_ref()
            .filter(|s| !is_commit_id(&s.commit))
        {
            problem(
                &[Seg::Key("source"), Seg::Key("commit")],
                format!(
                    "{:?} is not a commit id (40 or 64 lowercase hex digits)",
                    source.commit
                ),
            );
        }
        for (name, unit) in &manifest.units {
            if let Some(inputs) = &unit.inputs
                && let Err((segs, message)) = inputs.check()
            {
                let mut full = vec![Seg::Key("units"), Seg::Key(name), Seg::Key("inputs")];
                full.extend(segs);
                problem(&full, message);
            }
        }
        for key in ["generated_at", "expires"] {
            let value = if key == "expires" {
                &manifest.expires
            } else {
                &manifest.generated_at
            };
            if time::parse_rfc3339(value).is_none() {
                problem(
                    &[Seg::Key(key)],
                    format!("{key} {value:?} is not an RFC 3339 timestamp"),
                );
            }
        }
        let unit_names: Vec<&String> = manifest.units.keys().collect();
        let providers: Vec<&String> = manifest.providers.iter().collect();
        if providers != unit_names {
            problem(
                &[Seg::Key("providers")],
                format!("providers {providers:?} must be the sorted names of units {unit_names:?}"),
            );
        }
        if manifest.release_seq == 0 {
            problem(
                &[Seg::Key("release_seq")],
                "release_seq starts at 1".to_owned(),
            );
        }
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(problems)
        }
    }
}

/// True for a full git commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
pub fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && is_lower_hex(text)
}

/// True for a lowercase hex sha256: 64 digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && is_lower_hex(text)
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl TrainingInputs {
    /// Every field in its form; the first problem with where (inside `inputs`) it is.
    pub fn check(&self) -> Result<(), (Vec<Seg<'static>>, String)> {
        for (index, dataset) in self.datasets.iter().enumerate() {
            let at = |key| vec![Seg::Key("datasets"), Seg::Index(index), Seg::Key(key)];
            if let Err(reason) = crate::uri::check_uri(&dataset.uri) {
                return Err((
                    at("uri"),
                    format!("dataset uri {:?} is refused: {reason}", dataset.uri),
                ));
            }
            if !is_sha256_hex(&dataset.sha256) {
                return Err((
                    at("sha256"),
                    format!(
                        "dataset sha256 {:?} is not 64 lowercase hex digits",
                        dataset.sha256
                    ),
                ));
            }
        }
        if let Some(config) = self.config_sha256.as_ref().filter(|c| !is_sha256_hex(c)) {
            return Err((
                vec![Seg::Key("config_sha256")],
                format!("config_sha256 {config:?} is not 64 lowercase hex digits"),
            ));
        }
        if let Some(commit) = self.source_commit.as_ref().filter(|c| !is_commit_id(c)) {
            return Err((
                vec![Seg::Key("source_commit")],
                format!(
                    "source_commit {commit:?} is not a commit id (40 or 64 lowercase hex digits)"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> ReleaseManifest {
        let gate = |value: f64, comparison: &str, threshold: f64| GateVerdict {
            value,
            comparison: comparison.to_owned(),
            threshold,
            pass: true,
        };
        let unit = Unit {
            id: "spiralverse/textgen-lora-v1".into(),
            role: "textgen".into(),
            uri: Some("hf://spiralverse/textgen-lora-v1".into()),
            metrics: serde_json::from_str(
                r#"{"quality":0.82,"safety":0.97,"latency_ms_p95":140,"cost_per_1k_tokens":0.9}"#,
            )
            .unwrap(),
            digest: None,
            size: None,
            score: 0.7335,
            verdict: Verdict {
                quality: gate(0.82, ">=", 0.75),
                safety: gate(0.97, ">=", 0.95),
                latency_ms_p95: gate(140.0, "<=", 250.0),
                cost_per_1k_tokens: gate(0.9, "<=", 1.5),
                pass: true,
            },
            carried_forward: false,
            carried_from: None,
            inputs: None,
        };
        let gates = Thresholds::default();
        let mut manifest = ReleaseManifest {
            schema: SCHEMA.into(),
            fused_model_id: time::fused_model_id(0),
            generated_at: time::format_rfc3339(0),
            release_seq: 1,
            previous_release: None,
            rollback_of: None,
            expires: time::format_rfc3339(30 * 86_400),
            policy_digest: gates.policy_digest(),
            providers: vec!["hf".into()],
            gates,
            units: BTreeMap::from([("hf".to_owned(), unit)]),
            kernel_digest: None,
            source: None,
            digest: String::new(),
        };
        manifest.seal();
        manifest
    }

    #[test]
    fn sealed_manifest_round_trips_through_its_stored_bytes() {
        let manifest = sample();
        manifest.verify_digest().unwrap();
        let bytes = manifest.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let back = ReleaseManifest::parse(Path::new("r.json"), &text).unwrap();
        back.verify_digest().unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert!(text.contains("\"latency_ms_p95\": 140,"), "{text}");
    }

    #[test]
    fn digest_covers_everything_but_itself() {
        let mut manifest = sample();
        let before = manifest.digest.clone();
        manifest
            .units
            .get_mut("hf")
            .unwrap()
            .metrics
            .insert("quality".into(), serde_json::json!(0.83));
        assert!(manifest.verify_digest().is_err());
        manifest.seal();
        assert_ne!(manifest.digest, before);
        let mut without = manifest.to_value();
        without.as_object_mut().unwrap().remove("digest");
        assert_eq!(manifest.digest, canonical::digest_of_value(&without));
    }

    #[test]
    fn parse_locates_schema_and_digest_problems() {
        let mut manifest = sample();
        manifest.schema = "release-manifest/v0".into();
        manifest.previous_release = Some("sha256:nothex".into());
        manifest.expires = "tomorrow".into();
        let text = String::from_utf8(manifest.to_bytes()).unwrap();
        let problems = ReleaseManifest::parse(Path::new("r.json"), &text).unwrap_err();
        let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{rendered:#?}");
        assert!(
            rendered
                .iter()
                .all(|p| p.starts_with("r.json:") && p.matches(':').count() >= 3),
            "{rendered:#?}"
        );
        assert!(rendered.iter().any(|p| p.contains("unsupported schema")));
        assert!(
            rendered
                .iter()
                .any(|p| p.contains("\"sha256:nothex\" is not a digest"))
        );
        assert!(rendered.iter().any(|p| p.contains("expires \"tomorrow\"")));
    }

    #[test]
    fn parse_reports_type_errors_at_their_line() {
        let text = String::from_utf8(sample().to_bytes())
            .unwrap()
            .replace("\"release_seq\": 1", "\"release_seq\": \"1\"");
        let problems = ReleaseManifest::parse(Path::new("r.json"), &text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.contains("release_seq"))
            .unwrap()
            + 1;
        assert_eq!(
            problems[0].line_col.map(|(l, _)| l),
            Some(line),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn expiry_is_inclusive_of_the_expires_instant() {
        let manifest = sample();
        let expires = manifest.expires_epoch().unwrap();
        assert!(!manifest.is_expired_at(expires));
        assert!(manifest.is_expired_at(expires + 1));
    }
}
