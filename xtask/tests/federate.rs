//! `cargo xtask federate` end to end: the real binary against temporary workspaces.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// 2026-11-24T00:00:00Z: the instant the committed example release was produced at.
const EPOCH: &str = "1795478400";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn provider(name: &str) -> Value {
    let text =
        fs::read_to_string(repo_root().join(format!("manifests/providers/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A workspace with the repository's example providers and gates, and no releases yet.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    fs::create_dir_all(manifests.join("providers")).unwrap();
    for name in ["hf", "gcp", "aws"] {
        write_json(
            &manifests.join(format!("providers/{name}.json")),
            &provider(name),
        );
    }
    fs::copy(
        repo_root().join("manifests/gates.toml"),
        manifests.join("gates.toml"),
    )
    .unwrap();
    dir
}

fn write_json(path: &Path, value: &Value) {
    fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn federate(root: &Path, epoch: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("federate")
        .args(args)
        .current_dir(root)
        .env("XTASK_WORKSPACE_ROOT", root)
        .env("SOURCE_DATE_EPOCH", epoch)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Output as text (plain mode prints each diagnostic on one line).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Table rows with runs of spaces collapsed, so assertions do not depend on column widths.
fn rows(bytes: &[u8]) -> Vec<String> {
    text(bytes)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Every entry in `dir`, sorted (temp files included, so leftovers show up).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn release(root: &Path, seq: u64) -> Value {
    let path = root.join(format!("manifests/releases/release-{seq:06}.json"));
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn repository_form_writes_the_next_release_and_chains_it() {
    let ws = workspace();
    let first = federate(ws.path(), EPOCH, &[]);
    assert_exit(&first, 0);
    let stdout = text(&first.stdout);
    assert!(
        stdout.contains("release-000001.json\nspiralverse-ai-federated-v2026.11.24.0000\n"),
        "{stdout}"
    );
    assert!(
        rows(&first.stdout)
            .contains(&"hf spiralverse/textgen-lora-v1 * quality 0.82 >= 0.75 pass".to_owned()),
        "{stdout}"
    );

    let second = federate(ws.path(), "1795482000", &[]);
    assert_exit(&second, 0);
    let (one, two) = (release(ws.path(), 1), release(ws.path(), 2));
    assert_eq!(two["release_seq"], json!(2));
    assert_eq!(two["previous_release"], one["digest"]);
    assert_eq!(
        two["fused_model_id"],
        json!("spiralverse-ai-federated-v2026.11.24.0100")
    );
    assert_eq!(
        listing(&ws.path().join("manifests/releases")),
        [
            ".release.lock",
            "release-000001.json",
            "release-000001.provenance.json",
            "release-000002.json",
            "release-000002.provenance.json"
        ]
    );

    let verify = federate(ws.path(), EPOCH, &["--verify-chain"]);
    assert_exit(&verify, 0);
    assert!(text(&verify.stdout).contains("release chain ok: 2 release(s)"));
}

#[test]
fn same_inputs_and_source_date_epoch_give_byte_identical_releases_and_one_metric_changes_the_digest()
 {
    let (a, b) = (workspace(), workspace());
    assert_exit(&federate(a.path(), EPOCH, &[]), 0);
    assert_exit(&federate(b.path(), EPOCH, &[]), 0);
    for file in [
        "manifests/releases/release-000001.json",
        "manifests/releases/release-000001.provenance.json",
    ] {
        assert_eq!(
            fs::read(a.path().join(file)).unwrap(),
            fs::read(b.path().join(file)).unwrap(),
            "{file}"
        );
    }

    let c = workspace();
    let mut gcp = provider("gcp");
    gcp["artifacts"][0]["metrics"]["latency_ms_p95"] = json!(91);
    write_json(&c.path().join("manifests/providers/gcp.json"), &gcp);
    assert_exit(&federate(c.path(), EPOCH, &[]), 0);
    assert_ne!(
        release(c.path(), 1)["digest"],
        release(a.path(), 1)["digest"]
    );
}

/// The kernel of the example workspace: what gets promoted, and against which gates.
const EXAMPLE_KERNEL: &str = "version = 1\nfiles = [\n  \"manifests/providers/hf.json\",\n  \"manifests/providers/gcp.json\",\n  \"manifests/providers/aws.json\",\n  \"manifests/gates.toml\",\n]\n";

fn git(root: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_AUTHOR_NAME", "Release Engineering")
        .env("GIT_AUTHOR_EMAIL", "release@example.com")
        .env("GIT_AUTHOR_DATE", "2026-11-23T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Release Engineering")
        .env("GIT_COMMITTER_EMAIL", "release@example.com")
        .env("GIT_COMMITTER_DATE", "2026-11-23T00:00:00Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
}

/// The workspace the committed example release is federated in: the repository's providers
/// and gates, a kernel manifest naming them, committed once with fixed dates (so the commit id
/// is the same on every machine).
fn example_workspace() -> tempfile::TempDir {
    let ws = workspace();
    fs::write(ws.path().join("manifests/kernel.toml"), EXAMPLE_KERNEL).unwrap();
    git(
        ws.path(),
        &["init", "-q", "--object-format=sha1", "-b", "main"],
    );
    git(ws.path(), &["add", "manifests"]);
    git(ws.path(), &["commit", "-q", "-m", "example training runs"]);
    ws
}

#[test]
fn committed_example_release_and_its_provenance_are_what_the_command_produces() {
    let ws = example_workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    for name in ["release-000001.json", "release-000001.provenance.json"] {
        let produced = ws.path().join("manifests/releases").join(name);
        let committed = repo_root().join("manifests/releases").join(name);
        if std::env::var_os("BLESS_EXAMPLE_RELEASE").is_some() {
            fs::copy(&produced, &committed).unwrap();
        }
        assert_eq!(
            text(&fs::read(&produced).unwrap()),
            text(&fs::read(&committed).unwrap_or_default()),
            "{} is stale: regenerate it as README.md, section Federation, says",
            committed.display()
        );
    }
    let release = release(ws.path(), 1);
    assert_eq!(release["source"]["dirty"], json!(false));
    assert_eq!(release["source"]["commit"].as_str().unwrap().len(), 40);
}

#[test]
fn a_release_records_the_kernel_digest_and_the_source_commit_or_says_dirty() {
    let ws = example_workspace();
    let kernel = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["kernel", "--format", "json"])
        .env("XTASK_WORKSPACE_ROOT", ws.path())
        .output()
        .unwrap();
    assert_exit(&kernel, 0);
    let kernel: Value = serde_json::from_slice(&kernel.stdout).unwrap();
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(ws.path())
        .output()
        .unwrap();
    let head = text(&head.stdout).trim().to_owned();
    // The release directory is not committed: a tree with an untracked file is dirty.
    fs::write(ws.path().join("notes.txt"), "uncommitted").unwrap();
    let dirty = federate(ws.path(), EPOCH, &[]);
    assert_exit(&dirty, 0);
    assert!(
        text(&dirty.stdout).contains(&format!("source {head} (dirty)")),
        "{}",
        text(&dirty.stdout)
    );
    let first = release(ws.path(), 1);
    assert_eq!(first["kernel_digest"], kernel["digest"]);
    assert_eq!(first["source"], json!({"commit": head, "dirty": true}));

    // A kernel file gone: no release claims a kernel digest that does not exist.
    fs::remove_file(ws.path().join("manifests/gates.toml")).unwrap();
    fs::copy(
        repo_root().join("manifests/gates.toml"),
        ws.path().join("gates.toml"),
    )
    .unwrap();
    let incomplete = federate(ws.path(), "1795482000", &["--gates", "gates.toml"]);
    assert_exit(&incomplete, 1);
    let stderr = text(&incomplete.stderr);
    assert!(
        stderr.contains("kernel file \"manifests/gates.toml\" does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("no release written"), "{stderr}");
    assert!(
        !ws.path()
            .join("manifests/releases/release-000002.json")
            .exists()
    );
}

#[test]
fn gate_failure_exits_1_names_the_gate_and_leaves_the_previous_release_intact() {
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let releases = ws.path().join("manifests/releases");
    let before = fs::read(releases.join("release-000001.json")).unwrap();
    let mut hf = provider("hf");
    hf["artifacts"][0]["metrics"]["safety"] = json!(0.9);
    write_json(&ws.path().join("manifests/providers/hf.json"), &hf);

    let failed = federate(ws.path(), "1795482000", &[]);
    assert_exit(&failed, 1);
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("provider 'hf' has no artifacts passing promotion gates (spiralverse/textgen-lora-v1: safety 0.9 < min_safety 0.95)"),
        "{stderr}"
    );
    assert!(stderr.contains("no release written"), "{stderr}");
    assert!(
        rows(&failed.stdout)
            .contains(&"hf spiralverse/textgen-lora-v1 safety 0.9 >= 0.95 FAIL".to_owned()),
        "{}",
        text(&failed.stdout)
    );
    assert_eq!(
        listing(&releases),
        [
            ".release.lock",
            "release-000001.json",
            "release-000001.provenance.json"
        ]
    );
    assert_eq!(
        fs::read(releases.join("release-000001.json")).unwrap(),
        before
    );
}

#[test]
fn carry_forward_keeps_the_last_promoted_unit_and_says_so() {
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let mut aws = provider("aws");
    aws["artifacts"][0]["metrics"]["cost_per_1k_tokens"] = json!(2);
    write_json(&ws.path().join("manifests/providers/aws.json"), &aws);
    let carried = federate(ws.path(), "1795482000", &["--carry-forward"]);
    assert_exit(&carried, 0);
    assert!(
        text(&carried.stdout).contains("carried forward aws:"),
        "{}",
        text(&carried.stdout)
    );
    let (one, two) = (release(ws.path(), 1), release(ws.path(), 2));
    assert_eq!(two["units"]["aws"]["carried_forward"], json!(true));
    assert_eq!(two["units"]["aws"]["carried_from"], one["digest"]);
    assert_eq!(
        two["units"]["aws"]["verdict"],
        one["units"]["aws"]["verdict"]
    );
    assert_eq!(
        two["units"]["aws"]["metrics"]["cost_per_1k_tokens"],
        json!(0.5)
    );
    assert_eq!(two["units"]["gcp"]["carried_forward"], json!(false));
}

#[test]
fn dry_run_and_json_report_every_gate_and_write_nothing() {
    let ws = workspace();
    let output = federate(ws.path(), EPOCH, &["--dry-run", "--format", "json"]);
    assert_exit(&output, 0);
    let report = output_types::validate::document(&output.stdout);
    assert_eq!(report["schema"], json!("federation-report/v1"));
    assert_eq!(
        (
            report["ok"].clone(),
            report["dry_run"].clone(),
            report["written"].clone()
        ),
        (json!(true), json!(true), Value::Null)
    );
    let hf = &report["providers"][2];
    assert_eq!(hf["provider"], json!("hf"));
    assert_eq!(hf["selected"], json!("spiralverse/textgen-lora-v1"));
    assert_eq!(
        hf["artifacts"][0]["verdict"]["latency_ms_p95"],
        json!({"value": 140, "comparison": "<=", "threshold": 250, "pass": true})
    );
    assert_eq!(report["release"]["release_seq"], json!(1));
    assert!(!ws.path().join("manifests/releases").exists());

    let human = federate(ws.path(), EPOCH, &["--dry-run"]);
    assert_exit(&human, 0);
    assert!(
        text(&human.stdout).contains("dry run: would write"),
        "{}",
        text(&human.stdout)
    );
    assert!(!ws.path().join("manifests/releases").exists());
}

#[test]
fn json_report_of_a_gate_failure_names_the_failure_and_exits_1() {
    let ws = workspace();
    let failed = federate(
        ws.path(),
        EPOCH,
        &["--format", "json", "--min-quality", "0.99"],
    );
    assert_exit(&failed, 1);
    let report = output_types::validate::document(&failed.stdout);
    assert_eq!(report["ok"], json!(false));
    assert_eq!(report["release"], Value::Null);
    assert_eq!(report["gates"]["min_quality"], json!(0.99));
    let failure = report["providers"][0]["failure"].as_str().unwrap();
    assert!(
        failure.contains("quality 0.8 < min_quality 0.99"),
        "{failure}"
    );
    assert!(!ws.path().join("manifests/releases").exists());
}

#[test]
fn original_flags_keep_working() {
    let ws = workspace();
    let p = |name: &str| {
        ws.path()
            .join(format!("manifests/providers/{name}.json"))
            .display()
            .to_string()
    };
    let out = ws.path().join("out/nested/fused.json");
    let (hf, gcp, aws, out_s) = (p("hf"), p("gcp"), p("aws"), out.display().to_string());
    let args = [
        "--hf-manifest",
        &hf,
        "--gcp-manifest",
        &gcp,
        "--aws-manifest",
        &aws,
        "--output",
        &out_s,
    ];
    let output = federate(ws.path(), EPOCH, &args);
    assert_exit(&output, 0);
    assert!(
        text(&output.stdout).contains(&format!(
            "{out_s}\nspiralverse-ai-federated-v2026.11.24.0000\n"
        )),
        "{}",
        text(&output.stdout)
    );
    let fused: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(fused["providers"], json!(["aws", "gcp", "hf"]));
    assert_eq!(
        fused["units"]["gcp"]["uri"],
        json!("gs://scbe-vertex-staging/spiralverse/embedder-v2")
    );
    assert_eq!(
        fused["gates"],
        json!({"min_quality": 0.75, "min_safety": 0.95, "max_latency_ms_p95": 250, "max_cost_per_1k_tokens": 1.5})
    );
    // The provenance goes next to the output, about it, without a gate policy file.
    let provenance: Value = serde_json::from_str(
        &fs::read_to_string(ws.path().join("out/nested/fused.provenance.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(provenance["subject"][0]["name"], "fused.json");
    assert_eq!(
        format!(
            "sha256:{}",
            provenance["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        fused["digest"].as_str().unwrap()
    );
    assert_eq!(
        provenance["predicate"]["buildDefinition"]["externalParameters"]["gates"]["file"],
        Value::Null
    );

    // Threshold flags: a value exactly at the threshold passes, just beyond fails.
    let at = [&args[..], &["--max-latency-ms-p95", "140"]].concat();
    assert_exit(&federate(ws.path(), EPOCH, &at), 0);
    fs::remove_file(&out).unwrap();
    let beyond = [&args[..], &["--max-latency-ms-p95", "139.99"]].concat();
    let failed = federate(ws.path(), EPOCH, &beyond);
    assert_exit(&failed, 1);
    assert!(
        text(&failed.stderr).contains("latency_ms_p95 140 > max_latency_ms_p95 139.99"),
        "{}",
        text(&failed.stderr)
    );
    assert!(!out.exists());

    // Keyed by the `provider` field: passing the gcp file twice leaves hf missing.
    let twice = [
        "--hf-manifest",
        &gcp,
        "--gcp-manifest",
        &gcp,
        "--aws-manifest",
        &aws,
        "--output",
        &out_s,
    ];
    let failed = federate(ws.path(), EPOCH, &twice);
    assert_exit(&failed, 2);
    assert!(
        text(&failed.stderr).contains("missing provider manifests: hf"),
        "{}",
        text(&failed.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn bad_inputs_exit_2_with_file_line_and_column_and_write_nothing() {
    // (what, file to write under manifests/, its contents, expected location and message)
    let cases: [(&str, &str, &str, &str); 7] = [
        (
            "invalid JSON",
            "providers/hf.json",
            "{\n  \"provider\": \"hf\",\n  \"artifacts\": [\n}",
            "hf.json:4:1: ",
        ),
        (
            "wrong type",
            "providers/hf.json",
            "{\n  \"provider\": \"hf\",\n  \"artifacts\": {\"id\": 1}\n}",
            "hf.json:3:16: `artifacts` must be a list",
        ),
        (
            "unknown provider",
            "providers/hf.json",
            "{\"provider\": \"azure\", \"artifacts\": []}",
            "hf.json:1:14: unknown provider \"azure\"",
        ),
        (
            "empty artifacts",
            "providers/gcp.json",
            "{\"provider\": \"gcp\",\n \"artifacts\": []}",
            "gcp.json:2:15: `artifacts` is empty",
        ),
        (
            "boolean metric",
            "providers/aws.json",
            "{\"provider\": \"aws\", \"artifacts\": [{\"id\": \"r\", \"role\": \"runtime\",\n \"metrics\": {\"quality\": true, \"safety\": 1, \"latency_ms_p95\": 1, \"cost_per_1k_tokens\": 1}}]}",
            "aws.json:2:25: artifact 'r': metric 'quality' must be a number, found a boolean",
        ),
        (
            "malformed gates TOML",
            "gates.toml",
            "version = 1\n[gates]\nmin_quality = \"high\"\n",
            "gates.toml:3:15: ",
        ),
        (
            "gates TOML missing a gate",
            "gates.toml",
            "version = 1\n[gates]\nmin_quality = 0.7\n",
            "gates.toml:2:1: [gates] has no `min_safety`",
        ),
    ];
    for (what, file, contents, expected) in cases {
        let ws = workspace();
        fs::write(ws.path().join("manifests").join(file), contents).unwrap();
        let output = federate(ws.path(), EPOCH, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{what}: {}",
            text(&output.stderr)
        );
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(expected),
            "{what}: expected {expected:?} in\n{stderr}"
        );
        assert!(
            !ws.path().join("manifests/releases").exists(),
            "{what}: something was written"
        );
    }

    let ws = workspace();
    fs::remove_file(ws.path().join("manifests/gates.toml")).unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).contains("gates.toml: cannot read gate policy"),
        "{}",
        text(&output.stderr)
    );

    let missing = ws.path().join("nowhere.json").display().to_string();
    let out = ws.path().join("out.json").display().to_string();
    let output = federate(
        ws.path(),
        EPOCH,
        &[
            "--hf-manifest",
            &missing,
            "--gcp-manifest",
            &missing,
            "--aws-manifest",
            &missing,
            "--output",
            &out,
        ],
    );
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).contains("nowhere.json: cannot read provider manifest"),
        "{}",
        text(&output.stderr)
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn every_problem_in_every_file_is_reported_in_one_run() {
    let ws = workspace();
    fs::write(
        ws.path().join("manifests/providers/hf.json"),
        "{\"provider\": 7, \"artifacts\": []}",
    )
    .unwrap();
    fs::write(ws.path().join("manifests/gates.toml"), "version = 1\n[gates]\nmin_quality = 2\nmin_safety = 0.9\nmax_latency_ms_p95 = 1\nmax_cost_per_1k_tokens = 1\n").unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    for expected in [
        "gates.toml:3:15: min_quality must be between 0 and 1",
        "hf.json:1:14: `provider` must be a string",
        "hf.json:1:30: `artifacts` is empty",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in\n{stderr}"
        );
    }
}

#[test]
fn a_write_that_fails_leaves_no_partial_or_temp_file() {
    let ws = workspace();
    // The output path is an existing directory: the temp file is written, the rename fails.
    let blocked = ws.path().join("out/fused.json");
    fs::create_dir_all(blocked.join("occupied")).unwrap();
    let p = |name: &str| {
        ws.path()
            .join(format!("manifests/providers/{name}.json"))
            .display()
            .to_string()
    };
    let (hf, gcp, aws, out) = (p("hf"), p("gcp"), p("aws"), blocked.display().to_string());
    let output = federate(
        ws.path(),
        EPOCH,
        &[
            "--hf-manifest",
            &hf,
            "--gcp-manifest",
            &gcp,
            "--aws-manifest",
            &aws,
            "--output",
            &out,
        ],
    );
    assert_exit(&output, 3);
    assert!(
        text(&output.stderr).contains("no release written"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(listing(&ws.path().join("out")), ["fused.json"]);
    assert_eq!(listing(&blocked), ["occupied"]);

    // The releases "directory" is a file: nothing can be created under it, and it says so.
    let ws = workspace();
    fs::write(ws.path().join("manifests/releases"), "").unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr)
            .contains("releases: the releases directory is a file, not a directory"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(fs::read(ws.path().join("manifests/releases")).unwrap(), b"");
}

#[test]
fn a_tampered_release_fails_chain_verification_and_blocks_the_next_release() {
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let path = ws.path().join("manifests/releases/release-000001.json");
    let tampered =
        fs::read_to_string(&path)
            .unwrap()
            .replacen("\"quality\": 0.82", "\"quality\": 0.92", 1);
    fs::write(&path, tampered).unwrap();

    let verify = federate(ws.path(), EPOCH, &["--verify-chain", "--format", "json"]);
    assert_exit(&verify, 1);
    let report = output_types::validate::document(&verify.stdout);
    assert_eq!(
        (report["schema"].clone(), report["ok"].clone()),
        (json!("release-chain/v1"), json!(false))
    );
    assert!(
        report["problems"][0]
            .as_str()
            .unwrap()
            .contains("release digest mismatch"),
        "{report}"
    );

    let next = federate(ws.path(), "1795482000", &[]);
    assert_exit(&next, 1);
    assert!(
        text(&next.stderr).contains("refusing to extend it"),
        "{}",
        text(&next.stderr)
    );
    assert_eq!(
        listing(&ws.path().join("manifests/releases")),
        [
            ".release.lock",
            "release-000001.json",
            "release-000001.provenance.json"
        ]
    );
}

#[test]
fn local_artifacts_fill_unit_digest_and_size() {
    let ws = workspace();
    // `file://` URIs are read directly; other schemes under --artifacts DIR/scheme/rest.
    let mut hf = provider("hf");
    hf["artifacts"][0]["uri"] = json!("file://weights/textgen.bin");
    write_json(&ws.path().join("manifests/providers/hf.json"), &hf);
    fs::create_dir_all(ws.path().join("weights")).unwrap();
    fs::write(ws.path().join("weights/textgen.bin"), b"textgen weights").unwrap();
    let mirror = ws.path().join("mirror/gs/scbe-vertex-staging/spiralverse");
    fs::create_dir_all(&mirror).unwrap();
    fs::write(mirror.join("embedder-v2"), b"embedder").unwrap();

    assert_exit(&federate(ws.path(), EPOCH, &["--artifacts", "mirror"]), 0);
    let units = &release(ws.path(), 1)["units"];
    assert_eq!(
        units["hf"]["digest"],
        json!(release::canonical::sha256_digest(b"textgen weights"))
    );
    assert_eq!(units["hf"]["size"], json!(15));
    assert_eq!(
        units["gcp"]["digest"],
        json!(release::canonical::sha256_digest(b"embedder"))
    );
    assert_eq!(units["gcp"]["size"], json!(8));
    assert_eq!(
        (units["aws"]["digest"].clone(), units["aws"]["size"].clone()),
        (Value::Null, Value::Null)
    );
}

#[test]
fn a_repeated_json_key_is_refused_with_both_locations_in_providers_and_releases() {
    let ws = workspace();
    let hf = "{\"provider\": \"hf\", \"artifacts\": [{\"id\": \"t\", \"role\": \"textgen\",\n \"metrics\": {\"quality\": 0.10, \"safety\": 0.97, \"latency_ms_p95\": 1, \"cost_per_1k_tokens\": 1,\n \"quality\": 0.82}}]}";
    fs::write(ws.path().join("manifests/providers/hf.json"), hf).unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("hf.json:3:2: duplicate key \"quality\" in one object (first at ")
            && stderr.contains("hf.json:2:14)"),
        "{stderr}"
    );
    assert!(!ws.path().join("manifests/releases").exists());

    // A stored release with a repeated key does not verify as a chain, nor gets extended.
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let path = ws.path().join("manifests/releases/release-000001.json");
    let stored = fs::read_to_string(&path).unwrap();
    let doubled = stored.replacen(
        "\"release_seq\": 1,",
        "\"release_seq\": 1,\n  \"release_seq\": 1,",
        1,
    );
    fs::write(&path, doubled).unwrap();
    let output = federate(ws.path(), "1795482000", &["--verify-chain"]);
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).contains("duplicate key \"release_seq\""),
        "{}",
        text(&output.stderr)
    );
}

/// Runs `federate`/`rollback` as real processes started together, and returns each run's
/// exit code, stdout and stderr.
fn race(root: &Path, runs: [(&[&str], u64); 2]) -> Vec<Output> {
    let children: Vec<_> = runs
        .iter()
        .map(|(args, epoch)| {
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(*args)
                .current_dir(root)
                .env("XTASK_WORKSPACE_ROOT", root)
                .env("SOURCE_DATE_EPOCH", epoch.to_string())
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect()
}

#[test]
fn slow_concurrent_writers_never_lose_or_misreport_a_release() {
    let ws = workspace();
    // A second set of provider manifests whose hf unit differs, so that rollbacks have
    // releases with other units to return to.
    let other = ws.path().join("manifests/providers-b");
    fs::create_dir_all(&other).unwrap();
    for name in ["gcp", "aws"] {
        write_json(&other.join(format!("{name}.json")), &provider(name));
    }
    let mut hf = provider("hf");
    hf["artifacts"][0]["metrics"]["latency_ms_p95"] = json!(141);
    write_json(&other.join("hf.json"), &hf);

    let federate_a: &[&str] = &["federate", "--format", "json"];
    let federate_b: &[&str] = &[
        "federate",
        "--format",
        "json",
        "--providers",
        "manifests/providers-b",
    ];
    let rollback: &[&str] = &["rollback", "--format", "json"];
    let mut epoch = 1_795_478_400;
    let mut claimed: Vec<(PathBuf, Value)> = Vec::new();
    let mut refusals = 0;
    let mut check = |output: &Output, is_rollback: bool| -> bool {
        let stderr = text(&output.stderr);
        match output.status.code() {
            Some(0) => {
                let report = output_types::validate::document(&output.stdout);
                let (path, digest) = if is_rollback {
                    assert_eq!(report["written"], json!(true), "{report}");
                    (
                        PathBuf::from(report["path"].as_str().unwrap()),
                        report["digest"].clone(),
                    )
                } else {
                    let written = report["written"].as_str().expect("a written path");
                    (ws.path().join(written), report["release"]["digest"].clone())
                };
                claimed.push((path, digest));
                true
            }
            // The loser of a race: told to run again, nothing written.
            Some(3) => {
                assert!(stderr.contains("nothing written"), "{stderr}");
                refusals += 1;
                false
            }
            // A rollback that found, on the chain it read, nothing to return to.
            Some(1) if is_rollback => {
                assert!(stderr.contains("roll back"), "{stderr}");
                false
            }
            other => panic!("unexpected exit {other:?}\n{stderr}"),
        }
    };
    for pair in 0..50 {
        let (first, second) = if pair % 2 == 0 {
            (federate_a, federate_b)
        } else {
            (federate_b, federate_a)
        };
        let outputs = race(ws.path(), [(first, epoch), (second, epoch + 60)]);
        epoch += 3600;
        let wins = outputs.iter().filter(|o| check(o, false)).count();
        assert!(
            wins >= 1,
            "pair {pair}: neither federate run wrote a release"
        );
    }
    for pair in 0..20 {
        let federate = if pair % 2 == 0 {
            federate_a
        } else {
            federate_b
        };
        let outputs = race(ws.path(), [(rollback, epoch), (federate, epoch + 60)]);
        epoch += 3600;
        check(&outputs[0], true);
        assert!(
            check(&outputs[1], false) || outputs[1].status.code() == Some(3),
            "pair {pair}"
        );
    }

    // Every release a run reported exists with the digest it reported, no file was claimed
    // twice, and every file on disk was claimed by exactly one run.
    let mut paths: Vec<&PathBuf> = claimed.iter().map(|(p, _)| p).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths.len(),
        claimed.len(),
        "a release file was claimed twice"
    );
    for (path, digest) in &claimed {
        let stored: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(&stored["digest"], digest, "{}", path.display());
    }
    let on_disk: Vec<String> = listing(&ws.path().join("manifests/releases"))
        .into_iter()
        .filter(|name| name.ends_with(".json") && !name.ends_with(".provenance.json"))
        .collect();
    assert_eq!(on_disk.len(), claimed.len(), "{on_disk:?}");
    let verify = federate(ws.path(), &epoch.to_string(), &["--verify-chain"]);
    assert_exit(&verify, 0);
    eprintln!(
        "concurrent writers: {} releases written, {refusals} runs refused",
        claimed.len()
    );
}

#[test]
fn temp_files_of_a_killed_writer_are_removed_by_the_next_run() {
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let releases = ws.path().join("manifests/releases");
    fs::write(
        releases.join(".release-000002.json.tmp.4242.17"),
        b"{\"half",
    )
    .unwrap();
    let next = federate(ws.path(), "1795482000", &[]);
    assert_exit(&next, 0);
    assert!(
        text(&next.stderr)
            .contains("release-000002.json.tmp.4242.17, left by a run that was killed"),
        "{}",
        text(&next.stderr)
    );
    assert_eq!(
        listing(&releases),
        [
            ".release.lock",
            "release-000001.json",
            "release-000001.provenance.json",
            "release-000002.json",
            "release-000002.provenance.json"
        ]
    );
}

/// The temp files are removed (and named) before the kernel is inspected: a run that then
/// fails still says what it removed.
#[test]
fn removed_temp_files_are_named_even_when_the_run_then_fails() {
    let ws = workspace();
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    let stale = ws
        .path()
        .join("manifests/releases/.release-000002.json.tmp.4242.17");
    fs::write(&stale, b"{\"half").unwrap();
    fs::write(
        ws.path().join("manifests/kernel.toml"),
        "version = 1\nfiles = [\"model/missing.py\"]\n",
    )
    .unwrap();
    let failed = federate(ws.path(), "1795482000", &[]);
    assert_exit(&failed, 1);
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("kernel file \"model/missing.py\" does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("release-000002.json.tmp.4242.17, left by a run that was killed"),
        "{stderr}"
    );
    assert!(!stale.exists());
}

#[test]
fn flags_take_the_same_ranges_as_gates_toml() {
    let ws = workspace();
    for (flag, value, expected) in [
        (
            "--min-quality",
            "5",
            "for '--min-quality <X>': min_quality must be between 0 and 1, got 5",
        ),
        ("--min-safety", "1.01", "min_safety must be between 0 and 1"),
        (
            "--max-latency-ms-p95",
            "-1",
            "max_latency_ms_p95 must be a non-negative number",
        ),
        (
            "--max-cost-per-1k-tokens",
            "inf",
            "must be a non-negative number, got inf",
        ),
    ] {
        let output = federate(ws.path(), EPOCH, &[flag, value]);
        assert_exit(&output, 2);
        assert!(
            text(&output.stderr).contains(expected),
            "{flag} {value}: {}",
            text(&output.stderr)
        );
    }
    assert!(!ws.path().join("manifests/releases").exists());

    // A rollback that would be expired when written is refused before anything is read.
    assert_exit(&federate(ws.path(), EPOCH, &[]), 0);
    for days in ["0", "3651", "-2"] {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["rollback", "--expires-in-days", days])
            .env("XTASK_WORKSPACE_ROOT", ws.path())
            .env("SOURCE_DATE_EPOCH", "1795482000")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_exit(&output, 2);
        assert!(
            text(&output.stderr).contains("expires_after_days must be between 1 and 3650"),
            "{days}: {}",
            text(&output.stderr)
        );
    }
    assert_eq!(
        listing(&ws.path().join("manifests/releases")),
        [
            ".release.lock",
            "release-000001.json",
            "release-000001.provenance.json"
        ]
    );
}

#[test]
fn metrics_outside_their_domain_are_located_and_extremes_inside_it_still_make_a_valid_release() {
    for (metric, value, expected) in [
        (
            "latency_ms_p95",
            "-100000",
            "metric 'latency_ms_p95' must be a finite number, not negative, got -100000",
        ),
        (
            "cost_per_1k_tokens",
            "-0.5",
            "metric 'cost_per_1k_tokens' must be a finite number, not negative",
        ),
        (
            "quality",
            "1e308",
            "metric 'quality' must be between 0 and 1, got 1e+308",
        ),
        (
            "safety",
            "1.5",
            "metric 'safety' must be between 0 and 1, got 1.5",
        ),
        ("latency_ms_p95", "1e999", "number out of range"),
    ] {
        let ws = workspace();
        let hf = format!(
            "{{\"provider\": \"hf\", \"artifacts\": [{{\"id\": \"t\", \"role\": \"textgen\", \"metrics\": {{\"quality\": 0.9, \"safety\": 0.99, \"latency_ms_p95\": 100, \"cost_per_1k_tokens\": 1,\n \"{metric}\": {value}}}}}]}}"
        )
        .replacen(&format!("\"{metric}\": "), "\"dropped\": ", 1);
        fs::write(ws.path().join("manifests/providers/hf.json"), hf).unwrap();
        let output = federate(ws.path(), EPOCH, &[]);
        assert_exit(&output, 2);
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("hf.json:2:") && stderr.contains(expected),
            "{metric} {value}: {stderr}"
        );
        assert!(!ws.path().join("manifests/releases").exists());
    }

    // The largest values the domain allows give a finite score and a release that reads back.
    let ws = workspace();
    let hf = "{\"provider\": \"hf\", \"artifacts\": [{\"id\": \"t\", \"role\": \"textgen\", \"metrics\": {\"quality\": 1, \"safety\": 1, \"latency_ms_p95\": 1.7e308, \"cost_per_1k_tokens\": 1.7e308}}]}";
    fs::write(ws.path().join("manifests/providers/hf.json"), hf).unwrap();
    let output = federate(
        ws.path(),
        EPOCH,
        &[
            "--max-latency-ms-p95",
            "1.7e308",
            "--max-cost-per-1k-tokens",
            "1.7e308",
        ],
    );
    assert_exit(&output, 0);
    let path = ws.path().join("manifests/releases/release-000001.json");
    let stored = fs::read_to_string(&path).unwrap();
    let manifest = release::ReleaseManifest::parse(&path, &stored).unwrap();
    manifest.verify_digest().unwrap();
    assert!(manifest.units["hf"].score.is_finite() && manifest.units["hf"].score < -1e307);
}

#[test]
fn an_output_that_is_or_resolves_to_an_input_is_refused_and_the_input_kept() {
    let ws = workspace();
    let providers = ws.path().join("manifests/providers");
    let p = |name: &str| providers.join(format!("{name}.json")).display().to_string();
    std::os::unix::fs::symlink(providers.join("gcp.json"), ws.path().join("link.json")).unwrap();
    fs::create_dir_all(ws.path().join("elsewhere")).unwrap();
    let gates = ws.path().join("manifests/gates.toml").display().to_string();
    let via_dots = ws.path().join("elsewhere/../manifests/providers/aws.json");
    let via_link = ws.path().join("link.json");
    let before: Vec<Vec<u8>> = ["hf", "gcp", "aws"]
        .iter()
        .map(|n| fs::read(p(n)).unwrap())
        .collect();
    for output in [
        p("hf"),
        via_link.display().to_string(),
        via_dots.display().to_string(),
        gates.clone(),
    ] {
        let (hf, gcp, aws) = (p("hf"), p("gcp"), p("aws"));
        let args = [
            "--hf-manifest",
            &hf,
            "--gcp-manifest",
            &gcp,
            "--aws-manifest",
            &aws,
            "--gates",
            &gates,
            "--output",
            &output,
        ];
        let refused = federate(ws.path(), EPOCH, &args);
        assert_exit(&refused, 2);
        assert!(
            text(&refused.stderr).contains("writing the release there would destroy it"),
            "{output}: {}",
            text(&refused.stderr)
        );
    }
    let after: Vec<Vec<u8>> = ["hf", "gcp", "aws"]
        .iter()
        .map(|n| fs::read(p(n)).unwrap())
        .collect();
    assert_eq!(before, after);

    // An output whose parent is a file says so.
    fs::write(ws.path().join("plain"), b"").unwrap();
    let (hf, gcp, aws) = (p("hf"), p("gcp"), p("aws"));
    let out = ws.path().join("plain/fused.json").display().to_string();
    let args = [
        "--hf-manifest",
        &hf,
        "--gcp-manifest",
        &gcp,
        "--aws-manifest",
        &aws,
        "--output",
        &out,
    ];
    let refused = federate(ws.path(), EPOCH, &args);
    assert_exit(&refused, 2);
    assert!(
        text(&refused.stderr).contains("plain is a file, not a directory"),
        "{}",
        text(&refused.stderr)
    );
}

/// Runs xtask with stdout sent to `stdout` (a pipe nobody reads, or /dev/full).
fn with_stdout(root: &Path, stdout: impl Into<std::process::Stdio>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root)
        .env("XTASK_WORKSPACE_ROOT", root)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("NO_COLOR", "1")
        .stdout(stdout)
        .output()
        .unwrap()
}

#[test]
fn a_closed_or_full_stdout_ends_output_quietly_and_keeps_the_exit_code_of_the_work_done() {
    let ws = workspace();
    // `| head -c0`: the reader is gone before anything is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = with_stdout(ws.path(), writer, &["federate"]);
    assert_exit(&output, 0);
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("panicked") && stderr.is_empty(),
        "{stderr}"
    );
    assert!(
        ws.path()
            .join("manifests/releases/release-000001.json")
            .is_file()
    );

    // `>/dev/full` after the release is written: still written, exit 0, and it says why
    // nothing was printed.
    let full = fs::File::create("/dev/full").unwrap();
    let output = with_stdout(ws.path(), full, &["federate", "--format", "json"]);
    assert_exit(&output, 0);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("warning: standard output could not be written")
            && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(
        ws.path()
            .join("manifests/releases/release-000002.json")
            .is_file()
    );

    // A failing command keeps its own exit code with a closed pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = with_stdout(ws.path(), writer, &["federate", "--min-quality", "0.99"]);
    assert_exit(&output, 1);
    assert!(
        !text(&output.stderr).contains("panicked"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn unreadable_oversized_and_non_utf8_inputs_are_named_with_where_and_why() {
    let providers = |ws: &tempfile::TempDir| ws.path().join("manifests/providers");
    // Repository form: each unreadable provider file is named, not skipped.
    let ws = workspace();
    fs::remove_file(providers(&ws).join("hf.json")).unwrap();
    std::os::unix::fs::symlink(
        providers(&ws).join("gone.json"),
        providers(&ws).join("hf.json"),
    )
    .unwrap();
    fs::create_dir(providers(&ws).join("dir.json")).unwrap();
    std::os::unix::fs::symlink(
        providers(&ws).join("loop.json"),
        providers(&ws).join("loop.json"),
    )
    .unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    for expected in [
        "hf.json: cannot read provider manifest: No such file or directory",
        "dir.json: cannot read provider manifest: it is a directory, not a file",
        "loop.json: cannot read provider manifest: Too many levels of symbolic links",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in\n{stderr}"
        );
    }
    assert!(!stderr.contains("missing provider manifests"), "{stderr}");

    // Over the documented limit: refused before being read.
    let ws = workspace();
    let big = vec![b' '; (release::provider::MAX_BYTES + 1) as usize];
    fs::write(providers(&ws).join("hf.json"), big).unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr)
            .contains("hf.json: provider manifest is 16777217 bytes, over the 16777216-byte limit"),
        "{}",
        text(&output.stderr)
    );

    // Not UTF-8, and a BOM: located and named.
    let ws = workspace();
    fs::write(
        providers(&ws).join("hf.json"),
        b"{\"provider\": \"hf\",\n \"artifacts\": [\"\xff\"]}",
    )
    .unwrap();
    fs::write(
        providers(&ws).join("gcp.json"),
        "\u{feff}{\"provider\": \"gcp\"}",
    )
    .unwrap();
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("hf.json:2:17: provider manifest is not UTF-8 text: byte 0xff"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gcp.json:1:1: the file starts with a UTF-8 byte order mark (BOM)"),
        "{stderr}"
    );
}

#[test]
fn a_release_larger_than_nodes_accept_is_not_written() {
    let ws = workspace();
    let mut hf = provider("hf");
    hf["artifacts"][0]["metrics"]["notes"] = json!("x".repeat(5 << 20));
    write_json(&ws.path().join("manifests/providers/hf.json"), &hf);
    let output = federate(ws.path(), EPOCH, &[]);
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).contains("over the 4194304-byte limit nodes accept; its largest unit, artifact \"spiralverse/textgen-lora-v1\" of 'hf'"),
        "{}",
        text(&output.stderr)
    );
    assert!(!ws.path().join("manifests/releases").exists());
}

#[test]
fn artifact_uris_a_node_would_refuse_are_refused_with_their_location() {
    for (uri, reason) in [
        ("file:///etc/passwd", "its path is absolute"),
        (
            "hf://spiralverse/../../../etc/passwd",
            "has a `.` or `..` segment",
        ),
        ("file://../outside", "has a `.` or `..` segment"),
        ("no-scheme-at-all", "not of the form scheme://path"),
        ("hf://a/\u{1b}[31mred", "control character U+001B"),
    ] {
        for artifacts in [&[][..], &["--artifacts", "mirror"][..]] {
            let ws = workspace();
            let mut hf = provider("hf");
            hf["artifacts"][0]["uri"] = json!(uri);
            write_json(&ws.path().join("manifests/providers/hf.json"), &hf);
            let output = federate(ws.path(), EPOCH, artifacts);
            assert_exit(&output, 2);
            let stderr = text(&output.stderr);
            assert!(
                stderr.contains("hf.json:")
                    && stderr.contains("is refused: ")
                    && stderr.contains(reason),
                "{uri}: {stderr}"
            );
            assert!(!ws.path().join("manifests/releases").exists());
            // The same URI is refused by the node's mapping.
            assert_eq!(node::artifacts::local_path(ws.path(), uri), None, "{uri}");
        }
    }
}

#[test]
fn control_characters_in_artifact_ids_are_printed_escaped() {
    let ws = workspace();
    let mut hf = provider("hf");
    hf["artifacts"][0]["id"] = json!("evil\u{1b}[2J\u{0}id");
    let mut ignored = hf["artifacts"][0].clone();
    ignored["role"] = json!("x\u{1b}]0;title\u{7}");
    hf["artifacts"].as_array_mut().unwrap().push(ignored);
    write_json(&ws.path().join("manifests/providers/hf.json"), &hf);
    let output = federate(ws.path(), EPOCH, &["--dry-run"]);
    assert_exit(&output, 0);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("evil\\u{1b}[2J\\0id *"), "{stdout}");
    assert!(stdout.contains("(x\\u{1b}]0;title\\u{7})"), "{stdout}");
    // A gate failure names the artifact on stderr, escaped too.
    let failed = federate(ws.path(), EPOCH, &["--min-quality", "0.99"]);
    assert_exit(&failed, 1);
    for bytes in [
        &output.stdout,
        &output.stderr,
        &failed.stdout,
        &failed.stderr,
    ] {
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == 0 || *b == 7),
            "{}",
            text(bytes)
        );
    }
    assert!(
        text(&failed.stderr).contains("evil\\u{1b}[2J\\0id: quality"),
        "{}",
        text(&failed.stderr)
    );
}

#[test]
fn the_committed_example_audits_with_its_provenance_and_names_what_an_unsigned_release_lacks() {
    let root = repo_root();
    let audit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("audit-release")
            .args(args)
            .current_dir(&root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = audit(&[
        "--release",
        "manifests/releases/release-000001.json",
        "--format",
        "json",
    ]);
    assert_exit(&out, 1);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(&str, bool, Option<&str>)> = doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["link"].as_str().unwrap(),
                l["ok"] == true,
                l["kind"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("source commit", true, None),
            ("release lane", false, Some("test-result-missing")),
            ("kernel digest", true, None),
            ("provenance", false, Some("statement-unsigned")),
            ("unit aws", true, None),
            ("unit gcp", true, None),
            ("unit hf", true, None),
            ("approvals", false, Some("signature-missing")),
        ],
        "{}",
        text(&out.stdout)
    );
    // The bare provenance found next to the release is about it: only its signature is missing.
    let provenance = doc["links"][3]["detail"].as_str().unwrap();
    assert!(provenance.contains("about this release"), "{provenance}");

    // An envelope this run cannot check is named as such, never taken on trust.
    let dir = tempfile::tempdir().unwrap();
    let envelope = dir.path().join("provenance.dsse.json");
    fs::write(
        &envelope,
        r#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#,
    )
    .unwrap();
    let out = audit(&[
        "--release",
        "manifests/releases/release-000001.json",
        "--statement",
        envelope.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("provenance.dsse.json (no-verifier)"),
        "{}",
        text(&out.stderr)
    );
}
