//! API health contract: the real `node-api` binary on 127.0.0.1 (ephemeral port), a real HTTP
//! client, and a real node store changed underneath it by the node library's ingest.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous bounds: they only matter when something hangs.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `node-api` process; killed on drop if a test failed before shutting it down.
struct ApiProcess {
    child: Child,
    base_url: String,
    client: ureq::Agent,
}

/// One HTTP reply, read completely.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: Option<String>,
    cache_control: Option<String>,
    allow: Option<String>,
    body: Value,
}

impl ApiProcess {
    fn start(node_dir: &Path) -> ApiProcess {
        ApiProcess::start_with(node_dir, &[], Stdio::inherit())
    }

    /// With extra flags, and stderr (the access log) where the caller wants it.
    fn start_with(node_dir: &Path, extra: &[&str], stderr: Stdio) -> ApiProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_node-api"))
            .arg("--node-dir")
            .arg(node_dir)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start node-api");
        // The first stdout line is the bound address; read it on a thread so a hung server
        // fails the test instead of hanging it.
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let addr = match receiver.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) if !line.trim().is_empty() => line.trim().to_owned(),
            other => {
                let _ = child.kill();
                panic!("node-api printed no address: {other:?}");
            }
        };
        assert!(addr.starts_with("127.0.0.1:"), "bound to {addr}");
        let client = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        ApiProcess {
            child,
            base_url: format!("http://{addr}"),
            client,
        }
    }

    fn get(&self, path: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .call()
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        read_reply(response)
    }

    fn post(&self, path: &str) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .send_empty()
            .unwrap_or_else(|err| panic!("POST {path}: {err}"));
        read_reply(response)
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn terminate(mut self) -> (ExitStatus, Duration) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let sent = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, sent.elapsed());
            }
            assert!(
                sent.elapsed() < SHUTDOWN_TIMEOUT,
                "node-api still running {SHUTDOWN_TIMEOUT:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type");
    let cache_control = header("cache-control");
    let allow = header("allow");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("status {status}: body is not JSON ({err}): {text}"));
    Reply {
        status,
        content_type,
        cache_control,
        allow,
        body,
    }
}

/// Status, JSON content type, no caching, and a body that is the shape its `schema` names
/// (`schemas/node-api-*.v1.json`).
fn assert_reply(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{reply:#?}");
    assert_eq!(
        reply.cache_control.as_deref(),
        Some("no-store"),
        "{reply:#?}"
    );
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/json"),
        "{reply:#?}"
    );
    if let Err(err) = output_types::validate::check(&reply.body.to_string()) {
        panic!("{err}\n{reply:#?}");
    }
}

/// 2026-06-01T00:00:00Z: federation's timestamps and the node's expiry check.
const NOW: i64 = 1_780_272_000;

/// A node directory and releases built by the release crate's federation.
struct Node {
    root: tempfile::TempDir,
    store: node::NodeStore,
}

impl Node {
    fn new() -> Node {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("node");
        std::fs::create_dir(&dir).unwrap();
        Node {
            root,
            store: node::NodeStore::new(dir),
        }
    }

    fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// Release `generation` of every provider's model, chained to `previous`.
    fn release(
        &self,
        generation: u32,
        previous: Option<&release::ReleaseManifest>,
    ) -> release::ReleaseManifest {
        let manifests = [("hf", "textgen"), ("gcp", "embed"), ("aws", "runtime")]
            .into_iter()
            .map(|(provider, role)| {
                let text = serde_json::json!({"provider": provider, "artifacts": [{
                    "id": format!("spiralverse/{provider}-v{generation}"), "role": role,
                    "uri": format!("{provider}://spiralverse/{provider}-v{generation}"),
                    "metrics": {"quality": 0.82, "safety": 0.97, "latency_ms_p95": 140, "cost_per_1k_tokens": 0.9},
                }]});
                let path = self.root.path().join(format!("{provider}.json"));
                release::ProviderManifest::parse(&path, &text.to_string()).unwrap()
            })
            .collect();
        let outcome = release::federation::federate(release::federation::Inputs {
            manifests,
            thresholds: release::Thresholds::default(),
            expires_after_days: 30,
            previous: previous.cloned(),
            carry_forward: false,
            artifacts: release::federation::ArtifactLocator::default(),
            now: NOW,
            kernel_digest: None,
            source: None,
        })
        .unwrap();
        outcome.release.expect("every provider passes its gates")
    }

    fn ingest(&self, manifest: &[u8]) -> Result<node::IngestOutcome, node::IngestError> {
        self.store.ingest(
            node::IngestRequest {
                manifest,
                manifest_path: None,
                signature: None,
                artifacts_dir: None,
                statements: &[],
            },
            &node::IngestOptions {
                now_unix: Some(NOW),
                ..node::IngestOptions::default()
            },
        )
    }

    fn install(&self, release: &release::ReleaseManifest) {
        match self.ingest(&release.to_bytes()) {
            Ok(node::IngestOutcome::Installed(_)) => {}
            other => panic!("expected an install, got {other:?}"),
        }
    }
}

/// `/readyz` and `/v1/release` agree on the release being served.
fn assert_serving(api: &ApiProcess, expected: &release::ReleaseManifest) {
    let ready = api.get("/readyz");
    assert_reply(&ready, 200);
    assert_eq!(ready.body["ready"], true);
    assert_eq!(ready.body["release"]["digest"], expected.digest.as_str());
    assert_eq!(ready.body["release"]["release_seq"], expected.release_seq);

    let served = api.get("/v1/release");
    assert_reply(&served, 200);
    assert_eq!(served.body["digest"], expected.digest.as_str());
    assert_eq!(served.body["release_seq"], expected.release_seq);
    assert_eq!(
        served.body["rollback_of"].as_str(),
        expected.rollback_of.as_deref()
    );
    let as_published: Value = serde_json::from_slice(&expected.to_bytes()).unwrap();
    assert_eq!(
        served.body["manifest"], as_published,
        "the manifest as installed"
    );
    assert!(served.body["verified_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn api_health_contract_empty_node_is_alive_but_not_ready() {
    let node = Node::new();
    let api = ApiProcess::start(node.dir());

    let health = api.get("/healthz");
    assert_reply(&health, 200);
    assert_eq!(health.body["status"], "alive");

    let ready = api.get("/readyz");
    assert_reply(&ready, 503);
    assert_eq!(ready.body["ready"], false);
    assert_eq!(ready.body["reason"], "no release installed");

    let release = api.get("/v1/release");
    assert_reply(&release, 503);
    assert_eq!(release.body["error"], "not-ready");

    let unknown = api.get("/v2/release?x=1");
    assert_reply(&unknown, 404);
    assert_eq!(unknown.body["error"], "not-found");
    assert_eq!(unknown.body["path"], "/v2/release");

    // HEAD answers like GET, without a body (what load balancer probes send).
    let head = api
        .client
        .head(format!("{}/readyz", api.base_url))
        .call()
        .unwrap();
    assert_eq!(head.status().as_u16(), 503);
    assert_eq!(head.headers()["content-type"], "application/json");

    let wrong_method = api.post("/readyz");
    assert_reply(&wrong_method, 405);
    assert_eq!(wrong_method.allow.as_deref(), Some("GET, HEAD"));
    assert_eq!(wrong_method.body["method"], "POST");

    let (status, _) = api.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn api_health_contract_install_makes_the_node_ready_and_serves_the_release() {
    let node = Node::new();
    let api = ApiProcess::start(node.dir());
    assert_reply(&api.get("/readyz"), 503);

    // Installed by the node library, not by the API: the next request sees it.
    let first = node.release(1, None);
    node.install(&first);
    assert_serving(&api, &first);
    assert_eq!(api.get("/v1/release").body["signed_by"], Value::Null);

    let second = node.release(2, Some(&first));
    node.install(&second);
    assert_serving(&api, &second);
}

#[test]
fn api_health_contract_rollback_release_is_served_with_a_higher_seq() {
    let node = Node::new();
    let first = node.release(1, None);
    let second = node.release(2, Some(&first));
    node.install(&first);
    node.install(&second);
    let api = ApiProcess::start(node.dir());
    assert_serving(&api, &second);

    let rollback = release::chain::rollback_release(&first, &second, NOW, 30);
    node.install(&rollback);
    assert_serving(&api, &rollback);
    let served = api.get("/v1/release").body;
    assert_eq!(
        served["release_seq"], 3,
        "a rollback never lowers release_seq"
    );
    assert_eq!(served["rollback_of"], first.digest.as_str());
    let first_published: Value = serde_json::from_slice(&first.to_bytes()).unwrap();
    assert_eq!(served["manifest"]["units"], first_published["units"]);
    assert_ne!(served["digest"], first.digest.as_str());
}

#[test]
fn api_health_contract_failed_ingest_leaves_the_previous_release_served() {
    let node = Node::new();
    let first = node.release(1, None);
    node.install(&first);
    let api = ApiProcess::start(node.dir());
    assert_serving(&api, &first);

    // One byte of the next release changed after publishing: refused, nothing changes.
    let mut tampered = node.release(2, Some(&first)).to_bytes();
    let at = tampered.windows(3).position(|w| w == b"-v2").unwrap();
    tampered[at + 2] = b'9';
    let err = node.ingest(&tampered).unwrap_err();
    assert!(
        matches!(err, node::IngestError::DigestMismatch { .. }),
        "{err}"
    );
    assert_serving(&api, &first);

    // An older release offered again (a rollback attack) is refused too.
    let second = node.release(2, Some(&first));
    node.install(&second);
    let err = node.ingest(&first.to_bytes()).unwrap_err();
    assert!(
        matches!(err, node::IngestError::RollbackAttack { .. }),
        "{err}"
    );
    assert_serving(&api, &second);
}

#[test]
fn api_health_contract_store_edited_on_disk_makes_the_node_unready() {
    let node = Node::new();
    let first = node.release(1, None);
    node.install(&first);
    let api = ApiProcess::start(node.dir());
    assert_serving(&api, &first);

    let installed = node.store.current().unwrap().unwrap().manifest_path();
    let edited = std::fs::read_to_string(&installed)
        .unwrap()
        .replace("-v1", "-v7");
    std::fs::write(&installed, edited).unwrap();
    let ready = api.get("/readyz");
    assert_reply(&ready, 503);
    assert!(
        ready.body["reason"]
            .as_str()
            .unwrap()
            .starts_with("installed release cannot be verified"),
        "{ready:#?}"
    );
    assert_reply(&api.get("/v1/release"), 503);
    assert_reply(&api.get("/healthz"), 200);
}

#[test]
fn api_health_contract_sigterm_stops_the_server_cleanly() {
    let node = Node::new();
    let api = ApiProcess::start(node.dir());
    assert_reply(&api.get("/healthz"), 200);
    let addr = api.base_url.trim_start_matches("http://").to_owned();

    let (status, took) = api.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "{addr} still accepts connections after shutdown"
    );
}

#[test]
fn bad_usage_exits_2_and_an_address_in_use_exits_3() {
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_node-api"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run node-api")
    };
    let missing_flag = run(&[]);
    assert_eq!(missing_flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_flag.stderr).contains("--node-dir <DIR>"));
    let out_of_range = run(&[
        "--node-dir".as_ref(),
        "x".as_ref(),
        "--request-timeout-ms".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(out_of_range.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out_of_range.stderr).contains("not in 1..=600000"));
    for (flag, expected) in [
        ("--help", "--request-timeout-ms <MS>"),
        ("--version", "node-api "),
    ] {
        let answered = run(&[flag.as_ref()]);
        assert_eq!(answered.status.code(), Some(0), "{flag}");
        assert!(
            String::from_utf8_lossy(&answered.stdout).contains(expected),
            "{flag}"
        );
    }

    let node = Node::new();
    let no_such_dir = node.dir().join("absent");
    let missing_dir = run(&["--node-dir".as_ref(), no_such_dir.as_os_str()]);
    assert_eq!(missing_dir.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_dir.stderr).contains("does not exist"));

    // An address that is not HOST:PORT is bad usage, not the environment.
    let nonsense = run(&[
        "--node-dir".as_ref(),
        node.dir().as_os_str(),
        "--addr".as_ref(),
        "nonsense".as_ref(),
    ]);
    assert_eq!(nonsense.status.code(), Some(2), "{nonsense:?}");
    assert!(
        String::from_utf8_lossy(&nonsense.stderr).contains("--addr \"nonsense\": not a HOST:PORT")
    );
    // A node directory that is a file says so.
    let file = node.root.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let not_dir = run(&["--node-dir".as_ref(), file.as_os_str()]);
    assert_eq!(not_dir.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_dir.stderr).contains("is a file, not a directory"));

    let api = ApiProcess::start(node.dir());
    let taken = api.base_url.trim_start_matches("http://").to_owned();
    let in_use = run(&[
        "--node-dir".as_ref(),
        node.dir().as_os_str(),
        "--addr".as_ref(),
        taken.as_ref(),
    ]);
    assert_eq!(in_use.status.code(), Some(3), "{in_use:?}");
    assert!(String::from_utf8_lossy(&in_use.stderr).contains("cannot listen on"));
}

#[test]
fn an_edited_verification_record_is_not_served() {
    let node = Node::new();
    let first = node.release(1, None);
    node.install(&first);
    let api = ApiProcess::start(node.dir());
    assert_serving(&api, &first);
    let record = node
        .store
        .current()
        .unwrap()
        .unwrap()
        .dir
        .join("verification.json");
    let text = std::fs::read_to_string(&record).unwrap();
    let forged = text.replace("\"signed_by\": null", "\"signed_by\": \"alice, bob\"");
    assert_ne!(forged, text);
    std::fs::write(&record, forged).unwrap();
    let served = api.get("/v1/release");
    assert_reply(&served, 503);
    assert!(
        served.body["reason"]
            .as_str()
            .unwrap()
            .contains("verification.json: changed since it was installed"),
        "{served:#?}"
    );
}

/// Sends `bytes` on a fresh connection and returns the raw response (status line first).
fn raw_request(addr: &str, bytes: &[u8]) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    // The server may answer and close before taking everything: later writes may fail.
    let _ = stream.write_all(bytes);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

fn status_of(response: &str) -> &str {
    response.get(9..12).unwrap_or(response)
}

/// The body of a raw response, checked against the schema it names.
fn checked_body(response: &str) -> &str {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    if let Err(err) = output_types::validate::check(body) {
        panic!("{err}\n{response}");
    }
    body
}

/// Threads of a running process (Linux `/proc`).
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn garbage_oversized_and_slow_requests_get_400_431_and_408_and_the_log_is_escaped() {
    let node = Node::new();
    let log = node.root.path().join("api.log");
    let api = ApiProcess::start_with(
        node.dir(),
        &["--request-timeout-ms", "300"],
        std::fs::File::create(&log).unwrap().into(),
    );
    let addr = api.base_url.trim_start_matches("http://").to_owned();

    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
        b"GET /\x1b[2J\x00 HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    ] {
        let response = raw_request(&addr, garbage);
        assert_eq!(status_of(&response), "400", "{garbage:?}: {response}");
        assert!(
            checked_body(&response).contains("\"error\":\"bad-request\""),
            "{response}"
        );
    }

    // A header far over the limit: 431, without the server reading it all.
    let mut huge = b"GET /healthz HTTP/1.1\r\nX-Big: ".to_vec();
    huge.resize(40 * 1024, b'a');
    let response = raw_request(&addr, &huge);
    assert_eq!(status_of(&response), "431", "{response}");
    checked_body(&response);

    // A request line that never ends: 408 once the request time is up.
    let started = Instant::now();
    let response = raw_request(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(status_of(&response), "408", "{response}");
    checked_body(&response);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Still serving; then the log holds no raw control byte of what clients sent.
    assert_reply(&api.get("/healthz"), 200);
    let (status, _) = api.terminate();
    assert!(status.success());
    let logged = std::fs::read(&log).unwrap();
    assert!(
        !logged.iter().any(|&b| b == 0x1b || b == 0),
        "{}",
        String::from_utf8_lossy(&logged)
    );
    let logged = String::from_utf8_lossy(&logged);
    assert!(logged.contains("node-api: - - 400"), "{logged}");
    assert!(logged.contains("node-api: GET /healthz 200"), "{logged}");
}

#[test]
fn slow_half_open_connections_are_capped_and_do_not_grow_threads() {
    let node = Node::new();
    let api = ApiProcess::start_with(node.dir(), &["--request-timeout-ms", "1000"], Stdio::null());
    let addr = api.base_url.trim_start_matches("http://").to_owned();
    // Serving a request means every worker has started: one accepting thread and the workers.
    assert_reply(&api.get("/healthz"), 200);
    let before = threads(api.child.id());
    assert_eq!(before, 1 + node_api::server::WORKERS);

    // 300 connections that never send a byte.
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    // Those beyond the cap are answered 503 at once and closed.
    let mut busy = 0;
    for mut stream in idle {
        use std::io::Read as _;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        match status_of(&response) {
            "503" => {
                assert!(
                    checked_body(&response).contains("\"error\":\"busy\""),
                    "{response}"
                );
                busy += 1;
            }
            "408" => {}
            other => panic!("unexpected {other}: {response}"),
        }
        assert!(threads(api.child.id()) <= before, "threads grew");
    }
    // How many found the slots full depends on how fast the kernel hands connections over;
    // with 300 opened within a request time of 1 s, some always do.
    assert!(busy > 0, "no connection was turned away");
    assert_eq!(threads(api.child.id()), before);
    assert_reply(&api.get("/healthz"), 200);
}
