//! The `gaffer.toml` that `gaffer init` writes: the detected verify command and the project's
//! name and target set, every other key present as a comment showing its default.

use crate::detect::Detected;
use crate::init_crew::InitCrew;

/// A fully commented `gaffer.toml` for a new project.
///
/// `detected` is the build system to take the verify command from (usually the first that
/// [`crate::detect`] returned); without one, `verify.command` is left for the person to fill in.
/// The text parses with [`crate::parse_str`] to the defaults plus the given name, target and the
/// detected commands.
pub fn init_template(project_name: &str, detected: Option<&Detected>, target: &str) -> String {
    init_template_with_crew(project_name, detected, target, &InitCrew::default())
}

/// [`init_template`] with the agents `gaffer init` found written as a crew that runs as it
/// stands (see [`InitCrew`]); the commented examples stay as alternatives.
pub fn init_template_with_crew(
    project_name: &str,
    detected: Option<&Detected>,
    target: &str,
    crew: &InitCrew,
) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    if let Some(detected) = detected {
        out.push_str(&format!(
            "#\n# `gaffer init` chose these commands because it {}.\n",
            detected.evidence
        ));
    }

    out.push_str(PROJECT_COMMENTS);
    out.push_str(&format!("name = {}\n", quote(project_name)));
    out.push_str(TARGET_COMMENTS);
    out.push_str(&format!("target = {}\n", quote(target)));
    out.push_str(STATE_DIR_COMMENTS);

    out.push_str(VERIFY_COMMENTS);
    match detected {
        Some(detected) => {
            out.push_str(&format!(
                "command = {}\n",
                quote(&detected.verify_command())
            ));
        }
        None => out.push_str(
            "# No build system was detected: set the command that proves a tree is good, e.g.\n\
             # command = \"make test\"\n",
        ),
    }
    out.push_str(TIMEOUT_COMMENTS);
    match detected.and_then(|d| d.setup.as_deref()) {
        Some(setup) => out.push_str(&format!("setup = {}\n", quote(setup))),
        None => out.push_str("# setup = \"npm ci\"\n"),
    }
    out.push_str(
        "# Verify sees GAFFER_VERIFY_PURPOSE (`branch` at the gate, `candidate` in the queue). When it\n\
         # does the same for both, a candidate whose tree its branch passed need not run again:\n\
         # skip_identical_candidates = true\n",
    );

    let rest = match REST.split_once("[roles]\n") {
        Some((agents, roles)) if !crew.is_empty() => {
            // The role assignments go after the comment block that opens [roles].
            let comments_end = roles.find("\n\n").map(|i| i + 1).unwrap_or(roles.len());
            format!(
                "{agents}{}[roles]\n{}{}{}",
                crew.agent_tables(),
                &roles[..comments_end],
                crew.roles(),
                &roles[comments_end..]
            )
        }
        _ => REST.to_string(),
    };
    out.push_str(&rest);
    out
}

/// A TOML string literal.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

const HEADER: &str = "\
# gaffer.toml: how gaffer runs its crew of coding agents on this repository.
#
# Commit this file. Every key is optional; a commented-out key shows its default. Environment
# variables override the file (GAFFER_<SECTION>__<KEY>, e.g. GAFFER_ENGINE__CONCURRENCY=8), and
# `--set <section>.<key>=<value>` flags override both. Durations are written \"90s\", \"20m\",
# \"1h30m\" or as a whole number of seconds.
";

const PROJECT_COMMENTS: &str = "
[project]
# Display name of the project.
";

const TARGET_COMMENTS: &str = "\
# The branch gaffer lands finished work on. It only ever moves forward, to trees that passed
# verify; gaffer never checks it out or touches your own working tree.
";

const STATE_DIR_COMMENTS: &str = "\
# Where gaffer keeps its database and worktrees; relative to the repository root.
# Default: <git common dir>/gaffer (usually .git/gaffer).
# state_dir = \".git/gaffer\"
# The git remote the target lives on: landed work is pushed there with a lease, never forced.
# remote = \"origin\"
";

const VERIFY_COMMENTS: &str = "
[verify]
# The command that decides whether a tree may land, run by the shell in a worktree: exit status 0
# passes. Nothing reaches the target branch without passing it on exactly the tree that lands.
";

const TIMEOUT_COMMENTS: &str = "\
# A verify run that takes longer than this fails.
# timeout = \"20m\"
# Run once in each new worktree before anything else, e.g. to install dependencies.
";

const REST: &str = r#"
[engine]
# Agents running at once (1 to 64).
# concurrency = 4
# A claimed job returns to the queue when its worker stops renewing it for this long.
# lease = "30s"
# How often workers renew their leases; must be shorter than lease.
# heartbeat = "10s"
# Idle worktrees kept ready for reuse (0 to 64).
# worktree_pool = 4
# Touch only what changed in task worktrees (inotify) rather than every file. Turn off only for
# worktrees on a filesystem whose changes the kernel does not see (written from another machine).
# worktree_watch = true
# Pause between starting two agents, to spread load on the machine and the model provider.
# agent_stagger = "0s"
# A run with no event for this long is stalled: stopped, and retried or escalated.
# stall_after = "10m"
# With nothing ready or running, one agent surveys the code read-only and files proposals
# (within budget.idle_usd per day), at most once per idle_every.
# idle = false
# idle_every = "1h"

[limits]
# Failed verify runs on one model tier before moving up the coder ladder.
# verify_failures_per_tier = 2
# Rounds of requested changes before a person decides.
# review_rounds = 2
# Rejected plans before the task fails.
# plan_rounds = 2
# Merge attempts (conflicts, a moved target) before the task fails.
# merge_attempts = 3
# Retries of a run lost with its worker (a crash, an expired lease); 0 turns retrying off.
# lost_run_retries = 3

[queue]
# How a branch is applied on the target and the branches ahead of it: "merge" (a merge commit
# each) or "rebase" (one commit each, its change squashed).
# strategy = "merge"
# Candidates tested at once, each on top of those ahead of it (1 to 64; 1 is a serial queue).
# max_candidates = 8
# Branches tested together as one candidate, landing as one commit when it passes and bisected
# to find the guilty branch when it fails: "auto" (only while more branches wait than the heavy
# slots can test one by one; smaller batches as more branches fail) or a number (1: each branch
# alone).
# batch = "auto"

[host]
# Verify runs at once on this machine, for the queue and the coders together (default: CPUs).
# heavy_slots = 4
# Hold them back while the load average is above this, or free memory below this.
# max_load = 6.0
# min_free_memory = "2GiB"
# What this machine has: tasks added with `--needs gpu`, and agents with needs = ["gpu"], run
# only on machines labelled gpu. Set it per machine (GAFFER_HOST__LABELS=gpu or
# `gaffer up --label gpu`): this file is shared.
# labels = ["gpu"]

# Agents: give each a name and a backend. Backends:
#   claude     the Claude Code CLI            (family "anthropic")
#   codex      the Codex CLI                  (family "openai")
#   openai     any OpenAI-compatible API: Ollama, vLLM, LM Studio, llama.cpp; needs model
#   anthropic  the Anthropic Messages API; needs model
#   command    any other agent CLI; needs command, a shell command line in which {prompt},
#              {prompt_file}, {model} and {dir} are replaced (any other {name} is an error)
#   scripted   replays a script file; for tests and demos; needs script
# family is what cross-family review compares; it defaults from the backend, and for command
# and scripted agents to the agent's name. base_url points an agent at another endpoint.
# Limits for any agent: max_turns (1 to 1000), max_output_tokens (per response),
# max_total_tokens (per run), timeout (per run). api_key_env names the variable holding the
# API key (default ANTHROPIC_API_KEY or OPENAI_API_KEY); never write a key in this file.
# claude takes permission_mode and skip_permissions, codex takes sandbox, both take args (extra
# CLI arguments); openai and anthropic take retries (on 429 and 5xx, default 3); env adds
# environment variables. needs = ["gpu"] runs an agent only on machines labelled gpu (a local
# model only that machine serves). See gaffer.example.toml for every key.
#
# [agents.claude]
# backend = "claude"
# model = "sonnet"
# permission_mode = "acceptEdits"
# max_turns = 60
# timeout = "30m"
#
# [agents.claude-opus]
# backend = "claude"
# model = "opus"
# skip_permissions = true
# args = ["--add-dir", "../shared-docs"]
#
# [agents.codex]
# backend = "codex"
# sandbox = "workspace-write"
# api_key_env = "OPENAI_API_KEY"
#
# [agents.local]
# backend = "openai"
# model = "qwen2.5-coder:32b"
# base_url = "http://127.0.0.1:11434/v1"
# family = "qwen"
# max_output_tokens = 8192
# max_total_tokens = 2000000
# retries = 3
#
# [agents.aider]
# backend = "command"
# command = "aider --yes --model {model} --message-file {prompt_file}"
# model = "ollama/qwen2.5-coder"
# env = { OLLAMA_API_BASE = "http://127.0.0.1:11434" }
#
# [agents.demo]
# backend = "scripted"
# script = "demo/script.json"

[roles]
# Which agents do what, by name. coder is a ladder, lowest tier first: a task moves up after
# repeated verify failures. resolver rewrites branches that no longer apply to the target
# (default: the coder ladder).
# coder = ["claude", "claude-opus"]
# reviewer = ["codex"]
# planner = []
# plan_reviewer = []
# resolver = ["claude-opus"]

[review]
# Review every diff before it is queued. Default: on when roles.reviewer names an agent.
# enabled = true
# Never let a model review its own family's work. Default: on when the agents in [roles] come
# from two or more families; then every coder needs a reviewer of another family.
# cross_family = true
# What every reviewer checks, added to its prompt.
# checklist = ["every public function has a test"]
#
# More checks when a change touches matching paths.
# [[review.paths]]
# glob = "migrations/**"
# checklist = ["the migration can be rolled back"]
#
# Extra reviewers with a focus of their own, after the main reviewer approves.
# [[review.extra]]
# agent = "codex"
# focus = "security"

[risk]
# Tasks at or above this risk wait for a person to approve the merge:
# "low", "medium", "high", "critical", or "never".
# approval_at = "high"
#
# A task touching a matching path, or carrying a matching label, has at least that risk.
# [[risk.paths]]
# glob = "migrations/**"
# risk = "high"
#
# [[risk.labels]]
# label = "security"
# risk = "critical"

[server]
# The daemon and dashboard listen on 127.0.0.1 at this port.
# port = 7420
# To reach them from other machines, listen on another address; the daemon then requires the
# token held in the environment variable named by token_env (never write the token here).
# host = "0.0.0.0"
# token_env = "GAFFER_TOKEN"

[privacy]
# "local" refuses to start while any agent's endpoint is off this machine and its private
# network: each needs a base_url such as "http://127.0.0.1:11434/v1" (host names other than
# localhost are not resolved, so write the address). Command agents are not checked.
# mode = "any"

[sandbox]
# Runs are confined with bubblewrap when the host has it: only the task's worktree is writable,
# your home and gaffer's state are hidden, and verify and setup get no network.
# mode = "auto"
# read = ["~/.config/my-tool"]
# write = []
# pass_env = ["HTTPS_PROXY"]
# [sandbox.network]
# agents = false
# tools = false
# verify = false
# setup = false
# [sandbox.hosts]
# agents = []
# tools = []
# verify = ["static.crates.io:443"]
# setup = []

[secrets]
# Environment variables whose values gaffer must never store or show (agents' keys and the
# server token are known already).
# vars = ["DATABASE_URL"]

[scope]
# A change that edits files outside its task's declared write scope (task add --scope) goes back
# to its coder with the paths ("reject"), is shown to the reviewer ("review"), or is let be ("off").
# enforce = "reject"

# Tell people when they are needed, when work lands or fails, and when a budget stops work:
# webhooks (generic JSON, ntfy, Slack-compatible) and local commands. Each hook gets one message
# per burst of events, collected for `batch`; failed deliveries are retried.
# [notify]
# batch = "5s"
#
# [[notify.webhook]]
# url = "https://ntfy.sh/<a-topic-of-yours>"
# kind = "ntfy"
# events = ["needs_input", "needs_approval", "merged", "failed", "budget"]
# token_env = "NTFY_TOKEN"
#
# [[notify.command]]
# command = "./scripts/gaffer-report.sh"
# events = ["merged", "failed"]
# timeout = "60s"

# What models cost, in US dollars per million tokens, for agents that report no cost. gaffer
# ships no prices; write the model name exactly as `gaffer usage` shows it.
# [prices."qwen2.5-coder:32b"]
# input = 0
# output = 0
# cached_input = 0

[budget]
# What runs may spend, in US dollars; a run that would go past a budget does not start and its
# task waits for a person. Per task (unless the task sets its own), per UTC day, and per UTC day
# on idle surveys.
# task_usd = 5.0
# day_usd = 50.0
# idle_usd = 1.0

[store]
# Where the board is kept. Default: one SQLite file in the state directory (one machine). A
# PostgreSQL URL lets several daemons and workers on several machines share one board; move an
# existing board there with `gaffer store copy --to URL`.
# url = "postgres://gaffer@db-host:5432/gaffer"
# One board per schema: projects sharing a database each name their own (default "public").
# schema = "my_project"
"#;
