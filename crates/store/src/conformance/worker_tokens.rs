//! Worker tokens: stored by the hash of their secret, listed per project, found by hash while
//! not revoked (which records their use, at most once a minute), revoked only within their own
//! project.

use super::fixtures::{ExpectSome, fresh, must, must_fail, project};
use super::{MakeStore, START_MS};
use crate::{NewWorkerToken, StoreError};
use gaffer_core::ProjectId;

/// A SHA-256 digest as stored (64 lowercase hex digits), different for each `n`.
fn digest(n: u64) -> String {
    format!("{n:064x}")
}

fn new_token(project: ProjectId, name: &str, labels: &[&str], n: u64) -> NewWorkerToken {
    NewWorkerToken {
        project,
        name: name.to_string(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        hash: digest(n),
    }
}

/// Tokens are created (labels sorted without repeats, no use, not revoked), listed by project
/// and id, found by hash; a hash already taken, a hash that is not a digest, a blank name, a
/// bad label or an unknown project are refused and write nothing. A token is revoked once, only
/// through its own project; revoked, it is listed still but found by its hash no more.
pub fn worker_tokens_are_created_listed_and_revoked(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let alpha = project(store, "alpha");
    let beta = project(store, "beta");
    assert!(must(store.worker_tokens(alpha.id), "worker_tokens").is_empty());

    let a = must(
        store.create_worker_token(&new_token(alpha.id, "gpu box", &["x", "gpu", "x"], 1)),
        "create a",
    );
    assert!(a.id > 0);
    assert_eq!(
        (a.project, a.name.as_str(), a.labels.clone()),
        (
            alpha.id,
            "gpu box",
            vec!["gpu".to_string(), "x".to_string()]
        ),
        "labels sorted, no repeats"
    );
    assert_eq!(
        (a.created_ms, a.revoked_ms, a.last_used_ms),
        (START_MS, None, None)
    );
    clock.advance(10);
    let b = must(
        store.create_worker_token(&new_token(alpha.id, "plain", &[], 2)),
        "create b",
    );
    let c = must(
        store.create_worker_token(&new_token(beta.id, "other", &["gtk"], 3)),
        "create c",
    );
    assert!(b.id > a.id && b.labels.is_empty() && b.created_ms == START_MS + 10);
    assert_eq!(
        must(store.worker_tokens(alpha.id), "worker_tokens"),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        must(store.worker_tokens(beta.id), "worker_tokens"),
        std::slice::from_ref(&c)
    );

    for (bad, what) in [
        (new_token(beta.id, "again", &[], 1), "a hash taken already"),
        (
            NewWorkerToken {
                hash: format!("gfw_{}", digest(9)),
                ..new_token(alpha.id, "secret", &[], 0)
            },
            "a secret instead of its hash",
        ),
        (
            NewWorkerToken {
                hash: digest(9).to_uppercase().replace('0', "A"),
                ..new_token(alpha.id, "upper", &[], 0)
            },
            "a hash in upper case",
        ),
        (new_token(alpha.id, "  ", &[], 9), "a blank name"),
        (new_token(alpha.id, "w", &["two words"], 9), "a bad label"),
    ] {
        match must_fail(store.create_worker_token(&bad), what) {
            StoreError::Invalid(_) => {}
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
    }
    match must_fail(
        store.create_worker_token(&new_token(ProjectId(999), "lost", &[], 9)),
        "an unknown project",
    ) {
        StoreError::ProjectNotFound(ProjectId(999)) => {}
        other => panic!("an unknown project: expected ProjectNotFound, got {other:?}"),
    }
    assert_eq!(
        must(store.worker_tokens(alpha.id), "worker_tokens"),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        must(store.worker_tokens(beta.id), "worker_tokens"),
        std::slice::from_ref(&c)
    );

    let found = must(store.worker_token_by_hash(&digest(1)), "by hash").expect_some("token a");
    assert_eq!((found.id, found.project), (a.id, alpha.id));
    assert!(must(store.worker_token_by_hash(&digest(77)), "by hash").is_none());
    assert!(must(store.worker_token_by_hash("gfw_nothing"), "by hash").is_none());

    assert!(
        !must(store.revoke_worker_token(beta.id, a.id), "revoke"),
        "another project's token is not revoked"
    );
    assert!(must(store.worker_token_by_hash(&digest(1)), "by hash").is_some());
    clock.advance(5_000);
    assert!(must(store.revoke_worker_token(alpha.id, a.id), "revoke"));
    assert!(
        !must(store.revoke_worker_token(alpha.id, a.id), "revoke again"),
        "a token is revoked once"
    );
    assert!(!must(
        store.revoke_worker_token(alpha.id, 999_999),
        "revoke none"
    ));
    assert!(
        must(store.worker_token_by_hash(&digest(1)), "by hash").is_none(),
        "a revoked token is not found by its hash"
    );
    let listed = must(store.worker_tokens(alpha.id), "worker_tokens");
    assert_eq!(listed.len(), 2, "revoked tokens are listed");
    assert_eq!(listed[0].revoked_ms, Some(START_MS + 10 + 5_000));
    assert_eq!(listed[1], b);
    assert!(must(store.worker_token_by_hash(&digest(2)), "by hash").is_some());
    assert_eq!(
        must(store.worker_tokens(beta.id), "worker_tokens")[0].revoked_ms,
        None
    );
}

/// A lookup by hash records the token's use at the store's time, at most once a minute; a
/// revoked token's use is not recorded.
pub fn worker_token_use_is_recorded(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = must(
        store.create_worker_token(&new_token(p.id, "w", &[], 5)),
        "create",
    );
    let last_used =
        |store: &dyn crate::Store| must(store.worker_tokens(p.id), "worker_tokens")[0].last_used_ms;
    assert_eq!(last_used(store), None);

    clock.advance(1_000);
    let first = START_MS + 1_000;
    let found = must(store.worker_token_by_hash(&digest(5)), "by hash").expect_some("the token");
    assert_eq!(
        found.last_used_ms,
        Some(first),
        "the lookup answers with its use"
    );
    assert_eq!(last_used(store), Some(first));

    clock.advance(30_000);
    let found = must(store.worker_token_by_hash(&digest(5)), "by hash").expect_some("the token");
    assert_eq!(
        found.last_used_ms,
        Some(first),
        "not written again within a minute"
    );
    assert_eq!(last_used(store), Some(first));

    clock.advance(30_000);
    let found = must(store.worker_token_by_hash(&digest(5)), "by hash").expect_some("the token");
    assert_eq!(
        found.last_used_ms,
        Some(first + 60_000),
        "a minute later it is"
    );
    assert_eq!(last_used(store), Some(first + 60_000));

    assert!(must(store.revoke_worker_token(p.id, t.id), "revoke"));
    clock.advance(120_000);
    assert!(must(store.worker_token_by_hash(&digest(5)), "by hash").is_none());
    assert_eq!(
        last_used(store),
        Some(first + 60_000),
        "a revoked token's use is not recorded"
    );
}
