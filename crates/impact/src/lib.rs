//! Impact analysis over the Cargo dependency graph: which packages and test binaries a change
//! can affect, and why (README.md, "Impact analysis").
//!
//! [`analyze`] runs the whole decision. Its phases are public so benchmarks and tests can
//! drive them separately: [`git::Repo`] (changed files), [`graph::load`] (the cached
//! `cargo metadata` graph), [`rules::Rules`] (`[impact]` rules), [`includes`] (compile-time
//! file reads), [`closure::affected`] (the dependency closure), and [`render`] (outputs).

pub mod analyze;
pub mod cache;
pub mod cargo_config;
pub mod closure;
pub mod git;
pub mod graph;
pub mod history;
pub mod includes;
pub mod manifest_diff;
pub mod nextest_config;
pub mod record;
pub mod recording;
pub mod render;
pub mod replay;
pub mod report;
pub mod rules;
pub mod workflows;

pub use analyze::{Options, analyze};
pub use report::{AffectedPackage, Reason, Report, Targets};

/// Errors carry their exit code (2 invalid input, 3 environment) and locations.
pub type ImpactError = support::Failure;
