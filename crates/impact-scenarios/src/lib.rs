//! Workspaces impact analysis is checked on, as data and builders, shared by the impact
//! conformance suite (`xtask/tests/impact_conformance.rs`, a dev-dependency) and the bench
//! (`crates/bench`, which puts the same repositories in front of other tools).
//!
//! - [`table`]: the conformance scenarios (base workspace, change, head as commit or working
//!   tree, required and forbidden packages and binaries).
//! - [`repo`]: builds one scenario as a real git repository in a temporary directory.
//! - [`synthetic`]: a seeded N-crate workspace written straight to disk, with the brute-force
//!   reference closure its selections are checked against.
//!
//! It is a core crate (dependency-light, no bench-only crates) because the conformance suite of
//! the core `xtask` uses it, and core crates may not reach the bench group even in tests.

pub mod repo;
pub mod synthetic;
pub mod table;
