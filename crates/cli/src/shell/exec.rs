//! Carrying out commands: through the daemon's API when it runs (so the engine acts at once, as
//! `gaffer approve` does), else directly on the board. Reads come from the store.

use super::app::{App, Pane, PaneKind};
use super::command::{self, Command};
use super::report;
use crate::client::Client;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use gaffer_api::Action;
use gaffer_core::{NewTask, Task, TaskId};
use gaffer_engine::Board;
use tokio::runtime::Runtime;

/// An opened project, shared by the command runner and the live view.
pub struct Session<'a> {
    pub ctx: &'a Context,
    pub board: Board,
    pub rt: Runtime,
}

impl Session<'_> {
    /// A client for the daemon, when one runs.
    pub fn daemon(&self) -> Option<Client> {
        self.ctx
            .daemon(&self.board)
            .map(|client| client.sent_by("shell"))
    }

    /// Parses and runs one command line, reporting into `app` (a message or a pane).
    pub fn run_line(&self, app: &mut App, line: &str) {
        let command = match command::parse(line) {
            Ok(c) => c,
            Err(e) => return app.error(e),
        };
        if let Err(e) = self.run(app, command) {
            app.error(describe(&e));
        }
    }

    fn run(&self, app: &mut App, command: Command) -> CliResult<()> {
        match command {
            Command::Task(new) => {
                let task = self.add(*new)?;
                let later = if self.daemon().is_none() {
                    " — no daemon runs: `gaffer up` starts the work"
                } else {
                    ""
                };
                app.info(format!(
                    "added task {}: {} ({}){later}",
                    task.id, task.title, task.branch
                ));
                app.select(task.id);
            }
            Command::Status => {
                let url = self.daemon().map(|c| c.url(""));
                let lines = report::status(&self.board, url.as_deref())?;
                app.open_pane(Pane::new("status", lines, PaneKind::Text));
            }
            Command::Show(id) => self.open(app, TaskId(id))?,
            Command::Diff(id) => {
                let lines = report::diff(&self.board, TaskId(id))?;
                if lines.is_empty() {
                    app.info(format!("task {id} has no change yet"));
                } else {
                    app.open_pane(Pane::new(format!("diff #{id}"), lines, PaneKind::Diff));
                }
            }
            Command::Log(id) => {
                let lines = report::log(&self.board, TaskId(id))?;
                app.open_pane(Pane::new(format!("log #{id}"), lines, PaneKind::Text));
            }
            Command::Pending => {
                let lines = report::pending(&self.board)?;
                app.open_pane(Pane::new("waiting for a person", lines, PaneKind::Text));
            }
            Command::Usage => {
                let lines = report::usage(&self.board)?;
                app.open_pane(Pane::new("usage", lines, PaneKind::Text));
            }
            Command::Help => {
                app.open_pane(Pane::new("help", command::help(), PaneKind::Text));
            }
            Command::Quit => app.quit = true,
            Command::Scale(n) => {
                let Some(client) = self.daemon() else {
                    return Err(CliError::new(
                        Kind::Daemon,
                        "no daemon runs, so there is nothing to scale",
                    )
                    .hint(format!(
                        "`gaffer up` starts it (`--set engine.concurrency={n}` to start at {n})"
                    )));
                };
                let scaled: serde_json::Value = self.rt.block_on(client.post(
                    gaffer_api::paths::SCALE,
                    &serde_json::json!({ "concurrency": n }),
                ))?;
                let now = scaled["concurrency"].as_u64().unwrap_or(n as u64);
                app.info(format!("up to {now} agents now run at once"));
            }
            Command::Approve(id) => self.act(app, id, Action::Approve)?,
            Command::Retry { id, fresh } => self.act(app, id, Action::Retry { fresh })?,
            Command::Reject { id, reason, cancel } => {
                self.act(app, id, Action::Reject { reason, cancel })?
            }
            Command::Answer { id, text } => self.act(app, id, Action::Answer { text })?,
            Command::Say { id, text } => self.act(app, id, Action::Say { text })?,
            Command::Attach(id) => {
                let attached = crate::commands::attach_task(
                    &self.board,
                    self.daemon(),
                    &self.rt,
                    id,
                    "shell",
                )?;
                let lines = crate::commands::attached_lines(&attached)
                    .iter()
                    .map(|l| in_shell_words(l))
                    .collect();
                app.open_pane(Pane::new(
                    format!("task #{id} in your hands"),
                    lines,
                    PaneKind::Text,
                ));
                app.select(attached.task.id);
            }
            Command::Release(id) => self.act(app, id, Action::Release)?,
            Command::Cancel { id, reason } => self.act(
                app,
                id,
                Action::Cancel {
                    reason: Some(reason),
                },
            )?,
            Command::Accept(id) => self.act(app, id, Action::Accept)?,
            Command::Decline { id, reason } => self.act(app, id, Action::Decline { reason })?,
            Command::Budget { id, usd } => self.act(app, id, Action::Budget { usd })?,
            Command::Move { id, to } => self.act(app, id, Action::Move { to })?,
            Command::Revert(id) => {
                let task = crate::commands::perform(
                    &self.board,
                    self.daemon(),
                    &self.rt,
                    id,
                    Action::Revert,
                    "shell",
                )?;
                app.info(format!(
                    "task {} reverts task {id}: {} — it lands through verify and the queue",
                    task.id,
                    task.status()
                ));
                app.select(task.id);
            }
            Command::Edit { id, changes } => {
                let task: Task = match self.daemon() {
                    Some(client) => self
                        .rt
                        .block_on(client.patch(&gaffer_api::paths::task(id), &changes))?,
                    None => self.board.edit_task(TaskId(id), changes)?,
                };
                let deps: Vec<String> = task.blocked_by.iter().map(|d| d.to_string()).collect();
                app.info(format!(
                    "task {}: {}{}",
                    task.id,
                    task.status(),
                    if deps.is_empty() {
                        String::new()
                    } else {
                        format!(", after {}", deps.join(", "))
                    }
                ));
                app.select(task.id);
            }
        }
        Ok(())
    }

    /// Opens a task's whole detail in a pane.
    pub fn open(&self, app: &mut App, id: TaskId) -> CliResult<()> {
        let lines = report::show(&self.board, id)?;
        app.open_pane(Pane::new(format!("task #{id}"), lines, PaneKind::Text));
        app.select(id);
        Ok(())
    }

    fn add(&self, new: NewTask) -> CliResult<Task> {
        match self.daemon() {
            Some(client) => self
                .rt
                .block_on(client.post(gaffer_api::paths::TASKS, &new)),
            None => Ok(self.board.add_task(new)?),
        }
    }

    fn act(&self, app: &mut App, id: i64, action: Action) -> CliResult<()> {
        let task =
            crate::commands::perform(&self.board, self.daemon(), &self.rt, id, action, "shell")?;
        let later = if self.daemon().is_none() {
            " — no daemon runs: `gaffer up` carries it on"
        } else {
            ""
        };
        app.info(format!("task {}: {}{later}", task.id, task.status()));
        app.select(task.id);
        Ok(())
    }
}

/// An error as one line: the message, then the hint in the shell's own words.
pub fn describe(e: &CliError) -> String {
    match &e.hint {
        Some(hint) => format!("{} (hint: {})", e.message, in_shell_words(hint)),
        None => e.message.clone(),
    }
}

/// A hint written for the command line or the API, as the shell says it: `` `gaffer answer 3
/// TEXT` `` becomes `` `/answer 3 TEXT` `` where the shell has that command, and an API route
/// given beside its command (`GET /api/tasks (`gaffer task list`)`) is left out.
pub fn in_shell_words(hint: &str) -> String {
    let mut out = String::with_capacity(hint.len());
    let mut rest = hint;
    while let Some(start) = rest.find("`gaffer ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "`gaffer ".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        // `gaffer task list` and `gaffer task show` are the shell's `/status` and `/show`.
        let shell = match (name.as_str(), after) {
            ("task", a) if a.starts_with("task list") => Some(("status", "task list".len())),
            ("task", a) if a.starts_with("task show") => Some(("show", "task show".len())),
            (n, _) if n != "task" && super::command::spec(n).is_some() => Some((n, n.len())),
            _ => None,
        };
        match shell {
            Some((command, skip)) => {
                out.push_str("`/");
                out.push_str(command);
                rest = &after[skip..];
            }
            None => {
                out.push_str("`gaffer ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    without_routes(&out)
}

/// Leaves out `GET /api/… (` … `)` around a command: the shell's people have no use for the
/// route.
fn without_routes(text: &str) -> String {
    let mut out = text.to_string();
    for method in ["GET ", "POST ", "PATCH ", "DELETE "] {
        while let Some(start) = out.find(&format!("{method}/api/")) {
            let after = &out[start..];
            let Some(open) = after.find(" (") else { break };
            let inner = &after[open + 2..];
            let Some(close) = inner.find(')') else { break };
            let command = inner[..close].to_string();
            let end = start + open + 2 + close + 1;
            out.replace_range(start..end, &command);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::in_shell_words;

    #[test]
    fn hints_name_the_shell_s_commands_not_the_cli_s_or_the_api_s() {
        assert_eq!(
            in_shell_words("answer it with `gaffer answer 3 TEXT`"),
            "answer it with `/answer 3 TEXT`"
        );
        assert_eq!(
            in_shell_words("list the tasks with GET /api/tasks (`gaffer task list`)"),
            "list the tasks with `/status`"
        );
        assert_eq!(
            in_shell_words("to stop all work, use POST /api/shutdown (`gaffer down`)"),
            "to stop all work, use `gaffer down`"
        );
        // No such shell command: the CLI's stays.
        assert_eq!(in_shell_words("run `gaffer up`"), "run `gaffer up`");
        assert_eq!(in_shell_words("nothing to change"), "nothing to change");
    }
}
