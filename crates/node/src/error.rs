//! Why an ingest was refused. Every refusal is its own variant, and none changes the store.

use std::fmt;
use std::io;
use std::path::PathBuf;

use support::{Exit, Located};

#[derive(Debug)]
pub enum IngestError {
    /// The manifest is not a valid `release-manifest/v1` document; every problem, located.
    Malformed { problems: Vec<Located> },
    /// `SOURCE_DATE_EPOCH` is set but is not a number of seconds.
    BadClock { message: String },
    /// The manifest's bytes do not hash to the digest it declares (edited after publishing).
    DigestMismatch { declared: String, computed: String },
    /// The node requires a signature and none came with the manifest.
    SignatureMissing,
    /// A signature is required or was given, but this node has no verifier configured.
    NoVerifier,
    /// The verifier refused the signature (unknown key, bad signature, wrong payload).
    SignatureRejected { reason: String },
    /// A statement envelope is not a signed in-toto statement this node checks.
    StatementMalformed { reason: String },
    /// No signature on a statement verifies by a trusted key.
    StatementRejected { reason: String },
    /// A statement's valid signatures are by keys without the builder role.
    StatementNotBuilder { reason: String },
    /// The node's policy requires a provenance statement and none came with the release.
    ProvenanceMissing,
    /// The node's policy requires a test-result statement and none came with the release.
    TestResultMissing,
    /// A statement does not vouch for this release (another release, another commit, a
    /// failed test run, a dataset changed after federation); its kind is the problem's.
    Attestation {
        problem: release::attest::AttestationProblem,
    },
    /// The offered release is older than the installed one: a rollback attack.
    RollbackAttack {
        offered_seq: u64,
        installed_seq: u64,
    },
    /// Same `release_seq` as the installed release but a different digest.
    SeqConflict {
        seq: u64,
        installed: String,
        offered: String,
    },
    /// The manifest's `expires` is in the past.
    Expired { expires: String, now: String },
    /// `policy_digest` is not the digest of the manifest's own `gates`.
    PolicyDigestMismatch { declared: String, computed: String },
    /// A unit's verdict was reached under other thresholds than this release's gates: it was
    /// taken from a release judged under another policy.
    UnitFromOtherPolicy {
        provider: String,
        gate: String,
        unit_threshold: f64,
        release_threshold: f64,
    },
    /// Judging a unit again from its metrics disagrees with its recorded verdict, score or
    /// role (see `release::select::rejudge`).
    Misjudged { provider: String, problem: String },
    /// A carried-forward unit differs from the unit of the release it claims to come from.
    CarriedUnitMismatch {
        provider: String,
        carried_from: String,
    },
    /// A unit brings back an artifact that a later installed release replaced, without the
    /// release being a rollback: units from different releases were mixed.
    MixAndMatch {
        provider: String,
        uri: String,
        from_seq: u64,
        replaced_by_seq: u64,
        /// The release that retired the artifact was a rollback.
        by_rollback: bool,
    },
    /// A rollback release whose units are not those of the release it restores (`rollback_of`).
    RollbackUnitsMismatch {
        provider: String,
        target_seq: u64,
        target: String,
    },
    /// A unit's URI cannot be mapped into the artifacts directory.
    BadArtifactUri { provider: String, reason: String },
    /// The local artifact's size differs from the manifest's (`truncated` when smaller).
    ArtifactSize {
        provider: String,
        path: PathBuf,
        declared: u64,
        actual: u64,
    },
    /// The local artifact's content digest differs from the manifest's.
    ArtifactDigest {
        provider: String,
        path: PathBuf,
        declared: String,
        actual: String,
    },
    /// `require_artifacts` is on and a unit's artifact is not in the artifacts directory.
    ArtifactMissing {
        provider: String,
        uri: Option<String>,
        path: Option<PathBuf>,
    },
    /// The node's policy file is not one this build can enforce; every problem, located.
    BadPolicy { problems: Vec<Located> },
    /// An input is over its documented size limit.
    TooLarge { what: String, size: u64, limit: u64 },
    /// The node directory (or one of its parents) is a file.
    NotADirectory { node_dir: PathBuf, file: PathBuf },
    /// Another ingest holds the store lock.
    Locked { lock: PathBuf },
    /// Reading or writing the store (or an artifact) failed.
    Io { path: PathBuf, error: io::Error },
    /// The store's files contradict each other (a broken history chain, a dangling pointer).
    StoreCorrupt { message: String },
}

impl IngestError {
    /// The exit code a command-line front end should use (`support::exit`).
    pub fn exit(&self) -> Exit {
        match self {
            IngestError::Malformed { .. }
            | IngestError::BadClock { .. }
            | IngestError::BadArtifactUri { .. }
            | IngestError::TooLarge { .. }
            | IngestError::BadPolicy { .. }
            | IngestError::NotADirectory { .. } => Exit::InvalidInput,
            IngestError::Locked { .. }
            | IngestError::Io { .. }
            | IngestError::NoVerifier
            | IngestError::StoreCorrupt { .. } => Exit::Environment,
            _ => Exit::CheckFailed,
        }
    }

    /// A short stable name for JSON output and tests (`digest-mismatch`, `rollback-attack`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            IngestError::Malformed { .. } => "malformed",
            IngestError::BadClock { .. } => "bad-clock",
            IngestError::PolicyDigestMismatch { .. } => "policy-digest-mismatch",
            IngestError::UnitFromOtherPolicy { .. } => "unit-from-other-policy",
            IngestError::Misjudged { .. } => "misjudged-unit",
            IngestError::CarriedUnitMismatch { .. } => "carried-unit-mismatch",
            IngestError::DigestMismatch { .. } => "digest-mismatch",
            IngestError::SignatureMissing => "signature-missing",
            IngestError::NoVerifier => "no-verifier",
            IngestError::SignatureRejected { .. } => "signature-rejected",
            IngestError::StatementMalformed { .. } => "statement-malformed",
            IngestError::StatementRejected { .. } => "statement-rejected",
            IngestError::StatementNotBuilder { .. } => "statement-not-builder",
            IngestError::ProvenanceMissing => "provenance-missing",
            IngestError::TestResultMissing => "test-result-missing",
            IngestError::Attestation { problem } => problem.kind(),
            IngestError::RollbackAttack { .. } => "rollback-attack",
            IngestError::SeqConflict { .. } => "seq-conflict",
            IngestError::Expired { .. } => "expired",
            IngestError::MixAndMatch { .. } => "mix-and-match",
            IngestError::RollbackUnitsMismatch { .. } => "rollback-units-mismatch",
            IngestError::BadArtifactUri { .. } => "bad-artifact-uri",
            IngestError::ArtifactSize { .. } => "artifact-size",
            IngestError::ArtifactDigest { .. } => "artifact-digest",
            IngestError::ArtifactMissing { .. } => "artifact-missing",
            IngestError::TooLarge { .. } => "too-large",
            IngestError::BadPolicy { .. } => "bad-policy",
            IngestError::NotADirectory { .. } => "not-a-directory",
            IngestError::Locked { .. } => "locked",
            IngestError::Io { .. } => "io",
            IngestError::StoreCorrupt { .. } => "store-corrupt",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, error: io::Error) -> Self {
        IngestError::Io {
            path: path.into(),
            error,
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::Malformed { problems } => {
                write!(f, "invalid release manifest")?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            IngestError::BadClock { message } => write!(f, "{message}"),
            IngestError::PolicyDigestMismatch { declared, computed } => write!(
                f,
                "policy_digest is {declared} but the manifest's gates hash to {computed}"
            ),
            IngestError::UnitFromOtherPolicy {
                provider,
                gate,
                unit_threshold,
                release_threshold,
            } => write!(
                f,
                "unit `{provider}` was judged with {gate} threshold {unit_threshold} but this \
                 release's gates say {release_threshold}; the unit was taken from a release \
                 judged under another policy (mix and match)"
            ),
            IngestError::Misjudged { provider, problem } => write!(
                f,
                "unit `{provider}`: {problem}; judging the unit again from its metrics and the \
                 release's gates disagrees with what the release records"
            ),
            IngestError::CarriedUnitMismatch {
                provider,
                carried_from,
            } => write!(
                f,
                "unit `{provider}` claims to be carried forward from {carried_from} but differs \
                 from that release's unit (mix and match)"
            ),
            IngestError::DigestMismatch { declared, computed } => write!(
                f,
                "manifest digest mismatch: it declares {declared} but its content hashes to \
                 {computed}; the manifest was changed after it was published"
            ),
            IngestError::SignatureMissing => write!(
                f,
                "this node requires a signed release and no signature was given \
                 (pass the signature envelope with --signature FILE)"
            ),
            IngestError::NoVerifier => write!(
                f,
                "a signature must be checked but this node has no signature verifier configured"
            ),
            IngestError::SignatureRejected { reason } => {
                write!(f, "signature rejected: {reason}")
            }
            IngestError::StatementMalformed { reason } => write!(f, "statement refused: {reason}"),
            IngestError::StatementRejected { reason } => {
                write!(f, "statement signature rejected: {reason}")
            }
            IngestError::StatementNotBuilder { reason } => write!(
                f,
                "statement not signed by a builder: {reason}; statements count only when a key \
                 with the `builder` role in the trust file signed them"
            ),
            IngestError::ProvenanceMissing => write!(
                f,
                "this node requires a provenance statement signed by a builder and none came \
                 with the release (pass the signed release-NNNNNN.provenance.dsse.json with \
                 --statement FILE)"
            ),
            IngestError::TestResultMissing => write!(
                f,
                "this node requires a PASSED test-result statement for the release's source \
                 commit signed by a builder and none came with the release (pass the signed \
                 release-lane statement with --statement FILE)"
            ),
            IngestError::Attestation { problem } => problem.fmt(f),
            IngestError::RollbackAttack {
                offered_seq,
                installed_seq,
            } => write!(
                f,
                "rollback attack refused: the release has release_seq {offered_seq}, lower than \
                 the installed {installed_seq}; a rollback must be published as a new release \
                 with a higher release_seq (`cargo xtask rollback`)"
            ),
            IngestError::SeqConflict {
                seq,
                installed,
                offered,
            } => write!(
                f,
                "release_seq conflict: {seq} is installed as {installed} but this release \
                 ({offered}) claims the same release_seq; two different releases cannot share one"
            ),
            IngestError::Expired { expires, now } => write!(
                f,
                "release expired at {expires} (now {now}); publish a fresh release"
            ),
            IngestError::MixAndMatch {
                provider,
                uri,
                from_seq,
                replaced_by_seq,
                by_rollback,
            } => write!(
                f,
                "unit `{provider}` ({uri}) is the artifact of release_seq {from_seq}, which \
                 {}; units from different releases were mixed (only a rollback release may \
                 bring back replaced units; if federation re-selected it on purpose, ingest \
                 with --allow-replaced-units)",
                if *by_rollback {
                    format!("the rollback release_seq {replaced_by_seq} removed")
                } else {
                    format!("release_seq {replaced_by_seq} replaced")
                }
            ),
            IngestError::RollbackUnitsMismatch {
                provider,
                target_seq,
                target,
            } => write!(
                f,
                "rollback release's unit `{provider}` differs from that of the release it restores \
                 (release_seq {target_seq}, {target}); a rollback must restore that release's \
                 units unchanged"
            ),
            IngestError::BadArtifactUri { provider, reason } => {
                write!(f, "unit `{provider}`: {reason}")
            }
            IngestError::ArtifactSize {
                provider,
                path,
                declared,
                actual,
            } => write!(
                f,
                "unit `{provider}`: artifact {} is {actual} bytes but the manifest says \
                 {declared}{}",
                path.display(),
                if actual < declared {
                    " (truncated)"
                } else {
                    ""
                }
            ),
            IngestError::ArtifactDigest {
                provider,
                path,
                declared,
                actual,
            } => write!(
                f,
                "unit `{provider}`: artifact {} hashes to {actual} but the manifest says {declared}",
                path.display()
            ),
            IngestError::ArtifactMissing {
                provider,
                uri,
                path,
            } => match (uri, path) {
                (Some(uri), Some(path)) => write!(
                    f,
                    "unit `{provider}`: artifact {uri} is not present at {}",
                    path.display()
                ),
                _ => write!(
                    f,
                    "unit `{provider}`: artifacts are required but no artifacts directory or URI \
                     is available"
                ),
            },
            IngestError::BadPolicy { problems } => {
                write!(f, "invalid node policy")?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            IngestError::TooLarge { what, size, limit } => write!(
                f,
                "{what} is {size} bytes, over the {limit}-byte limit this node accepts"
            ),
            IngestError::NotADirectory { node_dir, file } => write!(
                f,
                "{} is a file, not a directory; the node directory {} must be a directory (or \
                 a path where one can be created)",
                file.display(),
                node_dir.display()
            ),
            IngestError::Locked { lock } => write!(
                f,
                "another ingest is running on this node (lock {} is held); wait for it to finish",
                lock.display()
            ),
            IngestError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            IngestError::StoreCorrupt { message } => write!(f, "node store is corrupt: {message}"),
        }
    }
}

impl std::error::Error for IngestError {}
