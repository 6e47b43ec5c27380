//! A project opened for work: its settings, repository and store, and what people do to tasks.

use crate::apply::{Applied, Extra, apply};
use crate::error::{EngineError, Result};
use crate::landing::Landing;
use crate::paths::StatePaths;
use crate::risk;
use crate::run_access::RunAccess;
use gaffer_config::Settings;
use gaffer_core::{
    Clock, Flow, Input, Limits, NewEvent, NewTask, Payload, Project, Status, Task, TaskId,
    TaskKind, TaskState, payload::TaskNotice,
};
use gaffer_git::{Git, Worktrees};
use gaffer_store::{NewProject, Store, TaskFilter};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// How to open a board beyond its settings (tests use these for a hermetic environment).
#[derive(Clone, Default)]
pub struct BoardOptions {
    /// Extra environment for every git command (tests: no user config, fixed dates).
    pub git_env: Vec<(String, String)>,
    /// The store's clock; the system clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
    /// Whether other daemons use this board's store; when `None`, the settings say (a board
    /// is shared when its store is a database others reach: `[store] url`).
    pub shared: Option<bool>,
    /// What every lease owner of this machine starts with; the daemon's
    /// ([`crate::daemon_prefix`] of its state directory) when `None`. A remote worker's is
    /// given by its token (`worker:<token id>:…`).
    pub owner_prefix: Option<String>,
    /// On a remote worker, the daemon, for what its store does not carry (`crate::worker`).
    pub remote: Option<Arc<dyn crate::worker::Remote>>,
    /// The project's key in the store, when another machine already named it (a remote
    /// worker works for the daemon's project, however its own clone names the remote).
    pub project_key: Option<String>,
}

impl BoardOptions {
    /// Opens the board as shared with other daemons (or not), whatever the settings say.
    pub fn shared(mut self, yes: bool) -> BoardOptions {
        self.shared = Some(yes);
        self
    }
}

/// One project: everything the engine, the server and the CLI share. Its parts are private:
/// other crates read them through the accessors and queries of `board_read.rs`, and change
/// tasks only through its actions.
pub struct Board {
    pub(crate) settings: Settings,
    pub(crate) paths: StatePaths,
    /// The repository's main worktree here (on a shared board the project's stored root is
    /// its remote, the same for every daemon).
    pub(crate) root: std::path::PathBuf,
    pub(crate) git: Git,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) project: Project,
    pub(crate) limits: Limits,
    /// Task worktrees under the state directory.
    pub(crate) worktrees: Worktrees,
    /// The tokens of running agents, which the API accepts for their own task's reports.
    pub(crate) run_access: RunAccess,
    /// The secrets never to store or show; the store redacts every write with them.
    pub(crate) secrets: Arc<crate::secrets::Secrets>,
    /// Other daemons may use this board's store: code moves only through the remote, the
    /// merge queue needs its lease, recovery touches only this daemon's jobs.
    pub(crate) shared: bool,
    /// The owner prefix of this daemon (see `owner.rs`).
    pub(crate) owner_prefix: String,
    /// On a remote worker, the daemon (see [`BoardOptions::remote`]).
    pub(crate) remote: Option<Arc<dyn crate::worker::Remote>>,
    /// One exchange with the remote at a time: concurrent fetches into the same tracking refs
    /// would fight over their locks.
    pub(crate) remote_lock: std::sync::Mutex<()>,
    /// One revert at a time (`revert.rs`): two of one task would both find it not reverted.
    pub(crate) revert_lock: std::sync::Mutex<()>,
    /// Where the engine's time goes, by phase (`phases.rs`; read by the benchmarks).
    pub(crate) phases: crate::phases::PhaseTimes,
    /// How the merge queue's recent branches ended (for `queue.batch = "auto"`), read from the
    /// event log as it grows (`queue.rs`).
    pub(crate) queue_outcomes: std::sync::Mutex<crate::queue::Outcomes>,
    /// The agent runs going on here that take a person's message at their next turn.
    pub(crate) listening: Arc<crate::listening::Listening>,
}

/// What identifies the project in the store: its repository's main worktree; on a shared board,
/// where every daemon has a clone of its own, the URL of `project.remote` (every daemon must
/// name the remote by the same URL).
pub fn project_key(git: &Git, settings: &Settings, root: &Path, shared: bool) -> Result<String> {
    match (&settings.project.remote, shared) {
        (Some(remote), true) => Ok(remote_key(&git.remote_url(remote)?)),
        // Refused when the engine starts (`Board::check_shared`): readers may still look.
        _ => Ok(root.display().to_string()),
    }
}

/// A remote's URL as the project's key: without credentials (`https://user:token@host/…` is a
/// common way to give CI push rights, and the key is stored and shown), a trailing `/` or `.git`.
fn remote_key(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    // `user[:password]@` before the host; an scp-like `git@host:path` has no scheme.
    let rest = match (scheme, rest.split_once('@')) {
        (Some(_), Some((userinfo, host))) if !userinfo.contains('/') => host,
        (None, Some((user, host))) if !user.contains(['/', ':']) => host,
        _ => rest,
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    match scheme {
        Some(scheme) => format!("{scheme}://{rest}"),
        None => rest.to_string(),
    }
}

/// A remote's URL without the secrets it may carry, to hand to another machine: over HTTP(S)
/// the whole `user[:password]@` goes (a token is often the user), elsewhere (`ssh://git@host`)
/// only a password; an scp-like `git@host:path` carries none.
pub(crate) fn without_credentials(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        return format!("{scheme}://{host}{path}");
    }
    let user = userinfo.split(':').next().unwrap_or_default();
    format!("{scheme}://{user}@{host}{path}")
}

/// A task's `needs:` labels name machine labels: refused now, with a hint, when one could never
/// be a machine's (rather than failing every start of the task later).
pub(crate) fn check_needs(labels: &[String]) -> Result<()> {
    let needs = gaffer_core::needs_of(labels);
    let blank = labels.iter().any(|l| {
        l.strip_prefix(gaffer_core::NEEDS_PREFIX)
            .is_some_and(|n| n.trim().is_empty())
    });
    match gaffer_store::rules::input::needs(&needs) {
        Ok(_) if !blank => Ok(()),
        Ok(_) => Err(EngineError::InvalidInput {
            message: "a `needs:` label names no machine label".to_string(),
            hint: "write needs:<label>, e.g. --needs gpu".to_string(),
        }),
        Err(e) => Err(EngineError::InvalidInput {
            message: format!("{e}"),
            hint: "a machine label is one word without spaces or commas, e.g. --needs gpu \
                   (repeat --needs for several)"
                .to_string(),
        }),
    }
}

/// The project is the repository, whichever of its worktrees gaffer runs in: its main worktree
/// (listed first by git) names it.
pub fn main_worktree(git: &Git) -> Result<std::path::PathBuf> {
    Ok(git
        .worktrees()?
        .into_iter()
        .find(|w| !w.bare)
        .map(|w| w.path)
        .unwrap_or_else(|| git.top_level().to_path_buf()))
}

/// The board at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub project: Project,
    pub landing: Landing,
    pub counts: Vec<(Status, usize)>,
    pub tasks: Vec<Task>,
    /// Whether runs are confined, and how (said loudly on every surface when they are not).
    pub sandbox: SandboxReport,
}

/// How the processes of a task are confined on this host.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxReport {
    pub confined: bool,
    pub description: String,
}

impl Board {
    /// Opens the project whose repository contains `dir`, creating its state directory and
    /// database on first use. The store is the one the settings choose ([`crate::store::open`]).
    pub fn open(dir: &Path, settings: Settings, options: BoardOptions) -> Result<Board> {
        Self::open_on(dir, settings, options, None)
    }

    /// [`Board::open`] on `store` instead of the store the settings choose (tests, tools that
    /// bring their own). Its writes still pass through the project's redactor.
    pub fn open_with_store(
        dir: &Path,
        settings: Settings,
        options: BoardOptions,
        store: Arc<dyn Store>,
    ) -> Result<Board> {
        Self::open_on(dir, settings, options, Some(store))
    }

    fn open_on(
        dir: &Path,
        settings: Settings,
        options: BoardOptions,
        store: Option<Arc<dyn Store>>,
    ) -> Result<Board> {
        let git = Git::open(dir)?.with_env(options.git_env.clone());
        let paths = StatePaths::resolve(&git, &settings);
        std::fs::create_dir_all(paths.root())
            .map_err(|e| EngineError::io(format!("creating {}", paths.root().display()), e))?;
        let store = match store {
            Some(store) => store,
            None => crate::store::open(&settings, &paths, options.clock)?,
        };
        let secrets = Arc::new(crate::secrets::Secrets::from_settings(&settings));
        let store: Arc<dyn Store> = Arc::new(crate::redacting_store::RedactingStore::new(
            store,
            Arc::clone(&secrets),
        ));
        let root = main_worktree(&git)?;
        let shared = options.shared.unwrap_or(settings.store.url.is_some());
        let key = match &options.project_key {
            Some(key) => key.clone(),
            None => project_key(&git, &settings, &root, shared)?,
        };
        if shared {
            // Claims, exhausted jobs and the event log are the whole store's: one board per
            // database schema, never two projects' work mixed.
            if let Some(other) = store.projects()?.into_iter().find(|p| p.root != key) {
                return Err(EngineError::InvalidInput {
                    message: format!(
                        "the board's database already holds another project's board ({}), not \
                         this one's ({key})",
                        other.root
                    ),
                    hint: "give each project a schema of its own ([store] schema = \"name\", or \
                           GAFFER_STORE__SCHEMA), or a database of its own; daemons of one project \
                           must name its remote by the same URL"
                        .to_string(),
                });
            }
        }
        let project = store.upsert_project(&NewProject {
            name: settings.project.name.clone(),
            root: key,
            target: settings.project.target.clone(),
        })?;
        let limits = Limits {
            failures_per_tier: settings.limits.verify_failures_per_tier,
            tiers: u32::try_from(settings.roles.coder.len())
                .unwrap_or(1)
                .max(1),
            review_rounds: settings.limits.review_rounds,
            plan_rounds: settings.limits.plan_rounds,
            merge_attempts: settings.limits.merge_attempts,
            skip_identical_candidates: settings.verify.skip_identical_candidates,
        }
        .sanitized();
        let worktrees = Worktrees::new(
            git.clone(),
            paths.worktrees(),
            settings.engine.worktree_pool,
        );
        let worktrees = if settings.engine.worktree_watch {
            worktrees
        } else {
            worktrees.without_watch()
        };
        let owner_prefix = options
            .owner_prefix
            .clone()
            .unwrap_or_else(|| crate::owner::daemon_prefix(paths.root()));
        Ok(Board {
            shared,
            owner_prefix,
            remote: options.remote.clone(),
            remote_lock: std::sync::Mutex::new(()),
            revert_lock: std::sync::Mutex::new(()),
            phases: crate::phases::PhaseTimes::default(),
            queue_outcomes: std::sync::Mutex::new(crate::queue::Outcomes::default()),
            settings,
            paths,
            root,
            git,
            worktrees,
            store,
            project,
            limits,
            secrets,
            run_access: RunAccess::new(),
            listening: Arc::default(),
        })
    }

    /// Tells the worktrees whether every process the engine starts in them is refused hard
    /// links by the sandbox (they then skip the passes over every tracked file that only a
    /// second name of a file made necessary; see [`Worktrees::set_links_refused`]). A host
    /// without a working sandbox keeps them.
    pub(crate) fn note_confinement(&self) {
        let refused = crate::confine::sandbox_for(&self.settings)
            .is_ok_and(|sandbox| sandbox.refuses_hard_links());
        self.worktrees.set_links_refused(refused);
    }

    /// Other daemons may use this board's store.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// What every lease owner of this daemon starts with (`daemon:<host>:<state dir hash>:`).
    pub fn owner_prefix(&self) -> &str {
        &self.owner_prefix
    }

    /// A shared board needs a remote: the daemons share no file system, only it.
    pub fn check_shared(&self) -> Result<()> {
        if self.shared && self.settings.project.remote.is_none() {
            return Err(EngineError::SharedBoardWithoutRemote);
        }
        Ok(())
    }

    /// The flow a new task gets from the configuration.
    pub fn flow_for(&self, task: &NewTask) -> Flow {
        let roles = &self.settings.roles;
        Flow {
            plan: (task.plan || task.kind == TaskKind::Epic) && !roles.planner.is_empty(),
            plan_review: !roles.plan_reviewer.is_empty(),
            review: self.settings.review.enabled && !roles.reviewer.is_empty(),
            approval_at: self.settings.risk.approval_at.map(risk::to_core),
            best_of: if task.best_of > 1 { task.best_of } else { 0 },
            survey: false,
            prepared: false,
        }
    }

    /// Adds a task to the backlog.
    pub fn add_task(&self, mut task: NewTask) -> Result<Task> {
        task.title = task.title.trim().to_string();
        if task.title.is_empty() {
            return Err(EngineError::Invalid("a task needs a title".into()));
        }
        if task.kind == TaskKind::Epic && self.settings.roles.planner.is_empty() {
            return Err(EngineError::Invalid(
                "an epic needs a planner: add an agent to roles.planner in gaffer.toml".into(),
            ));
        }
        crate::best_of::check_new(&self.settings, &task)?;
        check_needs(&task.labels)?;
        if task
            .budget_usd
            .is_some_and(|b| !(b.is_finite() && b >= 0.0))
        {
            return Err(EngineError::Invalid(
                "a budget is an amount of US dollars, zero or more".into(),
            ));
        }
        let label_risk = risk::for_labels(&self.settings, &task.labels);
        let risk = label_risk.map_or(task.risk, |r| r.max(task.risk));
        let state = TaskState::new(self.flow_for(&task), risk, task.tier);
        Ok(self.store.create_task(self.project.id, &task, &state)?)
    }

    pub fn task(&self, id: TaskId) -> Result<Task> {
        Ok(self.store.task(id)?)
    }

    pub fn tasks(&self, statuses: &[Status]) -> Result<Vec<Task>> {
        Ok(self.store.tasks(&TaskFilter {
            project: Some(self.project.id),
            statuses: statuses.to_vec(),
            parent: None,
        })?)
    }

    /// Applies a person's input to a task (cancel, retry, approve, reject, answer).
    pub fn act(&self, id: TaskId, input: Input, who: &str) -> Result<Applied> {
        let event = NewEvent::of(Payload::TaskNotice(TaskNotice::Person {
            by: who.to_string(),
            action: input.name().to_string(),
        }));
        apply(
            self,
            id,
            &input,
            Extra {
                events: vec![event],
                ..Extra::default()
            },
        )
    }

    /// Where landed work goes, now.
    pub fn landing(&self) -> Result<Landing> {
        Landing::resolve(self)
    }

    /// The merge queue: the train with its candidates under test, the tasks waiting to join, why
    /// tasks left it lately, and its figures.
    pub fn queue(&self) -> Result<crate::queue_report::QueueReport> {
        crate::queue_report::report(self)
    }

    pub fn status(&self) -> Result<StatusReport> {
        let tasks = self.tasks(&[])?;
        let counts = Status::ALL
            .into_iter()
            .map(|s| (s, tasks.iter().filter(|t| t.status() == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        Ok(StatusReport {
            project: self.project.clone(),
            landing: self.landing()?,
            counts,
            tasks,
            sandbox: SandboxReport {
                confined: crate::confine::sandbox_for(&self.settings)
                    .is_ok_and(|s| s.is_confined()),
                description: crate::confine::describe(&self.settings),
            },
        })
    }

    /// The task's change: its branch (or what landed) against where it started.
    pub fn diff(&self, id: TaskId) -> Result<String> {
        let task = self.task(id)?;
        let landing = self.landing()?;
        let head = match (&task.state.landed, &task.state.head) {
            (Some(landed), _) => landed.commit.clone(),
            (None, Some(head)) => head.clone(),
            (None, None) => return Ok(String::new()),
        };
        let head: gaffer_git::Oid = head
            .as_str()
            .parse()
            .map_err(|_| EngineError::Invalid(format!("bad commit id {head}")))?;
        let base_ref = match (&task.state.landed, &task.state.candidate) {
            // What landed, against what it landed on: after a fast-forward of several commits
            // the landed commit's first parent is only the branch's previous commit.
            (Some(_), Some(candidate)) if candidate.onto.as_str().bytes().any(|b| b != b'0') => {
                candidate.onto.as_str().to_string()
            }
            (Some(_), _) => format!("{}^1", head.as_str()),
            (None, _) => landing.branch.clone(),
        };
        let Some(base) = self.git.rev_parse(&base_ref)? else {
            return Ok(String::new());
        };
        let base = if task.state.landed.is_some() {
            base
        } else {
            self.git.merge_base(&base, &head)?.unwrap_or(base)
        };
        Ok(self.git.diff(&base, &head)?)
    }
}

#[cfg(test)]
mod remote_key_tests {
    use super::remote_key;

    #[test]
    fn urls_handed_to_workers_carry_no_credentials() {
        use super::without_credentials as w;
        assert_eq!(
            w("https://ci:s3cret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            w("https://ghp_token@github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(w("ssh://git:pw@host:22/r.git"), "ssh://git@host:22/r.git");
        assert_eq!(w("ssh://git@host/r.git"), "ssh://git@host/r.git");
        assert_eq!(w("git@github.com:o/r.git"), "git@github.com:o/r.git");
        assert_eq!(w("git://10.0.0.1/board.git"), "git://10.0.0.1/board.git");
        assert_eq!(w("/srv/git/r.git"), "/srv/git/r.git");
    }

    #[test]
    fn credentials_and_decorations_are_not_part_of_the_key() {
        assert_eq!(
            remote_key("https://ci:ghp_secret@github.com/o/r.git"),
            "https://github.com/o/r"
        );
        assert_eq!(
            remote_key("https://github.com/o/r/"),
            "https://github.com/o/r"
        );
        assert_eq!(remote_key("git@github.com:o/r.git"), "github.com:o/r");
        assert_eq!(
            remote_key("git://10.0.0.1/board.git"),
            "git://10.0.0.1/board"
        );
        assert_eq!(remote_key("/srv/git/board.git"), "/srv/git/board");
    }
}
