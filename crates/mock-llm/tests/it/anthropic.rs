//! Anthropic Messages, streaming (as Claude Code calls it) and not.

use gaffer_mock_llm::{Api, Conversation, Script, Turn};
use serde_json::{Value, json};

use crate::common::{post_json, post_sse, start};

fn script() -> Script {
    Script::new().with_conversation(
        Conversation::new("claude")
            .with_marker("MOCK:claude")
            .with_turn(
                Turn::text("I'll create it.")
                    .with_tool_call(
                        "Write",
                        json!({"file_path": "{{cwd}}/hello.txt", "content": "hello\n"}),
                    )
                    .with_tool_call("Bash", json!({"command": "ls", "description": "List"}))
                    .with_usage(5000, 60, 4000)
                    .with_chunk_chars(4),
            )
            .with_turn(Turn::text("Done.")),
    )
}

fn request(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": stream,
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "<env>\nWorking directory: /tmp/wt-7\nIs directory a git repo: Yes\n</env>"},
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "MOCK:claude write hello.txt"}]},
        ],
        "tools": [{"name": "Write", "input_schema": {}}, {"name": "Bash", "input_schema": {}}],
    })
}

/// A content block rebuilt from its start, deltas and stop.
#[derive(Debug, Default)]
struct Block {
    kind: String,
    id: String,
    name: String,
    text: String,
    json: String,
    stopped: bool,
}

#[tokio::test]
async fn streams_blocks_like_the_real_api() {
    let server = start(script()).await;
    let url = format!("{}/v1/messages?beta=true", server.base_url());
    let events = post_sse(&url, &request(true), &[("anthropic-version", "2023-06-01")]).await;

    let names: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(
        &names[names.len() - 2..],
        &["message_delta", "message_stop"]
    );
    for event in &events {
        // Each event's name repeats its data's type.
        assert_eq!(event.json()["type"].as_str(), event.event.as_deref());
    }

    let start = events[0].json();
    let message = &start["message"];
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], "claude-sonnet-4-5");
    assert_eq!(message["usage"]["input_tokens"], 1000);
    assert_eq!(message["usage"]["cache_read_input_tokens"], 4000);

    let mut blocks: Vec<Block> = Vec::new();
    let mut stop_reason = None;
    let mut output_tokens = None;
    for event in &events {
        let data = event.json();
        match event.event.as_deref().unwrap() {
            "content_block_start" => {
                assert_eq!(data["index"].as_u64().unwrap() as usize, blocks.len());
                let block = &data["content_block"];
                blocks.push(Block {
                    kind: block["type"].as_str().unwrap().to_string(),
                    id: block["id"].as_str().unwrap_or_default().to_string(),
                    name: block["name"].as_str().unwrap_or_default().to_string(),
                    ..Block::default()
                });
            }
            "content_block_delta" => {
                let block = &mut blocks[data["index"].as_u64().unwrap() as usize];
                assert!(!block.stopped);
                match data["delta"]["type"].as_str().unwrap() {
                    "text_delta" => block.text.push_str(data["delta"]["text"].as_str().unwrap()),
                    "input_json_delta" => block
                        .json
                        .push_str(data["delta"]["partial_json"].as_str().unwrap()),
                    other => panic!("unexpected delta {other}"),
                }
            }
            "content_block_stop" => blocks[data["index"].as_u64().unwrap() as usize].stopped = true,
            "message_delta" => {
                stop_reason = data["delta"]["stop_reason"].as_str().map(str::to_string);
                output_tokens = data["usage"]["output_tokens"].as_u64();
            }
            _ => {}
        }
    }
    assert_eq!(blocks.len(), 3);
    assert!(blocks.iter().all(|b| b.stopped));
    assert_eq!(blocks[0].kind, "text");
    assert_eq!(blocks[0].text, "I'll create it.");
    assert_eq!(blocks[1].kind, "tool_use");
    assert_eq!(blocks[1].name, "Write");
    assert_eq!(blocks[1].id, "toolu_mock_t0_0");
    let input: Value = serde_json::from_str(&blocks[1].json).unwrap();
    // {{cwd}} became the directory named in the system prompt.
    assert_eq!(
        input,
        json!({"file_path": "/tmp/wt-7/hello.txt", "content": "hello\n"})
    );
    assert_eq!(blocks[2].name, "Bash");
    let input: Value = serde_json::from_str(&blocks[2].json).unwrap();
    assert_eq!(input["command"], "ls");
    assert_eq!(stop_reason.as_deref(), Some("tool_use"));
    assert_eq!(output_tokens, Some(60));

    let logged = server.requests();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].api, Api::Messages);
    assert_eq!(logged[0].path, "/v1/messages");
    assert_eq!(logged[0].query.as_deref(), Some("beta=true"));
    assert!(logged[0].stream);
}

#[tokio::test]
async fn answers_plain_json_when_not_streaming() {
    let server = start(script()).await;
    let url = format!("{}/v1/messages", server.base_url());
    let body = post_json(&url, &request(false)).await;
    assert_eq!(body["type"], "message");
    assert_eq!(body["stop_reason"], "tool_use");
    let content = body["content"].as_array().unwrap();
    assert_eq!(
        content[0],
        json!({"type": "text", "text": "I'll create it."})
    );
    assert_eq!(content[1]["type"], "tool_use");
    assert_eq!(content[1]["input"]["file_path"], "/tmp/wt-7/hello.txt");
    assert_eq!(body["usage"]["input_tokens"], 1000);
    assert_eq!(body["usage"]["output_tokens"], 60);
    assert_eq!(body["usage"]["cache_read_input_tokens"], 4000);

    // The next turn: the history carries the assistant message and the tool results.
    let mut next = request(false);
    let messages = next["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": content}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_mock_t0_0", "content": "ok"},
        {"type": "tool_result", "tool_use_id": "toolu_mock_t0_1", "content": "hello.txt"},
    ]}));
    let body = post_json(&url, &next).await;
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["content"], json!([{"type": "text", "text": "Done."}]));
}

#[tokio::test]
async fn counts_tokens() {
    let server = start(script()).await;
    let url = format!("{}/v1/messages/count_tokens", server.base_url());
    let body = post_json(&url, &request(false)).await;
    assert!(body["input_tokens"].as_u64().unwrap() > 0);
}
