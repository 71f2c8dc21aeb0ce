//! The audit against real `cargo metadata` of small temporary workspaces, each planting one
//! violation. Reserved "external" crates are path crates outside the workspace members
//! (`vendor/`, excluded), so nothing touches the network.

use std::fs;
use std::path::{Path, PathBuf};

use depgroups::{Audit, Violation, ViolationKind, audit};
use support::Exit;

const GROUPS: &str = r#"[groups.core]
members = ["core-a", "core-b"]

[groups.enterprise]
members = ["gov"]
may-depend-on = ["core"]
reserved = ["ed25519-dalek"]

[groups.property]
members = ["props"]
may-depend-on = ["core"]
reserved = ["proptest"]
"#;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// The clean baseline: core-a -> core-b; gov -> core-b, ed25519-dalek; props -> core-a, proptest.
    fn new() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        ws.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\nexclude = [\"vendor\"]\n",
        );
        ws.member(
            "core-a",
            "[dependencies]\ncore-b = { path = \"../core-b\" }\n",
        );
        ws.member("core-b", "");
        ws.member(
            "gov",
            "[dependencies]\ncore-b = { path = \"../core-b\" }\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
        );
        ws.member(
            "props",
            "[dependencies]\ncore-a = { path = \"../core-a\" }\nproptest = { path = \"../../vendor/proptest\" }\n",
        );
        ws.external("ed25519-dalek", "");
        ws.external("proptest", "");
        ws.write("deps-groups.toml", GROUPS);
        ws
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.root().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn package(&self, dir: &str, name: &str, body: &str) {
        self.write(
            &format!("{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{body}"
            ),
        );
        self.write(&format!("{dir}/src/lib.rs"), "");
    }

    fn member(&self, name: &str, body: &str) {
        self.package(&format!("crates/{name}"), name, body);
    }

    fn external(&self, name: &str, body: &str) {
        self.package(&format!("vendor/{name}"), name, body);
    }

    fn manifest(&self) -> PathBuf {
        self.root().join("Cargo.toml")
    }

    fn audit(&self) -> Audit {
        audit(&self.manifest(), None).unwrap_or_else(|f| panic!("audit failed to run: {f}"))
    }

    /// The text of `line` (1-based) of a file in the workspace.
    fn line(&self, path: &Path, line: usize) -> String {
        let text = fs::read_to_string(self.root().join(path)).unwrap();
        text.lines().nth(line - 1).unwrap().to_owned()
    }
}

fn only(audit: &Audit, kind: ViolationKind, member: &str) -> Violation {
    let found: Vec<&Violation> = audit
        .violations
        .iter()
        .filter(|v| v.kind == kind && v.member.as_deref() == Some(member))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind:?} for {member}: {:#?}",
        audit.violations
    );
    found[0].clone()
}

fn witness(v: &Violation) -> String {
    v.witness
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn settings(v: &Violation) -> Vec<String> {
    v.settings.iter().map(ToString::to_string).collect()
}

#[test]
fn a_clean_workspace_passes() {
    let ws = Workspace::new();
    let audit = ws.audit();
    assert!(audit.passed(), "{:#?}", audit.violations);
    assert_eq!(audit.members.len(), 4);
    let json = serde_json::to_value(audit.shape()).unwrap();
    assert_eq!(json["schema"], "deps-audit/v1");
    assert_eq!(json["passed"], true);
}

#[test]
fn core_depending_on_enterprise_directly() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\ngov = { path = \"../gov\" }\n",
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    assert_eq!(witness(&v), "core-a --> gov");
    assert_eq!(v.target.as_deref(), Some("gov"));
    assert_eq!(v.target_group.as_deref(), Some("enterprise"));
    assert_eq!(settings(&v), ["no-default", "default", "all-features"]);
    assert_eq!(v.located.location(), "crates/core-a/Cargo.toml:8:1");
    assert!(ws.line(&v.located.path, 8).starts_with("gov = "));
    // props (property) reaches gov through core-a: property may not depend on enterprise.
    let props = only(&audit, ViolationKind::ForbiddenGroup, "props");
    assert_eq!(witness(&props), "props --> core-a --> gov");
    assert_eq!(props.located.location(), "crates/core-a/Cargo.toml:8:1");
    assert_eq!(audit.violations.len(), 2, "{:#?}", audit.violations);
    let json = &serde_json::to_value(audit.shape()).unwrap()["violations"][0];
    assert_eq!(json["kind"], "forbidden-group");
    assert_eq!(json["witness"], "core-a --> gov");
    assert_eq!(json["location"]["line"], 8);
    assert_eq!(json["path"][0]["dep_key"], "gov");
}

#[test]
fn core_reaching_enterprise_through_an_intermediate_crate() {
    let ws = Workspace::new();
    ws.member("core-b", "[dependencies]\ngov = { path = \"../gov\" }\n");
    // gov can no longer depend on core-b (that would be a cycle).
    ws.member(
        "gov",
        "[dependencies]\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
    );
    let audit = ws.audit();
    let via = only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    assert_eq!(witness(&via), "core-a --> core-b --> gov");
    // The responsible line is the edge into the forbidden crate, in core-b's manifest.
    assert_eq!(via.located.location(), "crates/core-b/Cargo.toml:7:1");
    let direct = only(&audit, ViolationKind::ForbiddenGroup, "core-b");
    assert_eq!(witness(&direct), "core-b --> gov");
    // props reaches gov through core-a and core-b: property may not depend on enterprise.
    let props = only(&audit, ViolationKind::ForbiddenGroup, "props");
    assert_eq!(witness(&props), "props --> core-a --> core-b --> gov");
}

#[test]
fn optional_dependency_switched_on_by_a_default_feature() {
    let ws = Workspace::new();
    let core_a = "[dependencies]\ncore-b = { path = \"../core-b\" }\ngov = { path = \"../gov\", optional = true }\n\n[features]\ndefault = [\"sign\"]\nsign = [\"dep:gov\"]\n";
    ws.member("core-a", core_a);
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    assert_eq!(settings(&v), ["default", "all-features"]);
    assert_eq!(
        witness(&v),
        "core-a --[feature default -> sign: dep:gov]--> gov"
    );
    assert_eq!(v.located.location(), "crates/core-a/Cargo.toml:8:1");
    assert!(
        v.located
            .message
            .contains("default and all-features builds"),
        "{}",
        v.located
    );

    // An exception allows the named feature, never the default build.
    ws.write(
        "deps-groups.toml",
        &format!(
            "{GROUPS}\n[[exception]]\nfrom = \"core-a\"\nto = \"gov\"\nfeature = \"sign\"\nreason = \"signing is opt-in\"\n"
        ),
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::DefaultBuild, "core-a");
    assert_eq!(settings(&v), ["default"]);
    assert_eq!(
        witness(&v),
        "core-a --[feature default -> sign: dep:gov]--> gov"
    );
    let props = only(&audit, ViolationKind::DefaultBuild, "props");
    assert_eq!(
        witness(&props),
        "props --> core-a --[feature default -> sign: dep:gov]--> gov"
    );
    assert_eq!(audit.violations.len(), 2, "{:#?}", audit.violations);

    // Off by default, behind the excepted named feature: clean.
    ws.member("core-a", &core_a.replace("default = [\"sign\"]\n", ""));
    let audit = ws.audit();
    assert!(audit.passed(), "{:#?}", audit.violations);
}

#[test]
fn feature_chain_across_crates() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\n\n[features]\nf = [\"core-b/g\"]\n",
    );
    ws.member(
        "core-b",
        "[dependencies]\ngov = { path = \"../gov\", optional = true }\n\n[features]\ng = [\"dep:gov\"]\n",
    );
    ws.member(
        "gov",
        "[dependencies]\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    assert_eq!(
        witness(&v),
        "core-a --[feature f: core-b/g]--> core-b --[feature g: dep:gov]--> gov"
    );
    assert_eq!(settings(&v), ["all-features"]);
    assert_eq!(v.located.location(), "crates/core-b/Cargo.toml:7:1");
    let hops = &v.witness.as_ref().unwrap().hops;
    assert_eq!(hops[0].features, ["f"]);
    assert_eq!(hops[0].entry.as_deref(), Some("core-b/g"));
    assert_eq!(hops[1].entry.as_deref(), Some("dep:gov"));
}

#[test]
fn weak_features_do_not_switch_dependencies_on() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\ngov = { path = \"../gov\", optional = true }\n\n[features]\ndefault = [\"extra\"]\nextra = [\"gov?/fast\"]\nsign = [\"dep:gov\"]\n",
    );
    ws.member(
        "gov",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\n\n[features]\nfast = []\n",
    );
    ws.write(
        "deps-groups.toml",
        &format!(
            "{GROUPS}\n[[exception]]\nfrom = \"core-a\"\nto = \"gov\"\nfeature = \"sign\"\nreason = \"signing is opt-in\"\n"
        ),
    );
    let audit = ws.audit();
    assert!(audit.passed(), "{:#?}", audit.violations);
}

#[test]
fn external_crate_reserved_for_enterprise_reached_from_core() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
    );
    // Through an external crate: the location is the member's line that leads to it.
    ws.external(
        "wrapper",
        "[dependencies]\ned25519-dalek = { path = \"../ed25519-dalek\" }\n",
    );
    ws.member(
        "core-b",
        "[build-dependencies]\nwrapper = { path = \"../../vendor/wrapper\" }\n",
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::ReservedCrate, "core-a");
    assert_eq!(witness(&v), "core-a --> ed25519-dalek");
    assert_eq!(v.target_group.as_deref(), Some("enterprise"));
    assert_eq!(v.located.location(), "crates/core-a/Cargo.toml:8:1");
    let v = only(&audit, ViolationKind::ReservedCrate, "core-b");
    assert_eq!(witness(&v), "core-b --[build]--> wrapper --> ed25519-dalek");
    assert_eq!(v.located.location(), "crates/core-b/Cargo.toml:7:1");
    assert!(ws.line(&v.located.path, 7).starts_with("wrapper = "));
}

#[test]
fn reserved_crate_as_a_core_dev_dependency() {
    let ws = Workspace::new();
    ws.member(
        "core-b",
        "[dev-dependencies]\nproptest = { path = \"../../vendor/proptest\" }\n",
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::ReservedCrate, "core-b");
    assert_eq!(witness(&v), "core-b --[dev]--> proptest");
    assert_eq!(v.target_group.as_deref(), Some("property"));
    assert_eq!(v.located.location(), "crates/core-b/Cargo.toml:7:1");
    // Dev-dependencies of a dependency are never built: core-a is clean.
    assert_eq!(audit.violations.len(), 1, "{:#?}", audit.violations);
}

#[test]
fn member_in_no_group_and_listed_twice_or_unknown() {
    let ws = Workspace::new();
    ws.member("stray", "");
    ws.write(
        "deps-groups.toml",
        &GROUPS.replace(
            "members = [\"gov\"]",
            "members = [\"gov\", \"core-b\", \"ghost\"]",
        ),
    );
    let audit = ws.audit();
    let stray = only(&audit, ViolationKind::UnassignedMember, "stray");
    assert_eq!(stray.located.location(), "deps-groups.toml:1:1");
    assert!(stray.located.to_string().contains("`stray` is in no group"));
    let twice = only(&audit, ViolationKind::DuplicateMember, "core-b");
    assert_eq!(twice.located.location(), "deps-groups.toml:5:19");
    let ghost = only(&audit, ViolationKind::UnknownMember, "ghost");
    assert_eq!(ghost.located.location(), "deps-groups.toml:5:29");
    assert_eq!(audit.violations.len(), 3, "{:#?}", audit.violations);
}

#[test]
fn stale_exception_is_reported_where_it_is_written() {
    let ws = Workspace::new();
    ws.write(
        "deps-groups.toml",
        &format!(
            "{GROUPS}\n[[exception]]\nfrom = \"core-a\"\nto = \"gov\"\nfeature = \"sign\"\nreason = \"signing used to live here\"\n"
        ),
    );
    let audit = ws.audit();
    let v = only(&audit, ViolationKind::StaleException, "core-a");
    let line = GROUPS.lines().count() + 3;
    assert_eq!(v.located.location(), format!("deps-groups.toml:{line}:8"));
    assert!(
        v.located
            .help
            .as_deref()
            .unwrap()
            .contains("no feature `sign`")
    );
    assert_eq!(audit.violations.len(), 1, "{:#?}", audit.violations);
}

#[test]
fn a_malformed_groups_file_is_invalid_input() {
    let ws = Workspace::new();
    ws.write(
        "deps-groups.toml",
        "[groups.core]\nmembers = [\"core-a\"]\nmay-depend-on = [\"enterprize\"]\n\n[[exception]]\nfrom = \"core-a\"\nto = \"gov\"\n",
    );
    let failure = audit(&ws.manifest(), None).unwrap_err();
    assert_eq!(failure.exit, Exit::InvalidInput);
    assert!(
        failure.located[0]
            .location()
            .ends_with("deps-groups.toml:5:1"),
        "{failure}"
    );
    assert!(failure.to_string().contains("reason"), "{failure}");
}

#[test]
fn renamed_and_platform_specific_dependencies_are_followed() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\nsigner = { package = \"gov\", path = \"../gov\", optional = true }\n\n[features]\nsign = [\"signer/fast\"]\n",
    );
    ws.member(
        "core-b",
        "[target.'cfg(windows)'.dependencies]\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
    );
    ws.member(
        "gov",
        "[dependencies]\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n\n[features]\nfast = []\n",
    );
    let audit = ws.audit();
    let renamed = only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    assert_eq!(
        witness(&renamed),
        "core-a --[feature sign: signer/fast]--> gov"
    );
    assert_eq!(settings(&renamed), ["all-features"]);
    assert_eq!(renamed.located.location(), "crates/core-a/Cargo.toml:8:1");
    assert!(ws.line(&renamed.located.path, 8).starts_with("signer = "));
    // Every platform counts: a Windows-only dependency is still a dependency.
    let windows = only(&audit, ViolationKind::ReservedCrate, "core-b");
    assert_eq!(witness(&windows), "core-b --> ed25519-dalek");
    assert_eq!(windows.located.location(), "crates/core-b/Cargo.toml:7:1");
}

#[test]
fn an_exception_on_an_intermediate_crate_covers_what_enables_its_feature() {
    let ws = Workspace::new();
    ws.member(
        "core-a",
        "[dependencies]\ncore-b = { path = \"../core-b\" }\n\n[features]\nf = [\"core-b/g\"]\n",
    );
    ws.member(
        "core-b",
        "[dependencies]\ngov = { path = \"../gov\", optional = true }\n\n[features]\ng = [\"dep:gov\"]\n",
    );
    ws.member(
        "gov",
        "[dependencies]\ned25519-dalek = { path = \"../../vendor/ed25519-dalek\" }\n",
    );
    ws.write(
        "deps-groups.toml",
        &format!(
            "{GROUPS}\n[[exception]]\nfrom = \"core-b\"\nto = \"gov\"\nfeature = \"g\"\nreason = \"governance hooks are opt-in\"\n"
        ),
    );
    let audit = ws.audit();
    assert!(audit.passed(), "{:#?}", audit.violations);

    // Naming a feature that does not bring the crate in does not cover it.
    ws.write(
        "deps-groups.toml",
        &format!(
            "{GROUPS}\n[[exception]]\nfrom = \"core-b\"\nto = \"gov\"\nfeature = \"default\"\nreason = \"wrong feature\"\n"
        ),
    );
    let audit = ws.audit();
    only(&audit, ViolationKind::ForbiddenGroup, "core-a");
    only(&audit, ViolationKind::ForbiddenGroup, "core-b");
    only(&audit, ViolationKind::StaleException, "core-b");
}
