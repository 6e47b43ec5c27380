//! Patches Codex refused, found in its standard error.
//!
//! Measured on Codex 0.169.0 in `exec --json` mode (approvals off): a patch the sandbox does
//! not allow (any write under `read-only`, a path outside the writable roots under
//! `workspace-write`) is refused before it is applied, and the JSON stream says nothing of it,
//! no `file_change` item at all. The only trace is a log line on standard error:
//!
//! ```text
//! 2026-…Z ERROR codex_core::tools::router: error=patch rejected: writing outside of the project; rejected by user approval settings
//! ```
//!
//! Each such line becomes an [`AgentEvent::Refused`] for `apply_patch`, when the process has
//! ended (standard error is read as a tail then). A shell command the sandbox blocks is not a
//! refusal in Codex's eyes: it runs and fails (`command_execution` with `status: failed`, a
//! non-zero exit code and e.g. "Read-only file system" in its output), and is reported as the
//! failed tool result it is.

use crate::cli_agent::text::shorten;
use crate::event::AgentEvent;

/// What precedes the reason on a refused patch's log line.
const PATCH_REJECTED: &str = "error=patch rejected: ";
/// The longest reason kept, in characters.
const REASON_CHARS: usize = 400;

/// The refusals logged in `stderr`, in order.
pub(crate) fn from_stderr(stderr: &str) -> Vec<AgentEvent> {
    stderr
        .lines()
        .filter_map(|line| {
            let (_, reason) = line.split_once(PATCH_REJECTED)?;
            let reason = reason.trim();
            Some(AgentEvent::Refused {
                tool: "apply_patch".to_string(),
                reason: if reason.is_empty() {
                    "patch rejected".to_string()
                } else {
                    shorten(reason, REASON_CHARS)
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_patches_are_refusals() {
        let stderr = "Reading additional input from stdin...\n\
            2026-12-07T04:00:25.200929Z ERROR codex_core::tools::router: error=patch rejected: \
            writing is blocked by read-only sandbox; rejected by user approval settings\n\
            2026-12-07T04:00:26.000000Z ERROR codex_core::tools::router: error=exec failed\n\
            2026-12-07T04:00:34.302663Z ERROR codex_core::tools::router: error=patch rejected: \
            writing outside of the project; rejected by user approval settings\n";
        assert_eq!(
            from_stderr(stderr),
            vec![
                AgentEvent::Refused {
                    tool: "apply_patch".into(),
                    reason: "writing is blocked by read-only sandbox; rejected by user approval \
                             settings"
                        .into(),
                },
                AgentEvent::Refused {
                    tool: "apply_patch".into(),
                    reason: "writing outside of the project; rejected by user approval settings"
                        .into(),
                },
            ]
        );
        assert!(from_stderr("").is_empty());
        assert!(from_stderr("warning: patch rejected: not a log line").is_empty());
    }
}
