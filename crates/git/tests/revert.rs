//! Undoing a landing with `Git::revert_onto`: a merge against its first parent, a plain commit,
//! a conflict with later work, and nothing to undo; no branch, checkout or worktree is left
//! changed.

mod common;

use common::{commit_on_branch, oid, setup};
use gaffer_git::Reverted;

fn merge_no_ff(repo: &gaffer_test_support::TestRepo, branch: &str) -> gaffer_git::Oid {
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        &format!("merge {branch}"),
        branch,
    ]);
    oid(&repo.head())
}

#[test]
fn a_merge_is_undone_against_its_first_parent_on_a_later_tip() {
    let (repo, git) = setup();
    commit_on_branch(&repo, "a", &[("a.txt", "a\n")], "add a");
    let landed = merge_no_ff(&repo, "a");
    commit_on_branch(&repo, "b", &[("b.txt", "b\n")], "add b");
    let tip = merge_no_ff(&repo, "b");
    let scratch = repo.path().join(".git/gaffer/reverts/1");
    let made = git
        .revert_onto(&landed, &tip, &scratch, "Revert \"a\"\n")
        .unwrap();
    let Reverted::Commit(commit) = made else {
        panic!("expected a commit, got {made:?}");
    };
    let files = repo.git(&["ls-tree", "-r", "--name-only", commit.as_str()]);
    assert_eq!(files, "README.md\nb.txt", "a.txt is gone, b.txt stays");
    assert_eq!(
        repo.git(&["rev-parse", &format!("{}^@", commit.as_str())]),
        tip.as_str(),
        "one parent: the tip"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s", commit.as_str()]),
        "Revert \"a\""
    );
    // Nothing else moved, and the scratch worktree is gone.
    assert_eq!(repo.head(), tip.as_str());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(!scratch.exists());
    assert!(!repo.git(&["worktree", "list"]).contains("reverts"));
}

#[test]
fn a_plain_commit_is_undone_too() {
    let (repo, git) = setup();
    repo.write("c.txt", "c\n");
    let landed = oid(&repo.commit_all("add c"));
    let scratch = repo.path().join(".git/gaffer/reverts/2");
    let made = git
        .revert_onto(&landed, &landed, &scratch, "Revert c\n")
        .unwrap();
    let Reverted::Commit(commit) = made else {
        panic!("expected a commit, got {made:?}");
    };
    assert_eq!(
        repo.git(&["ls-tree", "-r", "--name-only", commit.as_str()]),
        "README.md"
    );
}

#[test]
fn later_changes_to_the_same_lines_conflict_and_nothing_is_left() {
    let (repo, git) = setup();
    commit_on_branch(&repo, "a", &[("f.txt", "one\n")], "add f");
    let landed = merge_no_ff(&repo, "a");
    commit_on_branch(&repo, "b", &[("f.txt", "two\n")], "change f");
    let tip = merge_no_ff(&repo, "b");
    let scratch = repo.path().join(".git/gaffer/reverts/3");
    // A leftover of an interrupted call is cleared first.
    std::fs::create_dir_all(scratch.join("junk")).unwrap();
    let made = git
        .revert_onto(&landed, &tip, &scratch, "Revert a\n")
        .unwrap();
    assert_eq!(
        made,
        Reverted::Conflicted {
            files: vec!["f.txt".into()]
        }
    );
    assert!(!scratch.exists());
    assert_eq!(repo.head(), tip.as_str());
}

#[test]
fn a_change_undone_already_reverts_to_nothing() {
    let (repo, git) = setup();
    commit_on_branch(&repo, "a", &[("a.txt", "a\n")], "add a");
    let landed = merge_no_ff(&repo, "a");
    repo.git(&["rm", "-q", "a.txt"]);
    let tip = oid(&repo.commit_all("remove a by hand"));
    let scratch = repo.path().join(".git/gaffer/reverts/4");
    assert_eq!(
        git.revert_onto(&landed, &tip, &scratch, "Revert a\n")
            .unwrap(),
        Reverted::Empty
    );
}
