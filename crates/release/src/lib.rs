//! The release domain: provider run manifests, promotion gates, selection and scoring, the fused
//! release manifest and its chain, and the kernel manifest (README.md, "Federation" and
//! "Kernel manifest").
//!
//! Everything here is logic over files and values; `cargo xtask federate` (over [`federate`],
//! one whole run) and `cargo xtask kernel` are thin front ends. Loaders return [`support::Located`] diagnostics so
//! every caller (preflight included) reports `file:line:col`:
//! [`ProviderManifest::load`], [`GatePolicy::load`], [`KernelManifest::load`],
//! [`ReleaseManifest::load`], and [`repo::validate_manifests`] for all of them at once.

pub mod attest;
pub mod canonical;
pub mod chain;
pub mod federate;
pub mod federation;
pub mod gates;
pub mod jsonpos;
pub mod kernel;
pub mod manifest;
pub mod provider;
pub mod repo;
pub mod report;
pub mod rollback;
pub mod select;
pub mod source;
pub mod time;
pub mod uri;

pub use gates::{GatePolicy, Thresholds};
pub use kernel::KernelManifest;
pub use manifest::{
    Dataset, GateVerdict, ReleaseManifest, SourceRevision, TrainingInputs, Unit, Verdict,
};
pub use provider::{Provider, ProviderManifest};
