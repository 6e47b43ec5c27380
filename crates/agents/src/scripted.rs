//! The `scripted` backend: an agent that edits files from a script instead of asking a model.
//!
//! It is what `gaffer demo` runs and what tests use to drive the whole pipeline deterministically.
//! A script is a list of task entries, each matched by a substring of the run's script key (the
//! task's title); each entry lists attempts, one per run of that task, the last one repeating.

use crate::event::{AgentEvent, Outcome, RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use gaffer_core::Usage;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A whole script.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(default, rename = "task")]
    pub tasks: Vec<ScriptTask>,
}

/// What the agent does for runs whose script key contains `matches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptTask {
    #[serde(rename = "match")]
    pub matches: String,
    #[serde(rename = "attempt")]
    pub attempts: Vec<ScriptAttempt>,
}

/// One run's worth of actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptAttempt {
    /// Wait this long before acting (to make a run observable, or to crash-test one).
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub actions: Vec<ScriptAction>,
    /// The closing message (the handoff summary).
    #[serde(default)]
    pub summary: String,
}

/// One step of an attempt. Paths are relative to the worktree and may not leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ScriptAction {
    Write {
        write: String,
        content: String,
    },
    Append {
        append: String,
        content: String,
    },
    Replace {
        replace: String,
        from: String,
        to: String,
    },
    Delete {
        delete: String,
    },
    Status {
        status: String,
    },
    Say {
        say: String,
    },
    Question {
        question: String,
    },
    Fail {
        fail: String,
    },
    Sleep {
        sleep_ms: u64,
    },
    /// The agent's next turn, where a person's message reaches it: waits up to `listen_ms`
    /// for one (or takes those already sent) and hears them. A run whose attempt has a
    /// `listen` action has an inbox; it takes messages until its last action is done.
    Listen {
        listen_ms: u64,
    },
}

impl Script {
    /// Reads a script from TOML (`.toml`) or JSON (anything else).
    pub fn load(path: &Path) -> Result<Script, AgentError> {
        let err = |message: String| AgentError::Script {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| err(e.to_string()))
        } else {
            serde_json::from_str(&text).map_err(|e| err(e.to_string()))
        }
    }

    fn attempt_for(&self, key: &str, attempt: u32) -> Option<&ScriptAttempt> {
        let task = self.tasks.iter().find(|t| key.contains(&t.matches))?;
        let last = task.attempts.len().checked_sub(1)?;
        task.attempts.get((attempt as usize).min(last))
    }
}

/// The backend itself.
#[derive(Debug, Clone)]
pub struct ScriptedBackend {
    script: Script,
}

/// The backend of a `scripted` agent: its script, relative to the repository root unless
/// absolute.
pub(crate) fn from_settings(
    own: &gaffer_config::ScriptedSettings,
    at: &crate::from_settings::Build<'_>,
) -> Result<ScriptedBackend, AgentError> {
    let path = if own.script.is_absolute() {
        own.script.clone()
    } else {
        at.root.join(&own.script)
    };
    Ok(ScriptedBackend::new(Script::load(&path)?))
}

impl ScriptedBackend {
    pub fn new(script: Script) -> Self {
        Self { script }
    }
}

impl AgentBackend for ScriptedBackend {
    fn backend(&self) -> &str {
        "scripted"
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        let attempt = self
            .script
            .attempt_for(&request.script_key, request.attempt)
            .cloned()
            .unwrap_or_else(|| ScriptAttempt {
                summary: format!(
                    "the script has no entry matching `{}`; nothing to do",
                    request.script_key
                ),
                ..ScriptAttempt::default()
            });
        let (tx, rx) = mpsc::channel(64);
        let listens = attempt
            .actions
            .iter()
            .any(|a| matches!(a, ScriptAction::Listen { .. }));
        let (inbox, mut messages) = match listens {
            true => {
                let (inbox, messages) = crate::Inbox::channel();
                (Some(inbox), Some(messages))
            }
            false => (None, None),
        };
        tokio::spawn(async move {
            let outcome = perform(&request, &attempt, &tx, &cancel, messages.as_mut()).await;
            // Messages sent after the last action are refused; those sent before and not
            // taken at a `listen` stay unheard.
            if let Some(messages) = messages.as_mut() {
                messages.close();
            }
            let _ = tx.send(AgentEvent::Finished { outcome }).await;
        });
        Ok(RunHandle {
            events: rx,
            process: None,
            inbox,
        })
    }
}

async fn perform(
    request: &RunRequest,
    attempt: &ScriptAttempt,
    tx: &mpsc::Sender<AgentEvent>,
    cancel: &CancellationToken,
    mut messages: Option<&mut mpsc::UnboundedReceiver<String>>,
) -> Outcome {
    let session_id = request.resume_session.clone().unwrap_or_else(|| {
        format!(
            "scripted-{}",
            std::process::id() as u64 * 1000 + u64::from(request.attempt)
        )
    });
    let _ = tx
        .send(AgentEvent::Started {
            model: request.model.clone(),
            session_id: Some(session_id.clone()),
        })
        .await;
    let mut usage = Usage {
        input_tokens: (request.prompt.len() / 4) as u64,
        ..Usage::default()
    };
    let fail = |error: String, usage: Usage| Outcome {
        success: false,
        turns: 1,
        usage,
        session_id: Some(session_id.clone()),
        error: Some(error),
        final_text: String::new(),
        earlier_answers: Vec::new(),
    };
    if !pause(attempt.delay_ms, cancel).await {
        return fail("cancelled".into(), usage);
    }
    'actions: for action in &attempt.actions {
        if let (ScriptAction::Listen { listen_ms }, Some(messages)) = (action, messages.as_mut()) {
            match listen(messages, *listen_ms, cancel).await {
                Some(heard) => {
                    for text in heard {
                        let _ = tx.send(AgentEvent::Heard { text }).await;
                    }
                    continue;
                }
                None => return fail("cancelled".into(), usage),
            }
        }
        let events = match apply(&request.worktree, action, cancel).await {
            Ok(events) => events,
            Err(error) => return fail(error, usage),
        };
        for event in events {
            if let AgentEvent::ToolCall { summary, .. } = &event {
                usage.output_tokens += (summary.len() / 4) as u64 + 1;
            }
            let question = matches!(event, AgentEvent::Question { .. });
            let _ = tx.send(event).await;
            if question {
                break 'actions;
            }
        }
    }
    let _ = tx.send(AgentEvent::Usage { usage }).await;
    Outcome {
        success: true,
        turns: 1,
        usage,
        session_id: Some(session_id),
        error: None,
        final_text: attempt.summary.clone(),
        earlier_answers: Vec::new(),
    }
}

/// The messages sent to the run: those already there, else the first to come within `ms` (and
/// any with it); none when none came. `None` when cancelled.
async fn listen(
    messages: &mut mpsc::UnboundedReceiver<String>,
    ms: u64,
    cancel: &CancellationToken,
) -> Option<Vec<String>> {
    let mut heard = Vec::new();
    if messages.is_empty() {
        tokio::select! {
            message = messages.recv() => heard.extend(message),
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = cancel.cancelled() => return None,
        }
    }
    while let Ok(text) = messages.try_recv() {
        heard.push(text);
    }
    Some(heard)
}

/// Sleeps unless cancelled first; false when cancelled.
async fn pause(ms: u64, cancel: &CancellationToken) -> bool {
    if ms == 0 {
        return !cancel.is_cancelled();
    }
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(ms)) => true,
        _ = cancel.cancelled() => false,
    }
}

/// Resolves a script path inside the worktree, refusing anything that would leave it.
fn confined(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let path = Path::new(rel);
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "refusing path `{rel}`: it must stay inside the worktree"
        ));
    }
    Ok(root.join(path))
}

/// Carries out one action; the events it stands for (text is classified like any agent's:
/// `STATUS:`, `QUESTION:` and `STUCK:` lines become their events).
async fn apply(
    root: &Path,
    action: &ScriptAction,
    cancel: &CancellationToken,
) -> Result<Vec<AgentEvent>, String> {
    let io = |rel: &str, e: std::io::Error| format!("{rel}: {e}");
    let tool = |name: &str, summary: String| {
        Ok(vec![AgentEvent::ToolCall {
            name: name.to_string(),
            summary,
        }])
    };
    match action {
        ScriptAction::Write { write, content } => {
            let path = confined(root, write)?;
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| io(write, e))?;
            }
            tokio::fs::write(&path, content)
                .await
                .map_err(|e| io(write, e))?;
            tool("write", format!("wrote {write} ({} bytes)", content.len()))
        }
        ScriptAction::Append { append, content } => {
            let path = confined(root, append)?;
            let mut text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
            text.push_str(content);
            tokio::fs::write(&path, text)
                .await
                .map_err(|e| io(append, e))?;
            tool("edit", format!("appended to {append}"))
        }
        ScriptAction::Replace { replace, from, to } => {
            let path = confined(root, replace)?;
            let text = tokio::fs::read_to_string(&path)
                .await
                .map_err(|e| io(replace, e))?;
            if !text.contains(from.as_str()) {
                return Err(format!("{replace}: the text to replace was not found"));
            }
            tokio::fs::write(&path, text.replacen(from.as_str(), to, 1))
                .await
                .map_err(|e| io(replace, e))?;
            tool("edit", format!("edited {replace}"))
        }
        ScriptAction::Delete { delete } => {
            let path = confined(root, delete)?;
            tokio::fs::remove_file(&path)
                .await
                .map_err(|e| io(delete, e))?;
            tool("delete", format!("deleted {delete}"))
        }
        ScriptAction::Status { status } => Ok(vec![AgentEvent::Status {
            text: status.clone(),
        }]),
        ScriptAction::Say { say } => Ok(crate::lines::classify_text(say)),
        ScriptAction::Question { question } => Ok(vec![AgentEvent::Question {
            text: question.clone(),
        }]),
        ScriptAction::Fail { fail } => Err(fail.clone()),
        // Taken in `perform`, where the run's messages are.
        ScriptAction::Listen { .. } => Ok(Vec::new()),
        ScriptAction::Sleep { sleep_ms } => {
            if pause(*sleep_ms, cancel).await {
                Ok(Vec::new())
            } else {
                Err("cancelled".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::Role;

    fn request(dir: &Path, key: &str, attempt: u32) -> RunRequest {
        RunRequest {
            role: Role::Coder,
            prompt: "do it".into(),
            system_prompt: String::new(),
            worktree: dir.to_path_buf(),
            model: "script".into(),
            resume_session: None,
            env: vec![],
            max_wall: Duration::from_secs(10),
            script_key: key.into(),
            attempt,
            data_dir: dir.join(".agent-data"),
            run_dir: dir.join(".agent-run"),
            confine: Default::default(),
        }
    }

    async fn drain(mut handle: RunHandle) -> Vec<AgentEvent> {
        let mut out = vec![];
        while let Some(e) = handle.events.recv().await {
            out.push(e);
        }
        out
    }

    const SCRIPT: &str = r#"
        [[task]]
        match = "greet"
        [[task.attempt]]
        actions = [{ write = "a/b.txt", content = "one" }, { status = "half way" }]
        [[task.attempt]]
        actions = [{ replace = "a/b.txt", from = "one", to = "two" }, { question = "why?" }, { say = "never" }]
        [[task]]
        match = "escape"
        [[task.attempt]]
        actions = [{ write = "../out.txt", content = "x" }]
    "#;

    #[tokio::test]
    async fn attempts_apply_in_order_and_the_last_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let script: Script = toml::from_str(SCRIPT).unwrap();
        let backend = ScriptedBackend::new(script);
        let events = drain(
            backend
                .start(request(dir.path(), "#1 greet", 0), CancellationToken::new())
                .unwrap(),
        )
        .await;
        assert!(matches!(events.last(), Some(AgentEvent::Finished { outcome }) if outcome.success));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/b.txt")).unwrap(),
            "one"
        );
        let events = drain(
            backend
                .start(request(dir.path(), "#1 greet", 5), CancellationToken::new())
                .unwrap(),
        )
        .await;
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/b.txt")).unwrap(),
            "two"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, AgentEvent::Question { .. }))
        );
        assert!(
            !events.iter().any(|e| matches!(e, AgentEvent::Text { .. })),
            "stops at a question"
        );
    }

    #[tokio::test]
    async fn paths_outside_the_worktree_fail_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let backend = ScriptedBackend::new(toml::from_str(SCRIPT).unwrap());
        let events = drain(
            backend
                .start(
                    request(&dir.path().join("wt"), "escape", 0),
                    CancellationToken::new(),
                )
                .unwrap(),
        )
        .await;
        match events.last() {
            Some(AgentEvent::Finished { outcome }) => {
                assert!(!outcome.success);
                assert!(
                    outcome
                        .error
                        .as_deref()
                        .unwrap_or("")
                        .contains("inside the worktree")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(!dir.path().join("out.txt").exists());
    }

    #[tokio::test]
    async fn cancel_ends_a_slow_run() {
        let dir = tempfile::tempdir().unwrap();
        let script = Script {
            tasks: vec![ScriptTask {
                matches: "slow".into(),
                attempts: vec![ScriptAttempt {
                    delay_ms: 60_000,
                    ..ScriptAttempt::default()
                }],
            }],
        };
        let cancel = CancellationToken::new();
        let handle = ScriptedBackend::new(script)
            .start(request(dir.path(), "slow", 0), cancel.clone())
            .unwrap();
        cancel.cancel();
        let events = drain(handle).await;
        assert!(
            matches!(events.last(), Some(AgentEvent::Finished { outcome }) if !outcome.success)
        );
    }
}
