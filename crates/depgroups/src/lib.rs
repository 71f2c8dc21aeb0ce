//! Dependency groups (core, property, enterprise): the `deps-groups.toml` model and the audit
//! that proves the boundaries hold.

pub mod config;

pub use config::{Group, GroupsFile};
