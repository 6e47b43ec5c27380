//! The conversation in a provider-neutral form.
//!
//! Both wire formats (OpenAI chat completions and Anthropic Messages) are built from these types,
//! and sessions are saved in this form, so a saved session does not depend on which API produced
//! it.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Who said a message. The system prompt is not a message: it is sent on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    User,
    Assistant,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Speaker,
    pub content: Vec<Block>,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Plain text.
    Text { text: String },
    /// The model asks to call a tool. `input` is the parsed JSON arguments, or a JSON string
    /// holding the raw arguments when the model sent something that is not JSON.
    ToolUse {
        id: String,
        name: String,
        input: serde_json::Value,
    },
    /// The result of a tool call, sent back to the model in a user message.
    ToolResult {
        tool_use_id: String,
        content: String,
        is_error: bool,
    },
}

impl Message {
    /// A user message holding one text block.
    pub fn user_text(text: impl Into<String>) -> Message {
        Message {
            role: Speaker::User,
            content: vec![Block::Text { text: text.into() }],
        }
    }

    /// The tool calls of this message, in order: `(id, name, input)`.
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &serde_json::Value)> {
        self.content.iter().filter_map(|b| match b {
            Block::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }
}

/// What a pending tool call gets as its result when the run ended before the tool's result was
/// recorded (cancelled, out of time, or stopped by a question in the same answer).
pub const INTERRUPTED_TOOL: &str = "This tool call did not complete: the run stopped before its \
result was recorded. Check the state of the files before relying on it.";
/// The result of an `ask_person` call once the person has answered.
pub const ANSWER_FOLLOWS: &str = "The person's answer follows in the next message.";

/// Appends `text` as a user message, first giving a result to every tool call of the last
/// assistant message that has none (both APIs refuse a tool call without its result).
///
/// `ask_person` calls get [`ANSWER_FOLLOWS`]; any other call gets [`INTERRUPTED_TOOL`]. Results
/// come before the text in one user message, as the Anthropic API requires; a trailing user
/// message is extended rather than followed by another.
pub fn push_user_text(messages: &mut Vec<Message>, text: &str) {
    let mut blocks = pending_results(messages);
    blocks.push(Block::Text {
        text: text.to_string(),
    });
    match messages.last_mut() {
        Some(last) if last.role == Speaker::User => last.content.extend(blocks),
        _ => messages.push(Message {
            role: Speaker::User,
            content: blocks,
        }),
    }
}

/// Results for the tool calls of the last assistant message that have none yet.
fn pending_results(messages: &[Message]) -> Vec<Block> {
    let Some(at) = messages.iter().rposition(|m| m.role == Speaker::Assistant) else {
        return Vec::new();
    };
    let answered: HashSet<&str> = messages[at + 1..]
        .iter()
        .flat_map(|m| &m.content)
        .filter_map(|b| match b {
            Block::ToolResult { tool_use_id, .. } => Some(tool_use_id.as_str()),
            _ => None,
        })
        .collect();
    messages[at]
        .tool_uses()
        .filter(|(id, _, _)| !answered.contains(id))
        .map(|(id, name, _)| {
            let asked = name == crate::http::tools::ASK_PERSON;
            Block::ToolResult {
                tool_use_id: id.to_string(),
                content: if asked {
                    ANSWER_FOLLOWS
                } else {
                    INTERRUPTED_TOOL
                }
                .to_string(),
                is_error: !asked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assistant_calls(names: &[&str]) -> Message {
        Message {
            role: Speaker::Assistant,
            content: names
                .iter()
                .enumerate()
                .map(|(i, n)| Block::ToolUse {
                    id: format!("c{i}"),
                    name: n.to_string(),
                    input: json!({}),
                })
                .collect(),
        }
    }

    #[test]
    fn pending_tool_calls_get_results_before_the_new_text() {
        let mut messages = vec![
            Message::user_text("go"),
            assistant_calls(&["write_file", "ask_person"]),
        ];
        push_user_text(&mut messages, "the answer is 42");
        let last = messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        assert_eq!(last.len(), 3);
        assert!(
            matches!(&last[0], Block::ToolResult { tool_use_id, is_error: true, .. } if tool_use_id == "c0")
        );
        assert!(
            matches!(&last[1], Block::ToolResult { content, is_error: false, .. } if content == ANSWER_FOLLOWS)
        );
        assert!(matches!(&last[2], Block::Text { text } if text == "the answer is 42"));
    }

    #[test]
    fn partial_results_are_completed_in_the_trailing_user_message() {
        let mut messages = vec![
            Message::user_text("go"),
            assistant_calls(&["write_file", "ask_person"]),
            Message {
                role: Speaker::User,
                content: vec![Block::ToolResult {
                    tool_use_id: "c0".into(),
                    content: "wrote".into(),
                    is_error: false,
                }],
            },
        ];
        push_user_text(&mut messages, "yes");
        assert_eq!(messages.len(), 3);
        let last = &messages[2].content;
        assert_eq!(last.len(), 3);
        assert!(matches!(&last[1], Block::ToolResult { tool_use_id, .. } if tool_use_id == "c1"));
        assert!(matches!(&last[2], Block::Text { .. }));
    }

    #[test]
    fn a_trailing_user_message_is_extended() {
        let mut messages = vec![Message::user_text("one")];
        push_user_text(&mut messages, "two");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].content.len(), 2);
    }

    #[test]
    fn round_trips_through_json() {
        let messages = vec![
            Message::user_text("go"),
            assistant_calls(&["read_file"]),
            Message {
                role: Speaker::User,
                content: vec![Block::ToolResult {
                    tool_use_id: "c0".into(),
                    content: "text".into(),
                    is_error: false,
                }],
            },
        ];
        let text = serde_json::to_string(&messages).unwrap_or_default();
        let back: Vec<Message> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, messages);
    }
}
