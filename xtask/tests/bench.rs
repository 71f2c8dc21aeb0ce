//! `cargo xtask bench` is a pass-through to the bench binary (`crates/bench`): it builds and
//! runs it with the same arguments and exits with its code. The bench's reports, written
//! through it, match their schemas (`schemas/bench-impact.v1.json`, `schemas/bench-all.v1.json`).

use std::process::{Command, Output};

/// `cargo xtask bench ARGS`, as a person runs it. Builds the bench with cargo on first use (it
/// is not an xtask dependency), hence every test here is slow.
fn xtask_bench(args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    support::nested::isolate(&mut command);
    command.arg("bench").args(args).output().expect("run xtask")
}

#[test]
fn slow_bench_forwards_its_arguments_and_the_exit_code() {
    let output = xtask_bench(&["no-such-bench".as_ref(), "--flag".as_ref()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unrecognized subcommand 'no-such-bench'")
            && stderr.contains("Usage: cargo xtask bench <COMMAND>"),
        "the bench binary's own usage line: {stderr}"
    );
}

/// `cargo xtask bench ARGS --dir TEMP --output TEMP/report.json`, which must succeed; the report,
/// checked against the schema it names.
fn bench_report(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut words: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    words.extend([
        "--dir".as_ref(),
        dir.path().as_os_str(),
        "--output".as_ref(),
        report.as_os_str(),
    ]);
    let output = xtask_bench(&words);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    output_types::validate::document(std::fs::read(&report).unwrap())
}

/// `bench impact --output FILE` on two small synthetic workspaces, timing this xtask.
#[test]
fn slow_bench_impact_writes_its_schema() {
    let json = bench_report(&["impact", "--sizes", "3,6", "--warm-runs", "1"]);
    assert_eq!(json["schema"], "bench-impact/v1");
    assert_eq!(json["profile"], "dev");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json:#}");
    for (row, crates) in rows.iter().zip([3, 6]) {
        assert_eq!(row["crates"], crates, "{json:#}");
        assert_eq!(row["selected"], row["reference"], "{json:#}");
        assert_eq!(row["determinator"], serde_json::Value::Null, "{json:#}");
    }
}

/// `bench all --quick --only artifacts --output FILE`: the table's lines and what is behind them.
#[test]
fn slow_bench_all_writes_its_schema() {
    let json = bench_report(&["all", "--quick", "--only", "artifacts"]);
    assert_eq!(json["schema"], "bench-all/v1");
    assert_eq!(json["quick"], true);
    let areas: Vec<&str> = json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["area"].as_str().unwrap())
        .collect();
    assert!(
        !areas.is_empty() && areas.iter().all(|a| *a == "artifacts"),
        "{json:#}"
    );
    assert!(json["measured"]["artifacts"].is_object(), "{json:#}");
    assert_eq!(json["measured"]["scenarios"], serde_json::Value::Null);
}
