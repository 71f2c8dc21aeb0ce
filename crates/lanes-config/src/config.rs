//! `lanes.toml` as one type, [`LanesFile`], for every reader: the lanes (parsed with spans, then
//! resolved against `deps-groups.toml`, the workspace members and `.config/nextest.toml` by
//! [`resolve`]) and `critical`; impact analysis reads the file through it too and turns its
//! `[impact]` table into rules (`impact::rules`). Every problem found is reported at once, each
//! pointing at `file:line:col`.

use std::path::{Path, PathBuf};

use depgroups::GroupsFile;
use support::config::{Code, Doc, Value, unknown_name_help};
use support::{Failure, Located};
use toml::Spanned;
use toml::de::DeValue;

/// Tests whose name (last path segment) starts with `slow_`. A lane with `slow = false` and-s
/// `not` this with its own filter.
pub const SLOW_TESTS: &str = "test(/(^|::)slow_/)";

/// Which cargo features a lane builds with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Features {
    Default,
    All,
    List(Vec<String>),
}

/// One `[lanes.NAME]` table as written.
#[derive(Debug, Clone)]
pub struct Lane {
    pub name: Spanned<String>,
    pub description: Option<String>,
    /// `group:NAME` or a package name.
    pub packages: Vec<Spanned<String>>,
    pub filter: Option<Spanned<String>>,
    pub features: Features,
    pub profile: Option<Spanned<String>>,
    pub slow: bool,
    pub allow_empty: bool,
    /// A release-lane manifest whose exact tests the lane runs.
    pub tests_from: Option<Spanned<String>>,
}

/// The parsed file.
#[derive(Debug, Clone)]
pub struct LanesFile {
    pub path: PathBuf,
    pub text: String,
    /// Crates `cargo xtask preflight` compiles, in order.
    pub critical: Vec<Spanned<String>>,
    pub lanes: Vec<Lane>,
}

impl LanesFile {
    /// Reads and parses the file; shape problems come back with it, so that phase two can
    /// add its own before anything is reported. Only an unreadable file or a syntax error
    /// stops here.
    pub fn load(path: &Path) -> Result<(LanesFile, Vec<Located>), Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::from(
                Located::file(path, format!("cannot read lanes: {e}"))
                    .with_code(Code::Unreadable)
                    .with_help("create lanes.toml at the workspace root (see README, \"Lanes\")"),
            )
        })?;
        LanesFile::parse_collecting(path, text)
    }

    /// Phase one: the shape of the file (keys, types), failing on any problem.
    pub fn parse(path: &Path, text: String) -> Result<LanesFile, Failure> {
        match LanesFile::parse_collecting(path, text)? {
            (file, diagnostics) if diagnostics.is_empty() => Ok(file),
            (_, diagnostics) => Err(Failure::located(diagnostics)),
        }
    }

    /// Phase one, collecting: the file and every shape problem found in it, in file order.
    pub fn parse_collecting(
        path: &Path,
        text: String,
    ) -> Result<(LanesFile, Vec<Located>), Failure> {
        let (mut doc, root) = Doc::parse(path, &text)?;
        let mut top = doc.root(&root, "lanes.toml");
        let critical = top
            .get("critical")
            .and_then(|v| doc.string_list(v, "`critical`"))
            .unwrap_or_default();
        let mut lanes = Vec::new();
        // A file without lanes is a valid shape (impact analysis reads `[impact]` alone);
        // running lanes needs one, which `crate::workspace::load` checks.
        if let Some(table) = top.get("lanes").and_then(|v| doc.table(v, "`[lanes]`")) {
            for (name, value) in table.entries() {
                let name = Spanned::new(name.span(), name.get_ref().to_string());
                if let Some(lane) = parse_lane(&mut doc, name, value) {
                    lanes.push(lane);
                }
            }
        }
        // `[impact]` is impact analysis's to read (`impact::rules`); it is a key of the file.
        top.get("impact");
        top.finish(&mut doc);
        let diagnostics = doc.into_diagnostics();
        let file = LanesFile {
            path: path.to_path_buf(),
            text: text.clone(),
            critical,
            lanes,
        };
        Ok((file, diagnostics))
    }

    /// A diagnostic at `span` of the file, with its code.
    pub fn error_at(
        &self,
        code: Code,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Located {
        Located::at(&self.path, &self.text, span, message).with_code(code)
    }
}

fn parse_lane(doc: &mut Doc<'_>, name: Spanned<String>, value: &Value<'_>) -> Option<Lane> {
    let context = format!("lane `{}`", name.get_ref());
    let mut table = doc.table(value, &context)?;
    let mut lane = Lane {
        name,
        description: None,
        packages: Vec::new(),
        filter: None,
        features: Features::Default,
        profile: None,
        slow: false,
        allow_empty: false,
        tests_from: None,
    };
    if let Some(v) = table.get("description") {
        lane.description = doc.string(v, "`description`").map(Spanned::into_inner);
    }
    if let Some(v) = table.get("packages") {
        lane.packages = doc.string_list(v, "`packages`").unwrap_or_default();
    }
    if let Some(v) = table.get("filter") {
        lane.filter = doc.string(v, "`filter`");
        if let Some(filter) = &lane.filter {
            check_filter_shape(doc, filter);
        }
    }
    if let Some(v) = table.get("features") {
        lane.features = read_features(doc, v);
    }
    if let Some(v) = table.get("profile") {
        lane.profile = doc.string(v, "`profile`");
    }
    if let Some(v) = table.get("slow") {
        lane.slow = doc.bool(v, "`slow`").unwrap_or(false);
    }
    if let Some(v) = table.get("allow-empty") {
        lane.allow_empty = doc.bool(v, "`allow-empty`").unwrap_or(false);
    }
    if let Some(v) = table.get("tests-from") {
        lane.tests_from = read_tests_from(doc, v);
    }
    table.finish(doc);
    Some(lane)
}

/// `features = "all"` or `features = ["crate/feature", ...]`.
fn read_features(doc: &mut Doc<'_>, value: &Value<'_>) -> Features {
    let help = "write features = \"all\" or features = [\"crate/feature\"]";
    match value.get_ref() {
        DeValue::String(s) if s == "all" => Features::All,
        DeValue::Array(_) => {
            let list = doc.string_list(value, "`features`").unwrap_or_default();
            Features::List(list.into_iter().map(Spanned::into_inner).collect())
        }
        DeValue::String(s) => {
            doc.error(
                Code::InvalidValue,
                value.span(),
                format!("`features` must be \"all\" or a list of feature names, found {s:?}"),
                help,
            );
            Features::Default
        }
        other => {
            doc.error(
                Code::WrongType,
                value.span(),
                format!(
                    "`features` must be \"all\" or a list of feature names, found {}",
                    other.type_str()
                ),
                help,
            );
            Features::Default
        }
    }
}

/// A workspace-relative path: a lane reads no manifest outside its workspace.
fn read_tests_from(doc: &mut Doc<'_>, value: &Value<'_>) -> Option<Spanned<String>> {
    let path = doc.string(value, "`tests-from`")?;
    if support::atomic::is_workspace_relative(path.get_ref()) {
        return Some(path);
    }
    doc.error(
        Code::InvalidValue,
        path.span(),
        format!(
            "`tests-from` {:?} is not a path inside the workspace",
            path.get_ref()
        ),
        "write a workspace-relative path with `/` separators, e.g. \"manifests/release-lane.toml\"",
    );
    None
}

/// Catches the filterset mistakes that are cheap to see without nextest: empty text and
/// unbalanced parentheses outside regexes. nextest reports everything else when the lane runs.
fn check_filter_shape(doc: &mut Doc<'_>, filter: &Spanned<String>) {
    let text = filter.get_ref();
    let mut depth = 0i32;
    let mut in_regex = false;
    let mut previous = ' ';
    for c in text.chars() {
        match c {
            '/' if previous != '\\' => in_regex = !in_regex,
            '(' if !in_regex => depth += 1,
            ')' if !in_regex => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
        previous = c;
    }
    if text.trim().is_empty() {
        doc.error(
            Code::InvalidValue,
            filter.span(),
            "`filter` is empty",
            "leave `filter` out to select every test",
        );
    } else if depth != 0 || in_regex {
        doc.error(
            Code::InvalidValue,
            filter.span(),
            "`filter` has unbalanced parentheses or an unterminated /regex/",
            "see https://nexte.st/docs/filtersets/",
        );
    }
}

/// What phase two checks names against.
pub struct Context<'a> {
    pub groups: &'a GroupsFile,
    pub members: &'a [String],
    /// Profiles `.config/nextest.toml` defines (plus nextest's built-in `default`).
    pub profiles: &'a [String],
}

/// A lane resolved to what nextest needs: the one thing every runner of lanes uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneSelection {
    pub name: String,
    pub description: String,
    /// Packages built for the lane (`cargo -p`), deduplicated, in the order written.
    pub packages: Vec<String>,
    pub features: Features,
    pub profile: String,
    pub slow: bool,
    pub allow_empty: bool,
    /// The effective filterset: `(filter) & (package terms) & (exact tests) & not slow`.
    pub filterset: String,
}

impl LaneSelection {
    /// `-p` and feature arguments for `cargo nextest list|run|archive`.
    pub fn build_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.packages.is_empty() {
            args.push("--workspace".to_owned());
        }
        for package in &self.packages {
            args.extend(["--package".to_owned(), package.clone()]);
        }
        match &self.features {
            Features::Default => {}
            Features::All => args.push("--all-features".to_owned()),
            Features::List(list) => args.extend(["--features".to_owned(), list.join(",")]),
        }
        args
    }

    /// The features the lane builds with, in words.
    pub fn features_text(&self) -> String {
        match &self.features {
            Features::Default => "each package's default features".to_owned(),
            Features::All => "all features (--all-features)".to_owned(),
            Features::List(list) => format!("--features {}", list.join(",")),
        }
    }

    /// The lane's filterset and-ed with another one (impact analysis narrows lanes this way).
    pub fn and_filter(&self, extra: &str) -> String {
        compose([Some(self.filterset.clone()), Some(extra.to_owned())])
    }
}

/// Ands filterset terms, each parenthesised so none can swallow another; no terms is `all()`.
pub fn compose(terms: impl IntoIterator<Item = Option<String>>) -> String {
    let terms: Vec<String> = terms
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .collect();
    match terms.len() {
        0 => "all()".to_owned(),
        1 => terms[0].clone(),
        _ => terms
            .iter()
            .map(|t| format!("({t})"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// The exact tests of a `tests-from` manifest: their filterset and the packages holding them.
#[derive(Debug, Clone)]
pub struct ExactTests {
    pub filterset: String,
    pub packages: Vec<String>,
}

/// Phase two: resolves one lane, pushing a diagnostic for every name that does not resolve.
pub fn resolve(
    file: &LanesFile,
    lane: &Lane,
    context: &Context<'_>,
    exact_tests: Option<ExactTests>,
    diagnostics: &mut Vec<Located>,
) -> LaneSelection {
    let mut packages: Vec<String> = Vec::new();
    let add = |name: &str, packages: &mut Vec<String>| {
        if !packages.iter().any(|p| p == name) {
            packages.push(name.to_owned());
        }
    };
    for entry in &lane.packages {
        if let Some(group) = entry.get_ref().strip_prefix("group:") {
            match context.groups.members_of(group) {
                Some(members) => {
                    for member in members {
                        // A group may reserve a name for a crate that does not exist yet.
                        if context.members.iter().any(|m| m == member) {
                            add(member, &mut packages);
                        }
                    }
                }
                None => {
                    let groups: Vec<&String> = context.groups.groups.keys().collect();
                    diagnostics.push(
                        file.error_at(
                            Code::UnknownName,
                            entry.span(),
                            format!("no dependency group `{group}`"),
                        )
                        .with_help(unknown_name_help(
                            group,
                            &groups,
                            "groups in deps-groups.toml",
                        )),
                    )
                }
            }
        } else if context.members.iter().any(|m| m == entry.get_ref()) {
            add(entry.get_ref(), &mut packages);
        } else {
            diagnostics.push(
                file.error_at(
                    Code::UnknownName,
                    entry.span(),
                    format!("`{}` is not a workspace member", entry.get_ref()),
                )
                .with_help(unknown_name_help(
                    entry.get_ref(),
                    context.members,
                    "write `group:NAME` or a workspace member",
                )),
            );
        }
    }
    if lane.packages.is_empty() {
        // A lane of exact tests builds only the packages that hold them.
        // A package that is gone is left out here; `release-lane` names its tests as missing.
        for package in exact_tests.iter().flat_map(|e| &e.packages) {
            if context.members.contains(package) {
                add(package, &mut packages);
            }
        }
    }
    let profile = match &lane.profile {
        Some(profile) => {
            if !context.profiles.iter().any(|p| p == profile.get_ref()) {
                diagnostics.push(
                    file.error_at(
                        Code::UnknownName,
                        profile.span(),
                        format!("no nextest profile `{}`", profile.get_ref()),
                    )
                    .with_help(unknown_name_help(
                        profile.get_ref(),
                        context.profiles,
                        "profiles in .config/nextest.toml",
                    )),
                );
            }
            profile.get_ref().clone()
        }
        None => "default".to_owned(),
    };
    let package_terms = (!packages.is_empty()).then(|| {
        packages
            .iter()
            .map(|p| format!("package(={p})"))
            .collect::<Vec<_>>()
            .join(" | ")
    });
    let filterset = compose([
        lane.filter.as_ref().map(|f| f.get_ref().clone()),
        package_terms,
        exact_tests.map(|e| e.filterset),
        (!lane.slow).then(|| format!("not {SLOW_TESTS}")),
    ]);
    LaneSelection {
        name: lane.name.get_ref().clone(),
        description: lane.description.clone().unwrap_or_default(),
        packages,
        features: lane.features.clone(),
        profile,
        slow: lane.slow,
        allow_empty: lane.allow_empty,
        filterset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LanesFile, Failure> {
        LanesFile::parse(Path::new("lanes.toml"), text.to_owned())
    }

    fn summary(failure: &Failure) -> Vec<String> {
        failure
            .located
            .iter()
            .map(|d| format!("{} {}", d.location(), d.code.map_or("-", Code::as_str)))
            .collect()
    }

    #[test]
    fn every_problem_is_reported_in_file_order_with_its_position_and_code() {
        let failure = parse(
            "critical = [\"a\"]\n[lanes.fast]\nslow = \"no\"\nfilterr = \"x\"\n[lanes.b]\nfeatures = 3\n\
             [lanes.c]\nfeatures = \"some\"\n[lane.d]\n",
        )
        .unwrap_err();
        assert_eq!(
            summary(&failure),
            [
                "lanes.toml:3:8 config::wrong-type",
                "lanes.toml:4:1 config::unknown-key",
                "lanes.toml:6:12 config::wrong-type",
                "lanes.toml:8:12 config::invalid-value",
                "lanes.toml:9:2 config::unknown-key",
            ],
            "{failure}"
        );
        assert_eq!(
            failure.located[1].help.as_deref(),
            Some(
                "did you mean `filter`? lane `fast` takes `description`, `packages`, `filter`, \
                 `features`, `profile`, `slow`, `allow-empty`, `tests-from`"
            )
        );
        assert_eq!(
            failure.located[4].help.as_deref(),
            Some("did you mean `lanes`? lanes.toml takes `critical`, `lanes`, `impact`")
        );
    }

    #[test]
    fn the_impact_table_is_left_to_impact_analysis_and_a_file_of_it_alone_is_valid() {
        let file = parse("[lanes.fast]\n[impact]\nanything = { goes = 1 }\n").unwrap();
        assert_eq!(file.lanes.len(), 1);
        assert!(
            parse("[impact]\ndefaults = false\n")
                .unwrap()
                .lanes
                .is_empty()
        );
    }

    #[test]
    fn compose_parenthesises_every_term() {
        assert_eq!(compose([None, None]), "all()");
        assert_eq!(compose([Some("a | b".into()), None]), "a | b");
        assert_eq!(
            compose([Some("a | b".into()), Some("not c".into())]),
            "(a | b) & (not c)"
        );
    }

    #[test]
    fn unbalanced_filters_are_caught_early() {
        let failure = parse("[lanes.fast]\nfilter = \"test(a\"\n").unwrap_err();
        assert_eq!(summary(&failure), ["lanes.toml:2:10 config::invalid-value"]);
        parse("[lanes.fast]\nfilter = \"test(/(^|::)x/)\"\n").unwrap();
    }

    #[test]
    fn tests_from_stays_inside_the_workspace() {
        for path in ["/etc/passwd", "../..", "manifests/../../x"] {
            let failure = parse(&format!("[lanes.release]\ntests-from = {path:?}\n")).unwrap_err();
            assert_eq!(
                summary(&failure),
                ["lanes.toml:2:14 config::invalid-value"],
                "{failure}"
            );
            assert!(
                failure.located[0]
                    .message
                    .contains("is not a path inside the workspace"),
                "{failure}"
            );
        }
        parse("[lanes.release]\ntests-from = \"manifests/release-lane.toml\"\n").unwrap();
    }
}
