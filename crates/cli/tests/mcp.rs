//! `gaffer mcp` driven by independent MCP clients against a real daemon:
//!
//! 1. the Python SDK (`mcp` from PyPI, the version in [`MCP_PACKAGE`]): lists the tools, adds a
//!    task, reads it back, updates it, and sees the API's errors as tool errors; and an agent's
//!    `report_progress` lands on its running run;
//! 2. the real Claude Code CLI (`@anthropic-ai/claude-code`, see [`CLAUDE_PACKAGE`]) against the
//!    scripted model server, with gaffer registered as its MCP server: the model's call of
//!    `mcp__gaffer__add_task` creates a task on the board.
//!
//! A missing Python package or CLI fails the test with the command that installs it, unless
//! `GAFFER_SKIP_MCP_E2E=1` is set outside CI, in which case the test says loudly that it did not
//! run. With `CI` set, nothing is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli/common.rs"]
#[allow(dead_code)]
mod common;

use common::{Project, wait_until};
use gaffer_mock_llm::{MockServer, Script};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The Python MCP SDK the first test is written against (what `.ci/run` installs).
const MCP_PACKAGE: &str = "mcp==2.3.0";
/// The Claude Code CLI the second test is written against (what `.ci/run` installs).
const CLAUDE_PACKAGE: &str = "@anthropic-ai/claude-code@2.1.329";

/// Every tool `gaffer mcp` offers.
const TOOLS: [&str; 24] = [
    "accept_proposal",
    "add_task",
    "answer",
    "approve",
    "ask_person",
    "attach_task",
    "board_status",
    "cancel_task",
    "decline_proposal",
    "list_tasks",
    "move_in_queue",
    "plan_goal",
    "propose",
    "queue_status",
    "reject",
    "release_task",
    "report_progress",
    "retry_task",
    "revert_task",
    "say",
    "set_budget",
    "show_task",
    "update_task",
    "usage",
];

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Fails (or, outside CI with `GAFFER_SKIP_MCP_E2E=1`, skips loudly) for a missing prerequisite.
fn missing(what: &str, install: &str) -> bool {
    let skip = std::env::var("GAFFER_SKIP_MCP_E2E").is_ok_and(|v| v == "1");
    if skip && !in_ci() {
        eprintln!(
            "\n!!!!!!!! SKIPPED: {what}. This MCP end-to-end test did NOT run. Install it with `{install}`. !!!!!!!!\n"
        );
        return true;
    }
    panic!(
        "{what}: install it with `{install}`{}",
        if in_ci() {
            " (CI is set: end-to-end tests may not be skipped)"
        } else {
            "; or set GAFFER_SKIP_MCP_E2E=1 to skip this test"
        }
    );
}

/// The environment the Python client (and so `gaffer mcp`, which inherits it) runs in: the
/// project's hermetic git environment, but Python's own user site kept visible.
fn python_env(project: &Project) -> Vec<(String, String)> {
    let mut env = gaffer_test_support::hermetic_git_env(project.repo.home());
    let user_base = Command::new("python3")
        .args(["-c", "import site; print(site.getuserbase())"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(base) = user_base {
        env.push(("PYTHONUSERBASE".into(), base));
    }
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    env.push((
        "TMPDIR".into(),
        project.repo.scratch("tmp").display().to_string(),
    ));
    env
}

/// Whether `python3` can import the `mcp` package in `env` (fails or skips when it cannot).
fn python_mcp_available(env: &[(String, String)]) -> bool {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import importlib.metadata as m, mcp; print(m.version('mcp'))",
        ])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output();
    match probe {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let wanted = MCP_PACKAGE.trim_start_matches("mcp==");
            if version != wanted {
                eprintln!(
                    "note: the mcp package is {version}; this test was written against {wanted}"
                );
            }
            true
        }
        Ok(out) => !missing(
            &format!(
                "the Python package `mcp` cannot be imported by python3 ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            &format!("pip install {MCP_PACKAGE}"),
        ),
        Err(e) => !missing(
            &format!("python3 cannot be run ({e})"),
            &format!("apt-get install python3 python3-pip && pip install {MCP_PACKAGE}"),
        ),
    }
}

/// Starts a task whose scripted agent runs for ten minutes and waits until its run is going.
fn a_long_running_task(project: &Project) -> i64 {
    let id = project.add_task("Take it slow", &[]);
    wait_until("the slow task's run", Duration::from_secs(60), || {
        let shown = project.show(id);
        shown["runs"]
            .as_array()
            .is_some_and(|runs| runs.iter().any(|r| r["status"] == "running"))
            .then_some(())
    });
    id
}

fn events_of(project: &Project, task: i64) -> Vec<Value> {
    let out = project
        .gaffer()
        .args([
            "feed",
            "--json",
            "--after",
            "0",
            "--task",
            &task.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_mcp_client_lists_the_tools_adds_a_task_and_reads_it_back() {
    let project = Project::new();
    let env = python_env(&project);
    if !python_mcp_available(&env) {
        return;
    }
    let daemon = project.start_daemon();
    let blocker = a_long_running_task(&project);

    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let out = Command::new("python3")
        .arg(&client)
        .arg(env!("CARGO_BIN_EXE_gaffer"))
        .arg(project.path())
        .arg(blocker.to_string())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the MCP client failed ({}):\n{}\n{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    assert_eq!(seen["server"]["name"], "gaffer");
    assert!(
        seen["server"]["instructions"]
            .as_str()
            .unwrap()
            .contains("add_task")
    );
    assert_eq!(seen["tools"], json!(TOOLS));
    let schema = &seen["add_task_schema"];
    assert_eq!(schema["required"], json!(["title"]), "{schema:#}");
    assert!(schema["properties"]["depends_on"].is_object(), "{schema:#}");

    // Added, then read back both ways.
    let added = &seen["added"];
    assert_eq!(added["is_error"], false, "{added:#}");
    let id = added["json"]["id"].as_i64().unwrap();
    assert_eq!(added["json"]["title"], "Document the MCP server");
    assert_eq!(added["json"]["blocked_by"], json!([blocker]));
    let shown = &seen["shown"]["json"];
    assert_eq!(shown["task"]["id"], id);
    assert_eq!(
        shown["task"]["body"],
        "Say how to register gaffer with Claude Code and Codex."
    );
    assert_eq!(shown["task"]["labels"], json!(["docs"]));
    let listed = seen["listed"]["json"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|t| t["id"] == id && t["status"] == "backlog" && t["priority"] == 2),
        "{listed:#?}"
    );
    // Updated while it waits on its dependency.
    assert_eq!(seen["updated"]["is_error"], false, "{:#}", seen["updated"]);
    assert_eq!(seen["updated"]["json"]["title"], "Document gaffer mcp");
    let board = project.show(id);
    assert_eq!(board["task"]["title"], "Document gaffer mcp");
    assert_eq!(board["task"]["priority"], 5);
    // Its scope set, its dependencies checked; a revert or a move of a task that has not
    // merged or queued is refused with the API's words.
    assert_eq!(seen["scoped"]["json"]["write_scope"], json!(["docs/**"]));
    for (key, words) in [
        ("cycle_refused", "cannot depend on itself"),
        ("revert_refused", "not merged"),
        ("move_refused", "not waiting in the merge queue"),
        ("move_without_place", "exactly one of"),
    ] {
        let refused = &seen[key];
        assert_eq!(refused["is_error"], true, "{key}: {refused:#}");
        assert!(
            refused["text"].as_str().unwrap().contains(words),
            "{key}: {refused:#}"
        );
    }

    // A person's decisions on proposals and budgets, through the same actions as every surface.
    let accepted = &seen["accepted"];
    assert_eq!(accepted["is_error"], false, "{accepted:#}");
    assert_eq!(accepted["json"]["kind"], "task", "{accepted:#}");
    let declined = &seen["declined"];
    assert_eq!(declined["is_error"], false, "{declined:#}");
    assert_eq!(
        declined["json"]["state"]["status"], "cancelled",
        "{declined:#}"
    );
    let budget = &seen["budget"];
    assert_eq!(budget["is_error"], false, "{budget:#}");
    assert_eq!(budget["json"]["budget_usd"], 1.25, "{budget:#}");

    // The API's refusals come back as tool errors, in words.
    let refused = &seen["approve_refused"];
    assert_eq!(refused["is_error"], true);
    assert!(
        refused["text"].as_str().unwrap().contains("not allowed"),
        "{refused:#}"
    );
    let plan = &seen["plan_without_planner"];
    assert_eq!(plan["is_error"], true);
    assert!(
        plan["text"].as_str().unwrap().contains("planner"),
        "{plan:#}"
    );
    let missing_task = &seen["missing"];
    assert_eq!(missing_task["is_error"], true);
    assert!(
        missing_task["text"].as_str().unwrap().contains("999999"),
        "{missing_task:#}"
    );
    let outside = &seen["progress_outside_a_run"];
    assert_eq!(outside["is_error"], true);
    assert!(
        outside["text"].as_str().unwrap().contains("GAFFER_TASK"),
        "{outside:#}"
    );

    for tool in ["queue", "usage", "status"] {
        assert_eq!(seen[tool]["is_error"], false, "{tool}: {:#}", seen[tool]);
    }
    assert_eq!(seen["status"]["json"]["project"], "fixture");
    assert_eq!(seen["usage"]["json"]["runs"], 1, "{:#}", seen["usage"]);

    // The agent's progress report is a status line of its running run.
    assert_eq!(
        seen["progress_in_a_run"]["is_error"], false,
        "{:#}",
        seen["progress_in_a_run"]
    );
    let events = events_of(&project, blocker);
    let reported = events
        .iter()
        .find(|e| e["kind"] == "run.output" && e["data"]["text"] == "halfway through the slow part")
        .unwrap_or_else(|| panic!("no progress event: {events:#?}"));
    assert_eq!(reported["data"]["type"], "status");
    assert!(reported["run"].is_i64(), "{reported:#}");
    drop(daemon);
}

/// The `claude` CLI, or `None` when it is missing and skipping was asked for.
fn claude_cli() -> Option<PathBuf> {
    let bin = match std::env::var_os("GAFFER_TEST_NPM_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/npm/node_modules/.bin"),
    };
    let path = bin.join("claude");
    if path.is_file() {
        return Some(path);
    }
    let install = format!("npm install --prefix .ci/npm {CLAUDE_PACKAGE}");
    (!missing(
        &format!("the `claude` CLI is not at {}", path.display()),
        &install,
    ))
    .then_some(path)
}

/// The model's side of the conversation: call gaffer's `add_task` through MCP, then report.
const SCRIPT: &str = r#"
[[conversations]]
name = "plan-through-mcp"
marker = "MOCK:gaffer-mcp"

  [[conversations.turns]]
  text = "I will put this on gaffer's board."
  usage = { input_tokens = 900, output_tokens = 40 }
    [[conversations.turns.tool_calls]]
    name = "mcp__gaffer__add_task"
    arguments = { title = "Add a /health endpoint", body = "Answer 200 with the version.", labels = ["from-claude"], priority = 3 }

  [[conversations.turns]]
  text = "Added the task to gaffer's board."
  usage = { input_tokens = 1100, output_tokens = 12 }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_adds_a_task_through_gaffers_mcp_server() {
    let Some(claude) = claude_cli() else {
        return;
    };
    let project = Project::new();
    let daemon = project.start_daemon();
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();

    // gaffer registered as Claude Code's MCP server, as `.mcp.json` would do it.
    let config_dir = project.repo.scratch("claude-config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let mcp_config = project.repo.scratch("mcp.json");
    let registration = json!({
        "mcpServers": {
            "gaffer": {
                "command": env!("CARGO_BIN_EXE_gaffer"),
                "args": ["-C", project.path(), "mcp"],
            }
        }
    });
    std::fs::write(&mcp_config, registration.to_string()).unwrap();

    let mut command = tokio::process::Command::new(&claude);
    command
        .args(["-p", "--output-format", "stream-json", "--verbose"])
        .args(["--model", "claude-sonnet-4-5", "--max-turns", "4"])
        .arg("--dangerously-skip-permissions")
        .arg("--mcp-config")
        .arg(&mcp_config)
        .arg("--strict-mcp-config")
        .args([
            "--",
            "MOCK:gaffer-mcp Put a /health endpoint on gaffer's board.",
        ])
        .current_dir(project.path())
        .env_clear()
        .envs(gaffer_test_support::hermetic_git_env(project.repo.home()))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", project.repo.scratch("tmp"))
        .env("CLAUDE_CONFIG_DIR", &config_dir)
        .env("ANTHROPIC_BASE_URL", server.base_url())
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", "0")
        .env("MCP_TIMEOUT", "30000")
        // Offer MCP tools to the model directly rather than behind Claude Code's tool search.
        .env("ENABLE_TOOL_SEARCH", "false")
        // As root, Claude Code refuses --dangerously-skip-permissions outside a sandbox.
        .env("IS_SANDBOX", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("claude did not finish in 3 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let requests = server.requests();
    assert!(
        out.status.success(),
        "claude failed ({}):\n{}\n{stdout}\n{requests:#?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // Claude Code offered the model gaffer's tools, under their MCP names.
    let model_calls: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/messages") && !r.path.contains("count_tokens"))
        .collect();
    assert!(model_calls.len() >= 2, "{requests:#?}");
    let offered: Vec<&str> = model_calls[0].body["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    for tool in [
        "mcp__gaffer__add_task",
        "mcp__gaffer__list_tasks",
        "mcp__gaffer__ask_person",
    ] {
        assert!(offered.contains(&tool), "{tool} not offered: {offered:?}");
    }

    // The tool call created the task on the board.
    let tasks = project.json(&["task", "list", "--json"]);
    let task = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Add a /health endpoint")
        .unwrap_or_else(|| panic!("no task from Claude on the board: {tasks:#}\n{stdout}"))
        .clone();
    assert_eq!(task["labels"], json!(["from-claude"]));
    assert_eq!(task["priority"], 3);
    assert_eq!(task["body"], "Answer 200 with the version.");

    // And the model was given the tool's result: the task as created.
    let answer = model_calls[1].body.to_string();
    assert!(
        answer.contains("tool_result") && answer.contains(&format!("\\\"id\\\": {}", task["id"])),
        "{answer}"
    );
    assert!(
        stdout.contains("Added the task to gaffer's board."),
        "{stdout}"
    );
    drop(daemon);
}

/// What the confined agent of [`asking_project`] must read besides the system: its script, the
/// gaffer binary it starts as its MCP server, and the Python that has the `mcp` package.
fn agent_reads(env: &[(String, String)]) -> Vec<String> {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gaffer"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut paths = vec![
        script_dir.display().to_string(),
        bin_dir.display().to_string(),
    ];
    let prefixes = Command::new("python3")
        .args([
            "-c",
            "import sys, site; print(sys.prefix); print(sys.base_prefix); print(site.getuserbase())",
        ])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    paths.extend(
        String::from_utf8_lossy(&prefixes.stdout)
            .lines()
            .map(str::trim)
            .filter(|p| Path::new(p).exists())
            .map(str::to_string),
    );
    paths
}

/// A `command` agent (tests/mcp/agent.py) that asks its question through `gaffer mcp`. The
/// agent runs confined, as every agent does: it reaches the daemon only through
/// `GAFFER_API_URL` with its run's token (`GAFFER_RUN_TOKEN`).
fn asking_project(user_base: Option<&str>, reads: &[String]) -> Project {
    let project = Project::bare();
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/agent.py");
    let env = match user_base {
        Some(base) => format!("env = {{ PYTHONUSERBASE = {} }}\n", json!(base)),
        None => String::new(),
    };
    let config = format!(
        r#"[project]
name = "fixture"
target = "main"

[verify]
command = "test -s greeting.txt"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0

[agents.asker]
backend = "command"
command = {command}
{env}
[roles]
coder = ["asker"]

[server]
port = 0

[sandbox]
read = {reads}
"#,
        reads = json!(reads),
        command = json!(format!(
            "python3 '{}' '{}' {{prompt_file}}",
            agent.display(),
            env!("CARGO_BIN_EXE_gaffer")
        )),
    );
    project.repo.write("gaffer.toml", &config);
    project
        .repo
        .commit_all("gaffer.toml with an agent that asks through MCP");
    project
}

#[test]
fn an_agent_asks_a_person_through_mcp_and_resumes_with_the_answer() {
    let probe = Project::bare();
    let env = python_env(&probe);
    if !python_mcp_available(&env) {
        return;
    }
    let user_base = env
        .iter()
        .find(|(k, _)| k == "PYTHONUSERBASE")
        .map(|(_, v)| v.clone());
    let project = asking_project(user_base.as_deref(), &agent_reads(&env));
    let daemon = project.start_daemon();
    let id = project.add_task("Write a greeting", &[]);

    // The question asked with `ask_person` became the run's result.
    let waiting = project.wait_for_status(id, "needs_input");
    assert_eq!(
        waiting["task"]["state"]["note"], "Which greeting should greeting.txt hold?",
        "{:#}",
        waiting["task"]
    );
    let events = events_of(&project, id);
    let progress = events
        .iter()
        .find(|e| e["kind"] == "run.output" && e["data"]["text"] == "deciding on a greeting")
        .unwrap_or_else(|| panic!("no progress event: {events:#?}"));
    assert_eq!(progress["data"]["via"], "api");

    // Answered, the agent runs again with the answer and the work lands.
    let out = project
        .gaffer()
        .args(["answer", &id.to_string(), "Hello"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    project.wait_for_status(id, "merged");
    assert_eq!(
        project
            .repo
            .git(&["show", "gaffer/landed/main:greeting.txt"]),
        "Hello"
    );
    drop(daemon);
}

/// A stand-in daemon that answers every request with 201 and `{"id": 1, "run": 9}`, and hands
/// each request (head and body) to the test.
fn recording_daemon() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                let Some(end) = text.find("\r\n\r\n") else {
                    continue;
                };
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            let body = r#"{"id": 1, "run": 9}"#;
            let response = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
            if tx
                .send(String::from_utf8_lossy(&request).to_string())
                .is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

/// Inside a run (and a sandbox: no repository, no daemon.json), `gaffer mcp` reports to
/// `GAFFER_API_URL` with `GAFFER_RUN_TOKEN`, through the task's own routes.
#[test]
fn inside_a_run_gaffer_mcp_reports_with_the_runs_token() {
    use std::io::{BufRead, BufReader, Write};
    let (url, requests) = recording_daemon();
    let nowhere = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gaffer"))
        .arg("mcp")
        .current_dir(nowhere.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", nowhere.path())
        .env("GAFFER_API_URL", &url)
        .env("GAFFER_RUN_TOKEN", "run-token-of-run-9")
        .env("GAFFER_TASK", "4")
        .env("GAFFER_RUN", "9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut rpc = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        if message.get("id").is_none() {
            return Value::Null;
        }
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    let init = rpc(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        }}),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "gaffer", "{init:#}");
    rpc(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let call = |name: &str, arguments: Value, id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
    };
    let progress = rpc(call("report_progress", json!({"text": "halfway"}), 2));
    assert_eq!(progress["result"]["isError"], false, "{progress:#}");
    let proposed = rpc(call(
        "propose",
        json!({"title": "Cache the config", "body": "It is parsed twice."}),
        3,
    ));
    assert_eq!(proposed["result"]["isError"], false, "{proposed:#}");
    drop(stdin);
    let _ = child.wait();

    let seen: Vec<String> = (0..2)
        .map(|_| requests.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    assert!(
        seen[0].starts_with("POST /api/tasks/4/progress HTTP/1.1\r\n"),
        "{}",
        seen[0]
    );
    assert!(
        seen[1].starts_with("POST /api/tasks/4/propose HTTP/1.1\r\n"),
        "{}",
        seen[1]
    );
    for request in &seen {
        assert!(
            request
                .to_ascii_lowercase()
                .contains("\r\nauthorization: bearer run-token-of-run-9\r\n"),
            "{request}"
        );
    }
    let body: Value = serde_json::from_str(seen[1].split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"title": "Cache the config", "body": "It is parsed twice.", "run": 9})
    );
}
