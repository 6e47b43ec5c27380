//! Finding the program to run inside the sandbox.
//!
//! gaffer-proc looks a bare program name up in the `PATH` of the spec's
//! environment, else in gaffer's own `PATH` even when the environment is
//! cleared. Once bwrap is the program, bwrap's `execvp` would do the lookup
//! instead, in the cleared environment's default path. Resolving here keeps
//! gaffer-proc's rule, and skips copies the sandbox hides.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use gaffer_proc::CommandSpec;

use crate::mounts::{self, Mount};

/// The absolute path to execute for `spec`, or its program unchanged when
/// it already names a path or no visible copy is found (bwrap then reports
/// the failure as the process's exit).
pub(crate) fn resolve(spec: &CommandSpec, mounts: &[Mount]) -> String {
    if spec.program.contains('/') {
        return spec.program.clone();
    }
    let path = search_path(spec);
    let mut hidden = None;
    for dir in std::env::split_paths(&path).filter(|d| d.is_absolute()) {
        let candidate = dir.join(&spec.program);
        if !is_executable(&candidate) {
            continue;
        }
        let Ok(real) = candidate.canonicalize() else {
            continue;
        };
        if mounts::visible(mounts, &candidate) && mounts::visible(mounts, &real) {
            if let Some(found) = candidate.to_str() {
                return found.to_owned();
            }
        } else if hidden.is_none() {
            hidden = Some(candidate);
        }
    }
    if let Some(hidden) = hidden {
        tracing::warn!(
            program = %spec.program,
            path = %hidden.display(),
            "sandbox: the program is only found under a hidden path; keep it visible with Policy read_only"
        );
    }
    spec.program.clone()
}

fn search_path(spec: &CommandSpec) -> OsString {
    spec.env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default()
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::mounts::Access;

    fn exe(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn uses_the_spec_path_and_skips_hidden_copies() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (hidden, shown) = (root.join("home/bin"), root.join("usr/bin"));
        std::fs::create_dir_all(&hidden).unwrap();
        std::fs::create_dir_all(&shown).unwrap();
        exe(&hidden, "agent");
        let visible_copy = exe(&shown, "agent");
        let path = format!("{}:{}", hidden.display(), shown.display());
        let spec = CommandSpec::new("agent", "/")
            .env("PATH", path)
            .env_clear(true);
        let mounts = [
            Mount {
                path: root.clone(),
                access: Access::ReadOnly,
                is_dir: true,
            },
            Mount {
                path: root.join("home"),
                access: Access::Hidden,
                is_dir: true,
            },
        ];
        assert_eq!(resolve(&spec, &mounts), visible_copy.to_str().unwrap());
    }

    #[test]
    fn paths_and_unknown_names_are_kept() {
        let spec = CommandSpec::new("./run.sh", "/");
        assert_eq!(resolve(&spec, &[]), "./run.sh");
        let spec = CommandSpec::new("no-such-program-gaffer", "/").env("PATH", "/usr/bin");
        assert_eq!(resolve(&spec, &[]), "no-such-program-gaffer");
    }
}
