//! Plumbing shared by every front end and library in the workspace.
//!
//! - [`exit`]: the one place where exit codes get their meaning.
//! - [`diag`]: errors that point at `file:line:col` in the text the user wrote.
//! - [`atomic`]: writes that leave either the old file or the new one, never a partial one.
//! - [`shell`]: commands printed so they can be pasted into a shell.

pub mod atomic;
pub mod diag;
pub mod exit;
pub mod shell;

pub use diag::{Failure, Located};
pub use exit::Exit;
