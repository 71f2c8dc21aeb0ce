//! Node side of a release: verified, atomic, exclusive install of a promoted release, with
//! anti-rollback and history.
//!
//! - [`store`]: the node directory ([`NodeStore`]): ingest, current/warm releases, status.
//! - `verify` (private): the checks, in order: manifest digest, signature ([`SignatureVerifier`],
//!   injected so core never depends on signing code), `release_seq`, expiry, mix-and-match,
//!   artifacts.
//! - [`history`]: the append-only, hash-chained install history.
//! - [`hash`]: streaming, parallel artifact hashing with bounded memory.
//! - [`artifacts`]: how unit URIs map to files in an artifacts directory.
//! - [`manifest`]: the offered manifest, read through the `release` crate, and input limits.
//! - [`policy`]: the node's own policy file (signatures, artifacts), applied to every ingest.
//! - [`request`]: what an ingest is asked ([`IngestRequest`], [`IngestOptions`]).
//! - [`record`]: what the store keeps about each release it holds.
//! - [`audit`] judges a release's chain of evidence, which [`evidence`] gathers.
//! - [`report`] and [`describe`]: results as their JSON shapes and in words.

pub mod artifacts;
pub mod audit;
pub mod describe;
pub mod error;
pub mod evidence;
pub mod hash;
pub mod history;
pub mod manifest;
pub mod policy;
pub mod record;
pub mod report;
pub mod request;
pub mod store;
mod verify;

pub use error::IngestError;
pub use history::{Action, HistoryEntry, UnitRef};
pub use policy::NodePolicy;
pub use record::{
    InstalledRelease, ReleaseRef, StatementRecord, UnitCheck, UnitStatus, VerificationRecord,
};
pub use request::{
    IngestOptions, IngestRequest, InstallStep, SignatureVerifier, StatementRejection,
    VerifiedStatement,
};
pub use store::{IngestOutcome, InstallReport, NodeStatus, NodeStore};
