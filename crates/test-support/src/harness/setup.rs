//! [`HarnessBuilder`]: the project an [`EngineHarness`] runs: its files, its `gaffer.toml`, its
//! agents and its verify command.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use gaffer_engine::{Board, BoardOptions};

use super::EngineHarness;
use crate::TestRepo;

/// An agent of the harness's project: a `[agents.NAME]` table.
#[derive(Debug, Clone)]
pub struct Agent {
    /// `scripted`: the script's TOML text; `command`: the command template.
    kind: AgentKind,
    /// Further `key = value` lines of the table (`model = "pricey"`, `timeout = "2s"`).
    lines: Vec<String>,
}

#[derive(Debug, Clone)]
enum AgentKind {
    Scripted(String),
    Command(String),
}

impl Agent {
    /// A `scripted` agent following `script` (the TOML of `gaffer_agents::Script`: entries
    /// matched by the task's title, one attempt per run of the task's line of runs).
    pub fn scripted(script: &str) -> Agent {
        Agent {
            kind: AgentKind::Scripted(script.to_string()),
            lines: Vec::new(),
        }
    }

    /// A `command` agent running `template` (`{prompt}`, `{prompt_file}`, `{dir}`, `{model}`).
    pub fn command(template: &str) -> Agent {
        Agent {
            kind: AgentKind::Command(template.to_string()),
            lines: Vec::new(),
        }
    }

    /// Adds a `key = value` line (TOML) to the agent's table.
    pub fn with(mut self, line: &str) -> Agent {
        self.lines.push(line.to_string());
        self
    }
}

/// How to build an [`EngineHarness`]; [`EngineHarness::builder`] starts one.
///
/// The project's `gaffer.toml` (kept outside the repository, like the scripts) has the agents,
/// `verify.command`, an engine sized for a shared machine (2 agents, no worktree pool, 2 heavy
/// slots, short leases) and `sandbox.mode = "none"`: the harness runs where bubblewrap does not.
/// [`toml`](Self::toml) appends tables; [`set`](Self::set) overrides any key, as a flag would.
#[derive(Debug, Clone, Default)]
pub struct HarnessBuilder {
    agents: Vec<(String, Agent)>,
    files: Vec<(String, String)>,
    toml: String,
    overrides: Vec<(String, String)>,
    verify: Option<String>,
    /// The board is opened as shared with other daemons.
    shared: bool,
}

impl HarnessBuilder {
    /// Adds the agent `name`; roles name it (`set("roles.coder", "name")`).
    pub fn agent(mut self, name: &str, agent: Agent) -> Self {
        self.agents.push((name.to_string(), agent));
        self
    }

    /// A file of the repository's initial commit.
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_string(), text.to_string()));
        self
    }

    /// `verify.command`; `true` when not given.
    pub fn verify(mut self, command: &str) -> Self {
        self.verify = Some(command.to_string());
        self
    }

    /// More `gaffer.toml` text (whole tables: `[budget]`, `[[review.extra]]`, `[prices.x]`).
    pub fn toml(mut self, text: &str) -> Self {
        self.toml.push_str(text);
        self.toml.push('\n');
        self
    }

    /// Sets the dotted `key` to `value`, over the file (`"roles.coder"`, `"cheap,strong"`).
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.overrides.push((key.to_string(), value.to_string()));
        self
    }

    /// Opens the board as shared with other daemons (`BoardOptions::shared`), on its own
    /// store; [`daemons`](Self::daemons) makes several that really share one.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// Makes the repository, writes the configuration and opens the board.
    pub fn build(self) -> EngineHarness {
        let repo = self.project();
        let settings = self.settings(&repo);
        let sharing = Sharing {
            shared: self.shared,
            database: None,
            worker: None,
        };
        let board = open_board(&repo, settings, &sharing);
        EngineHarness::from_parts(repo, board, sharing)
    }

    /// The project's repository with its files.
    pub(super) fn project(&self) -> TestRepo {
        let repo = TestRepo::new();
        for (path, text) in &self.files {
            repo.write(path, text);
        }
        if !self.files.is_empty() {
            repo.commit_all("the harness's project");
        }
        repo
    }

    /// Writes the configuration beside `repo` (outside it) and loads it.
    pub(super) fn settings(&self, repo: &TestRepo) -> gaffer_config::Settings {
        let config_dir = repo.scratch("config");
        fs::create_dir_all(&config_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", config_dir.display()));
        let text = self.gaffer_toml(&config_dir);
        let file = config_dir.join("gaffer.toml");
        fs::write(&file, &text).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        let mut flags = gaffer_config::Overrides::new();
        for (key, value) in &self.overrides {
            flags.push(key.clone(), value.clone());
        }
        gaffer_config::load(Some(&file), &gaffer_config::Overrides::new(), &flags)
            .unwrap_or_else(|e| panic!("the harness's gaffer.toml is refused: {e}\n{text}"))
    }

    /// The configuration text; scripts are written beside it.
    fn gaffer_toml(&self, dir: &Path) -> String {
        let verify = self.verify.as_deref().unwrap_or("true");
        let mut text = format!(
            "[project]\nname = \"harness\"\ntarget = \"main\"\n\n\
             [verify]\ncommand = {verify:?}\ntimeout = \"120s\"\n\n\
             [engine]\nconcurrency = 2\nworktree_pool = 0\nlease = \"5s\"\nheartbeat = \"1s\"\n\n\
             [host]\nheavy_slots = 2\n\n\
             [sandbox]\nmode = \"none\"\n\n"
        );
        for (name, agent) in &self.agents {
            text.push_str(&format!("[agents.{name}]\n"));
            match &agent.kind {
                AgentKind::Scripted(script) => {
                    let path = dir.join(format!("{name}.script.toml"));
                    fs::write(&path, script)
                        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
                    text.push_str(&format!(
                        "backend = \"scripted\"\nscript = {:?}\n",
                        path.display().to_string()
                    ));
                }
                AgentKind::Command(template) => {
                    text.push_str(&format!("backend = \"command\"\ncommand = {template:?}\n"));
                }
            }
            for line in &agent.lines {
                text.push_str(line);
                text.push('\n');
            }
            text.push('\n');
        }
        text.push_str(&self.toml);
        text
    }
}

/// How a harness's board is shared with other daemons.
#[derive(Debug, Clone, Default)]
pub(super) struct Sharing {
    /// Opened as shared.
    pub shared: bool,
    /// The SQLite file every daemon's board opens (a handle of its own each); `None`: the
    /// board's own store in its state directory.
    pub database: Option<std::path::PathBuf>,
    /// A remote worker's board: its store is this daemon's board, reached as this worker.
    pub worker: Option<WorkerLink>,
}

/// How a worker's board reaches the daemon (in process, through `gaffer_engine::worker::Direct`).
#[derive(Clone)]
pub(super) struct WorkerLink {
    pub daemon: Arc<Board>,
    pub identity: gaffer_engine::worker::WorkerIdentity,
    /// The worker's own part of its owner names.
    pub machine: String,
}

impl std::fmt::Debug for WorkerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerLink")
            .field("identity", &self.identity)
            .finish()
    }
}

/// A worker's store: the daemon, as this worker.
pub(super) fn worker_store(link: &WorkerLink) -> Arc<gaffer_engine::worker::WorkerStore> {
    let transport =
        gaffer_engine::worker::Direct::new(Arc::clone(&link.daemon), link.identity.clone());
    Arc::new(
        gaffer_engine::worker::WorkerStore::connect(Arc::new(transport))
            .unwrap_or_else(|e| panic!("the daemon refused the worker: {e}")),
    )
}

/// Opens the board on `repo` with its hermetic git environment.
pub(super) fn open_board(
    repo: &TestRepo,
    settings: gaffer_config::Settings,
    sharing: &Sharing,
) -> Arc<Board> {
    let options = BoardOptions {
        git_env: repo.env(),
        clock: None,
        ..BoardOptions::default()
    }
    .shared(sharing.shared);
    if let Some(link) = &sharing.worker {
        let store = worker_store(link);
        let options = BoardOptions {
            owner_prefix: Some(format!("{}{}:", link.identity.prefix(), link.machine)),
            project_key: Some(store.welcome().project.root.clone()),
            remote: Some(Arc::clone(&store) as _),
            ..options
        };
        return Board::open_with_store(repo.path(), settings, options, store)
            .map(Arc::new)
            .unwrap_or_else(|e| panic!("cannot open the worker's board: {e}"));
    }
    let opened = match &sharing.database {
        Some(file) => {
            let store = gaffer_store::SqliteStore::open_default(file)
                .unwrap_or_else(|e| panic!("cannot open the shared store {}: {e}", file.display()));
            Board::open_with_store(repo.path(), settings, options, Arc::new(store))
        }
        None => Board::open(repo.path(), settings, options),
    };
    opened
        .map(Arc::new)
        .unwrap_or_else(|e| panic!("cannot open the board: {e}"))
}
