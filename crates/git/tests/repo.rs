//! `Git`: discovery, revisions, commits, diffs and logs against real repositories.

mod common;

use common::{commit_on_branch, oid, open, setup};
use gaffer_git::{Git, GitError, ensure_supported_git, git_version};
use gaffer_test_support::TestRepo;

#[test]
fn installed_git_is_supported() {
    let version = git_version().unwrap();
    assert!(version.supports_merge_tree_write_tree(), "{version}");
    assert_eq!(ensure_supported_git().unwrap(), version);
}

#[test]
fn open_discovers_top_level_and_common_dir_from_a_subdirectory() {
    let repo = TestRepo::new();
    repo.write("sub/dir/file", "x");
    let git = Git::open_with_env(&repo.path().join("sub/dir"), repo.env()).unwrap();
    assert_eq!(git.top_level(), repo.path());
    assert_eq!(git.common_dir(), repo.path().join(".git"));
}

#[test]
fn open_outside_a_repository_fails_typed() {
    let dir = tempfile::tempdir().unwrap();
    let env = gaffer_test_support::hermetic_git_env(dir.path());
    let err = Git::open_with_env(dir.path(), env.clone()).unwrap_err();
    assert!(matches!(err, GitError::NotARepository(_)), "{err:?}");
    let missing = dir.path().join("missing");
    let err = Git::open_with_env(&missing, env).unwrap_err();
    assert!(matches!(err, GitError::NotARepository(_)), "{err:?}");
}

#[test]
fn open_bare_repository_fails_typed() {
    let repo = TestRepo::new();
    let bare = repo.scratch("bare.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let err = Git::open_with_env(&bare, repo.env()).unwrap_err();
    assert!(matches!(err, GitError::Bare(_)), "{err:?}");
}

#[test]
fn rev_parse_resolves_or_returns_none() {
    let (repo, git) = setup();
    assert_eq!(git.rev_parse("HEAD").unwrap(), Some(oid(&repo.head())));
    assert_eq!(
        git.rev_parse("refs/heads/main").unwrap(),
        Some(oid(&repo.head()))
    );
    assert_eq!(git.rev_parse("refs/heads/nope").unwrap(), None);
    assert_eq!(git.rev_parse("HEAD~5").unwrap(), None);
    assert!(matches!(
        git.rev_parse("--all"),
        Err(GitError::InvalidArgument(_))
    ));
}

/// One long-lived resolver answers for the handle and its clones: what other processes do to
/// refs and objects after it started (a new commit, a moved or deleted branch, refs packed, a
/// repack) shows in its next answer, as in a new `git rev-parse`.
#[test]
fn rev_parse_sees_what_other_processes_did_since() {
    let (repo, git) = setup();
    let first = oid(&repo.head());
    assert_eq!(
        git.rev_parse_commit("refs/heads/main").unwrap(),
        Some(first.clone())
    );
    assert_eq!(git.rev_parse_commit("refs/heads/side").unwrap(), None);

    repo.write("more.txt", "more\n");
    repo.commit_all("more");
    let second = oid(&repo.head());
    let clone = git.clone();
    assert_eq!(
        clone.rev_parse_commit("refs/heads/main").unwrap(),
        Some(second.clone())
    );
    assert_eq!(git.tree_of(&second).unwrap().as_str().len(), 40);

    repo.git(&["branch", "side", first.as_str()]);
    assert_eq!(
        git.rev_parse_commit("refs/heads/side").unwrap(),
        Some(first.clone())
    );
    repo.git(&["pack-refs", "--all", "--prune"]);
    assert_eq!(
        git.rev_parse_commit("refs/heads/side").unwrap(),
        Some(first.clone())
    );
    repo.git(&["update-ref", "refs/heads/side", second.as_str()]);
    assert_eq!(
        git.rev_parse_commit("refs/heads/side").unwrap(),
        Some(second.clone())
    );
    repo.git(&["repack", "-adq"]);
    repo.git(&["branch", "-D", "side"]);
    assert_eq!(git.rev_parse_commit("refs/heads/side").unwrap(), None);
    assert_eq!(
        git.rev_parse_commit("refs/heads/main").unwrap(),
        Some(second.clone())
    );
    // Revisions cat-file cannot take on a line go to rev-parse, with the same answers.
    assert_eq!(git.rev_parse("main~1").unwrap(), Some(first));
    assert_eq!(git.rev_parse(" main").unwrap(), None);
    assert_eq!(git.rev_parse("main\nHEAD").unwrap(), None);
}

#[test]
fn rev_parse_commit_peels_annotated_tags() {
    let (repo, git) = setup();
    repo.git(&["tag", "-a", "-m", "v1", "v1"]);
    let tag = git.rev_parse("v1").unwrap().unwrap();
    assert_ne!(tag.as_str(), repo.head());
    assert_eq!(git.rev_parse_commit("v1").unwrap(), Some(oid(&repo.head())));
    let tree = git.tree_of(&oid(&repo.head())).unwrap();
    assert_eq!(git.rev_parse_commit(tree.as_str()).unwrap(), None);
}

#[test]
fn tree_of_matches_git() {
    let (repo, git) = setup();
    let tree = git.tree_of(&oid(&repo.head())).unwrap();
    assert_eq!(tree.as_str(), repo.rev_parse("HEAD^{tree}"));
}

#[test]
fn is_ancestor_both_ways() {
    let (repo, git) = setup();
    let first = oid(&repo.head());
    repo.write("a", "1");
    let second = oid(&repo.commit_all("second"));
    assert!(git.is_ancestor(&first, &second).unwrap());
    assert!(git.is_ancestor(&first, &first).unwrap());
    assert!(!git.is_ancestor(&second, &first).unwrap());
}

#[test]
fn commit_tree_defaults_to_gaffer_identity() {
    let repo = TestRepo::new();
    // The hermetic env without its identity variables, so gaffer's default applies.
    let env: Vec<_> = repo
        .env()
        .into_iter()
        .filter(|(k, _)| !k.ends_with("_NAME") && !k.ends_with("_EMAIL"))
        .collect();
    let git = Git::open_with_env(repo.path(), env).unwrap();
    let head = oid(&repo.head());
    let tree = git.tree_of(&head).unwrap();
    let commit = git
        .commit_tree(
            &tree,
            std::slice::from_ref(&head),
            "subject\n\n# not a comment\n",
        )
        .unwrap();
    let show = |fmt: &str| repo.git(&["log", "-1", &format!("--format={fmt}"), commit.as_str()]);
    assert_eq!(
        show("%an <%ae>|%cn <%ce>"),
        "gaffer <gaffer@localhost>|gaffer <gaffer@localhost>"
    );
    assert_eq!(show("%B"), "subject\n\n# not a comment");
    assert_eq!(show("%P"), head.as_str());
    assert_eq!(show("%T"), tree.as_str());
    // Nothing moved.
    assert_eq!(repo.head(), head.as_str());
}

#[test]
fn commit_tree_honours_identity_from_env_and_multiple_parents() {
    let (repo, git) = setup();
    let base = oid(&repo.head());
    let side = commit_on_branch(&repo, "side", &[("s", "s")], "side");
    let tree = git.tree_of(&side).unwrap();
    let merge = git
        .commit_tree(&tree, &[base.clone(), side.clone()], "merge")
        .unwrap();
    let info = repo.git(&["log", "-1", "--format=%an|%P", merge.as_str()]);
    assert_eq!(info, format!("Test Author|{base} {side}"));
    let root = git.commit_tree(&tree, &[], "root").unwrap();
    assert_eq!(repo.git(&["log", "-1", "--format=%P", root.as_str()]), "");
}

#[test]
fn diff_and_diff_stat() {
    let (repo, git) = setup();
    let from = oid(&repo.head());
    repo.write("README.md", "# changed\n");
    repo.write("dir/new file.txt", "new\n");
    repo.git(&["mv", "README.md", "MOVED.md"]);
    let to = oid(&repo.commit_all("change"));
    assert_eq!(
        git.diff_stat(&from, &to).unwrap(),
        vec!["MOVED.md", "README.md", "dir/new file.txt"]
    );
    let diff = git.diff(&from, &to).unwrap();
    assert!(
        diff.contains("diff --git a/dir/new file.txt b/dir/new file.txt"),
        "{diff}"
    );
    assert!(diff.contains("+new"), "{diff}");
    assert!(git.diff(&from, &from).unwrap().is_empty());
    // Trees work too.
    let (t1, t2) = (git.tree_of(&from).unwrap(), git.tree_of(&to).unwrap());
    assert_eq!(git.diff_stat(&t1, &t2).unwrap().len(), 3);
}

#[test]
fn log_oneline_lists_newest_first_and_respects_max() {
    let (repo, git) = setup();
    let base = repo.head();
    let mut tips = Vec::new();
    for i in 0..3 {
        repo.write("f", i.to_string());
        tips.push(repo.commit_all(&format!("commit number {i}")));
    }
    let log = git.log_oneline(&format!("{base}..HEAD"), 10).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0], (oid(&tips[2]), "commit number 2".to_owned()));
    assert_eq!(log[2].1, "commit number 0");
    assert_eq!(git.log_oneline("HEAD", 2).unwrap().len(), 2);
    assert!(git.log_oneline("HEAD..HEAD", 10).unwrap().is_empty());
    assert!(git.log_oneline("nonexistent", 10).is_err());
}

#[test]
fn git_from_a_linked_worktree_shares_the_common_dir() {
    let (repo, git) = setup();
    let wt = repo.scratch("wt");
    repo.git(&["worktree", "add", "-q", "--detach", wt.to_str().unwrap()]);
    let linked = open(&repo);
    let from_wt = Git::open_with_env(&wt, repo.env()).unwrap();
    assert_eq!(from_wt.top_level(), wt);
    assert_eq!(from_wt.common_dir(), git.common_dir());
    assert_eq!(linked.common_dir(), git.common_dir());
}

#[test]
fn commits_of_lists_each_commit_with_its_parents_and_whole_message() {
    let repo = TestRepo::new();
    let git = open(&repo);
    let base = repo.head();
    repo.write("a.txt", "a");
    // A message with blank lines, a line that looks like a commit id and trailing spaces.
    let message = "first\n\nbody line\n0123456789012345678901234567890123456789 not an id\n";
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", message]);
    let first = repo.head();
    repo.git(&["checkout", "-q", "-b", "side", &base]);
    repo.write("b.txt", "b");
    let side = repo.commit_all("side");
    repo.git(&["checkout", "-q", "-"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let merge = repo.head();

    let commits = git.commits_of(&format!("{base}..{merge}")).unwrap();
    let ids: Vec<String> = commits.iter().map(|c| c.oid.to_string()).collect();
    // Newest first, as `git log` lists them.
    assert_eq!(ids[0], merge);
    assert_eq!(commits.len(), 3, "{commits:?}");
    let parents = |id: &str| {
        commits
            .iter()
            .find(|c| c.oid.as_str() == id)
            .map(|c| c.parents.iter().map(|p| p.to_string()).collect::<Vec<_>>())
            .unwrap()
    };
    assert_eq!(parents(&merge), [first.as_str(), side.as_str()]);
    assert_eq!(parents(&first), [base.as_str()]);
    assert_eq!(parents(&side), [base.as_str()]);
    let of_first = commits.iter().find(|c| c.oid.as_str() == first).unwrap();
    assert_eq!(of_first.message.trim_end(), message.trim_end());
    assert!(
        git.commits_of(&format!("{merge}..{merge}"))
            .unwrap()
            .is_empty()
    );
    // A root commit has no parents.
    let root = git.commits_of(&base).unwrap();
    assert_eq!(root.last().unwrap().parents, []);
    assert!(git.commits_of("--all").is_err(), "an option is not a range");
}
