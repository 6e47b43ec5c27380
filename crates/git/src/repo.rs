//! [`Git`]: a repository, addressed through its top-level working directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::cmd::{GitCommand, not_an_option, split_nul};
use crate::resolver::Resolver;
use crate::{GitError, Oid, Result};

/// Answers of `is_ancestor` kept (they never change: commits are immutable); the memo is
/// emptied when it holds this many.
const ANCESTRY_MEMO: usize = 4096;

/// A git repository with a working tree (the user's), plus the extra environment every git
/// command on it runs with. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Git {
    top_level: PathBuf,
    common_dir: PathBuf,
    env: Vec<(String, String)>,
    /// Shared by the clones of this handle (same directory, same environment).
    resolver: Arc<Resolver>,
    ancestry: Arc<Mutex<HashMap<(Oid, Oid), bool>>>,
}

impl Git {
    /// Discovers the repository containing `path`.
    ///
    /// Fails with [`GitError::NotARepository`] outside a repository and [`GitError::Bare`] in
    /// a repository without a working tree (or inside its `.git` directory).
    pub fn open(path: &Path) -> Result<Git> {
        Git::open_with_env(path, Vec::new())
    }

    /// [`Git::open`], with `env` applied to discovery and to every later command.
    pub fn open_with_env(path: &Path, env: Vec<(String, String)>) -> Result<Git> {
        if !path.is_dir() {
            return Err(GitError::NotARepository(path.to_path_buf()));
        }
        let out = GitCommand::new(path, &env)
            .args(["rev-parse", "--path-format=absolute"])
            .args(["--show-toplevel", "--git-common-dir"])
            .output()?;
        if out.code != Some(0) {
            if out.stderr.contains("not a git repository") {
                return Err(GitError::NotARepository(path.to_path_buf()));
            }
            if out.stderr.contains("must be run in a work tree") {
                return Err(GitError::Bare(path.to_path_buf()));
            }
            return Err(out.into_error());
        }
        let text = out.stdout_text();
        let mut lines = text.lines();
        let (Some(top), Some(common)) = (lines.next(), lines.next()) else {
            return Err(GitError::Parse(format!(
                "rev-parse --show-toplevel --git-common-dir printed {text:?}"
            )));
        };
        let top_level = PathBuf::from(top);
        Ok(Git {
            resolver: Arc::new(Resolver::new(top_level.clone(), env.clone())),
            top_level,
            common_dir: PathBuf::from(common),
            env,
            ancestry: Arc::default(),
        })
    }

    /// The same repository with `env` added to every git command (later entries win).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Git {
        self.env.extend(env);
        self.resolver = Arc::new(Resolver::new(self.top_level.clone(), self.env.clone()));
        self
    }

    /// The top-level directory of the working tree `open` was given.
    pub fn top_level(&self) -> &Path {
        &self.top_level
    }

    /// The repository's common git directory (shared by all its worktrees).
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// The extra environment of this repository's git commands.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// A git command running at the top level with this repository's environment.
    pub(crate) fn cmd(&self) -> GitCommand {
        GitCommand::new(&self.top_level, &self.env)
    }

    /// The object `rev` names, or `None` when it does not resolve.
    pub fn rev_parse(&self, rev: &str) -> Result<Option<Oid>> {
        not_an_option("revision", rev)?;
        self.resolver.resolve(rev)
    }

    /// The commit the worktree at `dir` (of this repository) has checked out, as [`crate::head_of`]
    /// says, read from the worktree's `HEAD` file and the refs this handle resolves without a
    /// process of its own; anything unexpected (the main worktree, a HEAD that names no branch
    /// here, another ref storage) is asked of `git rev-parse`.
    pub fn head_of(&self, dir: &Path) -> Result<Oid> {
        use crate::worktree_admin::{Head, worktree_head};
        match worktree_head(dir) {
            Some(Head::Detached(oid)) if !oid.is_zero() => return Ok(oid),
            Some(Head::Branch(name)) if name.starts_with("refs/heads/") => {
                if let Some(oid) = self.rev_parse(&name)? {
                    return Ok(oid);
                }
            }
            _ => {}
        }
        crate::head_of(dir, self.env())
    }

    /// The commit `rev` names (peeling tags), or `None` when it does not resolve to a commit.
    pub fn rev_parse_commit(&self, rev: &str) -> Result<Option<Oid>> {
        not_an_option("revision", rev)?;
        self.rev_parse(&format!("{rev}^{{commit}}"))
    }

    /// The tree of `commit`.
    pub fn tree_of(&self, commit: &Oid) -> Result<Oid> {
        let rev = format!("{commit}^{{tree}}");
        self.rev_parse(&rev)?.ok_or(GitError::UnknownRevision(rev))
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    pub fn is_ancestor(&self, ancestor: &Oid, descendant: &Oid) -> Result<bool> {
        let key = (ancestor.clone(), descendant.clone());
        if let Some(known) = self.ancestry.lock().ok().and_then(|m| m.get(&key).copied()) {
            return Ok(known);
        }
        let answer = self.ask_is_ancestor(ancestor, descendant)?;
        if let Ok(mut memo) = self.ancestry.lock() {
            if memo.len() >= ANCESTRY_MEMO {
                memo.clear();
            }
            memo.insert(key, answer);
        }
        Ok(answer)
    }

    fn ask_is_ancestor(&self, ancestor: &Oid, descendant: &Oid) -> Result<bool> {
        let out = self
            .cmd()
            .args(["merge-base", "--is-ancestor"])
            .arg(ancestor.as_str())
            .arg(descendant.as_str())
            .output()?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(out.into_error()),
        }
    }

    /// Creates a commit object for `tree` with `parents` and `message`, without touching any
    /// ref, index or worktree. Author and committer are gaffer (`gaffer <gaffer@localhost>`)
    /// unless the environment sets `GIT_AUTHOR_*` / `GIT_COMMITTER_*`. Never signs.
    pub fn commit_tree(&self, tree: &Oid, parents: &[Oid], message: &str) -> Result<Oid> {
        let mut cmd = self
            .cmd()
            .default_identity()
            .args(["commit-tree", "--no-gpg-sign"]);
        for parent in parents {
            cmd = cmd.arg("-p").arg(parent.as_str());
        }
        // The message goes through stdin, verbatim: commit-tree does no cleanup.
        let out = cmd.arg(tree.as_str()).stdin(message).run()?;
        out.trim().parse()
    }

    /// The unified diff (with `a/` and `b/` prefixes, no colour, no external diff drivers)
    /// from `from` to `to`, which may be commits or trees.
    pub fn diff(&self, from: &Oid, to: &Oid) -> Result<String> {
        self.diff_with(from, to, &[])
    }

    /// Like [`Git::diff`], with every file shown as text (files git would call binary too):
    /// for scanning a change for secrets.
    pub fn diff_text(&self, from: &Oid, to: &Oid) -> Result<String> {
        self.diff_with(from, to, &["--text"])
    }

    /// Every commit of `range` (`from..to`), newest first, with its parents and full message:
    /// one process for what a scan of a change's commits needs.
    pub fn commits_of(&self, range: &str) -> Result<Vec<CommitInfo>> {
        not_an_option("range", range)?;
        // NUL after each message: a message may hold any line, a NUL it cannot.
        let out = self
            .cmd()
            .args([
                "log",
                "--no-color",
                "--no-show-signature",
                "--format=%H %P%n%B%x00",
                range,
                "--",
            ])
            .run()?;
        out.split('\0')
            .map(|entry| entry.trim_start_matches('\n'))
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let (ids, message) = entry.split_once('\n').unwrap_or((entry, ""));
                let mut ids = ids.split(' ').filter(|id| !id.is_empty());
                let oid = ids
                    .next()
                    .ok_or_else(|| GitError::Parse(format!("a commit without an id: {entry:?}")))?
                    .parse()?;
                Ok(CommitInfo {
                    oid,
                    parents: ids.map(str::parse).collect::<Result<_>>()?,
                    message: message.to_owned(),
                })
            })
            .collect()
    }

    /// The paths of `from..to` whose entries are nested repositories (gitlinks, mode 160000).
    pub fn gitlinks_added(&self, from: &Oid, to: &Oid) -> Result<Vec<String>> {
        let out = self
            .cmd()
            // Explicitly: gaffer's base config ignores submodules in diffs.
            .args([
                "diff",
                "--raw",
                "--no-renames",
                "--ignore-submodules=none",
                "-z",
                from.as_str(),
                to.as_str(),
                "--",
            ])
            .run_bytes()?;
        // `-z --raw`: ":<old mode> <new mode> <old> <new> <status>\0<path>\0" per entry.
        let text = String::from_utf8_lossy(&out);
        let mut fields = text.split('\0');
        let mut found = Vec::new();
        while let Some(meta) = fields.next() {
            let Some(path) = fields.next() else { break };
            if meta.split(' ').nth(1) == Some("160000") {
                found.push(path.to_owned());
            }
        }
        Ok(found)
    }

    fn diff_with(&self, from: &Oid, to: &Oid, extra: &[&str]) -> Result<String> {
        let bytes = self
            .cmd()
            .args([
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--src-prefix=a/",
                "--dst-prefix=b/",
            ])
            .args(extra)
            .arg(from.as_str())
            .arg(to.as_str())
            .arg("--")
            .run_bytes()?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The paths changed from `from` to `to` (commits or trees), sorted. A rename counts as a
    /// deletion of the old path and an addition of the new one, so both are listed.
    pub fn diff_stat(&self, from: &Oid, to: &Oid) -> Result<Vec<String>> {
        changed_paths(&self.top_level, &self.env, from, to)
    }

    /// Up to `max` commits of `range` (anything `git log` accepts, e.g. `main..gaffer/x`),
    /// newest first, with their subject lines.
    pub fn log_oneline(&self, range: &str, max: usize) -> Result<Vec<(Oid, String)>> {
        not_an_option("range", range)?;
        let out = self
            .cmd()
            .args(["log", "--no-color", "--format=%H %s"])
            .arg(format!("--max-count={max}"))
            .args([range, "--"])
            .run()?;
        out.lines()
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (oid, subject) = line.split_once(' ').unwrap_or((line, ""));
                Ok((oid.parse()?, subject.to_owned()))
            })
            .collect()
    }
}

/// A commit as [`Git::commits_of`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub oid: Oid,
    /// Its parents, first parent first (none for a root commit).
    pub parents: Vec<Oid>,
    /// Its full message.
    pub message: String,
}

/// `git rev-parse --verify -q rev` in `dir`: `None` when `rev` does not resolve.
pub(crate) fn rev_parse_in(dir: &Path, env: &[(String, String)], rev: &str) -> Result<Option<Oid>> {
    not_an_option("revision", rev)?;
    let out = GitCommand::new(dir, env)
        .args(["rev-parse", "--verify", "-q", "--end-of-options", rev])
        .output()?;
    match out.code {
        Some(0) => Ok(Some(out.stdout_text().trim().parse()?)),
        // Exit 1: the revision does not resolve (or peels to the wrong type); 128 is trouble.
        Some(1) => Ok(None),
        _ => Err(out.into_error()),
    }
}

/// Paths changed between two commits or trees, sorted, renames split into delete + add.
pub(crate) fn changed_paths(
    dir: &Path,
    env: &[(String, String)],
    from: &Oid,
    to: &Oid,
) -> Result<Vec<String>> {
    let bytes = GitCommand::new(dir, env)
        .args(["diff", "--no-ext-diff", "--no-renames", "--name-only", "-z"])
        .arg(from.as_str())
        .arg(to.as_str())
        .arg("--")
        .run_bytes()?;
    let mut paths = split_nul(&bytes);
    paths.sort();
    Ok(paths)
}
