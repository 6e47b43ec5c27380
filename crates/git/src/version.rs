//! The installed git's version.

use std::fmt;

use crate::cmd::GitCommand;
use crate::{GitError, Result};

/// The oldest git gaffer supports: `merge-tree --write-tree` arrived in 2.38.
pub const MIN_GIT_VERSION: &str = "2.38";

/// A git version such as 2.47.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GitVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch level (0 when git does not print one).
    pub patch: u32,
}

impl GitVersion {
    /// Whether this git has `merge-tree --write-tree` (2.38+), which gaffer needs to predict
    /// merges without a worktree.
    pub fn supports_merge_tree_write_tree(&self) -> bool {
        (self.major, self.minor) >= (2, 38)
    }

    /// Parses the output of `git --version`, e.g. `git version 2.39.2 (Apple Git-143)` or
    /// `git version 2.45.1.windows.1`.
    pub fn parse(output: &str) -> Result<GitVersion> {
        let bad = || GitError::Parse(format!("unrecognised `git --version` output: {output:?}"));
        let word = output
            .trim()
            .strip_prefix("git version ")
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(bad)?;
        let mut numbers = word.split('.').map(|part| {
            // Release candidates print e.g. "2.48.0-rc1"; keep the leading digits.
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = numbers.next().flatten().ok_or_else(bad)?;
        let minor = numbers.next().flatten().ok_or_else(bad)?;
        let patch = numbers.next().flatten().unwrap_or(0);
        Ok(GitVersion {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for GitVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The version of the `git` on `PATH`.
pub fn git_version() -> Result<GitVersion> {
    let dir = std::env::temp_dir();
    let out = GitCommand::new(&dir, &[]).arg("--version").run()?;
    GitVersion::parse(&out)
}

/// The version of the `git` on `PATH`, or [`GitError::TooOld`] if it lacks what gaffer needs.
pub fn ensure_supported_git() -> Result<GitVersion> {
    let version = git_version()?;
    if version.supports_merge_tree_write_tree() {
        Ok(version)
    } else {
        Err(GitError::TooOld {
            found: version.to_string(),
            need: MIN_GIT_VERSION,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_formats() {
        let v = GitVersion::parse("git version 2.47.3\n").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 47, 3));
        let v = GitVersion::parse("git version 2.39.2 (Apple Git-143)").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 39, 2));
        let v = GitVersion::parse("git version 2.45.1.windows.1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 45, 1));
        let v = GitVersion::parse("git version 2.48.0-rc1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (2, 48, 0));
        assert!(GitVersion::parse("hg 6.1").is_err());
    }

    #[test]
    fn merge_tree_support_starts_at_2_38() {
        let v = |major, minor| GitVersion {
            major,
            minor,
            patch: 0,
        };
        assert!(!v(2, 37).supports_merge_tree_write_tree());
        assert!(v(2, 38).supports_merge_tree_write_tree());
        assert!(v(3, 0).supports_merge_tree_write_tree());
    }
}
