//! Enterprise: signing and verifying release manifests (ed25519, DSSE-style envelopes) and
//! approval policy.
//!
//! A release manifest is signed over its exact bytes: the signer never re-serialises it, so
//! what a node verifies is byte for byte what federation wrote. Signatures travel in a
//! DSSE-style [`Envelope`] whose payload type says what the payload is, and each signature
//! covers DSSE's pre-authentication encoding (PAE) of that type and the payload, so a
//! signature over one kind of document can never be replayed as another.
//!
//! Who may promote is decided by a trust file ([`TrustFile`]): the public keys a node trusts,
//! their roles, and a policy requiring a number of distinct approvals from approver keys.
//! [`Verifier`] checks an envelope against it and reports which signatures counted and why
//! the others did not.

mod encoding;
pub mod envelope;
pub mod trust;
pub mod verify;

pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use envelope::{Envelope, EnvelopeError, EnvelopeSignature, MAX_SIGNATURES, PAYLOAD_TYPE, pae};
pub use trust::{ApprovalPolicy, BUILDER_ROLE, TrustFile, TrustedKey};
pub use verify::{
    RejectedSignature, Rejection, StatementError, StatementReport, VerificationReport, Verifier,
    VerifyError,
};

/// A signing key from its 32-byte seed written as 64 hex digits (how keys are kept on disk).
pub fn signing_key_from_hex(seed_hex: &str) -> Result<SigningKey, String> {
    let seed = encoding::hex_32(seed_hex.trim())?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The public key as 64 lowercase hex digits, the form the trust file holds.
pub fn public_key_hex(key: &VerifyingKey) -> String {
    encoding::to_hex(key.as_bytes())
}
