//! Write scopes hold: after a coder's run, the paths its branch changes are compared with the
//! task's declared write scope (`task add --scope`, or the planner's `write_scope`), before
//! verify and review. The branch's change is taken against its merge base with the landing tip,
//! so what the engine itself brought in (a resolver's merge of the target) is not held against
//! the task. A task that declared no scope is never checked.
//!
//! `[scope] enforce` decides what a change outside the scope meets: `reject` (the default) sends
//! it back to its coder with the paths, as a failed attempt; `review` lets it go on and shows the
//! paths to the reviewer, on the task page and on its card (a `scope.outside` event); `off`
//! checks nothing.

use crate::board::Board;
use crate::error::Result;
use gaffer_config::ScopeEnforce;
use gaffer_core::Task;
use gaffer_core::payload::ScopeOutside;
use globset::{GlobSet, GlobSetBuilder};

/// The paths of `paths` that no pattern of `scope` covers. A pattern matches like a
/// `[[risk.paths]]` glob (`*` stays within a directory, `**` crosses them); a pattern without
/// wildcards also covers everything below it as a directory (`src/api` covers `src/api/x.rs`).
/// An empty scope covers everything. A pattern that does not compile covers nothing but its
/// literal text, so a typo never widens a scope.
pub(crate) fn outside(scope: &[String], paths: &[String]) -> Vec<String> {
    if scope.is_empty() {
        return Vec::new();
    }
    let patterns: Vec<&str> = scope
        .iter()
        .map(|p| p.trim().trim_start_matches("./").trim_end_matches('/'))
        .filter(|p| !p.is_empty())
        .collect();
    let mut builder = GlobSetBuilder::new();
    for pattern in &patterns {
        if let Ok(glob) = gaffer_config::compile_glob(pattern) {
            builder.add(glob);
        }
    }
    let set = builder.build().unwrap_or_else(|_| GlobSet::empty());
    paths
        .iter()
        .filter(|path| {
            let path = path.trim_start_matches("./");
            !set.is_match(path)
                && !patterns.iter().any(|p| {
                    path == *p || path.strip_prefix(*p).is_some_and(|r| r.starts_with('/'))
                })
        })
        .cloned()
        .collect()
}

/// What the check found for one change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub enforce: ScopeEnforce,
    /// The paths outside the scope, never empty.
    pub paths: Vec<String>,
}

impl Finding {
    /// Why a rejected change goes back to its coder: the paths and what to do.
    pub(crate) fn rejection(&self, task: &Task) -> String {
        format!(
            "the change edits files outside this task's write scope ({}):\n{}\n\nRestore those \
             files as they are on the target and keep to the scope. If the task cannot be done \
             without them, say so with a QUESTION: line.",
            task.write_scope.join(", "),
            self.paths
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }

    /// The `scope.outside` event's payload.
    pub(crate) fn event(&self, task: &Task, run: gaffer_core::RunId) -> ScopeOutside {
        ScopeOutside {
            paths: self.paths.clone(),
            scope: task.write_scope.clone(),
            enforce: self.enforce.as_str().to_string(),
            run,
        }
    }
}

/// Checks the change of `task` at `head` against its scope: the paths its branch changes since
/// its merge base with the landing tip. `None` when the task declared no scope, checking is off,
/// or every path is inside. Blocking: git.
pub(crate) fn check(board: &Board, task: &Task, head: &gaffer_git::Oid) -> Result<Option<Finding>> {
    let enforce = board.settings.scope.enforce;
    if task.write_scope.is_empty() || enforce == ScopeEnforce::Off {
        return Ok(None);
    }
    let (tip, _) = board.landing()?.base(board)?;
    let base = board.git.merge_base(&tip, head)?.unwrap_or(tip);
    let changed = board.git.diff_stat(&base, head)?;
    let paths = outside(&task.write_scope, &changed);
    Ok((!paths.is_empty()).then_some(Finding { enforce, paths }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn globs_and_directories_cover_their_paths() {
        let scope = v(&["src/api/**", "docs/api.md", "./tests/api", "*.toml"]);
        let paths = v(&[
            "src/api/x.rs",
            "src/api/deep/y.rs",
            "docs/api.md",
            "tests/api/t.rs",
            "Cargo.toml",
            "src/apix.rs",
            "docs/other.md",
            "sub/Cargo.toml",
            "tests/apiary.rs",
        ]);
        assert_eq!(
            outside(&scope, &paths),
            v(&[
                "src/apix.rs",
                "docs/other.md",
                "sub/Cargo.toml",
                "tests/apiary.rs"
            ])
        );
    }

    #[test]
    fn no_scope_covers_everything_and_a_bad_glob_only_itself() {
        assert!(outside(&[], &v(&["anything.rs"])).is_empty());
        assert_eq!(
            outside(&v(&["src/[x"]), &v(&["src/[x", "src/y"])),
            v(&["src/y"])
        );
    }
}
