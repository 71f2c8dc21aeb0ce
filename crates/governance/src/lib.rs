//! Enterprise: signing and verifying release manifests (ed25519, DSSE-style envelopes) and approval policy.
