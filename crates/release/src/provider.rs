//! Provider run manifests: the JSON training jobs emit, accepted as the original federation did.
//!
//! `{"provider":"gcp","artifacts":[{"id":"...","role":"embed","metrics":{...},"uri":"gs://..."}]}`
//! Unknown keys are ignored (jobs add their own); what federation reads is validated with
//! `file:line:col` locations. Metrics are checked when an artifact is judged (see [`crate::select`]).
//!
//! An artifact may declare what its training consumed, carried into its release unit and the
//! release's provenance; manifests without it stay valid:
//! `"inputs":{"datasets":[{"uri":"s3://b/d","sha256":"<64 hex>"}],"config_sha256":"<64 hex>",
//! "source_commit":"<40 hex>"}`. Inside `inputs` unknown keys are refused.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use support::Located;

use crate::jsonpos::{Seg, located_at};
use crate::manifest::TrainingInputs;

/// The largest provider run manifest read (16 MiB; about 80,000 artifacts as training jobs
/// write them). Larger files are refused before they are read.
pub const MAX_BYTES: u64 = 16 << 20;

/// A supported provider and the artifact role federation promotes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    Aws,
    Gcp,
    Hf,
}

impl Provider {
    /// Every provider, sorted by name (the order of `providers` in a release).
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Gcp, Provider::Hf];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Hf => "hf",
        }
    }

    /// hf=textgen, gcp=embed, aws=runtime.
    pub fn expected_role(self) -> &'static str {
        match self {
            Provider::Aws => "runtime",
            Provider::Gcp => "embed",
            Provider::Hf => "textgen",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One artifact entry, as written in the run manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Position in the manifest's `artifacts` list (file order decides ties).
    pub index: usize,
    pub id: String,
    pub role: String,
    pub uri: Option<String>,
    /// Verbatim; numeric checks happen when the artifact is judged.
    pub metrics: Map<String, Value>,
    /// The training inputs, when the run manifest declares them (`inputs`).
    pub inputs: Option<TrainingInputs>,
}

impl Artifact {
    /// The id as printed: control characters escaped ([`support::text::escape_controls`]).
    pub fn shown_id(&self) -> std::borrow::Cow<'_, str> {
        support::text::escape_controls(&self.id)
    }

    /// The role as printed, escaped likewise.
    pub fn shown_role(&self) -> std::borrow::Cow<'_, str> {
        support::text::escape_controls(&self.role)
    }
}

/// A validated provider run manifest, with its text kept for locating later diagnostics.
#[derive(Debug, Clone)]
pub struct ProviderManifest {
    pub path: PathBuf,
    pub text: String,
    pub provider: Provider,
    pub artifacts: Vec<Artifact>,
}

impl ProviderManifest {
    pub fn load(path: &Path) -> Result<ProviderManifest, Vec<Located>> {
        let text = support::input::read_text(path, MAX_BYTES, "provider manifest")
            .map_err(|located| vec![located])?;
        ProviderManifest::parse(path, &text)
    }

    /// Parses then validates, reporting every problem with its location.
    pub fn parse(path: &Path, text: &str) -> Result<ProviderManifest, Vec<Located>> {
        let value: Value = support::json::parse(path, text).map_err(|located| {
            let help = located
                .help
                .clone()
                .unwrap_or_else(|| "a provider run manifest is a JSON object".into());
            vec![located.with_help(help)]
        })?;
        let mut problems = Vec::new();
        let here = |segs: &[Seg<'_>], message: String| located_at(path, text, segs, message);
        // Owned from here on: each artifact's metrics are moved out, never copied, so the
        // parsed text is not held twice.
        let mut root = match value {
            Value::Object(root) => root,
            value => {
                return Err(vec![
                    here(
                        &[],
                        format!(
                            "provider manifest must be a JSON object, found {}",
                            kind(&value)
                        ),
                    )
                    .with_help(r#"expected {"provider": "hf"|"gcp"|"aws", "artifacts": [...]}"#),
                ]);
            }
        };
        let provider = match root.get("provider") {
            None => {
                problems.push(here(&[], "missing `provider`".into()).with_help(supported_help()));
                None
            }
            Some(Value::String(name)) => match Provider::from_name(name) {
                Some(p) => Some(p),
                None => {
                    problems.push(
                        here(
                            &[Seg::Key("provider")],
                            format!("unknown provider {name:?}"),
                        )
                        .with_help(supported_help()),
                    );
                    None
                }
            },
            Some(other) => {
                problems.push(
                    here(
                        &[Seg::Key("provider")],
                        format!("`provider` must be a string, found {}", kind(other)),
                    )
                    .with_help(supported_help()),
                );
                None
            }
        };
        let mut artifacts = Vec::new();
        match root.remove("artifacts") {
            None => problems.push(
                here(&[], "missing `artifacts`".into())
                    .with_help("`artifacts` lists at least one artifact"),
            ),
            Some(Value::Array(items)) if items.is_empty() => problems.push(
                here(&[Seg::Key("artifacts")], "`artifacts` is empty".into())
                    .with_help("a run manifest lists at least one artifact"),
            ),
            Some(Value::Array(items)) => {
                for (index, item) in items.into_iter().enumerate() {
                    match artifact(item, index) {
                        Ok(a) => artifacts.push(a),
                        Err((segs, message)) => {
                            let mut full = vec![Seg::Key("artifacts"), Seg::Index(index)];
                            full.extend(segs);
                            problems.push(here(&full, format!("artifacts[{index}]: {message}")));
                        }
                    }
                }
            }
            Some(other) => problems.push(here(
                &[Seg::Key("artifacts")],
                format!("`artifacts` must be a list, found {}", kind(&other)),
            )),
        }
        match provider {
            Some(provider) if problems.is_empty() => Ok(ProviderManifest {
                path: path.to_owned(),
                text: text.to_owned(),
                provider,
                artifacts,
            }),
            _ => Err(problems),
        }
    }

    /// A diagnostic at the value reached by `segs` in this manifest's text.
    pub fn located(&self, segs: &[Seg<'_>], message: impl Into<String>) -> Located {
        located_at(&self.path, &self.text, segs, message)
    }
}

/// Reads one artifact; on failure, the key path (inside the artifact) and the problem.
fn artifact(item: Value, index: usize) -> Result<Artifact, (Vec<Seg<'static>>, String)> {
    let key = |segs: Vec<&'static str>| segs.into_iter().map(Seg::Key).collect::<Vec<_>>();
    let (mut artifact, inputs) = artifact_fields(item, index).map_err(|(s, m)| (key(s), m))?;
    if let Some(inputs) = inputs {
        let id = artifact.id.clone();
        let parsed: TrainingInputs = serde_json::from_value(inputs).map_err(|err| {
            (
                vec![Seg::Key("inputs")],
                format!(
                    "`inputs` {err} (artifact {id:?}); expected {{\"datasets\": [{{\"uri\", \
                     \"sha256\"}}], \"config_sha256\", \"source_commit\"}}"
                ),
            )
        })?;
        parsed.check().map_err(|(segs, message)| {
            let mut full = vec![Seg::Key("inputs")];
            full.extend(segs);
            (full, format!("{message} (artifact {id:?})"))
        })?;
        artifact.inputs = Some(parsed);
    }
    Ok(artifact)
}

/// The artifact without its inputs, and its raw `inputs` value.
#[allow(clippy::type_complexity)]
fn artifact_fields(
    item: Value,
    index: usize,
) -> Result<(Artifact, Option<Value>), (Vec<&'static str>, String)> {
    let Value::Object(mut map) = item else {
        return Err((
            vec![],
            format!("an artifact must be an object, found {}", kind(&item)),
        ));
    };
    let string = |key: &'static str| match map.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err((vec![key], format!("`{key}` is empty"))),
        None => Err((vec![], format!("missing `{key}`"))),
        Some(other) => Err((
            vec![key],
            format!("`{key}` must be a string, found {}", kind(other)),
        )),
    };
    let id = string("id")?;
    let role = string("role").map_err(|(segs, m)| (segs, format!("{m} (artifact {id:?})")))?;
    let uri = match map.get("uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err((
                vec!["uri"],
                format!(
                    "`uri` must be a string or null, found {} (artifact {id:?})",
                    kind(other)
                ),
            ));
        }
    };
    let metrics = match map.remove("metrics") {
        Some(Value::Object(m)) => m,
        None => return Err((vec![], format!("missing `metrics` (artifact {id:?})"))),
        Some(other) => {
            return Err((
                vec!["metrics"],
                format!(
                    "`metrics` must be an object, found {} (artifact {id:?})",
                    kind(&other)
                ),
            ));
        }
    };
    let inputs = map.remove("inputs").filter(|v| !v.is_null());
    Ok((
        Artifact {
            index,
            id,
            role,
            uri,
            metrics,
            inputs: None,
        },
        inputs,
    ))
}

fn supported_help() -> String {
    let names: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
    format!("supported providers: {}", names.join(", "))
}

/// "a string", "a number", ... for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProviderManifest, Vec<String>> {
        ProviderManifest::parse(Path::new("p.json"), text)
            .map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn accepts_the_original_format_and_ignores_extra_keys() {
        let m = parse(r#"{"provider":"gcp","job":"x","artifacts":[{"id":"a","role":"embed","metrics":{"quality":1},"uri":"gs://b/a","extra":1},{"id":"b","role":"embed","metrics":{}}]}"#).unwrap();
        assert_eq!(m.provider, Provider::Gcp);
        assert_eq!(m.artifacts.len(), 2);
        assert_eq!(m.artifacts[0].uri.as_deref(), Some("gs://b/a"));
        assert_eq!(m.artifacts[1].uri, None);
        assert_eq!(m.artifacts[1].index, 1);
    }

    #[test]
    fn training_inputs_are_optional_read_and_located_when_malformed() {
        let hex = "a".repeat(64);
        let m = parse(&format!(
            r#"{{"provider":"hf","artifacts":[{{"id":"a","role":"textgen","metrics":{{}},"inputs":{{"datasets":[{{"uri":"s3://b/d","sha256":"{hex}"}}],"config_sha256":"{hex}","source_commit":"{}"}}}}]}}"#,
            "b".repeat(40)
        ))
        .unwrap();
        let inputs = m.artifacts[0].inputs.as_ref().unwrap();
        assert_eq!(inputs.datasets[0].uri, "s3://b/d");
        assert_eq!(inputs.source_commit.as_deref(), Some(&*"b".repeat(40)));

        let text = format!(
            "{{\"provider\":\"hf\",\"artifacts\":[{{\"id\":\"a\",\"role\":\"textgen\",\"metrics\":{{}},\n\"inputs\":{{\"datasets\":[{{\"uri\":\"s3://b/d\",\n\"sha256\":\"{}\"}}]}}}}]}}",
            "A".repeat(64)
        );
        let problems = parse(&text).unwrap_err();
        assert!(
            problems[0].starts_with("p.json:3:10: artifacts[0]: dataset sha256"),
            "{problems:#?}"
        );
        let problems = parse(r#"{"provider":"hf","artifacts":[{"id":"a","role":"textgen","metrics":{},"inputs":{"dataset":[]}}]}"#).unwrap_err();
        assert!(
            problems[0].contains("unknown field `dataset`"),
            "{problems:#?}"
        );
        let problems = parse(r#"{"provider":"hf","artifacts":[{"id":"a","role":"textgen","metrics":{},"inputs":{"datasets":[{"uri":"/etc/passwd","sha256":"x"}]}}]}"#).unwrap_err();
        assert!(
            problems[0].contains("dataset uri \"/etc/passwd\" is refused"),
            "{problems:#?}"
        );
    }

    #[test]
    fn every_structural_problem_is_reported_with_its_location() {
        let text = "{\n  \"provider\": \"azure\",\n  \"artifacts\": [\n    {\"id\": \"a\", \"role\": 3, \"metrics\": {}},\n    {\"id\": \"b\", \"role\": \"x\", \"metrics\": []}\n  ]\n}";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems[0].starts_with("p.json:2:15: unknown provider \"azure\""),
            "{problems:#?}"
        );
        assert!(
            problems[1].starts_with("p.json:4:25: artifacts[0]: `role` must be a string"),
            "{problems:#?}"
        );
        assert!(
            problems[2].starts_with("p.json:5:41: artifacts[1]: `metrics` must be an object"),
            "{problems:#?}"
        );
    }

    #[test]
    fn empty_artifacts_wrong_root_and_syntax_errors_are_located() {
        let problems = parse("{\"provider\": \"hf\",\n \"artifacts\": []}").unwrap_err();
        assert!(
            problems[0].starts_with("p.json:2:15: `artifacts` is empty"),
            "{problems:#?}"
        );
        let problems = parse("[1]").unwrap_err();
        assert!(
            problems[0].starts_with("p.json:1:1: provider manifest must be a JSON object"),
            "{problems:#?}"
        );
        let problems = parse("{\"provider\": \"hf\",\n \"artifacts\": [}").unwrap_err();
        assert!(problems[0].starts_with("p.json:2:16:"), "{problems:#?}");
        let problems = parse("{\"provider\": true, \"artifacts\": {}}").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
    }
}
