//! The agent loop: ask the model, run the tools it calls, repeat until it answers without
//! calling a tool, asks a question, or a limit is hit.
//!
//! Events, in order: `Started` (model and session id); per model answer `Text` (when there is
//! text), a `Status` per `STATUS:` line, `Usage`, then per tool call `ToolCall` and `ToolResult`;
//! `Status` for provider waits and retries; `Question` when the run stops for a person; and
//! always `Finished` last. The conversation is saved after every answer and every round of tool
//! results, so a later run can resume the session.
//!
//! A person's message sent to the run's inbox while it goes on joins the conversation before the
//! next request to the model (after the round of tool results), with `Heard`; one that comes
//! while the model gives its last answer makes one more turn.

use crate::event::{AgentEvent, Outcome, RunRequest};
use crate::http::client;
use crate::http::conversation::{Block, Message, Speaker, push_user_text};
use crate::http::error::HttpError;
use crate::http::markers;
use crate::http::options::HttpAgentOptions;
use crate::http::provider::{ModelRequest, Provider};
use crate::http::retry::with_retries;
use crate::http::session::{self, SavedSession, SessionError};
use crate::http::tools::{self, ToolContext, ToolEffect};
use gaffer_core::Usage;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One run, ready to execute.
pub(crate) struct Run {
    pub provider: Arc<dyn Provider>,
    pub options: Arc<HttpAgentOptions>,
    pub http: reqwest::Client,
    pub model: String,
    pub request: RunRequest,
    pub tools: ToolContext,
    pub events: mpsc::Sender<AgentEvent>,
    /// What people say while the run goes on (the run's [`crate::Inbox`]).
    pub said: Option<mpsc::UnboundedReceiver<String>>,
}

/// Why a run ended without finishing its work.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cancelled")]
    Cancelled,
    #[error("stopped: the run exceeded its wall-time limit of {}s", .0.as_secs())]
    WallTime(Duration),
    #[error("stopped: reached the turn limit ({0} model answers) without finishing")]
    MaxTurns(u32),
    #[error("stopped: the run used {used} tokens, over its limit of {limit} (max_total_tokens)")]
    Tokens { used: u64, limit: u64 },
    #[error("the model request failed: {0}")]
    Model(#[from] HttpError),
}

/// How a run that did its work ended.
enum Ending {
    /// The model answered without calling a tool.
    Done,
    /// The model asked a person something.
    Question(String),
}

/// What the run has done so far.
struct Progress {
    turns: u32,
    usage: Usage,
    final_text: String,
    /// The final answers before the last, when a message heard after one made the model answer
    /// again.
    earlier_answers: Vec<String>,
    session: SavedSession,
    said: Option<mpsc::UnboundedReceiver<String>>,
}

impl Run {
    /// Runs to the end and sends `Finished` (always, exactly once).
    pub async fn execute(mut self, cancel: CancellationToken) {
        let said = self.said.take();
        let outcome = self.outcome(&cancel, said).await;
        self.emit(AgentEvent::Finished { outcome }).await;
    }

    async fn outcome(
        &self,
        cancel: &CancellationToken,
        said: Option<mpsc::UnboundedReceiver<String>>,
    ) -> Outcome {
        let (session, note) = self.open_session().await;
        self.emit(AgentEvent::Started {
            model: self.model.clone(),
            session_id: Some(session.session_id.clone()),
        })
        .await;
        if let Some(note) = note {
            self.emit(AgentEvent::Status { text: note }).await;
        }
        let mut progress = Progress {
            turns: 0,
            usage: Usage::default(),
            final_text: String::new(),
            earlier_answers: Vec::new(),
            session,
            said,
        };
        let max_wall = self.request.max_wall;
        let result = {
            let work = self.drive(&mut progress);
            tokio::select! {
                _ = cancel.cancelled() => Err(RunError::Cancelled),
                _ = tokio::time::sleep(max_wall) => Err(RunError::WallTime(max_wall)),
                result = work => result,
            }
        };
        // The run takes no more messages; any left in the inbox were not heard.
        if let Some(said) = progress.said.as_mut() {
            said.close();
        }
        if let Ok(Ending::Question(text)) = &result {
            self.emit(AgentEvent::Question { text: text.clone() }).await;
        }
        Outcome {
            success: result.is_ok(),
            turns: progress.turns,
            usage: progress.usage,
            session_id: Some(progress.session.session_id),
            error: result.err().map(|e| e.to_string()),
            final_text: progress.final_text,
            earlier_answers: progress.earlier_answers,
        }
    }

    /// The conversation to continue: the saved session with the prompt appended, or a new one.
    /// The note says why a session that was asked for could not be resumed.
    async fn open_session(&self) -> (SavedSession, Option<String>) {
        let request = &self.request;
        let fresh = |id: String| {
            let mut session = SavedSession::new(
                id,
                self.provider.name(),
                &self.model,
                &request.system_prompt,
            );
            session
                .messages
                .push(Message::user_text(request.prompt.clone()));
            session
        };
        let Some(id) = &request.resume_session else {
            return (fresh(session::new_id()), None);
        };
        match session::load(&request.data_dir, id).await {
            Ok(mut session) => {
                push_user_text(&mut session.messages, &request.prompt);
                session.backend = self.provider.name().to_string();
                session.model = self.model.clone();
                session.system_prompt = request.system_prompt.clone();
                (session, None)
            }
            Err(error) => {
                let why = match error {
                    SessionError::NotFound { .. } => "it has no saved conversation".to_string(),
                    other => other.to_string(),
                };
                let note =
                    format!("cannot resume session {id} ({why}); starting a new conversation");
                (fresh(id.clone()), Some(note))
            }
        }
    }

    async fn drive(&self, progress: &mut Progress) -> Result<Ending, RunError> {
        let definitions = tools::definitions();
        loop {
            if progress.turns >= self.options.max_turns {
                return Err(RunError::MaxTurns(self.options.max_turns));
            }
            let body = self.provider.body(&ModelRequest {
                model: &self.model,
                system: &self.request.system_prompt,
                messages: &progress.session.messages,
                tools: &definitions,
                max_output_tokens: self.options.max_output_tokens,
            });
            let response = with_retries(
                &self.options.retry,
                &self.options.gate,
                || client::send(&self.http, &*self.provider, &self.options, &body),
                |note| self.emit(AgentEvent::Status { text: note }),
            )
            .await?;

            progress.turns += 1;
            progress.usage.add(&response.usage);
            let message = response.message();
            progress.session.messages.push(message.clone());
            self.save(&progress.session).await;

            let text = response.text();
            if !text.trim().is_empty() {
                progress.final_text = text.clone();
            }
            // Prose as `Text`, `STATUS:` lines as `Status`; a question ends the run below.
            for event in crate::lines::classify_text(&text) {
                if !matches!(event, AgentEvent::Question { .. }) {
                    self.emit(event).await;
                }
            }
            self.emit(AgentEvent::Usage {
                usage: response.usage,
            })
            .await;
            if let Some(limit) = self.options.max_total_tokens {
                let used = progress.usage.input_tokens
                    + progress.usage.output_tokens
                    + progress.usage.cached_tokens;
                if used > limit {
                    return Err(RunError::Tokens { used, limit });
                }
            }
            if let Some(question) = markers::question(&text) {
                return Ok(Ending::Question(question));
            }

            let calls: Vec<_> = message
                .tool_uses()
                .map(|(id, name, input)| (id.to_string(), name.to_string(), input.clone()))
                .collect();
            if calls.is_empty() {
                // A message that came during the last answer makes one more turn, if there is
                // one left (else it stays unheard, and the engine gives it to the next run).
                if progress.turns < self.options.max_turns && self.hear(progress).await {
                    progress.earlier_answers.push(progress.final_text.clone());
                    continue;
                }
                return Ok(Ending::Done);
            }
            let mut results = Vec::new();
            let mut question = None;
            for (id, name, input) in calls {
                self.emit(AgentEvent::ToolCall {
                    summary: tools::describe(&name, &input),
                    name: name.clone(),
                })
                .await;
                match tools::call(&self.tools, &name, &input).await {
                    ToolEffect::Question(text) => {
                        question = Some(text);
                        break;
                    }
                    ToolEffect::Output(output) => {
                        self.emit(AgentEvent::ToolResult {
                            summary: output.summary,
                            is_error: output.is_error,
                        })
                        .await;
                        results.push(Block::ToolResult {
                            tool_use_id: id,
                            content: output.content,
                            is_error: output.is_error,
                        });
                    }
                }
            }
            if !results.is_empty() {
                progress.session.messages.push(Message {
                    role: Speaker::User,
                    content: results,
                });
                self.save(&progress.session).await;
            }
            if let Some(question) = question {
                return Ok(Ending::Question(question));
            }
            if progress.turns < self.options.max_turns {
                self.hear(progress).await;
            }
        }
    }

    /// Adds what people said since the last turn to the conversation, before the next request
    /// to the model; true when there was something.
    async fn hear(&self, progress: &mut Progress) -> bool {
        let Some(said) = progress.said.as_mut() else {
            return false;
        };
        let mut heard = Vec::new();
        while let Ok(text) = said.try_recv() {
            heard.push(text);
        }
        if heard.is_empty() {
            return false;
        }
        for text in &heard {
            push_user_text(&mut progress.session.messages, text);
        }
        // Saved before it is said to be heard: a run stopped now resumes a conversation that
        // has it.
        self.save(&progress.session).await;
        for text in heard {
            self.emit(AgentEvent::Heard { text }).await;
        }
        true
    }

    async fn save(&self, session: &SavedSession) {
        // The conversation is kept on disk: secrets in it (a key the model repeated, a tool's
        // output) are redacted first. A resumed session sees the markers, not the values.
        let kept = self.request.confine.scrub(session);
        if let Err(e) = session::save(&self.request.data_dir, &kept).await {
            tracing::warn!("the session cannot be resumed later: {e}");
        }
    }

    async fn emit(&self, event: AgentEvent) {
        // The reader may be gone (dropping the handle does not stop the run).
        let _ = self.events.send(event).await;
    }
}
