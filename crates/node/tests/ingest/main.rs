//! Node ingest against real files: installs, the tamper suite, and crash safety.

mod authority;
mod crash;
mod fixture;
mod install;
mod policy;
mod tamper;
