//! Task worktrees: checkout, release, pool reuse, crash recovery and reconciliation.

// Helpers outside #[test] functions panic too; clippy only exempts the test functions.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use common::{commit_on_branch, oid, open};
use gaffer_git::{GitError, Worktrees, head_of, is_dirty};
use gaffer_test_support::TestRepo;

fn manager(repo: &TestRepo, pool_size: usize) -> Worktrees {
    Worktrees::new(open(repo), repo.scratch("state/worktrees"), pool_size)
}

fn current_branch(repo: &TestRepo, dir: &Path) -> String {
    repo.git_in(dir, &["symbolic-ref", "--short", "HEAD"])
}

fn gitdir_of(path: &Path) -> String {
    fs::read_to_string(path.join(".git")).unwrap()
}

fn pool_entries(wts: &Worktrees) -> Vec<String> {
    match fs::read_dir(wts.root().join(".pool")) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
        Err(_) => Vec::new(),
    }
}

#[test]
fn checkout_creates_a_worktree_on_a_new_branch() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    let path = wts.checkout("t1", "gaffer/t1-fix", &start).unwrap();
    assert_eq!(path, wts.path_of("t1"));
    assert_eq!(current_branch(&repo, &path), "gaffer/t1-fix");
    assert_eq!(head_of(&path, &repo.env()).unwrap(), start);
    assert_eq!(
        fs::read_to_string(path.join("README.md")).unwrap(),
        "# test repository\n"
    );
    // The user's checkout is untouched.
    assert_eq!(current_branch(&repo, repo.path()), "main");
}

#[test]
fn checkout_again_after_a_crash_returns_the_same_worktree_with_its_work() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    let path = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    fs::write(path.join("work.txt"), "agent output").unwrap();
    let again = manager(&repo, 0)
        .checkout("t1", "gaffer/t1", &start)
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(
        fs::read_to_string(path.join("work.txt")).unwrap(),
        "agent output"
    );
}

#[test]
fn checkout_completes_an_interrupted_pool_take() {
    // A pool slot was moved to root/<name> (so it is detached) and then the process died.
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 2);
    let path = wts.path_of("t1");
    repo.git(&["worktree", "add", "-q", "--detach", path.to_str().unwrap()]);
    fs::write(path.join("junk"), "junk").unwrap();
    assert_eq!(wts.checkout("t1", "gaffer/t1", &start).unwrap(), path);
    assert_eq!(current_branch(&repo, &path), "gaffer/t1");
    assert!(!path.join("junk").exists());
}

#[test]
fn checkout_replaces_a_stray_directory() {
    let repo = TestRepo::new();
    let wts = manager(&repo, 0);
    let path = wts.path_of("t1");
    fs::create_dir_all(path.join("half")).unwrap();
    fs::write(path.join("half/made"), "x").unwrap();
    wts.checkout("t1", "gaffer/t1", &oid(&repo.head())).unwrap();
    assert!(!path.join("half").exists());
    assert_eq!(current_branch(&repo, &path), "gaffer/t1");
}

#[test]
fn checkout_uses_an_existing_branch_at_start_that_is_checked_out_nowhere() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    repo.git(&["branch", "gaffer/t1"]);
    let path = manager(&repo, 0)
        .checkout("t1", "gaffer/t1", &start)
        .unwrap();
    assert_eq!(current_branch(&repo, &path), "gaffer/t1");
}

#[test]
fn checkout_fails_if_the_branch_exists_elsewhere() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    wts.checkout("t1", "gaffer/t1", &start).unwrap();
    // Checked out in another worktree.
    let err = wts.checkout("t2", "gaffer/t1", &start).unwrap_err();
    assert!(
        matches!(&err, GitError::BranchExists { checked_out_in: Some(p), .. } if *p == wts.path_of("t1")),
        "{err:?}"
    );
    // Checked out in the user's checkout.
    let err = wts.checkout("t3", "main", &start).unwrap_err();
    assert!(matches!(err, GitError::BranchExists { .. }), "{err:?}");
    // Exists at another commit.
    let elsewhere = commit_on_branch(&repo, "gaffer/t4", &[("x", "x")], "x");
    assert_ne!(elsewhere, start);
    let err = wts.checkout("t4", "gaffer/t4", &start).unwrap_err();
    assert!(
        matches!(
            err,
            GitError::BranchExists {
                checked_out_in: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!wts.path_of("t2").exists() && !wts.path_of("t4").exists());
}

#[test]
fn checkout_refuses_a_name_taken_by_another_branch() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    wts.checkout("t1", "gaffer/t1", &start).unwrap();
    let err = wts.checkout("t1", "gaffer/other", &start).unwrap_err();
    assert!(matches!(err, GitError::PathInUse { .. }), "{err:?}");
}

#[test]
fn invalid_names_are_rejected() {
    let repo = TestRepo::new();
    let wts = manager(&repo, 1);
    for bad in [".pool", "a/b", "", ".."] {
        let err = wts
            .checkout(bad, "gaffer/x", &oid(&repo.head()))
            .unwrap_err();
        assert!(
            matches!(err, GitError::InvalidArgument(_)),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn release_without_pool_removes_the_worktree_and_optionally_the_branch() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    let git = open(&repo);

    let p1 = wts.checkout("t1", "gaffer/t1", &start).unwrap();
    fs::write(p1.join("uncommitted"), "dirty").unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    assert!(!p1.exists());
    assert_eq!(git.rev_parse("refs/heads/gaffer/t1").unwrap(), None);
    assert_eq!(git.worktrees().unwrap().len(), 1);
    // Idempotent.
    wts.release("t1", "gaffer/t1", true).unwrap();

    let p2 = wts.checkout("t2", "gaffer/t2", &start).unwrap();
    wts.release("t2", "gaffer/t2", false).unwrap();
    assert!(!p2.exists());
    assert_eq!(git.rev_parse("refs/heads/gaffer/t2").unwrap(), Some(start));
    assert!(pool_entries(&wts).is_empty());
}

#[test]
fn pool_reuses_released_worktrees_clean_and_on_the_new_start() {
    let repo = TestRepo::new();
    let first_start = oid(&repo.head());
    let wts = manager(&repo, 2);
    let git = open(&repo);

    let p1 = wts.checkout("t1", "gaffer/t1", &first_start).unwrap();
    let admin_dir = gitdir_of(&p1);
    fs::write(p1.join("untracked"), "left behind").unwrap();
    fs::write(p1.join("README.md"), "modified").unwrap();
    wts.release("t1", "gaffer/t1", true).unwrap();
    assert!(!p1.exists());
    assert_eq!(pool_entries(&wts), vec!["0"]);
    assert_eq!(git.rev_parse("refs/heads/gaffer/t1").unwrap(), None);
    let slot = wts.root().join(".pool/0");
    assert!(!is_dirty(&slot, &repo.env()).unwrap());
    assert!(!slot.join("untracked").exists());

    // Main moves on; the next task starts from there in the recycled worktree.
    repo.write("later.txt", "later\n");
    let second_start = oid(&repo.commit_all("later"));
    let p2 = wts.checkout("t2", "gaffer/t2", &second_start).unwrap();
    assert_eq!(gitdir_of(&p2), admin_dir, "the pooled worktree was reused");
    assert!(pool_entries(&wts).is_empty());
    assert_eq!(current_branch(&repo, &p2), "gaffer/t2");
    assert_eq!(head_of(&p2, &repo.env()).unwrap(), second_start);
    assert_eq!(fs::read_to_string(p2.join("later.txt")).unwrap(), "later\n");
    assert_eq!(
        fs::read_to_string(p2.join("README.md")).unwrap(),
        "# test repository\n"
    );
    assert!(!p2.join("untracked").exists());
    assert!(!is_dirty(&p2, &repo.env()).unwrap());
}

#[test]
fn pool_never_exceeds_its_size() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 2);
    for i in 0..3 {
        wts.checkout(&format!("t{i}"), &format!("gaffer/t{i}"), &start)
            .unwrap();
    }
    for i in 0..3 {
        wts.release(&format!("t{i}"), &format!("gaffer/t{i}"), true)
            .unwrap();
    }
    assert_eq!(pool_entries(&wts), vec!["0", "1"]);
    // Main worktree + two pool slots.
    assert_eq!(open(&repo).worktrees().unwrap().len(), 3);
    // Repeating a release of something already pooled changes nothing.
    wts.release("t0", "gaffer/t0", true).unwrap();
    assert_eq!(pool_entries(&wts), vec!["0", "1"]);
}

#[test]
fn reconcile_removes_unknown_task_worktrees_and_strays_but_keeps_the_pool() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 1);
    let git = open(&repo);
    let keep = wts.checkout("keep", "gaffer/keep", &start).unwrap();
    let orphan = wts.checkout("orphan", "gaffer/orphan", &start).unwrap();
    let vanished = wts.checkout("vanished", "gaffer/vanished", &start).unwrap();
    wts.checkout("pooled", "gaffer/pooled", &start).unwrap();
    wts.release("pooled", "gaffer/pooled", true).unwrap();
    let stray = wts.path_of("stray");
    fs::create_dir_all(&stray).unwrap();
    // A worktree whose directory vanished (git still lists it).
    fs::remove_dir_all(&vanished).unwrap();

    let mut removed = wts.reconcile(&["keep".to_owned()]).unwrap();
    removed.sort();
    assert_eq!(removed, vec![orphan.clone(), stray.clone()]);
    assert!(keep.exists() && !orphan.exists() && !stray.exists());
    assert_eq!(pool_entries(&wts), vec!["0"]);
    let paths: Vec<_> = git
        .worktrees()
        .unwrap()
        .into_iter()
        .map(|w| w.path)
        .collect();
    assert_eq!(paths.len(), 3, "main, keep and the pool slot: {paths:?}");
    assert!(!paths.contains(&vanished), "pruned");
    // Branches are the engine's business.
    assert!(git.rev_parse("refs/heads/gaffer/orphan").unwrap().is_some());
}

#[test]
fn reconcile_trims_a_pool_larger_than_configured() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let big = manager(&repo, 3);
    for i in 0..3 {
        big.checkout(&format!("t{i}"), &format!("gaffer/t{i}"), &start)
            .unwrap();
    }
    for i in 0..3 {
        big.release(&format!("t{i}"), &format!("gaffer/t{i}"), true)
            .unwrap();
    }
    assert_eq!(pool_entries(&big).len(), 3);
    let small = manager(&repo, 1);
    assert!(small.reconcile(&[]).unwrap().is_empty());
    assert_eq!(pool_entries(&small), vec!["0"]);
    assert_eq!(open(&repo).worktrees().unwrap().len(), 2);
}

#[test]
fn drain_pool_removes_every_slot() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 2);
    for i in 0..2 {
        wts.checkout(&format!("t{i}"), &format!("gaffer/t{i}"), &start)
            .unwrap();
    }
    for i in 0..2 {
        wts.release(&format!("t{i}"), &format!("gaffer/t{i}"), true)
            .unwrap();
    }
    assert_eq!(pool_entries(&wts).len(), 2);
    assert_eq!(wts.drain_pool().unwrap().len(), 2);
    assert!(!wts.root().join(".pool").exists());
    assert_eq!(open(&repo).worktrees().unwrap().len(), 1);
    assert!(wts.drain_pool().unwrap().is_empty());
}

#[test]
fn concurrent_checkouts_and_releases_share_the_pool_safely() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 2);
    for i in 0..2 {
        wts.checkout(&format!("w{i}"), &format!("gaffer/w{i}"), &start)
            .unwrap();
    }
    for i in 0..2 {
        wts.release(&format!("w{i}"), &format!("gaffer/w{i}"), true)
            .unwrap();
    }
    std::thread::scope(|scope| {
        for i in 0..4 {
            let wts = &wts;
            let start = &start;
            scope.spawn(move || {
                let path = wts
                    .checkout(&format!("t{i}"), &format!("gaffer/t{i}"), start)
                    .unwrap();
                assert!(path.join("README.md").exists());
                wts.release(&format!("t{i}"), &format!("gaffer/t{i}"), true)
                    .unwrap();
            });
        }
    });
    assert!(pool_entries(&wts).len() <= 2);
    let git = open(&repo);
    assert!(git.branches("gaffer/").unwrap().is_empty());
    assert!(git.worktrees().unwrap().len() <= 3);
}

#[test]
fn reconcile_with_removes_nothing_when_keep_fails() {
    let repo = TestRepo::new();
    let start = oid(&repo.head());
    let wts = manager(&repo, 0);
    let orphan = wts.checkout("orphan", "gaffer/orphan", &start).unwrap();
    let failed = wts.reconcile_with(|| {
        Err::<Vec<String>, GitError>(GitError::InvalidArgument("no tasks".into()))
    });
    assert!(failed.is_err());
    assert!(orphan.exists());
    let removed = wts
        .reconcile_with(|| Ok::<_, GitError>(Vec::new()))
        .unwrap();
    assert_eq!(removed, vec![orphan.clone()]);
    assert!(!orphan.exists());
}
