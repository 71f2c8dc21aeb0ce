//! The node's own policy (`<node-dir>/policy.json`): what this node demands of every release,
//! whatever flags a later ingest is run with.
//!
//! ```json
//! {"schema": "node-policy/v1", "require_signature": true, "require_artifacts": false}
//! ```
//!
//! The first install writes it from the flags it ran with (and requires signatures from then on
//! when that install was signed); `NodeStore::set_policy` replaces it explicitly. An ingest
//! applies the file and its own flags together: flags can tighten the policy for one ingest,
//! never loosen it. The file is versioned by `schema` and read strictly: an unknown key or a
//! newer schema (one that might demand something this build cannot check, such as attestations)
//! is refused with its location rather than ignored.

use std::path::Path;

use serde::{Deserialize, Serialize};
use support::Located;

/// What this node demands of a release beyond the always-on checks (kept in the node's
/// policy file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodePolicy {
    /// Refuse releases that come without a signature the verifier accepts.
    pub require_signature: bool,
    /// Refuse releases whose unit artifacts are not all present in the artifacts directory.
    pub require_artifacts: bool,
}

pub const POLICY_SCHEMA: &str = "node-policy/v1";
pub const POLICY_FILE: &str = "policy.json";
/// A policy file is a few lines.
pub const MAX_POLICY_BYTES: u64 = 64 << 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    schema: String,
    require_signature: bool,
    require_artifacts: bool,
}

/// Parses a policy file's text; every problem is located.
pub fn parse(path: &Path, text: &str) -> Result<NodePolicy, Vec<Located>> {
    let file: PolicyFile = support::json::parse(path, text).map_err(|err| {
        vec![err.with_help(format!(
            "a node policy is {{\"schema\": \"{POLICY_SCHEMA}\", \"require_signature\": BOOL, \
             \"require_artifacts\": BOOL}}; `cargo xtask ingest --set-policy` writes one"
        ))]
    })?;
    if file.schema != POLICY_SCHEMA {
        return Err(vec![release::jsonpos::located_at(
            path,
            text,
            &[release::jsonpos::Seg::Key("schema")],
            format!(
                "unsupported schema {:?}: this build reads {POLICY_SCHEMA:?} and refuses a \
                 policy it cannot enforce in full",
                file.schema
            ),
        )]);
    }
    Ok(NodePolicy {
        require_signature: file.require_signature,
        require_artifacts: file.require_artifacts,
    })
}

/// The file's bytes for `policy`.
pub fn to_bytes(policy: NodePolicy) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&PolicyFile {
        schema: POLICY_SCHEMA.to_owned(),
        require_signature: policy.require_signature,
        require_artifacts: policy.require_artifacts,
    })
    .expect("policies serialize");
    bytes.push(b'\n');
    bytes
}

impl NodePolicy {
    /// Both policies' demands.
    pub fn and(self, other: NodePolicy) -> NodePolicy {
        NodePolicy {
            require_signature: self.require_signature || other.require_signature,
            require_artifacts: self.require_artifacts || other.require_artifacts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_unknown_keys_and_newer_schemas_with_locations() {
        let policy = NodePolicy {
            require_signature: true,
            require_artifacts: false,
        };
        let text = String::from_utf8(to_bytes(policy)).unwrap();
        assert_eq!(parse(Path::new("policy.json"), &text).unwrap(), policy);

        let unknown = text.replace(
            "\"require_artifacts\": false",
            "\"require_artifacts\": false,\n  \"require_attestations\": [\"slsa\"]",
        );
        let problems = parse(Path::new("policy.json"), &unknown).unwrap_err();
        let shown = problems[0].to_string();
        assert!(shown.starts_with("policy.json:5:"), "{shown}");
        assert!(
            shown.contains("unknown field `require_attestations`"),
            "{shown}"
        );

        let newer = text.replace(POLICY_SCHEMA, "node-policy/v2");
        let shown = parse(Path::new("policy.json"), &newer).unwrap_err()[0].to_string();
        assert!(shown.starts_with("policy.json:2:"), "{shown}");
        assert!(
            shown.contains("refuses a policy it cannot enforce"),
            "{shown}"
        );
    }
}
