//! Checking an envelope against a trust file: signatures, then the approval policy.

use std::collections::BTreeSet;
use std::fmt;

use ed25519_dalek::Signature;
use output_types::Shape;
use output_types::governance::GovernanceVerify;
use serde::Serialize;

use crate::encoding::base64_decode;
use crate::envelope::{Envelope, EnvelopeError, MAX_SIGNATURES, pae};
use crate::trust::TrustFile;

/// Verifies release envelopes against a [`TrustFile`].
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustFile,
}

/// Which signatures counted as approvals and why the others did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationReport {
    /// Distinct approver key ids with a valid signature, in envelope order.
    pub approved_by: Vec<String>,
    pub required: usize,
    pub rejected: Vec<RejectedSignature>,
}

/// A signature that did not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedSignature {
    pub keyid: String,
    pub reason: Rejection,
}

/// Why a signature did not count towards the approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rejection {
    /// The key id is not in the trust file.
    UnknownKey,
    /// The key is trusted, but the signature does not verify over this payload.
    BadSignature,
    /// The signature is valid, but the key holds no approver role.
    NotAnApprover,
    /// On a statement: the signature is valid, but the key holds no builder role.
    NotABuilder,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::UnknownKey => "unknown key",
            Rejection::BadSignature => "signature does not verify",
            Rejection::NotAnApprover => "key holds no approver role",
            Rejection::NotABuilder => "key holds no builder role",
        })
    }
}

/// Why a release is not approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Envelope(EnvelopeError),
    /// Fewer distinct valid approvals than the policy requires.
    NotApproved(VerificationReport),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Envelope(err) => err.fmt(f),
            VerifyError::NotApproved(report) => {
                write!(
                    f,
                    "release is not approved: {} of {} required approvals",
                    report.approved_by.len(),
                    report.required
                )?;
                if !report.approved_by.is_empty() {
                    write!(f, " (approved by {})", report.approved_by.join(", "))?;
                }
                if !report.rejected.is_empty() {
                    let rejected: Vec<String> = report
                        .rejected
                        .iter()
                        .map(|r| format!("'{}': {}", r.keyid, r.reason))
                        .collect();
                    write!(f, "; not counted: {}", rejected.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<EnvelopeError> for VerifyError {
    fn from(err: EnvelopeError) -> Self {
        VerifyError::Envelope(err)
    }
}

impl Verifier {
    pub fn new(trust: TrustFile) -> Verifier {
        Verifier { trust }
    }

    pub fn trust(&self) -> &TrustFile {
        &self.trust
    }

    /// Checks that `envelope_bytes` signs exactly `manifest_bytes` with enough approvals.
    pub fn verify_manifest(
        &self,
        manifest_bytes: &[u8],
        envelope_bytes: &[u8],
    ) -> Result<VerificationReport, VerifyError> {
        let envelope = Envelope::parse(envelope_bytes)?;
        self.verify_parsed(manifest_bytes, &envelope)
    }

    /// [`Verifier::verify_manifest`] for an envelope already read (with [`Envelope::load`]).
    pub fn verify_parsed(
        &self,
        manifest_bytes: &[u8],
        envelope: &Envelope,
    ) -> Result<VerificationReport, VerifyError> {
        if envelope.payload_bytes()? != manifest_bytes {
            return Err(EnvelopeError::PayloadMismatch.into());
        }
        self.verify_envelope(envelope).map(|(_, report)| report)
    }

    /// Checks an envelope's signatures and the approval policy; returns the signed payload.
    /// The envelope's shape (signature count, no key id twice) is checked before any
    /// signature is, so the work is bounded by [`crate::envelope::MAX_SIGNATURES`].
    pub fn verify_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<(Vec<u8>, VerificationReport), VerifyError> {
        if envelope.signatures.len() > MAX_SIGNATURES {
            return Err(EnvelopeError::TooManySignatures(envelope.signatures.len()).into());
        }
        let mut signers = BTreeSet::new();
        if let Some(repeated) = envelope
            .signatures
            .iter()
            .find(|s| !signers.insert(s.keyid.as_str()))
        {
            return Err(EnvelopeError::RepeatedKeyId(repeated.keyid.clone()).into());
        }
        let payload = envelope.payload_bytes()?;
        if envelope.signatures.is_empty() {
            return Err(EnvelopeError::Unsigned.into());
        }
        let signed = pae(&envelope.payload_type, &payload);
        let mut report = VerificationReport {
            approved_by: Vec::new(),
            required: self.trust.policy.min_approvals,
            rejected: Vec::new(),
        };
        for signature in &envelope.signatures {
            let reason = match self.trust.keys.get(&signature.keyid) {
                None => Some(Rejection::UnknownKey),
                Some(key) => {
                    let valid = decode_signature(&signature.sig)
                        .is_some_and(|sig| key.public_key.verify_strict(&signed, &sig).is_ok());
                    if !valid {
                        Some(Rejection::BadSignature)
                    } else if !self.trust.policy.is_approver(key) {
                        Some(Rejection::NotAnApprover)
                    } else {
                        None
                    }
                }
            };
            match reason {
                None => report.approved_by.push(signature.keyid.clone()),
                Some(reason) => report.rejected.push(RejectedSignature {
                    keyid: signature.keyid.clone(),
                    reason,
                }),
            }
        }
        if report.approved_by.len() < report.required {
            return Err(VerifyError::NotApproved(report));
        }
        Ok((payload, report))
    }
}

/// A statement envelope whose signatures were checked: the builders whose signatures count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementReport {
    pub signed_by: Vec<String>,
    pub rejected: Vec<RejectedSignature>,
}

/// Why a statement envelope does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementError {
    Envelope(EnvelopeError),
    /// Signatures verify, but none is by a builder key.
    NotBuilderSigned(StatementReport),
    /// No signature verifies by a trusted key.
    NoValidSignature(StatementReport),
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rejected = |report: &StatementReport| {
            report
                .rejected
                .iter()
                .map(|r| format!("'{}': {}", r.keyid, r.reason))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            StatementError::Envelope(err) => err.fmt(f),
            StatementError::NotBuilderSigned(report) => write!(
                f,
                "no signature on the statement is by a builder key ({})",
                rejected(report)
            ),
            StatementError::NoValidSignature(report) => write!(
                f,
                "no signature on the statement verifies by a trusted key ({})",
                rejected(report)
            ),
        }
    }
}

impl std::error::Error for StatementError {}

impl Verifier {
    /// Checks a statement envelope (`application/vnd.in-toto+json`): the signatures that verify
    /// by keys holding the `builder` role. Returns the payload as signed. The shape limits of
    /// release envelopes apply.
    pub fn verify_statement(
        &self,
        envelope_bytes: &[u8],
    ) -> Result<(Vec<u8>, StatementReport), StatementError> {
        let envelope = Envelope::parse_typed(envelope_bytes, release::attest::PAYLOAD_TYPE)
            .map_err(StatementError::Envelope)?;
        self.verify_statement_envelope(&envelope)
    }

    /// [`Verifier::verify_statement`] for an envelope already read.
    pub fn verify_statement_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<(Vec<u8>, StatementReport), StatementError> {
        let payload = envelope.payload_bytes().map_err(StatementError::Envelope)?;
        if envelope.signatures.is_empty() {
            return Err(StatementError::Envelope(EnvelopeError::Unsigned));
        }
        let signed = pae(&envelope.payload_type, &payload);
        let mut report = StatementReport {
            signed_by: Vec::new(),
            rejected: Vec::new(),
        };
        let mut any_valid = false;
        for signature in &envelope.signatures {
            let reason = match self.trust.keys.get(&signature.keyid) {
                None => Some(Rejection::UnknownKey),
                Some(key) => {
                    let valid = decode_signature(&signature.sig)
                        .is_some_and(|sig| key.public_key.verify_strict(&signed, &sig).is_ok());
                    any_valid |= valid;
                    if !valid {
                        Some(Rejection::BadSignature)
                    } else if !key.is_builder() {
                        Some(Rejection::NotABuilder)
                    } else {
                        None
                    }
                }
            };
            match reason {
                None => report.signed_by.push(signature.keyid.clone()),
                Some(reason) => report.rejected.push(RejectedSignature {
                    keyid: signature.keyid.clone(),
                    reason,
                }),
            }
        }
        match (report.signed_by.is_empty(), any_valid) {
            (false, _) => Ok((payload, report)),
            (true, true) => Err(StatementError::NotBuilderSigned(report)),
            (true, false) => Err(StatementError::NoValidSignature(report)),
        }
    }
}

fn decode_signature(sig: &str) -> Option<Signature> {
    let bytes = base64_decode(sig).ok()?;
    Signature::from_slice(&bytes).ok()
}

/// The node's signature seam: a release installs only when the envelope signs its exact
/// bytes with enough distinct approvals. `Ok` names the approving keys, `Err` says why not.
/// `governance verify --format json`: the result as `governance-verify/v1`.
pub fn shape(result: &Result<VerificationReport, VerifyError>) -> GovernanceVerify {
    use output_types::governance as out;
    let report = match result {
        Ok(report) | Err(VerifyError::NotApproved(report)) => Some(report),
        Err(_) => None,
    };
    GovernanceVerify {
        schema: GovernanceVerify::schema(),
        approved: result.is_ok(),
        approved_by: report.map(|r| r.approved_by.clone()).unwrap_or_default(),
        required: report.map(|r| r.required),
        rejected: report
            .map(|r| {
                r.rejected
                    .iter()
                    .map(|rejected| out::RejectedSignature {
                        keyid: rejected.keyid.clone(),
                        reason: match rejected.reason {
                            Rejection::UnknownKey => out::Rejection::UnknownKey,
                            Rejection::BadSignature => out::Rejection::BadSignature,
                            Rejection::NotAnApprover => out::Rejection::NotAnApprover,
                            Rejection::NotABuilder => out::Rejection::NotABuilder,
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        error: result.as_ref().err().map(ToString::to_string),
    }
}

impl node::SignatureVerifier for Verifier {
    fn verify(&self, manifest_bytes: &[u8], envelope: &[u8]) -> Result<String, String> {
        self.verify_manifest(manifest_bytes, envelope)
            .map(|report| report.approved_by.join(", "))
            .map_err(|err| err.to_string())
    }

    fn verify_statement(
        &self,
        envelope: &[u8],
    ) -> Result<node::VerifiedStatement, node::StatementRejection> {
        match Verifier::verify_statement(self, envelope) {
            Ok((payload, report)) => Ok(node::VerifiedStatement {
                payload,
                builders: report.signed_by,
            }),
            Err(err @ StatementError::Envelope(_)) => {
                Err(node::StatementRejection::Malformed(err.to_string()))
            }
            Err(err @ StatementError::NotBuilderSigned(_)) => {
                Err(node::StatementRejection::NotBuilderSigned(err.to_string()))
            }
            Err(err @ StatementError::NoValidSignature(_)) => {
                Err(node::StatementRejection::Rejected(err.to_string()))
            }
        }
    }
}
