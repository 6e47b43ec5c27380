//! Shared helpers for the integration tests: real git in temp dirs, hermetic environment.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gaffer_git::{Git, Oid};
use gaffer_test_support::TestRepo;

/// A test repository and a [`Git`] handle on it with the hermetic environment.
pub fn setup() -> (TestRepo, Git) {
    let repo = TestRepo::new();
    let git = open(&repo);
    (repo, git)
}

pub fn open(repo: &TestRepo) -> Git {
    Git::open_with_env(repo.path(), repo.env()).unwrap()
}

pub fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

/// Creates `branch` from HEAD, commits `files` on it, and returns to `main`. Returns the tip.
pub fn commit_on_branch(repo: &TestRepo, branch: &str, files: &[(&str, &str)], msg: &str) -> Oid {
    repo.git(&["checkout", "-q", "-b", branch]);
    for (path, contents) in files {
        repo.write(path, contents);
    }
    let tip = repo.commit_all(msg);
    repo.git(&["checkout", "-q", "main"]);
    oid(&tip)
}
