//! `cargo xtask bench` is a pass-through to the bench binary (`crates/bench`): it builds and
//! runs it with the same arguments and exits with its code.

use std::process::Command;

/// Builds the bench with cargo on first use (it is not an xtask dependency), hence slow.
#[test]
fn slow_bench_forwards_its_arguments_and_the_exit_code() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    support::nested::isolate(&mut command);
    let output = command
        .args(["bench", "no-such-bench", "--flag"])
        .output()
        .expect("run xtask");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("usage: cargo xtask bench <all|impact|artifacts|history|soundness|federate>"),
        "the bench binary's own usage line: {stderr}"
    );
}
