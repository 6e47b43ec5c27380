//! [`TestRepo`]: a throwaway git repository in a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::env::{git_cmd, hermetic_git_env};

/// A git repository at `<tmp>/repo` on branch `main` with one commit (a `README.md`), plus a
/// private home directory at `<tmp>/home`. Everything is deleted when the value is dropped.
///
/// All git commands run under [`hermetic_git_env`]. Methods panic on failure: this is test code.
pub struct TestRepo {
    tmp: TempDir,
    repo: PathBuf,
    home: PathBuf,
    env: Vec<(String, String)>,
}

impl TestRepo {
    /// Creates the repository with its initial commit.
    pub fn new() -> TestRepo {
        let repo = TestRepo::empty();
        repo.write("README.md", "# test repository\n");
        repo.commit_all("initial commit");
        repo
    }

    /// Creates a repository with `n` files spread over nested directories (at most 100 files per
    /// directory, 10 directories per level) plus the README, all in one commit, objects packed.
    /// Used by benchmarks that need a repository of realistic size; writing the files and
    /// running one `git add -A` keeps it fast.
    pub fn with_files(n: usize) -> TestRepo {
        let repo = TestRepo::empty();
        repo.write("README.md", "# test repository\n");
        let mut current_dir = PathBuf::new();
        for i in 0..n {
            let dir = repo
                .repo
                .join(format!("src/d{}/s{}", i / 1000, (i / 100) % 10));
            // Files come in directory order, so each directory is created once.
            if dir != current_dir {
                fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
                current_dir = dir;
            }
            let path = current_dir.join(format!("file{i}.txt"));
            fs::write(&path, format!("file {i}\nsome content for line two\n"))
                .unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
        }
        repo.commit_all(&format!("add {n} files"));
        // Pack the objects, as in a real clone; checkouts from thousands of loose objects are
        // several times slower and would distort benchmarks.
        repo.git(&["repack", "-adq"]);
        repo
    }

    /// A clone of the repository at `source` (a bare remote, say; its remote is `origin`), with
    /// its own temporary directory and home, on the source's default branch.
    pub fn clone_of(source: &Path) -> TestRepo {
        let (tmp, root) = TestRepo::temp_root();
        let (repo, home) = (root.join("repo"), root.join("home"));
        fs::create_dir_all(&home).unwrap_or_else(|e| panic!("cannot create {home:?}: {e}"));
        let env = hermetic_git_env(&home);
        let test_repo = TestRepo {
            tmp,
            repo,
            home,
            env,
        };
        let (from, to) = (
            source.display().to_string(),
            test_repo.repo.display().to_string(),
        );
        test_repo.git_in(&root, &["clone", "-q", &from, &to]);
        test_repo
    }

    /// A fresh temporary directory, canonical.
    fn temp_root() -> (TempDir, PathBuf) {
        let tmp = tempfile::Builder::new()
            .prefix("gaffer-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create temp dir: {e}"));
        // Canonical paths, so they compare equal to what git reports (macOS links /var).
        let root = tmp
            .path()
            .canonicalize()
            .unwrap_or_else(|e| panic!("cannot canonicalize temp dir: {e}"));
        (tmp, root)
    }

    /// `git init -b main` without any commit.
    fn empty() -> TestRepo {
        let (tmp, root) = TestRepo::temp_root();
        let repo = root.join("repo");
        let home = root.join("home");
        for dir in [&repo, &home] {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
        }
        let env = hermetic_git_env(&home);
        let test_repo = TestRepo {
            tmp,
            repo,
            home,
            env,
        };
        test_repo.git(&["init", "-q", "-b", "main"]);
        test_repo
    }

    /// The repository's top-level directory.
    pub fn path(&self) -> &Path {
        &self.repo
    }

    /// The private home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A fresh path inside the temporary directory (not created), for other repositories,
    /// worktree roots and the like. Deleted with the `TestRepo`.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// The temporary directory holding the repository and the home directory.
    pub fn root(&self) -> &Path {
        self.repo.parent().unwrap_or_else(|| self.tmp.path())
    }

    /// The hermetic environment for git commands on this repository.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    /// Runs `git args` in the repository and returns stdout without its trailing newline.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo, args)
    }

    /// Runs `git args` in `dir` (a worktree of this repository, say) under the hermetic env.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let output = git_cmd(dir, &self.env)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run git {args:?}: {e}"));
        if !output.status.success() {
            panic!(
                "git {args:?} in {} failed ({}):\n{}{}",
                dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr),
                // Some failures (a commit with nothing to commit) explain themselves on stdout.
                String::from_utf8_lossy(&output.stdout)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout.trim_end_matches('\n').to_owned()
    }

    /// Writes `contents` to `rel` (relative to the repository), creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.repo.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {parent:?}: {e}"));
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }

    /// Reads `rel` (relative to the repository) as UTF-8 text.
    pub fn read(&self, rel: &str) -> String {
        let path = self.repo.join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"))
    }

    /// Reads `rel` (relative to the repository) as bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        let path = self.repo.join(rel);
        fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"))
    }

    /// Stages everything and commits it with `message`; returns the new commit's id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.head()
    }

    /// The commit id of `HEAD`.
    pub fn head(&self) -> String {
        self.rev_parse("HEAD")
    }

    /// The object id `rev` resolves to; panics if it does not resolve.
    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", rev])
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        TestRepo::new()
    }
}
