//! A person takes a task over by hand (`gaffer attach`) and hands it back (`gaffer release`).
//!
//! Attaching is the machine's `attach` (the task is `attached`: its running work stops, and
//! neither the scheduler, the merge queue nor any job touches it until it is handed back), then
//! its worktree, made if it does not exist, and the command that resumes the session of its
//! last agent run by hand, with the environment its runs had (`AgentBackend::by_hand`).
//!
//! Releasing commits what the person left in the worktree, as theirs (the repository's
//! `user.name` and `user.email`); their own commits on the task branch count the same. Then the
//! machine's `hand_back` with the branch head goes on as after a coder's run: verify, review,
//! the queue. A branch with no change at all goes back to the coder instead.
//!
//! Only on a board of one daemon: on a shared board the task's branch lives on the remote, and
//! every job resets the branches it works on to the remote's, which would drop the person's
//! work; attach says so instead.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::{checkout_named, object_id, worktree_name};
use gaffer_api::{Attached, Resume};
use gaffer_core::{Input, Status, Task, TaskId};

/// Who a person's commit is by when the repository configures nobody.
const SOMEONE: &str = "a person <person@gaffer.invalid>";

impl Board {
    /// Takes task `id` over for `who`: see the module's doc. A task already attached is left
    /// as it is, and the answer says again where to work on it.
    pub fn attach(&self, id: TaskId, who: &str) -> Result<Attached> {
        if self.shared {
            return Err(EngineError::Refused {
                message: format!(
                    "task {id} cannot be attached on a shared board: its branch lives on the \
                     remote, and the daemons' jobs reset it to the remote's"
                ),
                hint: "check out its branch in a clone of your own, commit and push there, or \
                       tell its agent what to do (`gaffer say`)"
                    .into(),
            });
        }
        if self.task(id)?.status() != Status::Attached {
            self.act(id, Input::Attach, who)?;
        }
        let task = self.task(id)?;
        let worktree = checkout_named(
            self,
            &worktree_name(&task),
            &task.branch,
            task.state.head.clone(),
        )?;
        Ok(Attached {
            worktree: worktree.display().to_string(),
            branch: task.branch.clone(),
            resume: self.resume_by_hand(&task)?,
            task,
        })
    }

    /// How to go on by hand with the session of the task's last agent run that had one.
    fn resume_by_hand(&self, task: &Task) -> Result<Option<Resume>> {
        let runs = self.store.runs(task.id)?;
        let Some((run, session)) = runs
            .iter()
            .rev()
            .find_map(|r| Some((r, r.session_id.clone()?)))
        else {
            return Ok(None);
        };
        // An agent no longer configured has no command to give.
        let Ok(agent) =
            crate::registry::agent_by_name(&self.settings, &self.root, &run.agent, None)
        else {
            return Ok(None);
        };
        let data_dir = self.paths.agent_task_dir(&run.agent, task.id);
        Ok(agent
            .backend
            .by_hand(&session, &data_dir)
            .map(|hand| Resume {
                agent: run.agent.clone(),
                backend: run.backend.clone(),
                session,
                command: hand.shell_line(),
            }))
    }

    /// Hands task `id` back for `who`: what the person left is committed, and the task goes on.
    pub fn release(&self, id: TaskId, who: &str) -> Result<Task> {
        let task = self.task(id)?;
        if task.status() != Status::Attached {
            return Err(EngineError::Refused {
                message: format!(
                    "task {id} is not attached (it is {}): there is nothing to hand back",
                    task.status()
                ),
                hint: format!("`gaffer attach {id}` takes a task over by hand first"),
            });
        }
        let env = self.git.env();
        let worktree = checkout_named(
            self,
            &worktree_name(&task),
            &task.branch,
            task.state.head.clone(),
        )?;
        let refused = |message: String, hint: &str| EngineError::Refused {
            message,
            hint: hint.to_string(),
        };
        let on = gaffer_git::branch_of(&worktree, env)?;
        if on.as_deref() != Some(task.branch.as_str()) {
            return Err(refused(
                format!(
                    "the worktree {} is on {}, not on the task's branch {}",
                    worktree.display(),
                    on.unwrap_or_else(|| "no branch".into()),
                    task.branch
                ),
                "check the task's branch out again there (your commits elsewhere do not count), \
                 then release it",
            ));
        }
        let unresolved = gaffer_git::unresolved_conflicts(&worktree, env)?;
        if !unresolved.is_empty() || gaffer_git::merge_in_progress(&worktree, env)? {
            return Err(refused(
                format!(
                    "the worktree {} has a merge in progress{}",
                    worktree.display(),
                    if unresolved.is_empty() {
                        String::new()
                    } else {
                        format!(" with conflicts in {}", unresolved.join(", "))
                    }
                ),
                "finish or abort the merge (`git merge --abort`), then release it",
            ));
        }
        let author = gaffer_git::configured_author(&self.root, env)?;
        let message = format!(
            "{}\n\nWhat a person left in the task's worktree, committed by gaffer when they \
             handed it back.\n\nGaffer-Task: #{id}",
            task.title.trim()
        );
        let message = self.secrets.redact(&message).into_owned();
        gaffer_git::commit_all(
            &worktree,
            &message,
            author.as_deref().unwrap_or(SOMEONE),
            env,
        )?;
        let head = gaffer_git::head_of(&worktree, env)?;
        // The branch's whole change, from where it leaves the landing tip.
        let (tip, _) = self.landing()?.base(self)?;
        let base = self.git.merge_base(&tip, &head)?;
        let paths = match base {
            Some(base) if base != head => self.git.diff_stat(&base, &head)?,
            Some(_) => Vec::new(),
            None => vec![String::from("(unrelated history)")],
        };
        let input = Input::HandBack {
            head: (!paths.is_empty()).then(|| object_id(&head)),
            risk: crate::risk::for_paths(&self.settings, &paths),
        };
        self.act(id, input, who)?;
        self.task(id)
    }
}
