//! Plumbing shared by every front end and library in the workspace.
//!
//! - [`exit`]: the one place where exit codes get their meaning.
//! - [`diag`]: errors that point at `file:line:col` in the text the user wrote.
//! - [`render`]: how every binary prints them (terminal, plain, GitHub Actions annotations).
//! - [`config`]: TOML configuration parsed once with spans, then validated collecting every
//!   problem, each with a stable code.
//! - [`atomic`]: writes that leave either the old file or the new one, never a partial one.
//! - [`input`]: input files read with a size limit.
//! - [`paths`]: paths resolved by their names (`.` and `..`) without the file system.
//! - [`json`]: strict JSON reading (no BOM, no duplicate keys), located errors.
//! - [`stdout`]: output that ends quietly on a broken pipe instead of panicking.
//! - [`text`]: control characters in text from files escaped before printing.
//! - [`nested`]: what an outer cargo or nextest run must not pass on to one started inside it.
//! - [`shell`]: commands printed so they can be pasted into a shell.
//! - `cli` (feature `cli`): how a binary with a clap command line reports usage errors and
//!   `--help`, and the command reference README.md shows, with the tidy checks behind both.
//! - [`junit`]: which tests passed and failed in a JUnit report as cargo-nextest writes it.

pub mod atomic;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod diag;
pub mod exit;
pub mod input;
pub mod json;
pub mod junit;
pub mod nested;
pub mod paths;
pub mod render;
pub mod shell;
pub mod stdout;
pub mod text;

pub use diag::{Failure, Located};
pub use exit::Exit;
