//! Claude Code's `stream-json` output → normalized events. Pure: lines in, events out.

use super::refusals::Refusals;
use super::run_usage::{Reported, run_usage};
use super::summary;
use super::wire::{Content, Line};
use crate::cli_agent::{CliExit, LineParser, json_line};
use crate::event::{AgentEvent, Outcome};
use crate::lines::classify_text;
use gaffer_core::Usage;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Reads Claude Code's `--output-format stream-json --verbose` output one line at a time.
///
/// * `system` `init` → [`AgentEvent::Started`] with the session id and model (other `system`
///   subtypes are read for their session id and retry errors only);
/// * `assistant` text → [`AgentEvent::Text`], with `STATUS:` / `QUESTION:` lines as
///   [`AgentEvent::Status`] / [`AgentEvent::Question`]; `tool_use` → [`AgentEvent::ToolCall`]
///   with a short summary (`Write src/x.rs`, `Bash: cargo test`);
/// * `user` tool results → [`AgentEvent::ToolResult`]; a `user` message replayed from standard
///   input (`isReplay`) → [`AgentEvent::Heard`], but for the run's prompt
///   ([`ClaudeParser::with_prompt`]);
/// * `system` `permission_denied` → [`AgentEvent::Refused`], and so do entries of the
///   `result` line's `permission_denials` not reported that way (once per call, see
///   `refusals.rs`);
/// * `result` → [`AgentEvent::Usage`] with this run's own tokens and cost (a resumed session
///   reports some figures for the whole session, see `run_usage.rs` and
///   [`ClaudeParser::resuming`]), and the outcome. A message read after the last answer began
///   makes one more turn and one more `result`: the run's usage is the sum, its outcome the
///   last. After the first `result` the run takes no more input.
///
/// Blank lines, lines that are not JSON, lines of unknown type and lines of a known type with
/// an unexpected shape produce nothing. Text from sub-agents (lines with a
/// `parent_tool_use_id`) is not the agent's answer and is left out; their tool calls are kept.
/// If no `init` line comes first, `Started` is sent before the first other event.
#[derive(Debug)]
pub struct ClaudeParser {
    worktree: PathBuf,
    fallback_model: String,
    started: bool,
    session_id: Option<String>,
    model: Option<String>,
    /// Tool names by call id, to name results.
    tools: HashMap<String, String>,
    /// The main agent's last text.
    last_text: String,
    /// The last API error the CLI reported (an error message, or a retry).
    api_error: Option<String>,
    refusals: Refusals,
    /// The session this run resumes, and its total cost when its last run ended.
    resumed: Option<(String, Option<f64>)>,
    result: Option<RunResult>,
    /// The usage of every `result` line so far.
    usage: Usage,
    /// How many turns every `result` line so far counted.
    turns: u32,
    /// The text of every `result` line before the last (a message heard after the last answer
    /// began makes another), oldest first.
    earlier_answers: Vec<String>,
    /// A line of type `result` came, whether or not it could be read: the run's last turn
    /// ended.
    ended: bool,
    /// The prompt as sent on standard input: its replay is not a person's message.
    prompt: Option<String>,
    /// Said once the run has started (see [`ClaudeParser::with_note`]).
    note: Option<String>,
}

/// What the `result` line said.
#[derive(Debug)]
struct RunResult {
    is_error: bool,
    subtype: Option<String>,
    text: Option<String>,
    errors: Vec<String>,
    /// The session's `total_cost_usd`.
    session_cost: Option<f64>,
}

impl ClaudeParser {
    /// A parser for a run in `worktree` (tool paths are shown relative to it) that asked for
    /// `model` (reported until the CLI says which model it uses).
    pub fn new(worktree: impl Into<PathBuf>, model: impl Into<String>) -> ClaudeParser {
        ClaudeParser {
            worktree: worktree.into(),
            fallback_model: model.into(),
            started: false,
            session_id: None,
            model: None,
            tools: HashMap::new(),
            last_text: String::new(),
            api_error: None,
            refusals: Refusals::default(),
            resumed: None,
            result: None,
            usage: Usage::default(),
            turns: 0,
            earlier_answers: Vec::new(),
            ended: false,
            prompt: None,
            note: None,
        }
    }

    /// The prompt the run was given on standard input: its replay is not reported as heard.
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// False once a `result` line came: the run's last turn ended, and what it reads on
    /// standard input after that is not waited for.
    pub fn takes_input(&self) -> bool {
        !self.ended
    }

    /// A status line to send right after `Started` (why the run does not resume its session).
    pub fn with_note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }

    /// Resumes `session`, whose total cost was `earlier_cost` when its last run ended, if
    /// known. Used only when the CLI does not report the run's own cost: the run is then
    /// charged the session's total minus `earlier_cost` (or everything, when unknown).
    pub fn resuming(mut self, session: impl Into<String>, earlier_cost: Option<f64>) -> Self {
        self.resumed = Some((session.into(), earlier_cost));
        self
    }

    /// The session's id and its total cost as the run's `result` line reported it (to record
    /// for the next resume).
    pub fn session_cost(&self) -> Option<(&str, f64)> {
        let cost = self.result.as_ref()?.session_cost?;
        Some((self.session_id.as_deref()?, cost))
    }

    /// The events one line of output stands for.
    pub fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(parsed) = json_line::<Line>(line) else {
            // A `result` line this parser cannot read (of a shape a later CLI prints, or cut
            // at the longest line kept, where it still starts with its type) ends the last
            // turn all the same: standard input must close for the CLI to exit.
            let result = json_line::<serde_json::Value>(line)
                .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("result"))
                || line.trim_start().starts_with(r#"{"type":"result""#);
            if result {
                self.ended = true;
            }
            return Vec::new();
        };
        if self.session_id.is_none() {
            self.session_id.clone_from(&parsed.session_id);
        }
        let mut out = Vec::new();
        match parsed.kind.as_str() {
            "system" => self.system(parsed, &mut out),
            "assistant" => self.assistant(parsed, &mut out),
            "user" => self.user(&parsed, &mut out),
            "result" => {
                self.ended = true;
                self.result(parsed, &mut out)
            }
            _ => {}
        }
        out
    }

    /// The outcome, once the process has ended.
    pub fn finish(&mut self, exit: &CliExit) -> Outcome {
        let mut outcome = Outcome {
            session_id: self.session_id.clone(),
            final_text: self.last_text.clone(),
            earlier_answers: self.earlier_answers.clone(),
            ..Outcome::default()
        };
        if let Some(result) = &self.result {
            outcome.turns = self.turns;
            outcome.usage = self.usage;
            if let Some(text) = result.text.as_ref().filter(|_| !result.is_error) {
                outcome.final_text.clone_from(text);
            }
        }
        outcome.error = if exit.was_stopped() {
            exit.failure("claude")
        } else {
            match &self.result {
                Some(result) if result.is_error => Some(self.result_error(result)),
                Some(_) => exit.failure("claude"),
                None => Some(
                    self.api_error
                        .clone()
                        .or_else(|| exit.failure("claude"))
                        .unwrap_or_else(|| "claude ended without reporting a result".into()),
                ),
            }
        };
        outcome.success = outcome.error.is_none();
        outcome
    }

    fn result_error(&self, result: &RunResult) -> String {
        if !result.errors.is_empty() {
            return result.errors.join("; ");
        }
        if let Some(text) = result.text.as_ref().filter(|t| !t.trim().is_empty()) {
            return text.clone();
        }
        if let Some(error) = &self.api_error {
            return error.clone();
        }
        match &result.subtype {
            Some(subtype) => format!("claude reported an error ({subtype})"),
            None => "claude reported an error".to_string(),
        }
    }

    fn system(&mut self, line: Line, out: &mut Vec<AgentEvent>) {
        match line.subtype.as_deref() {
            Some("init") => {
                if line.model.is_some() {
                    self.model = line.model;
                }
                if line.session_id.is_some() {
                    self.session_id = line.session_id;
                }
                self.ensure_started(out);
            }
            Some("api_retry") => {
                let status = line
                    .error_status
                    .as_ref()
                    .map(value_text)
                    .unwrap_or_default();
                let error = line.error.as_ref().map(value_text).unwrap_or_default();
                self.api_error = Some(format!("API error {status} {error}").trim().to_string());
            }
            Some("permission_denied") => {
                self.ensure_started(out);
                let refused = self.refusals.denied(
                    line.tool_name.as_deref(),
                    line.tool_use_id.as_deref(),
                    line.message_text(),
                );
                out.extend(refused);
            }
            _ => {}
        }
    }

    fn assistant(&mut self, line: Line, out: &mut Vec<AgentEvent>) {
        let Some(message) = line.conversation() else {
            return;
        };
        if let Some(model) = message.model.as_deref().filter(|m| !m.starts_with('<')) {
            self.model.get_or_insert_with(|| model.to_string());
        }
        self.ensure_started(out);
        if line.is_api_error_message == Some(true) || line.error.is_some() {
            let text: Vec<&str> = message
                .content
                .blocks()
                .iter()
                .filter_map(|b| b.text.as_deref())
                .collect();
            let text = text.join("\n");
            self.api_error = Some(if text.trim().is_empty() {
                format!(
                    "API error: {}",
                    line.error.as_ref().map(value_text).unwrap_or_default()
                )
            } else {
                text
            });
            return;
        }
        let main = line.parent_tool_use_id.is_none();
        for block in message.content.blocks() {
            match block.kind.as_str() {
                "text" if main => {
                    if let Some(text) = block.text.as_deref().filter(|t| !t.trim().is_empty()) {
                        self.last_text = text.to_string();
                        out.extend(classify_text(text));
                    }
                }
                "tool_use" => {
                    let name = block.name.clone().unwrap_or_else(|| "tool".into());
                    let input = block.input.as_ref().unwrap_or(&Value::Null);
                    let summary = summary::tool_call(&name, input, &self.worktree);
                    if let Some(id) = &block.id {
                        self.tools.insert(id.clone(), name.clone());
                    }
                    out.push(AgentEvent::ToolCall { name, summary });
                }
                _ => {}
            }
        }
    }

    fn user(&mut self, line: &Line, out: &mut Vec<AgentEvent>) {
        let Some(message) = line.conversation() else {
            return;
        };
        if let (Some(true), Content::Text(text)) = (line.is_replay, &message.content) {
            if self.prompt.as_ref() != Some(text) {
                self.ensure_started(out);
                out.push(AgentEvent::Heard { text: text.clone() });
            }
            return;
        }
        for block in message.content.blocks() {
            if block.kind != "tool_result" {
                continue;
            }
            self.ensure_started(out);
            let is_error = block.is_error.unwrap_or(false);
            if let Some(call) = block.tool_use_id.as_deref().filter(|_| is_error) {
                let text = summary::result_text(block.content.as_ref());
                self.refusals.error_result(call, &text);
            }
            let text = summary::tool_result(block.content.as_ref());
            let tool = block.tool_use_id.as_ref().and_then(|id| self.tools.get(id));
            let summary = match tool {
                Some(name) if text.is_empty() => name.clone(),
                Some(name) => format!("{name}: {text}"),
                None => text,
            };
            out.push(AgentEvent::ToolResult { summary, is_error });
        }
    }

    fn result(&mut self, line: Line, out: &mut Vec<AgentEvent>) {
        self.ensure_started(out);
        if line.session_id.is_some() {
            self.session_id.clone_from(&line.session_id);
        }
        out.extend(
            self.refusals
                .remaining(line.permission_denials.as_deref().unwrap_or_default()),
        );
        // The recorded cost is the resumed session's; a run that ended up in another session
        // (a fork) owes that session's whole total. A second result of the run (a message read
        // after its last answer began) owes what the session spent since the first.
        let earlier_cost = match (&self.result, &self.resumed) {
            (Some(first), _) => first.session_cost,
            (None, Some((session, cost))) if self.session_id.as_ref() == Some(session) => *cost,
            _ => None,
        };
        let reported = Reported {
            usage: line.usage,
            since_last_result: line.model_usage_since_last_result.as_ref(),
            total_cost_usd: line.total_cost_usd,
        };
        let usage = run_usage(reported, earlier_cost);
        self.usage.add(&usage);
        if let Some(text) = self
            .result
            .as_ref()
            .filter(|r| !r.is_error)
            .and_then(|r| r.text.clone())
        {
            self.earlier_answers.push(text);
        }
        self.turns += line.num_turns.unwrap_or(0);
        self.result = Some(RunResult {
            is_error: line.is_error.unwrap_or(false),
            subtype: line.subtype,
            text: line.result,
            errors: line
                .errors
                .unwrap_or_default()
                .iter()
                .map(value_text)
                .filter(|e| !e.is_empty())
                .collect(),
            session_cost: line.total_cost_usd,
        });
        out.push(AgentEvent::Usage { usage });
    }

    fn ensure_started(&mut self, out: &mut Vec<AgentEvent>) {
        if !self.started {
            self.started = true;
            out.push(AgentEvent::Started {
                model: self
                    .model
                    .clone()
                    .unwrap_or_else(|| self.fallback_model.clone()),
                session_id: self.session_id.clone(),
            });
            if let Some(text) = self.note.take() {
                out.push(AgentEvent::Status { text });
            }
        }
    }
}

impl LineParser for ClaudeParser {
    fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        ClaudeParser::feed(self, line)
    }

    fn finish(&mut self, exit: &CliExit) -> Outcome {
        ClaudeParser::finish(self, exit)
    }

    fn takes_input(&self) -> bool {
        ClaudeParser::takes_input(self)
    }

    fn keep(&self, data_dir: &Path) {
        if let Some((session, total_cost_usd)) = self.session_cost() {
            super::SESSIONS.save(data_dir, session, &SessionTotals { total_cost_usd });
        }
    }
}

/// What gaffer records about a session in its ledger (see `crate::cli_agent::Ledger`).
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct SessionTotals {
    /// The session's `total_cost_usd` at the end of its last run.
    pub total_cost_usd: f64,
}

/// A JSON value as text: strings as they are, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
