//! The run repository's config: minimal, plus the few settings that decide how the worktree's
//! files map to the index, so `git status` inside agrees with gaffer's view outside.

use std::fmt::Write as _;
use std::path::Path;

use crate::cmd::{GitCommand, split_nul};
use crate::{GitError, Result};

/// Settings copied from the worktree's effective config (any scope). Line endings, file modes,
/// case and symlink handling change what `git status` sees; filters (Git LFS installs one in
/// the global config, which the sandbox hides) change what is hashed. No hooks, no
/// `core.fsmonitor`, no aliases, no sparse checkout (its patterns live in the main repository).
const COPIED: &str = "^(core\\.(autocrlf|eol|safecrlf|filemode|ignorecase|precomposeunicode|symlinks|checkroundtripencoding)|filter\\..+\\.(clean|smudge|process|required))$";

/// `(key, value)` pairs of [`COPIED`] settings as the worktree at `dir` sees them, in git's
/// order; `None` is a key given without a value (true).
pub(super) fn copied_settings(
    dir: &Path,
    env: &[(String, String)],
) -> Result<Vec<(String, Option<String>)>> {
    let out = GitCommand::new(dir, env)
        .args(["config", "-z", "--get-regexp", COPIED])
        .output()?;
    match out.code {
        Some(0) => {}
        // Nothing matched.
        Some(1) => return Ok(Vec::new()),
        _ => return Err(out.into_error()),
    }
    // Each entry is "key\nvalue", or just "key" for a bare boolean.
    Ok(split_nul(&out.stdout)
        .into_iter()
        .map(|entry| match entry.split_once('\n') {
            Some((key, value)) => (key.to_owned(), Some(value.to_owned())),
            None => (entry, None),
        })
        .collect())
}

/// The run repository's config: not bare, working tree `worktree`, no automatic gc (a run is
/// short and its objects are fetched out of it), and `copied`.
pub(super) fn run_repo_config(
    worktree: &str,
    sha256: bool,
    copied: &[(String, Option<String>)],
) -> Result<String> {
    let mut text = format_header(sha256);
    text.push_str("\tbare = false\n\tlogallrefupdates = true\n");
    let _ = writeln!(text, "\tworktree = {}", quoted(worktree));
    text.push_str("[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n");
    for (key, value) in copied {
        let (section, name) = key
            .rsplit_once('.')
            .ok_or_else(|| GitError::Parse(format!("config key without a section: {key:?}")))?;
        match section.split_once('.') {
            Some((section, sub)) if !sub.contains('\n') => {
                let sub = sub.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(text, "[{section} \"{sub}\"]");
            }
            Some(_) => continue,
            None => {
                let _ = writeln!(text, "[{section}]");
            }
        }
        match value {
            Some(value) => {
                let _ = writeln!(text, "\t{name} = {}", quoted(value));
            }
            None => {
                let _ = writeln!(text, "\t{name}");
            }
        }
    }
    Ok(text)
}

/// The config of the throwaway bare repository that serves a run's objects. Commit-graphs,
/// multi-pack indexes and bitmaps are off: the run's object directory could hold forged ones,
/// and git reads those of alternates unchecked; the plain objects are verified on arrival.
pub(super) fn fetch_dir_config(sha256: bool) -> String {
    let mut text = format_header(sha256);
    text.push_str(
        "\tbare = true\n\tcommitGraph = false\n\tmultiPackIndex = false\n\
         [pack]\n\tuseBitmaps = false\n\
         [uploadpack]\n\tallowAnySHA1InWant = true\n",
    );
    text
}

/// `[core]` with the repository format, plus the object format for SHA-256 repositories.
fn format_header(sha256: bool) -> String {
    if sha256 {
        "[extensions]\n\tobjectformat = sha256\n[core]\n\trepositoryformatversion = 1\n".to_owned()
    } else {
        "[core]\n\trepositoryformatversion = 0\n".to_owned()
    }
}

/// A config value in double quotes, escaped as git reads it back.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
