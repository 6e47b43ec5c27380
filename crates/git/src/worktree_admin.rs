//! The repository's worktrees read from git's administrative files (gitrepository-layout(5):
//! `worktrees/<id>/gitdir`, `HEAD`, `locked`) instead of a `git worktree list` process: the
//! worktree manager looks a path or a branch up several times per task, and a process costs
//! milliseconds of CPU where reading a few small files costs microseconds. A layout it does not
//! expect (a main worktree not at `<dir>/.git`, a HEAD it cannot read) falls back to git's
//! list.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Git, Oid, Result, WorktreeInfo};

/// What a worktree's `HEAD` file says.
pub(crate) enum Head {
    Branch(String),
    Detached(Oid),
}

impl Git {
    /// What [`Git::worktrees`] says, read from the administrative files (git's list when
    /// they are not laid out as expected). Worktrees whose `gitdir` file cannot be read are
    /// left out (git would list them as prunable, at no usable path).
    pub fn registered_worktrees(&self) -> Result<Vec<WorktreeInfo>> {
        match self.read_admin_files()? {
            Some(list) => Ok(list),
            None => self.worktrees(),
        }
    }

    fn read_admin_files(&self) -> Result<Option<Vec<WorktreeInfo>>> {
        let common = self.common_dir();
        if common.file_name().is_none_or(|n| n != ".git") {
            return Ok(None);
        }
        let Some(main_path) = common.parent() else {
            return Ok(None);
        };
        let Some(main) = self.entry(main_path.to_path_buf(), &common.join("HEAD"), false)? else {
            return Ok(None);
        };
        let mut list = vec![main];
        let admin = common.join("worktrees");
        let mut ids: Vec<PathBuf> = match fs::read_dir(&admin) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(_) => return Ok(None),
        };
        ids.sort();
        for id in ids {
            let Ok(gitdir) = fs::read_to_string(id.join("gitdir")) else {
                continue;
            };
            let gitdir = gitdir.trim_end_matches(['\n', '\r']);
            let gitdir = if Path::new(gitdir).is_absolute() {
                PathBuf::from(gitdir)
            } else {
                id.join(gitdir)
            };
            if gitdir.file_name().is_none_or(|n| n != ".git") {
                return Ok(None);
            }
            let Some(path) = gitdir.parent().map(normalize) else {
                return Ok(None);
            };
            let prunable = !gitdir.exists();
            let Some(mut wt) = self.entry(path, &id.join("HEAD"), prunable)? else {
                return Ok(None);
            };
            wt.locked = id.join("locked").exists();
            list.push(wt);
        }
        Ok(Some(list))
    }

    /// The worktree at `path` whose HEAD file is `head_file`; `None` when the file does not
    /// say what it should.
    fn entry(
        &self,
        path: PathBuf,
        head_file: &Path,
        prunable: bool,
    ) -> Result<Option<WorktreeInfo>> {
        let Some(head) = read_head(head_file) else {
            return Ok(None);
        };
        let mut wt = WorktreeInfo {
            path,
            head: None,
            branch: None,
            detached: false,
            bare: false,
            locked: false,
            prunable,
        };
        match head {
            Head::Branch(reference) => {
                wt.head = self.rev_parse(&reference)?;
                wt.branch = Some(
                    reference
                        .strip_prefix("refs/heads/")
                        .unwrap_or(&reference)
                        .to_owned(),
                );
            }
            Head::Detached(oid) => {
                wt.detached = true;
                wt.head = (!oid.is_zero()).then_some(oid);
            }
        }
        Ok(Some(wt))
    }
}

/// The administrative directory of the linked worktree at `root`, from its `.git` file.
pub(crate) fn admin_dir(root: &Path) -> Option<PathBuf> {
    let gitfile = std::fs::read_to_string(root.join(".git")).ok()?;
    let dir = gitfile
        .strip_prefix("gitdir: ")?
        .trim_end_matches(['\n', '\r']);
    let dir = Path::new(dir);
    Some(if dir.is_absolute() {
        dir.to_owned()
    } else {
        root.join(dir)
    })
}

/// What the linked worktree at `root` has checked out, read from its `HEAD` file; `None`
/// for the main worktree or a file that cannot be read. A branch named `.invalid` is the
/// placeholder of a repository whose refs are not files (reftable): not a branch.
pub(crate) fn worktree_head(root: &Path) -> Option<Head> {
    match read_head(&admin_dir(root)?.join("HEAD"))? {
        Head::Branch(name) if name.ends_with("/.invalid") => None,
        head => Some(head),
    }
}

/// A HEAD file: `ref: <name>` or an object id (git writes it whole, by rename).
pub(crate) fn read_head(file: &Path) -> Option<Head> {
    let text = fs::read_to_string(file).ok()?;
    let text = text.trim_end_matches(['\n', '\r']);
    match text.strip_prefix("ref: ") {
        Some(name) if !name.is_empty() && !name.contains(char::is_whitespace) => {
            Some(Head::Branch(name.to_owned()))
        }
        Some(_) => None,
        None => text.parse().ok().map(Head::Detached),
    }
}

/// `path` without `.` and `..` components (git writes absolute paths; a relative one, from
/// `worktree.useRelativePaths`, is joined to the administrative directory first).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
