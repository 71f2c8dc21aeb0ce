//! `deps-groups.toml`: parsed with spans so every later diagnostic can point into the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use support::Located;
use toml::Spanned;

/// The parsed file, with the text kept for diagnostics.
#[derive(Debug, Clone)]
pub struct GroupsFile {
    pub path: PathBuf,
    pub text: String,
    pub groups: BTreeMap<String, Group>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Group {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub members: Vec<Spanned<String>>,
    #[serde(default)]
    pub may_depend_on: Vec<Spanned<String>>,
    /// External crates only this group may use.
    #[serde(default)]
    pub reserved: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    groups: BTreeMap<String, Group>,
}

impl GroupsFile {
    pub fn load(path: &Path) -> Result<GroupsFile, Located> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Located::file(path, format!("cannot read dependency groups: {e}"))
                .with_help("create deps-groups.toml at the workspace root (see README)")
        })?;
        GroupsFile::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<GroupsFile, Located> {
        let raw: RawFile =
            toml::from_str(&text).map_err(|e| Located::from_toml(path, &text, &e))?;
        Ok(GroupsFile {
            path: path.to_path_buf(),
            text,
            groups: raw.groups,
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_resolve_to_their_group() {
        let text = "[groups.core]\nmembers = [\"a\", \"b\"]\n[groups.enterprise]\nmembers = [\"c\"]\nmay-depend-on = [\"core\"]\n";
        let file = GroupsFile::parse(Path::new("deps-groups.toml"), text.into()).unwrap();
        assert_eq!(file.group_of("b"), Some("core"));
        assert_eq!(file.group_of("c"), Some("enterprise"));
        assert_eq!(file.group_of("z"), None);
        assert_eq!(file.members_of("core"), Some(vec!["a", "b"]));
    }

    #[test]
    fn unknown_keys_point_into_the_file() {
        let text = "[groups.core]\nmembrs = [\"a\"]\n";
        let err = GroupsFile::parse(Path::new("deps-groups.toml"), text.into()).unwrap_err();
        assert!(err.location().starts_with("deps-groups.toml:2:"), "{err}");
    }
}
