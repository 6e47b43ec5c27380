//! Predicting merges with `merge-tree --write-tree`.

mod common;

use common::{commit_on_branch, oid, setup};
use gaffer_git::MergeTree;

#[test]
fn clean_merge_writes_the_merged_tree() {
    let (repo, git) = setup();
    let a = commit_on_branch(&repo, "a", &[("a.txt", "a\n")], "a");
    let b = commit_on_branch(&repo, "b", &[("b.txt", "b\n")], "b");
    let MergeTree::Clean { tree } = git.merge_tree(&a, &b).unwrap() else {
        panic!("expected a clean merge");
    };
    let files = repo.git(&["ls-tree", "-r", "--name-only", tree.as_str()]);
    assert_eq!(files, "README.md\na.txt\nb.txt");
    // No ref, index or file was touched.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "main");
}

#[test]
fn fast_forwardable_merge_is_the_branch_tree() {
    let (repo, git) = setup();
    let base = oid(&repo.head());
    let b = commit_on_branch(&repo, "b", &[("b.txt", "b\n")], "b");
    let merged = git.merge_tree(&base, &b).unwrap();
    assert_eq!(
        merged,
        MergeTree::Clean {
            tree: git.tree_of(&b).unwrap()
        }
    );
}

#[test]
fn conflicts_report_the_file_names() {
    let (repo, git) = setup();
    let a = commit_on_branch(
        &repo,
        "a",
        &[
            ("README.md", "from a\n"),
            ("same.txt", "same\n"),
            ("dir/x y.txt", "a\n"),
        ],
        "a",
    );
    let b = commit_on_branch(
        &repo,
        "b",
        &[
            ("README.md", "from b\n"),
            ("same.txt", "same\n"),
            ("dir/x y.txt", "b\n"),
        ],
        "b",
    );
    assert_eq!(
        git.merge_tree(&a, &b).unwrap(),
        MergeTree::Conflicted {
            files: vec!["README.md".into(), "dir/x y.txt".into()]
        }
    );
}

#[test]
fn modify_delete_conflict_is_reported() {
    let (repo, git) = setup();
    let a = commit_on_branch(&repo, "a", &[("README.md", "changed\n")], "a");
    repo.git(&["checkout", "-q", "-b", "b"]);
    repo.git(&["rm", "-q", "README.md"]);
    repo.git(&["commit", "-q", "-m", "delete"]);
    let b = oid(&repo.head());
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(
        git.merge_tree(&a, &b).unwrap(),
        MergeTree::Conflicted {
            files: vec!["README.md".into()]
        }
    );
}

#[test]
fn unrelated_histories_are_an_error() {
    let (repo, git) = setup();
    repo.git(&["checkout", "-q", "--orphan", "lonely"]);
    repo.write("z", "z");
    let lonely = oid(&repo.commit_all("lonely root"));
    repo.git(&["checkout", "-q", "-f", "main"]);
    let main = oid(&repo.rev_parse("main"));
    assert!(git.merge_tree(&main, &lonely).is_err());
}
