//! The trust file: which public keys a node trusts, their roles, and the approval policy.
//!
//! ```toml
//! version = 1
//!
//! [policy]
//! min-approvals = 2                     # distinct approver keys that must sign a release
//! approver-roles = ["release-approver"] # keys holding one of these roles may approve
//!
//! [keys.alice]
//! public-key = "<64 hex digits: the ed25519 public key>"
//! roles = ["release-approver"]
//!
//! [keys.ci-builder]
//! public-key = "..."
//! roles = ["builder"]                   # signs statements (provenance, test results);
//!                                       # its signature is not an approval
//! ```
//!
//! Loading parses, then validates everything and reports every problem at once, each located
//! at `file:line:col`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use support::Failure;
use support::config::{Code, Doc};
use toml::Spanned;

use crate::encoding::hex_32;

/// The only trust file format version this build reads.
pub const TRUST_FILE_VERSION: i64 = 1;

/// Largest trust file accepted (a key takes about 150 bytes).
pub const MAX_TRUST_FILE_BYTES: u64 = 1 << 20;

/// A validated trust file.
#[derive(Debug, Clone)]
pub struct TrustFile {
    pub policy: ApprovalPolicy,
    /// Key id -> key; the key id is what an envelope signature names.
    pub keys: BTreeMap<String, TrustedKey>,
}

/// A trusted public key and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub public_key: VerifyingKey,
    pub roles: Vec<String>,
}

/// Who may promote a release and how many distinct approvals it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    pub min_approvals: usize,
    pub approver_roles: Vec<String>,
}

/// A `[keys.ID]` table as read.
struct RawKey {
    keyid: Spanned<String>,
    public_key: Option<Spanned<String>>,
    roles: Vec<Spanned<String>>,
}

/// The trust file as read, before its values are checked.
struct RawTrust {
    min_approvals: Option<Spanned<i64>>,
    approver_roles: Option<Spanned<Vec<Spanned<String>>>>,
    keys: Vec<RawKey>,
}

/// Phase one: the shape of the file (keys and types), every problem collected in `doc`.
fn read<'t>(doc: &mut Doc<'t>, root: &Spanned<toml::de::DeTable<'t>>) -> RawTrust {
    let mut top = doc.root(root, "the trust file");
    top.require_version(doc, "trust file", TRUST_FILE_VERSION);
    let (mut min_approvals, mut approver_roles) = (None, None);
    let policy = top.require(doc, "policy", "[policy]");
    if let Some(mut policy) = policy.and_then(|v| doc.table(v, "[policy]")) {
        min_approvals = policy
            .require(doc, "min-approvals", "min-approvals = 2")
            .and_then(|v| doc.integer(v, "`min-approvals`"));
        approver_roles = policy
            .require(
                doc,
                "approver-roles",
                "approver-roles = [\"release-approver\"]",
            )
            .and_then(|v| {
                Some(Spanned::new(
                    v.span(),
                    doc.string_list(v, "`approver-roles`")?,
                ))
            });
        policy.finish(doc);
    }
    let mut keys = Vec::new();
    if let Some(table) = top.get("keys").and_then(|v| doc.table(v, "[keys]")) {
        for (keyid, value) in table.entries() {
            let context = format!("key `{}`", keyid.get_ref());
            let Some(mut key) = doc.table(value, &context) else {
                continue;
            };
            let public_key = key
                .require(doc, "public-key", "public-key = \"<64 hex digits>\"")
                .and_then(|v| doc.string(v, "`public-key`"));
            let roles = key
                .get("roles")
                .and_then(|v| doc.string_list(v, "`roles`"))
                .unwrap_or_default();
            key.finish(doc);
            keys.push(RawKey {
                keyid: Spanned::new(keyid.span(), keyid.get_ref().to_string()),
                public_key,
                roles,
            });
        }
    }
    top.finish(doc);
    RawTrust {
        min_approvals,
        approver_roles,
        keys,
    }
}

impl TrustFile {
    /// Reads and validates a trust file of at most [`MAX_TRUST_FILE_BYTES`]; every problem is
    /// reported (exit 2).
    pub fn load(path: &Path) -> Result<TrustFile, Failure> {
        let bytes = support::input::read_bounded(path, MAX_TRUST_FILE_BYTES, "trust file")
            .map_err(|err| {
                err.with_code(Code::Unreadable)
                    .with_help("pass the path of a governance trust file (TOML)")
            })?;
        let text = String::from_utf8(bytes).map_err(|err| {
            support::Located::file(path, format!("trust file is not UTF-8 text: {err}"))
                .with_code(Code::Unreadable)
        })?;
        TrustFile::parse(path, &text)
    }

    /// Parses and validates trust file `text`, read from `path` (used in diagnostics).
    pub fn parse(path: &Path, text: &str) -> Result<TrustFile, Failure> {
        let (mut doc, root) = Doc::parse(path, text)?;
        let RawTrust {
            min_approvals,
            approver_roles,
            keys: raw_keys,
        } = read(&mut doc, &root);

        if let Some(min) = &min_approvals
            && *min.get_ref() < 1
        {
            doc.error(
                Code::OutOfRange,
                min.span(),
                format!("min-approvals must be at least 1, found {}", min.get_ref()),
                "a node that needs no approvals should not require signatures at all",
            );
        }
        if let Some(roles) = &approver_roles
            && roles.get_ref().is_empty()
        {
            doc.error(
                Code::InvalidValue,
                roles.span(),
                "approver-roles is empty, so no key could ever approve a release",
                "name the role(s) whose keys may approve, e.g. [\"release-approver\"]",
            );
        }
        let all_roles = approver_roles
            .iter()
            .flat_map(|roles| roles.get_ref())
            .chain(raw_keys.iter().flat_map(|key| &key.roles));
        let empty_roles: Vec<_> = all_roles
            .filter(|role| role.get_ref().trim().is_empty())
            .map(Spanned::span)
            .collect();
        for span in empty_roles {
            doc.error(
                Code::InvalidValue,
                span,
                "a role name cannot be empty",
                "write a role such as \"release-approver\", or remove the entry",
            );
        }

        let mut keys = BTreeMap::new();
        let mut seen_public_keys: BTreeMap<[u8; 32], String> = BTreeMap::new();
        for raw_key in &raw_keys {
            let keyid = &raw_key.keyid;
            if let Err(why) = check_keyid(keyid.get_ref()) {
                doc.error(
                    Code::InvalidValue,
                    keyid.span(),
                    why,
                    "key ids use letters, digits and . _ @ + -",
                );
            }
            let Some(hex) = &raw_key.public_key else {
                continue;
            };
            let public_key = match parse_public_key(hex.get_ref()) {
                Ok(public_key) => public_key,
                Err(why) => {
                    doc.error(
                        Code::InvalidValue,
                        hex.span(),
                        format!("public-key of '{}': {why}", keyid.get_ref()),
                        "write the 32-byte ed25519 public key as 64 hex digits",
                    );
                    continue;
                }
            };
            if let Some(first) = seen_public_keys.get(public_key.as_bytes()) {
                doc.error(
                    Code::Duplicate,
                    hex.span(),
                    format!(
                        "key '{}' has the same public key as '{first}'",
                        keyid.get_ref()
                    ),
                    "one key under two ids would count twice towards min-approvals; keep one id",
                );
                continue;
            }
            seen_public_keys.insert(*public_key.as_bytes(), keyid.get_ref().clone());
            keys.insert(
                keyid.get_ref().clone(),
                TrustedKey {
                    public_key,
                    roles: raw_key.roles.iter().map(|r| r.get_ref().clone()).collect(),
                },
            );
        }

        let policy = ApprovalPolicy {
            min_approvals: min_approvals
                .as_ref()
                .and_then(|min| usize::try_from(*min.get_ref()).ok())
                .unwrap_or(0),
            approver_roles: approver_roles
                .iter()
                .flat_map(|roles| roles.get_ref())
                .map(|role| role.get_ref().clone())
                .collect(),
        };
        let approvers: BTreeSet<&str> = keys
            .iter()
            .filter(|(_, key)| policy.is_approver(key))
            .map(|(keyid, _)| keyid.as_str())
            .collect();
        if let Some(min) = &min_approvals
            && policy.min_approvals >= 1
            && approvers.len() < policy.min_approvals
        {
            let holders = if approvers.is_empty() {
                "none do".to_owned()
            } else {
                format!(
                    "only {} do ({})",
                    approvers.len(),
                    approvers.iter().copied().collect::<Vec<_>>().join(", ")
                )
            };
            doc.error(
                Code::Conflict,
                min.span(),
                format!(
                    "min-approvals = {0} can never be met: it needs {0} keys holding an \
                     approver role ({1}), {holders}",
                    min.get_ref(),
                    policy.approver_roles.join(", ")
                ),
                "add approver keys under [keys.ID] or lower min-approvals",
            );
        }
        doc.finish(TrustFile { policy, keys })
            .map_err(Failure::located)
    }
}

/// The role of keys that sign statements (provenance, test results): CI, not people.
pub const BUILDER_ROLE: &str = "builder";

impl TrustedKey {
    /// Whether a signature by this key counts on a statement ([`BUILDER_ROLE`]).
    pub fn is_builder(&self) -> bool {
        self.roles.iter().any(|role| role == BUILDER_ROLE)
    }
}

impl ApprovalPolicy {
    /// Whether a signature by `key` counts as an approval.
    pub fn is_approver(&self, key: &TrustedKey) -> bool {
        key.roles
            .iter()
            .any(|role| self.approver_roles.contains(role))
    }
}

fn check_keyid(keyid: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if keyid.is_empty() {
        return Err("a key id cannot be empty".to_owned());
    }
    match keyid.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!(
            "key id '{keyid}' contains '{c}'; use letters, digits and . _ @ + -"
        )),
        None => Ok(()),
    }
}

fn parse_public_key(hex: &str) -> Result<VerifyingKey, String> {
    let bytes = hex_32(hex.trim())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid ed25519 public key".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SigningKey, public_key_hex};

    fn public_hex(seed: u8) -> String {
        public_key_hex(&SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    fn parse(text: &str) -> Result<TrustFile, Failure> {
        TrustFile::parse(Path::new("trust.toml"), text)
    }

    fn messages(failure: Failure) -> Vec<String> {
        failure.located.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_valid_file_loads_keys_roles_and_policy() {
        let text = format!(
            "version = 1\n[policy]\nmin-approvals = 2\napprover-roles = [\"release-approver\"]\n\
             [keys.alice]\npublic-key = \"{}\"\nroles = [\"release-approver\"]\n\
             [keys.bob]\npublic-key = \"{}\"\nroles = [\"release-approver\", \"builder\"]\n\
             [keys.ci]\npublic-key = \"{}\"\nroles = [\"builder\"]\n",
            public_hex(1),
            public_hex(2),
            public_hex(3)
        );
        let trust = parse(&text).unwrap();
        assert_eq!(trust.policy.min_approvals, 2);
        assert_eq!(trust.keys.len(), 3);
        assert!(trust.policy.is_approver(&trust.keys["bob"]));
        assert!(!trust.policy.is_approver(&trust.keys["ci"]));
    }

    #[test]
    fn every_problem_is_reported_with_its_location() {
        let text = format!(
            "version = 2\n[policy]\nmin-approvals = 0\napprover-roles = []\n\
             [keys.alice]\npublic-key = \"nothex\"\n\
             [keys.\"bad id\"]\npublic-key = \"{}\"\n\
             [keys.bob]\npublic-key = \"{}\"\n",
            public_hex(1),
            public_hex(1)
        );
        let problems = messages(parse(&text).unwrap_err());
        let expected = [
            "trust.toml:1:11: unsupported trust file version 2",
            "trust.toml:3:17: min-approvals must be at least 1",
            "trust.toml:4:18: approver-roles is empty",
            "trust.toml:6:14: public-key of 'alice': expected 64 hex digits",
            "contains ' '",
            "trust.toml:10:14: key 'bob' has the same public key as 'bad id'",
        ];
        for fragment in expected {
            assert!(
                problems.iter().any(|p| p.contains(fragment)),
                "no problem mentions {fragment:?} in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }

    #[test]
    fn a_threshold_no_set_of_keys_can_meet_is_refused() {
        let text = format!(
            "version = 1\n[policy]\nmin-approvals = 2\napprover-roles = [\"release-approver\"]\n\
             [keys.alice]\npublic-key = \"{}\"\nroles = [\"release-approver\"]\n\
             [keys.ci]\npublic-key = \"{}\"\nroles = [\"builder\"]\n",
            public_hex(1),
            public_hex(3)
        );
        let problems = messages(parse(&text).unwrap_err());
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("trust.toml:3:17: min-approvals = 2 can never be met"));
        assert!(problems[0].contains("only 1 do (alice)"));
    }

    #[test]
    fn unknown_keys_wrong_types_and_missing_keys_are_reported_together() {
        let text = format!(
            "version = 1\n[policy]\nmin-aprovals = 1\napprover-roles = \"a\"\nthreshold = 3\n\
             [keys.alice]\npublic-key = \"{}\"\nroles = [\"a\"]\n",
            public_hex(1)
        );
        let failure = parse(&text).unwrap_err();
        let shown: Vec<String> = failure
            .located
            .iter()
            .map(|p| format!("{} {}", p.location(), p.code.map_or("-", |c| c.as_str())))
            .collect();
        assert_eq!(
            shown,
            [
                "trust.toml:2:1 config::missing-key",
                "trust.toml:3:1 config::unknown-key",
                "trust.toml:4:18 config::wrong-type",
                "trust.toml:5:1 config::unknown-key",
            ],
            "{failure}"
        );
        assert!(
            failure.located[1]
                .help
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean `min-approvals`?")),
            "{failure}"
        );
        let syntax = parse("version = 1\n[policy\n").unwrap_err();
        assert_eq!(syntax.located[0].code, Some(Code::Syntax));
        let dir = tempfile::tempdir().unwrap();
        let missing = TrustFile::load(&dir.path().join("trust.toml")).unwrap_err();
        assert_eq!(missing.located[0].code, Some(Code::Unreadable));
        std::fs::write(dir.path().join("latin1.toml"), b"version = 1 # \xe9\n").unwrap();
        let binary = TrustFile::load(&dir.path().join("latin1.toml")).unwrap_err();
        assert_eq!(binary.located[0].code, Some(Code::Unreadable));
    }
}
