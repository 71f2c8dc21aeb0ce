//! The DSSE-style signature envelope around a release manifest.
//!
//! ```json
//! {"payloadType":"application/vnd.model-release.manifest+json",
//!  "payload":"<base64 of the exact manifest bytes>",
//!  "signatures":[{"keyid":"alice","sig":"<base64 ed25519 signature>"}]}
//! ```
//!
//! Each `sig` is an ed25519 signature over [`pae`]`(payloadType, payload bytes)`.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey};
use release::jsonpos::{Seg, located_at};
use serde::{Deserialize, Serialize};
use support::Located;

use crate::encoding::{base64_decode, base64_encode};

/// The payload type of a signed release manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.model-release.manifest+json";

/// Most signatures one envelope may carry. Checked, with repeated key ids, before any signature
/// is verified, so verifying an envelope (also under a node's ingest lock) is bounded.
pub const MAX_SIGNATURES: usize = 64;

/// A DSSE envelope: a typed payload and the signatures over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    pub payload_type: String,
    /// Standard base64 of the exact manifest bytes.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature: which key made it and the base64 ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: String,
}

/// Why an envelope could not be read or does not belong to the manifest it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not JSON, or not the envelope shape.
    Malformed(String),
    /// `payloadType` is not the one expected ([`PAYLOAD_TYPE`] for a release,
    /// [`release::attest::PAYLOAD_TYPE`] for a statement).
    WrongPayloadType {
        found: String,
        expected: &'static str,
    },
    /// `payload` is not valid base64.
    BadPayload(String),
    /// The payload is not byte for byte the manifest being installed.
    PayloadMismatch,
    /// No signatures at all.
    Unsigned,
    /// More than [`MAX_SIGNATURES`] signatures.
    TooManySignatures(usize),
    /// One key id signs more than once.
    RepeatedKeyId(String),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Malformed(why) => write!(f, "signature envelope is malformed: {why}"),
            EnvelopeError::WrongPayloadType { found, expected } => write!(
                f,
                "signature envelope has payloadType '{found}', expected '{expected}'"
            ),
            EnvelopeError::BadPayload(why) => {
                write!(f, "signature envelope payload is not valid: {why}")
            }
            EnvelopeError::PayloadMismatch => write!(
                f,
                "signature envelope payload is not byte for byte the release manifest \
                 (the manifest was changed after signing, or the envelope belongs to another release)"
            ),
            EnvelopeError::Unsigned => write!(f, "signature envelope holds no signatures"),
            EnvelopeError::TooManySignatures(count) => write!(
                f,
                "signature envelope holds {count} signatures, more than the {MAX_SIGNATURES} \
                 allowed"
            ),
            EnvelopeError::RepeatedKeyId(keyid) => write!(
                f,
                "signature envelope holds more than one signature by key '{keyid}'; each key \
                 signs once"
            ),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// DSSE's pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`,
/// lengths in ASCII decimal. Binding the type into what is signed stops cross-type replay.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + payload_type.len() + payload.len());
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// An envelope around `manifest_bytes` with no signatures yet.
    pub fn unsigned(manifest_bytes: &[u8]) -> Envelope {
        Envelope::unsigned_typed(PAYLOAD_TYPE, manifest_bytes)
    }

    /// An envelope around `payload` of type `payload_type` with no signatures yet.
    pub fn unsigned_typed(payload_type: &str, payload: &[u8]) -> Envelope {
        Envelope {
            payload_type: payload_type.to_owned(),
            payload: base64_encode(payload),
            signatures: Vec::new(),
        }
    }

    /// An envelope around `manifest_bytes` signed by one key.
    pub fn sign(manifest_bytes: &[u8], keyid: &str, key: &SigningKey) -> Envelope {
        Envelope::sign_typed(PAYLOAD_TYPE, manifest_bytes, keyid, key)
    }

    /// An in-toto statement's bytes in an envelope (`application/vnd.in-toto+json`) signed by
    /// one key.
    pub fn sign_statement(statement_bytes: &[u8], keyid: &str, key: &SigningKey) -> Envelope {
        Envelope::sign_typed(release::attest::PAYLOAD_TYPE, statement_bytes, keyid, key)
    }

    /// An envelope around `payload` of type `payload_type` signed by one key.
    pub fn sign_typed(
        payload_type: &str,
        payload: &[u8],
        keyid: &str,
        key: &SigningKey,
    ) -> Envelope {
        let mut envelope = Envelope::unsigned_typed(payload_type, payload);
        envelope.push_signature(payload, keyid, key);
        envelope
    }

    /// Adds one more signature (an approval) to an existing envelope; a key signs once.
    pub fn add_signature(&mut self, keyid: &str, key: &SigningKey) -> Result<(), EnvelopeError> {
        if self.signatures.iter().any(|s| s.keyid == keyid) {
            return Err(EnvelopeError::RepeatedKeyId(keyid.to_owned()));
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(EnvelopeError::TooManySignatures(self.signatures.len() + 1));
        }
        let payload = self.payload_bytes()?;
        self.push_signature(&payload, keyid, key);
        Ok(())
    }

    fn push_signature(&mut self, payload: &[u8], keyid: &str, key: &SigningKey) {
        let signature = key.sign(&pae(&self.payload_type, payload));
        self.signatures.push(EnvelopeSignature {
            keyid: keyid.to_owned(),
            sig: base64_encode(&signature.to_bytes()),
        });
    }

    /// Reads an envelope and checks its shape: strict JSON, the payload type, at most
    /// [`MAX_SIGNATURES`] signatures, no key id twice. Nothing is verified yet.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        Envelope::parse_typed(bytes, PAYLOAD_TYPE)
    }

    /// [`Envelope::parse`] for an envelope of another payload type.
    pub fn parse_typed(
        bytes: &[u8],
        payload_type: &'static str,
    ) -> Result<Envelope, EnvelopeError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|err| EnvelopeError::Malformed(format!("not UTF-8 text: {err}")))?;
        let envelope: Envelope = support::json::parse(Path::new("<envelope>"), text)
            .map_err(|err| EnvelopeError::Malformed(located_message(&err)))?;
        envelope.check_shape(payload_type).map_err(|(_, err)| err)?;
        Ok(envelope)
    }

    /// [`Envelope::parse`] for a file the user named: every problem at `path:line:col`.
    pub fn load(path: &Path, bytes: &[u8]) -> Result<Envelope, Located> {
        Envelope::load_typed(path, bytes, PAYLOAD_TYPE)
    }

    /// [`Envelope::load`] for an envelope of another payload type.
    pub fn load_typed(
        path: &Path,
        bytes: &[u8],
        payload_type: &'static str,
    ) -> Result<Envelope, Located> {
        let text = std::str::from_utf8(bytes).map_err(|err| {
            Located::file(path, format!("signature envelope is not UTF-8 text: {err}"))
        })?;
        let envelope: Envelope = support::json::parse(path, text).map_err(|err| {
            err.with_help(
                "a signature envelope is {\"payloadType\", \"payload\", \"signatures\": \
                 [{\"keyid\", \"sig\"}]}, as `governance sign` writes it",
            )
        })?;
        envelope
            .check_shape(payload_type)
            .map_err(|(segs, err)| located_at(path, text, &segs, err.to_string()))?;
        Ok(envelope)
    }

    /// The shape checks, each with where in the JSON it fails.
    fn check_shape(
        &self,
        payload_type: &'static str,
    ) -> Result<(), (Vec<Seg<'static>>, EnvelopeError)> {
        if self.payload_type != payload_type {
            return Err((
                vec![Seg::Key("payloadType")],
                EnvelopeError::WrongPayloadType {
                    found: self.payload_type.clone(),
                    expected: payload_type,
                },
            ));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err((
                vec![Seg::Key("signatures"), Seg::Index(MAX_SIGNATURES)],
                EnvelopeError::TooManySignatures(self.signatures.len()),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, signature) in self.signatures.iter().enumerate() {
            if !seen.insert(signature.keyid.as_str()) {
                return Err((
                    vec![Seg::Key("signatures"), Seg::Index(index)],
                    EnvelopeError::RepeatedKeyId(signature.keyid.clone()),
                ));
            }
        }
        Ok(())
    }

    /// The decoded payload: the manifest bytes that were signed.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        base64_decode(&self.payload).map_err(EnvelopeError::BadPayload)
    }

    /// Pretty JSON with a trailing newline, the form written next to a release manifest.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("an envelope always serialises");
        bytes.push(b'\n');
        bytes
    }
}

/// `line:col: message` of a located JSON error whose file name is not meaningful.
fn located_message(err: &Located) -> String {
    match err.line_col {
        Some((line, col)) => format!("{line}:{col}: {}", err.message),
        None => err.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // The worked example from the DSSE protocol description.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn envelope_json_uses_dsse_field_names() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let envelope = Envelope::sign(b"{}", "alice", &key);
        let json: serde_json::Value = serde_json::from_slice(&envelope.to_json()).unwrap();
        assert_eq!(json["payloadType"], PAYLOAD_TYPE);
        assert_eq!(json["payload"], "e30=");
        assert_eq!(json["signatures"][0]["keyid"], "alice");
        assert_eq!(Envelope::parse(&envelope.to_json()).unwrap(), envelope);
    }

    #[test]
    fn parse_rejects_other_payload_types_and_shapes() {
        let other = br#"{"payloadType":"text/plain","payload":"","signatures":[]}"#;
        assert!(matches!(
            Envelope::parse(other),
            Err(EnvelopeError::WrongPayloadType { found, .. }) if found == "text/plain"
        ));
        assert!(matches!(
            Envelope::parse(b"{\"payload\":1}"),
            Err(EnvelopeError::Malformed(_))
        ));
    }
}
