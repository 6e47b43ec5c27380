//! The mount table a policy asks for: which paths are hidden, read-only or
//! writable, in the order bwrap must apply them.

use std::path::{Path, PathBuf};

/// What the sandboxed process may do with a path. Ordered so that, for the
/// same path listed twice, the more permissive entry wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// Replaced by an empty read-only tmpfs (or, for a file, by /dev/null).
    Hidden,
    /// Visible, read-only.
    ReadOnly,
    /// Visible and writable.
    Writable,
}

/// One resolved (canonical, existing) path and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub path: PathBuf,
    pub access: Access,
    pub is_dir: bool,
}

/// Paths the sandbox always replaces, whatever the policy: `/tmp` is a
/// fresh tmpfs, so nothing of the host's `/tmp` is visible.
pub(crate) const PRIVATE_DIRS: &[&str] = &["/tmp"];

/// Drops duplicates (keeping the most permissive entry for a path) and
/// sorts parents before children.
///
/// bwrap applies mounts in argument order and a mount hides whatever was
/// mounted below its path before it. Applying shallower paths first means
/// a writable worktree inside a hidden state directory is mounted on top of
/// the tmpfs, not buried under it; the sort is stable, so equal depths keep
/// the caller's order.
pub(crate) fn order(mut mounts: Vec<Mount>) -> Vec<Mount> {
    mounts.sort_by(|a, b| a.path.cmp(&b.path).then(b.access.cmp(&a.access)));
    mounts.dedup_by(|later, first| later.path == first.path);
    mounts.sort_by_key(|m| m.path.components().count());
    mounts
}

/// Whether `path` (canonical) can be seen inside a sandbox with `mounts`:
/// the deepest entry covering it decides; the root is read-only.
pub(crate) fn visible(mounts: &[Mount], path: &Path) -> bool {
    let private = PRIVATE_DIRS.iter().map(|d| (Path::new(*d), Access::Hidden));
    let listed = mounts.iter().map(|m| (m.path.as_path(), m.access));
    private
        .chain(listed)
        .filter(|(p, _)| path.starts_with(p))
        .max_by_key(|(p, _)| p.components().count())
        .is_none_or(|(_, access)| access != Access::Hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(path: &str, access: Access) -> Mount {
        Mount {
            path: PathBuf::from(path),
            access,
            is_dir: true,
        }
    }

    #[test]
    fn parents_come_before_children_whatever_the_input_order() {
        let ordered = order(vec![
            mount("/s/worktrees/t1", Access::Writable),
            mount("/home/u/.local/bin", Access::ReadOnly),
            mount("/s", Access::Hidden),
            mount("/home/u", Access::Hidden),
        ]);
        let paths: Vec<_> = ordered.iter().map(|m| m.path.to_str()).collect();
        assert_eq!(
            paths,
            [
                Some("/s"),
                Some("/home/u"),
                Some("/s/worktrees/t1"),
                Some("/home/u/.local/bin")
            ]
        );
    }

    #[test]
    fn the_most_permissive_entry_for_a_path_wins() {
        let ordered = order(vec![
            mount("/a", Access::Hidden),
            mount("/a", Access::Writable),
            mount("/a", Access::ReadOnly),
        ]);
        assert_eq!(ordered, [mount("/a", Access::Writable)]);
    }

    #[test]
    fn visibility_follows_the_deepest_entry() {
        let mounts = order(vec![
            mount("/s", Access::Hidden),
            mount("/s/worktrees/t1", Access::Writable),
        ]);
        assert!(visible(&mounts, Path::new("/usr/bin/git")));
        assert!(!visible(&mounts, Path::new("/s/gaffer.db")));
        assert!(!visible(&mounts, Path::new("/s/worktrees/t2/x")));
        assert!(visible(&mounts, Path::new("/s/worktrees/t1/src/a.rs")));
        assert!(!visible(&mounts, Path::new("/tmp/anything")));
        // A sibling whose name merely starts the same is not covered.
        assert!(visible(&mounts, Path::new("/srv/x")));
    }
}
