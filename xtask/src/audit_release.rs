//! `cargo xtask audit-release`: the whole chain of one release for an auditor, from the source
//! commit to the node it is installed on (README.md, "Provenance"). The judging is
//! `node::audit`; this module gathers the evidence (files, signatures, a node's history) and
//! prints the chain.
//!
//! Exit codes: 0 every link holds; 1 a link is broken (each named); 2 invalid input; 3 the
//! environment failed (a corrupt node store).

use std::path::{Path, PathBuf};

use node::audit::{self, Evidence, Link, StatementEvidence};
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use node::{NodeStore, SignatureVerifier};
use release::ReleaseManifest;
use serde_json::{Value, json};
use support::{Exit, Failure};

use crate::cli::AuditReleaseArgs;

/// The versioned shape of `--format json`.
const SCHEMA: &str = "release-audit/v1";

pub fn run(args: &AuditReleaseArgs) -> Result<Exit, Failure> {
    match (&args.release, &args.node_dir) {
        (Some(release), None) => audit_release(release, args),
        (None, Some(node_dir)) => audit_node(node_dir, args.format.json()),
        // clap's argument group lets exactly one of them through.
        _ => Err(Failure::invalid_input(
            "give exactly one of --release FILE and --node-dir DIR \
             (see `cargo xtask audit-release --help`)",
        )),
    }
}

fn audit_release(path: &Path, args: &AuditReleaseArgs) -> Result<Exit, Failure> {
    let bytes = support::input::read_bounded(path, MAX_MANIFEST_BYTES, "release")?;
    let text = std::str::from_utf8(&bytes).map_err(|err| {
        Failure::invalid_input(format!("{}: not UTF-8 text: {err}", path.display()))
    })?;
    let release = ReleaseManifest::parse(path, text).map_err(Failure::located)?;
    let verifier = match &args.trusted_keys {
        Some(keys) => Some(crate::ingest::load_verifier(keys)?),
        None => None,
    };
    let statement_files = if args.statements.is_empty() {
        next_to(path)
    } else {
        args.statements.clone()
    };
    let mut statements = Vec::new();
    for file in &statement_files {
        let bytes = support::input::read_bounded(file, MAX_SIGNATURE_BYTES, "statement")?;
        statements.push(evidence_of(file, bytes, verifier.as_deref())?);
    }
    let approvals = match (&args.signature, &verifier) {
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
    report(
        &release,
        &path.display().to_string(),
        &links,
        args.format.json(),
    )
}

fn audit_node(dir: &Path, json: bool) -> Result<Exit, Failure> {
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
    let Some(current) = &status.current else {
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
    report(
        &current.manifest,
        &current.manifest_path().display().to_string(),
        &links,
        json,
    )
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
fn evidence_of(
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

fn report(
    release: &ReleaseManifest,
    shown: &str,
    links: &[Link],
    json: bool,
) -> Result<Exit, Failure> {
    let broken: Vec<&Link> = links.iter().filter(|l| !l.ok).collect();
    if json {
        let value = json!({
            "schema": SCHEMA,
            "release": {
                "path": shown,
                "release_seq": release.release_seq,
                "digest": release.digest,
                "fused_model_id": release.fused_model_id,
            },
            "ok": broken.is_empty(),
            "links": links,
        });
        print!("{}", release::canonical::to_pretty_string(&value));
    } else {
        println!(
            "release_seq {} {} ({}) from {}",
            release.release_seq,
            release.digest,
            release.fused_model_id,
            support::text::escape_controls(shown)
        );
        for link in links {
            println!(
                "  {:<6}  {:<14}  {}{}",
                if link.ok { "ok" } else { "BROKEN" },
                link.link,
                link.kind
                    .as_ref()
                    .map(|k| format!("[{k}] "))
                    .unwrap_or_default(),
                support::text::escape_controls(&link.detail)
            );
        }
    }
    if broken.is_empty() {
        if !json {
            println!("chain holds: {} links", links.len());
        }
        return Ok(Exit::Success);
    }
    let named: Vec<String> = broken
        .iter()
        .map(|l| format!("{} ({})", l.link, l.kind.as_deref().unwrap_or("broken")))
        .collect();
    Err(Failure::check_failed(format!(
        "chain broken at: {}",
        named.join(", ")
    )))
}
