//! Small text helpers for summaries of tool calls and results: one line, bounded length, paths
//! relative to the worktree. Shared by the `claude` and `codex` parsers.

use std::path::Path;

/// The longest summary gaffer keeps for a tool call or result, in characters.
pub(crate) const SUMMARY_CHARS: usize = 160;

/// The first non-blank line of `text`, trimmed and cut to [`SUMMARY_CHARS`] characters (an
/// ellipsis marks a cut, or further lines that were left out).
pub(crate) fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let more = lines.next().is_some();
    let mut out = shorten(first, SUMMARY_CHARS);
    if more && !out.ends_with('…') {
        out.push_str(" …");
    }
    out
}

/// `text` cut to at most `max` characters, with `…` at the end when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let cut = text.get(..end).unwrap_or(text);
            format!("{}…", cut.trim_end())
        }
    }
}

/// `path` relative to `worktree` when it lies inside it, else unchanged.
pub(crate) fn relative(path: &str, worktree: &Path) -> String {
    match Path::new(path).strip_prefix(worktree) {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_the_first_line_and_marks_the_rest() {
        assert_eq!(one_line("\n  ok  \n"), "ok");
        assert_eq!(one_line("first\nsecond"), "first …");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("héllo", 10), "héllo");
        assert_eq!(shorten("héllo wörld", 5), "héllo…");
    }

    #[test]
    fn relative_strips_the_worktree() {
        let wt = Path::new("/w/t");
        assert_eq!(relative("/w/t/src/a.rs", wt), "src/a.rs");
        assert_eq!(relative("/elsewhere/a.rs", wt), "/elsewhere/a.rs");
        assert_eq!(relative("src/a.rs", wt), "src/a.rs");
        assert_eq!(relative("/w/t", wt), "/w/t");
    }
}
