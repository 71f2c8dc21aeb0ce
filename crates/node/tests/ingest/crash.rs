//! Crash safety: a child process ingesting is killed with SIGKILL at every install step, and at
//! a hundred random moments; the store must then hold exactly the old or the new release, and
//! the next ingest must succeed.
//!
//! The child is this test binary re-executed to run only [`crash_child_process`], which ingests
//! with an observer that announces the step it reached on stdout and then blocks forever.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use node::{IngestError, IngestOptions, IngestOutcome, IngestRequest, InstallStep, NodeStore};

use crate::fixture::*;

const CHILD_ENV: &str = "NODE_CRASH_CHILD";
const REACHED: &str = "crash-child reached ";
/// The child's step for an ingest that is not stopped anywhere: it announces that it starts
/// ingesting, then says how long the ingest took.
const RUN_THROUGH: &str = "RunThrough";
const TOOK: &str = "crash-child took-us ";

fn run_through(node_dir: &str, manifest: &str, artifacts: &str) {
    use std::io::Write;
    let manifest = std::fs::read(manifest).unwrap();
    let store = NodeStore::new(node_dir);
    let announce = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    };
    announce(format!("{REACHED}{RUN_THROUGH}"));
    let started = std::time::Instant::now();
    let outcome = store.ingest(
        IngestRequest {
            manifest: &manifest,
            manifest_path: None,
            signature: None,
            artifacts_dir: Some(Path::new(artifacts)),
            statements: &[],
        },
        &options(),
    );
    announce(format!("{TOOK}{}", started.elapsed().as_micros()));
    outcome.unwrap();
}

/// The child side. Does nothing unless started by the tests below with `NODE_CRASH_CHILD` set
/// to `STEP|NODE_DIR|MANIFEST|ARTIFACTS`.
#[test]
#[ignore = "entry point of the crash tests' child process"]
fn crash_child_process() {
    let Ok(config) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = config.split('|').collect();
    let [step, node_dir, manifest, artifacts] = parts[..] else {
        panic!("bad {CHILD_ENV}: {config}");
    };
    if step == RUN_THROUGH {
        run_through(node_dir, manifest, artifacts);
        return;
    }
    let stop_at = InstallStep::ALL
        .into_iter()
        .find(|s| format!("{s:?}") == step)
        .expect("a known step");
    let observer = |reached: InstallStep| {
        if reached == stop_at {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{REACHED}{reached:?}").unwrap();
            out.flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    };
    let manifest = std::fs::read(manifest).unwrap();
    NodeStore::new(node_dir)
        .ingest(
            IngestRequest {
                manifest: &manifest,
                manifest_path: None,
                signature: None,
                artifacts_dir: Some(Path::new(artifacts)),
                statements: &[],
            },
            &IngestOptions {
                observer: Some(&observer),
                ..options()
            },
        )
        .unwrap();
    panic!("the child was meant to stop at {stop_at:?}");
}

/// Starts the child and returns once it announced `step` (it is then blocked there).
fn child_stopped_at(fx: &Fixture, manifest: &Path, step: InstallStep) -> Child {
    let (child, _) = start_child(fx, manifest, &format!("{step:?}"));
    child
}

/// Starts the child and returns once it announced `step`, with the rest of its stdout.
fn start_child(fx: &Fixture, manifest: &Path, step: &str) -> (Child, mpsc::Receiver<String>) {
    let config = format!(
        "{step}|{}|{}|{}",
        fx.store.dir().display(),
        manifest.display(),
        fx.artifacts.display()
    );
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may have printed `test name ... ` on the same line.
            for marker in [REACHED, TOOK] {
                if let Some(at) = line.find(marker) {
                    let _ = sender.send(line[at..].to_owned());
                }
            }
        }
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(reached) => assert_eq!(reached, format!("{REACHED}{step}")),
        Err(_) => {
            let _ = child.kill();
            panic!("the child never reached {step}");
        }
    }
    (child, receiver)
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success());
}

#[test]
fn sigkill_at_every_install_step_leaves_the_old_or_the_new_release() {
    for base in [0usize, 1] {
        for step in InstallStep::ALL {
            let fx = Fixture::new();
            let releases = chain(&fx, 3);
            for release in &releases[..base] {
                fx.install(&bytes(release));
            }
            let new = &releases[base];
            let manifest_path = fx.root.path().join("offered.json");
            std::fs::write(&manifest_path, bytes(new)).unwrap();

            kill(child_stopped_at(&fx, &manifest_path, step));

            let context = format!("killed at {step:?} over {base} installed release(s)");
            let status = fx
                .store
                .status()
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            let committed = step >= InstallStep::Committed;
            let expected = if committed {
                Some(digest_of(new))
            } else {
                releases[..base].last().map(digest_of)
            };
            assert_eq!(
                status.current.as_ref().map(|c| c.digest.clone()),
                expected,
                "{context}"
            );
            assert_eq!(
                status.history.len(),
                base + usize::from(committed),
                "{context}"
            );

            // The next ingest of the same release succeeds (or finds it already installed).
            let outcome = fx
                .ingest(&bytes(new))
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            match outcome {
                IngestOutcome::Installed(_) => assert!(!committed, "{context}"),
                IngestOutcome::AlreadyCurrent { .. } => assert!(committed, "{context}"),
            }
            // And so does the one after it, which also prunes any leftovers.
            fx.install(&bytes(&releases[base + 1]));
            let status = fx.store.status().unwrap();
            assert_eq!(status.history.len(), base + 2, "{context}");
            assert!(!status.history_append_pending, "{context}");
            let leftovers: Vec<_> = std::fs::read_dir(fx.store.dir().join("releases"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with('.'))
                .collect();
            assert!(leftovers.is_empty(), "{context}: {leftovers:?}");
        }
    }
}

#[test]
fn an_ingest_in_another_process_holds_the_lock_until_it_dies() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    let manifest_path = fx.root.path().join("offered.json");
    std::fs::write(&manifest_path, bytes(&releases[1])).unwrap();
    let before = fx.snapshot();

    let child = child_stopped_at(&fx, &manifest_path, InstallStep::Locked);
    let err = fx.ingest(&bytes(&releases[1])).unwrap_err();
    assert!(matches!(err, IngestError::Locked { .. }), "{err}");
    assert_eq!(fx.snapshot(), before);

    // The kernel drops the lock with the process: no stale lock to clean up by hand.
    kill(child);
    fx.install(&bytes(&releases[1]));
}

/// A small deterministic generator (xorshift64*), seeded per run and printed on failure.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// SIGKILL at random moments, not only at the install steps: the child starts ingesting, the
/// parent waits a random time up to a little more than an ingest takes, and kills it. After
/// every kill the node holds the release before or the offered one, with a verified history,
/// and the offered release installs (or is already current) afterwards.
#[test]
fn slow_random_sigkills_leave_the_old_or_the_new_release() {
    const KILLS: usize = 100;
    let fx = Fixture::new();
    let releases = chain(&fx, KILLS as u64 + 1);
    let manifest_path = fx.root.path().join("offered.json");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut random = Random(seed);

    // How long one ingest takes here, measured on the first release.
    std::fs::write(&manifest_path, bytes(&releases[0])).unwrap();
    let (mut child, lines) = start_child(&fx, &manifest_path, RUN_THROUGH);
    let took = lines.recv_timeout(Duration::from_secs(60)).unwrap();
    let took_us: u64 = took.trim_start_matches(TOOK).trim().parse().unwrap();
    assert!(child.wait().unwrap().success());
    let window_us = took_us * 5 / 4 + 200;

    let mut installed = 0usize; // index of the current release
    let (mut old, mut new) = (0, 0);
    for kill_number in 0..KILLS {
        let offered = &releases[installed + 1];
        std::fs::write(&manifest_path, bytes(offered)).unwrap();
        let (mut child, _lines) = start_child(&fx, &manifest_path, RUN_THROUGH);
        std::thread::sleep(Duration::from_micros(random.next() % window_us));
        child.kill().unwrap();
        child.wait().unwrap();

        let context = format!("kill {kill_number}, seed {seed}, window {window_us} us");
        let status = fx
            .store
            .status()
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        let current = status.current.expect("a release stays installed").digest;
        if current == digest_of(offered) {
            new += 1;
            installed += 1;
        } else {
            assert_eq!(current, digest_of(&releases[installed]), "{context}");
            old += 1;
        }
        assert_eq!(status.history.len(), installed + 1, "{context}");
    }
    // Both sides of the commit point were hit, and the store still takes the next release.
    assert!(old > 0 && new > 0, "old {old}, new {new}, seed {seed}");
    fx.install(&bytes(&releases[installed + 1]));
    let status = fx.store.status().unwrap();
    assert!(!status.history_append_pending);
    eprintln!("{KILLS} kills: {old} left the old release, {new} the new one (seed {seed})");
}
