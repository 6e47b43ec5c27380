//! OpenAI chat completions, streaming and not.

use std::collections::BTreeMap;

use gaffer_mock_llm::{Conversation, Script, Turn};
use serde_json::{Value, json};

use crate::common::{parse_sse, post_json, post_sse, post_text, start};

fn script() -> Script {
    Script::new()
        .with_conversation(
            Conversation::new("main")
                .with_turn(
                    Turn::text("Let me write two files for you.")
                        .with_tool_call("write_file", json!({"path": "a.txt", "content": "A\n"}))
                        .with_tool_call(
                            "write_file",
                            json!({"path": "b.txt", "content": "B \"quoted\"\n"}),
                        )
                        .with_usage(1500, 42, 1024)
                        .with_chunk_chars(5),
                )
                .with_turn(Turn::text("All written.")),
        )
        .with_default("main")
}

fn request(stream: bool, include_usage: bool) -> Value {
    let mut body = json!({
        "model": "local-model",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are a coder."},
            {"role": "user", "content": "Write a.txt and b.txt"},
        ],
        "tools": [{"type": "function", "function": {"name": "write_file", "parameters": {}}}],
    });
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn streams_text_and_tool_calls_as_deltas() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let events = post_sse(&url, &request(true, true), &[]).await;

    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| e.json())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c["model"] == "local-model"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");

    let mut text = String::new();
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    let mut finish = None;
    let mut usage = None;
    for chunk in &chunks {
        if let Some(u) = chunk.get("usage") {
            assert_eq!(chunk["choices"], json!([]));
            usage = Some(u.clone());
            continue;
        }
        let choice = &chunk["choices"][0];
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish = Some(reason.to_string());
        }
        let delta = &choice["delta"];
        if let Some(piece) = delta["content"].as_str() {
            text.push_str(piece);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let entry = calls.entry(call["index"].as_u64().unwrap()).or_default();
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_string();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                entry.1 = name.to_string();
            }
            if let Some(args) = call["function"]["arguments"].as_str() {
                entry.2.push_str(args);
            }
        }
    }
    assert_eq!(text, "Let me write two files for you.");
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert_eq!(calls.len(), 2);
    let (id0, name0, args0) = &calls[&0];
    assert_eq!(id0, "call_mock_t0_0");
    assert_eq!(name0, "write_file");
    let args0: Value = serde_json::from_str(args0).unwrap();
    assert_eq!(args0, json!({"path": "a.txt", "content": "A\n"}));
    let args1: Value = serde_json::from_str(&calls[&1].2).unwrap();
    assert_eq!(args1, json!({"path": "b.txt", "content": "B \"quoted\"\n"}));
    assert_ne!(calls[&0].0, calls[&1].0);

    // Arguments really arrive in several fragments.
    let fragments = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .is_some_and(|a| !a.is_empty())
        })
        .count();
    assert!(fragments > 4, "{fragments}");

    let usage = usage.expect("a usage chunk");
    assert_eq!(usage["prompt_tokens"], 1500);
    assert_eq!(usage["completion_tokens"], 42);
    assert_eq!(usage["total_tokens"], 1542);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 1024);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_usage_chunk_unless_asked() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let events = post_sse(&url, &request(true, false), &[]).await;
    assert!(
        events
            .iter()
            .all(|e| e.data == "[DONE]" || e.json().get("usage").is_none())
    );
}

#[tokio::test]
async fn answers_plain_json_when_not_streaming() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let body = post_json(&url, &request(false, false)).await;
    assert_eq!(body["object"], "chat.completion");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(
        choice["message"]["content"],
        "Let me write two files for you."
    );
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "write_file");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["path"], "a.txt");
    assert_eq!(body["usage"]["prompt_tokens"], 1500);
    assert_eq!(
        body["usage"]["prompt_tokens_details"]["cached_tokens"],
        1024
    );

    // Text only: finish_reason stop, no tool_calls.
    let mut next = request(false, false);
    next["messages"]
        .as_array_mut()
        .unwrap()
        .push(choice["message"].clone());
    next["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "tool", "tool_call_id": "call_mock_t0_0", "content": "ok"}));
    next["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "tool", "tool_call_id": "call_mock_t0_1", "content": "ok"}));
    let body = post_json(&url, &next).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["content"], "All written.");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn the_route_works_without_the_v1_prefix() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.base_url());
    let (status, text) = post_text(&url, &request(true, false), &[]).await;
    assert_eq!(status, 200);
    assert!(parse_sse(&text).len() > 3);
}
