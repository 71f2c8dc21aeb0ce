//! The HTTP loop: one thread answers requests in arrival order until SIGTERM or SIGINT.
//!
//! Shutdown: a signal only sets a flag. The loop notices it within [`POLL_INTERVAL`], answers
//! the requests already received, then drops the listener, so a request in flight always gets
//! its response and nothing new is accepted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::routes::{Response, respond};
use crate::source::ReleaseSource;

/// How long the loop waits for a request before checking for a shutdown signal.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A bound, not yet serving, HTTP server.
pub struct Server {
    http: tiny_http::Server,
    shutdown: Arc<AtomicBool>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and installs the SIGTERM/SIGINT handlers.
    pub fn bind(addr: &str) -> Result<Server, String> {
        let http = tiny_http::Server::http(addr)
            .map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        let shutdown = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&shutdown))
                .map_err(|err| format!("cannot install signal handler: {err}"))?;
        }
        Ok(Server { http, shutdown })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.http.server_addr().to_ip()
    }

    /// Serves until a shutdown signal, then answers what was already received and returns.
    pub fn serve(self, source: &dyn ReleaseSource) {
        while !self.shutdown.load(Ordering::SeqCst) {
            match self.http.recv_timeout(POLL_INTERVAL) {
                Ok(Some(request)) => answer(request, source),
                Ok(None) => {}
                Err(err) => eprintln!("node-api: receiving a request failed: {err}"),
            }
        }
        while let Ok(Some(request)) = self.http.try_recv() {
            answer(request, source);
        }
        // Dropping `self.http` closes the listener.
    }
}

fn answer(request: tiny_http::Request, source: &dyn ReleaseSource) {
    let method = request.method().as_str().to_owned();
    let response = respond(&method, request.url(), source);
    eprintln!("node-api: {method} {} {}", request.url(), response.status);
    if let Err(err) = request.respond(to_http(&response)) {
        eprintln!("node-api: writing the response failed: {err}");
    }
}

fn to_http(response: &Response) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut body = serde_json::to_vec(&response.body).expect("JSON values always serialise");
    body.push(b'\n');
    let mut http = tiny_http::Response::from_data(body)
        .with_status_code(response.status)
        .with_header(header("Content-Type", "application/json"))
        .with_header(header("Cache-Control", "no-store"));
    if let Some(allow) = response.allow {
        http.add_header(header("Allow", &allow.join(", ")));
    }
    http
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("header names and values here are ASCII")
}
