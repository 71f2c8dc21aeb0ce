//! The command line as people meet it: the real xtask binary's `--help`, `--version` and usage
//! errors, their exit codes, and help written into a pipe nobody reads.

use std::process::{Command, Output, Stdio};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let version = xtask(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        text(&version.stdout),
        format!("cargo xtask {}\n", env!("CARGO_PKG_VERSION"))
    );

    for (words, flag) in [
        (&["lanes", "--help"][..], "--no-count"),
        (&["preflight", "-h"], "--format"),
        (&["lane", "--help"], "--partition"),
        (&["release-lane", "--help"], "--no-install"),
        (&["deps", "audit", "--help"], "--groups"),
        (&["deps", "report", "--help"], "markdown"),
        (&["impact", "record", "--help"], "--no-seccomp-bpf"),
        // `bench --help` is the bench's own (`slow_bench_help_is_the_bench_s_own`).
        (&["help", "bench"], "WHAT"),
        (&["help", "rollback"], "--expires-in-days"),
    ] {
        let run = xtask(words);
        let stdout = text(&run.stdout);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{words:?}: {}",
            text(&run.stderr)
        );
        assert!(stdout.contains(flag), "{words:?}: {stdout}");
        assert!(
            stdout.contains("Usage: cargo xtask "),
            "{words:?}: {stdout}"
        );
        assert!(run.stderr.is_empty(), "{words:?}: {}", text(&run.stderr));
    }
}

#[test]
fn usage_errors_exit_2_and_say_what_to_type() {
    for (words, expected) in [
        (&[][..], "Usage: cargo xtask <COMMAND>"),
        (&["lanes", "--bogus"], "unexpected argument '--bogus'"),
        (
            &["lanes", "--no-cont"],
            "a similar argument exists: '--no-count'",
        ),
        (&["lane"], "<NAME>"),
        (&["deps"], "Usage: cargo xtask deps <COMMAND>"),
        (&["kernel", "--json"], "unexpected argument '--json'"),
        (
            &["deps", "audit", "--format", "yaml"],
            "[possible values: human, json]",
        ),
        (&["test"], "--affected"),
        (&["ingest", "--status"], "--node-dir <DIR>"),
        (&["rollback", "--expires-in-days", "0"], "between 1 and"),
        (
            &["federate", "--min-safety", "2"],
            "min_safety must be between 0 and 1",
        ),
        (
            &["impact", "history", "--commits", "many"],
            "invalid value 'many' for '--commits <N>'",
        ),
        (
            &["lanes", "--format"],
            "a value is required for '--format <FORMAT>'",
        ),
        (&["nonsense"], "unrecognized subcommand 'nonsense'"),
    ] {
        let run = xtask(words);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{words:?}: {stderr}");
        assert!(stderr.contains(expected), "{words:?}: {stderr}");
        assert!(run.stdout.is_empty(), "{words:?}: {}", text(&run.stdout));
    }
}

#[test]
fn help_into_a_closed_pipe_ends_quietly() {
    // The reader is gone before xtask writes a byte: every write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["impact", "--help"])
        .stdin(Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(run.stderr.is_empty(), "{}", text(&run.stderr));
}

/// `cargo xtask bench --help` passes `--help` to the bench binary, which lists its measurements
/// (slow: `cargo run -p bench` builds the bench).
#[test]
fn slow_bench_help_is_the_bench_s_own() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    support::nested::isolate(&mut command);
    let run = command
        .args(["bench", "history", "--help"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        stdout.contains("Usage: cargo xtask bench history [OPTIONS] --repo <PATH>"),
        "{stdout}"
    );
    assert!(stdout.contains("--reuse <FILE>"), "{stdout}");
}
