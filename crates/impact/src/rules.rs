//! `[impact]` rules in `lanes.toml`: path globs that map files to packages or test binaries,
//! to nothing, or to all, plus the shipped defaults for common non-inputs. Parsed, then
//! validated, with every problem located in the file the user wrote.
//!
//! Two kinds of rule: one that *decides* (`packages = [..]`, `affects = ..`) replaces what the
//! file's ownership would select, and the first such match wins; one that *adds*
//! (`also = [..]`) selects its targets on top of whatever else the file selects (its owner,
//! includes, a deciding rule), every matching one applies, and it explains nothing on its own.

use std::ops::Range;
use std::path::{Path, PathBuf};

use lanes_config::LanesFile;
use support::Located;
use support::config::{Code, Doc, Table};
use toml::Spanned;

/// What a rule says about the files it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affects {
    Nothing,
    All,
    /// Instead of the owner: these packages (`pkg`) and test binaries (`pkg::name`).
    Packages(Vec<String>),
    /// On top of everything else: these packages and test binaries.
    Also(Vec<String>),
}

impl Affects {
    /// The packages and test binaries the rule names.
    pub fn targets(&self) -> &[String] {
        match self {
            Affects::Packages(names) | Affects::Also(names) => names,
            Affects::Nothing | Affects::All => &[],
        }
    }
}

/// `pkg::name` names a test binary (nextest's id); anything else a package.
pub fn binary_selector(selector: &str) -> Option<(&str, &str)> {
    selector.split_once("::")
}

/// One path rule. `origin` says where it came from, for the why-chain.
#[derive(Debug, Clone)]
pub struct Rule {
    pub globs: Vec<Glob>,
    pub affects: Affects,
    pub reason: Option<String>,
    /// `lanes.toml:12:1`, or `default` for a shipped rule.
    pub origin: String,
    /// Byte span of each named target in lanes.toml, for validation after the graph loads.
    package_spans: Vec<Range<usize>>,
}

/// The rule set: the project's rules first (first match wins), then the shipped defaults.
#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<Rule>,
    /// Where the project's rules came from, to locate package-name errors.
    source: Option<(PathBuf, String)>,
    /// `recording-max-age`: a run-time recording older than this many commits is ignored.
    pub recording_max_age: u32,
    /// `inert-actions`: GitHub actions (`owner/repo`) whose version bumps inside a test job
    /// are no change, in addition to `workflows::DEFAULT_INERT_ACTIONS`.
    pub inert_actions: Vec<String>,
}

/// Shipped defaults: files that are not build or test inputs unless something includes them,
/// and the workspace-level files that set the build environment.
const DEFAULTS: &[(&[&str], &str, &str)] = &[
    // `rust-toolchain(.toml)` and `.cargo/config(.toml)` are no rules: where they apply is a
    // fact (`applies_to_workspace`), not a default a project may turn off.
    (
        &[".config/nextest.toml"],
        "all",
        "nextest configuration applies to every test",
    ),
    // GitHub Actions workflows are judged job by job (`workflows.rs`); other CI systems'
    // files are not understood, so they set the build environment as far as anyone knows.
    (
        &[
            "/.gitlab-ci.yml",
            "/.circleci/**",
            "/.travis.yml",
            "/azure-pipelines.yml",
            "/appveyor.yml",
            "/.appveyor.yml",
            "/.cirrus.yml",
            "/.buildkite/**",
            "/.drone.yml",
            "/.woodpecker.yml",
            "/.woodpecker/**",
            "/bitbucket-pipelines.yml",
            "/Jenkinsfile",
        ],
        "all",
        "CI configuration of a system other than GitHub Actions, which is not read (a rule can narrow it)",
    ),
    (
        &[".github/**"],
        "nothing",
        "repository metadata (templates, funding, code owners)",
    ),
    (
        &["*.md", "*.markdown"],
        "nothing",
        "documentation that nothing includes",
    ),
    (
        &[
            "LICENSE*",
            "LICENCE*",
            "COPYING*",
            "NOTICE*",
            "AUTHORS*",
            "CODEOWNERS",
        ],
        "nothing",
        "legal and ownership files",
    ),
    (
        &[
            ".gitignore",
            ".gitattributes",
            ".mailmap",
            ".editorconfig",
            ".git-blame-ignore-revs",
        ],
        "nothing",
        "version-control and editor settings",
    ),
    (&[".vscode/**", ".idea/**"], "nothing", "editor settings"),
];

impl Rules {
    /// Only the shipped defaults.
    pub fn defaults() -> Rules {
        Rules {
            rules: default_rules(),
            source: None,
            recording_max_age: crate::recording::DEFAULT_MAX_AGE,
            inert_actions: Vec::new(),
        }
    }

    /// Reads `lanes.toml` text as [`LanesFile`] (the one type for the file, so a problem in its
    /// lanes is reported here too), then its `[impact]` section, validating every rule and
    /// collecting every problem.
    pub fn parse(path: &Path, text: &str) -> Result<Rules, Vec<Located>> {
        let file = LanesFile::parse(path, text.to_owned()).map_err(|failure| failure.located)?;
        let (mut doc, root) = Doc::parse(path, &file.text).map_err(|located| vec![located])?;
        let Some(section) = root.get_ref().get("impact") else {
            return Ok(Rules::defaults());
        };
        let Some(mut section) = doc.table(section, "`[impact]`") else {
            return Err(doc.into_diagnostics());
        };
        let mut recording_max_age = crate::recording::DEFAULT_MAX_AGE;
        if let Some(value) = section.get("recording-max-age") {
            let what = "`recording-max-age`";
            if let Some(age) = doc.integer_in(value, what, 0..=i64::MAX) {
                // An age beyond any history is "any age".
                recording_max_age = u32::try_from(*age.get_ref()).unwrap_or(u32::MAX);
            }
        }
        let defaults = section
            .get("defaults")
            .and_then(|v| doc.bool(v, "`defaults`"))
            .unwrap_or(true);
        let mut inert_actions = Vec::new();
        let actions = section
            .get("inert-actions")
            .and_then(|v| doc.string_list(v, "`inert-actions`"));
        for action in actions.unwrap_or_default() {
            let name = action.get_ref();
            let parts: Vec<&str> = name.split('/').collect();
            if name.contains('@') || parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
                doc.error(
                    Code::InvalidValue,
                    action.span(),
                    format!("`{name}` is not an action name"),
                    "name a GitHub action as `owner/repo` (or `owner/repo/path`), without `@version`, e.g. \"my-org/setup-cache\"",
                );
            } else {
                inert_actions.push(name.clone());
            }
        }
        let mut rules = Vec::new();
        if let Some(list) = section.get("rules") {
            for table in doc.table_list(list, "an `[[impact.rules]]` entry") {
                rules.extend(read_rule(&mut doc, table));
            }
        }
        section.finish(&mut doc);
        let mut rules = doc.finish(rules)?;
        if defaults {
            rules.extend(default_rules());
        }
        Ok(Rules {
            rules,
            source: Some((path.to_owned(), text.to_owned())),
            recording_max_age,
            inert_actions,
        })
    }

    /// Checks that every package or test binary a rule names exists, reporting all unknown
    /// names at once.
    pub fn validate_packages(&self, known: &dyn Fn(&str) -> bool) -> Result<(), Vec<Located>> {
        let Some((path, text)) = &self.source else {
            return Ok(());
        };
        let mut problems = Vec::new();
        for rule in &self.rules {
            for (name, span) in rule.affects.targets().iter().zip(&rule.package_spans) {
                if known(name) {
                    continue;
                }
                let (what, help) = match binary_selector(name) {
                    Some(_) => (
                        "test binary",
                        "name a test binary as nextest does (`crate::test` for tests/test.rs; `cargo nextest list` shows them)",
                    ),
                    None => (
                        "package",
                        "name a member of the analysed workspace (see `cargo metadata --no-deps`)",
                    ),
                };
                problems.push(
                    Located::at(
                        path,
                        text,
                        span.clone(),
                        format!("no workspace {what} is named `{name}`"),
                    )
                    .with_code(Code::UnknownName)
                    .with_help(help),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The first deciding rule (not `also`) matching a workspace-relative path.
    pub fn matching(&self, path: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|rule| !matches!(rule.affects, Affects::Also(_)))
            .find(|rule| rule.matches(path))
    }

    /// Every adding rule (`also`) matching a workspace-relative path, in file order.
    pub fn additions<'r>(&'r self, path: &'r str) -> impl Iterator<Item = &'r Rule> + 'r {
        self.rules
            .iter()
            .filter(|rule| matches!(rule.affects, Affects::Also(_)))
            .filter(move |rule| rule.matches(path))
    }
}

/// One `{ paths = [..], packages | also | affects = .., reason = ".." }` rule.
fn read_rule(doc: &mut Doc<'_>, mut table: Table<'_, '_>) -> Option<Rule> {
    let span = table.span();
    let (line, col) = support::diag::line_col(doc.text(), span.start);
    let origin = format!("{}:{line}:{col}", doc.path().display());
    let paths = table.require(doc, "paths", "paths = [\"docs/**\"]");
    let paths = paths.and_then(|v| Some((v.span(), doc.string_list(v, "`paths`")?)));
    let mut globs = Vec::new();
    if let Some((paths_span, patterns)) = &paths {
        if patterns.is_empty() {
            doc.error(
                Code::InvalidValue,
                paths_span.clone(),
                "`paths` is empty: this rule matches nothing",
                "list at least one glob, e.g. paths = [\"docs/**\"]",
            );
        }
        for pattern in patterns {
            match Glob::new(pattern.get_ref()) {
                Ok(glob) => globs.push(glob),
                Err(why) => doc.error(
                    Code::InvalidValue,
                    pattern.span(),
                    format!("invalid glob `{}`: {why}", pattern.get_ref()),
                    "globs use `*` within a path segment, `**` across segments, `?` for one character, `[ab]` for one of a set, `{a,b}` for alternatives",
                ),
            }
        }
    }
    let mut targets = |key: &'static str, table: &mut Table<'_, '_>| {
        let value = table.get(key)?;
        let names = doc.string_list(value, &format!("`{key}`"))?;
        if names.is_empty() {
            doc.error(
                Code::InvalidValue,
                value.span(),
                format!("`{key}` is empty"),
                "name packages (`\"crate\"`) or test binaries (`\"crate::test\"`), or use `affects = \"nothing\"`",
            );
        }
        Some(names)
    };
    let packages = targets("packages", &mut table);
    let also = targets("also", &mut table);
    let affects = table
        .get("affects")
        .and_then(|v| doc.string(v, "`affects`"));
    let reason = table
        .get("reason")
        .and_then(|v| doc.string(v, "`reason`"))
        .map(Spanned::into_inner);
    let whole_rule = table.span();
    table.finish(doc);
    let spans = |names: &[Spanned<String>]| names.iter().map(Spanned::span).collect();
    let strings = |names: &[Spanned<String>]| names.iter().map(|n| n.get_ref().clone()).collect();
    let (affects, package_spans) = match (packages, also, affects) {
        (Some(names), None, None) => (Affects::Packages(strings(&names)), spans(&names)),
        (None, Some(names), None) => (Affects::Also(strings(&names)), spans(&names)),
        (None, None, Some(word)) => {
            match word.get_ref().as_str() {
                "nothing" => (Affects::Nothing, Vec::new()),
                "all" => (Affects::All, Vec::new()),
                other => {
                    doc.error(
                    Code::InvalidValue,
                    word.span(),
                    format!("`affects = \"{other}\"` is not understood"),
                    format!("use \"nothing\" or \"all\", or `packages = [\"{other}\"]` to name packages"),
                );
                    return None;
                }
            }
        }
        _ => {
            doc.error(
                Code::Conflict,
                whole_rule,
                "a rule needs exactly one of `packages`, `also` and `affects`",
                "`packages = [\"name\"]` selects these instead of the file's owner, `also = [\"name\"]` selects them as well, `affects = \"nothing\"` or `\"all\"` decides outright",
            );
            return None;
        }
    };
    Some(Rule {
        globs,
        affects,
        reason,
        origin,
        package_spans,
    })
}

impl Rule {
    pub fn matches(&self, path: &str) -> bool {
        self.globs.iter().any(|g| g.matches(path))
    }

    /// The first of the rule's globs that matches `path`.
    pub fn glob_for(&self, path: &str) -> &str {
        self.globs
            .iter()
            .find(|g| g.matches(path))
            .map_or("", Glob::as_str)
    }
}

impl Rule {
    /// A shipped default rather than one of the project's rules.
    pub fn is_default(&self) -> bool {
        self.origin == DEFAULT_ORIGIN
    }
}

const DEFAULT_ORIGIN: &str = "default rule";

/// For a toolchain or cargo configuration file at the workspace root or in a directory above
/// it (a workspace-relative path made only of `..` segments and the file), why it applies to
/// every build of the workspace. `None` for any other path, nested ones included: rustup and
/// cargo read these files only from the directory a command runs in and its parents.
pub fn applies_to_workspace(path: &str) -> Option<&'static str> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", path),
    };
    let (dir, reason) = match name {
        "rust-toolchain" | "rust-toolchain.toml" => {
            (dir, "the toolchain file selects the compiler")
        }
        "config" | "config.toml" => match dir.strip_suffix(".cargo") {
            Some(parent) if parent.is_empty() || parent.ends_with('/') => (
                parent.trim_end_matches('/'),
                "cargo configuration sets flags for every build",
            ),
            _ => return None,
        },
        _ => return None,
    };
    (dir.is_empty() || dir.split('/').all(|segment| segment == "..")).then_some(reason)
}

fn default_rules() -> Vec<Rule> {
    DEFAULTS
        .iter()
        .map(|(patterns, affects, reason)| Rule {
            globs: patterns
                .iter()
                .map(|p| Glob::new(p).expect("shipped globs are valid"))
                .collect(),
            affects: if *affects == "all" {
                Affects::All
            } else {
                Affects::Nothing
            },
            reason: Some((*reason).to_owned()),
            origin: DEFAULT_ORIGIN.to_owned(),
            package_spans: Vec::new(),
        })
        .collect()
}

/// A path glob. A pattern without `/` matches a file name in any directory (like
/// `.gitignore`); one with `/` is anchored at the workspace root. `*` and `?` stay within one
/// segment, `**` spans any number of segments, `[ab]` is one of a set and `{a,b}` one of
/// several alternatives; a trailing `/**` (or just `/`) matches everything below. Matching is
/// globset's.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    matcher: globset::GlobMatcher,
    basename_only: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("the pattern is empty".into());
        }
        if pattern.contains('\\') {
            return Err("use `/` as the path separator".into());
        }
        // `dir/` means everything below `dir`, as in `.gitignore`.
        let expanded = match pattern.strip_suffix('/') {
            Some(dir) if !dir.is_empty() => format!("{dir}/**"),
            _ => pattern.to_owned(),
        };
        let trimmed = expanded.strip_prefix('/').unwrap_or(&expanded);
        if trimmed.split('/').any(str::is_empty) {
            return Err("empty path segment (`//` or trailing `/`)".into());
        }
        if trimmed.split('/').any(|s| s.contains("**") && s != "**") {
            return Err("`**` must be a whole path segment, as in `docs/**`".into());
        }
        let matcher = globset::GlobBuilder::new(trimmed)
            .literal_separator(true)
            .backslash_escape(false)
            .build()
            .map_err(|e| e.kind().to_string())?
            .compile_matcher();
        Ok(Glob {
            pattern: pattern.to_owned(),
            basename_only: !pattern.contains('/'),
            matcher,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    pub fn matches(&self, path: &str) -> bool {
        if self.basename_only {
            let name = path.rsplit('/').next().unwrap_or(path);
            return self.matcher.is_match(name);
        }
        self.matcher.is_match(path)
    }
}
