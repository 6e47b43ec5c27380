//! The `command` backend: any other agent CLI (aider, gemini, opencode…) from a command template.
//!
//! The template is run by `/bin/sh -c` in the worktree, with `{prompt}` (the prompt, shell-quoted),
//! `{prompt_file}` (a file holding the prompt, shell-quoted path), `{model}` and `{dir}` replaced.
//! Standard output becomes `Text` events, one per line, with `STATUS:` and `QUESTION:` lines
//! recognised; exit status 0 is success. Such CLIs report no usage, so none is recorded.

use crate::event::{AgentEvent, Outcome, RunHandle, RunRequest};
use crate::lines::classify_line;
use crate::registry::{AgentBackend, AgentError};
use gaffer_proc::{CommandSpec, Termination};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A configured command agent.
#[derive(Debug, Clone)]
pub struct CommandBackend {
    template: String,
    env: Vec<(String, String)>,
}

impl CommandBackend {
    pub fn new(template: impl Into<String>, env: Vec<(String, String)>) -> Self {
        Self {
            template: template.into(),
            env,
        }
    }
}

/// Quotes `s` for `sh`: single quotes, with embedded ones closed and escaped.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The command line for one run.
fn render(template: &str, request: &RunRequest, prompt_file: &std::path::Path) -> String {
    template
        .replace(
            "{prompt_file}",
            &shell_quote(&prompt_file.display().to_string()),
        )
        .replace("{prompt}", &shell_quote(&request.prompt))
        .replace("{model}", &shell_quote(&request.model))
        .replace(
            "{dir}",
            &shell_quote(&request.worktree.display().to_string()),
        )
}

impl AgentBackend for CommandBackend {
    fn backend(&self) -> &str {
        "command"
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        std::fs::create_dir_all(&request.data_dir).map_err(|e| AgentError::Start(e.to_string()))?;
        let prompt_file = request.data_dir.join("prompt.txt");
        let full_prompt = if request.system_prompt.is_empty() {
            request.prompt.clone()
        } else {
            format!("{}\n\n{}", request.system_prompt, request.prompt)
        };
        std::fs::write(&prompt_file, &full_prompt).map_err(|e| AgentError::Start(e.to_string()))?;
        let line = render(&self.template, &request, &prompt_file);
        let spec = CommandSpec::shell(&line, &request.worktree)
            .envs(self.env.iter().cloned())
            .envs(request.env.iter().cloned())
            .timeout(request.max_wall)
            .tail_bytes(16 * 1024);
        let mut process = gaffer_proc::spawn_lines(&spec, cancel)
            .map_err(|e| AgentError::Start(e.to_string()))?;
        let identity = process.identity.clone();
        let (tx, rx) = mpsc::channel(256);
        let model = request.model.clone();
        tokio::spawn(async move {
            let _ = tx
                .send(AgentEvent::Started {
                    model,
                    session_id: None,
                })
                .await;
            let mut last = String::new();
            while let Some(line) = process.lines.recv().await {
                if line.trim().is_empty() {
                    continue;
                }
                last = line.clone();
                let _ = tx.send(classify_line(&line)).await;
            }
            let outcome = match process.wait().await {
                Ok(done) => {
                    let error = match done.termination {
                        Termination::Exited(0) => None,
                        Termination::Exited(code) => Some(format!(
                            "the agent exited with status {code}: {}",
                            done.tail.trim()
                        )),
                        Termination::Signaled(sig) => {
                            Some(format!("the agent was killed by signal {sig}"))
                        }
                        Termination::TimedOut => Some("the agent ran out of time".to_string()),
                        Termination::Cancelled => Some("cancelled".to_string()),
                    };
                    Outcome {
                        success: error.is_none(),
                        turns: 1,
                        error,
                        final_text: last,
                        ..Outcome::default()
                    }
                }
                Err(e) => Outcome {
                    error: Some(e.to_string()),
                    ..Outcome::default()
                },
            };
            let _ = tx.send(AgentEvent::Finished { outcome }).await;
        });
        Ok(RunHandle {
            events: rx,
            process: Some(identity),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn request(dir: &std::path::Path) -> RunRequest {
        RunRequest {
            role: gaffer_core::Role::Coder,
            prompt: "it's a test".into(),
            system_prompt: String::new(),
            worktree: dir.to_path_buf(),
            model: "m1".into(),
            resume_session: None,
            env: vec![("GAFFER_TASK".into(), "7".into())],
            max_wall: Duration::from_secs(20),
            script_key: String::new(),
            attempt: 0,
            data_dir: dir.join(".data"),
            run_dir: dir.join(".run"),
        }
    }

    async fn drain(mut handle: RunHandle) -> Vec<AgentEvent> {
        let mut out = vec![];
        while let Some(e) = handle.events.recv().await {
            out.push(e);
        }
        out
    }

    #[tokio::test]
    async fn the_template_runs_with_quoted_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let backend = CommandBackend::new(
            "printf '%s\\n' {prompt} > out.txt; echo STATUS: working; cat {prompt_file} | wc -c; echo model={model} task=$GAFFER_TASK",
            vec![],
        );
        let events = drain(
            backend
                .start(request(dir.path()), CancellationToken::new())
                .unwrap(),
        )
        .await;
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
            "it's a test\n"
        );
        assert!(events.contains(&AgentEvent::Status {
            text: "working".into()
        }));
        match events.last() {
            Some(AgentEvent::Finished { outcome }) => {
                assert!(outcome.success, "{outcome:?}");
                assert_eq!(outcome.final_text, "model=m1 task=7");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failing_command_fails_the_run_with_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let backend = CommandBackend::new("echo nope >&2; exit 3", vec![]);
        let events = drain(
            backend
                .start(request(dir.path()), CancellationToken::new())
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
                        .contains("status 3: nope")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn cancel_stops_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let handle = CommandBackend::new("sleep 30", vec![])
            .start(request(dir.path()), cancel.clone())
            .unwrap();
        let id = handle.process.clone().unwrap();
        cancel.cancel();
        let events = drain(handle).await;
        assert!(
            matches!(events.last(), Some(AgentEvent::Finished { outcome }) if !outcome.success)
        );
        assert!(!gaffer_proc::is_alive(&id));
    }
}
