//! Where the release domain's files live in a workspace, and one call that validates them all
//! (what `cargo xtask preflight` runs before compiling anything).

use std::path::Path;

use support::Located;

use crate::chain;
use crate::gates::GatePolicy;
use crate::kernel::KernelManifest;
use crate::provider::ProviderManifest;

/// Provider run manifests, one `*.json` per provider.
pub const PROVIDERS_DIR: &str = "manifests/providers";
/// The gate policy.
pub const GATES_FILE: &str = "manifests/gates.toml";
/// The release chain, `release-NNNNNN.json`.
pub const RELEASES_DIR: &str = "manifests/releases";
/// The kernel manifest.
pub const KERNEL_FILE: &str = "manifests/kernel.toml";

/// Parses and validates every release-domain file under `root`: provider manifests, gates,
/// kernel manifest and releases. Returns every problem (all are invalid input, exit 2).
/// Chain links and digests are checks, not syntax: see [`chain::verify_chain`].
pub fn validate_manifests(root: &Path) -> Vec<Located> {
    let mut problems = Vec::new();
    let providers = root.join(PROVIDERS_DIR);
    match support::input::json_files(&providers) {
        Ok(paths) if paths.is_empty() => problems.push(Located::file(
            &providers,
            "no provider run manifests (*.json) found",
        )),
        Ok(paths) => {
            for path in paths {
                problems.extend(ProviderManifest::load(&path).err().into_iter().flatten());
            }
        }
        Err(err) => problems.push(Located::file(
            &providers,
            format!("cannot list provider manifests: {err}"),
        )),
    }
    problems.extend(
        GatePolicy::load(&root.join(GATES_FILE))
            .err()
            .into_iter()
            .flatten(),
    );
    problems.extend(
        KernelManifest::load(&root.join(KERNEL_FILE))
            .err()
            .into_iter()
            .flatten(),
    );
    problems.extend(
        chain::load_releases(&root.join(RELEASES_DIR))
            .err()
            .into_iter()
            .flatten(),
    );
    problems
}
