//! `codex exec --json` output → normalized events. Pure: lines in, events out.

use super::summary;
use super::wire::{Item, Line, ThreadUsage};
use crate::cli_agent::{CliExit, LineParser, json_line};
use crate::event::{AgentEvent, Outcome};
use crate::lines::classify_text;
use gaffer_core::Usage;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Reads `codex exec --json` output one line at a time.
///
/// * `thread.started` → [`AgentEvent::Started`] (the thread id is the session id);
/// * `turn.completed` → [`AgentEvent::Usage`] with the tokens of that turn: Codex reports
///   totals for the whole thread, so each turn's usage is the difference from the previous
///   totals (for a resumed thread, start from the totals the last run left, see
///   [`CodexParser::resuming`]);
/// * `agent_message` items → [`AgentEvent::Text`], `STATUS:` / `QUESTION:` lines →
///   [`AgentEvent::Status`] / [`AgentEvent::Question`];
/// * `command_execution` → [`AgentEvent::ToolCall`] (`shell: cargo test`), then
///   [`AgentEvent::ToolResult`] with the exit code; `file_change` → `ToolCall` `apply_patch`
///   naming the paths, then its result; `mcp_tool_call` → `ToolCall` `server.tool` and its
///   result; `web_search` → `ToolCall`; `todo_list` → [`AgentEvent::Status`] with the progress;
/// * `turn.failed` and `error` → the failure message of the outcome (a provider's JSON error
///   body is reduced to its `message`); `error` items are warnings and change nothing;
/// * patches Codex refused, which only its standard error tells → [`AgentEvent::Refused`] at
///   the end of the run ([`CodexParser::end_events`], see `refusals.rs`);
/// * `reasoning`, `turn.started`, unknown types, blank and non-JSON lines → nothing.
#[derive(Debug)]
pub struct CodexParser {
    worktree: PathBuf,
    model: String,
    started: bool,
    thread_id: Option<String>,
    /// Thread totals before this run's first turn, then after each turn.
    totals: ThreadUsage,
    /// This run's tokens (the sum of its turns' differences).
    run_usage: ThreadUsage,
    turns: u32,
    last_message: String,
    /// `turn.failed`'s message.
    failure: Option<String>,
    /// The last top-level `error` line's message.
    last_error: Option<String>,
    /// Items whose `ToolCall` was sent.
    called: HashSet<String>,
    /// Items whose `ToolResult` was sent.
    answered: HashSet<String>,
    /// The last progress text sent for each to-do list.
    todos: HashMap<String, String>,
}

impl CodexParser {
    /// A parser for a new thread in `worktree` (paths are shown relative to it) running `model`.
    pub fn new(worktree: impl Into<PathBuf>, model: impl Into<String>) -> CodexParser {
        CodexParser {
            worktree: worktree.into(),
            model: model.into(),
            started: false,
            thread_id: None,
            totals: ThreadUsage::default(),
            run_usage: ThreadUsage::default(),
            turns: 0,
            last_message: String::new(),
            failure: None,
            last_error: None,
            called: HashSet::new(),
            answered: HashSet::new(),
            todos: HashMap::new(),
        }
    }

    /// Continues a thread whose totals were `totals` when its last run ended, so that this
    /// run's usage counts only its own tokens.
    pub fn resuming(mut self, totals: ThreadUsage) -> CodexParser {
        self.totals = totals;
        self
    }

    /// The thread's id and token totals so far (to keep for the next resume).
    pub fn thread_totals(&self) -> Option<(&str, ThreadUsage)> {
        self.thread_id.as_deref().map(|id| (id, self.totals))
    }

    /// The events one line of output stands for.
    pub fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        let Some(parsed) = json_line::<Line>(line) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match parsed.kind.as_str() {
            "thread.started" => {
                if parsed.thread_id.is_some() {
                    self.thread_id = parsed.thread_id;
                }
                self.ensure_started(&mut out);
            }
            "turn.completed" => {
                self.ensure_started(&mut out);
                self.turns += 1;
                let now = parsed.usage.unwrap_or(self.totals);
                let turn = difference(now, self.totals);
                self.totals = now;
                self.run_usage = sum(self.run_usage, turn);
                out.push(AgentEvent::Usage { usage: usage(turn) });
            }
            "turn.failed" => {
                let message = parsed.error.and_then(|e| e.message);
                self.failure = Some(match message.filter(|m| !m.trim().is_empty()) {
                    Some(message) => provider_message(&message),
                    None => "codex reported that the turn failed".to_string(),
                });
            }
            "error" => {
                if let Some(message) = parsed.message {
                    self.last_error = Some(provider_message(&message));
                }
            }
            "item.started" | "item.updated" | "item.completed" => {
                if let Some(item) = parsed.item {
                    let done = parsed.kind == "item.completed";
                    self.item(item, done, &mut out);
                }
            }
            _ => {}
        }
        out
    }

    /// The events only the process's end tells: the patches Codex refused, from its standard
    /// error.
    pub fn end_events(&mut self, exit: &CliExit) -> Vec<AgentEvent> {
        super::refusals::from_stderr(&exit.stderr)
    }

    /// The outcome, once the process has ended. Its usage is this run's own tokens.
    pub fn finish(&mut self, exit: &CliExit) -> Outcome {
        let error = if exit.was_stopped() {
            exit.failure("codex")
        } else if let Some(failure) = &self.failure {
            Some(failure.clone())
        } else if !exit.is_success() {
            self.last_error.clone().or_else(|| exit.failure("codex"))
        } else if self.turns == 0 {
            Some(match &self.last_error {
                Some(error) => error.clone(),
                None => "codex ended without completing a turn".to_string(),
            })
        } else {
            None
        };
        Outcome {
            success: error.is_none(),
            turns: self.turns,
            usage: usage(self.run_usage),
            session_id: self.thread_id.clone(),
            error,
            final_text: self.last_message.clone(),
            earlier_answers: Vec::new(),
        }
    }

    fn item(&mut self, item: Item, done: bool, out: &mut Vec<AgentEvent>) {
        self.ensure_started(out);
        let id = item.id.clone().unwrap_or_default();
        match item.kind.as_str() {
            "agent_message" if done => {
                if let Some(text) = item.text.filter(|t| !t.trim().is_empty()) {
                    out.extend(classify_text(&text));
                    self.last_message = text;
                }
            }
            "command_execution" => {
                let command = item.command.as_deref().unwrap_or_default();
                self.call(&id, "shell", || summary::command(command), out);
                if done {
                    let failed = matches!(item.status.as_deref(), Some("failed" | "declined"));
                    let summary = summary::command_result(
                        item.exit_code,
                        item.status.as_deref(),
                        item.aggregated_output.as_deref().unwrap_or_default(),
                    );
                    let is_error = failed || item.exit_code.is_some_and(|c| c != 0);
                    self.answer(&id, summary, is_error, out);
                }
            }
            "file_change" => {
                let changes = item.changes.unwrap_or_default();
                let worktree = &self.worktree;
                let paths = summary::file_changes(&changes, worktree);
                self.call(&id, "apply_patch", || paths.clone(), out);
                if done {
                    let failed = item.status.as_deref() == Some("failed");
                    let verb = if failed { "failed" } else { "applied" };
                    self.answer(&id, format!("{verb}: {paths}"), failed, out);
                }
            }
            "mcp_tool_call" => {
                let server = item.server.as_deref().unwrap_or("mcp");
                let tool = item.tool.as_deref().unwrap_or("tool");
                let name = format!("{server}.{tool}");
                let arguments = item.arguments.as_ref();
                self.call(
                    &id,
                    &name,
                    || summary::mcp_call(server, tool, arguments),
                    out,
                );
                if done {
                    let error = item.error.and_then(|e| e.message);
                    let failed = error.is_some() || item.status.as_deref() == Some("failed");
                    let summary = match error {
                        Some(message) => crate::cli_agent::text::one_line(&message),
                        None => summary::mcp_result(item.result.as_ref()),
                    };
                    self.answer(&id, summary, failed, out);
                }
            }
            "web_search" => {
                let query = item.query.unwrap_or_default();
                self.call(&id, "web_search", || format!("web_search: {query}"), out);
            }
            "todo_list" => {
                let progress = summary::todo(&item.items.unwrap_or_default());
                if self.todos.get(&id) != Some(&progress) {
                    self.todos.insert(id, progress.clone());
                    out.push(AgentEvent::Status { text: progress });
                }
            }
            _ => {}
        }
    }

    /// Sends the `ToolCall` of item `id` unless it was sent already.
    fn call(
        &mut self,
        id: &str,
        name: &str,
        summary: impl FnOnce() -> String,
        out: &mut Vec<AgentEvent>,
    ) {
        if id.is_empty() || self.called.insert(id.to_string()) {
            out.push(AgentEvent::ToolCall {
                name: name.to_string(),
                summary: summary(),
            });
        }
    }

    /// Sends the `ToolResult` of item `id` unless it was sent already.
    fn answer(&mut self, id: &str, summary: String, is_error: bool, out: &mut Vec<AgentEvent>) {
        if id.is_empty() || self.answered.insert(id.to_string()) {
            out.push(AgentEvent::ToolResult { summary, is_error });
        }
    }

    fn ensure_started(&mut self, out: &mut Vec<AgentEvent>) {
        if !self.started {
            self.started = true;
            out.push(AgentEvent::Started {
                model: self.model.clone(),
                session_id: self.thread_id.clone(),
            });
        }
    }
}

impl LineParser for CodexParser {
    fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        CodexParser::feed(self, line)
    }

    fn end_events(&mut self, exit: &CliExit) -> Vec<AgentEvent> {
        CodexParser::end_events(self, exit)
    }

    fn finish(&mut self, exit: &CliExit) -> Outcome {
        CodexParser::finish(self, exit)
    }

    fn keep(&self, data_dir: &Path) {
        if let Some((thread, totals)) = self.thread_totals() {
            super::THREADS.save(data_dir, thread, &totals);
        }
    }
}

/// `now - before`, field by field, never below zero (totals that went down, as after a
/// compaction or a lost baseline, count as nothing new).
fn difference(now: ThreadUsage, before: ThreadUsage) -> ThreadUsage {
    ThreadUsage {
        input_tokens: now.input_tokens.saturating_sub(before.input_tokens),
        cached_input_tokens: now
            .cached_input_tokens
            .saturating_sub(before.cached_input_tokens),
        output_tokens: now.output_tokens.saturating_sub(before.output_tokens),
    }
}

fn sum(a: ThreadUsage, b: ThreadUsage) -> ThreadUsage {
    ThreadUsage {
        input_tokens: a.input_tokens + b.input_tokens,
        cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
        output_tokens: a.output_tokens + b.output_tokens,
    }
}

/// Codex's token counts in gaffer's terms: `input_tokens` excludes cached tokens. Codex
/// reports no cost; the engine prices tokens.
fn usage(tokens: ThreadUsage) -> Usage {
    Usage {
        input_tokens: tokens
            .input_tokens
            .saturating_sub(tokens.cached_input_tokens),
        output_tokens: tokens.output_tokens,
        cached_tokens: tokens.cached_input_tokens,
        cost_usd: 0.0,
    }
}

/// A provider error as Codex passes it on: either a sentence, or the HTTP body
/// (`{"error": {"message": …}}`), reduced to its message.
fn provider_message(message: &str) -> String {
    let body = serde_json::from_str::<serde_json::Value>(message.trim()).ok();
    let inner = body.as_ref().and_then(|b| {
        b.pointer("/error/message")
            .or_else(|| b.get("message"))
            .and_then(serde_json::Value::as_str)
    });
    match inner {
        Some(inner) if !inner.trim().is_empty() => inner.to_string(),
        _ => message.to_string(),
    }
}
