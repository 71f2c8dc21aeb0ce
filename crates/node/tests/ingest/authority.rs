//! The committed history is the authority: a `current.json` that is missing, older than the
//! history or disagrees with it, and any file in a release directory changed since install,
//! make the store corrupt, and nothing is truncated, pruned or installed on their strength.
//! Also: what happens after the commit point is a warning, and what is refused before the lock
//! creates nothing.

use std::path::PathBuf;

use node::{IngestError, IngestOutcome, NodeStore};
use serde_json::Value;
use support::Exit;

use crate::fixture::*;

fn current_json(fx: &Fixture) -> PathBuf {
    fx.store.dir().join("current.json")
}

fn assert_corrupt(err: &IngestError, says: &str) {
    assert!(
        matches!(err, IngestError::StoreCorrupt { .. }),
        "expected store-corrupt, got {err}"
    );
    assert_eq!(err.exit(), Exit::Environment);
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn a_deleted_current_json_is_corrupt_and_erases_nothing() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    std::fs::remove_file(current_json(&fx)).unwrap();
    let before = fx.snapshot();

    assert_corrupt(&fx.store.status().unwrap_err(), "current.json is missing");
    assert_corrupt(&fx.store.current().unwrap_err(), "current.json is missing");
    // Neither the old release nor the next one may install on the strength of it.
    for offered in [&releases[0], &releases[2]] {
        let err = fx.ingest(&bytes(offered)).unwrap_err();
        assert_corrupt(&err, "holds 2 committed install(s)");
    }
    assert_eq!(
        fx.snapshot(),
        before,
        "history truncated or releases pruned"
    );
}

#[test]
fn a_replayed_older_current_json_cannot_let_another_release_claim_a_seq() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    let old_pointer = std::fs::read(current_json(&fx)).unwrap();
    fx.install(&bytes(&releases[1]));
    std::fs::write(current_json(&fx), &old_pointer).unwrap();
    let before = fx.snapshot();

    assert_corrupt(
        &fx.store.status().unwrap_err(),
        "older than the committed history",
    );
    // Another release with seq 2, honestly digested.
    let mut rival = manifest(2, Some(&digest_of(&releases[0])), None, &fx.units(7));
    redigest(&mut rival);
    assert_ne!(digest_of(&rival), digest_of(&releases[1]));
    let err = fx.ingest(&bytes(&rival)).unwrap_err();
    assert_corrupt(&err, "older than the committed history");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn a_lost_history_is_corrupt_but_a_missing_last_line_is_restored_exactly() {
    let fx = Fixture::new();
    let releases = chain(&fx, 3);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    let history = fx.store.history_path();
    let text = std::fs::read_to_string(&history).unwrap();

    // The last line gone: current.json holds it (as after a crash between commit and append).
    let first_line = text.split_inclusive('\n').next().unwrap();
    std::fs::write(&history, first_line).unwrap();
    let status = fx.store.status().unwrap();
    assert!(status.history_append_pending);
    assert_eq!(status.history.len(), 2);
    fx.install(&bytes(&releases[2]));
    let after = std::fs::read_to_string(&history).unwrap();
    assert!(
        after.starts_with(&text),
        "the committed lines are restored verbatim"
    );
    assert_eq!(after.lines().count(), 3);

    // Two lines gone: history is missing, whatever current.json says.
    std::fs::write(&history, first_line).unwrap();
    assert_corrupt(&fx.store.status().unwrap_err(), "holds only 1");
    std::fs::remove_file(&history).unwrap();
    assert_corrupt(&fx.store.status().unwrap_err(), "holds only 0");
}

#[test]
fn an_edited_verification_record_or_signature_file_is_detected() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    let current = fx.store.current().unwrap().unwrap();
    assert_eq!(current.record.signed_by, None);
    let record = current.dir.join("verification.json");
    let original = std::fs::read_to_string(&record).unwrap();
    let forged = original.replace("\"signed_by\": null", "\"signed_by\": \"release-approver\"");
    assert_ne!(forged, original);
    std::fs::write(&record, &forged).unwrap();
    assert_corrupt(
        &fx.store.current().unwrap_err(),
        "changed since it was installed",
    );
    assert_corrupt(&fx.store.status().unwrap_err(), "verification.json");
    std::fs::write(&record, &original).unwrap();

    // A warm release's files are checked too, and a signature file that was never installed.
    let warm = &fx.store.status().unwrap().warm[0];
    std::fs::write(warm.dir.join("signature"), b"{}").unwrap();
    assert_corrupt(
        &fx.store.status().unwrap_err(),
        "the history committed no signature",
    );
}

/// Chain 1 (hf v1) -> 2 (hf v2) -> rollback 3 (v1) -> 4 selecting hf v2 again.
#[test]
fn an_artifact_a_rollback_removed_does_not_return_without_the_flag() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    fx.install(&bytes(&releases[1]));
    let units = |release: &Value| serde_json::from_value(release["units"].clone()).unwrap();
    let rollback = manifest(
        3,
        Some(&digest_of(&releases[1])),
        Some(&digest_of(&releases[0])),
        &units(&releases[0]),
    );
    fx.install(&bytes(&rollback));
    let mut fourth = manifest(4, Some(&digest_of(&rollback)), None, &fx.units(4));
    fourth["units"]["hf"] = releases[1]["units"]["hf"].clone();
    redigest(&mut fourth);

    let before = fx.snapshot();
    let err = fx.ingest(&bytes(&fourth)).unwrap_err();
    match &err {
        IngestError::MixAndMatch {
            provider,
            from_seq,
            replaced_by_seq,
            by_rollback,
            ..
        } => {
            assert_eq!(provider, "hf");
            assert_eq!((*from_seq, *replaced_by_seq, *by_rollback), (2, 3, true));
        }
        other => panic!("expected mix-and-match, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("which the rollback release_seq 3 removed"),
        "{err}"
    );
    assert_eq!(fx.snapshot(), before);
    let lenient = node::IngestOptions {
        allow_replaced_units: true,
        ..options()
    };
    assert!(matches!(
        fx.ingest_with(&bytes(&fourth), None, &lenient).unwrap(),
        IngestOutcome::Installed(_)
    ));
}

/// The rule needs no kept release directory: it reads the committed history.
#[test]
fn a_replaced_artifact_stays_retired_after_its_release_is_pruned() {
    let fx = Fixture::new();
    let releases = chain(&fx, 5);
    for release in &releases[..4] {
        fx.install(&bytes(release));
    }
    // R1 is neither current nor warm any more.
    let status = fx.store.status().unwrap();
    assert!(status.warm.iter().all(|r| r.release_seq != 1));
    let mut fifth = releases[4].clone();
    fifth["units"]["gcp"] = releases[0]["units"]["gcp"].clone();
    redigest(&mut fifth);
    let err = fx.ingest(&bytes(&fifth)).unwrap_err();
    assert!(
        err.to_string()
            .contains("is the artifact of release_seq 1, which release_seq 2 replaced"),
        "{err}"
    );
}

#[test]
fn a_failed_prune_after_the_commit_is_a_warning_and_the_install_stands() {
    let fx = Fixture::new();
    let releases = chain(&fx, 2);
    fx.install(&bytes(&releases[0]));
    // Something in releases/ that pruning cannot remove as a release directory.
    let stray = fx.store.dir().join("releases").join("0000000000-stray");
    std::fs::write(&stray, b"not a release").unwrap();
    let installed = match fx.ingest(&bytes(&releases[1])).unwrap() {
        IngestOutcome::Installed(report) => report,
        other => panic!("expected an install, got {other:?}"),
    };
    assert_eq!(installed.warnings.len(), 1, "{:?}", installed.warnings);
    assert!(
        installed.warnings[0].starts_with("pruning old releases failed"),
        "{:?}",
        installed.warnings
    );
    let status = fx.store.status().unwrap();
    assert_eq!(status.current.unwrap().digest, digest_of(&releases[1]));
    assert_eq!(status.history.len(), 2);
    assert!(!status.history_append_pending);
}

#[test]
fn a_malformed_or_oversized_release_creates_neither_the_node_dir_nor_its_lock() {
    let fx = Fixture::new();
    let err = fx.ingest(b"{\"schema\": ").unwrap_err();
    assert_eq!(err.kind(), "malformed");
    let mut release = chain(&fx, 1).remove(0);
    release["digest"] = release::canonical::sha256_digest(b"other").into();
    let err = fx.ingest(&bytes(&release)).unwrap_err();
    assert_eq!(err.kind(), "digest-mismatch");
    let huge = vec![b' '; node::manifest::MAX_MANIFEST_BYTES as usize + 1];
    let err = fx.ingest(&huge).unwrap_err();
    assert_eq!(err.kind(), "too-large");
    assert_eq!(err.exit(), Exit::InvalidInput);
    assert!(
        err.to_string().contains("over the 4194304-byte limit"),
        "{err}"
    );
    assert!(!fx.store.dir().exists(), "the node directory was created");
}

#[test]
fn a_node_dir_that_is_a_file_is_named_as_such() {
    let fx = Fixture::new();
    let release = chain(&fx, 1).remove(0);
    let file = fx.root.path().join("node-file");
    std::fs::write(&file, b"").unwrap();
    for dir in [file.clone(), file.join("below")] {
        let store = NodeStore::new(&dir);
        let err = store
            .ingest(
                node::IngestRequest {
                    manifest: &bytes(&release),
                    manifest_path: None,
                    signature: None,
                    artifacts_dir: None,
                    statements: &[],
                },
                &options(),
            )
            .unwrap_err();
        assert_eq!(err.kind(), "not-a-directory", "{err}");
        assert_eq!(err.exit(), Exit::InvalidInput);
        assert!(
            err.to_string()
                .starts_with(&format!("{} is a file, not a directory", file.display())),
            "{err}"
        );
    }
}

#[test]
fn node_files_with_a_repeated_key_are_refused() {
    let fx = Fixture::new();
    let releases = chain(&fx, 1);
    fx.install(&bytes(&releases[0]));
    let path = current_json(&fx);
    let text = std::fs::read_to_string(&path).unwrap();
    let doubled = text.replacen("{", "{\n  \"release_seq\": 9,", 1);
    std::fs::write(&path, doubled).unwrap();
    assert_corrupt(
        &fx.store.status().unwrap_err(),
        "duplicate key \"release_seq\"",
    );
}

#[test]
fn a_history_line_over_its_limit_is_refused_without_reading_on() {
    let fx = Fixture::new();
    let releases = chain(&fx, 1);
    fx.install(&bytes(&releases[0]));
    let history = fx.store.history_path();
    let mut text = std::fs::read(&history).unwrap();
    text.extend(vec![b'x'; node::history::MAX_LINE_BYTES + 1]);
    text.push(b'\n');
    std::fs::write(&history, text).unwrap();
    assert_corrupt(
        &fx.store.status().unwrap_err(),
        "line 2 is 65537 bytes, over the 65536-byte limit",
    );
}

/// The node API and `--status` read without the lock while ingests commit and prune.
#[test]
fn slow_readers_racing_ingests_never_see_a_corrupt_store() {
    let fx = Fixture::new();
    let releases = chain(&fx, 12);
    fx.install(&bytes(&releases[0]));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let status = fx
                    .store
                    .status()
                    .unwrap_or_else(|e| panic!("read {reads}: {e}"));
                assert!(status.current.is_some());
                reads += 1;
            }
            reads
        });
        for release in &releases[1..] {
            fx.install(&bytes(release));
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(reader.join().unwrap() > 0);
    });
}
