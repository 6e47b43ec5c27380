//! [`RunRepo::prepare`]: writing a run's git directory before the run.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::config::{copied_settings, run_repo_config};
use super::{GITFILE, RUN_REPO_DIR, RunRepo, RunRepoError, RunRepoResult, refs_read};
use super::{remove_path, utf8};
use crate::cmd::{GitCommand, not_an_option};
use crate::{Git, GitError, Oid};

impl RunRepo {
    /// Writes the run repository for `branch`, checked out in `worktree` (a worktree of
    /// `git`'s repository), under `scratch` (which must exist): `refs/heads/<branch>` at the
    /// branch's current tip, `HEAD` on it, `extra_refs` (full names, such as
    /// `refs/heads/main`, with their values) copied in, the worktree's index copied, the main
    /// object store as its alternate; and the gitfile to mount over `<worktree>/.git`.
    ///
    /// A run repository left under `scratch` by an earlier run is replaced, unless its branch
    /// holds commits the main repository's branch lacks: then [`RunRepoError::LeftoverRun`].
    pub fn prepare(
        git: &Git,
        worktree: &Path,
        branch: &str,
        extra_refs: &[(String, Oid)],
        scratch: &Path,
    ) -> RunRepoResult<RunRepo> {
        not_an_option("branch name", branch)?;
        let branch_ref = format!("refs/heads/{branch}");
        let worktree = canonical(worktree)?;
        let admin = admin_dir(git, &worktree, branch)?;
        let start = git
            .rev_parse(&branch_ref)?
            .ok_or_else(|| GitError::UnknownRevision(branch_ref.clone()))?;
        let mut seeded = BTreeMap::from([(branch_ref.clone(), start.clone())]);
        for (name, oid) in extra_refs {
            if !name.starts_with("refs/") || name.contains(char::is_whitespace) {
                return Err(
                    GitError::InvalidArgument(format!("not a full ref name: {name:?}")).into(),
                );
            }
            if seeded.insert(name.clone(), oid.clone()).is_some() {
                return Err(GitError::InvalidArgument(format!("ref given twice: {name}")).into());
            }
        }

        let scratch = canonical(scratch)?;
        let dir = scratch.join(RUN_REPO_DIR);
        if let Some(tip) = refs_read::read_ref(&dir, &branch_ref)
            && !is_in_history(git, &tip, &start)?
        {
            return Err(RunRepoError::LeftoverRun { run_repo: dir, tip });
        }
        remove_path(&dir)?;
        let config = run_repo_config(
            utf8(&worktree)?,
            start.as_str().len() == 64,
            &copied_settings(&worktree, git.env())?,
        )?;
        let alternates = format!("{}\n", utf8(&git.common_dir().join("objects"))?);
        write_files(
            &dir,
            &[
                ("HEAD", format!("ref: {branch_ref}\n")),
                ("config", config),
                ("objects/info/alternates", alternates),
            ],
        )?;
        copy_index(&admin, &dir)?;
        create_refs(git, &dir, &seeded)?;
        let gitfile = scratch.join(GITFILE);
        fs::write(&gitfile, format!("gitdir: {}\n", utf8(&dir)?))
            .map_err(|e| GitError::io("write", &gitfile, e))?;
        Ok(RunRepo {
            git: git.clone(),
            worktree,
            branch: branch.to_owned(),
            dir,
            gitfile,
            start,
            seeded,
        })
    }
}

/// The worktree's administrative directory in the main repository, after checking that the
/// worktree belongs to `git`'s repository and has `branch` checked out.
fn admin_dir(git: &Git, worktree: &Path, branch: &str) -> RunRepoResult<PathBuf> {
    let wrong = |reason: String| RunRepoError::NotTheTaskWorktree {
        worktree: worktree.to_path_buf(),
        branch: branch.to_owned(),
        reason,
    };
    let out = GitCommand::new(worktree, git.env())
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
        ])
        .output()?;
    if out.code != Some(0) {
        return Err(wrong(out.stderr.trim().to_owned()));
    }
    let text = out.stdout_text();
    let (Some(admin), Some(common)) = (text.lines().next(), text.lines().nth(1)) else {
        return Err(GitError::Parse(format!("rev-parse printed {text:?}")).into());
    };
    if canonical(Path::new(common))? != canonical(git.common_dir())? {
        return Err(wrong(format!("it belongs to the repository at {common}")));
    }
    let admin = PathBuf::from(admin);
    let head =
        fs::read_to_string(admin.join("HEAD")).map_err(|e| GitError::io("read", &admin, e))?;
    if head.trim_end() != format!("ref: refs/heads/{branch}") {
        return Err(wrong(format!("its HEAD is {:?}", head.trim_end())));
    }
    Ok(admin)
}

/// Whether the commit `tip` is `start` or one of its ancestors in the main repository: work
/// already brought back.
fn is_in_history(git: &Git, tip: &Oid, start: &Oid) -> RunRepoResult<bool> {
    if tip == start {
        return Ok(true);
    }
    // Peeling reads the object: a commit the main repository lacks was never brought back.
    if git.rev_parse_commit(tip.as_str())?.as_ref() != Some(tip) {
        return Ok(false);
    }
    Ok(git.is_ancestor(tip, start)?)
}

/// Writes `files` (relative path, contents) under `dir`, with the directories a git
/// directory needs.
fn write_files(dir: &Path, files: &[(&str, String)]) -> RunRepoResult<()> {
    for sub in ["objects/info", "objects/pack", "refs/heads", "refs/tags"] {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(|e| GitError::io("create", &path, e))?;
    }
    for (name, contents) in files {
        let path = dir.join(name);
        fs::write(&path, contents).map_err(|e| GitError::io("write", &path, e))?;
    }
    Ok(())
}

/// Copies the worktree's index, so that `git status` inside starts from what git outside
/// knows instead of hashing every file. A worktree without one gets none.
fn copy_index(admin: &Path, dir: &Path) -> RunRepoResult<()> {
    let index = admin.join("index");
    match fs::copy(&index, dir.join("index")) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(GitError::io("copy", index, e).into()),
    }
}

/// Creates `refs` in the new run repository in one transaction; git checks the names and
/// that the objects exist (through the alternates). The directory is gaffer's own until the
/// run starts, so running git in it is safe here.
fn create_refs(git: &Git, dir: &Path, refs: &BTreeMap<String, Oid>) -> RunRepoResult<()> {
    let mut input = String::new();
    for (name, oid) in refs {
        input.push_str(&format!("create {name}\0{oid}\0"));
    }
    GitCommand::new(dir, git.env())
        .arg(git_dir_arg(dir))
        .args(["update-ref", "-m", "gaffer: run start", "--stdin", "-z"])
        .stdin(input)
        .run()?;
    Ok(())
}

fn git_dir_arg(dir: &Path) -> std::ffi::OsString {
    let mut arg = std::ffi::OsString::from("--git-dir=");
    arg.push(dir);
    arg
}

fn canonical(path: &Path) -> RunRepoResult<PathBuf> {
    path.canonicalize()
        .map_err(|e| GitError::io("resolve", path, e).into())
}
