//! Tool calls Claude Code refused, each reported once as [`AgentEvent::Refused`].
//!
//! In print mode without a permission mode that allows them, Claude Code 2.1.329 refuses
//! `Write`, `Edit` and file-changing `Bash` commands, and tells of each refusal three times:
//!
//! 1. a `system` line, subtype `permission_denied`, with `tool_name`, `tool_use_id` and the
//!    reason as `message`, printed when it happens, before the call's result;
//! 2. the call's `tool_result`, `is_error` and the same sentence: by itself no different from
//!    a tool that ran and failed;
//! 3. an entry of the `result` line's `permission_denials` (tool, call id, input; no reason),
//!    at the very end, and only if the run gets that far.
//!
//! The `system` line is exact and comes first, so it is the source. An entry of
//! `permission_denials` whose call was not reported that way (a CLI that does not print the
//! line) is reported at the end, with the call's error result as the reason. Calls are matched
//! by id; an entry without one is reported only when the run printed no `permission_denied`
//! line at all.

use super::wire::Denial;
use crate::cli_agent::text::shorten;
use crate::event::AgentEvent;
use std::collections::{HashMap, HashSet};

/// The longest reason kept, in characters.
const REASON_CHARS: usize = 400;

/// What was refused and reported so far in one run.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    /// Call ids already reported.
    reported: HashSet<String>,
    /// Whether any `permission_denied` line was seen.
    any_line: bool,
    /// The text of error results by call id, the reason for a late report.
    errors: HashMap<String, String>,
}

impl Refusals {
    /// A `permission_denied` line: the event, unless that call was reported already.
    pub(crate) fn denied(
        &mut self,
        tool: Option<&str>,
        call: Option<&str>,
        reason: Option<&str>,
    ) -> Option<AgentEvent> {
        self.any_line = true;
        if let Some(call) = call
            && !self.reported.insert(call.to_string())
        {
            return None;
        }
        Some(refused(tool, reason))
    }

    /// Remembers the text of an error result, in case its call turns out to be a refusal.
    pub(crate) fn error_result(&mut self, call: &str, text: &str) {
        self.errors.insert(call.to_string(), text.to_string());
    }

    /// The `result` line's `permission_denials`: events for those not reported yet.
    pub(crate) fn remaining(&mut self, denials: &[Denial]) -> Vec<AgentEvent> {
        let mut out = Vec::new();
        for denial in denials {
            let tool = denial.tool_name.as_deref();
            match denial.tool_use_id.as_deref() {
                Some(call) if self.reported.insert(call.to_string()) => {
                    let reason = self.errors.get(call).map(String::as_str);
                    out.push(refused(tool, reason));
                }
                Some(_) => {}
                None if !self.any_line => out.push(refused(tool, None)),
                None => {}
            }
        }
        out
    }
}

fn refused(tool: Option<&str>, reason: Option<&str>) -> AgentEvent {
    let reason = reason
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "permission denied".to_string());
    AgentEvent::Refused {
        tool: tool.unwrap_or("tool").to_string(),
        reason: shorten(&reason, REASON_CHARS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(tool: &str, call: Option<&str>) -> Denial {
        Denial {
            tool_name: Some(tool.into()),
            tool_use_id: call.map(str::to_string),
        }
    }

    fn event(tool: &str, reason: &str) -> AgentEvent {
        AgentEvent::Refused {
            tool: tool.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn a_refusal_told_twice_is_reported_once() {
        let mut refusals = Refusals::default();
        let first = refusals.denied(Some("Write"), Some("t1"), Some("not\n granted"));
        assert_eq!(first, Some(event("Write", "not granted")));
        assert_eq!(
            refusals.denied(Some("Write"), Some("t1"), Some("again")),
            None
        );
        refusals.error_result("t1", "not granted");
        assert!(
            refusals
                .remaining(&[denial("Write", Some("t1"))])
                .is_empty()
        );
    }

    #[test]
    fn denials_without_a_line_are_reported_at_the_end_with_the_error_as_reason() {
        let mut refusals = Refusals::default();
        refusals.error_result("t2", "touch needs approval");
        let events = refusals.remaining(&[
            denial("Bash", Some("t2")),
            denial("Edit", Some("t3")),
            denial("Write", None),
        ]);
        assert_eq!(
            events,
            vec![
                event("Bash", "touch needs approval"),
                event("Edit", "permission denied"),
                event("Write", "permission denied"),
            ]
        );
    }

    #[test]
    fn a_denial_without_id_is_left_to_the_lines_when_there_are_some() {
        let mut refusals = Refusals::default();
        assert!(refusals.denied(Some("Write"), None, None).is_some());
        assert!(refusals.remaining(&[denial("Write", None)]).is_empty());
    }
}
