//! The tools: what an MCP client (a person's own agent session, or an agent gaffer runs) can do
//! with the board. Each one is one or two calls of the daemon's HTTP API.

use gaffer_api::{Action, Api, ApiError, Place, TaskChanges, TaskId, paths};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The environment variable naming the task an agent works on; gaffer sets it for every agent
/// process it starts (and `GAFFER_RUN` for the run).
pub const TASK_ENV: &str = "GAFFER_TASK";
/// The environment variable naming the agent's run.
pub const RUN_ENV: &str = "GAFFER_RUN";

/// What the server tells a client about itself when it connects.
const INSTRUCTIONS: &str = "gaffer is a foreman for AI coding agents: it runs many agents on one \
repository, verifies and reviews their work, and lands it on the target branch in order, keeping \
it green. These tools act on its board. To get work done, add tasks (add_task) with a clear title \
and a body that says what done looks like, or hand a larger goal to gaffer's planner (plan_goal). \
Watch progress with list_tasks, show_task and queue_status; tasks in needs_input wait for an \
answer (answer) and tasks in awaiting_approval for approve or reject; say tells a task's agent \
something while it works, attach_task and release_task take a task over by hand and give it \
back. Redirect waiting work with update_task (dependencies, scopes, priority) and \
move_in_queue; undo a merged task with revert_task. An agent that gaffer itself runs reports \
with report_progress, asks a person with ask_person, and files ideas outside its task with \
propose.";

/// The MCP server: the board's tools over an [`Api`].
#[derive(Clone)]
pub struct GafferMcp {
    api: Api,
    /// The task and run of the agent this server runs for (`GAFFER_TASK`, `GAFFER_RUN`), if any.
    agent: AgentContext,
    tool_router: ToolRouter<GafferMcp>,
}

/// Which task (and run) the agent that started this server works on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentContext {
    pub task: Option<i64>,
    pub run: Option<i64>,
}

impl AgentContext {
    /// From `GAFFER_TASK` and `GAFFER_RUN` (values that are not numbers count as absent).
    pub fn from_env() -> AgentContext {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        AgentContext {
            task: read(TASK_ENV),
            run: read(RUN_ENV),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListTasksArgs {
    /// Only tasks in these statuses: backlog, ready, planning, plan_review, delegated, coding,
    /// verifying, reviewing, awaiting_approval, queued, merging, merged, needs_input, failed,
    /// cancelled. All tasks when empty or absent.
    #[serde(default)]
    pub status: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskIdArgs {
    /// The task's id.
    pub id: i64,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct AddTaskArgs {
    /// A short imperative title, e.g. "Add a /health endpoint".
    pub title: String,
    /// What to do and how to know it is done: the agent's brief.
    #[serde(default)]
    pub body: Option<String>,
    /// Labels (risk rules in gaffer.toml may match them).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Higher runs first (default 0).
    #[serde(default)]
    pub priority: Option<i32>,
    /// task (default), epic (a goal for the planner), question or proposal.
    #[serde(default)]
    pub kind: Option<String>,
    /// low (default), medium, high or critical; at or above the configured level a person
    /// approves before the change lands.
    #[serde(default)]
    pub risk: Option<String>,
    /// Ids of tasks that must merge before this one starts.
    #[serde(default)]
    pub depends_on: Vec<i64>,
    /// Paths (globs) the task may change; tasks whose scopes overlap do not run at once.
    #[serde(default)]
    pub write_scope: Vec<String>,
    /// Paths (globs) worth reading first.
    #[serde(default)]
    pub read_scope: Vec<String>,
    /// Have the planner plan it before coding.
    #[serde(default)]
    pub plan: Option<bool>,
    /// The parent task's id.
    #[serde(default)]
    pub parent: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateTaskArgs {
    /// The task's id.
    pub id: i64,
    /// A new title.
    #[serde(default)]
    pub title: Option<String>,
    /// A new body (replaces the old one).
    #[serde(default)]
    pub body: Option<String>,
    /// New labels (replace the old ones).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// A new priority.
    #[serde(default)]
    pub priority: Option<i32>,
    /// Ids of tasks it must also wait for (they must merge before it starts). A ready task given
    /// one that has not merged goes back to the backlog until it has.
    #[serde(default)]
    pub add_depends_on: Vec<i64>,
    /// Ids of tasks it no longer waits for.
    #[serde(default)]
    pub remove_depends_on: Vec<i64>,
    /// A new write scope: paths (globs) the task may change (replaces the old one; [] clears).
    #[serde(default)]
    pub write_scope: Option<Vec<String>>,
    /// A new read scope: paths (globs) worth reading first (replaces the old one; [] clears).
    #[serde(default)]
    pub read_scope: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MoveArgs {
    /// The id of a task waiting to join the merge train (status queued).
    pub id: i64,
    /// Its place in the waiting line, 1 being the head. Give exactly one of to, before, after.
    #[serde(default)]
    pub to: Option<u32>,
    /// The id of a waiting task it goes just ahead of.
    #[serde(default)]
    pub before: Option<i64>,
    /// The id of a waiting task it goes just behind.
    #[serde(default)]
    pub after: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanGoalArgs {
    /// The goal, in as much detail as the planner needs: what, why, constraints, how to know it
    /// is done.
    pub goal: String,
    /// A short title (default: the goal's first line).
    #[serde(default)]
    pub title: Option<String>,
    /// Labels for the epic (its subtasks inherit them).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Priority of the epic (its subtasks inherit it).
    #[serde(default)]
    pub priority: Option<i32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnswerArgs {
    /// The id of the task waiting in needs_input.
    pub id: i64,
    /// The answer; the agent resumes with it.
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SayArgs {
    /// The id of the task whose agent should hear it.
    pub id: i64,
    /// What the agent should know or do differently.
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RejectArgs {
    /// The id of the task waiting in awaiting_approval.
    pub id: i64,
    /// What is wrong; the coder gets it as feedback.
    pub reason: String,
    /// Cancel the task instead of sending it back to the coder.
    #[serde(default)]
    pub cancel: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RetryArgs {
    /// The task's id.
    pub id: i64,
    /// Start afresh: a new branch from the target (the old branch and the task's evidence are
    /// kept), the bottom of the coder ladder, a fresh agent session. Default: go on from the
    /// failed branch as it is.
    #[serde(default)]
    pub fresh: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CancelArgs {
    /// The task's id.
    pub id: i64,
    /// Why (recorded on the task).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeclineArgs {
    /// The proposal's id.
    pub id: i64,
    /// Why (recorded on the task).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetArgs {
    /// The task's id.
    pub id: i64,
    /// The budget in US dollars, zero or more; null for the project's default. Required: a
    /// call that leaves it out is refused rather than read as "the default".
    #[serde(deserialize_with = "gaffer_api::present")]
    #[schemars(required)]
    pub usd: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProgressArgs {
    /// What you are doing now, in a line or two.
    pub text: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AskArgs {
    /// The question, with the context a person needs to answer it without reading your
    /// transcript.
    pub question: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProposeArgs {
    /// A short imperative title for the improvement, e.g. "Cache the parsed config".
    pub title: String,
    /// What to change, where, and why it is worth it.
    #[serde(default)]
    pub body: String,
}

/// The note of a proposal made outside a run (inside one, the daemon writes who proposed it).
const PROPOSED_OUTSIDE_A_RUN: &str = "Proposed by an MCP client.";

/// What a tool answers: the API's JSON, or its error in words.
type ToolResult = Result<CallToolResult, ErrorData>;

fn ok(value: &Value) -> ToolResult {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
}

fn failed(message: String) -> ToolResult {
    Ok(CallToolResult::error(vec![ContentBlock::text(message)]))
}

fn answer(result: Result<Value, ApiError>) -> ToolResult {
    match result {
        Ok(value) => ok(&value),
        Err(e) => failed(e.explain()),
    }
}

/// The fields of a task worth showing in a list.
fn summary(task: &Value) -> Value {
    let mut out = json!({
        "id": task["id"],
        "title": task["title"],
        "status": task["state"]["status"],
        "kind": task["kind"],
        "priority": task["priority"],
        "risk": task["state"]["risk"],
    });
    for key in ["labels", "blocked_by"] {
        if task[key].as_array().is_some_and(|a| !a.is_empty()) {
            out[key] = task[key].clone();
        }
    }
    if !task["parent"].is_null() {
        out["parent"] = task["parent"].clone();
    }
    if let Some(note) = task["state"]["note"].as_str() {
        out["note"] = json!(note);
    }
    out
}

fn summaries(tasks: &Value) -> Value {
    Value::Array(
        tasks
            .as_array()
            .map(|tasks| tasks.iter().map(summary).collect())
            .unwrap_or_default(),
    )
}

impl GafferMcp {
    /// Sends a person's action as every client does (its route and body from `Action`).
    async fn act(&self, id: i64, action: Action) -> ToolResult {
        answer(self.api.post(&action.path(id), &action.body()).await)
    }
}

#[tool_router]
impl GafferMcp {
    pub fn new(api: Api, agent: AgentContext) -> GafferMcp {
        GafferMcp {
            api,
            agent,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "List the board's tasks (id, title, status, kind, priority, risk, labels, dependencies, and the note of a task waiting on a person), optionally only some statuses.",
        annotations(read_only_hint = true)
    )]
    async fn list_tasks(&self, Parameters(args): Parameters<ListTasksArgs>) -> ToolResult {
        let statuses: Vec<&str> = args
            .status
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let path = paths::tasks_in(&statuses);
        match self.api.get(&path).await {
            Ok(tasks) => ok(&summaries(&tasks)),
            Err(e) => failed(e.explain()),
        }
    }

    #[tool(
        description = "Show one task in full: what it asks, where it is in the pipeline (state), its agent runs with their outcomes, usage and cost, and its jobs.",
        annotations(read_only_hint = true)
    )]
    async fn show_task(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        answer(self.api.get(&paths::task(args.id)).await)
    }

    #[tool(
        description = "Add a task to the board. gaffer schedules it once its dependencies merged, runs a coding agent in its own worktree, verifies, reviews and lands the change. Answers the task as created, with its id."
    )]
    async fn add_task(&self, Parameters(args): Parameters<AddTaskArgs>) -> ToolResult {
        let mut body = json!({
            "title": args.title,
            "labels": args.labels,
            "blocked_by": args.depends_on,
            "write_scope": args.write_scope,
            "read_scope": args.read_scope,
        });
        if let Some(text) = args.body {
            body["body"] = json!(text);
        }
        if let Some(priority) = args.priority {
            body["priority"] = json!(priority);
        }
        if let Some(kind) = args.kind {
            body["kind"] = json!(kind.trim().to_ascii_lowercase());
        }
        if let Some(risk) = args.risk {
            body["risk"] = json!(risk.trim().to_ascii_lowercase());
        }
        if let Some(plan) = args.plan {
            body["plan"] = json!(plan);
        }
        if let Some(parent) = args.parent {
            body["parent"] = json!(parent);
        }
        answer(self.api.post(paths::TASKS, &body).await)
    }

    #[tool(
        description = "Change a task before work on it starts (while it is in backlog or ready): its title, body, labels, priority, write and read scopes, and what it waits for (add_depends_on, remove_depends_on; a cycle, an unknown or a cancelled task is refused). Fields left out stay as they are. Answers the task as it is now."
    )]
    async fn update_task(&self, Parameters(args): Parameters<UpdateTaskArgs>) -> ToolResult {
        let ids = |ids: Vec<i64>| ids.into_iter().map(TaskId).collect();
        let changes = TaskChanges {
            title: args.title,
            body: args.body,
            labels: args.labels,
            priority: args.priority,
            add_deps: ids(args.add_depends_on),
            remove_deps: ids(args.remove_depends_on),
            write_scope: args.write_scope,
            read_scope: args.read_scope,
        };
        if changes.is_empty() {
            return failed("update_task needs something to change: title, body, labels, priority, add_depends_on, remove_depends_on, write_scope or read_scope".into());
        }
        answer(self.api.patch(&paths::task(args.id), &changes).await)
    }

    #[tool(
        description = "Undo a merged task: gaffer makes the revert of its landing itself and files it as a new task (title Revert \"...\", label reverts:<id>) that is verified and lands through the merge queue like any change; the target is never pushed to directly. Refused when the task has not merged, is reverted already, or when later work conflicts with it (the files are named). Answers the new task."
    )]
    async fn revert_task(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        self.act(args.id, Action::Revert).await
    }

    #[tool(
        description = "Reorder the merge queue's waiting line: put a task waiting to join the merge train (status queued) at a place (to: 1 is the head), or just before or after another waiting task. Tasks already in the train keep their order. Answers the moved task."
    )]
    async fn move_in_queue(&self, Parameters(args): Parameters<MoveArgs>) -> ToolResult {
        let to = match (args.to, args.before, args.after) {
            (Some(place), None, None) => Place::To(place),
            (None, Some(before), None) => Place::Before(TaskId(before)),
            (None, None, Some(after)) => Place::After(TaskId(after)),
            _ => {
                return failed(
                    "move_in_queue needs exactly one of to (a place from 1), before or after (a waiting task's id)".into(),
                );
            }
        };
        self.act(args.id, Action::Move { to }).await
    }

    #[tool(
        description = "Hand a larger goal to gaffer's planner: adds an epic whose planner breaks it into subtasks (a plan reviewer may check the plan first); the subtasks then run like any task. Needs a planner configured in gaffer.toml (roles.planner)."
    )]
    async fn plan_goal(&self, Parameters(args): Parameters<PlanGoalArgs>) -> ToolResult {
        let goal = args.goal.trim().to_string();
        if goal.is_empty() {
            return failed("plan_goal needs a goal".into());
        }
        let title = args
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| first_line(&goal));
        let mut body = json!({
            "title": title,
            "body": goal,
            "kind": "epic",
            "plan": true,
            "labels": args.labels,
        });
        if let Some(priority) = args.priority {
            body["priority"] = json!(priority);
        }
        answer(self.api.post(paths::TASKS, &body).await)
    }

    #[tool(
        description = "Answer the question of a task waiting in needs_input (see its note); its agent resumes with the answer."
    )]
    async fn answer(&self, Parameters(args): Parameters<AnswerArgs>) -> ToolResult {
        self.act(args.id, Action::Answer { text: args.text }).await
    }

    #[tool(
        description = "Say something to a task's agent (steer it): its run going on in the daemon hears it at its next turn (Claude Code, gaffer's own loop), or stops and resumes its session with the message first (other agents); otherwise the task's next run starts with it. Refused for a task that is merged, cancelled or failed."
    )]
    async fn say(&self, Parameters(args): Parameters<SayArgs>) -> ToolResult {
        self.act(args.id, Action::Say { text: args.text }).await
    }

    #[tool(
        description = "Take a task over by hand (it becomes attached): its running work stops and gaffer leaves it alone until it is released. Answers the task, its worktree path and, when its agent has an interactive CLI, the shell command that resumes the agent's last session there. Refused on a board several daemons share."
    )]
    async fn attach_task(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        self.act(args.id, Action::Attach).await
    }

    #[tool(
        description = "Hand an attached task back: gaffer commits what was left uncommitted in its worktree (as the repository's user; commits made there count too) and the task goes on to verify, review and the merge queue, or back to its coder when the branch holds no change."
    )]
    async fn release_task(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        self.act(args.id, Action::Release).await
    }

    #[tool(
        description = "Approve a task waiting in awaiting_approval (its change is risky enough that a person decides); it goes on to land."
    )]
    async fn approve(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        self.act(args.id, Action::Approve).await
    }

    #[tool(
        description = "Reject a task waiting in awaiting_approval: back to its coder with the reason, or cancelled."
    )]
    async fn reject(&self, Parameters(args): Parameters<RejectArgs>) -> ToolResult {
        let action = Action::Reject {
            reason: args.reason,
            cancel: args.cancel,
        };
        self.act(args.id, action).await
    }

    #[tool(description = "Cancel a task; its running work stops and its dependents are cancelled.")]
    async fn cancel_task(&self, Parameters(args): Parameters<CancelArgs>) -> ToolResult {
        let action = Action::Cancel {
            reason: args.reason,
        };
        self.act(args.id, action).await
    }

    #[tool(
        description = "Retry a failed task from the start of its pipeline: on its branch as it is, or with fresh=true from scratch on a new branch from the target."
    )]
    async fn retry_task(&self, Parameters(args): Parameters<RetryArgs>) -> ToolResult {
        let action = Action::Retry { fresh: args.fresh };
        self.act(args.id, action).await
    }

    #[tool(
        description = "Accept a proposal (a task of kind proposal, suggested by an agent): it becomes a task and is worked on when its dependencies allow."
    )]
    async fn accept_proposal(&self, Parameters(args): Parameters<TaskIdArgs>) -> ToolResult {
        self.act(args.id, Action::Accept).await
    }

    #[tool(description = "Decline a proposal: it is cancelled, with the reason recorded.")]
    async fn decline_proposal(&self, Parameters(args): Parameters<DeclineArgs>) -> ToolResult {
        let action = Action::Decline {
            reason: args.reason,
        };
        self.act(args.id, action).await
    }

    #[tool(
        description = "Set a task's own budget in US dollars (null: the project's default, budget.task_usd). A task held by its budget starts again when the budgets allow."
    )]
    async fn set_budget(&self, Parameters(args): Parameters<BudgetArgs>) -> ToolResult {
        self.act(args.id, Action::Budget { usd: args.usd }).await
    }

    #[tool(
        description = "The merge queue: tasks verified and reviewed that wait to land or are landing, in order, and those waiting for approval.",
        annotations(read_only_hint = true)
    )]
    async fn queue_status(&self) -> ToolResult {
        match self.api.get(paths::QUEUE).await {
            Ok(queue) => ok(&queue),
            // A daemon without the queue route: the same picture from the task list.
            Err(e) if e.status == Some(404) && e.message.contains("no route") => {
                let path = paths::tasks_in(&["awaiting_approval", "queued", "merging"]);
                match self.api.get(&path).await {
                    Ok(tasks) => ok(&json!({
                        "tasks": summaries(&tasks),
                        "note": "this daemon has no GET /api/queue; these are the tasks awaiting approval, queued or merging",
                    })),
                    Err(e) => failed(e.explain()),
                }
            }
            Err(e) => failed(e.explain()),
        }
    }

    #[tool(
        description = "Tokens and cost of every agent run of the project so far.",
        annotations(read_only_hint = true)
    )]
    async fn usage(&self) -> ToolResult {
        answer(self.api.get(paths::USAGE).await)
    }

    #[tool(
        description = "The board at a glance: task counts by status, where work lands, and every task in brief.",
        annotations(read_only_hint = true)
    )]
    async fn board_status(&self) -> ToolResult {
        match self.api.get(paths::STATUS).await {
            Ok(status) => ok(&json!({
                "project": status["project"]["name"],
                "counts": status["counts"],
                "landing": status["landing"],
                "tasks": summaries(&status["tasks"]),
            })),
            Err(e) => failed(e.explain()),
        }
    }

    #[tool(
        description = "File an idea for an improvement you noticed but that is not part of your task (a bug waiting to happen, missing tests, confusing code). It becomes a proposal on the board that waits for a person to accept (it then becomes a task) or decline it; nothing runs until then. Answers the proposal with its id."
    )]
    async fn propose(&self, Parameters(args): Parameters<ProposeArgs>) -> ToolResult {
        let title = args.title.trim().to_string();
        if title.is_empty() {
            return failed("propose needs a title".into());
        }
        // Inside a run, through the task's own route: the one a run's token may call, and the
        // daemon notes which agent and run proposed it.
        if let Some(task) = self.agent.task {
            let body = json!({ "title": title, "body": args.body, "run": self.agent.run });
            let path = paths::task_route(task, "propose");
            return answer(self.api.post(&path, &body).await);
        }
        let body = match args.body.trim() {
            "" => PROPOSED_OUTSIDE_A_RUN.to_string(),
            text => format!("{text}\n\n{PROPOSED_OUTSIDE_A_RUN}"),
        };
        let body = json!({ "title": title, "body": body, "kind": "proposal" });
        answer(self.api.post(paths::TASKS, &body).await)
    }

    #[tool(
        description = "For an agent that gaffer runs: report what you are doing, in a line or two. People watching the board see it live. Works only inside a gaffer run (GAFFER_TASK is set)."
    )]
    async fn report_progress(&self, Parameters(args): Parameters<ProgressArgs>) -> ToolResult {
        let Some(task) = self.agent.task else {
            return failed(not_in_a_run("report_progress"));
        };
        let body = json!({ "text": args.text, "run": self.agent.run });
        match self
            .api
            .post(&paths::task_route(task, "progress"), &body)
            .await
        {
            Ok(_) => ok(&json!({ "recorded": true, "task": task })),
            Err(e) => failed(e.explain()),
        }
    }

    #[tool(
        description = "For an agent that gaffer runs: ask a person a question you cannot answer yourself (a decision, missing information). After asking, end your turn with a short summary: the task waits for the answer, and you resume in this same session with it. Works only inside a gaffer run (GAFFER_TASK is set)."
    )]
    async fn ask_person(&self, Parameters(args): Parameters<AskArgs>) -> ToolResult {
        let Some(task) = self.agent.task else {
            return failed(not_in_a_run("ask_person"));
        };
        let body = json!({ "question": args.question, "run": self.agent.run });
        match self.api.post(&paths::task_route(task, "ask"), &body).await {
            Ok(_) => ok(&json!({
                "recorded": true,
                "task": task,
                "next": "End your turn now with a short summary of where you are. When a person answers, you resume in this session with the answer.",
            })),
            Err(e) => failed(e.explain()),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for GafferMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("gaffer", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

fn not_in_a_run(tool: &str) -> String {
    format!(
        "{tool} is for agents that gaffer runs: {TASK_ENV} is not set in this MCP server's \
         environment.\nhint: gaffer sets {TASK_ENV} for every agent it starts; outside a run, \
         use show_task, answer or add_task instead"
    )
}

/// The first line of `text`, shortened to a title.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    const MAX: usize = 80;
    if line.chars().count() <= MAX {
        return line.to_string();
    }
    let short: String = line.chars().take(MAX - 1).collect();
    format!("{}…", short.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(
            first_line("Ship dark mode\nwith a toggle"),
            "Ship dark mode"
        );
        let long = "x".repeat(200);
        assert_eq!(first_line(&long).chars().count(), 80);
    }

    #[test]
    fn a_summary_keeps_what_matters() {
        let task = json!({
            "id": 3, "title": "T", "kind": "task", "priority": 1, "labels": [], "blocked_by": [2],
            "parent": null, "state": {"status": "needs_input", "risk": "low", "note": "Which?"}
        });
        assert_eq!(
            summary(&task),
            json!({"id": 3, "title": "T", "status": "needs_input", "kind": "task",
                   "priority": 1, "risk": "low", "blocked_by": [2], "note": "Which?"})
        );
    }
}
