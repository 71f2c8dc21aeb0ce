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
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use governance::{
    Envelope, EnvelopeError, SigningKey, TrustFile, Verifier, VerifyError, public_key_hex,
    signing_key_from_hex,
};
use node::manifest::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES};
use support::{Exit, Failure, Located};

/// A secret key file holds 64 hex digits and a newline.
const SECRET_KEY_BYTES: u64 = 1024;

/// Make signing keys, sign release manifests and in-toto statements, and check them against a
/// trust file.
#[derive(Debug, Parser)]
#[command(
    name = "governance",
    version,
    arg_required_else_help = true,
    after_help = "Exit codes: 0 ok (verify: approved), 1 not approved, 2 invalid input or \
                  usage, 3 the environment failed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new signing key and print its public key
    Keygen {
        /// Where to write the secret key (mode 0600; an existing file is never replaced)
        #[arg(long, value_name = "FILE")]
        secret_key: PathBuf,
    },
    /// Sign a release manifest: create the envelope, or add an approval to it
    Sign {
        /// The release manifest to sign
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Check a manifest's signatures against a trust file's approval policy
    Verify {
        /// The release manifest
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        #[command(flatten)]
        check: Check,
    },
    /// Sign an in-toto statement (DSSE): create the envelope, or add a signature to it
    Attest {
        /// The statement to sign (in-toto Statement v1)
        #[arg(long, value_name = "FILE")]
        statement: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Check that a builder key of a trust file signed a statement envelope
    VerifyStatement {
        #[command(flatten)]
        check: Check,
    },
}

/// What a signature check reads and how it reports (`verify` and `verify-statement`).
#[derive(Debug, Args)]
struct Check {
    /// The signature envelope (DSSE)
    #[arg(long, value_name = "FILE")]
    envelope: PathBuf,
    /// The trust file: keys, their roles and how many approvals are required
    #[arg(long, value_name = "FILE")]
    trust: PathBuf,
    /// What to print: text for people, or one JSON document on stdout
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Who signs, and the envelope the signature goes into (`sign` and `attest`).
#[derive(Debug, Args)]
struct Signer {
    /// The signer's secret key (made by `keygen`)
    #[arg(long, value_name = "FILE")]
    secret_key: PathBuf,
    /// The signer's key id in the trust file
    #[arg(long, value_name = "ID")]
    keyid: String,
    /// The envelope to create, or to add the signature to
    #[arg(long, value_name = "FILE")]
    envelope: PathBuf,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
enum Format {
    #[default]
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let exit = support::cli::report(&err);
            support::stdout::finish();
            return ExitCode::from(exit.code() as u8);
        }
    };
    let result = match cli.command {
        Command::Keygen { secret_key } => keygen(&secret_key),
        Command::Sign { manifest, signer } => sign(&manifest, &signer),
        Command::Verify { manifest, check } => verify(&manifest, &check),
        Command::Attest { statement, signer } => attest(&statement, &signer),
        Command::VerifyStatement { check } => verify_statement(&check),
    };
    let exit = result.unwrap_or_else(|failure| {
        let style = support::render::Style::detect();
        eprint!("{}", support::render::failure(&failure, &style));
        failure.exit
    });
    ExitCode::from(exit.code() as u8)
}

fn read(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, Failure> {
    Ok(support::input::read_bounded(path, limit, what)?)
}

fn keygen(secret: &Path) -> Result<Exit, Failure> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut seed))
        .map_err(|err| Failure::environment(format!("cannot read /dev/urandom: {err}")))?;
    let key = SigningKey::from_bytes(&seed);
    write_secret(secret, key.to_bytes())?;
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

fn sign(manifest: &Path, signer: &Signer) -> Result<Exit, Failure> {
    let payload = Payload {
        path: manifest,
        bytes: read(manifest, "release manifest", MAX_MANIFEST_BYTES)?,
        payload_type: governance::PAYLOAD_TYPE,
        noun: "release manifest",
        mismatch: EnvelopeError::PayloadMismatch.to_string(),
    };
    sign_payload(&payload, signer)
}

/// Signs an in-toto statement as a DSSE envelope (`application/vnd.in-toto+json`), or adds a
/// signature to the envelope already there. The statement is read as Statement v1 first, so
/// nothing else is signed as one.
fn attest(statement: &Path, signer: &Signer) -> Result<Exit, Failure> {
    let bytes = read(statement, "statement", release::attest::MAX_BYTES)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|err| Located::file(statement, format!("statement is not UTF-8 text: {err}")))?;
    release::attest::Statement::parse(statement, text)?;
    let payload = Payload {
        path: statement,
        bytes,
        payload_type: release::attest::PAYLOAD_TYPE,
        noun: "statement",
        mismatch: "the envelope holds another statement".to_owned(),
    };
    sign_payload(&payload, signer)
}

/// What `sign` and `attest` put in an envelope: they differ only in these.
struct Payload<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
    payload_type: &'static str,
    /// How messages name the payload.
    noun: &'static str,
    /// Why an existing envelope cannot take the signature: it holds another payload.
    mismatch: String,
}

/// Creates the envelope signed by the signer's key, or adds that signature to the envelope
/// already there, which must hold the same payload; written atomically.
fn sign_payload(payload: &Payload<'_>, signer: &Signer) -> Result<Exit, Failure> {
    let (keyid, envelope_path) = (signer.keyid.as_str(), signer.envelope.as_path());
    let key = load_secret(&signer.secret_key)?;
    let envelope = if envelope_path.exists() {
        let existing = read(envelope_path, "signature envelope", MAX_SIGNATURE_BYTES)?;
        let mut envelope = Envelope::load_typed(envelope_path, &existing, payload.payload_type)?;
        if envelope.payload_bytes().as_ref() != Ok(&payload.bytes) {
            return Err(Located::file(envelope_path, payload.mismatch.clone())
                .with_help(format!(
                    "sign the {} the envelope was made for, or start a new envelope",
                    payload.noun
                ))
                .into());
        }
        envelope
            .add_signature(keyid, &key)
            .map_err(|err| Located::file(envelope_path, err.to_string()))?;
        envelope
    } else {
        Envelope::sign_typed(payload.payload_type, &payload.bytes, keyid, &key)
    };
    support::atomic::write_atomic(envelope_path, &envelope.to_json()).map_err(|err| {
        Failure::environment(format!("writing {}: {err}", envelope_path.display()))
    })?;
    eprintln!(
        "governance: {} {} signed by '{keyid}' ({} signature(s) in {})",
        payload.noun,
        payload.path.display(),
        envelope.signatures.len(),
        envelope_path.display()
    );
    Ok(Exit::Success)
}

/// Checks a statement envelope against a trust file: exit 0 when a builder key signed it.
fn verify_statement(check: &Check) -> Result<Exit, Failure> {
    let (envelope, json_output) = (check.envelope.as_path(), check.format == Format::Json);
    let trust = TrustFile::load(&check.trust)?;
    let bytes = read(envelope, "statement envelope", MAX_SIGNATURE_BYTES)?;
    let parsed = Envelope::load_typed(envelope, &bytes, release::attest::PAYLOAD_TYPE)?;
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

fn load_secret(secret: &Path) -> Result<SigningKey, Failure> {
    let secret_text =
        String::from_utf8(read(secret, "secret key", SECRET_KEY_BYTES)?).unwrap_or_default();
    Ok(signing_key_from_hex(&secret_text)
        .map_err(|why| Located::file(secret, format!("not a secret key: {why}")))?)
}

fn verify(manifest: &Path, check: &Check) -> Result<Exit, Failure> {
    let (envelope, json_output) = (check.envelope.as_path(), check.format == Format::Json);
    let trust = TrustFile::load(&check.trust)?;
    let manifest_bytes = read(manifest, "release manifest", MAX_MANIFEST_BYTES)?;
    let envelope_bytes = read(envelope, "signature envelope", MAX_SIGNATURE_BYTES)?;
    // A malformed envelope is invalid input (exit 2, at file:line:col), as for `sign`.
    let envelope = Envelope::load(envelope, &envelope_bytes)?;

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
