//! The HTTP server: a small HTTP/1.1 subset over `std::net`, with every resource bounded.
//!
//! - **Threads**: one accepting thread and [`WORKERS`] worker threads, fixed at start. A
//!   connection waits in a queue of [`QUEUE`]; when workers and queue are all taken, it is
//!   answered `503` at once and closed, so [`MAX_CONNECTIONS`] is the most held open.
//! - **Size**: the request line and headers together are at most [`MAX_HEAD_BYTES`]; more is
//!   `431`. Requests have no body here (`GET`, `HEAD`); one that comes anyway is not read.
//! - **Time**: the request head must arrive within [`REQUEST_TIMEOUT`] of the connection being
//!   accepted, else `408`; writes time out too. One request per connection (`Connection: close`).
//! - **Garbage**: a request line that is not `METHOD /target HTTP/1.x` in printable ASCII, or a
//!   header line that is not printable ASCII with a colon, is `400`.
//!
//! Shutdown: SIGTERM or SIGINT sets a flag. The accepting thread notices it within
//! [`POLL_INTERVAL`], closes the listener so nothing new is accepted, and the workers finish the
//! connections already accepted (each bounded by [`REQUEST_TIMEOUT`]) before `serve` returns.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::routes::{self, Response, respond};
use crate::source::ReleaseSource;

/// How long the accepting thread sleeps when no connection is waiting, between checks for a
/// shutdown signal.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Worker threads, each serving one connection at a time.
pub const WORKERS: usize = 8;
/// Accepted connections waiting for a worker.
pub const QUEUE: usize = 56;
/// Connections held open at once (served or waiting); more are answered `503` and closed.
pub const MAX_CONNECTIONS: usize = WORKERS + QUEUE;
/// Request line and headers, in bytes.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// From accepting a connection to having its whole request head (default; `node-api
/// --request-timeout-ms` changes it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Writing a response, and draining what a client sent that was not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const DRAIN_TIMEOUT: Duration = Duration::from_millis(100);

/// A bound, not yet serving, HTTP server.
pub struct Server {
    listener: TcpListener,
    shutdown: Arc<AtomicBool>,
    request_timeout: Duration,
}

/// Why `--addr` could not be served.
#[derive(Debug)]
pub enum BindError {
    /// Not a `HOST:PORT` that resolves: bad usage.
    BadAddress(String),
    /// A valid address that cannot be bound (in use, not local): the environment.
    CannotListen(String),
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and installs the SIGTERM/SIGINT handlers.
    pub fn bind(addr: &str) -> Result<Server, BindError> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|err| {
                BindError::BadAddress(format!("--addr {addr:?}: not a HOST:PORT address ({err})"))
            })?
            .collect();
        let listener = TcpListener::bind(&addrs[..])
            .map_err(|err| BindError::CannotListen(format!("cannot listen on {addr}: {err}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|err| BindError::CannotListen(format!("cannot listen on {addr}: {err}")))?;
        let shutdown = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&shutdown)).map_err(|err| {
                BindError::CannotListen(format!("cannot install signal handler: {err}"))
            })?;
        }
        Ok(Server {
            listener,
            shutdown,
            request_timeout: REQUEST_TIMEOUT,
        })
    }

    /// Sets how long a client has, from being accepted, to send its request head.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Server {
        self.request_timeout = timeout;
        self
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until a shutdown signal, then finishes the connections already accepted.
    pub fn serve(self, source: &(dyn ReleaseSource + Sync)) {
        let (sender, receiver) = mpsc::sync_channel::<(TcpStream, Instant)>(QUEUE);
        let receiver = &Mutex::new(receiver);
        let timeout = self.request_timeout;
        std::thread::scope(|scope| {
            for _ in 0..WORKERS {
                scope.spawn(move || work(receiver, source, timeout));
            }
            self.accept_until_shutdown(&sender);
            drop(self.listener);
            drop(sender);
        });
    }

    fn accept_until_shutdown(&self, queue: &SyncSender<(TcpStream, Instant)>) {
        while !self.shutdown.load(Ordering::SeqCst) {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    // Accepted sockets may inherit non-blocking mode; workers use timeouts.
                    if stream.set_nonblocking(false).is_err() {
                        continue;
                    }
                    match queue.try_send((stream, Instant::now())) {
                        Ok(()) => {}
                        Err(TrySendError::Full((stream, _))) => {
                            let busy = routes::busy(MAX_CONNECTIONS);
                            log("-", "-", busy.status);
                            // No draining here: the accepting thread must not wait on clients.
                            send(stream, &busy, false, Duration::ZERO);
                        }
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(POLL_INTERVAL);
                }
                Err(err) => {
                    // Out of descriptors and the like: say so and keep serving.
                    log_line(&format!("accepting a connection failed: {err}"));
                    std::thread::sleep(POLL_INTERVAL);
                }
            }
        }
    }
}

fn work(
    queue: &Mutex<Receiver<(TcpStream, Instant)>>,
    source: &(dyn ReleaseSource + Sync),
    timeout: Duration,
) {
    loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((stream, accepted)) = next else {
            return;
        };
        serve_connection(stream, accepted + timeout, timeout, source);
    }
}

/// A request head as read off the wire.
enum Head {
    Complete(Vec<u8>),
    TooLarge,
    TimedOut,
    /// The client closed its side; `true` when it had sent something.
    Closed(bool),
}

fn serve_connection(
    mut stream: TcpStream,
    deadline: Instant,
    timeout: Duration,
    source: &(dyn ReleaseSource + Sync),
) {
    let (response, method, target, head_only) = match read_head(&mut stream, deadline) {
        Head::Complete(head) => match parse_head(&head) {
            Ok((method, target)) => {
                let response = respond(&method, &target, source);
                let head_only = method == "HEAD";
                (response, method, target, head_only)
            }
            Err(reason) => (routes::bad_request(reason), "-".into(), "-".into(), false),
        },
        Head::TooLarge => (
            routes::headers_too_large(MAX_HEAD_BYTES),
            "-".into(),
            "-".into(),
            false,
        ),
        Head::TimedOut => (
            routes::request_timeout(timeout),
            "-".into(),
            "-".into(),
            false,
        ),
        Head::Closed(false) => return,
        Head::Closed(true) => (
            routes::bad_request("the connection closed before the request head ended".into()),
            "-".into(),
            "-".into(),
            false,
        ),
    };
    log(&method, &target, response.status);
    send(stream, &response, head_only, DRAIN_TIMEOUT);
}

/// Reads up to the blank line ending the head, within the deadline and the size limit.
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Head {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return Head::TimedOut;
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            return Head::Closed(!head.is_empty());
        }
        let read = match stream.read(&mut chunk) {
            Ok(0) => return Head::Closed(!head.is_empty()),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Head::TimedOut;
            }
            Err(_) => return Head::Closed(!head.is_empty()),
        };
        let searched_from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_head_end(&head[searched_from..]) {
            head.truncate(searched_from + end);
            return if head.len() > MAX_HEAD_BYTES {
                Head::TooLarge
            } else {
                Head::Complete(head)
            };
        }
        if head.len() > MAX_HEAD_BYTES {
            return Head::TooLarge;
        }
    }
}

/// Where the head ends (just before the blank line), accepting bare `\n` line ends.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len())
        .find(|&i| bytes[i..].starts_with(b"\r\n\r\n") || bytes[i..].starts_with(b"\n\n"))
}

/// `(method, target)` from a request head, or why it is not one.
fn parse_head(head: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(head)
        .ok()
        .filter(|text| text.is_ascii())
        .ok_or_else(|| "the request head is not ASCII".to_owned())?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(format!(
            "the request line {:?} is not `METHOD /target HTTP/1.1`",
            request_line
        ));
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !token(method) {
        return Err(format!("the method {method:?} is not a token"));
    }
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("the target {target:?} is not an absolute path"));
    }
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(format!(
            "the version {version:?} is not HTTP/1.0 or HTTP/1.1"
        ));
    }
    for line in lines {
        let printable = line
            .bytes()
            .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t');
        if !printable || !line.contains(':') {
            return Err(format!("the header line {line:?} is not `Name: value`"));
        }
    }
    Ok((method.to_owned(), target.to_owned()))
}

/// Writes the response, closes the write side, and drains briefly what the client may still
/// be sending, so closing does not reset the connection before it reads the response.
fn send(mut stream: TcpStream, response: &Response, head_only: bool, drain: Duration) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.write_all(&encode(response, head_only));
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    if drain.is_zero() {
        return;
    }
    let _ = stream.set_read_timeout(Some(drain));
    let started = Instant::now();
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while started.elapsed() < drain && drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

fn encode(response: &Response, head_only: bool) -> Vec<u8> {
    let mut body = serde_json::to_vec(&response.body).expect("JSON values always serialise");
    body.push(b'\n');
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason_phrase(response.status),
        body.len()
    );
    if let Some(allow) = response.allow {
        out.push_str(&format!("Allow: {}\r\n", allow.join(", ")));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(&body);
    }
    bytes
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// One access-log line on stderr; what the client sent is escaped, so control bytes in a path
/// never reach a terminal or log raw.
fn log(method: &str, target: &str, status: u16) {
    log_line(&format!(
        "{} {} {status}",
        support::text::escape_controls(method),
        support::text::escape_controls(target)
    ));
}

fn log_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "node-api: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse_or_say_why_not() {
        assert_eq!(
            parse_head(b"GET /readyz?x=1 HTTP/1.1\r\nHost: a\r\nX-Y:  z\t"),
            Ok(("GET".into(), "/readyz?x=1".into()))
        );
        for (head, why) in [
            (&b"GET /\xc3\xa9 HTTP/1.1"[..], "not ASCII"),
            (b"GARBAGE", "request line"),
            (b"GET  / HTTP/1.1", "request line"),
            (b"G(T / HTTP/1.1", "method"),
            (b"GET readyz HTTP/1.1", "target"),
            (b"GET / HTTP/2.0", "version"),
            (b"GET / HTTP/1.1\r\nno colon", "header line"),
            (b"GET / HTTP/1.1\r\nX: \x1b[2J", "header line"),
        ] {
            let err = parse_head(head).unwrap_err();
            assert!(err.contains(why), "{head:?}: {err}");
        }
    }

    #[test]
    fn the_head_ends_at_the_first_blank_line() {
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"),
            Some(20)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.0\n\n"), Some(14));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }
}
