//! `deps-groups.toml`: parsed with spans so every later diagnostic can point into the file.
//!
//! Parsing (`GroupsFile::parse`) rejects what is malformed: TOML errors, unknown keys, a missing
//! or empty exception `reason`, a `may-depend-on` naming no group, a reserved crate claimed by two
//! groups. Membership against the real workspace is the audit's job, not the parser's.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use support::config::{Code, Doc, Table, unknown_name_help};
use support::{Failure, Located};
use toml::Spanned;

/// The parsed file, with the text kept for diagnostics.
#[derive(Debug, Clone)]
pub struct GroupsFile {
    pub path: PathBuf,
    pub text: String,
    pub groups: BTreeMap<String, Group>,
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub description: Option<String>,
    pub members: Vec<Spanned<String>>,
    pub may_depend_on: Vec<Spanned<String>>,
    /// External crates only this group (and groups that may depend on it) may use.
    pub reserved: Vec<Spanned<String>>,
}

/// Lets member `from` reach crate `to` (a member or an external crate) through a named feature.
///
/// An exception never allows a default or no-default build to reach `to`: optional
/// property/enterprise dependencies must stay behind features nobody gets by default.
#[derive(Debug, Clone)]
pub struct Exception {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    /// When set, only this feature of `from` may bring `to` in.
    pub feature: Option<Spanned<String>>,
    pub reason: Spanned<String>,
}

impl Exception {
    /// The span diagnostics about the whole exception point at.
    pub fn span(&self) -> Range<usize> {
        self.from.span()
    }
}

impl GroupsFile {
    /// Reads and parses the file; every problem found is returned (exit 2).
    pub fn load(path: &Path) -> Result<GroupsFile, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Located::file(path, format!("cannot read dependency groups: {e}"))
                .with_code(Code::Unreadable)
                .with_help("create deps-groups.toml at the workspace root (see README)")
        })?;
        GroupsFile::parse(path, text)
    }

    /// Parses, then validates what was read even when part of it was malformed, reporting
    /// every problem at once (only a syntax error stops before validation).
    pub fn parse(path: &Path, text: String) -> Result<GroupsFile, Failure> {
        let (shape, mut problems) = read(path, &text).map_err(Failure::from)?;
        let file = GroupsFile {
            path: path.to_path_buf(),
            text,
            groups: shape.groups,
            exceptions: shape.exceptions,
        };
        problems.extend(file.validate());
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(Failure::located(problems))
        }
    }

    fn validate(&self) -> Vec<Located> {
        let mut problems = Vec::new();
        let known: Vec<&String> = self.groups.keys().collect();
        let mut reserved_by: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, group) in &self.groups {
            for target in &group.may_depend_on {
                if !self.groups.contains_key(target.get_ref()) {
                    problems.push(
                        self.at(
                            target.span(),
                            format!(
                                "group `{name}` may depend on `{}`, which is not a group",
                                target.get_ref()
                            ),
                        )
                        .with_code(Code::UnknownName)
                        .with_help(unknown_name_help(
                            target.get_ref(),
                            &known,
                            "groups",
                        )),
                    );
                } else if target.get_ref() == name {
                    problems.push(
                        self.at(
                            target.span(),
                            format!("group `{name}` lists itself in may-depend-on"),
                        )
                        .with_code(Code::InvalidValue)
                        .with_help(
                            "a group may always depend on its own members; remove the entry",
                        ),
                    );
                }
            }
            for krate in &group.reserved {
                if let Some(owner) = reserved_by.insert(krate.get_ref(), name) {
                    problems.push(
                        self.at(
                            krate.span(),
                            format!(
                                "`{}` is reserved by both `{owner}` and `{name}`",
                                krate.get_ref()
                            ),
                        )
                        .with_code(Code::Duplicate)
                        .with_help("an external crate can be reserved for one group only"),
                    );
                }
            }
        }
        for exception in &self.exceptions {
            if exception.reason.get_ref().trim().is_empty() {
                problems.push(
                    self.at(exception.reason.span(), "an exception needs a reason")
                        .with_code(Code::InvalidValue)
                        .with_help(
                            "say why this dependency is acceptable, so reviewers can judge it",
                        ),
                );
            }
        }
        problems
    }

    /// A diagnostic at `span` of this file.
    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Located {
        Located::at(&self.path, &self.text, span, message)
    }

    /// Where a missing member should be added: the first `[groups.*]` table, else the top.
    pub fn groups_span(&self) -> Range<usize> {
        match self.text.find("[groups.") {
            Some(start) => start..start + self.text[start..].find(']').map_or(1, |end| end + 1),
            None => 0..0,
        }
    }

    /// The group a workspace member is assigned to (the first one, if the file lists it twice).
    pub fn group_of(&self, member: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|(_, g)| g.members.iter().any(|m| m.get_ref() == member))
            .map(|(name, _)| name.as_str())
    }

    /// The members of a group, in file order; `None` if there is no such group.
    pub fn members_of(&self, group: &str) -> Option<Vec<&str>> {
        self.groups
            .get(group)
            .map(|g| g.members.iter().map(|m| m.get_ref().as_str()).collect())
    }

    /// The group an external crate is reserved for, if any.
    pub fn reserved_for(&self, krate: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|(_, g)| g.reserved.iter().any(|r| r.get_ref() == krate))
            .map(|(name, _)| name.as_str())
    }

    /// True when members of `from` may reach crates of group `to`.
    pub fn may_reach(&self, from: &str, to: &str) -> bool {
        from == to
            || self
                .groups
                .get(from)
                .is_some_and(|g| g.may_depend_on.iter().any(|d| d.get_ref() == to))
    }
}

/// What phase one could read: every group and every complete exception.
struct Shape {
    groups: BTreeMap<String, Group>,
    exceptions: Vec<Exception>,
}

/// Phase one: the shape of the file (keys and types), with every problem found in it.
fn read(path: &Path, text: &str) -> Result<(Shape, Vec<Located>), Located> {
    let (mut doc, root) = Doc::parse(path, text)?;
    let mut top = doc.root(&root, "deps-groups.toml");
    let mut groups = BTreeMap::new();
    let example = "[groups.core]\nmembers = [\"crate\"]";
    if let Some(table) = top
        .require(&mut doc, "groups", example)
        .and_then(|v| doc.table(v, "`groups`"))
    {
        for (name, value) in table.entries() {
            let context = format!("group `{}`", name.get_ref());
            if let Some(table) = doc.table(value, &context) {
                groups.insert(name.get_ref().to_string(), read_group(&mut doc, table));
            }
        }
    }
    let mut exceptions = Vec::new();
    if let Some(list) = top.get("exception") {
        for table in doc.table_list(list, "an `[[exception]]` entry") {
            exceptions.extend(read_exception(&mut doc, table));
        }
    }
    top.finish(&mut doc);
    let shape = Shape { groups, exceptions };
    Ok((shape, doc.into_diagnostics()))
}

fn read_group(doc: &mut Doc<'_>, mut table: Table<'_, '_>) -> Group {
    let mut list = |table: &mut Table<'_, '_>, key: &'static str| {
        table
            .get(key)
            .and_then(|v| doc.string_list(v, &format!("`{key}`")))
            .unwrap_or_default()
    };
    let group = Group {
        description: None,
        members: list(&mut table, "members"),
        may_depend_on: list(&mut table, "may-depend-on"),
        reserved: list(&mut table, "reserved"),
    };
    let description = table
        .get("description")
        .and_then(|v| doc.string(v, "`description`"))
        .map(Spanned::into_inner);
    table.finish(doc);
    Group {
        description,
        ..group
    }
}

fn read_exception(doc: &mut Doc<'_>, mut table: Table<'_, '_>) -> Option<Exception> {
    let mut required = |table: &mut Table<'_, '_>, key: &'static str, example: &str| {
        table
            .require(doc, key, example)
            .and_then(|v| doc.string(v, &format!("`{key}`")))
    };
    let from = required(&mut table, "from", "from = \"member\"");
    let to = required(&mut table, "to", "to = \"crate\"");
    let reason = required(
        &mut table,
        "reason",
        "reason = \"why this dependency is acceptable\"",
    );
    let feature = table
        .get("feature")
        .and_then(|v| doc.string(v, "`feature`"));
    table.finish(doc);
    Some(Exception {
        from: from?,
        to: to?,
        feature,
        reason: reason?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<GroupsFile, Failure> {
        GroupsFile::parse(Path::new("deps-groups.toml"), text.into())
    }

    #[test]
    fn members_resolve_to_their_group() {
        let text = "[groups.core]\nmembers = [\"a\", \"b\"]\n[groups.enterprise]\nmembers = [\"c\"]\nmay-depend-on = [\"core\"]\nreserved = [\"ring\"]\n";
        let file = parse(text).unwrap();
        assert_eq!(file.group_of("b"), Some("core"));
        assert_eq!(file.group_of("c"), Some("enterprise"));
        assert_eq!(file.group_of("z"), None);
        assert_eq!(file.members_of("core"), Some(vec!["a", "b"]));
        assert_eq!(file.reserved_for("ring"), Some("enterprise"));
        assert!(file.may_reach("enterprise", "core"));
        assert!(!file.may_reach("core", "enterprise"));
    }

    fn codes(failure: &Failure) -> Vec<String> {
        failure
            .located
            .iter()
            .map(|l| format!("{} {}", l.location(), l.code.map_or("-", |c| c.as_str())))
            .collect()
    }

    #[test]
    fn every_shape_problem_is_reported_with_its_code_and_position() {
        let text = "[groups.core]\nmembrs = [\"a\"]\nreserved = \"ring\"\n\n[[exception]]\nfrom = \"a\"\nreason = \"r\"\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            codes(&err),
            [
                "deps-groups.toml:2:1 config::unknown-key",
                "deps-groups.toml:3:12 config::wrong-type",
                "deps-groups.toml:5:1 config::missing-key",
            ],
            "{err}"
        );
        assert_eq!(
            err.located[0].help.as_deref(),
            Some(
                "did you mean `members`? group `core` takes `members`, `may-depend-on`, \
                 `reserved`, `description`"
            )
        );
    }

    #[test]
    fn shape_and_meaning_problems_are_reported_in_one_run() {
        let text = "[groups.core]\nmembers = 3\nmay-depend-on = [\"nope\"]\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            codes(&err),
            [
                "deps-groups.toml:2:11 config::wrong-type",
                "deps-groups.toml:3:18 config::unknown-name",
            ],
            "{err}"
        );
    }

    #[test]
    fn an_exception_without_a_reason_is_malformed() {
        let text = "[groups.core]\nmembers = [\"a\"]\n\n[[exception]]\nfrom = \"a\"\nto = \"b\"\n";
        let err = parse(text).unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        assert_eq!(codes(&err), ["deps-groups.toml:4:1 config::missing-key"]);

        let blank = "[groups.core]\nmembers = [\"a\"]\n\n[[exception]]\nfrom = \"a\"\nto = \"b\"\nreason = \" \"\n";
        let err = parse(blank).unwrap_err();
        assert_eq!(err.located[0].location(), "deps-groups.toml:7:10", "{err}");
    }

    #[test]
    fn every_structural_problem_is_reported_at_once() {
        let text = "[groups.core]\nmay-depend-on = [\"nope\"]\nreserved = [\"ring\"]\n[groups.enterprise]\nreserved = [\"ring\"]\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            codes(&err),
            [
                "deps-groups.toml:2:18 config::unknown-name",
                "deps-groups.toml:5:13 config::duplicate"
            ],
            "{err}"
        );
    }
}
