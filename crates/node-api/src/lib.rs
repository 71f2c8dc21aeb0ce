//! Enterprise: the node HTTP API (health, readiness, current release).
//!
//! The API is read-only: it serves what the node store holds and never changes it. The store
//! is read through the `node` crate on every request, so an ingest or rollback done by another
//! process is visible on the next request without a restart.
//!
//! HTTP stack: a small HTTP/1.1 subset over `std::net` (one request per connection). Three
//! read-only endpoints that each read a few small files need no async runtime, and owning the
//! few hundred lines lets every resource be bounded: threads, connections, header bytes and
//! request time (see [`server`]).
//!
//! - [`routes`]: the API contract (paths, methods, status codes, JSON bodies), free of I/O.
//! - [`server`]: the bounded HTTP server, signal handling and clean shutdown.

pub mod routes;
pub mod server;
pub mod source;

pub use routes::{Response, respond};
pub use server::Server;
pub use source::{InstalledRelease, NodeDirSource, ReleaseSource};
