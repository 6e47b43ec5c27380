//! Finding the program to run before anything is spawned.
//!
//! The program is started by the group's guard shell (see `shell_guard`), so a program that
//! cannot be run would otherwise show up as the shell's exit status 127 instead of a spawn
//! error. Looking it up here keeps [`crate::ProcError::Spawn`] (with `NotFound` or
//! `PermissionDenied`) for a missing or non-executable program, and keeps the lookup rule
//! [`crate::CommandSpec::program`] documents: the `PATH` given in the spec's environment, else
//! gaffer's own, even when the environment is cleared.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use nix::unistd::{AccessFlags, access};

use crate::spec::CommandSpec;

/// The path the guard shell should execute for `spec`: the program itself if it contains a
/// `/` (relative ones are relative to `spec.cwd`, where the shell runs), else the first
/// executable file named so in the search path.
pub fn program_path(spec: &CommandSpec) -> io::Result<PathBuf> {
    let program = Path::new(&spec.program);
    if spec.program.contains('/') {
        executable(&spec.cwd.join(program))?;
        return Ok(program.to_path_buf());
    }
    if spec.program.is_empty() {
        return Err(io::ErrorKind::NotFound.into());
    }
    let mut denied = false;
    for dir in std::env::split_paths(&search_path(spec)) {
        // As the shell will see it: relative entries (an empty one means `.`) are relative to
        // the working directory, and the result always has a `/`, so the shell does no search.
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        match executable(&spec.cwd.join(&candidate)) {
            Ok(()) => return Ok(candidate),
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => denied = true,
            Err(_) => {}
        }
    }
    Err(if denied {
        io::ErrorKind::PermissionDenied
    } else {
        io::ErrorKind::NotFound
    }
    .into())
}

/// The last `PATH` set in the spec's environment, else gaffer's own.
fn search_path(spec: &CommandSpec) -> OsString {
    spec.env
        .iter()
        .rev()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| OsString::from(value))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default()
}

/// Ok if `path` is a file this process may execute.
fn executable(path: &Path) -> io::Result<()> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::ErrorKind::PermissionDenied.into());
    }
    access(path, AccessFlags::X_OK).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn spec(program: &str, cwd: &Path) -> CommandSpec {
        CommandSpec::new(program, cwd)
    }

    fn kind(result: io::Result<PathBuf>) -> io::ErrorKind {
        result.unwrap_err().kind()
    }

    #[test]
    fn bare_names_are_searched_in_the_given_path_first() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("gaffer-test-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("/nonexistent:{}", dir.path().display());
        let found = program_path(&spec("gaffer-test-tool", Path::new("/")).env("PATH", path));
        assert_eq!(found.unwrap(), tool);
        // Relative entries are relative to the working directory, as the shell sees them.
        let relative = spec("gaffer-test-tool", dir.path().parent().unwrap())
            .env("PATH", dir.path().file_name().unwrap().to_str().unwrap());
        assert_eq!(
            program_path(&relative).unwrap(),
            Path::new(dir.path().file_name().unwrap()).join("gaffer-test-tool")
        );
        let here = spec("gaffer-test-tool", dir.path()).env("PATH", ":/nonexistent");
        assert_eq!(
            program_path(&here).unwrap(),
            Path::new("./gaffer-test-tool")
        );
        // Not in gaffer's own PATH.
        assert_eq!(
            kind(program_path(&spec("gaffer-test-tool", Path::new("/")))),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn gaffer_path_is_used_even_with_a_cleared_environment() {
        let found = program_path(&spec("sh", Path::new("/")).env_clear(true)).unwrap();
        assert!(found.is_absolute() && found.ends_with("sh"), "{found:?}");
    }

    #[test]
    fn paths_with_a_slash_are_checked_relative_to_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        let relative = spec("./run.sh", dir.path());
        // Not executable, even for root (X_OK wants one x bit).
        assert_eq!(
            kind(program_path(&relative)),
            io::ErrorKind::PermissionDenied
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(program_path(&relative).unwrap(), Path::new("./run.sh"));
        assert_eq!(
            kind(program_path(&spec("./missing.sh", dir.path()))),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            kind(program_path(&spec(
                dir.path().to_str().unwrap(),
                Path::new("/")
            ))),
            io::ErrorKind::PermissionDenied,
            "a directory"
        );
        assert_eq!(
            kind(program_path(&spec("", dir.path()))),
            io::ErrorKind::NotFound
        );
    }
}
