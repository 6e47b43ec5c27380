//! Keeping every path a tool touches inside the worktree.
//!
//! A path from the model is resolved in three steps:
//!
//! 1. an absolute path is accepted only if it lies under the worktree, and is made relative;
//! 2. `.` and `..` are resolved lexically; a `..` that would climb above the worktree is refused;
//! 3. the existing part of the path is walked component by component: a symbolic link is
//!    followed (canonicalized) and refused when its target lies outside the worktree or does not
//!    exist. The part that does not exist yet is appended as is, so it is created by the tool
//!    inside the worktree.
//!
//! Tools then do their I/O on the resolved path, never on the text the model sent. Refusals are
//! [`ConfineError`]s, which the tools return to the model as error results.
//!
//! This confines the file tools only. `run_command` runs a shell in the worktree and is not
//! sandboxed.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a path was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error(
        "refusing `{path}`: an absolute path outside the worktree; use a path relative to the worktree"
    )]
    Absolute { path: String },
    #[error("refusing `{path}`: `..` would leave the worktree")]
    Escapes { path: String },
    #[error("refusing `{path}`: `{link}` is a symbolic link pointing outside the worktree")]
    SymlinkOut { path: String, link: String },
    #[error("refusing `{path}`: `{link}` is a symbolic link to a missing target")]
    SymlinkDangling { path: String, link: String },
    #[error("`{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// A worktree root that paths are confined to.
#[derive(Debug, Clone)]
pub struct Worktree {
    /// The root as given (absolute paths the model saw may use it).
    given: PathBuf,
    /// The root with every symbolic link resolved.
    root: PathBuf,
}

impl Worktree {
    /// Opens `root`, which must exist.
    pub fn open(root: &Path) -> io::Result<Worktree> {
        Ok(Worktree {
            given: root.to_path_buf(),
            root: root.canonicalize()?,
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `path` (relative to the worktree, or absolute inside it) to a path inside the
    /// worktree with every existing symbolic link resolved. An empty path is the root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ConfineError> {
        let raw = Path::new(path);
        let relative = if raw.is_absolute() {
            raw.strip_prefix(&self.root)
                .or_else(|_| raw.strip_prefix(&self.given))
                .map_err(|_| ConfineError::Absolute {
                    path: path.to_string(),
                })?
        } else {
            raw
        };
        let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
        for component in relative.components() {
            match component {
                Component::Normal(part) => parts.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(ConfineError::Escapes {
                            path: path.to_string(),
                        });
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(ConfineError::Absolute {
                        path: path.to_string(),
                    });
                }
            }
        }

        let mut current = self.root.clone();
        for (i, part) in parts.iter().enumerate() {
            let next = current.join(part);
            match std::fs::symlink_metadata(&next) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    for rest in &parts[i..] {
                        current.push(rest);
                    }
                    return Ok(current);
                }
                Err(source) => {
                    return Err(ConfineError::Io {
                        path: path.to_string(),
                        source,
                    });
                }
                Ok(meta) if meta.file_type().is_symlink() => {
                    let link = self.display(&next);
                    let target =
                        next.canonicalize()
                            .map_err(|_| ConfineError::SymlinkDangling {
                                path: path.to_string(),
                                link: link.clone(),
                            })?;
                    if !target.starts_with(&self.root) {
                        return Err(ConfineError::SymlinkOut {
                            path: path.to_string(),
                            link,
                        });
                    }
                    current = target;
                }
                Ok(_) => current = next,
            }
        }
        Ok(current)
    }

    /// `path` relative to the root, for messages (`.` for the root itself).
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Worktree) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wt/src")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret"), "s").unwrap();
        std::fs::write(dir.path().join("wt/src/a.rs"), "a").unwrap();
        let wt = Worktree::open(&dir.path().join("wt")).unwrap();
        (dir, wt)
    }

    #[test]
    fn relative_paths_resolve_inside() {
        let (_d, wt) = setup();
        assert_eq!(wt.resolve("src/a.rs").unwrap(), wt.root().join("src/a.rs"));
        assert_eq!(
            wt.resolve("./src/../src/a.rs").unwrap(),
            wt.root().join("src/a.rs")
        );
        assert_eq!(wt.resolve("").unwrap(), wt.root());
        assert_eq!(wt.resolve(".").unwrap(), wt.root());
        assert_eq!(
            wt.resolve("new/dir/f.txt").unwrap(),
            wt.root().join("new/dir/f.txt")
        );
    }

    #[test]
    fn dot_dot_out_is_refused() {
        let (_d, wt) = setup();
        for p in ["..", "../outside/secret", "src/../../outside", "a/../../x"] {
            assert!(
                matches!(wt.resolve(p), Err(ConfineError::Escapes { .. })),
                "{p}"
            );
        }
    }

    #[test]
    fn absolute_paths_must_be_inside() {
        let (d, wt) = setup();
        assert!(matches!(
            wt.resolve("/etc/passwd"),
            Err(ConfineError::Absolute { .. })
        ));
        let secret = d.path().join("outside/secret");
        assert!(wt.resolve(&secret.display().to_string()).is_err());
        let inside = wt.root().join("src/a.rs");
        assert_eq!(wt.resolve(&inside.display().to_string()).unwrap(), inside);
        let given = d.path().join("wt/src/a.rs");
        assert_eq!(wt.resolve(&given.display().to_string()).unwrap(), inside);
    }

    #[test]
    fn symlinks_out_are_refused_and_in_are_followed() {
        let (d, wt) = setup();
        symlink(d.path().join("outside"), wt.root().join("out_dir")).unwrap();
        symlink(d.path().join("outside/secret"), wt.root().join("out_file")).unwrap();
        symlink(d.path().join("outside/missing"), wt.root().join("dangling")).unwrap();
        symlink(wt.root().join("src"), wt.root().join("in_dir")).unwrap();
        assert!(matches!(
            wt.resolve("out_dir/secret"),
            Err(ConfineError::SymlinkOut { .. })
        ));
        assert!(matches!(
            wt.resolve("out_dir/new.txt"),
            Err(ConfineError::SymlinkOut { .. })
        ));
        assert!(matches!(
            wt.resolve("out_file"),
            Err(ConfineError::SymlinkOut { .. })
        ));
        assert!(matches!(
            wt.resolve("dangling"),
            Err(ConfineError::SymlinkDangling { .. })
        ));
        assert_eq!(
            wt.resolve("in_dir/a.rs").unwrap(),
            wt.root().join("src/a.rs")
        );
        let message = wt.resolve("out_dir/secret").unwrap_err().to_string();
        assert!(message.contains("outside the worktree"), "{message}");
    }
}
