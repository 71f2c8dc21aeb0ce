//! Package names in `.config/nextest.toml`. A filterset operator that names packages
//! (`package(..)`, `deps(..)`, `rdeps(..)`) and matches none of the workspace's packages is an
//! error for nextest ("operator didn't match any packages"), and nextest reads every profile's
//! filters on every run. So a package that leaves the workspace while the nextest
//! configuration still names it makes every test run fail: the change breaks every test.

use globset::GlobBuilder;

/// One package-naming operator of a filter in the configuration.
#[derive(Debug, PartialEq, Eq)]
pub struct Operator {
    /// 1-based line of the filter string in the file.
    pub line: usize,
    /// As written, e.g. `package(node-api)`.
    pub text: String,
    matcher: Matcher,
}

#[derive(Debug, PartialEq, Eq)]
enum Matcher {
    Equal(String),
    Contains(String),
    Glob(String),
    /// A regular expression: not evaluated here, so taken to match any name.
    Regex,
}

impl Operator {
    /// Whether the operator's name matcher matches `name` (nextest's default for these
    /// operators is a glob; `=` equal, `~` contains, `#` glob, `/../` regex).
    pub fn matches(&self, name: &str) -> bool {
        match &self.matcher {
            Matcher::Equal(want) => name == want,
            Matcher::Contains(part) => name.contains(part.as_str()),
            Matcher::Glob(pattern) => GlobBuilder::new(pattern)
                .literal_separator(false)
                .build()
                .map(|glob| glob.compile_matcher().is_match(name))
                .unwrap_or(true),
            Matcher::Regex => true,
        }
    }

    /// Whether nextest rejects this operator once the workspace's packages are `members`:
    /// it matched a package that left (`gone`) and matches no package that stays.
    pub fn breaks_without<'a>(
        &self,
        gone: impl IntoIterator<Item = &'a str>,
        members: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        gone.into_iter().any(|name| self.matches(name))
            && (matches!(self.matcher, Matcher::Regex)
                || !members.into_iter().any(|name| self.matches(name)))
    }
}

/// Every package-naming operator in the filters (`filter`, `default-filter`) of a nextest
/// configuration. Text that is not TOML yields nothing: nextest itself reports that.
pub fn operators(text: &str) -> Vec<Operator> {
    let Ok(document) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut filters = Vec::new();
    collect_filters(&toml::Value::Table(document), &mut filters);
    let mut found = Vec::new();
    for filter in filters {
        let line = line_of(text, &filter);
        for (text, argument) in package_operators(&filter) {
            found.push(Operator {
                line,
                text,
                matcher: matcher(argument.trim()),
            });
        }
    }
    found.sort_by_key(|operator| operator.line);
    found
}

fn collect_filters(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                match (key.as_str(), value) {
                    ("filter" | "default-filter", toml::Value::String(filter)) => {
                        out.push(filter.clone())
                    }
                    _ => collect_filters(value, out),
                }
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|item| collect_filters(item, out)),
        _ => {}
    }
}

/// The line where `filter` is written (the first line holding it; 1 when not found as is,
/// e.g. written with escapes).
fn line_of(text: &str, filter: &str) -> usize {
    text.lines()
        .position(|line| line.contains(filter))
        .map_or(1, |index| index + 1)
}

/// `(operator as written, its argument)` for each `package(..)`, `deps(..)` and `rdeps(..)`.
fn package_operators(filter: &str) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    let bytes = filter.as_bytes();
    let mut start = 0;
    while let Some(offset) = filter[start..].find('(') {
        let open = start + offset;
        let name_start = filter[..open]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &filter[name_start..open];
        start = open + 1;
        if !matches!(name, "package" | "deps" | "rdeps") {
            continue;
        }
        // The argument ends at the first `)` outside a `/regex/`.
        let mut in_regex = false;
        let mut end = None;
        for (i, &byte) in bytes.iter().enumerate().skip(open + 1) {
            match byte {
                b'/' if i == open + 1 || in_regex => in_regex = !in_regex,
                b'\\' if in_regex => {}
                b')' if !in_regex => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            found.push((filter[name_start..=end].to_owned(), &filter[open + 1..end]));
            start = end + 1;
        }
    }
    found
}

fn matcher(argument: &str) -> Matcher {
    if let Some(rest) = argument.strip_prefix('=') {
        Matcher::Equal(rest.to_owned())
    } else if let Some(rest) = argument.strip_prefix('~') {
        Matcher::Contains(rest.to_owned())
    } else if let Some(rest) = argument.strip_prefix('#') {
        Matcher::Glob(rest.to_owned())
    } else if argument.starts_with('/') {
        Matcher::Regex
    } else {
        Matcher::Glob(argument.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[profile.default]
default-filter = "not rdeps(=gated)"

[[profile.ci.overrides]]
filter = "package(node-api) & test(/(^|::)http_/)"
retries = 2

[[profile.ci.overrides]]
filter = "test(/(^|::)slow_/) | package(~node) | deps(#pl*)"
"#;

    #[test]
    fn every_package_operator_is_found_with_its_line() {
        let found = operators(CONFIG);
        let shown: Vec<(usize, &str)> = found.iter().map(|o| (o.line, o.text.as_str())).collect();
        assert_eq!(
            shown,
            [
                (3, "rdeps(=gated)"),
                (6, "package(node-api)"),
                (10, "package(~node)"),
                (10, "deps(#pl*)"),
            ]
        );
        assert!(operators("not toml [").is_empty());
    }

    #[test]
    fn an_operator_breaks_when_it_matched_only_packages_that_left() {
        let found = operators(CONFIG);
        let (gated, node_api, contains_node, glob) = (&found[0], &found[1], &found[2], &found[3]);
        assert!(gated.breaks_without(["gated"], ["node", "plain"]));
        assert!(!gated.breaks_without(["node-api"], ["gated", "node"]));
        assert!(node_api.breaks_without(["node-api"], ["node", "gated"]));
        // `~node` still matches `node`.
        assert!(!contains_node.breaks_without(["node-api"], ["node"]));
        assert!(contains_node.breaks_without(["node-api"], ["gated"]));
        assert!(glob.breaks_without(["plain"], ["gated"]));
        assert!(!glob.breaks_without(["plain"], ["planet"]));
        // A regex is not evaluated: any package leaving may break it.
        let regex = &operators("[[profile.x.overrides]]\nfilter = \"package(/a)b/)\"\n")[0];
        assert_eq!(regex.text, "package(/a)b/)");
        assert!(regex.breaks_without(["zzz"], ["ab"]));
    }
}
