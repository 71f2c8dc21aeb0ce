//! Dependency groups (core, property, enterprise): the `deps-groups.toml` model and the audit
//! that proves the boundaries hold.
//!
//! - [`config`]: the groups file, parsed with spans and validated (exit 2 when malformed).
//! - [`graph`]: packages and resolved dependency declarations from `cargo metadata`.
//! - [`resolve`]: per-member, per-feature-setting activation and shortest witness paths.
//! - [`audit()`]: the checks; [`report()`]: what each group pulls in.
//!
//! Front ends (`cargo xtask deps`, preflight, the release lane) call [`audit()`] and render.

pub mod audit;
pub mod config;
pub mod graph;
pub mod manifest;
pub mod report;
pub mod resolve;

pub use audit::{Audit, Violation, ViolationKind, audit, audit_graph};
pub use config::{Exception, Group, GroupsFile};
pub use graph::Graph;
pub use report::{GroupReport, Report, report, report_graph};
pub use resolve::{Setting, Witness};
