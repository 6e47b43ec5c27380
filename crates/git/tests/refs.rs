//! Refs: compare-and-swap updates, deletion, branch listing and deletion.

mod common;

use common::{commit_on_branch, oid, setup};
use gaffer_git::{CasOutcome, GitError};

#[test]
fn cas_creates_a_ref_only_if_absent() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    let created = git
        .update_ref_cas("refs/heads/landed", &head, None)
        .unwrap();
    assert_eq!(created, CasOutcome::Updated);
    assert_eq!(
        git.rev_parse("refs/heads/landed").unwrap(),
        Some(head.clone())
    );

    // Creating again must not clobber it.
    let other = commit_on_branch(&repo, "other", &[("o", "o")], "other");
    let again = git
        .update_ref_cas("refs/heads/landed", &other, None)
        .unwrap();
    assert_eq!(
        again,
        CasOutcome::Moved {
            actual: Some(head.clone())
        }
    );
    assert_eq!(git.rev_parse("refs/heads/landed").unwrap(), Some(head));
}

#[test]
fn cas_updates_from_the_expected_value() {
    let (repo, git) = setup();
    let old = oid(&repo.head());
    let new = commit_on_branch(&repo, "feature", &[("f", "f")], "f");
    let outcome = git
        .update_ref_cas("refs/heads/main", &new, Some(&old))
        .unwrap();
    assert_eq!(outcome, CasOutcome::Updated);
    assert_eq!(git.rev_parse("refs/heads/main").unwrap(), Some(new));
}

#[test]
fn cas_refuses_when_the_ref_moved() {
    let (repo, git) = setup();
    let stale = oid(&repo.head());
    repo.write("x", "someone else's commit");
    let moved_to = oid(&repo.commit_all("concurrent"));
    let ours = commit_on_branch(&repo, "ours", &[("y", "y")], "ours");

    let outcome = git
        .update_ref_cas("refs/heads/main", &ours, Some(&stale))
        .unwrap();
    assert_eq!(
        outcome,
        CasOutcome::Moved {
            actual: Some(moved_to.clone())
        }
    );
    assert_eq!(git.rev_parse("refs/heads/main").unwrap(), Some(moved_to));
}

#[test]
fn cas_reports_a_deleted_ref_as_moved_to_nothing() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    let outcome = git
        .update_ref_cas("refs/heads/gone", &head, Some(&head))
        .unwrap();
    assert_eq!(outcome, CasOutcome::Moved { actual: None });
}

#[test]
fn cas_with_an_invalid_ref_name_is_an_error() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    let err = git
        .update_ref_cas("refs/heads/bad..name", &head, None)
        .unwrap_err();
    assert!(matches!(err, GitError::Failed { .. }), "{err:?}");
}

#[test]
fn delete_ref_checks_the_expected_value() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    repo.git(&["branch", "doomed"]);
    let other = commit_on_branch(&repo, "other", &[("o", "o")], "o");

    let err = git
        .delete_ref("refs/heads/doomed", Some(&other))
        .unwrap_err();
    match err {
        GitError::RefMoved { actual, .. } => assert_eq!(actual, Some(head.clone())),
        other => panic!("unexpected {other:?}"),
    }
    assert!(git.rev_parse("refs/heads/doomed").unwrap().is_some());

    git.delete_ref("refs/heads/doomed", Some(&head)).unwrap();
    assert_eq!(git.rev_parse("refs/heads/doomed").unwrap(), None);
    // Unconditional deletion of an absent ref is fine.
    git.delete_ref("refs/heads/doomed", None).unwrap();
}

#[test]
fn branches_filters_by_prefix_and_strips_refs_heads() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    for name in [
        "gaffer/t1-a",
        "gaffer/t2-b",
        "gaffer/landed/main",
        "gafferx",
        "other",
    ] {
        repo.git(&["branch", name]);
    }
    let names: Vec<String> = git
        .branches("gaffer/")
        .unwrap()
        .into_iter()
        .map(|(name, at)| {
            assert_eq!(at, head);
            name
        })
        .collect();
    assert_eq!(
        names,
        vec!["gaffer/landed/main", "gaffer/t1-a", "gaffer/t2-b"]
    );
    assert_eq!(git.branches("").unwrap().len(), 6);
    assert!(git.branches("nothing/").unwrap().is_empty());
}

#[test]
fn delete_branch_is_idempotent() {
    let (repo, git) = setup();
    commit_on_branch(&repo, "gaffer/t1", &[("unmerged", "x")], "unmerged work");
    git.delete_branch("gaffer/t1").unwrap();
    assert_eq!(git.rev_parse("refs/heads/gaffer/t1").unwrap(), None);
    git.delete_branch("gaffer/t1").unwrap();
}

#[test]
fn delete_branch_refuses_a_checked_out_branch() {
    let (repo, git) = setup();
    let wt = repo.scratch("wt");
    repo.git(&["worktree", "add", "-q", "-b", "busy", wt.to_str().unwrap()]);
    let err = git.delete_branch("busy").unwrap_err();
    match err {
        GitError::BranchExists { checked_out_in, .. } => assert_eq!(checked_out_in, Some(wt)),
        other => panic!("unexpected {other:?}"),
    }
}
