//! A node directory, an artifacts directory and releases built from real files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use node::{
    IngestError, IngestOptions, IngestOutcome, IngestRequest, NodePolicy, NodeStore,
    SignatureVerifier,
};
use release::ReleaseManifest;
use release::canonical::sha256_digest;
use serde_json::{Value, json};

/// 2026-06-01T00:00:00Z: "now" for every test unless a test says otherwise.
pub const NOW: i64 = 1_780_272_000;
pub const EXPIRES: &str = "2026-12-31T00:00:00Z";

pub struct Fixture {
    pub root: tempfile::TempDir,
    pub store: NodeStore,
    pub artifacts: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let store = NodeStore::new(root.path().join("node"));
        let artifacts = root.path().join("artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        Fixture {
            root,
            store,
            artifacts,
        }
    }

    /// Writes an artifact for `uri` and returns its unit with digest and size.
    /// Where the local copy of `release`'s unit for `provider` lives.
    pub fn artifact_path(&self, release: &Value, provider: &str) -> PathBuf {
        let uri = release["units"][provider]["uri"].as_str().unwrap();
        node::artifacts::local_path(&self.artifacts, uri).unwrap()
    }

    pub fn unit(&self, provider: &str, name: &str, content: &[u8]) -> Value {
        let (scheme, role) = match provider {
            "hf" => ("hf", "textgen"),
            "gcp" => ("gs", "embed"),
            _ => ("s3", "runtime"),
        };
        let uri = format!("{scheme}://spiralverse/{name}");
        let path = node::artifacts::local_path(&self.artifacts, &uri).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        let gate = |value: f64, comparison: &str, threshold: f64| json!({"value": value, "comparison": comparison, "threshold": threshold, "pass": true});
        json!({
            "id": format!("spiralverse/{name}"),
            "role": role,
            "uri": uri,
            "metrics": {"quality": 0.82, "safety": 0.97, "latency_ms_p95": 140, "cost_per_1k_tokens": 0.9},
            "digest": sha256_digest(content),
            "size": content.len(),
            "score": release::select::score(0.82, 0.97, 140.0, 0.9),
            "verdict": {
                "quality": gate(0.82, ">=", 0.75),
                "safety": gate(0.97, ">=", 0.95),
                "latency_ms_p95": gate(140.0, "<=", 250.0),
                "cost_per_1k_tokens": gate(0.9, "<=", 1.5),
                "pass": true,
            },
            "carried_forward": false,
            "carried_from": null,
        })
    }

    /// Three units whose artifacts are generation `generation` of each provider's model.
    pub fn units(&self, generation: u32) -> BTreeMap<String, Value> {
        ["hf", "gcp", "aws"]
            .into_iter()
            .map(|provider| {
                let name = format!("{provider}-model-v{generation}");
                let content = format!("{provider} weights, generation {generation}\n").repeat(100);
                (
                    provider.to_owned(),
                    self.unit(provider, &name, content.as_bytes()),
                )
            })
            .collect()
    }

    pub fn ingest(&self, manifest: &[u8]) -> Result<IngestOutcome, IngestError> {
        self.ingest_with(manifest, None, &options())
    }

    pub fn ingest_with(
        &self,
        manifest: &[u8],
        signature: Option<&[u8]>,
        options: &IngestOptions<'_>,
    ) -> Result<IngestOutcome, IngestError> {
        self.store.ingest(
            IngestRequest {
                manifest,
                manifest_path: None,
                signature,
                artifacts_dir: Some(&self.artifacts),
                statements: &[],
            },
            options,
        )
    }

    /// Installs `manifest`, which must succeed.
    pub fn install(&self, manifest: &[u8]) {
        match self.ingest(manifest) {
            Ok(IngestOutcome::Installed(_)) => {}
            other => panic!("expected an install, got {other:?}"),
        }
    }

    /// Every file under the node directory with its bytes: "the store is untouched" means
    /// this is equal before and after.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(self.store.dir())
    }
}

pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        let Ok(listing) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in listing {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

pub fn options() -> IngestOptions<'static> {
    IngestOptions {
        now_unix: Some(NOW),
        jobs: 2,
        ..IngestOptions::default()
    }
}

/// A release manifest with an honest digest.
pub fn manifest(
    seq: u64,
    previous: Option<&str>,
    rollback_of: Option<&str>,
    units: &BTreeMap<String, Value>,
) -> Value {
    let mut value = json!({
        "schema": "release-manifest/v1",
        "fused_model_id": format!("spiralverse-ai-federated-v2026.05.{:02}.1200", seq % 28 + 1),
        "generated_at": "2026-05-01T12:00:00Z",
        "release_seq": seq,
        "previous_release": previous,
        "rollback_of": rollback_of,
        "expires": EXPIRES,
        "policy_digest": release::Thresholds::default().policy_digest(),
        "providers": ["aws", "gcp", "hf"],
        "gates": release::Thresholds::default(),
        "units": units,
        "digest": "",
    });
    redigest(&mut value);
    value
}

/// Recomputes the digest after an edit, as a publisher (or an attacker without a key) would.
pub fn redigest(value: &mut Value) {
    let mut typed: ReleaseManifest = serde_json::from_value(value.clone()).unwrap();
    typed.seal();
    *value = typed.to_value();
}

/// The stored form, as federation writes it.
pub fn bytes(value: &Value) -> Vec<u8> {
    release::canonical::to_pretty_string(value).into_bytes()
}

pub fn digest_of(value: &Value) -> String {
    value["digest"].as_str().unwrap().to_owned()
}

/// A chain of `count` releases, each with new artifacts: (manifest, bytes).
pub fn chain(fx: &Fixture, count: u64) -> Vec<Value> {
    let mut releases: Vec<Value> = Vec::new();
    for seq in 1..=count {
        let previous = releases.last().map(digest_of);
        releases.push(manifest(
            seq,
            previous.as_deref(),
            None,
            &fx.units(seq as u32),
        ));
    }
    releases
}

/// A signature verifier for tests: a keyed sha256 (`sha256(secret || manifest)`), checked for
/// real, so a wrong key or a changed manifest fails. Production uses ed25519 envelopes from the
/// governance crate through the same trait.
pub struct KeyedHashVerifier {
    pub trusted: Vec<(String, Vec<u8>)>,
}

impl KeyedHashVerifier {
    pub fn sign(key_id: &str, secret: &[u8], manifest: &[u8]) -> Vec<u8> {
        let mut keyed = secret.to_vec();
        keyed.extend_from_slice(manifest);
        serde_json::to_vec(&json!({"keyid": key_id, "sig": sha256_digest(&keyed)})).unwrap()
    }
}

impl SignatureVerifier for KeyedHashVerifier {
    fn verify(&self, manifest_bytes: &[u8], envelope: &[u8]) -> Result<String, String> {
        let envelope: Value =
            serde_json::from_slice(envelope).map_err(|e| format!("unreadable envelope: {e}"))?;
        let key_id = envelope["keyid"].as_str().ok_or("envelope has no keyid")?;
        let (_, secret) = self
            .trusted
            .iter()
            .find(|(id, _)| id == key_id)
            .ok_or_else(|| format!("key `{key_id}` is not trusted by this node"))?;
        let mut keyed = secret.clone();
        keyed.extend_from_slice(manifest_bytes);
        if envelope["sig"].as_str() != Some(sha256_digest(&keyed).as_str()) {
            return Err(format!(
                "signature by `{key_id}` does not match the manifest"
            ));
        }
        Ok(key_id.to_owned())
    }

    /// `{"keyid", "payload", "sig": sha256(secret || payload)}`; keys named `builder*` are
    /// builders.
    fn verify_statement(
        &self,
        envelope: &[u8],
    ) -> Result<node::VerifiedStatement, node::StatementRejection> {
        use node::StatementRejection::{Malformed, NotBuilderSigned};
        let envelope: Value = serde_json::from_slice(envelope)
            .map_err(|e| Malformed(format!("unreadable envelope: {e}")))?;
        let payload = envelope["payload"]
            .as_str()
            .ok_or_else(|| Malformed("envelope has no payload".into()))?;
        let key_id = self
            .verify(payload.as_bytes(), &serde_json::to_vec(&envelope).unwrap())
            .map_err(node::StatementRejection::Rejected)?;
        if !key_id.starts_with("builder") {
            return Err(NotBuilderSigned(format!("`{key_id}` is not a builder")));
        }
        Ok(node::VerifiedStatement {
            payload: payload.as_bytes().to_vec(),
            builders: vec![key_id],
        })
    }
}

pub fn require_signature<'a>(verifier: &'a KeyedHashVerifier) -> IngestOptions<'a> {
    IngestOptions {
        policy: NodePolicy {
            require_signature: true,
            ..NodePolicy::default()
        },
        verifier: Some(verifier),
        ..options()
    }
}
