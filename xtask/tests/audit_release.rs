//! Attested releases through the real binaries: federate in a git checkout, sign the
//! provenance and the release lane's test result with a builder key and the release with an
//! approver key, install on a node that requires all of it, then audit the chain. Each way a
//! link can break is refused by `ingest` and named by `audit-release`, with the same kind.
#![cfg(feature = "signing")]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use governance::{Envelope, SigningKey, public_key_hex};
use release::attest::{self, InputFile, LaneRun};
use release::{ReleaseManifest, SourceRevision};
use serde_json::{Value, json};

/// 2026-11-24T00:00:00Z.
const EPOCH: u64 = 1_795_478_400;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn run(root: &Path, program: &str, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root)
        .env("XTASK_WORKSPACE_ROOT", root)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE");
    command.output().unwrap()
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    run(root, env!("CARGO_BIN_EXE_xtask"), args)
}

/// A command's JSON output, checked against the schema it names (`schemas/`).
fn json_of(out: &Output) -> Value {
    assert!(
        !out.stdout.is_empty(),
        "no JSON on stdout: {}",
        text(&out.stderr)
    );
    output_types::validate::document(&out.stdout)
}

/// A git checkout with the repository's providers and gates and a kernel naming them; the
/// release, node and signing files are ignored, so the tree stays clean.
fn checkout() -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("manifests/providers")).unwrap();
    for name in ["hf.json", "gcp.json", "aws.json"] {
        fs::copy(
            repo.join("manifests/providers").join(name),
            root.join("manifests/providers").join(name),
        )
        .unwrap();
    }
    fs::copy(
        repo.join("manifests/gates.toml"),
        root.join("manifests/gates.toml"),
    )
    .unwrap();
    fs::write(
        root.join("manifests/kernel.toml"),
        "version = 1\nfiles = [\"manifests/providers/hf.json\", \"manifests/providers/gcp.json\", \
         \"manifests/providers/aws.json\", \"manifests/gates.toml\"]\n",
    )
    .unwrap();
    fs::write(
        root.join(".gitignore"),
        "manifests/releases/\nnode*/\nsigned/\n",
    )
    .unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "training runs"],
    ] {
        let out = run(root, "git", args);
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    }
    fs::create_dir(root.join("signed")).unwrap();
    let trust = format!(
        "version = 1\n[policy]\nmin-approvals = 1\napprover-roles = [\"release-approver\"]\n\
         [keys.alice]\npublic-key = \"{}\"\nroles = [\"release-approver\"]\n\
         [keys.ci]\npublic-key = \"{}\"\nroles = [\"builder\"]\n",
        public_key_hex(&key(1).verifying_key()),
        public_key_hex(&key(4).verifying_key()),
    );
    fs::write(root.join("signed/trust.toml"), trust).unwrap();
    dir
}

/// Signs `statement` as `keyid` into `signed/NAME`; returns the path.
fn sign_statement(root: &Path, name: &str, statement: &[u8], keyid: &str, seed: u8) -> String {
    let path = format!("signed/{name}");
    fs::write(
        root.join(&path),
        Envelope::sign_statement(statement, keyid, &key(seed)).to_json(),
    )
    .unwrap();
    path
}

/// The release lane's statement for `commit` at the checkout's kernel.
fn test_result(root: &Path, commit: &str, failed: &[&str]) -> Vec<u8> {
    let kernel = json_of(&xtask(root, &["kernel", "--format", "json"]));
    attest::test_result_statement(&LaneRun {
        source: SourceRevision {
            commit: commit.to_owned(),
            dirty: false,
        },
        kernel_digest: kernel["digest"].as_str().unwrap().to_owned(),
        configuration: InputFile::of_bytes("manifests/release-lane.toml", b"version = 1\n"),
        passed: vec![
            "release kernel::tests::a".into(),
            "node::ingest install::b".into(),
        ],
        failed: failed.iter().map(|f| f.to_string()).collect(),
    })
    .to_bytes()
}

#[test]
fn an_auditor_sees_the_whole_chain_and_every_broken_link_is_named_with_the_kind_ingest_refuses_with()
 {
    let ws = checkout();
    let root = ws.path();
    let head = text(&run(root, "git", &["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_owned();
    let federated = xtask(root, &["federate"]);
    assert_eq!(
        federated.status.code(),
        Some(0),
        "{}",
        text(&federated.stderr)
    );
    let release_path = "manifests/releases/release-000001.json";
    let release_bytes = fs::read(root.join(release_path)).unwrap();
    let provenance =
        fs::read(root.join("manifests/releases/release-000001.provenance.json")).unwrap();
    // The signed provenance goes next to the release, where the audit finds it.
    fs::write(
        root.join("manifests/releases/release-000001.provenance.dsse.json"),
        Envelope::sign_statement(&provenance, "ci", &key(4)).to_json(),
    )
    .unwrap();
    let passed = sign_statement(
        root,
        "tests.dsse.json",
        &test_result(root, &head, &[]),
        "ci",
        4,
    );
    fs::write(
        root.join("signed/release.dsse.json"),
        Envelope::sign(&release_bytes, "alice", &key(1)).to_json(),
    )
    .unwrap();

    let audit = |release: &str, statements: &[&str]| {
        let mut args = vec![
            "audit-release",
            "--release",
            release,
            "--signature",
            "signed/release.dsse.json",
            "--trusted-keys",
            "signed/trust.toml",
        ];
        for statement in statements {
            args.extend(["--statement", statement]);
        }
        let human = xtask(root, &args);
        args.extend(["--format", "json"]);
        (human, xtask(root, &args))
    };
    let (human, as_json) = audit(
        release_path,
        &[
            "manifests/releases/release-000001.provenance.dsse.json",
            &passed,
        ],
    );
    assert_eq!(
        human.status.code(),
        Some(0),
        "{}{}",
        text(&human.stdout),
        text(&human.stderr)
    );
    let shown = text(&human.stdout);
    for expected in [
        format!("source commit   {head} (clean tree)"),
        "release lane    passed (2 tests)".to_owned(),
        "approved by alice".to_owned(),
        "dataset hf://datasets/spiralverse/instruct-2026-10 sha256:".to_owned(),
        "chain holds".to_owned(),
    ] {
        assert!(shown.contains(&expected), "{expected}\n{shown}");
    }
    let doc = json_of(&as_json);
    assert_eq!(doc["schema"], "release-audit/v1");
    assert_eq!(doc["ok"], true);
    let links: Vec<&str> = doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["link"].as_str().unwrap())
        .collect();
    assert_eq!(
        links,
        [
            "source commit",
            "release lane",
            "kernel digest",
            "provenance",
            "unit aws",
            "unit gcp",
            "unit hf",
            "approvals"
        ]
    );

    // Install on a node that requires all of it, then audit the node.
    let ingest = |release: &str, statements: &[&str]| {
        // The edited release is approved as it is: only its provenance gives it away.
        let signature = if release == "signed/edited.json" {
            "signed/edited.dsse.json"
        } else {
            "signed/release.dsse.json"
        };
        let mut args = vec![
            "ingest",
            "--release",
            release,
            "--node-dir",
            "node",
            "--trusted-keys",
            "signed/trust.toml",
            "--signature",
            signature,
            "--require-signature",
            "--require-provenance",
            "--require-tests",
            "--format",
            "json",
        ];
        for statement in statements {
            args.extend(["--statement", statement]);
        }
        xtask(root, &args)
    };

    // Each broken link: refused by ingest with its kind, named by the audit with the same.
    let mut second = ReleaseManifest::parse(Path::new("r"), &text(&release_bytes)).unwrap();
    second.release_seq = 2;
    second.previous_release = Some(second.digest.clone());
    second.seal();
    let mut edited = ReleaseManifest::parse(Path::new("r"), &text(&release_bytes)).unwrap();
    edited
        .units
        .get_mut("hf")
        .unwrap()
        .inputs
        .as_mut()
        .unwrap()
        .datasets[0]
        .sha256 = "0".repeat(64);
    edited.seal();
    fs::write(root.join("signed/edited.json"), edited.to_bytes()).unwrap();
    fs::write(
        root.join("signed/edited.dsse.json"),
        Envelope::sign(&edited.to_bytes(), "alice", &key(1)).to_json(),
    )
    .unwrap();
    let other_release = sign_statement(
        root,
        "other-release.dsse.json",
        &attest::provenance_statement(
            &second,
            "release-000002.json",
            &attest::FederationInputs {
                providers: Vec::new(),
                gates: None,
                kernel: None,
                carry_forward: false,
                expires_after_days: 90,
            },
        )
        .to_bytes(),
        "ci",
        4,
    );
    let good_provenance = sign_statement(root, "provenance.dsse.json", &provenance, "ci", 4);
    let other_commit = sign_statement(
        root,
        "other-commit.dsse.json",
        &test_result(root, &"f".repeat(40), &[]),
        "ci",
        4,
    );
    let failed = sign_statement(
        root,
        "failed.dsse.json",
        &test_result(root, &head, &["node::ingest install::b"]),
        "ci",
        4,
    );
    let by_approver = sign_statement(root, "by-approver.dsse.json", &provenance, "alice", 1);
    let cases: [(&str, &str, Vec<&str>, &str); 6] = [
        (
            "test-subject-mismatch",
            release_path,
            vec![&good_provenance, &other_commit],
            "release lane",
        ),
        (
            "provenance-subject-mismatch",
            release_path,
            vec![&other_release, &passed],
            "provenance",
        ),
        (
            "tests-failed",
            release_path,
            vec![&good_provenance, &failed],
            "release lane",
        ),
        (
            "statement-not-builder",
            release_path,
            vec![&by_approver, &passed],
            "statement signed/by-approver.dsse.json",
        ),
        (
            "dataset-digest-changed",
            "signed/edited.json",
            vec![&good_provenance, &passed],
            "provenance",
        ),
        (
            "provenance-missing",
            release_path,
            vec![&passed],
            "provenance",
        ),
    ];
    for (kind, release, statements, link) in cases {
        let refused = ingest(release, &statements);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{kind}: {}",
            text(&refused.stderr)
        );
        assert_eq!(
            json_of(&refused)["error"]["kind"],
            kind,
            "{}",
            text(&refused.stderr)
        );
        let (human, as_json) = if release == "signed/edited.json" {
            let args = [
                "audit-release",
                "--release",
                release,
                "--signature",
                "signed/edited.dsse.json",
                "--trusted-keys",
                "signed/trust.toml",
                "--statement",
                statements[0],
                "--statement",
                statements[1],
                "--format",
                "json",
            ];
            (xtask(root, &args[..args.len() - 2]), xtask(root, &args))
        } else {
            audit(release, &statements)
        };
        assert_eq!(
            human.status.code(),
            Some(1),
            "{kind}: {}",
            text(&human.stdout)
        );
        assert!(
            text(&human.stderr).contains(&format!("chain broken at: {link} ({kind})")),
            "{kind}: {}{}",
            text(&human.stdout),
            text(&human.stderr)
        );
        let doc = json_of(&as_json);
        assert_eq!(doc["ok"], false);
        let broken: Vec<&Value> = doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["ok"] == false)
            .collect();
        // A statement no builder signed leaves its link without evidence too.
        let expected = if kind == "statement-not-builder" {
            2
        } else {
            1
        };
        assert_eq!(broken.len(), expected, "{kind}: {broken:?}");
        assert_eq!(broken[0]["kind"], kind);
        assert_eq!(broken[0]["link"], link);
    }

    let installed = ingest(release_path, &[&good_provenance, &passed]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        text(&installed.stderr)
    );
    assert_eq!(
        json_of(&installed)["statements"].as_array().unwrap().len(),
        2
    );
    let node = xtask(
        root,
        &["audit-release", "--node-dir", "node", "--format", "json"],
    );
    assert_eq!(node.status.code(), Some(0), "{}", text(&node.stderr));
    let doc = json_of(&node);
    let installed_link = doc["links"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(installed_link["link"], "installed");
    assert!(
        installed_link["detail"]
            .as_str()
            .unwrap()
            .contains("at 2026-11-24T00:00:00Z"),
        "{installed_link}"
    );
    let lane = doc["links"].as_array().unwrap()[1].clone();
    assert_eq!(
        lane,
        json!({"link": "release lane", "ok": true, "kind": null, "detail": "passed (2 tests), verified at install, signed by builder ci"})
    );
}
