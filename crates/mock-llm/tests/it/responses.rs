//! The Responses API as the Codex CLI uses it, plus `/v1/models` and `/healthz`.

use gaffer_mock_llm::{Conversation, Script, Turn};
use serde_json::{Value, json};

use crate::common::{client, post_json, post_sse, start};

fn script() -> Script {
    Script::new()
        .with_conversation(
            Conversation::new("codex")
                .with_marker("MOCK:codex")
                .with_turn(
                    Turn::text("Creating the file.")
                        .with_tool_call(
                            "shell",
                            json!({"command": ["bash", "-lc", "echo hi > hi.txt"]}),
                        )
                        .with_usage(3000, 50, 2048)
                        .with_chunk_chars(6),
                )
                .with_turn(Turn::default().with_custom_tool_call(
                    "apply_patch",
                    "*** Begin Patch\n*** Add File: {{cwd}}/bye.txt\n+bye\n*** End Patch\n",
                ))
                .with_turn(Turn::text("Both files exist.")),
        )
        .with_models(["gpt-5-codex", "mock-model"])
}

fn request(input: Vec<Value>) -> Value {
    json!({
        "model": "gpt-5-codex",
        "instructions": "You are Codex.",
        "input": input,
        "tools": [{"type": "function", "name": "shell"}, {"type": "custom", "name": "apply_patch"}],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "store": false,
        "stream": true,
    })
}

fn user(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

fn first_input() -> Vec<Value> {
    vec![
        user("<environment_context>\n  <cwd>/work/wt-3</cwd>\n</environment_context>"),
        user("MOCK:codex make hi.txt"),
    ]
}

/// Items from `response.output_item.done` events, and the `response.completed` response.
fn items_and_completed(events: &[crate::common::SseEvent]) -> (Vec<Value>, Value) {
    let mut items = Vec::new();
    let mut completed = None;
    for event in events {
        let data = event.json();
        assert_eq!(data["type"].as_str(), event.event.as_deref());
        match data["type"].as_str().unwrap() {
            "response.output_item.done" => items.push(data["item"].clone()),
            "response.completed" => completed = Some(data["response"].clone()),
            _ => {}
        }
    }
    (items, completed.expect("response.completed"))
}

#[tokio::test]
async fn streams_items_and_usage_as_codex_reads_them() {
    let server = start(script()).await;
    let url = format!("{}/responses", server.openai_base_url());
    let events = post_sse(&url, &request(first_input()), &[]).await;

    let kinds: Vec<String> = events
        .iter()
        .map(|e| e.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds[0], "response.created");
    assert_eq!(kinds.last().unwrap(), "response.completed");
    assert!(kinds.iter().any(|k| k == "response.output_item.added"));
    let sequence: Vec<u64> = events
        .iter()
        .map(|e| e.json()["sequence_number"].as_u64().unwrap())
        .collect();
    assert!(sequence.windows(2).all(|w| w[1] == w[0] + 1));

    let text: String = events
        .iter()
        .map(|e| e.json())
        .filter(|d| d["type"] == "response.output_text.delta")
        .map(|d| d["delta"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, "Creating the file.");
    let arguments: String = events
        .iter()
        .map(|e| e.json())
        .filter(|d| d["type"] == "response.function_call_arguments.delta")
        .map(|d| d["delta"].as_str().unwrap().to_string())
        .collect();

    let (items, completed) = items_and_completed(&events);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["type"], "message");
    assert_eq!(items[0]["role"], "assistant");
    assert_eq!(
        items[0]["content"][0],
        json!({"type": "output_text", "text": "Creating the file.", "annotations": []})
    );
    assert_eq!(items[1]["type"], "function_call");
    assert_eq!(items[1]["name"], "shell");
    assert_eq!(items[1]["call_id"], "call_mock_t0_0");
    assert_eq!(items[1]["arguments"].as_str().unwrap(), arguments);
    let args: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(
        args,
        json!({"command": ["bash", "-lc", "echo hi > hi.txt"]})
    );

    assert!(
        completed["id"]
            .as_str()
            .unwrap()
            .starts_with("resp_mock_t0_")
    );
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"], json!(items));
    let usage = &completed["usage"];
    assert_eq!(usage["input_tokens"], 3000);
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 2048);
    assert_eq!(usage["output_tokens"], 50);
    assert_eq!(usage["total_tokens"], 3050);
}

#[tokio::test]
async fn the_next_turn_is_a_custom_tool_call_with_the_cwd_filled_in() {
    let server = start(script()).await;
    let url = format!("{}/v1/responses", server.base_url());
    // Codex resends the whole history: the model's items and the tool output.
    let mut input = first_input();
    input.push(json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Creating the file."}]}));
    input.push(json!({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_mock_t0_0"}));
    input
        .push(json!({"type": "function_call_output", "call_id": "call_mock_t0_0", "output": "ok"}));
    let events = post_sse(&url, &request(input.clone()), &[]).await;
    let deltas: String = events
        .iter()
        .map(|e| e.json())
        .filter(|d| d["type"] == "response.custom_tool_call_input.delta")
        .map(|d| d["delta"].as_str().unwrap().to_string())
        .collect();
    let (items, _) = items_and_completed(&events);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "custom_tool_call");
    assert_eq!(items[0]["name"], "apply_patch");
    assert_eq!(items[0]["call_id"], "call_mock_t1_0");
    let patch = "*** Begin Patch\n*** Add File: /work/wt-3/bye.txt\n+bye\n*** End Patch\n";
    assert_eq!(items[0]["input"], patch);
    assert_eq!(deltas, patch);

    input.push(items[0].clone());
    input.push(
        json!({"type": "custom_tool_call_output", "call_id": "call_mock_t1_0", "output": "Done!"}),
    );
    let events = post_sse(&url, &request(input), &[]).await;
    let (items, _) = items_and_completed(&events);
    assert_eq!(items[0]["content"][0]["text"], "Both files exist.");
}

#[tokio::test]
async fn previous_response_id_continues_the_conversation() {
    let server = start(script()).await;
    let url = format!("{}/v1/responses", server.base_url());
    let mut body = request(first_input());
    body["stream"] = json!(false);
    let first = post_json(&url, &body).await;
    assert_eq!(first["output"][1]["type"], "function_call");
    let mut next = request(vec![
        user("MOCK:codex"),
        json!({"type": "function_call_output", "call_id": "call_mock_t0_0", "output": "ok"}),
    ]);
    next["stream"] = json!(false);
    next["previous_response_id"] = first["id"].clone();
    let second = post_json(&url, &next).await;
    assert_eq!(second["output"][0]["type"], "custom_tool_call");
}

#[tokio::test]
async fn answers_plain_json_when_not_streaming() {
    let server = start(script()).await;
    let url = format!("{}/v1/responses", server.base_url());
    let mut body = request(first_input());
    body["stream"] = json!(false);
    let response = post_json(&url, &body).await;
    assert_eq!(response["object"], "response");
    assert_eq!(response["status"], "completed");
    let output = response["output"].as_array().unwrap();
    assert_eq!(output[0]["type"], "message");
    assert_eq!(output[1]["type"], "function_call");
    assert_eq!(output[1]["name"], "shell");
    assert_eq!(response["usage"]["total_tokens"], 3050);
}

#[tokio::test]
async fn lists_models_and_answers_health_checks() {
    let server = start(script()).await;
    let models: Value = client()
        .get(format!(
            "{}/models?client_version=0.169.0",
            server.openai_base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["gpt-5-codex", "mock-model"]);
    assert_eq!(models["models"], json!([]));

    let health: Value = client()
        .get(format!("{}/healthz", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"ok": true}));
}
