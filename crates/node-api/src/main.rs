//! `node-api --node-dir DIR [--addr HOST:PORT]`: serves a node directory over HTTP.
//!
//! The first line on stdout is the bound address (`127.0.0.1:PORT`), so a supervisor or a
//! test can pass port 0 and learn the real port. Exit codes: 0 after a clean shutdown
//! (SIGTERM or SIGINT), 2 for bad usage (an `--addr` that is not `HOST:PORT`) or a node
//! directory that is missing or a file, 3 when the address cannot be bound.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use node_api::server::BindError;
use node_api::{NodeDirSource, Server};
use support::Exit;

const USAGE: &str = "usage: node-api --node-dir DIR [--addr HOST:PORT] [--request-timeout-ms MS]
  --addr                default 127.0.0.1:7878
  --request-timeout-ms  time a client has to send its request head, default 5000";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((exit, message)) => {
            eprintln!("node-api: {message}");
            ExitCode::from(exit.code() as u8)
        }
    }
}

fn run() -> Result<(), (Exit, String)> {
    let (node_dir, addr, request_timeout) =
        parse_args().map_err(|message| (Exit::InvalidInput, message))?;
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
            BindError::BadAddress(message) => (Exit::InvalidInput, format!("{message}\n{USAGE}")),
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

fn parse_args() -> Result<(PathBuf, String, Duration), String> {
    use lexopt::prelude::*;
    let mut node_dir = None;
    let mut addr = "127.0.0.1:7878".to_owned();
    let mut request_timeout = node_api::server::REQUEST_TIMEOUT;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next().map_err(|err| format!("{err}\n{USAGE}"))? {
        match arg {
            Long("node-dir") => {
                node_dir = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?))
            }
            Long("addr") => {
                addr = parser
                    .value()
                    .map_err(|e| e.to_string())?
                    .into_string()
                    .map_err(|_| "--addr must be UTF-8".to_owned())?
            }
            Long("request-timeout-ms") => {
                let ms: u64 = parser
                    .value()
                    .map_err(|e| e.to_string())?
                    .parse()
                    .map_err(|e| format!("--request-timeout-ms: {e}\n{USAGE}"))?;
                if !(1..=600_000).contains(&ms) {
                    return Err(format!(
                        "--request-timeout-ms must be between 1 and 600000, not {ms}\n{USAGE}"
                    ));
                }
                request_timeout = Duration::from_millis(ms);
            }
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("{}\n{USAGE}", other.unexpected())),
        }
    }
    let node_dir = node_dir.ok_or_else(|| format!("--node-dir is required\n{USAGE}"))?;
    Ok((node_dir, addr, request_timeout))
}
