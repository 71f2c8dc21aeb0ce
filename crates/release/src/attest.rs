//! Attestations about releases, in the standard formats: in-toto Statement v1
//! (<https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>) carrying a SLSA
//! Provenance v1 predicate (<https://slsa.dev/provenance/v1>) for a release, or an in-toto
//! test-result v0.1 predicate for a release-lane run. Signing them (DSSE) is the governance
//! crate's; this module builds, reads and checks them against a release.
//!
//! Statements are written as sorted-key JSON indented by two spaces and depend only on their
//! inputs (times come from the release or `SOURCE_DATE_EPOCH`), so the same inputs give
//! byte-identical files.
//!
//! Digests inside statements follow in-toto's DigestSet: `{"sha256": "<hex>"}` for content,
//! `{"gitCommit": "<hex>"}` for a commit. A release's subject digest is its `digest` field
//! (sha256 of its canonical JSON without `digest`), not a hash of the file's bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use support::Located;

use crate::canonical;
use crate::kernel::KernelEntry;
use crate::manifest::{ReleaseManifest, SourceRevision};

/// `_type` of every statement.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The DSSE payload type of a statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// SLSA Provenance v1.
pub const PROVENANCE_PREDICATE: &str = "https://slsa.dev/provenance/v1";
/// in-toto test result v0.1.
pub const TEST_RESULT_PREDICATE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// `buildType` of a federation: what `externalParameters` mean is documented in README.md,
/// "Provenance".
pub const FEDERATE_BUILD_TYPE: &str = "urn:model-release:federate:v1";
/// `builder.id` of `cargo xtask federate`.
pub const FEDERATE_BUILDER_ID: &str = "urn:model-release:builder:cargo-xtask-federate";
/// `buildType` of a rollback release.
pub const ROLLBACK_BUILD_TYPE: &str = "urn:model-release:rollback:v1";
/// `builder.id` of `cargo xtask rollback`.
pub const ROLLBACK_BUILDER_ID: &str = "urn:model-release:builder:cargo-xtask-rollback";
/// The largest statement read (a provenance lists a few hundred inputs at most).
pub const MAX_BYTES: u64 = 4 << 20;

/// An in-toto Statement v1. The predicate is kept as JSON and read by [`Statement::provenance`]
/// or [`Statement::test_result`]; fields other tools add are ignored, as the spec asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Value,
}

/// An in-toto ResourceDescriptor (the fields used here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl ResourceDescriptor {
    fn named(name: impl Into<String>, algorithm: &str, hex: impl Into<String>) -> Self {
        ResourceDescriptor {
            name: Some(name.into()),
            digest: BTreeMap::from([(algorithm.to_owned(), hex.into())]),
            ..ResourceDescriptor::default()
        }
    }

    fn annotate(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.annotations.insert(key.to_owned(), value.into());
        self
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).and_then(Value::as_str)
    }
}

/// SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    pub external_parameters: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    pub metadata: BuildMetadata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    pub started_on: String,
    pub finished_on: String,
}

/// in-toto test result v0.1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// `PASSED`, `WARNED` or `FAILED`.
    pub result: String,
    pub configuration: Vec<ResourceDescriptor>,
    #[serde(default)]
    pub passed_tests: Vec<String>,
    #[serde(default)]
    pub warned_tests: Vec<String>,
    #[serde(default)]
    pub failed_tests: Vec<String>,
}

/// A file read by a federation: workspace-relative name and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub name: String,
    pub sha256: String,
}

impl InputFile {
    pub fn of_bytes(name: impl Into<String>, bytes: &[u8]) -> InputFile {
        InputFile {
            name: name.into(),
            sha256: canonical::sha256_hex(bytes),
        }
    }

    fn descriptor(&self, input: &str) -> ResourceDescriptor {
        ResourceDescriptor::named(&self.name, "sha256", &self.sha256).annotate("input", input)
    }
}

/// Everything a federation read, for its provenance.
#[derive(Debug, Clone)]
pub struct FederationInputs {
    /// `(provider name, its run manifest)`, in any order (written sorted by provider).
    pub providers: Vec<(String, InputFile)>,
    /// The gate policy file, when thresholds came from one.
    pub gates: Option<InputFile>,
    /// The kernel manifest and the files it lists, hashed, when the workspace has one.
    pub kernel: Option<(InputFile, Vec<KernelEntry>)>,
    pub carry_forward: bool,
    pub expires_after_days: u32,
}

/// The release's file name and content digest as a statement subject.
pub fn release_subject(release: &ReleaseManifest, file_name: &str) -> ResourceDescriptor {
    ResourceDescriptor::named(file_name, "sha256", hex_of(&release.digest))
        .annotate("release_seq", release.release_seq)
        .annotate("fused_model_id", release.fused_model_id.as_str())
        .annotate(
            "digest_of",
            "the release's canonical JSON without its `digest` key (release-manifest/v1)",
        )
}

/// The provenance of `release` (named `file_name`), built by federation from `inputs`.
pub fn provenance_statement(
    release: &ReleaseManifest,
    file_name: &str,
    inputs: &FederationInputs,
) -> Statement {
    let mut providers: Vec<&(String, InputFile)> = inputs.providers.iter().collect();
    providers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut dependencies: Vec<ResourceDescriptor> = providers
        .iter()
        .map(|(provider, file)| {
            file.descriptor("provider-manifest")
                .annotate("provider", provider.as_str())
        })
        .collect();
    dependencies.extend(inputs.gates.iter().map(|g| g.descriptor("gate-policy")));
    if let Some((manifest, entries)) = &inputs.kernel {
        dependencies.push(manifest.descriptor("kernel-manifest"));
        let mut entries: Vec<&KernelEntry> = entries.iter().collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        dependencies.extend(entries.into_iter().map(|entry| {
            ResourceDescriptor::named(&entry.path, "sha256", hex_of(&entry.digest))
                .annotate("input", "kernel-file")
        }));
    }
    dependencies.extend(recorded_inputs(release));
    let provider_files: Map<String, Value> = providers
        .iter()
        .map(|(provider, file)| (provider.clone(), Value::from(file.name.as_str())))
        .collect();
    let external_parameters = json!({
        "gates": {
            "file": inputs.gates.as_ref().map(|g| g.name.as_str()),
            "thresholds": release.gates,
            "policy_digest": release.policy_digest,
            "expires_after_days": inputs.expires_after_days,
        },
        "providers": provider_files,
        "carry_forward": inputs.carry_forward,
        "previous_release": release.previous_release,
    });
    provenance_of(
        release,
        file_name,
        FEDERATE_BUILD_TYPE,
        FEDERATE_BUILDER_ID,
        external_parameters,
        dependencies,
    )
}

/// The provenance of a rollback release (`cargo xtask rollback`): built from the release whose
/// units it restores (`target`) on top of the newest release (`latest`), both by file name and
/// digest; the kernel, source and training inputs it carries are the target's.
pub fn rollback_provenance_statement(
    rollback: &ReleaseManifest,
    file_name: &str,
    target: (&ReleaseManifest, &str),
    latest: (&ReleaseManifest, &str),
) -> Statement {
    let release_descriptor = |(release, name): (&ReleaseManifest, &str), input: &str| {
        ResourceDescriptor::named(name, "sha256", hex_of(&release.digest))
            .annotate("input", input)
            .annotate("release_seq", release.release_seq)
    };
    let mut dependencies = vec![
        release_descriptor(target, "restored-release"),
        release_descriptor(latest, "previous-release"),
    ];
    dependencies.extend(recorded_inputs(rollback));
    let external_parameters = json!({
        "rollback_of": rollback.rollback_of,
        "previous_release": rollback.previous_release,
        "expires": rollback.expires,
    });
    provenance_of(
        rollback,
        file_name,
        ROLLBACK_BUILD_TYPE,
        ROLLBACK_BUILDER_ID,
        external_parameters,
        dependencies,
    )
}

/// What a release itself records about its inputs, as descriptors: the kernel digest, the
/// source commit, and per unit its datasets, training configuration and training code.
fn recorded_inputs(release: &ReleaseManifest) -> Vec<ResourceDescriptor> {
    let mut dependencies = Vec::new();
    if let Some(kernel) = &release.kernel_digest {
        dependencies.push(
            ResourceDescriptor::named("kernel", "sha256", hex_of(kernel))
                .annotate("input", "kernel-digest"),
        );
    }
    if let Some(source) = &release.source {
        dependencies.push(source_descriptor(source));
    }
    for (provider, unit) in &release.units {
        let Some(training) = &unit.inputs else {
            continue;
        };
        let about = |d: ResourceDescriptor| {
            d.annotate("provider", provider.as_str())
                .annotate("artifact", unit.id.as_str())
        };
        for dataset in &training.datasets {
            dependencies.push(
                about(ResourceDescriptor {
                    uri: Some(dataset.uri.clone()),
                    digest: BTreeMap::from([("sha256".to_owned(), dataset.sha256.clone())]),
                    ..ResourceDescriptor::default()
                })
                .annotate("input", "dataset"),
            );
        }
        if let Some(config) = &training.config_sha256 {
            dependencies.push(about(
                ResourceDescriptor::named(format!("training-config:{provider}"), "sha256", config)
                    .annotate("input", "training-config"),
            ));
        }
        if let Some(commit) = &training.source_commit {
            dependencies.push(about(
                ResourceDescriptor::named(
                    format!("training-source:{provider}"),
                    "gitCommit",
                    commit,
                )
                .annotate("input", "training-source"),
            ));
        }
    }
    dependencies
}

fn provenance_of(
    release: &ReleaseManifest,
    file_name: &str,
    build_type: &str,
    builder_id: &str,
    external_parameters: Value,
    resolved_dependencies: Vec<ResourceDescriptor>,
) -> Statement {
    let provenance = Provenance {
        build_definition: BuildDefinition {
            build_type: build_type.to_owned(),
            external_parameters,
            resolved_dependencies,
        },
        run_details: RunDetails {
            builder: Builder {
                id: builder_id.to_owned(),
            },
            metadata: BuildMetadata {
                started_on: release.generated_at.clone(),
                finished_on: release.generated_at.clone(),
            },
        },
    };
    Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject: vec![release_subject(release, file_name)],
        predicate_type: PROVENANCE_PREDICATE.to_owned(),
        predicate: serde_json::to_value(provenance).expect("provenance serializes"),
    }
}

/// The source commit as a descriptor (`gitCommit`), with whether the tree was dirty.
pub fn source_descriptor(source: &SourceRevision) -> ResourceDescriptor {
    ResourceDescriptor::named("source", "gitCommit", &source.commit)
        .annotate("input", "source")
        .annotate("dirty", source.dirty)
}

/// What a release-lane run established, for its test-result statement.
#[derive(Debug, Clone)]
pub struct LaneRun {
    pub source: SourceRevision,
    pub kernel_digest: String,
    /// The release-lane manifest.
    pub configuration: InputFile,
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

/// The test-result statement of a release-lane run: subject the source commit and the kernel
/// digest, configuration the release-lane manifest, the tests by name (sorted).
pub fn test_result_statement(run: &LaneRun) -> Statement {
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    let result = TestResult {
        result: if run.failed.is_empty() {
            "PASSED"
        } else {
            "FAILED"
        }
        .to_owned(),
        configuration: vec![ResourceDescriptor::named(
            &run.configuration.name,
            "sha256",
            &run.configuration.sha256,
        )],
        passed_tests: sorted(&run.passed),
        warned_tests: Vec::new(),
        failed_tests: sorted(&run.failed),
    };
    Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject: vec![
            source_descriptor(&run.source),
            ResourceDescriptor::named("kernel", "sha256", hex_of(&run.kernel_digest)),
        ],
        predicate_type: TEST_RESULT_PREDICATE.to_owned(),
        predicate: serde_json::to_value(result).expect("test results serialize"),
    }
}

impl Statement {
    /// The stored form: sorted keys, two-space indent, trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("statements serialize");
        canonical::to_pretty_string(&value).into_bytes()
    }

    /// Reads a statement strictly (no repeated key); `_type` must be Statement v1.
    pub fn parse(path: &Path, text: &str) -> Result<Statement, Located> {
        let statement: Statement = support::json::parse(path, text).map_err(|err| {
            err.with_help("an in-toto Statement v1 is {\"_type\", \"subject\", \"predicateType\", \"predicate\"}")
        })?;
        if statement.statement_type != STATEMENT_TYPE {
            return Err(crate::jsonpos::located_at(
                path,
                text,
                &[crate::jsonpos::Seg::Key("_type")],
                format!(
                    "_type {:?} is not {STATEMENT_TYPE:?}",
                    statement.statement_type
                ),
            ));
        }
        Ok(statement)
    }

    /// The SLSA provenance predicate, when this is one.
    pub fn provenance(&self) -> Result<Provenance, String> {
        self.predicate_as(PROVENANCE_PREDICATE)
    }

    /// The test-result predicate, when this is one.
    pub fn test_result(&self) -> Result<TestResult, String> {
        self.predicate_as(TEST_RESULT_PREDICATE)
    }

    fn predicate_as<T: serde::de::DeserializeOwned>(&self, wanted: &str) -> Result<T, String> {
        if self.predicate_type != wanted {
            return Err(format!(
                "predicateType is {:?}, not {wanted:?}",
                self.predicate_type
            ));
        }
        serde_json::from_value(self.predicate.clone())
            .map_err(|err| format!("its {wanted} predicate is malformed: {err}"))
    }
}

/// Why a statement does not vouch for a release. Each is its own kind (see [`Self::kind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AttestationProblem {
    /// The statement is not of the kind expected, or its predicate does not parse.
    Malformed { reason: String },
    /// A provenance whose subject is not this release.
    ProvenanceSubject {
        release: String,
        subjects: Vec<String>,
    },
    /// The release records a dataset digest other than the one its provenance recorded at
    /// federation: the release was edited (and resealed) after federation.
    DatasetChanged {
        provider: String,
        uri: String,
        release_sha256: String,
        provenance_sha256: String,
    },
    /// The release records no source commit or kernel digest, so no test result can be tied
    /// to it.
    SourceUnrecorded,
    /// The release was federated from a dirty tree: a test result for the commit does not
    /// cover what the release was made from.
    SourceDirty { commit: String },
    /// A test result for another commit or kernel than the release's.
    TestSubject {
        expected_commit: String,
        expected_kernel: String,
        found: Vec<String>,
    },
    /// A test result whose result is not `PASSED`.
    TestsFailed { result: String, failed: Vec<String> },
}

impl AttestationProblem {
    /// A short stable name (`provenance-subject-mismatch`, `tests-failed`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            AttestationProblem::Malformed { .. } => "statement-malformed",
            AttestationProblem::ProvenanceSubject { .. } => "provenance-subject-mismatch",
            AttestationProblem::DatasetChanged { .. } => "dataset-digest-changed",
            AttestationProblem::SourceUnrecorded => "source-unrecorded",
            AttestationProblem::SourceDirty { .. } => "source-dirty",
            AttestationProblem::TestSubject { .. } => "test-subject-mismatch",
            AttestationProblem::TestsFailed { .. } => "tests-failed",
        }
    }
}

impl fmt::Display for AttestationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttestationProblem::Malformed { reason } => write!(f, "statement: {reason}"),
            AttestationProblem::ProvenanceSubject { release, subjects } => write!(
                f,
                "the provenance is about {} but the release's digest is {release}; it is the \
                 provenance of another release",
                if subjects.is_empty() {
                    "nothing".to_owned()
                } else {
                    subjects.join(", ")
                }
            ),
            AttestationProblem::DatasetChanged {
                provider,
                uri,
                release_sha256,
                provenance_sha256,
            } => write!(
                f,
                "unit `{provider}`: dataset {uri} has sha256 {release_sha256} in the release but \
                 {provenance_sha256} in its provenance; the release was changed after federation"
            ),
            AttestationProblem::SourceUnrecorded => write!(
                f,
                "the release records no source commit and kernel digest, so no test result can \
                 vouch for it (federate it in a git checkout with a kernel manifest)"
            ),
            AttestationProblem::SourceDirty { commit } => write!(
                f,
                "the release was federated from a dirty tree at {commit}; a test result for the \
                 commit does not cover it (federate from a clean checkout)"
            ),
            AttestationProblem::TestSubject {
                expected_commit,
                expected_kernel,
                found,
            } => write!(
                f,
                "the test result is about {} but the release was federated from commit \
                 {expected_commit} with kernel {expected_kernel}; it is the test result of \
                 another commit or kernel",
                found.join(", ")
            ),
            AttestationProblem::TestsFailed { result, failed } => write!(
                f,
                "the test result is {result}{}",
                if failed.is_empty() {
                    String::new()
                } else {
                    format!(" (failed: {})", failed.join(", "))
                }
            ),
        }
    }
}

/// Checks that `statement` is the provenance of `release`; its datasets first, so a release
/// edited after federation is named for what changed.
pub fn check_provenance(
    statement: &Statement,
    release: &ReleaseManifest,
) -> Result<Provenance, AttestationProblem> {
    let provenance = statement
        .provenance()
        .map_err(|reason| AttestationProblem::Malformed { reason })?;
    let recorded = &provenance.build_definition.resolved_dependencies;
    for (provider, unit) in &release.units {
        for dataset in unit.inputs.iter().flat_map(|i| &i.datasets) {
            let at_federation = recorded.iter().find(|d| {
                d.annotation("input") == Some("dataset")
                    && d.annotation("provider") == Some(provider)
                    && d.uri.as_deref() == Some(dataset.uri.as_str())
            });
            if let Some(sha256) = at_federation.and_then(|d| d.digest.get("sha256"))
                && *sha256 != dataset.sha256
            {
                return Err(AttestationProblem::DatasetChanged {
                    provider: provider.clone(),
                    uri: dataset.uri.clone(),
                    release_sha256: dataset.sha256.clone(),
                    provenance_sha256: sha256.clone(),
                });
            }
        }
    }
    let wanted = hex_of(&release.digest);
    if !statement
        .subject
        .iter()
        .any(|s| s.digest.get("sha256").map(String::as_str) == Some(wanted))
    {
        return Err(AttestationProblem::ProvenanceSubject {
            release: release.digest.clone(),
            subjects: subject_names(statement),
        });
    }
    Ok(provenance)
}

/// Checks that `statement` is a PASSED test result for `release`'s clean source commit and
/// kernel digest.
pub fn check_test_result(
    statement: &Statement,
    release: &ReleaseManifest,
) -> Result<TestResult, AttestationProblem> {
    let result = statement
        .test_result()
        .map_err(|reason| AttestationProblem::Malformed { reason })?;
    let (Some(source), Some(kernel)) = (&release.source, &release.kernel_digest) else {
        return Err(AttestationProblem::SourceUnrecorded);
    };
    if source.dirty {
        return Err(AttestationProblem::SourceDirty {
            commit: source.commit.clone(),
        });
    }
    // A run on a dirty tree is no evidence about the commit: its subject says so.
    let has = |algorithm: &str, value: &str| {
        statement.subject.iter().any(|s| {
            s.digest.get(algorithm).map(String::as_str) == Some(value)
                && s.annotations.get("dirty") != Some(&Value::Bool(true))
        })
    };
    if !has("gitCommit", &source.commit) || !has("sha256", hex_of(kernel)) {
        return Err(AttestationProblem::TestSubject {
            expected_commit: source.commit.clone(),
            expected_kernel: kernel.clone(),
            found: subject_names(statement),
        });
    }
    if result.result != "PASSED" || !result.failed_tests.is_empty() {
        return Err(AttestationProblem::TestsFailed {
            result: result.result.clone(),
            failed: result.failed_tests.clone(),
        });
    }
    Ok(result)
}

/// `name algorithm:hex` of each subject, for messages.
fn subject_names(statement: &Statement) -> Vec<String> {
    statement
        .subject
        .iter()
        .map(|s| {
            let digests: Vec<String> = s.digest.iter().map(|(a, h)| format!("{a}:{h}")).collect();
            let dirty = if s.annotations.get("dirty") == Some(&Value::Bool(true)) {
                " (dirty)"
            } else {
                ""
            };
            match &s.name {
                Some(name) => format!("{name} {}{dirty}", digests.join(" ")),
                None => format!("{}{dirty}", digests.join(" ")),
            }
        })
        .collect()
}

/// The hex of a `sha256:<hex>` digest (the text itself when it has no prefix).
fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// `release-000001.provenance.json` for `release-000001.json`: where a release's provenance
/// is written, next to it (`stem.provenance.json` for any other name).
pub fn provenance_path(release_path: &Path) -> std::path::PathBuf {
    let stem = release_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    release_path.with_file_name(format!("{stem}.provenance.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::rollback_release;
    use crate::manifest::tests::sample;

    fn inputs() -> FederationInputs {
        FederationInputs {
            providers: vec![("hf".into(), InputFile::of_bytes("hf.json", b"{}"))],
            gates: Some(InputFile::of_bytes("gates.toml", b"")),
            kernel: None,
            carry_forward: false,
            expires_after_days: 30,
        }
    }

    #[test]
    fn a_provenance_vouches_for_its_release_only_and_reads_back() {
        let release = sample();
        let statement = provenance_statement(&release, "release-000001.json", &inputs());
        let text = String::from_utf8(statement.to_bytes()).unwrap();
        let back = Statement::parse(Path::new("p.json"), &text).unwrap();
        assert_eq!(back.to_bytes(), statement.to_bytes());
        check_provenance(&back, &release).unwrap();
        assert_eq!(
            statement.subject[0].digest["sha256"],
            release.digest.trim_start_matches("sha256:")
        );
        let mut other = release.clone();
        other.release_seq = 2;
        other.seal();
        assert_eq!(
            check_provenance(&back, &other).unwrap_err().kind(),
            "provenance-subject-mismatch"
        );
        assert_eq!(
            check_test_result(&back, &release).unwrap_err().kind(),
            "statement-malformed",
            "a provenance is no test result"
        );
    }

    #[test]
    fn a_rollback_has_its_own_provenance_naming_the_releases_it_was_built_from() {
        let first = sample();
        let mut second = first.clone();
        second.release_seq = 2;
        second.previous_release = Some(first.digest.clone());
        second.seal();
        let rollback = rollback_release(&first, &second, 86_400, 30);
        let statement = rollback_provenance_statement(
            &rollback,
            "release-000003.json",
            (&first, "release-000001.json"),
            (&second, "release-000002.json"),
        );
        check_provenance(&statement, &rollback).unwrap();
        let provenance = statement.provenance().unwrap();
        assert_eq!(provenance.build_definition.build_type, ROLLBACK_BUILD_TYPE);
        let restored = &provenance.build_definition.resolved_dependencies[0];
        assert_eq!(restored.name.as_deref(), Some("release-000001.json"));
        assert_eq!(restored.digest["sha256"], hex_of(&first.digest));
    }
}
