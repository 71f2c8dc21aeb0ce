//! JSON Schemas of every shape, generated from the types (`schemas/NAME.vN.json`).

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::Value;

use crate::Shape;

/// Every shape: its `NAME/vN` and its JSON Schema. A new shape is one line here.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        generate::<crate::federation::FederationReport>(),
        generate::<crate::chain::ReleaseChain>(),
        generate::<crate::chain::Rollback>(),
        generate::<crate::chain::ReleaseAudit>(),
        generate::<crate::kernel::KernelReport>(),
        generate::<crate::lanes::Lanes>(),
        generate::<crate::lanes::Preflight>(),
        generate::<crate::lanes::ReleaseLane>(),
        generate::<crate::deps::DepsAudit>(),
        generate::<crate::deps::DepsReport>(),
        generate::<crate::impact::ImpactReport>(),
        generate::<crate::impact::ImpactExplain>(),
        generate::<crate::impact::ImpactHistory>(),
        generate::<crate::node::NodeIngest>(),
        generate::<crate::node::NodeStatus>(),
        generate::<crate::governance::GovernanceVerify>(),
        generate::<crate::governance::GovernanceVerifyStatement>(),
        generate::<crate::node_api::Health>(),
        generate::<crate::node_api::Ready>(),
        // The manifest is a document with a format of its own: any JSON value here.
        generate::<crate::node_api::Release<Value>>(),
        generate::<crate::node_api::Error>(),
        generate::<crate::bench::BenchArtifacts>(),
        generate::<crate::bench::BenchSoundness>(),
        generate::<crate::bench::BenchHistory>(),
        generate::<crate::bench::BenchAll>(),
        generate::<crate::bench::BenchImpact>(),
        generate::<crate::bench::ImpactAnchors>(),
    ]
}

/// `schemas/NAME.vN.json` for `NAME/vN`.
pub fn file_name(schema: &str) -> String {
    format!("{}.json", schema.replace('/', "."))
}

/// The schema of `T`: draft 2020-12, `schema` pinned to `T::SCHEMA`, every key that is
/// always printed required (`null` included), and no key a type does not declare: a producer
/// that adds one must say so in the type, and so in the schema.
fn generate<T: Shape + JsonSchema>() -> (&'static str, Value) {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    schema["$id"] = Value::from(file_name(T::SCHEMA));
    schema["properties"]["schema"] = serde_json::json!({ "const": T::SCHEMA });
    // A flattened enum puts its variants under the root's `oneOf`: their keys and those of
    // the types they name are the root's, which `unevaluatedProperties` closes as a whole.
    let mut open = Vec::new();
    for branch in schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = branch["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            open.push(name.to_owned());
        }
    }
    if let Value::Object(root) = &mut schema {
        if let Some(Value::Object(defs)) = root.get_mut("$defs") {
            for (name, def) in defs.iter_mut() {
                if open.contains(name) {
                    require_nullable(def);
                } else {
                    close(def);
                }
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(Value::Array(branches)) = root.get_mut(key) {
                branches.iter_mut().for_each(require_nullable);
            }
        }
        for (key, value) in root.iter_mut() {
            if !matches!(key.as_str(), "$defs" | "oneOf" | "anyOf" | "allOf") {
                close(value);
            }
        }
        require_nullable_here(root);
        root.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
    (T::SCHEMA, schema)
}

/// `additionalProperties: false` and [`require_nullable`] on every object schema that lists
/// its properties.
fn close(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            require_nullable_here(map);
            map.values_mut().for_each(close);
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

fn require_nullable(value: &mut Value) {
    if let Value::Object(map) = value {
        require_nullable_here(map);
    }
}

/// An `Option` field is always printed (as `null` when empty), so it is required; only
/// fields left out when empty (`skip_serializing_if`) stay optional.
fn require_nullable_here(map: &mut serde_json::Map<String, Value>) {
    let Some(Value::Object(properties)) = map.get("properties") else {
        return;
    };
    let nullable: Vec<Value> = properties
        .iter()
        .filter(|(_, schema)| allows_null(schema))
        .map(|(name, _)| Value::from(name.as_str()))
        .collect();
    let required = map
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(required) = required {
        for name in nullable {
            if !required.contains(&name) {
                required.push(name);
            }
        }
    }
}

fn allows_null(schema: &Value) -> bool {
    let null = Value::from("null");
    match &schema["type"] {
        Value::String(t) if t == "null" => return true,
        Value::Array(types) if types.contains(&null) => return true,
        _ => {}
    }
    schema["anyOf"]
        .as_array()
        .is_some_and(|branches| branches.iter().any(allows_null))
}
