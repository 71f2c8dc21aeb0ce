//! `cargo xtask ingest` and `cargo xtask rollback` end to end: releases made by the real
//! `federate`, installed into a node directory by the real binary, artifacts hashed from disk.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// 2026-11-24T00:00:00Z, and one hour per release after it.
const EPOCH: u64 = 1_795_478_400;

struct Workspace {
    dir: tempfile::TempDir,
    uris: Vec<String>,
}

impl Workspace {
    /// The repository's providers and gates, no releases yet.
    fn new() -> Workspace {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let manifests = dir.path().join("manifests");
        fs::create_dir_all(manifests.join("providers")).unwrap();
        let mut uris = Vec::new();
        for name in ["hf", "gcp", "aws"] {
            let from = repo.join(format!("manifests/providers/{name}.json"));
            fs::copy(&from, manifests.join(format!("providers/{name}.json"))).unwrap();
            let provider: Value = serde_json::from_slice(&fs::read(&from).unwrap()).unwrap();
            for artifact in provider["artifacts"].as_array().unwrap() {
                uris.extend(artifact["uri"].as_str().map(str::to_owned));
            }
        }
        fs::copy(
            repo.join("manifests/gates.toml"),
            manifests.join("gates.toml"),
        )
        .unwrap();
        Workspace { dir, uris }
    }

    /// Puts generation `generation` of every artifact in the artifacts directory.
    fn artifacts(&self, generation: u64) {
        for uri in &self.uris {
            let path = node::artifacts::local_path(&self.root().join("artifacts"), uri).unwrap();
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(
                &path,
                format!("{uri} weights, generation {generation}\n").repeat(5000),
            )
            .unwrap();
        }
    }

    /// Federates release `seq` from artifacts of generation `seq`.
    fn federate(&self, seq: u64) {
        self.artifacts(seq);
        let out = self.xtask(
            EPOCH + seq * 3600,
            &["federate", "--artifacts", "artifacts"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(self.release(seq).exists());
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn release(&self, seq: u64) -> PathBuf {
        self.root()
            .join(format!("manifests/releases/release-{seq:06}.json"))
    }

    fn xtask(&self, epoch: u64, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(self.root())
            .env("XTASK_WORKSPACE_ROOT", self.root())
            .env("SOURCE_DATE_EPOCH", epoch.to_string())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// `ingest --release <seq> --node-dir node --artifacts artifacts [extra]`.
    fn ingest(&self, seq: u64, extra: &[&str]) -> Output {
        let release = self.release(seq);
        let mut args = vec![
            "ingest",
            "--release",
            release.to_str().unwrap(),
            "--node-dir",
            "node",
            "--artifacts",
            "artifacts",
        ];
        args.extend_from_slice(extra);
        self.xtask(EPOCH + 86_400, &args)
    }

    fn manifest(&self, seq: u64) -> Value {
        serde_json::from_slice(&fs::read(self.release(seq)).unwrap()).unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> Value {
    if out.stdout.is_empty() {
        panic!("no JSON on stdout: {}", text(&out.stderr));
    }
    output_types::validate::document(&out.stdout)
}

#[test]
fn ingest_rollback_and_status_end_to_end() {
    let ws = Workspace::new();
    for seq in 1..=3 {
        ws.federate(seq);
        let out = ws.ingest(seq, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(&format!("installed release_seq {seq}")),
            "{}",
            text(&out.stdout)
        );
    }

    // Release 3 is bad: publish the rollback, a new release 4 with release 2's units.
    let out = ws.xtask(EPOCH + 7200 + 60, &["rollback", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = json(&out);
    assert_eq!(summary["schema"], "rollback/v1");
    assert_eq!(summary["release_seq"], 4);
    let rollback = ws.manifest(4);
    assert_eq!(rollback["rollback_of"], ws.manifest(2)["digest"]);
    assert_eq!(rollback["previous_release"], ws.manifest(3)["digest"]);
    assert_eq!(rollback["units"], ws.manifest(2)["units"]);
    // A rollback carries its own provenance: about it, built from releases 2 and 3.
    let provenance: Value = serde_json::from_slice(
        &fs::read(
            ws.root()
                .join("manifests/releases/release-000004.provenance.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        format!(
            "sha256:{}",
            provenance["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        rollback["digest"].as_str().unwrap()
    );
    assert_eq!(
        provenance["predicate"]["buildDefinition"]["resolvedDependencies"][0]["name"],
        "release-000002.json"
    );
    // The chain still verifies with the rollback in it.
    let out = ws.xtask(EPOCH + 7200 + 60, &["federate", "--verify-chain"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The node installs it like any other release, verifying release 2's artifacts.
    ws.artifacts(2);
    let out = ws.ingest(4, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let installed = json(&out);
    assert_eq!(installed["schema"], "node-ingest/v1");
    assert_eq!(installed["outcome"], "installed");
    assert_eq!(installed["action"], "rollback");
    assert!(
        installed["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "verified")
    );

    // Going back by number is refused: exit 1, and the node keeps release 4.
    let out = ws.ingest(2, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("rollback-attack"),
        "{}",
        text(&out.stderr)
    );

    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--status",
            "--node-dir",
            "node",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = json(&out);
    assert_eq!(status["schema"], "node-status/v2");
    assert_eq!(status["current"]["release_seq"], 4);
    let warm: Vec<&Value> = status["warm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["release_seq"])
        .collect();
    assert_eq!(warm, [2, 1]);
    let history = status["history"].as_array().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[3]["action"], "rollback");
    assert_eq!(history[3]["prev"].as_str().unwrap().len(), 71);

    let out = ws.xtask(EPOCH, &["ingest", "--status", "--node-dir", "node"]);
    let human = text(&out.stdout);
    assert!(human.contains("hash chain verified"), "{human}");
    assert!(human.contains("rollback release_seq 4"), "{human}");
}

#[test]
fn refusals_exit_with_their_documented_codes() {
    let ws = Workspace::new();
    ws.federate(1);
    assert_eq!(ws.ingest(1, &[]).status.code(), Some(0));
    ws.federate(2);

    // A changed artifact byte: exit 1, a specific kind, in JSON too.
    let uri = ws.manifest(2)["units"]["hf"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let artifact = node::artifacts::local_path(&ws.root().join("artifacts"), &uri).unwrap();
    let mut bytes = fs::read(&artifact).unwrap();
    bytes[0] ^= 1;
    fs::write(&artifact, &bytes).unwrap();
    let out = ws.ingest(2, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let refused = json(&out);
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["error"]["kind"], "artifact-digest");
    assert!(text(&out.stderr).contains("the installed release is unchanged"));

    // A manifest that does not parse: exit 2, located.
    let broken = ws.root().join("broken.json");
    let manifest = fs::read_to_string(ws.release(2)).unwrap();
    fs::write(
        &broken,
        manifest.replacen("\"release_seq\": 2", "\"release_seq\": \"two\"", 1),
    )
    .unwrap();
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--release",
            broken.to_str().unwrap(),
            "--node-dir",
            "node",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("broken.json:"),
        "{}",
        text(&out.stderr)
    );

    // A signature with nothing to check it against: exit 3, saying what to pass.
    let out = ws.ingest(2, &["--signature", "broken.json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--trusted-keys"),
        "{}",
        text(&out.stderr)
    );

    // Required but absent: exit 1.
    let out = ws.ingest(2, &["--require-signature"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("signature-missing"),
        "{}",
        text(&out.stderr)
    );

    // Through all of it, release 1 stayed installed.
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--status",
            "--node-dir",
            "node",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&out)["current"]["release_seq"], 1);
}

#[test]
fn rollback_needs_a_stable_release_to_return_to() {
    let ws = Workspace::new();
    ws.federate(1);
    let out = ws.xtask(EPOCH, &["rollback"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no stable release before it"),
        "{}",
        text(&out.stderr)
    );
    assert!(!ws.release(2).exists());
}

#[test]
fn a_second_ingest_while_the_node_is_locked_exits_3() {
    let ws = Workspace::new();
    ws.federate(1);
    assert_eq!(ws.ingest(1, &[]).status.code(), Some(0));
    ws.federate(2);
    // This process holds the node's lock, as a running ingest would.
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(ws.root().join("node/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let out = ws.ingest(2, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("another ingest is running"),
        "{}",
        text(&out.stderr)
    );
    lock.unlock().unwrap();
    assert_eq!(ws.ingest(2, &[]).status.code(), Some(0));
}

/// Signed ingest through the front end: two approvals install, one approval is refused.
#[cfg(feature = "signing")]
#[test]
fn signed_release_needs_the_approvals_its_trust_file_demands() {
    use governance::{Envelope, SigningKey, public_key_hex};

    let ws = Workspace::new();
    ws.federate(1);
    let key = |seed: u8| SigningKey::from_bytes(&[seed; 32]);
    let trust = format!(
        "version = 1\n[policy]\nmin-approvals = 2\napprover-roles = [\"release-approver\"]\n\
         [keys.alice]\npublic-key = \"{}\"\nroles = [\"release-approver\"]\n\
         [keys.bob]\npublic-key = \"{}\"\nroles = [\"release-approver\"]\n",
        public_key_hex(&key(1).verifying_key()),
        public_key_hex(&key(2).verifying_key()),
    );
    fs::write(ws.root().join("trust.toml"), trust).unwrap();
    let manifest = fs::read(ws.release(1)).unwrap();
    let mut envelope = Envelope::sign(&manifest, "alice", &key(1));
    fs::write(ws.root().join("one.dsse.json"), envelope.to_json()).unwrap();
    envelope.add_signature("bob", &key(2)).unwrap();
    fs::write(ws.root().join("two.dsse.json"), envelope.to_json()).unwrap();

    let signed = |envelope: &str| {
        ws.ingest(
            1,
            &[
                "--require-signature",
                "--trusted-keys",
                "trust.toml",
                "--signature",
                envelope,
            ],
        )
    };
    let out = signed("one.dsse.json");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 of 2"),
        "{}",
        text(&out.stderr)
    );
    let out = signed("two.dsse.json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Without the `signing` feature a trust file cannot be used, and the error says how to get it.
#[cfg(not(feature = "signing"))]
#[test]
fn trusted_keys_without_the_signing_feature_exits_3_with_the_rebuild_command() {
    let ws = Workspace::new();
    ws.federate(1);
    let out = ws.ingest(1, &["--trusted-keys", "trust.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("--features signing"),
        "{}",
        text(&out.stderr)
    );
}

/// Runs xtask with stdout going to `stdout`, capturing stderr.
fn xtask_to(ws: &Workspace, args: &[&str], stdout: std::process::Stdio) -> (Option<i32>, String) {
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(ws.root())
        .env("XTASK_WORKSPACE_ROOT", ws.root())
        .env("SOURCE_DATE_EPOCH", (EPOCH + 86_400).to_string())
        .env("NO_COLOR", "1")
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A piped stdout is closed at once: the reader went away (`| head -c0`).
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_closed_or_full_stdout_never_panics_and_the_exit_code_follows_the_store() {
    let ws = Workspace::new();
    ws.federate(1);
    let release = ws.release(1);
    let ingest = [
        "ingest",
        "--release",
        release.to_str().unwrap(),
        "--node-dir",
        "node",
        "--artifacts",
        "artifacts",
    ];
    // The install commits, then stdout is full: exit 0 with a warning, release installed.
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (code, stderr) = xtask_to(&ws, &ingest, full.into());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("ingest: warning: writing the report to stdout failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let status = ["ingest", "--status", "--node-dir", "node"];
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--status",
            "--node-dir",
            "node",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&out)["current"]["release_seq"], 1);

    // `--status | head -3`: the reader stops early; the status ends quietly with exit 0.
    let (code, stderr) = xtask_to(&ws, &status, std::process::Stdio::piped());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // Already current, reader gone: still exit 0.
    let (code, stderr) = xtask_to(&ws, &ingest, std::process::Stdio::piped());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_node_inputs_create_nothing_and_say_what_is_wrong() {
    let ws = Workspace::new();
    ws.federate(1);
    // A malformed release: exit 2, and neither the node directory nor its lock appears.
    let broken = ws.root().join("broken.json");
    fs::write(&broken, "{\"schema\": ").unwrap();
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--release",
            broken.to_str().unwrap(),
            "--node-dir",
            "fresh-node",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!ws.root().join("fresh-node").exists());

    // An oversized release is refused before it is read whole.
    let huge = ws.root().join("huge.json");
    fs::write(
        &huge,
        vec![b' '; node::manifest::MAX_MANIFEST_BYTES as usize + 1],
    )
    .unwrap();
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--release",
            huge.to_str().unwrap(),
            "--node-dir",
            "fresh-node",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("over the 4194304-byte limit"),
        "{}",
        text(&out.stderr)
    );
    assert!(!ws.root().join("fresh-node").exists());

    // A node directory that is a file: named as such, for ingest and status alike.
    fs::write(ws.root().join("node-file"), "").unwrap();
    let out = ws.ingest(1, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let release = ws.release(1);
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--release",
            release.to_str().unwrap(),
            "--node-dir",
            "node-file",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("node-file is a file, not a directory"),
        "{}",
        text(&out.stderr)
    );
    let out = ws.xtask(EPOCH, &["ingest", "--status", "--node-dir", "node-file"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("it is a file, not a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_node_policy_outlives_the_flags_that_set_it() {
    let ws = Workspace::new();
    ws.federate(1);
    // The first install, with --require-artifacts, writes the node's policy.
    let out = ws.ingest(1, &["--require-artifacts"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("node policy written: signatures not required, artifacts required"),
        "{}",
        text(&out.stdout)
    );
    // Release 2 without its artifacts and without the flag: still refused.
    ws.federate(2);
    fs::remove_dir_all(ws.root().join("artifacts")).unwrap();
    let out = ws.ingest(2, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("artifact-missing"),
        "{}",
        text(&out.stderr)
    );
    // Relaxing it takes an explicit command.
    let out = ws.xtask(EPOCH, &["ingest", "--set-policy", "--node-dir", "node"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = ws.ingest(2, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = ws.xtask(
        EPOCH,
        &[
            "ingest",
            "--status",
            "--node-dir",
            "node",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        json(&out)["policy"],
        serde_json::json!({"require_signature": false, "require_artifacts": false,
            "require_provenance": false, "require_tests": false})
    );
}
