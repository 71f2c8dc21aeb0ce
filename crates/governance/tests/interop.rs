//! Independent validation: the statements and DSSE envelopes this workspace writes verify with
//! other implementations, securesystemslib's DSSE and the in-toto-attestation Python bindings
//! (`interop/verify_statements.py`), pinned below.
//!
//! The Python packages come from `$ATTESTATION_PYTHON` (an interpreter that has them, as CI's
//! `attestation-interop` lane prepares it), or else are pip-installed into a venv in the
//! test's temp dir. The test skips, saying so, only when python3 or its venv/pip is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use governance::{Envelope, SigningKey, public_key_hex};
use release::SourceRevision;
use release::attest::{self, FederationInputs, InputFile, LaneRun};

/// The versions CI installs (`.github/workflows/ci.yml`, job attestation-interop).
const PACKAGES: [&str; 2] = [
    "securesystemslib[crypto]==1.6.0",
    "in-toto-attestation==0.9.3",
];

/// An interpreter with the packages, or why there is none.
fn python(dir: &Path) -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("ATTESTATION_PYTHON") {
        return Ok(python.into());
    }
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works("python3", &["-c", "import venv, ensurepip"]) {
        return Err("python3 with venv and pip is not installed".into());
    }
    let venv = dir.join("venv");
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 runs");
    assert!(
        created.status.success(),
        "python3 -m venv: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let python = venv.join("bin/python");
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES)
        .output()
        .expect("pip runs");
    assert!(
        installed.status.success(),
        "pip install {PACKAGES:?} failed (PyPI must be reachable): {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    Ok(python)
}

fn statements() -> Vec<(&'static str, Vec<u8>)> {
    let release = {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../manifests/releases/release-000001.json"),
        )
        .unwrap();
        release::ReleaseManifest::parse(Path::new("release-000001.json"), &text).unwrap()
    };
    // The committed example provenance, as federate wrote it, and a test result as the
    // release lane writes it.
    let provenance = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../manifests/releases/release-000001.provenance.json"),
    )
    .unwrap();
    let built = attest::provenance_statement(
        &release,
        "release-000001.json",
        &FederationInputs {
            providers: vec![("hf".into(), InputFile::of_bytes("hf.json", b"{}"))],
            gates: None,
            kernel: None,
            carry_forward: false,
            expires_after_days: 90,
        },
    )
    .to_bytes();
    let test_result = attest::test_result_statement(&LaneRun {
        source: release.source.clone().unwrap_or(SourceRevision {
            commit: "0".repeat(40),
            dirty: false,
        }),
        kernel_digest: release.kernel_digest.clone().unwrap_or_default(),
        configuration: InputFile::of_bytes("manifests/release-lane.toml", b"version = 1\n"),
        passed: vec!["release kernel::tests::a".into()],
        failed: vec!["node::ingest crash::b".into()],
    })
    .to_bytes();
    vec![
        ("provenance.dsse.json", provenance),
        ("built.dsse.json", built),
        ("test-result.dsse.json", test_result),
    ]
}

#[test]
fn slow_statements_verify_with_securesystemslib_and_in_toto_attestation() {
    let dir = tempfile::tempdir().unwrap();
    let python = match python(dir.path()) {
        Ok(python) => python,
        Err(why) => {
            eprintln!("SKIPPED: independent validation needs Python: {why}");
            return;
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/verify_statements.py");
    let key = SigningKey::from_bytes(&[4; 32]);
    let public = public_key_hex(&key.verifying_key());
    let mut paths = Vec::new();
    for (name, statement) in statements() {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            Envelope::sign_statement(&statement, "ci", &key).to_json(),
        )
        .unwrap();
        paths.push(path);
    }
    let verify = |paths: &[PathBuf]| {
        Command::new(&python)
            .arg(&script)
            .args([&public, "ci"])
            .args(paths)
            .output()
            .unwrap()
    };
    let out = verify(&paths);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("verified ").count(), 3, "{stdout}");

    // The same tools refuse what they should: a payload changed after signing, a key that
    // did not sign, a predicate field outside its schema.
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&paths[0]).unwrap()).unwrap();
    let mut changed = envelope.clone();
    let statement = Envelope::sign_statement(b"{}", "ci", &key);
    changed["payload"] = serde_json::Value::String(statement.payload);
    let tampered = dir.path().join("tampered.dsse.json");
    std::fs::write(&tampered, changed.to_string()).unwrap();
    let out = verify(std::slice::from_ref(&tampered));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"));

    let other = SigningKey::from_bytes(&[5; 32]);
    let foreign = dir.path().join("foreign.dsse.json");
    std::fs::write(
        &foreign,
        Envelope::sign_statement(&statements()[0].1, "ci", &other).to_json(),
    )
    .unwrap();
    let out = verify(std::slice::from_ref(&foreign));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut odd: serde_json::Value = serde_json::from_slice(&statements()[2].1).unwrap();
    odd["predicate"]["passed"] = serde_json::json!(["not a field of the schema"]);
    let odd_path = dir.path().join("odd.dsse.json");
    std::fs::write(
        &odd_path,
        Envelope::sign_statement(odd.to_string().as_bytes(), "ci", &key).to_json(),
    )
    .unwrap();
    let out = verify(std::slice::from_ref(&odd_path));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
