//! `node-api --node-dir DIR [--addr HOST:PORT] [--request-timeout-ms MS]`: serves a node directory over HTTP.
//!
//! The first line on stdout is the bound address (`127.0.0.1:PORT`), so a supervisor or a
//! test can pass port 0 and learn the real port. Exit codes: 0 after a clean shutdown
//! (SIGTERM or SIGINT), 2 for bad usage (an `--addr` that is not `HOST:PORT`) or a node
//! directory that is missing or a file, 3 when the address cannot be bound.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use node_api::server::BindError;
use node_api::{NodeDirSource, Server};
use support::Exit;

/// Serves a node directory over HTTP: health, readiness and the current release.
///
/// The first line on stdout is the bound address, so port 0 can be passed and the real port
/// learnt. Exit codes: 0 after a clean shutdown (SIGTERM or SIGINT), 2 for bad usage or a node
/// directory that is missing or a file, 3 when the address cannot be bound.
#[derive(Debug, Parser)]
#[command(name = "node-api", version)]
struct Args {
    /// The node directory to serve
    #[arg(long, value_name = "DIR")]
    node_dir: PathBuf,
    /// The address to listen on (port 0: any free port)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878")]
    addr: String,
    /// Time a client has to send its request head, in milliseconds
    #[arg(
        long,
        value_name = "MS",
        default_value_t = node_api::server::REQUEST_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..=600_000)
    )]
    request_timeout_ms: u64,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let exit = support::cli::report(&err);
            support::stdout::finish();
            return ExitCode::from(exit.code() as u8);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((exit, message)) => {
            eprintln!("node-api: {message}");
            ExitCode::from(exit.code() as u8)
        }
    }
}

fn run(args: Args) -> Result<(), (Exit, String)> {
    let Args {
        node_dir,
        addr,
        request_timeout_ms,
    } = args;
    let request_timeout = Duration::from_millis(request_timeout_ms);
    if !node_dir.is_dir() {
        let why = if node_dir.exists() {
            "is a file, not a directory"
        } else {
            "does not exist"
        };
        return Err((
            Exit::InvalidInput,
            format!("node directory {} {why}", node_dir.display()),
        ));
    }
    let server = Server::bind(&addr)
        .map_err(|err| match err {
            BindError::BadAddress(message) => (
                Exit::InvalidInput,
                format!("{message} (see `node-api --help`)"),
            ),
            BindError::CannotListen(message) => (Exit::Environment, message),
        })?
        .with_request_timeout(request_timeout);
    let bound = server
        .local_addr()
        .map_or_else(|| addr.clone(), |bound| bound.to_string());
    let mut stdout = std::io::stdout();
    // Flushed at once: whoever started us is waiting for this line to learn the port.
    let _ = writeln!(stdout, "{bound}").and_then(|()| stdout.flush());
    eprintln!("node-api: serving {} on http://{bound}", node_dir.display());
    server.serve(&NodeDirSource::new(node_dir));
    eprintln!("node-api: shut down");
    Ok(())
}
