//! `gaffer say N TEXT` through the real binary and a running daemon: gaffer's own agent loop,
//! against the scripted model server, is told something while a command it runs takes a while;
//! its run is not stopped, and the model's next request carries the command's result and the
//! message (`run.heard` in the log). Also what it refuses and what it says without a daemon.

use crate::common::{Project, stderr_of, stdout_of, wait_until};
use crate::crew::{config, crew, events, prompt, runs};
use gaffer_mock_llm::{MockServer, Script};
use serde_json::Value;
use std::time::Duration;

const SCRIPT: &str = r#"
[[conversations]]
name = "steered"
marker = "MOCK:steer"
  [[conversations.turns]]
  text = "STATUS: thinking it over"
    [[conversations.turns.tool_calls]]
    name = "run_command"
    arguments = { command = "sleep 4; echo thought" }
  [[conversations.turns]]
  text = "Writing the notes in French, as asked."
    [[conversations.turns.tool_calls]]
    name = "write_file"
    arguments = { path = "notes.txt", content = "bonjour\n" }
  [[conversations.turns]]
  text = "Wrote notes.txt in French."
"#;

pub(crate) const MESSAGE: &str = "Write the notes in French, please.";

/// Waits until the task's agent has called a tool (it is at work, its session saved).
pub(crate) fn wait_for_tool_call(project: &Project, id: i64) {
    wait_until("the agent to call a tool", Duration::from_secs(120), || {
        let shown = project.show(id);
        events(&shown, "run.output")
            .iter()
            .any(|e| e["data"]["type"] == "tool_call")
            .then_some(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_own_loop_at_its_next_turn() {
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let toml = config(
        "",
        &format!(
            "[agents.local]\nbackend = \"openai\"\nmodel = \"mock-model\"\nbase_url = \"{}\"\n\n\
             [roles]\ncoder = [\"local\"]\n",
            server.openai_base_url()
        ),
    );
    let project = crew(&toml, &[]);
    let daemon = project.start_daemon();
    let id = project.add_task("Write the notes", &["--body", "MOCK:steer"]);
    wait_for_tool_call(&project, id);
    let out = project
        .gaffer()
        .args(["say", &id.to_string(), MESSAGE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("said; its agent's run going on in the daemon hears it")
            && stdout_of(&out).contains("stops and resumes with it"),
        "{}",
        stdout_of(&out)
    );
    let shown = project.wait_for_status(id, "merged");
    drop(daemon);

    // One run, never stopped, that heard the message.
    let all = runs(&shown);
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap_or("?"),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("succeeded", "Wrote notes.txt in French.")],
        "{shown:#}"
    );
    assert_eq!(shown["task"]["state"]["total_failures"], 0);
    let said = events(&shown, "task.said");
    assert_eq!(said.len(), 1, "{shown:#}");
    assert_eq!(said[0]["data"]["by"], "cli");
    let heard = events(&shown, "run.heard");
    assert_eq!(heard.len(), 1, "{shown:#}");
    assert_eq!(heard[0]["data"]["said"], said[0]["seq"]);
    let feed = project
        .gaffer()
        .args(["feed", "--task", &id.to_string()])
        .output()
        .unwrap();
    let feed = stdout_of(&feed);
    assert!(
        feed.contains(&format!("task {id}: cli said to the agent: “{MESSAGE}”")),
        "{feed}"
    );
    assert!(
        feed.contains(&format!(
            "heard a person's message at its next turn: “{MESSAGE}”"
        )),
        "{feed}"
    );
    assert!(!prompt(&project, &all[0]).contains(MESSAGE));

    // The model server saw one conversation: its second request carries the command's result
    // and the message, after the first turn.
    let requests: Vec<Value> = server
        .requests()
        .into_iter()
        .filter(|r| r.conversation.as_deref() == Some("steered"))
        .map(|r| r.body)
        .collect();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(!requests[0].to_string().contains(MESSAGE));
    let second = requests[1].to_string();
    assert!(second.contains(MESSAGE), "{second}");
    assert!(second.contains("A message from a person"), "{second}");
    assert!(second.contains("thought"), "the command's result: {second}");
    assert!(
        second.contains("thinking it over"),
        "its own turn: {second}"
    );
    assert_eq!(
        project
            .repo
            .git(&["show", "gaffer/landed/main:notes.txt"])
            .trim(),
        "bonjour"
    );
    server.shutdown().await.unwrap();
}

const QUICK: &str = "[[task]]\nmatch = \"quick\"\n[[task.attempt]]\nsummary = \"Done.\"\n\
                     actions = [{ write = \"quick.txt\", content = \"q\\n\" }]\n";

#[test]
fn say_is_refused_for_an_empty_message_and_a_finished_task_and_works_without_a_daemon() {
    let toml = config(
        "",
        &format!(
            "{}[roles]\ncoder = [\"writer\"]\n",
            crate::crew::scripted("writer")
        ),
    );
    let project = crew(&toml, &[("scripts/writer.toml", QUICK)]);
    let id = project.add_task("A quick one", &[]);
    // No daemon: the message waits for the task's next run.
    let out = project
        .gaffer()
        .args(["say", &id.to_string(), "keep", "it", "short"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("no daemon runs: its next run starts with it"),
        "{}",
        stdout_of(&out)
    );
    let said = events(&project.show(id), "task.said");
    assert_eq!(said[0]["data"]["text"], "keep it short");

    let out = project
        .gaffer()
        .args(["say", &id.to_string(), "  "])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("needs text"),
        "{}",
        stderr_of(&out)
    );

    let daemon = project.start_daemon();
    let shown = project.wait_for_status(id, "merged");
    assert!(prompt(&project, &runs(&shown)[0]).contains("> keep it short"));
    let out = project
        .gaffer()
        .args(["say", &id.to_string(), "one more thing"])
        .output()
        .unwrap();
    drop(daemon);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("is merged") && err.contains("hint"), "{err}");
    let out = project
        .gaffer()
        .args(["say", "999", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
}
