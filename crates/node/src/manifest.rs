//! What the node reads from a release manifest, and the check that its digest is honest.
//!
//! The manifest format belongs to the `release` crate; this module is the one place the node
//! touches it, and keeps only the fields ingest decides on.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::time;

/// The fields of a release manifest that ingest verifies and the store records.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseView {
    pub fused_model_id: String,
    pub release_seq: u64,
    /// The digest the manifest declares for itself (`sha256:<hex>`).
    pub digest: String,
    pub previous_release: Option<String>,
    pub rollback_of: Option<String>,
    pub expires: String,
    pub expires_unix: i64,
    /// Units keyed by provider (`hf`, `gcp`, `aws`).
    pub units: BTreeMap<String, UnitView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitView {
    pub id: String,
    pub uri: Option<String>,
    pub digest: Option<String>,
    pub size: Option<u64>,
}

impl UnitView {
    /// Same artifact: same URI and same content digest.
    pub fn same_artifact(&self, other: &UnitView) -> bool {
        self.uri == other.uri && self.digest == other.digest && self.size == other.size
    }
}

/// Parses manifest bytes. The error names the offending field; the caller adds the file.
pub fn parse(bytes: &[u8]) -> Result<(Value, ReleaseView), ParseError> {
    let value: Value = serde_json::from_slice(bytes).map_err(ParseError::Json)?;
    let view = view_of(&value).map_err(ParseError::Shape)?;
    Ok((value, view))
}

#[derive(Debug)]
pub enum ParseError {
    Json(serde_json::Error),
    Shape(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Json(err) => write!(f, "not valid JSON: {err}"),
            ParseError::Shape(msg) => write!(f, "{msg}"),
        }
    }
}

/// The digest the manifest should carry: sha256 over its canonical JSON without `digest`.
pub fn computed_digest(value: &Value) -> String {
    let mut without = value.clone();
    if let Value::Object(map) = &mut without {
        map.remove("digest");
    }
    // serde_json's default map is ordered by key and `to_vec` emits no whitespace.
    crate::hash::digest_bytes(&serde_json::to_vec(&without).expect("a Value always serializes"))
}

fn view_of(value: &Value) -> Result<ReleaseView, String> {
    let Value::Object(map) = value else {
        return Err("a release manifest must be a JSON object".into());
    };
    let schema = map.get("schema").and_then(Value::as_str);
    if schema != Some("release-manifest/v1") {
        return Err(format!(
            "field `schema` must be \"release-manifest/v1\", found {}",
            map.get("schema").map_or("nothing".into(), Value::to_string)
        ));
    }
    let string = |key: &str| -> Result<String, String> {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("field `{key}` must be a string"))
    };
    let optional_digest = |key: &str| -> Result<Option<String>, String> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if crate::hash::is_sha256_digest(s) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "field `{key}` must be null or \"sha256:<64 hex>\", found {other}"
            )),
        }
    };
    let release_seq = map
        .get("release_seq")
        .and_then(Value::as_u64)
        .ok_or("field `release_seq` must be a non-negative integer")?;
    let digest = string("digest")?;
    if !crate::hash::is_sha256_digest(&digest) {
        return Err(format!(
            "field `digest` must be \"sha256:<64 hex>\", found \"{digest}\""
        ));
    }
    let expires = string("expires")?;
    let expires_unix =
        time::parse_rfc3339(&expires).map_err(|err| format!("field `expires`: {err}"))?;
    let Some(Value::Object(units_map)) = map.get("units") else {
        return Err("field `units` must be an object keyed by provider".into());
    };
    let mut units = BTreeMap::new();
    for (provider, unit) in units_map {
        units.insert(provider.clone(), unit_of(provider, unit)?);
    }
    Ok(ReleaseView {
        fused_model_id: string("fused_model_id")?,
        release_seq,
        digest,
        previous_release: optional_digest("previous_release")?,
        rollback_of: optional_digest("rollback_of")?,
        expires,
        expires_unix,
        units,
    })
}

fn unit_of(provider: &str, unit: &Value) -> Result<UnitView, String> {
    let Value::Object(map) = unit else {
        return Err(format!("units.{provider} must be an object"));
    };
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("units.{provider}.id must be a string"))?
        .to_owned();
    let uri = match map.get("uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(format!("units.{provider}.uri must be a string or null")),
    };
    let digest = match map.get("digest") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crate::hash::is_sha256_digest(s) => Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "units.{provider}.digest must be null or \"sha256:<64 hex>\", found {other}"
            ));
        }
    };
    let size = match map.get("size") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            format!("units.{provider}.size must be null or a non-negative integer")
        })?),
    };
    Ok(UnitView {
        id,
        uri,
        digest,
        size,
    })
}
