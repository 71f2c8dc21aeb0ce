//! `node-api --node-dir DIR [--addr HOST:PORT]`: serves a node directory over HTTP.
//!
//! The first line on stdout is the bound address (`127.0.0.1:PORT`), so a supervisor or a
//! test can pass port 0 and learn the real port. Exit codes: 0 after a clean shutdown
//! (SIGTERM or SIGINT), 2 for bad usage or a missing node directory, 3 when the address
//! cannot be bound.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use node_api::{NodeDirSource, Server};
use support::Exit;

const USAGE: &str = "usage: node-api --node-dir DIR [--addr HOST:PORT]   (default 127.0.0.1:7878)";

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
    let (node_dir, addr) = parse_args().map_err(|message| (Exit::InvalidInput, message))?;
    if !node_dir.is_dir() {
        return Err((
            Exit::InvalidInput,
            format!("node directory {} does not exist", node_dir.display()),
        ));
    }
    let server = Server::bind(&addr).map_err(|message| (Exit::Environment, message))?;
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

fn parse_args() -> Result<(PathBuf, String), String> {
    use lexopt::prelude::*;
    let mut node_dir = None;
    let mut addr = "127.0.0.1:7878".to_owned();
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
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("{}\n{USAGE}", other.unexpected())),
        }
    }
    let node_dir = node_dir.ok_or_else(|| format!("--node-dir is required\n{USAGE}"))?;
    Ok((node_dir, addr))
}
