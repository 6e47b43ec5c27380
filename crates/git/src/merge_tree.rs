//! Predicting a merge without a worktree: `git merge-tree --write-tree`.

use crate::cmd::split_nul;
use crate::{Git, GitError, Oid, Result};

/// The outcome of merging two commits in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeTree {
    /// The merge is clean; `tree` (already written to the object store) is its result.
    Clean {
        /// The merged tree.
        tree: Oid,
    },
    /// The merge conflicts in these paths (sorted, deduplicated).
    Conflicted {
        /// The conflicting paths.
        files: Vec<String>,
    },
}

impl Git {
    /// Merges `branch` into `base_tip` in memory, using their merge base, exactly as
    /// `git merge` would (the `ort` strategy). Touches no ref, index or worktree; a clean
    /// result's tree is written to the object store so it can be committed with
    /// [`Git::commit_tree`].
    pub fn merge_tree(&self, base_tip: &Oid, branch: &Oid) -> Result<MergeTree> {
        let out = self
            .cmd()
            .args([
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                "-z",
            ])
            .arg(base_tip.as_str())
            .arg(branch.as_str())
            .output()?;
        // Exit 0: clean, 1: conflicts; anything else is an error (e.g. unrelated histories).
        let clean = match out.code {
            Some(0) => true,
            Some(1) => false,
            _ => return Err(out.into_error()),
        };
        parse(&out.stdout, clean)
    }
}

/// Parses `merge-tree --write-tree --name-only --no-messages -z` output: the tree id, then
/// (when conflicted) each conflicting path, each NUL-terminated.
fn parse(stdout: &[u8], clean: bool) -> Result<MergeTree> {
    let fields = split_nul(stdout);
    let Some((tree, rest)) = fields.split_first() else {
        return Err(GitError::Parse("merge-tree printed nothing".to_owned()));
    };
    let tree: Oid = tree.trim().parse()?;
    if clean {
        return Ok(MergeTree::Clean { tree });
    }
    // An empty field would separate the file list from messages; there are none with
    // --no-messages, but stop there anyway.
    let mut files: Vec<String> = rest.iter().take_while(|f| !f.is_empty()).cloned().collect();
    files.sort();
    files.dedup();
    Ok(MergeTree::Conflicted { files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> String {
        "a64f68110614bb0a3c998c393217e1c989c61734".to_owned()
    }

    #[test]
    fn parses_clean_output() {
        let out = format!("{}\0", tree());
        assert_eq!(
            parse(out.as_bytes(), true).unwrap(),
            MergeTree::Clean {
                tree: tree().parse().unwrap()
            }
        );
    }

    #[test]
    fn parses_conflicted_output_with_odd_names() {
        let out = format!("{}\0b\0a b\0a b\0new\nline\0", tree());
        assert_eq!(
            parse(out.as_bytes(), false).unwrap(),
            MergeTree::Conflicted {
                files: vec!["a b".into(), "b".into(), "new\nline".into()]
            }
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"", true).is_err());
        assert!(parse(b"fatal: nope\n", false).is_err());
    }
}
