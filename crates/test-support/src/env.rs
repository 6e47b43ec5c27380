//! The hermetic environment for running `git` in tests.

use std::path::Path;
use std::process::{Command, Stdio};

/// Fixed author and committer date, so that commits are reproducible.
const FIXED_DATE: &str = "2026-01-01T00:00:00Z";

/// Variables inherited from a surrounding git process (for example when tests run inside a git
/// hook) that would redirect git to another repository.
const INHERITED_GIT_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

/// The environment under which tests run `git`: no system or global config, a private `HOME`,
/// a fixed identity and date, the C locale, UTC and no terminal prompts.
///
/// `home` should be an (empty) directory owned by the test; git may write nothing there, but
/// tools that look for `$HOME` will find it rather than the developer's.
pub fn hermetic_git_env(home: &Path) -> Vec<(String, String)> {
    let home_str = home.to_string_lossy().into_owned();
    let xdg = home.join(".config").to_string_lossy().into_owned();
    [
        ("HOME", home_str.as_str()),
        ("XDG_CONFIG_HOME", xdg.as_str()),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_AUTHOR_NAME", "Test Author"),
        ("GIT_AUTHOR_EMAIL", "author@example.com"),
        ("GIT_COMMITTER_NAME", "Test Committer"),
        ("GIT_COMMITTER_EMAIL", "committer@example.com"),
        ("GIT_AUTHOR_DATE", FIXED_DATE),
        ("GIT_COMMITTER_DATE", FIXED_DATE),
        ("GIT_TERMINAL_PROMPT", "0"),
        ("LC_ALL", "C"),
        ("TZ", "UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A `git` command running in `dir` with `env` applied on top of the process environment,
/// after removing variables that would point git at another repository. Stdin is closed.
pub fn git_cmd(dir: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).stdin(Stdio::null());
    for var in INHERITED_GIT_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}
