//! `git worktree list` parsing against real worktrees.

mod common;

use common::{oid, setup};

#[test]
fn lists_main_branch_detached_and_locked_worktrees() {
    let (repo, git) = setup();
    let head = oid(&repo.head());
    let on_branch = repo.scratch("on branch");
    let detached = repo.scratch("detached");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "gaffer/t1",
        on_branch.to_str().unwrap(),
    ]);
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        detached.to_str().unwrap(),
    ]);
    repo.git(&["worktree", "lock", detached.to_str().unwrap()]);

    let list = git.worktrees().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].path, repo.path());
    assert_eq!(list[0].branch.as_deref(), Some("main"));
    assert_eq!(list[0].head, Some(head.clone()));
    assert!(!list[0].detached && !list[0].bare && !list[0].locked);

    let wt1 = list.iter().find(|w| w.path == on_branch).unwrap();
    assert_eq!(wt1.branch.as_deref(), Some("gaffer/t1"));
    let wt2 = list.iter().find(|w| w.path == detached).unwrap();
    assert!(wt2.detached && wt2.locked && wt2.branch.is_none());
    assert_eq!(wt2.head, Some(head));
}

#[test]
fn prunable_worktrees_are_flagged() {
    let (repo, git) = setup();
    let wt = repo.scratch("vanishing");
    repo.git(&["worktree", "add", "-q", "--detach", wt.to_str().unwrap()]);
    std::fs::remove_dir_all(&wt).unwrap();
    let list = git.worktrees().unwrap();
    assert!(list.iter().any(|w| w.path == wt && w.prunable));
}

#[test]
fn checked_out_in_finds_the_worktree_of_a_branch() {
    let (repo, git) = setup();
    let wt = repo.scratch("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "gaffer/t2",
        wt.to_str().unwrap(),
    ]);
    assert_eq!(
        git.checked_out_in("main").unwrap(),
        Some(repo.path().to_path_buf())
    );
    assert_eq!(git.checked_out_in("gaffer/t2").unwrap(), Some(wt.clone()));
    assert_eq!(git.checked_out_in("gaffer").unwrap(), None);
    assert_eq!(git.checked_out_in("nope").unwrap(), None);
    assert_eq!(
        git.worktree_at(&wt).unwrap().unwrap().branch.as_deref(),
        Some("gaffer/t2")
    );
}

/// The worktrees read from git's administrative files are the ones `git worktree list` gives,
/// whatever state they are in: the main one, on a branch, detached, locked, on an unborn
/// branch, gone from disk, with a path holding spaces; and they follow what git does next.
#[test]
fn the_worktrees_read_from_files_are_git_s_list() {
    let (repo, git) = setup();
    let sorted = |mut list: Vec<gaffer_git::WorktreeInfo>| {
        list.sort_by(|a, b| a.path.cmp(&b.path));
        list
    };
    let same = |when: &str| {
        assert_eq!(
            sorted(git.registered_worktrees().unwrap()),
            sorted(git.worktrees().unwrap()),
            "{when}"
        );
    };
    same("only the main worktree");
    let on_branch = repo.scratch("on a branch");
    let detached = repo.scratch("detached");
    let unborn = repo.scratch("unborn");
    let vanishing = repo.scratch("vanishing");
    let add = |args: &[&str]| {
        let mut all = vec!["worktree", "add", "-q"];
        all.extend_from_slice(args);
        repo.git(&all);
    };
    add(&["-b", "gaffer/t1", on_branch.to_str().unwrap()]);
    add(&["--detach", detached.to_str().unwrap()]);
    add(&["--orphan", "-b", "fresh", unborn.to_str().unwrap()]);
    add(&["--detach", vanishing.to_str().unwrap()]);
    repo.git(&["worktree", "lock", detached.to_str().unwrap()]);
    same("four linked worktrees");

    std::fs::remove_dir_all(&vanishing).unwrap();
    repo.write("next.txt", "next\n");
    repo.commit_all("next");
    repo.git_in(
        &on_branch,
        &["commit", "-q", "--allow-empty", "-m", "on the branch"],
    );
    repo.git_in(&detached, &["checkout", "-q", "--detach", "main"]);
    same("after commits, a moved HEAD and a deleted directory");

    repo.git(&["worktree", "unlock", detached.to_str().unwrap()]);
    repo.git(&["worktree", "prune"]);
    repo.git(&["worktree", "remove", "--force", on_branch.to_str().unwrap()]);
    same("after a prune and a removal");
    assert_eq!(git.registered_worktrees().unwrap().len(), 3);
}

/// A worktree's HEAD, its branch and whether a merge is in progress, read from its files, are
/// what git's own commands say, in every state a task worktree can be in.
#[test]
fn head_branch_and_merge_read_from_files_are_git_s() {
    let (repo, git) = setup();
    let env = repo.env();
    let agree = |dir: &std::path::Path, when: &str| {
        let head = repo.git_in(dir, &["rev-parse", "HEAD"]);
        assert_eq!(git.head_of(dir).unwrap(), oid(&head), "{when}");
        let branch = gaffer_git::branch_of(dir, &env).unwrap();
        let symbolic = std::process::Command::new("git")
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(["symbolic-ref", "-q", "--short", "HEAD"])
            .output()
            .unwrap();
        let expected = String::from_utf8(symbolic.stdout).unwrap();
        let expected = expected.trim();
        assert_eq!(
            branch.as_deref(),
            (!expected.is_empty()).then_some(expected),
            "{when}"
        );
    };
    agree(repo.path(), "the main worktree");
    let wt = repo.scratch("task");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "gaffer/t1",
        wt.to_str().unwrap(),
    ]);
    agree(&wt, "on a branch");
    repo.git_in(&wt, &["commit", "-q", "--allow-empty", "-m", "moved"]);
    agree(&wt, "after a commit");
    repo.git_in(&wt, &["checkout", "-q", "--detach", "main"]);
    agree(&wt, "detached");
    assert!(!gaffer_git::merge_in_progress(&wt, &env).unwrap());
    repo.git_in(&wt, &["checkout", "-q", "gaffer/t1"]);
    repo.write("side.txt", "main\n");
    repo.commit_all("main side");
    repo.git_in(&wt, &["merge", "-q", "--no-commit", "--no-ff", "main"]);
    assert!(gaffer_git::merge_in_progress(&wt, &env).unwrap());
    agree(&wt, "a merge in progress");
}
