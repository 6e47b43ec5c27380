//! How fast the `claude` and `codex` parsers turn CLI output into events.
//!
//! Builds a large synthetic transcript for each CLI (200,000 lines by default, from the line
//! shapes of the recorded fixtures: messages with `STATUS:` lines, tool calls and results,
//! usage, plus a few unknown and malformed lines), feeds it through the parser three times and
//! prints the best run's lines, events and megabytes per second.
//!
//! ```text
//! cargo bench -p gaffer-agents --bench parse
//! cargo bench -p gaffer-agents --bench parse -- 1000000   # another number of lines
//! ```

use gaffer_agents::claude::{ClaudeParser, CliExit};
use gaffer_agents::codex::CodexParser;
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

const DEFAULT_LINES: usize = 200_000;
const ROUNDS: usize = 3;

fn main() {
    let lines = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LINES);
    let claude = claude_transcript(lines);
    let codex = codex_transcript(lines);
    report("claude (stream-json)", &claude, |ls| {
        let mut parser = ClaudeParser::new("/work/tree", "claude-sonnet-4-5");
        let events: usize = ls.iter().map(|l| parser.feed(l).len()).sum();
        let outcome = parser.finish(&CliExit::code(0));
        events + usize::from(outcome.success)
    });
    report("codex (exec --json)", &codex, |ls| {
        let mut parser = CodexParser::new("/work/tree", "gpt-5.5");
        let events: usize = ls.iter().map(|l| parser.feed(l).len()).sum();
        let outcome = parser.finish(&CliExit::code(0));
        events + usize::from(outcome.success)
    });
}

/// Runs `parse` over `lines` [`ROUNDS`] times and prints the best round.
fn report(name: &str, lines: &[String], parse: impl Fn(&[String]) -> usize) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut best = Duration::MAX;
    let mut events = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        events = black_box(parse(black_box(lines)));
        best = best.min(start.elapsed());
    }
    let secs = best.as_secs_f64();
    println!(
        "{name:<22} {} lines ({:.1} MB) -> {events} events in {:.3}s: {:.0} lines/s, {:.0} events/s, {:.1} MB/s",
        lines.len(),
        bytes as f64 / 1e6,
        secs,
        lines.len() as f64 / secs,
        events as f64 / secs,
        bytes as f64 / 1e6 / secs,
    );
}

/// A Claude Code transcript of `n` lines: an init line, then rounds of text, tool call and
/// tool result, with an unknown and a malformed line now and then, and a result at the end.
fn claude_transcript(n: usize) -> Vec<String> {
    let session = "6926f668-abe3-4bad-98c9-bab060c001f1";
    let mut out = vec![
        json!({"type":"system","subtype":"init","cwd":"/work/tree","session_id":session,
               "tools":["Task","Bash","Edit","Read","Write","Grep","Glob"],"mcp_servers":[],
               "model":"claude-sonnet-4-5","permissionMode":"bypassPermissions",
               "claude_code_version":"2.1.329"})
        .to_string(),
    ];
    let assistant = |i: usize, block: serde_json::Value| {
        json!({"type":"assistant","message":{"id":format!("msg_{i}"),"type":"message",
               "role":"assistant","model":"claude-sonnet-4-5","content":[block],
               "stop_reason":null,"stop_sequence":null,
               "usage":{"input_tokens":120,"output_tokens":1,"cache_read_input_tokens":3000,
                        "cache_creation_input_tokens":50}},
               "parent_tool_use_id":null,"session_id":session,"uuid":format!("u-{i}")})
        .to_string()
    };
    let mut i = 0;
    while out.len() < n.saturating_sub(1) {
        let line = match i % 6 {
            0 => assistant(i, json!({"type":"text","text":format!(
                "Looking at module {i} next.\nSTATUS: step {i} of the plan")})),
            1 => assistant(i, json!({"type":"tool_use","id":format!("toolu_{i}"),"name":"Edit",
                 "input":{"file_path":format!("/work/tree/src/m{i}.rs"),
                          "old_string":"fn old() {}","new_string":"fn new() {}"}})),
            2 => json!({"type":"user","message":{"role":"user","content":[{
                 "tool_use_id":format!("toolu_{}", i - 1),"type":"tool_result",
                 "content":format!("The file /work/tree/src/m{}.rs has been updated successfully.", i - 1)}]},
                 "parent_tool_use_id":null,"session_id":session,"uuid":format!("u-{i}")})
                .to_string(),
            3 => assistant(i, json!({"type":"tool_use","id":format!("toolu_{i}"),"name":"Bash",
                 "input":{"command":"cargo test --quiet","description":"Run the tests"}})),
            4 => json!({"type":"user","message":{"role":"user","content":[{
                 "tool_use_id":format!("toolu_{}", i - 1),"type":"tool_result",
                 "content":"running 12 tests\n............\ntest result: ok. 12 passed","is_error":false}]},
                 "parent_tool_use_id":null,"session_id":session,"uuid":format!("u-{i}")})
                .to_string(),
            _ if i % 60 == 5 => "{\"type\":\"assistant\",\"message\":{\"content\":[{\"ty".to_string(),
            _ if i % 30 == 5 => json!({"type":"stream_event","event":{"type":"ping"}}).to_string(),
            _ => assistant(i, json!({"type":"thinking","thinking":"Considering the next step.","signature":"sig"})),
        };
        out.push(line);
        i += 1;
    }
    out.push(
        json!({"type":"result","subtype":"success","is_error":false,"num_turns":i / 3,
               "result":"All done.","session_id":session,"total_cost_usd":12.5,
               "usage":{"input_tokens":120000,"cache_creation_input_tokens":5000,
                        "cache_read_input_tokens":3000000,"output_tokens":90000}})
        .to_string(),
    );
    out
}

/// A Codex transcript of `n` lines: a thread, then turns of messages, commands, patches and
/// to-do updates, with an unknown and a malformed line now and then.
fn codex_transcript(n: usize) -> Vec<String> {
    let mut out = vec![
        json!({"type":"thread.started","thread_id":"01a1fc5f-d9c8-7a31-9613-1f0fd8bd18b7"})
            .to_string(),
        json!({"type":"turn.started"}).to_string(),
    ];
    let item = |kind: &str, item: serde_json::Value| json!({"type":kind,"item":item}).to_string();
    let mut i = 0u64;
    while out.len() < n {
        let id = format!("item_{i}");
        let line = match i % 8 {
            0 => item(
                "item.completed",
                json!({"id":id,"type":"reasoning",
                 "text":"**Planning** the next edit"}),
            ),
            1 => item(
                "item.completed",
                json!({"id":id,"type":"agent_message",
                 "text":format!("Editing module {i}.\nSTATUS: step {i}")}),
            ),
            2 => item(
                "item.started",
                json!({"id":id,"type":"command_execution",
                 "command":"/bin/bash -lc 'cargo test --quiet'","aggregated_output":"",
                 "exit_code":null,"status":"in_progress"}),
            ),
            3 => item(
                "item.completed",
                json!({"id":format!("item_{}", i - 1),"type":"command_execution",
                 "command":"/bin/bash -lc 'cargo test --quiet'",
                 "aggregated_output":"running 12 tests\ntest result: ok. 12 passed\n",
                 "exit_code":0,"status":"completed"}),
            ),
            4 => item(
                "item.completed",
                json!({"id":id,"type":"file_change",
                 "changes":[{"path":format!("/work/tree/src/m{i}.rs"),"kind":"update"}],
                 "status":"completed"}),
            ),
            5 => item(
                "item.updated",
                json!({"id":"item_todo","type":"todo_list",
                 "items":[{"text":"Edit","completed":true},{"text":format!("Test {i}"),"completed":false}]}),
            ),
            6 if i % 48 == 6 => "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_".to_string(),
            6 => json!({"type":"thread.compacted"}).to_string(),
            _ => json!({"type":"turn.completed","usage":{"input_tokens":1000 * i,
                 "cached_input_tokens":800 * i,"output_tokens":50 * i}})
            .to_string(),
        };
        out.push(line);
        i += 1;
    }
    out
}
