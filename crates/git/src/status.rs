//! Uncommitted changes in a worktree, from `git status --porcelain -z`.

use std::path::Path;

use crate::cmd::{GitCommand, split_nul};
use crate::{GitError, Result};

/// Paths (relative to the worktree's top) with staged, unstaged or untracked changes, sorted
/// and deduplicated. Untracked directories are listed file by file; ignored files are not
/// listed. Both sides of a staged rename are included.
pub(crate) fn dirty_paths(dir: &Path, env: &[(String, String)]) -> Result<Vec<String>> {
    let bytes = GitCommand::new(dir, env)
        // A read-only look: do not take the index lock to refresh stat info, which could
        // make the user's own concurrent git commands fail.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=none",
        ])
        .run_bytes()?;
    parse(&bytes)
}

/// Parses porcelain v1 `-z` records: `XY path`, followed by a separate `origin` field for
/// renames and copies (X or Y being `R` or `C`).
fn parse(bytes: &[u8]) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    let mut fields = split_nul(bytes).into_iter();
    while let Some(record) = fields.next() {
        let (Some(status), Some(path)) = (record.get(..2), record.get(3..)) else {
            return Err(GitError::Parse(format!("status record {record:?}")));
        };
        paths.push(path.to_owned());
        if status.contains(['R', 'C']) {
            let origin = fields
                .next()
                .ok_or_else(|| GitError::Parse(format!("rename without origin: {record:?}")))?;
            paths.push(origin);
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_renames() {
        let out = b" M a.txt\0R  new name\0old name\0?? dir/u\0A  b\0";
        assert_eq!(
            parse(out).unwrap(),
            vec!["a.txt", "b", "dir/u", "new name", "old name"]
        );
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"R  only\0").is_err());
    }
}
