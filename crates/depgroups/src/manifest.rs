//! Finding a dependency's line in the `Cargo.toml` the user wrote, so a violation points at it.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::graph::Kind;

/// The span of dependency `key` of `kind` in manifest `text`: in `[dependencies]` (or the build
/// or dev table), in `[target.'cfg(..)'.dependencies]`, or in a `[dependencies.key]` header.
pub fn dependency_span(text: &str, key: &str, kind: Kind) -> Option<Range<usize>> {
    let document = DeTable::parse(text).ok()?;
    let table_names = match kind {
        Kind::Normal => &["dependencies"][..],
        Kind::Build => &["build-dependencies", "build_dependencies"][..],
        Kind::Dev => &["dev-dependencies", "dev_dependencies"][..],
    };
    let find_in = |table: &DeTable<'_>| {
        table
            .iter()
            .filter(|(name, _)| table_names.contains(&name.get_ref().as_ref()))
            .filter_map(|(_, deps)| match deps.get_ref() {
                DeValue::Table(deps) => deps
                    .iter()
                    .find(|(k, _)| k.get_ref() == key)
                    .map(|(k, _)| k.span()),
                _ => None,
            })
            .next()
    };
    if let Some(span) = find_in(document.get_ref()) {
        return Some(span);
    }
    let targets = document
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == "target")?
        .1;
    let DeValue::Table(targets) = targets.get_ref() else {
        return None;
    };
    targets
        .values()
        .find_map(|platform| match platform.get_ref() {
            DeValue::Table(platform) => find_in(platform),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str, span: Range<usize>) -> &str {
        let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        text[start..].lines().next().unwrap()
    }

    #[test]
    fn finds_inline_dotted_and_header_forms() {
        let text = "[package]\nname = \"a\"\n\n[dependencies]\nserde = \"1\"\ngov = { path = \"../gov\", optional = true }\nsupport.workspace = true\n\n[build-dependencies.cc]\nversion = \"1\"\n\n[target.'cfg(unix)'.dev-dependencies]\nring = \"0.17\"\n";
        let span = dependency_span(text, "gov", Kind::Normal).unwrap();
        assert_eq!(&text[span.clone()], "gov");
        assert!(line_of(text, span).starts_with("gov = {"));
        let span = dependency_span(text, "support", Kind::Normal).unwrap();
        assert_eq!(&text[span], "support");
        let span = dependency_span(text, "cc", Kind::Build).unwrap();
        assert_eq!(&text[span], "cc");
        let span = dependency_span(text, "ring", Kind::Dev).unwrap();
        assert_eq!(line_of(text, span), "ring = \"0.17\"");
        assert_eq!(dependency_span(text, "ring", Kind::Normal), None);
    }
}
