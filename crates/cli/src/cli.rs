//! The command line, as typed. Validation into settings happens in `context`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "gaffer",
    version,
    about = "A foreman for AI coding agents: many agents, one repository, main always green.",
    after_help = "Start with `gaffer demo` to watch the whole pipeline on a throwaway repository."
)]
pub struct Cli {
    /// Run as if started in this directory.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Configuration file (default: gaffer.toml at the repository root).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a setting, e.g. `--set engine.concurrency=8` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect the project's build and test commands and write a commented gaffer.toml.
    Init(InitArgs),
    /// Check git, the configuration, the state directory, the port, the verify command's tools
    /// and every configured agent (`--verify`: also run verify once on the landing branch).
    Doctor(DoctorArgs),
    /// Run the engine and the HTTP API (foreground unless --detach).
    Up(UpArgs),
    /// Stop the daemon cleanly; every task stays resumable.
    Down(DownArgs),
    /// Remove idle worktrees (the reuse pool, those of tasks that ended or of no task) and the
    /// `gaffer/` branches of merged, cancelled or unknown tasks; a running daemon does it.
    Clean(JsonArg),
    /// Print the running daemon's dashboard link, with its token.
    Dashboard,
    /// Add, import, list, show, cancel or retry tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Start planning a goal: adds an epic that the planner splits into subtasks.
    Plan(PlanArgs),
    /// The board at a glance: counts, where work lands, the tasks.
    Status(JsonArg),
    /// The machines that take jobs: their labels, jobs, load and when they were last heard.
    Workers(JsonArg),
    /// Run a remote worker for a daemon (`--server URL`): it claims agent runs and verify over
    /// HTTP with a worker token and runs them in its own clone; `gaffer worker token
    /// create|list|revoke` manages those tokens.
    Worker(WorkerArgs),
    /// The merge queue: the train and its candidates under test, waiting tasks, why tasks left;
    /// `queue move` reorders the tasks waiting to join.
    Queue(QueueArgs),
    /// Undo a merged task: a new task carries the revert of its landing through verify and the
    /// merge queue (never a push to the target).
    Revert(RevertArgs),
    /// Events as they happen.
    Feed(FeedArgs),
    /// What the agents of a task did, run by run.
    Log(LogArgs),
    /// A task's change.
    Diff(IdArg),
    /// Tasks waiting for a person (questions and approvals).
    Pending(JsonArg),
    /// Approve a task waiting at the approval gate.
    Approve(IdArg),
    /// Reject a task at the approval gate: back to its coder, or cancelled.
    Reject(RejectArgs),
    /// Answer a task's question; its agent resumes with the answer.
    Answer(AnswerArgs),
    /// Say something to a task's agent: its run going on hears it at its next turn (Claude
    /// Code, gaffer's own loop), or stops and resumes its session with it (other agents);
    /// otherwise its next run starts with it.
    Say(SayArgs),
    /// Take a task over by hand: its work stops, and this prints its worktree and the command
    /// that resumes its agent's last session; nothing of the engine touches it until released.
    Attach(AttachArgs),
    /// Hand a task you attached back: what you left in its worktree is committed as yours and
    /// the task goes on to verify, review and the queue.
    Release(IdArg),
    /// The budgets, what was spent today and per task, and the tasks a budget holds; `set`
    /// changes a task's own budget.
    Budget(BudgetArgs),
    /// Accept a proposal: it becomes a task in the backlog.
    Accept(IdArg),
    /// Decline a proposal: it is cancelled.
    Decline(DeclineArgs),
    /// Bring landed work into your checkout (refuses to touch uncommitted changes).
    Pull,
    /// Tokens and cost: in total and by task, role, model, agent and day.
    Usage(UsageArgs),
    /// Try an agent configuration outside the pipeline.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Run the scripted model server standalone (OpenAI, Anthropic and Responses APIs).
    MockLlm(MockLlmArgs),
    /// Run the whole pipeline and its crew (planner, coders, a reviewer of another family) on a
    /// throwaway repository, with a scripted model.
    Demo(DemoArgs),
    /// The board's database: migrate it, or copy a SQLite board to PostgreSQL.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Serve the board as MCP tools on standard input and output (register it with Claude Code:
    /// `claude mcp add gaffer -- gaffer mcp`).
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorkerArgs {
    #[command(subcommand)]
    pub command: Option<WorkerCommand>,
    /// The daemon to work for: its base URL (`http://host:7420`).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The worker token (`gfw_…`, from `gaffer worker token create`); better given in
    /// GAFFER_WORKER_TOKEN, which `ps` does not show.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GAFFER_WORKER_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// A label to claim with (repeatable, or comma-separated), among those the token grants;
    /// all of them by default.
    #[arg(long = "label", value_name = "LABEL", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Where the worker keeps its clone and state (default:
    /// `~/.local/state/gaffer/worker-<token id>`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    /// Clone from this URL instead of the one the daemon names (the same repository, e.g. with
    /// this machine's credentials).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Make, list or revoke the tokens remote workers present (`gaffer worker --token`).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a remote worker; its secret is printed this once.
    Create {
        /// A label the worker's machine has (repeatable, or comma-separated): it takes the jobs
        /// of tasks added with `--needs` naming it, and jobs that need nothing.
        #[arg(long = "label", value_name = "LABEL")]
        labels: Vec<String>,
        /// What to call the worker (default: `worker` and its labels, e.g. worker-gpu).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Print JSON (`{"token", "secret"}`).
        #[arg(long)]
        json: bool,
    },
    /// The project's worker tokens, revoked ones included (never a secret).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: its worker is refused from now on.
    Revoke {
        /// The token's id (`gaffer worker token list`).
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Bring the board's database to this gaffer's schema (PostgreSQL: `[store] url`, or --url).
    Migrate(StoreMigrateArgs),
    /// Copy this project's SQLite board (tasks, runs, events, usage, jobs, worker tokens) into
    /// an empty PostgreSQL database (its `[store] schema`); the daemon must be stopped. The
    /// SQLite board keeps its rows (its file is brought to this gaffer's schema first).
    Copy(StoreCopyArgs),
}

#[derive(Debug, Args)]
pub struct StoreMigrateArgs {
    /// The PostgreSQL URL (default: `[store] url`; without one, the SQLite file).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct StoreCopyArgs {
    /// The PostgreSQL database to copy into, e.g. postgres://gaffer@db-host:5432/gaffer.
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The daemon's URL (default: the repository's daemon, found through its daemon.json at
    /// every call).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QueueArgs {
    #[command(subcommand)]
    pub command: Option<QueueCommand>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Move a task waiting to join the train to a place in the waiting line (the train's own
    /// order is fixed: its candidates are built on each other).
    Move(QueueMoveArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("place").required(true).args(["to", "before", "after"])))]
pub struct QueueMoveArgs {
    /// The waiting task to move.
    pub id: i64,
    /// Its place in the waiting line, 1 being the head.
    #[arg(long, value_name = "PLACE")]
    pub to: Option<u32>,
    /// Just ahead of this waiting task.
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
    /// Just behind this waiting task.
    #[arg(long, value_name = "ID")]
    pub after: Option<i64>,
    /// Print the task as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The merged task to undo.
    pub id: i64,
    /// Print the new task as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Then remove idle worktrees and dead branches, as `gaffer clean` does.
    #[arg(long)]
    pub clean: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also run setup and verify once on the landing branch's tip: is the baseline green, and
    /// how long does verify take?
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Task id.
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing gaffer.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Port on 127.0.0.1 (default 7420, or server.port; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Run in the background; logs go to the state directory's daemon.log.
    #[arg(long)]
    pub detach: bool,
    /// What this machine has, e.g. `--label gpu` (repeatable): tasks added with `--needs gpu`,
    /// and agents with `needs = ["gpu"]`, run only on machines labelled so. Same as
    /// `--set host.labels=gpu`.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Add a task to the backlog.
    Add(Box<TaskAddArgs>),
    /// Add tasks from a markdown file (`## Title` per task) or from GitHub issues (`--github`).
    Import(TaskImportArgs),
    /// List tasks.
    List(TaskListArgs),
    /// Show one task with its runs and recent events.
    Show(TaskShowArgs),
    /// Cancel a task; its running work stops.
    Cancel(CancelArgs),
    /// Retry a failed task: on its branch as it is, or with `--fresh` from scratch.
    Retry(RetryArgs),
    /// Change a task before work on it starts (backlog or ready): title, body, labels,
    /// priority, dependencies, write and read scopes.
    Edit(Box<TaskEditArgs>),
    /// Set a task's own budget in US dollars (`none`: the default); a task held by its budget
    /// goes on when the budgets allow.
    Budget(BudgetSetArgs),
}

#[derive(Debug, Args)]
pub struct BudgetArgs {
    #[command(subcommand)]
    pub command: Option<BudgetCommand>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Set a task's own budget in US dollars (`none`: the default budget.task_usd).
    Set(BudgetSetArgs),
}

#[derive(Debug, Args)]
pub struct BudgetSetArgs {
    /// Task id.
    pub id: i64,
    /// US dollars, or `none`.
    #[arg(allow_hyphen_values = true)]
    pub usd: String,
}

#[derive(Debug, Args)]
pub struct DeclineArgs {
    pub id: i64,
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct TaskAddArgs {
    pub title: String,
    /// The task's description (`-` reads standard input).
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the description from a file.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// A label the machine must have (repeatable): its agent runs and verify go only to
    /// machines started with `--label` (or `[host] labels`) naming it. Stored as `needs:LABEL`.
    #[arg(long = "needs", value_name = "LABEL")]
    pub needs: Vec<String>,
    /// A task that must merge first (repeatable).
    #[arg(long = "dep", value_name = "ID")]
    pub deps: Vec<i64>,
    /// Paths (globs) the task may write (repeatable).
    #[arg(long = "scope", value_name = "GLOB")]
    pub scope: Vec<String>,
    /// Paths (globs) the task should read.
    #[arg(long = "read-scope", value_name = "GLOB")]
    pub read_scope: Vec<String>,
    /// Higher runs first.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub priority: i32,
    /// low, medium, high or critical.
    #[arg(long, default_value = "low")]
    pub risk: String,
    /// task, epic, question or proposal.
    #[arg(long, default_value = "task")]
    pub kind: String,
    /// Plan before coding.
    #[arg(long)]
    pub plan: bool,
    /// Start at this rung of the coder tier ladder.
    #[arg(long, default_value_t = 0)]
    pub tier: u32,
    /// Parent task.
    #[arg(long)]
    pub parent: Option<i64>,
    /// What the task may spend over all its runs, in US dollars (default: budget.task_usd).
    #[arg(long, value_name = "USD")]
    pub budget: Option<f64>,
    /// Have N coders attempt the task at once; the reviewer picks one (needs roles.reviewer).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub best_of: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskEditArgs {
    pub id: i64,
    #[arg(long)]
    pub title: Option<String>,
    /// A new description (`-` reads standard input).
    #[arg(long)]
    pub body: Option<String>,
    /// New labels (repeatable; they replace the old ones).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Remove every label.
    #[arg(long, conflicts_with = "labels")]
    pub no_labels: bool,
    /// Higher runs first.
    #[arg(long, allow_hyphen_values = true)]
    pub priority: Option<i32>,
    /// A task that must merge first (repeatable): added to its dependencies.
    #[arg(long = "dep", value_name = "ID")]
    pub deps: Vec<i64>,
    /// A task it no longer waits for (repeatable).
    #[arg(long = "no-dep", value_name = "ID")]
    pub no_deps: Vec<i64>,
    /// Paths (globs) the task may write (repeatable; they replace the old scope).
    #[arg(long = "scope", value_name = "GLOB")]
    pub scope: Vec<String>,
    /// Clear the write scope.
    #[arg(long, conflicts_with = "scope")]
    pub no_scope: bool,
    /// Paths (globs) the task should read (repeatable; they replace the old ones).
    #[arg(long = "read-scope", value_name = "GLOB")]
    pub read_scope: Vec<String>,
    /// Clear the read scope.
    #[arg(long, conflicts_with = "read_scope")]
    pub no_read_scope: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What to achieve; the planner splits it into subtasks.
    pub goal: String,
    /// More about the goal (`-` reads standard input).
    #[arg(long)]
    pub body: Option<String>,
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Higher runs first.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub priority: i32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskImportArgs {
    /// A markdown file: each `## Title` heading starts a task, the text below is its body;
    /// lines right under the heading may set `labels:`, `depends:` (1-based position in the
    /// file, or #ID), `scope:`, `priority:`, `risk:`.
    #[arg(required_unless_present = "github", conflicts_with = "github")]
    pub file: Option<PathBuf>,
    /// Import the repository's open GitHub issues through the `gh` CLI.
    #[arg(long)]
    pub github: bool,
    /// With --github: only issues with this label.
    #[arg(long, requires = "github")]
    pub label: Option<String>,
    /// With --github: at most this many issues.
    #[arg(long, requires = "github", default_value_t = 30)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskListArgs {
    /// Only these statuses (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskShowArgs {
    pub id: i64,
    /// Also print the whole output of its last failed verify (else its failing tests only).
    #[arg(long)]
    pub full: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Task id.
    pub id: i64,
    /// Start afresh: a new branch from the target (the old branch and the task's runs and
    /// events are kept), the bottom of the coder ladder, a fresh agent session.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    pub id: i64,
    #[arg(long, default_value = gaffer_api::DEFAULT_CANCEL_REASON)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub id: i64,
    #[arg(long)]
    pub reason: String,
    /// Cancel the task instead of sending it back to its coder.
    #[arg(long)]
    pub cancel: bool,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    pub id: i64,
    pub text: String,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    pub id: i64,
    /// Print the task, its worktree and the resume command as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SayArgs {
    pub id: i64,
    /// The message (several words are joined with spaces).
    #[arg(required = true, num_args = 1.., value_name = "TEXT")]
    pub text: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// Keep printing new events.
    #[arg(long, short)]
    pub follow: bool,
    /// Start after this sequence number (default: the last 50 events).
    #[arg(long)]
    pub after: Option<i64>,
    /// Only this task's events.
    #[arg(long)]
    pub task: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    pub id: i64,
    /// Only this run.
    #[arg(long)]
    pub run: Option<i64>,
    /// Print the runs' raw transcripts (prompt and every event) instead.
    #[arg(long)]
    pub raw: bool,
    /// Also print the whole output of each failed verify (else its failing tests only).
    #[arg(long)]
    pub full: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run one agent once in DIR, streaming its normalized events.
    Run(AgentRunArgs),
}

#[derive(Debug, Args)]
pub struct AgentRunArgs {
    /// A configured agent, or a backend name (claude, codex, openai, anthropic) with defaults
    /// taken from the provider's environment variables.
    #[arg(long)]
    pub agent: String,
    #[arg(long)]
    pub model: Option<String>,
    /// Where the agent works (default: the current directory).
    #[arg(long = "dir", id = "workdir", value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Continue this session.
    #[arg(long)]
    pub resume: Option<String>,
    /// One JSON object per line, ending with the outcome, usage and cost.
    #[arg(long)]
    pub json: bool,
    /// Wall-time limit in seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
    pub prompt: String,
}

#[derive(Debug, Args)]
pub struct MockLlmArgs {
    /// The script (TOML or JSON) to answer from.
    #[arg(long)]
    pub script: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Also append every request to this JSONL file.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Only this breakdown: task, role, model, agent or day.
    #[arg(long)]
    pub by: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the summary as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Keep the repository and its state for inspection.
    #[arg(long)]
    pub keep: bool,
    /// Then keep the demo's board up as a daemon, with its API and dashboard on 127.0.0.1,
    /// until Ctrl-C or SIGTERM (the repository goes afterwards, unless --keep).
    #[arg(long)]
    pub serve: bool,
    /// The port to serve on (default: a free one).
    #[arg(long, requires = "serve")]
    pub port: Option<u16>,
}
