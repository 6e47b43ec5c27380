//! Merging the target into a worktree for a resolver, and finishing the merge.

mod common;

use common::{commit_on_branch, setup};
use gaffer_git::{
    WorktreeMerge, commit_all, files_with_conflict_markers, head_of, merge_in_progress,
    merge_into_worktree, unresolved_conflicts,
};

#[test]
fn a_conflicting_merge_is_left_in_progress_with_markers_and_a_commit_completes_it() {
    let (repo, git) = setup();
    let target = commit_on_branch(&repo, "target", &[("README.md", "target side\n")], "t");
    commit_on_branch(
        &repo,
        "task",
        &[("README.md", "task side\n"), ("a.txt", "a\n")],
        "task",
    );
    let wt = repo.scratch("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "task"]);
    let env = repo.env();
    let before = head_of(&wt, &env).unwrap();

    let merged = merge_into_worktree(&wt, &target, "Merge the target", &env).unwrap();
    assert_eq!(
        merged,
        WorktreeMerge::Conflicted {
            files: vec!["README.md".into()]
        }
    );
    assert!(merge_in_progress(&wt, &env).unwrap());
    let text = std::fs::read_to_string(wt.join("README.md")).unwrap();
    assert!(
        text.contains("<<<<<<< ") && text.contains("target side") && text.contains("task side")
    );
    assert_eq!(
        files_with_conflict_markers(&wt, &["README.md".into(), "a.txt".into()]),
        vec!["README.md".to_string()]
    );

    assert_eq!(
        unresolved_conflicts(&wt, &env).unwrap(),
        vec!["README.md".to_string()]
    );
    // Staged with its markers, it still counts.
    repo.git_in(&wt, &["add", "README.md"]);
    assert_eq!(
        unresolved_conflicts(&wt, &env).unwrap(),
        vec!["README.md".to_string()]
    );

    // Repeating it (a crash during the resolver run) gives the same state.
    std::fs::write(wt.join("README.md"), "half resolved\n").unwrap();
    let again = merge_into_worktree(&wt, &target, "Merge the target", &env).unwrap();
    assert!(matches!(again, WorktreeMerge::Conflicted { .. }));
    assert_eq!(head_of(&wt, &env).unwrap(), before);

    // The resolver resolves; the engine's commit completes the merge.
    std::fs::write(wt.join("README.md"), "both sides\n").unwrap();
    assert!(files_with_conflict_markers(&wt, &["README.md".into()]).is_empty());
    assert!(unresolved_conflicts(&wt, &env).unwrap().is_empty());
    let head = commit_all(&wt, "resolved", "agent <agent@example.com>", &env)
        .unwrap()
        .unwrap();
    assert!(!merge_in_progress(&wt, &env).unwrap());
    let parents = repo.git(&["log", "-1", "--format=%P", head.as_str()]);
    assert_eq!(
        parents,
        format!("{} {}", before.as_str(), target.as_str()),
        "a merge commit of the branch and the target"
    );
    assert!(git.is_ancestor(&target, &head).unwrap());
}

#[test]
fn a_clean_merge_is_committed_at_once() {
    let (repo, _git) = setup();
    let target = commit_on_branch(&repo, "target", &[("t.txt", "t\n")], "t");
    commit_on_branch(&repo, "task", &[("a.txt", "a\n")], "task");
    let wt = repo.scratch("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "task"]);
    let env = repo.env();
    let WorktreeMerge::Clean { head } =
        merge_into_worktree(&wt, &target, "Merge the target", &env).unwrap()
    else {
        panic!("expected a clean merge");
    };
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s", head.as_str()]),
        "Merge the target"
    );
    assert!(wt.join("t.txt").exists());
}
