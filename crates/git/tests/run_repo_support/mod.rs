//! A task set up as the engine sets one up, for the run repository's tests: gaffer's state
//! directory inside the repository's `.git`, a task worktree on its branch, another task's
//! branch, and a run's scratch directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

use gaffer_git::{Git, Oid, RunRepo, Worktrees};
use gaffer_test_support::{TestRepo, git_cmd};

pub const BRANCH: &str = "gaffer/t1";
pub const OTHER: &str = "gaffer/t2";
pub const AGENT: &str = "Agent <agent@gaffer.local>";

pub struct Task {
    pub repo: TestRepo,
    pub git: Git,
    pub worktree: PathBuf,
    pub scratch: PathBuf,
    /// The task branch's tip (and main's) when the task starts.
    pub start: Oid,
    /// Another task's branch tip.
    pub other: Oid,
}

impl Task {
    pub fn new() -> Task {
        let repo = TestRepo::new();
        repo.write("src/lib.rs", "pub fn a() {}\n");
        repo.commit_all("second");
        repo.git(&["branch", OTHER]);
        let other = oid(&repo.rev_parse(OTHER));
        let git = Git::open_with_env(repo.path(), repo.env()).unwrap();
        let state = git.common_dir().join("gaffer");
        let start = oid(&repo.head());
        let worktrees = Worktrees::new(git.clone(), state.join("worktrees"), 0);
        let worktree = worktrees.checkout("t1", BRANCH, &start).unwrap();
        let scratch = state.join("runs/1/agent");
        std::fs::create_dir_all(&scratch).unwrap();
        Task {
            repo,
            git,
            worktree,
            scratch,
            start,
            other,
        }
    }

    /// `prepare` as the engine calls it: the target copied in.
    pub fn prepare(&self) -> RunRepo {
        let main = ("refs/heads/main".to_owned(), self.main());
        RunRepo::prepare(&self.git, &self.worktree, BRANCH, &[main], &self.scratch).unwrap()
    }

    /// git in the worktree through the run repository, as a run's git sees it.
    pub fn try_run_git(&self, run: &RunRepo, args: &[&str]) -> Output {
        let mut env = self.repo.env();
        env.push(("GIT_DIR".into(), run.dir().to_str().unwrap().into()));
        git_cmd(&self.worktree, &env).args(args).output().unwrap()
    }

    pub fn run_git(&self, run: &RunRepo, args: &[&str]) -> String {
        let out = self.try_run_git(run, args);
        assert!(
            out.status.success(),
            "git {args:?} through the run repo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.worktree.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A ref of the main repository, `None` when absent.
    pub fn main_ref(&self, name: &str) -> Option<Oid> {
        self.git.rev_parse(name).unwrap()
    }

    pub fn main(&self) -> Oid {
        self.main_ref("refs/heads/main").unwrap()
    }

    pub fn branch_tip(&self) -> Oid {
        self.main_ref(&format!("refs/heads/{BRANCH}")).unwrap()
    }

    /// Every ref of the main repository, as `git show-ref` prints them.
    pub fn all_refs(&self) -> String {
        self.repo.git(&["show-ref"])
    }

    pub fn gitfile(&self) -> String {
        std::fs::read_to_string(self.worktree.join(".git")).unwrap()
    }

    /// `git status --porcelain` in the worktree, through its real `.git`.
    pub fn status(&self) -> String {
        self.repo.git_in(&self.worktree, &["status", "--porcelain"])
    }
}

pub fn oid(s: &str) -> Oid {
    s.parse().unwrap()
}

pub fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}
