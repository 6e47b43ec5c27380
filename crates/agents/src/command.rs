//! The `command` backend: any other agent CLI (aider, gemini, opencode…) from a command template.
//!
//! The template is run by `/bin/sh -c` in the worktree. Four placeholders are replaced, in the
//! template only and in one pass (so text inside the prompt that looks like a placeholder stays
//! as written): `{prompt}` (the prompt, shell-quoted), `{prompt_file}` (the shell-quoted path of
//! a file holding the same prompt), `{model}` and `{dir}` (the worktree). Both prompt
//! placeholders carry the whole prompt: the role's instructions (the system prompt), a blank
//! line, then the task's prompt with its feedback. The prompt file lives in the run's own
//! directory (`RunRequest::run_dir`), so concurrent runs of one agent never read each other's.
//! Standard output becomes `Text` events, one per line, with `STATUS:` and `QUESTION:` lines
//! recognised; exit status 0 is success. Such CLIs report no usage, so none is recorded.

use crate::event::{AgentEvent, Outcome, RunHandle, RunRequest};
use crate::lines::classify_line;
use crate::registry::{AgentBackend, AgentError};
use gaffer_proc::{CommandSpec, Termination};
use std::path::Path;
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

/// The backend of a `command` agent. Its runs start from a minimal environment: the key it
/// names is passed on, alone.
pub(crate) fn from_settings(
    own: &gaffer_config::CommandSettings,
    at: &crate::from_settings::Build<'_>,
) -> CommandBackend {
    let mut env = crate::from_settings::env_pairs(&own.credentials);
    if let (Some(var), Some(key)) = (&own.credentials.api_key_env, at.api_key(&own.credentials)) {
        env.push((var.clone(), key));
    }
    CommandBackend::new(own.command.clone(), env)
}

/// Quotes `s` for `sh`: single quotes, with embedded ones closed and escaped.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The whole prompt a command agent receives: the instructions, then the task.
fn full_prompt(request: &RunRequest) -> String {
    if request.system_prompt.is_empty() {
        request.prompt.clone()
    } else {
        format!("{}\n\n{}", request.system_prompt, request.prompt)
    }
}

/// The command line for one run: each placeholder of the template replaced once, left to right;
/// replaced text is never looked at again, and unknown `{…}` stay as written.
fn render(template: &str, prompt: &str, request: &RunRequest, prompt_file: &Path) -> String {
    let mut out = String::with_capacity(template.len() + prompt.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match PLACEHOLDERS.iter().find(|name| after.starts_with(**name)) {
            Some(&name) => {
                out.push_str(&shell_quote(&match name {
                    "{prompt_file}" => prompt_file.display().to_string(),
                    "{prompt}" => prompt.to_string(),
                    "{model}" => request.model.clone(),
                    _ => request.worktree.display().to_string(),
                }));
                rest = &after[name.len()..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a template may hold (`{prompt_file}` before `{prompt}`: prefixes).
const PLACEHOLDERS: [&str; 4] = ["{prompt_file}", "{prompt}", "{model}", "{dir}"];

impl AgentBackend for CommandBackend {
    fn backend(&self) -> &str {
        "command"
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        let start_error = |what: &str, e: std::io::Error| AgentError::Start(format!("{what}: {e}"));
        std::fs::create_dir_all(&request.run_dir)
            .map_err(|e| start_error(&format!("creating {}", request.run_dir.display()), e))?;
        let prompt_file = request.run_dir.join("prompt.txt");
        let prompt = full_prompt(&request);
        std::fs::write(&prompt_file, &prompt)
            .map_err(|e| start_error(&format!("writing {}", prompt_file.display()), e))?;
        let line = render(&self.template, &prompt, &request, &prompt_file);
        let spec = CommandSpec::shell(&line, &request.worktree)
            .envs(self.env.iter().cloned())
            .envs(request.env.iter().cloned())
            .timeout(request.max_wall)
            .tail_bytes(16 * 1024);
        let spec = request
            .confine
            .apply(spec)
            .map_err(|e| AgentError::Start(e.to_string()))?;
        let mut process = gaffer_proc::spawn_lines(&spec, cancel)
            .map_err(|e| AgentError::Start(e.to_string()))?;
        let identity = process.identity.clone();
        let relays = request
            .confine
            .start_relays(std::mem::take(&mut process.listeners));
        let (tx, rx) = mpsc::channel(256);
        let model = request.model.clone();
        tokio::spawn(async move {
            // The run's network lives as long as its process.
            let _relays = relays;
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
            inbox: None,
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

    #[test]
    fn placeholders_are_replaced_in_the_template_only() {
        let mut req = request(std::path::Path::new("/w"));
        req.prompt = "use {dir} and {model} and {prompt_file} and {prompt} as written".into();
        let prompt = full_prompt(&req);
        let line = render(
            "agent --model {model} --in {dir} -f {prompt_file} -m {prompt} {unknown} {",
            &prompt,
            &req,
            Path::new("/r/prompt.txt"),
        );
        assert_eq!(
            line,
            "agent --model 'm1' --in '/w' -f '/r/prompt.txt' \
             -m 'use {dir} and {model} and {prompt_file} and {prompt} as written' {unknown} {"
        );
    }

    #[test]
    fn both_prompt_placeholders_carry_the_instructions_and_the_task() {
        let mut req = request(std::path::Path::new("/w"));
        req.system_prompt = "You are the coder.".into();
        assert_eq!(full_prompt(&req), "You are the coder.\n\nit's a test");
    }

    #[tokio::test]
    async fn the_prompt_file_holds_what_prompt_holds() {
        let dir = tempfile::tempdir().unwrap();
        let mut req = request(dir.path());
        req.system_prompt = "Instructions {model}.".into();
        let backend = CommandBackend::new(
            "printf '%s' {prompt} > a.txt; cp {prompt_file} b.txt",
            vec![],
        );
        drain(backend.start(req, CancellationToken::new()).unwrap()).await;
        let a = std::fs::read_to_string(dir.path().join("a.txt")).unwrap();
        assert_eq!(a, "Instructions {model}.\n\nit's a test");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.txt")).unwrap(),
            a
        );
        assert!(dir.path().join(".run/prompt.txt").exists());
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
