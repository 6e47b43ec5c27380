//! The typed, validated settings the rest of gaffer reads, and their defaults.
//!
//! A [`Settings`] value is always consistent: every duration is parsed, every glob compiled, every
//! agent named in `[roles]` exists, the heartbeat is shorter than the lease, and cross-family
//! review is satisfiable. The engine never re-checks any of it.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::agent_settings::AgentSettings;
use crate::duration::format_duration;
use crate::error::ConfigError;
use crate::prices::Price;
use crate::privacy::{PrivacyMode, PrivacySettings};
use crate::risk::RiskSettings;

/// Everything `gaffer.toml`, the `GAFFER_*` environment variables and the flags configured,
/// resolved into one value. `Default` is what an empty file resolves to outside any directory.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Settings {
    /// `[project]`.
    pub project: ProjectSettings,
    /// `[verify]`.
    pub verify: VerifySettings,
    /// `[engine]`.
    pub engine: EngineSettings,
    /// `[limits]`.
    pub limits: LimitSettings,
    /// `[agents.<name>]`, by name.
    pub agents: BTreeMap<String, AgentSettings>,
    /// `[roles]`.
    pub roles: RoleSettings,
    /// `[review]`.
    pub review: ReviewSettings,
    /// `[risk]`.
    pub risk: RiskSettings,
    /// `[server]`.
    pub server: ServerSettings,
    /// `[privacy]`.
    pub privacy: PrivacySettings,
    /// `[scope]`: what a change that edits outside its task's write scope meets.
    pub scope: crate::scope::ScopeSettings,
    /// `[sandbox]`: how the processes started for a task are confined.
    pub sandbox: crate::sandbox::SandboxSettings,
    /// `[secrets]`: further values never to store or show.
    pub secrets: crate::secrets::SecretsSettings,
    /// `[notify]`: webhooks and local commands told when a person is needed, when work lands or
    /// fails, and when a budget stops work.
    pub notify: crate::notify::NotifySettings,
    /// `[queue]`: how the merge queue builds and tests candidates.
    pub queue: crate::queue::QueueSettings,
    /// `[host]`: how much heavy work (verify runs) this machine takes on at once.
    pub host: crate::queue::HostSettings,
    /// `[prices."MODEL"]`: what each model costs, by model name as the agents report it. Only
    /// what the file says: gaffer ships no prices, because they change.
    pub prices: BTreeMap<String, Price>,
    /// `[budget]`: what runs may spend per task, per day, and on idle surveys.
    pub budget: crate::budget::BudgetSettings,
    /// `[store]`: where the board is kept (SQLite in the state directory, or PostgreSQL).
    pub store: crate::store::StoreSettings,
    /// The file these settings were read from; `None` when there was none.
    pub source: Option<PathBuf>,
}

impl Settings {
    /// The verify command, or the error to show when none is configured.
    ///
    /// The pipeline cannot merge anything without one, so the engine calls this before it starts
    /// work.
    pub fn verify_command(&self) -> Result<&str, ConfigError> {
        self.verify
            .command
            .as_deref()
            .ok_or_else(|| ConfigError::Invalid {
                path: self.source.clone(),
                line: None,
                key: "verify.command".to_string(),
                message: "no verify command: verify.command is not set".to_string(),
                hint: "run `gaffer init` to detect one, or set verify.command in gaffer.toml \
                       (e.g. command = \"cargo test\")"
                    .to_string(),
            })
    }

    /// The agent with this name, if it is configured.
    pub fn agent(&self, name: &str) -> Option<&AgentSettings> {
        self.agents.get(name)
    }

    /// The price of `model` from `[prices]`, if the file gives one (the name must match exactly).
    pub fn price_for(&self, model: &str) -> Option<Price> {
        self.prices.get(model).copied()
    }

    /// The agents that `privacy.mode = "local"` refuses, as `(agent name, endpoint, reason)`,
    /// by agent name; empty when `privacy.mode` is `any`.
    ///
    /// An endpoint is local when its host is `localhost` or an IP address of this machine
    /// (loopback, unspecified) or of a private network (IPv4 private and link-local ranges, IPv6
    /// unique-local and link-local); host names other than `localhost` are not resolved and so
    /// are not local. For `openai`, `anthropic`, `claude` and `codex` the endpoint is `base_url`,
    /// or the public provider's API when there is none. `command` agents are not checked
    /// (gaffer cannot see where the CLI connects), nor are `scripted` ones (they call nothing).
    ///
    /// [`crate::load`] refuses settings for which this is not empty; call it again after changing
    /// the agents of loaded settings.
    pub fn privacy_violations(&self) -> Vec<(String, String, String)> {
        if self.privacy.mode != PrivacyMode::Local {
            return Vec::new();
        }
        self.agents
            .iter()
            .filter_map(|(name, agent)| {
                crate::privacy::violation(agent)
                    .map(|(endpoint, reason)| (name.clone(), endpoint, reason))
            })
            .collect()
    }
}

/// `[project]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectSettings {
    /// Display name. Default: the name of the directory holding `gaffer.toml`, or `project` when
    /// there is no such directory.
    pub name: String,
    /// The branch gaffer lands work on. Default: `main`.
    pub target: String,
    /// Where gaffer keeps its database and worktrees. `None` means the engine's default,
    /// `<git common dir>/gaffer`. A relative path is relative to the repository root.
    pub state_dir: Option<PathBuf>,
    /// The git remote the target lives on (e.g. `origin`): landed work is pushed there with a
    /// lease on its old value, never forced. `None`: the target is local only.
    pub remote: Option<String>,
}

/// The project name used when no directory name is known.
pub const DEFAULT_PROJECT_NAME: &str = "project";
/// The default target branch.
pub const DEFAULT_TARGET: &str = "main";

impl Default for ProjectSettings {
    fn default() -> Self {
        ProjectSettings {
            name: DEFAULT_PROJECT_NAME.to_string(),
            target: DEFAULT_TARGET.to_string(),
            state_dir: None,
            remote: None,
        }
    }
}

/// `[verify]`: the project's own check that a tree is good enough to land.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifySettings {
    /// Shell command run in a worktree; exit status 0 means the tree passes. `None` until
    /// configured: see [`Settings::verify_command`].
    pub command: Option<String>,
    /// How long one verify run may take before it counts as failed. Default: 20 minutes.
    #[serde(serialize_with = "as_duration_text")]
    pub timeout: Duration,
    /// Shell command run once in each new worktree before anything else (e.g. `npm ci`).
    pub setup: Option<String>,
    /// A merge candidate whose tree its branch already passed is not verified again. Only for a
    /// verify command that does the same whatever `GAFFER_VERIFY_PURPOSE` says (a project that
    /// runs a quick check at the gate and its full suite in the queue must leave it off).
    /// Default: false.
    pub skip_identical_candidates: bool,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings {
            command: None,
            timeout: Duration::from_secs(20 * 60),
            setup: None,
            skip_identical_candidates: false,
        }
    }
}

/// `[engine]`: how much runs at once and how work is leased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineSettings {
    /// Agents running at once, `1..=64`. Default: 4.
    pub concurrency: usize,
    /// How long a claimed job stays claimed without a heartbeat. Default: 30s.
    #[serde(serialize_with = "as_duration_text")]
    pub lease: Duration,
    /// How often a worker renews its leases; always shorter than `lease`. Default: 10s.
    #[serde(serialize_with = "as_duration_text")]
    pub heartbeat: Duration,
    /// Idle worktrees kept ready for reuse, `0..=64`. Default: 4 (the default concurrency: a released worktree is reused rather than deleted while new tasks check out fresh ones).
    pub worktree_pool: usize,
    /// Follow what changes in task worktrees (inotify, Linux) so that staging an agent's work,
    /// checking out a merge candidate and resetting a released worktree touch only the changed
    /// paths instead of every file. Turn off only if the worktrees live on a filesystem whose
    /// changes the kernel does not report (a network filesystem written from elsewhere).
    /// Default: true.
    pub worktree_watch: bool,
    /// Pause between starting two agents, to spread load. Default: 0s.
    #[serde(serialize_with = "as_duration_text")]
    pub agent_stagger: Duration,
    /// An agent run with no event for this long is stalled: it is stopped and counts as a failed
    /// attempt (retried, or escalated). Default: 10 minutes.
    #[serde(serialize_with = "as_duration_text")]
    pub stall_after: Duration,
    /// When the board has nothing ready or running, one agent (the first planner, else the
    /// first coder) surveys the code read-only and files proposals, within `budget.idle_usd`
    /// per day. Default: false.
    pub idle: bool,
    /// At most one idle survey per this long. Default: 1 hour.
    #[serde(serialize_with = "as_duration_text")]
    pub idle_every: Duration,
}

/// Bounds of `engine.concurrency`.
pub const CONCURRENCY_RANGE: std::ops::RangeInclusive<i64> = 1..=64;
/// Bounds of `engine.worktree_pool`.
pub const WORKTREE_POOL_RANGE: std::ops::RangeInclusive<i64> = 0..=64;

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            concurrency: 4,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            worktree_pool: 4,
            worktree_watch: true,
            agent_stagger: Duration::ZERO,
            stall_after: Duration::from_secs(10 * 60),
            idle: false,
            idle_every: Duration::from_secs(60 * 60),
        }
    }
}

/// `[limits]`: how many times the pipeline tries before it gives up or asks a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitSettings {
    /// Failed verify runs on one model tier before escalating to the next. Default: 2.
    pub verify_failures_per_tier: u32,
    /// Review rounds with requested changes before a person decides. Default: 2.
    pub review_rounds: u32,
    /// Rejected plans before the task fails. Default: 2.
    pub plan_rounds: u32,
    /// Merge attempts (conflicts, moved target) before the task fails. Default: 3.
    pub merge_attempts: u32,
    /// Times a run lost with its worker (crash, expired lease) is retried. Default: 3.
    pub lost_run_retries: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            verify_failures_per_tier: 2,
            review_rounds: 2,
            plan_rounds: 2,
            merge_attempts: 3,
            lost_run_retries: 3,
        }
    }
}

/// `[roles]`: which agents do what. Each list names agents from `[agents]`; for `coder` the list is
/// the tier ladder, lowest tier first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RoleSettings {
    /// Writes code; escalates along the list after repeated verify failures.
    pub coder: Vec<String>,
    /// Reviews diffs.
    pub reviewer: Vec<String>,
    /// Breaks big tasks into subtasks.
    pub planner: Vec<String>,
    /// Reviews plans.
    pub plan_reviewer: Vec<String>,
    /// Resolves merge conflicts. Default (when the key is absent): the coder ladder.
    pub resolver: Vec<String>,
}

/// `[review]`. The default (both off) is what an empty configuration resolves to: no reviewer, so
/// no review.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ReviewSettings {
    /// Whether diffs are reviewed. Default: whether `roles.reviewer` names anyone.
    pub enabled: bool,
    /// Whether a reviewer must be of another model family than the author. Default: on when the
    /// agents in `[roles]` come from two or more families. When on, the configuration is only
    /// accepted if every coder (and planner) has a reviewer (plan reviewer) of another family.
    pub cross_family: bool,
    /// What every reviewer checks, added to the reviewer's prompt. Default: none.
    pub checklist: Vec<String>,
    /// `[[review.paths]]`: more checks when a change touches matching paths, in file order.
    pub paths: Vec<ReviewPathRule>,
    /// `[[review.extra]]`: reviewers with a focus of their own, run in file order after the main
    /// reviewer approves; a change is approved only when all of them approve.
    pub extra: Vec<ExtraReviewer>,
}

/// `[[review.paths]]`: when a change touches a path matching `glob`, the reviewer also checks
/// `checklist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewPathRule {
    /// A glob over repository-relative paths, as in `[[risk.paths]]`.
    pub glob: String,
    /// What to check.
    pub checklist: Vec<String>,
}

/// `[[review.extra]]`: one more reviewer, with its own focus (for example security).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtraReviewer {
    /// An agent from `[agents]`.
    pub agent: String,
    /// What it looks at, told to it in its prompt.
    pub focus: String,
}

impl ReviewSettings {
    /// The checklist for a change touching `paths`: the global items, then those of every
    /// `[[review.paths]]` rule a path matches, each item once.
    pub fn checklist_for(&self, paths: &[String]) -> Vec<String> {
        let mut items: Vec<String> = self.checklist.clone();
        for rule in &self.paths {
            let Ok(glob) = crate::risk::compile_glob(&rule.glob) else {
                continue;
            };
            let matcher = glob.compile_matcher();
            let touched = paths
                .iter()
                .any(|p| matcher.is_match(p.strip_prefix("./").unwrap_or(p)));
            if touched {
                for item in &rule.checklist {
                    if !items.contains(item) {
                        items.push(item.clone());
                    }
                }
            }
        }
        items
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSettings {
    /// Port the daemon listens on; 0 picks a free one. Default: 7420.
    pub port: u16,
    /// Address the daemon listens on. Default: `127.0.0.1`. Any address that is not loopback
    /// (`0.0.0.0`, a LAN address) makes the daemon require the token named by `token_env`.
    pub host: IpAddr,
    /// The environment variable that holds the API token. Default: `GAFFER_TOKEN`. When it is set
    /// (and not blank) every API request must carry the token, on loopback too; the daemon
    /// refuses to listen beyond loopback without one. The token itself never goes in the file.
    pub token_env: String,
}

/// The default `server.port`.
pub const DEFAULT_PORT: u16 = 7420;

/// The default `server.token_env`.
pub const DEFAULT_TOKEN_ENV: &str = "GAFFER_TOKEN";

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            port: DEFAULT_PORT,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            token_env: DEFAULT_TOKEN_ENV.to_string(),
        }
    }
}

pub(crate) fn as_optional_duration_text<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_str(&format_duration(*duration)),
        None => serializer.serialize_none(),
    }
}

pub(crate) fn as_duration_text<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_duration(*duration))
}
