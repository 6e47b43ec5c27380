//! `pull_into_checkout`: bringing landed work into the user's checkout without ever
//! clobbering uncommitted changes.

// Helpers outside #[test] functions panic too; clippy only exempts the test functions.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::{oid, open};
use gaffer_git::{GitError, PullOutcome, PullRefused, pull_into_checkout};
use gaffer_test_support::TestRepo;

const LANDED: &str = "refs/heads/gaffer/landed/main";

/// A repository with `shared.txt` and `other.txt` on main and, on the landing branch, one
/// commit (made without touching the user's checkout) that changes `shared.txt` and adds
/// `added/new.txt`.
fn setup() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("shared.txt", "line 1\nline 2\nline 3\n");
    repo.write("other.txt", "other\n");
    repo.commit_all("base");
    land(
        &repo,
        &[
            ("shared.txt", "line 1\nline 2 landed\nline 3\n"),
            ("added/new.txt", "new\n"),
        ],
        "landed work",
    );
    repo
}

/// Commits `files` on the landing branch in a scratch worktree, leaving the user's
/// checkout alone.
fn land(repo: &TestRepo, files: &[(&str, &str)], msg: &str) -> String {
    let wt = repo.scratch("landing-wt");
    if !wt.exists() {
        let wt_str = wt.to_str().unwrap();
        if repo
            .git(&["branch", "--list", "gaffer/landed/main"])
            .is_empty()
        {
            repo.git(&[
                "worktree",
                "add",
                "-q",
                "-b",
                "gaffer/landed/main",
                wt_str,
                "main",
            ]);
        } else {
            repo.git(&["worktree", "add", "-q", wt_str, "gaffer/landed/main"]);
        }
    }
    for (path, contents) in files {
        let full = wt.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, contents).unwrap();
    }
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", msg]);
    repo.git_in(&wt, &["rev-parse", "HEAD"])
}

/// Everything observable about the user's checkout: HEAD, index, status and file bytes.
fn snapshot(repo: &TestRepo) -> (String, String, String, Vec<(String, Vec<u8>)>) {
    let mut files = Vec::new();
    for entry in walk(repo.path()) {
        let rel = entry
            .strip_prefix(repo.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push((rel, fs::read(&entry).unwrap()));
    }
    files.sort();
    (
        repo.head(),
        repo.git(&["ls-files", "--stage"]),
        repo.git(&["status", "--porcelain", "--ignored"]),
        files,
    )
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn pull(repo: &TestRepo) -> gaffer_git::Result<PullOutcome> {
    pull_into_checkout(repo.path(), "main", LANDED, &repo.env())
}

fn refused(result: gaffer_git::Result<PullOutcome>) -> PullRefused {
    match result {
        Err(GitError::PullRefused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn fast_forwards_preserving_unrelated_dirty_and_untracked_files() {
    let repo = setup();
    let before = oid(&repo.head());
    let landed = oid(&repo.rev_parse(LANDED));
    // Unrelated uncommitted work: unstaged, staged, untracked, and awkward bytes.
    let unstaged = b"other\r\nwith CRLF and trailing spaces   \n\xff\xfe binary\n".to_vec();
    repo.write("other.txt", &unstaged);
    repo.write("staged.txt", "staged but not committed\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("notes/untracked.md", "untracked\nno newline at end");

    let outcome = pull(&repo).unwrap();
    assert_eq!(
        outcome,
        PullOutcome::FastForwarded {
            from: before,
            to: landed.clone()
        }
    );
    assert_eq!(oid(&repo.head()), landed);
    assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(repo.read("shared.txt"), "line 1\nline 2 landed\nline 3\n");
    assert_eq!(repo.read("added/new.txt"), "new\n");
    assert_eq!(repo.read_bytes("other.txt"), unstaged);
    assert_eq!(
        repo.read("notes/untracked.md"),
        "untracked\nno newline at end"
    );
    assert_eq!(repo.read("staged.txt"), "staged but not committed\n");
    let status = repo.git(&["status", "--porcelain"]);
    assert_eq!(status, " M other.txt\nA  staged.txt\n?? notes/");
}

#[test]
fn up_to_date_when_nothing_new() {
    let repo = setup();
    pull(&repo).unwrap();
    let before = snapshot(&repo);
    assert_eq!(pull(&repo).unwrap(), PullOutcome::UpToDate);
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn refuses_on_dirty_overlap_leaving_the_file_byte_identical() {
    let repo = setup();
    let mine = b"line 1\nmy local edit\r\nline 3\n\x00".to_vec();
    repo.write("shared.txt", &mine);
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["shared.txt".into()]
        }
    );
    assert_eq!(repo.read_bytes("shared.txt"), mine);
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn refuses_on_staged_overlap() {
    let repo = setup();
    repo.write("shared.txt", "staged edit\n");
    repo.git(&["add", "shared.txt"]);
    repo.write("shared.txt", "then more unstaged\n");
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["shared.txt".into()]
        }
    );
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn refuses_when_an_untracked_or_ignored_file_is_in_the_way() {
    let repo = setup();
    repo.write("added/new.txt", "my untracked version\n");
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["added/new.txt".into()]
        }
    );
    assert_eq!(snapshot(&repo), before);

    // Ignored files are the user's too: git would overwrite them silently, we do not.
    fs::remove_file(repo.path().join("added/new.txt")).unwrap();
    repo.write(".git/info/exclude", "added/\n");
    repo.write("added/new.txt", "ignored but precious\n");
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["added/new.txt".into()]
        }
    );
    assert_eq!(snapshot(&repo), before);

    // An ignored file where the pull needs a directory.
    fs::remove_dir_all(repo.path().join("added")).unwrap();
    repo.write(".git/info/exclude", "added\n");
    repo.write("added", "a file, not a directory\n");
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["added/new.txt".into()]
        }
    );
    assert_eq!(repo.read("added"), "a file, not a directory\n");
}

#[test]
fn merges_when_the_users_branch_has_its_own_commit() {
    let repo = setup();
    let landed = oid(&repo.rev_parse(LANDED));
    repo.write("mine.txt", "my own commit\n");
    let own = oid(&repo.commit_all("user's own commit"));
    repo.write("other.txt", "dirty, unrelated\n");
    repo.write("scratch.txt", "untracked\n");

    let PullOutcome::Merged { commit } = pull(&repo).unwrap() else {
        panic!("expected a merge");
    };
    assert_eq!(oid(&repo.head()), commit);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%P"]),
        format!("{own} {landed}")
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]),
        "Merge branch 'gaffer/landed/main' into main"
    );
    assert_eq!(repo.read("mine.txt"), "my own commit\n");
    assert_eq!(repo.read("shared.txt"), "line 1\nline 2 landed\nline 3\n");
    assert_eq!(repo.read("added/new.txt"), "new\n");
    assert_eq!(repo.read("other.txt"), "dirty, unrelated\n");
    assert_eq!(repo.read("scratch.txt"), "untracked\n");
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        " M other.txt\n?? scratch.txt"
    );
    assert!(!repo.path().join(".git/MERGE_HEAD").exists());
    assert_eq!(pull(&repo).unwrap(), PullOutcome::UpToDate);
}

#[test]
fn merge_refuses_on_dirty_overlap_with_the_merged_result() {
    let repo = setup();
    repo.write("mine.txt", "mine\n");
    repo.commit_all("own");
    repo.write("added/new.txt", "untracked in the way\n");
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::DirtyOverlap {
            files: vec!["added/new.txt".into()]
        }
    );
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn refuses_on_conflicts_touching_nothing() {
    let repo = setup();
    repo.write("shared.txt", "line 1\nline 2 mine\nline 3\n");
    repo.commit_all("conflicting own commit");
    repo.write("other.txt", "dirty\n");
    let before = snapshot(&repo);
    let refs_before = repo.git(&["for-each-ref"]);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::Conflicts {
            files: vec!["shared.txt".into()]
        }
    );
    assert_eq!(snapshot(&repo), before);
    assert_eq!(repo.git(&["for-each-ref"]), refs_before);
    assert!(!repo.path().join(".git/MERGE_HEAD").exists());
}

#[test]
fn refuses_when_not_on_the_branch() {
    let repo = setup();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let before = snapshot(&repo);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::NotOnBranch {
            expected: "main".into(),
            actual: Some("feature".into())
        }
    );
    repo.git(&["checkout", "-q", "--detach"]);
    let reason = refused(pull(&repo));
    assert_eq!(
        reason,
        PullRefused::NotOnBranch {
            expected: "main".into(),
            actual: None
        }
    );
    repo.git(&["checkout", "-q", "feature"]);
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn unknown_source_is_an_error() {
    let repo = setup();
    let err = pull_into_checkout(repo.path(), "main", "refs/heads/nope", &repo.env()).unwrap_err();
    assert!(matches!(err, GitError::UnknownRevision(_)), "{err:?}");
}

#[test]
fn works_from_a_subdirectory_of_the_checkout() {
    let repo = setup();
    fs::create_dir_all(repo.path().join("deep/dir")).unwrap();
    repo.write("deep/dir/untracked", "u");
    let outcome =
        pull_into_checkout(&repo.path().join("deep/dir"), "main", LANDED, &repo.env()).unwrap();
    assert!(matches!(outcome, PullOutcome::FastForwarded { .. }));
    assert_eq!(repo.read("deep/dir/untracked"), "u");
    // The landing branch is untouched and gaffer's Git sees the new main.
    let git = open(&repo);
    assert_eq!(
        git.rev_parse("refs/heads/main").unwrap(),
        git.rev_parse(LANDED).unwrap()
    );
}

#[test]
fn hooks_do_not_run_in_the_users_checkout() {
    let repo = setup();
    repo.write("mine.txt", "mine\n");
    repo.commit_all("own");
    let hooks = repo.path().join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    for hook in [
        "post-merge",
        "post-checkout",
        "pre-merge-commit",
        "reference-transaction",
    ] {
        let path = hooks.join(hook);
        fs::write(
            &path,
            "#!/bin/sh\ntouch \"$(git rev-parse --git-dir)/hook-ran\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(matches!(pull(&repo).unwrap(), PullOutcome::Merged { .. }));
    assert!(!repo.path().join(".git/hook-ran").exists());
}
