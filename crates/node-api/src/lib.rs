//! Enterprise: the node HTTP API (health, readiness, current release).
//!
//! The API is read-only: it serves what the node store holds and never changes it. The store
//! is read through the `node` crate on every request, so an ingest or rollback done by another
//! process is visible on the next request without a restart.
//!
//! HTTP stack: `tiny_http`, a small synchronous server. Three read-only endpoints that each
//! read a few small files do not need an async runtime; a sync server keeps this crate's build
//! a fraction of tokio/hyper/axum's and makes shutdown a plain loop exit.
//!
//! - [`routes`]: the API contract (paths, methods, status codes, JSON bodies), free of I/O.
//! - [`server`]: the HTTP loop, signal handling and clean shutdown.

pub mod routes;
pub mod server;
pub mod source;

pub use routes::{API_VERSION, Response, respond};
pub use server::Server;
pub use source::{InstalledRelease, NodeDirSource, ReleaseSource};
