//! The committed JSON Schemas are what the types generate. A difference fails the test and
//! rewrites the file, so rerunning passes and `git diff` shows the change; on CI (`CI` set)
//! nothing is rewritten. `UPDATE_EXPECT=1` rewrites without failing.

use std::fs;
use std::path::Path;

use output_types::schema;
use output_types::validate::schemas_dir;

/// rust-analyzer's `ensure_file_contents`: fail (and fix the file) when it differs.
fn ensure_file_contents(path: &Path, contents: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    if std::env::var_os("CI").is_none() || update {
        fs::create_dir_all(path.parent().expect("a schema file is in a directory"))
            .and_then(|()| fs::write(path, contents))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if update {
        return Ok(());
    }
    Err(format!(
        "{} was not up to date{}; rerun the test (or set UPDATE_EXPECT=1) and commit the file",
        path.display(),
        if std::env::var_os("CI").is_none() {
            " and has been updated"
        } else {
            ""
        }
    ))
}

#[test]
fn schemas_are_current() {
    let mut stale = Vec::new();
    for (name, value) in schema::all() {
        let text = serde_json::to_string_pretty(&value).expect("a schema serializes") + "\n";
        let path = schemas_dir().join(schema::file_name(name));
        if let Err(err) = ensure_file_contents(&path, &text) {
            stale.push(err);
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn every_committed_schema_is_a_shape() {
    let known: Vec<String> = schema::all()
        .into_iter()
        .map(|(name, _)| schema::file_name(name))
        .collect();
    let unknown: Vec<String> = fs::read_dir(schemas_dir())
        .expect("schemas/ exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !known.contains(name))
        .collect();
    assert!(
        unknown.is_empty(),
        "schemas/ holds files no shape generates (remove them): {unknown:?}"
    );
}

#[test]
fn every_shape_names_itself_and_keys_are_snake_case() {
    for (name, value) in schema::all() {
        let (shape, version) = name.split_once('/').expect("NAME/vN");
        assert!(
            version
                .strip_prefix('v')
                .is_some_and(|n| n.parse::<u32>().is_ok()),
            "{name}: the version is vN"
        );
        assert!(
            shape.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name}: the name is kebab-case"
        );
        assert_eq!(value["properties"]["schema"]["const"], name);
        assert!(
            value["required"]
                .as_array()
                .is_some_and(|r| r.contains(&"schema".into())),
            "{name}: schema is required"
        );
        let mut keys = Vec::new();
        collect_property_names(&value, &mut keys);
        let bad: Vec<&String> = keys
            .iter()
            .filter(|k| {
                !k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        assert!(bad.is_empty(), "{name}: keys not in snake_case: {bad:?}");
    }
}

/// Names of every declared property, at any depth (maps' keys are data, not declared).
fn collect_property_names(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                out.extend(properties.keys().cloned());
            }
            map.values().for_each(|v| collect_property_names(v, out));
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|v| collect_property_names(v, out))
        }
        _ => {}
    }
}

#[test]
fn validation_rejects_output_that_breaks_its_schema() {
    let good = r#"{"schema": "release-chain/v1", "ok": true, "releases": [], "problems": []}"#;
    output_types::validate::check(good).unwrap();
    for (bad, why) in [
        (
            r#"{"schema": "release-chain/v1", "ok": "yes", "releases": [], "problems": []}"#,
            "/ok",
        ),
        (
            r#"{"schema": "release-chain/v1", "ok": true, "releases": [], "problems": [], "extra": 1}"#,
            "extra",
        ),
        (
            r#"{"schema": "release-chain/v1", "ok": true, "releases": []}"#,
            "problems",
        ),
        (r#"{"ok": true}"#, "no top-level \"schema\""),
        (r#"{"schema": "release-chain/v9"}"#, "release-chain.v9.json"),
    ] {
        let err = output_types::validate::check(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}

/// A flattened enum (the outcome of an ingest) is closed as a whole: each variant's keys and
/// no others, `null` where a key has no value rather than left out.
#[test]
fn a_flattened_shape_is_closed_per_variant() {
    let refused = r#"{"schema": "node-ingest/v1", "outcome": "refused",
                      "error": {"kind": "expired", "message": "m"}}"#;
    output_types::validate::check(refused).unwrap();
    let current = r#"{"schema": "node-ingest/v1", "outcome": "already-current",
                      "release_seq": 3, "digest": "sha256:ab"}"#;
    output_types::validate::check(current).unwrap();
    for (bad, why) in [
        (
            refused.replace(r#""outcome""#, r#""extra": 1, "outcome""#),
            "extra",
        ),
        (refused.replace("refused", "installed"), "installed"),
        (
            current.replace(r#""digest": "sha256:ab""#, r#""error": null"#),
            "oneOf",
        ),
    ] {
        let err = output_types::validate::check(&bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}
