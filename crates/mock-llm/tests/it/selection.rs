//! Choosing the conversation (header, marker, model, default) and the turn (from history).

use gaffer_mock_llm::{Conversation, Script, SelectedBy, Turn};
use serde_json::{Value, json};

use crate::common::{post_json, start};

fn script() -> Script {
    Script::new()
        .with_conversation(
            Conversation::new("alpha")
                .with_marker("MOCK:alpha")
                .with_turn(Turn::tool_call("read_file", json!({"path": "a"})))
                .with_turn(Turn::tool_call(
                    "write_file",
                    json!({"path": "a", "content": "x"}),
                ))
                .with_turn(Turn::text("alpha finished")),
        )
        .with_conversation(
            Conversation::new("beta")
                .with_marker("MOCK:beta")
                .with_turn(Turn::text("beta speaking"))
                .with_done_text("beta is done"),
        )
        .with_conversation(
            Conversation::new("gamma")
                .with_model("gamma-model")
                .with_turn(Turn::text("gamma speaking")),
        )
        .with_conversation(Conversation::new("fallback").with_turn(Turn::text("fallback speaking")))
        .with_default("fallback")
        .with_done_text("nothing more")
}

fn chat(messages: Value) -> Value {
    json!({"model": "m", "messages": messages})
}

fn content(body: &Value) -> String {
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn tool_name(body: &Value) -> String {
    body["choices"][0]["message"]["tool_calls"][0]["function"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_marker_anywhere_in_the_prompt_picks_the_conversation() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let in_system = chat(json!([
        {"role": "system", "content": "Task MOCK:beta, please."},
        {"role": "user", "content": "go"},
    ]));
    assert_eq!(content(&post_json(&url, &in_system).await), "beta speaking");
    let in_parts =
        chat(json!([{"role": "user", "content": [{"type": "text", "text": "x MOCK:alpha y"}]}]));
    assert_eq!(tool_name(&post_json(&url, &in_parts).await), "read_file");

    // Anthropic: a marker in the system blocks; Responses: in the instructions.
    let anthropic = json!({"model": "m", "system": "MOCK:beta", "messages": [{"role": "user", "content": "hi"}]});
    let body = post_json(&format!("{}/v1/messages", server.base_url()), &anthropic).await;
    assert_eq!(body["content"][0]["text"], "beta speaking");
    let responses = json!({"model": "m", "instructions": "MOCK:beta", "input": [{"role": "user", "content": "hi"}]});
    let body = post_json(&format!("{}/v1/responses", server.base_url()), &responses).await;
    assert_eq!(body["output"][0]["content"][0]["text"], "beta speaking");

    let logged = server.requests();
    assert_eq!(
        logged
            .iter()
            .map(|r| r.conversation.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["beta", "alpha", "beta", "beta"]
    );
    assert!(
        logged
            .iter()
            .all(|r| r.selected_by == Some(SelectedBy::Marker))
    );
}

#[tokio::test]
async fn the_header_wins_then_the_model_then_the_default() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let body = chat(json!([{"role": "user", "content": "MOCK:alpha"}]));
    let (status, text) =
        crate::common::post_text(&url, &body, &[("x-mock-conversation", "beta")]).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(content(&answer), "beta speaking");

    let by_model = json!({"model": "gamma-model", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(content(&post_json(&url, &by_model).await), "gamma speaking");
    let unclaimed = chat(json!([{"role": "user", "content": "hi"}]));
    assert_eq!(
        content(&post_json(&url, &unclaimed).await),
        "fallback speaking"
    );

    let by: Vec<_> = server.requests().iter().map(|r| r.selected_by).collect();
    assert_eq!(
        by,
        [
            Some(SelectedBy::Header),
            Some(SelectedBy::Model),
            Some(SelectedBy::Default)
        ]
    );
}

#[tokio::test]
async fn without_a_default_an_unclaimed_request_gets_the_done_text() {
    let server = start(Script::new().with_done_text("nothing to do")).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let body = post_json(&url, &chat(json!([{"role": "user", "content": "hi"}]))).await;
    assert_eq!(content(&body), "nothing to do");
    let logged = &server.requests()[0];
    assert_eq!(logged.conversation, None);
    assert!(!logged.scripted);
}

#[tokio::test]
async fn the_turn_follows_the_history_and_runs_out_into_done() {
    let server = start(script()).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let mut messages = vec![json!({"role": "user", "content": "MOCK:alpha"})];

    let first = post_json(&url, &chat(json!(messages))).await;
    assert_eq!(tool_name(&first), "read_file");
    messages.push(first["choices"][0]["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": "call_mock_t0_0", "content": "contents"}));

    let second = post_json(&url, &chat(json!(messages))).await;
    assert_eq!(tool_name(&second), "write_file");
    assert_eq!(
        second["choices"][0]["message"]["tool_calls"][0]["id"],
        "call_mock_t1_0"
    );
    messages.push(second["choices"][0]["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": "call_mock_t1_0", "content": "written"}));

    let third = post_json(&url, &chat(json!(messages))).await;
    assert_eq!(content(&third), "alpha finished");
    messages.push(third["choices"][0]["message"].clone());

    // A resumed session: a new user message after the end. The turns have run out.
    messages.push(json!({"role": "user", "content": "and now?"}));
    let fourth = post_json(&url, &chat(json!(messages))).await;
    assert_eq!(content(&fourth), "nothing more");

    // Stateless: the first request again gets the first turn again.
    let again = post_json(
        &url,
        &chat(json!([{"role": "user", "content": "MOCK:alpha"}])),
    )
    .await;
    assert_eq!(tool_name(&again), "read_file");

    let turns: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.turn.unwrap(), r.scripted))
        .collect();
    assert_eq!(
        turns,
        [(0, true), (1, true), (2, true), (3, false), (0, true)]
    );
}

#[tokio::test]
async fn a_resumed_anthropic_session_continues_where_it_was() {
    let server = start(script()).await;
    let url = format!("{}/v1/messages", server.base_url());
    // Claude Code resuming: two earlier assistant turns in the history, then a new prompt.
    let body = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "MOCK:alpha"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_mock_t0_0", "name": "read_file", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_mock_t0_0", "content": "x"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "thinking"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_mock_t1_0", "name": "write_file", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_mock_t1_0", "content": "ok"}]},
        ],
    });
    let answer = post_json(&url, &body).await;
    // Consecutive assistant messages are one turn: this is turn 2.
    assert_eq!(answer["content"][0]["text"], "alpha finished");
}

#[tokio::test]
async fn interleaved_tool_results_of_one_turn_count_once() {
    let script = Script::new().with_conversation(
        Conversation::new("c")
            .with_marker("MOCK:c")
            .with_turn(
                Turn::default()
                    .with_tool_call("shell", json!({}))
                    .with_tool_call("shell", json!({})),
            )
            .with_turn(Turn::text("second turn")),
    );
    let server = start(script).await;
    let url = format!("{}/v1/responses", server.base_url());
    let body = json!({
        "model": "m",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "MOCK:c"}]},
            {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_mock_t0_0"},
            {"type": "function_call_output", "call_id": "call_mock_t0_0", "output": "1"},
            {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "call_mock_t0_1"},
            {"type": "function_call_output", "call_id": "call_mock_t0_1", "output": "2"},
        ],
    });
    let answer = post_json(&url, &body).await;
    assert_eq!(answer["output"][0]["content"][0]["text"], "second turn");
}
