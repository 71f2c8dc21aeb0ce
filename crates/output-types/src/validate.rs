//! Checks a command's JSON against the schema it names, as committed in the repository's
//! `schemas/` (tests use it on real output of every command).

use std::path::PathBuf;

use serde_json::Value;

/// The repository's `schemas/` directory.
pub fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// `Ok` when `text` is one JSON document whose top-level `schema` names a committed schema
/// that it satisfies; otherwise every error, with where in the document it is.
pub fn check(text: &str) -> Result<(), String> {
    let document: Value =
        serde_json::from_str(text).map_err(|e| format!("not one JSON document: {e}\n{text}"))?;
    let Some(name) = document.get("schema").and_then(Value::as_str) else {
        return Err(format!("no top-level \"schema\" string in\n{text}"));
    };
    let path = schemas_dir().join(name.replace('/', ".") + ".json");
    let schema_text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{name}: cannot read {}: {e}", path.display()))?;
    let schema: Value = serde_json::from_str(&schema_text)
        .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| format!("{}: not a valid schema: {e}", path.display()))?;
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("  at {:?}: {e}", e.instance_path().as_str()))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "output does not match {}:\n{}\n{text}",
        path.display(),
        errors.join("\n")
    ))
}

/// The parsed document when [`check`] passes; panics with every error otherwise (for tests
/// reading a command's JSON: `let doc = output_types::validate::document(&run.stdout);`).
pub fn document(text: impl AsRef<[u8]>) -> Value {
    let text = String::from_utf8_lossy(text.as_ref());
    if let Err(err) = check(&text) {
        panic!("{err}");
    }
    serde_json::from_str(&text).expect("checked above")
}
