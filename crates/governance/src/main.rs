//! `governance`: make signing keys, sign release manifests, and check them against a trust file.
//!
//! ```text
//! governance keygen --secret-key FILE                      new key; prints its public key
//! governance sign --manifest FILE --secret-key FILE --keyid ID --envelope FILE
//!                                                          create the envelope, or add an approval
//! governance verify --manifest FILE --envelope FILE --trust FILE [--format json]
//! governance attest --statement FILE --secret-key FILE --keyid ID --envelope FILE
//!                                                          sign an in-toto statement (DSSE)
//! governance verify-statement --envelope FILE --trust FILE [--format json]
//! ```
//!
//! Exit codes: 0 ok (verify: approved), 1 not approved, 2 invalid input or usage, 3 environment.

use output_types::Shape as _;
use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use governance::{
    Envelope, EnvelopeError, SigningKey, TrustFile, Verifier, VerifyError, public_key_hex,
    signing_key_from_hex,
};
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use support::{Exit, Failure, Located};

/// A secret key file holds 64 hex digits and a newline.
const SECRET_KEY_BYTES: u64 = 1024;

const USAGE: &str = "usage:
  governance keygen --secret-key FILE
  governance sign --manifest FILE --secret-key FILE --keyid ID --envelope FILE
  governance verify --manifest FILE --envelope FILE --trust FILE [--format json]
  governance attest --statement FILE --secret-key FILE --keyid ID --envelope FILE
  governance verify-statement --envelope FILE --trust FILE [--format json]";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    let rest: Vec<OsString> = args.collect();
    let result = match command.as_ref().and_then(|c| c.to_str()) {
        Some("keygen") => keygen(rest),
        Some("sign") => sign(rest),
        Some("verify") => verify(rest),
        Some("attest") => attest(rest),
        Some("verify-statement") => verify_statement(rest),
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(Exit::Success)
        }
        _ => Err(Failure::invalid_input(USAGE)),
    };
    let exit = result.unwrap_or_else(|failure| {
        let style = support::render::Style::detect();
        eprint!("{}", support::render::failure(&failure, &style));
        failure.exit
    });
    ExitCode::from(exit.code() as u8)
}

/// `--name value` options, each given once; unknown ones are usage errors.
fn parse_options(args: Vec<OsString>, names: &[&str]) -> Result<Vec<Option<OsString>>, Failure> {
    use lexopt::prelude::*;
    let usage = |message: String| Failure::invalid_input(format!("{message}\n{USAGE}"));
    let mut values = vec![None; names.len()];
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| usage(e.to_string()))? {
        match arg {
            Long(name) if names.contains(&name) => {
                let index = names.iter().position(|n| *n == name).unwrap();
                values[index] = Some(parser.value().map_err(|e| usage(e.to_string()))?);
            }
            other => return Err(usage(other.unexpected().to_string())),
        }
    }
    Ok(values)
}

fn required(value: Option<OsString>, name: &str) -> Result<PathBuf, Failure> {
    value
        .map(PathBuf::from)
        .ok_or_else(|| Failure::invalid_input(format!("--{name} is required\n{USAGE}")))
}

fn read(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, Failure> {
    Ok(support::input::read_bounded(path, limit, what)?)
}

fn keygen(args: Vec<OsString>) -> Result<Exit, Failure> {
    let [secret] = <[_; 1]>::try_from(parse_options(args, &["secret-key"])?).unwrap();
    let secret = required(secret, "secret-key")?;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut seed))
        .map_err(|err| Failure::environment(format!("cannot read /dev/urandom: {err}")))?;
    let key = SigningKey::from_bytes(&seed);
    write_secret(&secret, key.to_bytes())?;
    print_result(&public_key_hex(&key.verifying_key()));
    eprintln!(
        "governance: secret key written to {} (mode 0600); add the public key above to the trust file",
        secret.display()
    );
    Ok(Exit::Success)
}

/// Secret keys are created owner-only and never overwrite an existing key.
fn write_secret(path: &Path, seed: [u8; 32]) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| {
            Failure::from(
                Located::file(path, format!("cannot create secret key file: {err}"))
                    .with_help("keygen never overwrites a key; choose a new path"),
            )
        })?;
    file.write_all(format!("{hex}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| Failure::environment(format!("writing {}: {err}", path.display())))
}

fn sign(args: Vec<OsString>) -> Result<Exit, Failure> {
    let [manifest, secret, keyid, envelope_path] = <[_; 4]>::try_from(parse_options(
        args,
        &["manifest", "secret-key", "keyid", "envelope"],
    )?)
    .unwrap();
    let manifest = required(manifest, "manifest")?;
    let secret = required(secret, "secret-key")?;
    let keyid = required(keyid, "keyid")?.to_string_lossy().into_owned();
    let envelope_path = required(envelope_path, "envelope")?;

    let manifest_bytes = read(&manifest, "release manifest", MAX_MANIFEST_BYTES)?;
    let key = load_secret(&secret)?;

    let envelope = if envelope_path.exists() {
        let bytes = read(&envelope_path, "signature envelope", MAX_SIGNATURE_BYTES)?;
        let mut envelope = Envelope::load(&envelope_path, &bytes)?;
        if envelope.payload_bytes() != Ok(manifest_bytes.clone()) {
            return Err(
                Located::file(&envelope_path, EnvelopeError::PayloadMismatch.to_string())
                    .with_help(
                        "sign the manifest the envelope was made for, or start a new envelope",
                    )
                    .into(),
            );
        }
        envelope
            .add_signature(&keyid, &key)
            .map_err(|err| Located::file(&envelope_path, err.to_string()))?;
        envelope
    } else {
        Envelope::sign(&manifest_bytes, &keyid, &key)
    };
    support::atomic::write_atomic(&envelope_path, &envelope.to_json()).map_err(|err| {
        Failure::environment(format!("writing {}: {err}", envelope_path.display()))
    })?;
    eprintln!(
        "governance: {} signed by '{keyid}' ({} signature(s) in {})",
        manifest.display(),
        envelope.signatures.len(),
        envelope_path.display()
    );
    Ok(Exit::Success)
}

/// Signs an in-toto statement as a DSSE envelope (`application/vnd.in-toto+json`), or adds a
/// signature to the envelope already there. The statement is read as Statement v1 first, so
/// nothing else is signed as one.
fn attest(args: Vec<OsString>) -> Result<Exit, Failure> {
    let [statement, secret, keyid, envelope_path] = <[_; 4]>::try_from(parse_options(
        args,
        &["statement", "secret-key", "keyid", "envelope"],
    )?)
    .unwrap();
    let statement = required(statement, "statement")?;
    let secret = required(secret, "secret-key")?;
    let keyid = required(keyid, "keyid")?.to_string_lossy().into_owned();
    let envelope_path = required(envelope_path, "envelope")?;
    let bytes = read(&statement, "statement", release::attest::MAX_BYTES)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|err| Located::file(&statement, format!("statement is not UTF-8 text: {err}")))?;
    release::attest::Statement::parse(&statement, text)?;
    let key = load_secret(&secret)?;
    let envelope = if envelope_path.exists() {
        let existing = read(&envelope_path, "statement envelope", MAX_SIGNATURE_BYTES)?;
        let mut envelope =
            Envelope::load_typed(&envelope_path, &existing, release::attest::PAYLOAD_TYPE)?;
        if envelope.payload_bytes() != Ok(bytes.clone()) {
            return Err(
                Located::file(&envelope_path, "the envelope holds another statement")
                    .with_help(
                        "sign the statement the envelope was made for, or start a new envelope",
                    )
                    .into(),
            );
        }
        envelope
            .add_signature(&keyid, &key)
            .map_err(|err| Located::file(&envelope_path, err.to_string()))?;
        envelope
    } else {
        Envelope::sign_statement(&bytes, &keyid, &key)
    };
    support::atomic::write_atomic(&envelope_path, &envelope.to_json()).map_err(|err| {
        Failure::environment(format!("writing {}: {err}", envelope_path.display()))
    })?;
    eprintln!(
        "governance: statement {} signed by '{keyid}' ({} signature(s) in {})",
        statement.display(),
        envelope.signatures.len(),
        envelope_path.display()
    );
    Ok(Exit::Success)
}

/// Checks a statement envelope against a trust file: exit 0 when a builder key signed it.
fn verify_statement(args: Vec<OsString>) -> Result<Exit, Failure> {
    let [envelope, trust, format] =
        <[_; 3]>::try_from(parse_options(args, &["envelope", "trust", "format"])?).unwrap();
    let json_output = json_format(format)?;
    let envelope = required(envelope, "envelope")?;
    let trust = TrustFile::load(&required(trust, "trust")?)?;
    let bytes = read(&envelope, "statement envelope", MAX_SIGNATURE_BYTES)?;
    let parsed = Envelope::load_typed(&envelope, &bytes, release::attest::PAYLOAD_TYPE)?;
    let result = Verifier::new(trust).verify_statement_envelope(&parsed);
    let (signed_by, error) = match &result {
        Ok((_, report)) => (report.signed_by.clone(), None),
        Err(err) => (Vec::new(), Some(err.to_string())),
    };
    if json_output {
        let shape = output_types::governance::GovernanceVerifyStatement {
            schema: output_types::governance::GovernanceVerifyStatement::schema(),
            verified: error.is_none(),
            signed_by,
            error: error.clone(),
        };
        print_result(&serde_json::to_string(&shape).expect("a statement verdict serializes"));
    } else {
        match &error {
            Some(err) => print_result(&format!("NOT VERIFIED: {err}")),
            None => print_result(&format!(
                "verified: signed by builder {}",
                signed_by.join(", ")
            )),
        }
    }
    Ok(if error.is_none() {
        Exit::Success
    } else {
        Exit::CheckFailed
    })
}

fn json_format(format: Option<OsString>) -> Result<bool, Failure> {
    match format.as_ref().map(|f| f.to_string_lossy()) {
        None => Ok(false),
        Some(f) if f == "json" => Ok(true),
        Some(f) if f == "human" => Ok(false),
        Some(other) => Err(Failure::invalid_input(format!(
            "--format must be 'human' or 'json', not '{other}'"
        ))),
    }
}

fn load_secret(secret: &Path) -> Result<SigningKey, Failure> {
    let secret_text =
        String::from_utf8(read(secret, "secret key", SECRET_KEY_BYTES)?).unwrap_or_default();
    Ok(signing_key_from_hex(&secret_text)
        .map_err(|why| Located::file(secret, format!("not a secret key: {why}")))?)
}

fn verify(args: Vec<OsString>) -> Result<Exit, Failure> {
    let [manifest, envelope, trust, format] = <[_; 4]>::try_from(parse_options(
        args,
        &["manifest", "envelope", "trust", "format"],
    )?)
    .unwrap();
    let json_output = json_format(format)?;
    let manifest = required(manifest, "manifest")?;
    let envelope = required(envelope, "envelope")?;
    let trust = TrustFile::load(&required(trust, "trust")?)?;
    let manifest_bytes = read(&manifest, "release manifest", MAX_MANIFEST_BYTES)?;
    let envelope_bytes = read(&envelope, "signature envelope", MAX_SIGNATURE_BYTES)?;
    // A malformed envelope is invalid input (exit 2, at file:line:col), as for `sign`.
    let envelope = Envelope::load(&envelope, &envelope_bytes)?;

    let result = Verifier::new(trust).verify_parsed(&manifest_bytes, &envelope);
    let (exit, report, error) = match &result {
        Ok(report) => (Exit::Success, Some(report), None),
        Err(VerifyError::NotApproved(report)) => (
            Exit::CheckFailed,
            Some(report),
            Some(result.as_ref().unwrap_err()),
        ),
        Err(err) => (Exit::CheckFailed, None, Some(err)),
    };
    if json_output {
        let body = governance::verify::shape(&result);
        print_result(&serde_json::to_string(&body).expect("report shapes serialize"));
    } else {
        match (report, error) {
            (_, Some(err)) => print_result(&format!("NOT APPROVED: {err}")),
            (Some(report), None) => print_result(&format!(
                "approved: {} of {} required approvals ({})",
                report.approved_by.len(),
                report.required,
                report.approved_by.join(", ")
            )),
            (None, None) => unreachable!("a result is a report or an error"),
        }
    }
    Ok(exit)
}

/// A result on stdout. The exit code carries the outcome whatever happens to stdout: a
/// reader that stopped reading ends output quietly, any other write error is a warning.
fn print_result(text: &str) {
    if let Err(err) = support::stdout::print(text) {
        support::stdout::warn(
            "governance",
            &format!("writing to stdout failed ({err}); the exit code still gives the outcome"),
        );
    }
}
