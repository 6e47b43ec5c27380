//! Shared helpers for the integration tests: real git in temp dirs, hermetic environment.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gaffer_git::{Git, Oid};
use gaffer_test_support::TestRepo;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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

/// What a directory holds, `.git` aside: for each path, its kind, executable bit and contents
/// (a symlink's target).
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            if rel == ".git" {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(rel, format!("link -> {}", target.display()));
            } else if meta.is_dir() {
                out.insert(rel.clone(), "dir".into());
                walk(base, &path, out);
            } else {
                let exec = meta.permissions().mode() & 0o111 != 0;
                let contents = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
                out.insert(rel, format!("file exec={exec} {contents:?}"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

pub fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}
