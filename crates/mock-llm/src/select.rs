//! Which conversation answers a request, and which of its turns — decided from the request
//! alone, so that a client resending its history gets the next turn and a resumed session
//! continues where it stopped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::turn_tag;
use crate::script::Script;

/// Why a conversation was chosen for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectedBy {
    /// The selection header named it.
    Header,
    /// Its marker appeared in the request's prompt.
    Marker,
    /// The request asked for its model.
    Model,
    /// No other conversation claimed the request and it is the script's default.
    Default,
}

/// One entry of a request's history, as far as turn counting cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HistoryItem {
    /// Something the model produced (an assistant message, a tool call), with the ids of the
    /// tool calls it carries.
    Model { call_ids: Vec<String> },
    /// Anything else: a user or system message, a tool result.
    Other,
}

/// Picks the conversation for a request: the one the selection header names, else the first
/// whose marker is in `haystack`, else the first whose model is `model`, else the default.
pub(crate) fn select(
    script: &Script,
    header_value: Option<&str>,
    haystack: &str,
    model: Option<&str>,
) -> Option<(usize, SelectedBy)> {
    let conversations = &script.conversations;
    if let Some(name) = header_value
        && let Some(index) = conversations.iter().position(|c| c.name == name)
    {
        return Some((index, SelectedBy::Header));
    }
    if let Some(index) = conversations.iter().position(|c| {
        c.marker
            .as_deref()
            .is_some_and(|marker| !marker.is_empty() && haystack.contains(marker))
    }) {
        return Some((index, SelectedBy::Marker));
    }
    if let Some(model) = model
        && let Some(index) = conversations
            .iter()
            .position(|c| c.model.as_deref() == Some(model))
    {
        return Some((index, SelectedBy::Model));
    }
    let default = script.default.as_deref()?;
    let index = conversations.iter().position(|c| c.name == default)?;
    Some((index, SelectedBy::Default))
}

/// All the text a marker may be found in: every string under the body's `system`,
/// `instructions`, `messages` and `input` fields, one per line.
pub(crate) fn haystack(body: &Value) -> String {
    let mut out = String::new();
    for field in ["system", "instructions", "messages", "input"] {
        if let Some(value) = body.get(field) {
            collect_strings(value, &mut out);
        }
    }
    out
}

fn collect_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => {
            out.push_str(text);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| collect_strings(item, out)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// How many model turns a history already holds.
///
/// Each run of consecutive model items is one turn. A run that starts with a tool call whose id
/// says it belongs to the same turn as the previous call continues that turn: clients that
/// interleave each call with its result (`call, result, call, result`) still count one turn.
pub(crate) fn count_turns(items: &[HistoryItem]) -> usize {
    let mut turns = 0;
    let mut in_run = false;
    let mut last_tag: Option<usize> = None;
    for item in items {
        match item {
            HistoryItem::Other => in_run = false,
            HistoryItem::Model { call_ids } => {
                let tag = call_ids.iter().find_map(|id| turn_tag(id));
                if in_run {
                    if last_tag.is_none() {
                        last_tag = tag;
                    }
                } else {
                    let continues_previous = tag.is_some() && tag == last_tag;
                    if !continues_previous {
                        turns += 1;
                    }
                    last_tag = tag;
                    in_run = true;
                }
            }
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Conversation;
    use serde_json::json;

    fn model(ids: &[&str]) -> HistoryItem {
        HistoryItem::Model {
            call_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn runs_of_model_items_are_turns() {
        use HistoryItem::Other;
        assert_eq!(count_turns(&[]), 0);
        assert_eq!(count_turns(&[Other]), 0);
        assert_eq!(count_turns(&[Other, model(&[]), Other]), 1);
        assert_eq!(
            count_turns(&[Other, model(&[]), model(&["x"]), Other, model(&[])]),
            2
        );
    }

    #[test]
    fn interleaved_results_of_one_turn_count_once() {
        use HistoryItem::Other;
        let items = [
            Other,
            model(&["call_mock_t0_0"]),
            Other,
            model(&["call_mock_t0_1"]),
            Other,
            model(&["call_mock_t1_0"]),
            Other,
        ];
        assert_eq!(count_turns(&items), 2);
        // Foreign ids fall back to counting runs.
        let items = [Other, model(&["a"]), Other, model(&["a"]), Other];
        assert_eq!(count_turns(&items), 2);
    }

    #[test]
    fn header_beats_marker_beats_model_beats_default() {
        let script = Script::new()
            .with_conversation(Conversation::new("a").with_marker("MARK-A"))
            .with_conversation(Conversation::new("b").with_model("m-b"))
            .with_conversation(Conversation::new("c"))
            .with_default("c");
        assert_eq!(
            select(&script, Some("b"), "MARK-A", None),
            Some((1, SelectedBy::Header))
        );
        assert_eq!(
            select(&script, Some("zz"), "x MARK-A y", None),
            Some((0, SelectedBy::Marker))
        );
        assert_eq!(
            select(&script, None, "", Some("m-b")),
            Some((1, SelectedBy::Model))
        );
        assert_eq!(
            select(&script, None, "", Some("other")),
            Some((2, SelectedBy::Default))
        );
        assert_eq!(select(&Script::new(), None, "", None), None);
    }

    #[test]
    fn the_haystack_holds_prompt_text_only() {
        let body = json!({
            "model": "NOT-HERE",
            "system": [{"type": "text", "text": "sys"}],
            "messages": [{"role": "user", "content": "hello"}],
            "tools": [{"name": "ALSO-NOT-HERE"}],
        });
        let text = haystack(&body);
        assert!(text.contains("sys") && text.contains("hello"));
        assert!(!text.contains("NOT-HERE"));
    }
}
