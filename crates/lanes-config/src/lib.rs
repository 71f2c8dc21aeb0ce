//! Test lanes as data: `lanes.toml` ([`LanesFile`], the one type every reader uses: lanes,
//! preflight, the release lane, and impact analysis before it reads its `[impact]` rules), the release-lane
//! manifest ([`ReleaseLaneManifest`]), and each lane resolved against its workspace into a
//! [`LaneSelection`]: the packages to build and one effective filterset,
//! `(lane filter) & (package terms) & (exact tests) & not slow`. Terms are and-ed, never
//! replaced, so a lane's own filter survives every switch. `cargo xtask lanes`, `lane`,
//! `release-lane` and `preflight` are the front ends.
//!
//! - [`config`] parses `lanes.toml` ([`LanesFile`]) with `support::config` (spans, every
//!   problem collected with its code, did-you-mean) and resolves one lane ([`resolve`]).
//! - [`release_lane`] reads `manifests/release-lane.toml`.
//! - [`counts`] counts the tests each lane selects, building as few times as it can, and
//!   remembers each count under a key of everything it depends on.
//! - [`run`] runs a lane (from source or an archive, partitioned) or builds its archive.
//! - [`nextest`] finds, installs (pinned version), lists with and runs cargo-nextest, and maps
//!   its exit codes to ours.
//! - [`workspace`] resolves every lane against `cargo metadata`, the dependency groups and
//!   the nextest profiles ([`load`]).

pub mod config;
pub mod counts;
pub mod nextest;
pub mod release_lane;
pub mod run;
pub mod workspace;

pub use config::{Features, Lane, LaneSelection, LanesFile, resolve};
pub use release_lane::ReleaseLaneManifest;
pub use workspace::{Lanes, Workspace, load, nextest_profiles, selection};

pub const LANES_FILE: &str = "lanes.toml";
pub const GROUPS_FILE: &str = "deps-groups.toml";
pub const NEXTEST_CONFIG: &str = ".config/nextest.toml";
