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
use serde::Deserialize;
use support::{Failure, Located};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTrustFile {
    version: Spanned<i64>,
    policy: RawPolicy,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, RawKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    min_approvals: Spanned<i64>,
    approver_roles: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawKey {
    public_key: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
}

impl TrustFile {
    /// Reads and validates a trust file of at most [`MAX_TRUST_FILE_BYTES`]; every problem is
    /// reported (exit 2).
    pub fn load(path: &Path) -> Result<TrustFile, Failure> {
        let bytes = support::input::read_bounded(path, MAX_TRUST_FILE_BYTES, "trust file")
            .map_err(|err| err.with_help("pass the path of a governance trust file (TOML)"))?;
        let text = String::from_utf8(bytes)
            .map_err(|err| Located::file(path, format!("trust file is not UTF-8 text: {err}")))?;
        TrustFile::parse(path, &text)
    }

    /// Parses and validates trust file `text`, read from `path` (used in diagnostics).
    pub fn parse(path: &Path, text: &str) -> Result<TrustFile, Failure> {
        let raw: RawTrustFile =
            toml::from_str(text).map_err(|err| Located::from_toml(path, text, &err))?;
        let mut problems = Vec::new();
        let at =
            |span: std::ops::Range<usize>, message: String| Located::at(path, text, span, message);

        if *raw.version.get_ref() != TRUST_FILE_VERSION {
            problems.push(
                at(
                    raw.version.span(),
                    format!("unsupported trust file version {}", raw.version.get_ref()),
                )
                .with_help(format!("this build reads version = {TRUST_FILE_VERSION}")),
            );
        }

        let min_approvals = *raw.policy.min_approvals.get_ref();
        if min_approvals < 1 {
            problems.push(
                at(
                    raw.policy.min_approvals.span(),
                    format!("min-approvals must be at least 1, found {min_approvals}"),
                )
                .with_help("a node that needs no approvals should not require signatures at all"),
            );
        }
        let approver_roles: Vec<String> = raw
            .policy
            .approver_roles
            .get_ref()
            .iter()
            .map(|role| role.get_ref().clone())
            .collect();
        if approver_roles.is_empty() {
            problems.push(
                at(
                    raw.policy.approver_roles.span(),
                    "approver-roles is empty, so no key could ever approve a release".to_owned(),
                )
                .with_help("name the role(s) whose keys may approve, e.g. [\"release-approver\"]"),
            );
        }
        for role in raw.policy.approver_roles.get_ref() {
            if role.get_ref().trim().is_empty() {
                problems.push(at(role.span(), "a role name cannot be empty".to_owned()));
            }
        }

        let mut keys = BTreeMap::new();
        let mut seen_public_keys: BTreeMap<[u8; 32], String> = BTreeMap::new();
        for (keyid, raw_key) in &raw.keys {
            if let Err(why) = check_keyid(keyid.get_ref()) {
                problems.push(at(keyid.span(), why));
            }
            for role in &raw_key.roles {
                if role.get_ref().trim().is_empty() {
                    problems.push(at(role.span(), "a role name cannot be empty".to_owned()));
                }
            }
            let public_key = match parse_public_key(raw_key.public_key.get_ref()) {
                Ok(public_key) => public_key,
                Err(why) => {
                    problems.push(
                        at(
                            raw_key.public_key.span(),
                            format!("public-key of '{}': {why}", keyid.get_ref()),
                        )
                        .with_help("write the 32-byte ed25519 public key as 64 hex digits"),
                    );
                    continue;
                }
            };
            if let Some(first) = seen_public_keys.get(public_key.as_bytes()) {
                problems.push(
                    at(
                        raw_key.public_key.span(),
                        format!(
                            "key '{}' has the same public key as '{first}'",
                            keyid.get_ref()
                        ),
                    )
                    .with_help(
                        "one key under two ids would count twice towards min-approvals; keep one id",
                    ),
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
            min_approvals: usize::try_from(min_approvals).unwrap_or(0),
            approver_roles,
        };
        let approvers: BTreeSet<&str> = keys
            .iter()
            .filter(|(_, key)| policy.is_approver(key))
            .map(|(keyid, _)| keyid.as_str())
            .collect();
        if min_approvals >= 1 && approvers.len() < policy.min_approvals {
            let holders = if approvers.is_empty() {
                "none do".to_owned()
            } else {
                format!(
                    "only {} do ({})",
                    approvers.len(),
                    approvers.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            problems.push(
                at(
                    raw.policy.min_approvals.span(),
                    format!(
                        "min-approvals = {min_approvals} can never be met: it needs {min_approvals} \
                         keys holding an approver role ({}), {holders}",
                        policy.approver_roles.join(", ")
                    ),
                )
                .with_help("add approver keys under [keys.ID] or lower min-approvals"),
            );
        }

        if problems.is_empty() {
            Ok(TrustFile { policy, keys })
        } else {
            Err(Failure::located(problems))
        }
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
    fn unknown_fields_and_syntax_errors_are_located() {
        let problems = messages(
            parse("version = 1\n[policy]\nmin-approvals = 1\napprover-roles = [\"a\"]\nthreshold = 3\n")
                .unwrap_err(),
        );
        assert!(
            problems[0].starts_with("trust.toml:5:1: unknown field `threshold`"),
            "{problems:#?}"
        );
    }
}
