//! Gathering what [`crate::audit`] judges, for `cargo xtask audit-release`: a release file with
//! the statements and approvals next to it (signatures checked by whatever
//! [`SignatureVerifier`] the front end has), or the release a node has installed with what its
//! history line recorded; and the audited chain in words, as JSON (`release-audit/v1`) and as
//! a verdict with its exit code.

use std::path::{Path, PathBuf};

use output_types::Shape;
use output_types::chain::{AuditedRelease, ReleaseAudit};
use release::ReleaseManifest;
use serde_json::Value;
use support::{Exit, Failure};

use crate::audit::{self, Evidence, Link, StatementEvidence};
use crate::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use crate::request::SignatureVerifier;
use crate::store::NodeStore;

/// One release's chain, judged.
pub struct Audited {
    pub release: ReleaseManifest,
    /// Where the release was read from, as shown.
    pub shown: String,
    pub links: Vec<Link>,
}

/// Where the statements and approvals of a release file come from.
pub struct ReleaseFiles<'a> {
    pub release: &'a Path,
    /// Statement files (envelopes or bare statements); empty means the provenance next to
    /// the release, signed first.
    pub statements: &'a [PathBuf],
    /// The approval envelope, if any.
    pub signature: Option<&'a Path>,
}

/// The chain of a release file.
pub fn of_release(
    files: &ReleaseFiles<'_>,
    verifier: Option<&dyn SignatureVerifier>,
) -> Result<Audited, Failure> {
    let path = files.release;
    let bytes = support::input::read_bounded(path, MAX_MANIFEST_BYTES, "release")?;
    let text = std::str::from_utf8(&bytes).map_err(|err| {
        Failure::invalid_input(format!("{}: not UTF-8 text: {err}", path.display()))
    })?;
    let release = ReleaseManifest::parse(path, text).map_err(Failure::located)?;
    let statement_files = if files.statements.is_empty() {
        next_to(path)
    } else {
        files.statements.to_vec()
    };
    let mut statements = Vec::new();
    for file in &statement_files {
        let bytes = support::input::read_bounded(file, MAX_SIGNATURE_BYTES, "statement")?;
        statements.push(statement(file, bytes, verifier)?);
    }
    let approvals = match (files.signature, verifier) {
        (None, _) => None,
        (Some(file), None) => Some(Err(format!(
            "{} not checked: pass --trusted-keys FILE",
            file.display()
        ))),
        (Some(file), Some(verifier)) => {
            let envelope = support::input::read_bounded(file, MAX_SIGNATURE_BYTES, "signature")?;
            Some(verifier.verify(&bytes, &envelope))
        }
    };
    let links = audit::audit(&Evidence {
        release: &release,
        statements,
        approvals,
        installed: None,
    });
    Ok(Audited {
        release,
        shown: path.display().to_string(),
        links,
    })
}

/// The chain of the release installed in the node directory `dir`, with the statements and
/// approvals its history line recorded.
pub fn of_node(dir: &Path) -> Result<Audited, Failure> {
    let store = NodeStore::new(dir);
    if !dir.is_dir() {
        return Err(Failure::invalid_input(format!(
            "{} is not a node directory",
            dir.display()
        )));
    }
    let status = store
        .status()
        .map_err(|err| Failure::new(err.exit(), format!("{}: {err}", dir.display())))?;
    let Some(current) = status.current else {
        return Err(Failure::check_failed(format!(
            "{}: nothing is installed, so there is no chain to audit",
            dir.display()
        )));
    };
    let entry = status
        .history
        .iter()
        .rev()
        .find(|e| e.digest == current.digest)
        .ok_or_else(|| {
            Failure::environment(format!(
                "{}: the current release has no history line",
                dir.display()
            ))
        })?;
    let links = audit::audit(&Evidence {
        release: &current.manifest,
        statements: entry
            .statements
            .iter()
            .cloned()
            .map(StatementEvidence::Recorded)
            .collect(),
        approvals: entry.signed_by.clone().map(Ok),
        installed: Some((dir.display().to_string(), entry)),
    });
    Ok(Audited {
        shown: current.manifest_path().display().to_string(),
        release: current.manifest,
        links,
    })
}

/// The provenance a release carries next to it, signed first.
fn next_to(release: &Path) -> Vec<PathBuf> {
    let unsigned = release::attest::provenance_path(release);
    let signed = unsigned.with_extension("dsse.json");
    [signed, unsigned]
        .into_iter()
        .find(|p| p.is_file())
        .into_iter()
        .collect()
}

/// A statement file: an envelope checked by `verifier`, or a bare statement.
fn statement(
    file: &Path,
    bytes: Vec<u8>,
    verifier: Option<&dyn SignatureVerifier>,
) -> Result<StatementEvidence, Failure> {
    let source = file.display().to_string();
    let text = std::str::from_utf8(&bytes)
        .map_err(|err| Failure::invalid_input(format!("{source}: not UTF-8 text: {err}")))?;
    let value: Value = support::json::parse(file, text)?;
    let is_envelope = value.get("payloadType").is_some();
    Ok(match (is_envelope, verifier) {
        (true, Some(verifier)) => StatementEvidence::Checked {
            source,
            outcome: verifier.verify_statement(&bytes),
        },
        (true, None) => StatementEvidence::Unchecked {
            source,
            why: "its signatures were not checked: pass --trusted-keys FILE (xtask built with \
                  `--features signing`)"
                .into(),
        },
        (false, _) => StatementEvidence::Unverified {
            source,
            payload: bytes,
            why: "a bare statement carries no signature".into(),
        },
    })
}

impl Audited {
    fn broken(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|l| !l.ok)
    }

    /// `release-audit/v1`.
    pub fn shape(&self) -> ReleaseAudit {
        let release = &self.release;
        ReleaseAudit {
            schema: ReleaseAudit::schema(),
            release: AuditedRelease {
                path: self.shown.clone(),
                release_seq: release.release_seq,
                digest: release.digest.clone(),
                fused_model_id: release.fused_model_id.clone(),
            },
            ok: self.broken().next().is_none(),
            links: self.links.clone(),
        }
    }

    /// The release, then one line per link; the closing line when the chain holds.
    pub fn text(&self) -> String {
        let release = &self.release;
        let mut text = format!(
            "release_seq {} {} ({}) from {}\n",
            release.release_seq,
            release.digest,
            release.fused_model_id,
            support::text::escape_controls(&self.shown)
        );
        for link in &self.links {
            text.push_str(&format!(
                "  {:<6}  {:<14}  {}{}\n",
                if link.ok { "ok" } else { "BROKEN" },
                link.link,
                link.kind
                    .as_ref()
                    .map(|k| format!("[{k}] "))
                    .unwrap_or_default(),
                support::text::escape_controls(&link.detail)
            ));
        }
        if self.broken().next().is_none() {
            text.push_str(&format!("chain holds: {} links\n", self.links.len()));
        }
        text
    }

    /// Success when every link holds; otherwise a failed check naming each broken link.
    pub fn verdict(&self) -> Result<Exit, Failure> {
        let named: Vec<String> = self
            .broken()
            .map(|l| format!("{} ({})", l.link, l.kind.as_deref().unwrap_or("broken")))
            .collect();
        if named.is_empty() {
            return Ok(Exit::Success);
        }
        Err(Failure::check_failed(format!(
            "chain broken at: {}",
            named.join(", ")
        )))
    }
}
