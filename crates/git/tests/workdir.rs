//! Operations on one worktree: head, commit everything, dirtiness, detached checkout.

mod common;

use common::{commit_on_branch, oid, setup};
use gaffer_git::{GitError, checkout_detached, commit_all, head_of, is_dirty, tracked_files};

const AGENT: &str = "Claude (gaffer) <claude@gaffer.local>";

#[test]
fn head_of_reads_the_checked_out_commit() {
    let (repo, _) = setup();
    assert_eq!(
        head_of(repo.path(), &repo.env()).unwrap().as_str(),
        repo.head()
    );
}

#[test]
fn tracked_files_lists_what_git_tracks_and_nothing_else() {
    let (repo, _) = setup();
    repo.write("src/a b.rs", "fn a() {}\n");
    repo.write(".gitignore", "target/\n");
    repo.write("target/out.bin", "x");
    commit_all(repo.path(), "files", AGENT, &repo.env()).unwrap();
    repo.write("untracked.txt", "x");
    let files = tracked_files(repo.path(), &repo.env()).unwrap();
    assert!(files.contains(&"src/a b.rs".to_string()), "{files:?}");
    assert!(files.contains(&".gitignore".to_string()), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("target/")), "{files:?}");
    assert!(!files.contains(&"untracked.txt".to_string()), "{files:?}");
}

#[test]
fn commit_all_on_a_clean_tree_returns_none() {
    let (repo, _) = setup();
    let before = repo.head();
    assert_eq!(
        commit_all(repo.path(), "nothing", AGENT, &repo.env()).unwrap(),
        None
    );
    assert_eq!(repo.head(), before);
}

#[test]
fn commit_all_commits_modified_new_and_deleted_files_with_attribution() {
    let (repo, _) = setup();
    let before = repo.head();
    repo.write("README.md", "changed\n");
    repo.write("src/new.rs", "fn main() {}\n");
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    let message = "Agent work on t-1\n\n# kept verbatim\n";
    let new = commit_all(repo.path(), message, AGENT, &repo.env())
        .unwrap()
        .unwrap();
    assert_eq!(new.as_str(), repo.head());
    assert_eq!(repo.rev_parse("HEAD~1"), before);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>|%cn"]),
        "Claude (gaffer) <claude@gaffer.local>|Test Committer"
    );
    assert_eq!(repo.git(&["log", "-1", "--format=%B"]), message.trim_end());
    let files = repo.git(&["show", "--name-status", "--format=", "HEAD"]);
    assert_eq!(files, "M\tREADME.md\nA\tsrc/new.rs\nA\tstaged.txt");

    std::fs::remove_file(repo.path().join("src/new.rs")).unwrap();
    commit_all(repo.path(), "delete", AGENT, &repo.env())
        .unwrap()
        .unwrap();
    assert_eq!(
        repo.git(&["show", "--name-status", "--format=", "HEAD"]),
        "D\tsrc/new.rs"
    );
}

#[test]
fn commit_all_concludes_a_merge_in_progress_with_both_parents() {
    let (repo, _) = setup();
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("README.md", "side\n");
    let side = repo.commit_all("side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "main\n");
    let main = repo.commit_all("main");
    let out = gaffer_test_support::git_cmd(repo.path(), &repo.env())
        .args(["merge", "--no-edit", "side"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the merge conflicts");
    repo.write("README.md", "resolved\n");
    let merged = commit_all(repo.path(), "resolve", AGENT, &repo.env())
        .unwrap()
        .unwrap();
    assert_eq!(repo.git(&["rev-parse", "HEAD^1"]), main);
    assert_eq!(repo.git(&["rev-parse", "HEAD^2"]), side);
    assert_eq!(merged.as_str(), repo.head());
    assert!(!repo.path().join(".git/MERGE_HEAD").exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn commit_all_in_a_detached_worktree_moves_head_only() {
    let (repo, _) = setup();
    let before = repo.head();
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("new.txt", "new\n");
    let made = commit_all(repo.path(), "detached", AGENT, &repo.env())
        .unwrap()
        .unwrap();
    assert_eq!(repo.head(), made.as_str());
    assert_eq!(repo.rev_parse("main"), before);
}

#[test]
fn commit_all_skips_hooks() {
    let (repo, _) = setup();
    let hooks = repo.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for hook in ["pre-commit", "commit-msg", "post-commit"] {
        let path = hooks.join(hook);
        std::fs::write(
            &path,
            "#!/bin/sh\ntouch \"$(git rev-parse --git-dir)/hook-ran\"\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    repo.write("x", "x");
    assert!(
        commit_all(repo.path(), "m", AGENT, &repo.env())
            .unwrap()
            .is_some()
    );
    assert!(!repo.path().join(".git/hook-ran").exists());
}

#[test]
fn commit_all_rejects_malformed_authors() {
    let (repo, _) = setup();
    repo.write("x", "x");
    let err = commit_all(repo.path(), "m", "claude", &repo.env()).unwrap_err();
    assert!(matches!(err, GitError::InvalidArgument(_)), "{err:?}");
    assert!(
        is_dirty(repo.path(), &repo.env()).unwrap(),
        "nothing was committed"
    );
}

#[test]
fn is_dirty_sees_unstaged_staged_and_untracked_but_not_ignored() {
    let (repo, _) = setup();
    let env = repo.env();
    repo.write(".gitignore", "target/\n");
    repo.commit_all("ignore");
    assert!(!is_dirty(repo.path(), &env).unwrap());
    repo.write("target/build.o", "ignored");
    assert!(!is_dirty(repo.path(), &env).unwrap());
    repo.write("new.txt", "untracked");
    assert!(is_dirty(repo.path(), &env).unwrap());
    repo.git(&["add", "new.txt"]);
    assert!(is_dirty(repo.path(), &env).unwrap());
    repo.commit_all("add");
    repo.write("README.md", "modified");
    assert!(is_dirty(repo.path(), &env).unwrap());
}

#[test]
fn checkout_detached_resets_to_exactly_the_commit() {
    let (repo, _) = setup();
    let env = repo.env();
    repo.write(".gitignore", "*.log\n");
    repo.commit_all("ignore logs");
    let candidate = commit_on_branch(&repo, "candidate", &[("c.txt", "c\n")], "candidate");
    repo.write("README.md", "local edit");
    repo.write("untracked.txt", "u");
    repo.write("debug.log", "ignored");
    repo.write("nested/deep/file", "n");

    checkout_detached(repo.path(), &candidate, &env).unwrap();
    assert_eq!(head_of(repo.path(), &env).unwrap(), candidate);
    assert!(!is_dirty(repo.path(), &env).unwrap());
    assert_eq!(repo.read("c.txt"), "c\n");
    assert_eq!(repo.read("README.md"), "# test repository\n");
    for gone in ["untracked.txt", "nested"] {
        assert!(!repo.path().join(gone).exists(), "{gone} should be cleaned");
    }
    // Ignored files (a task's installed dependencies, build caches) stay.
    assert_eq!(repo.read("debug.log"), "ignored");
    let out = gaffer_test_support::git_cmd(repo.path(), &env)
        .args(["symbolic-ref", "-q", "HEAD"])
        .status()
        .unwrap();
    assert!(!out.success(), "HEAD must be detached");
    // The branch we were on is untouched.
    assert_eq!(
        oid(&repo.rev_parse("main")),
        oid(&repo.rev_parse("candidate~1"))
    );
}
