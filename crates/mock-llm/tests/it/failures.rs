//! Scripted errors, delays, stalls and malformed streams.

use std::time::{Duration, Instant};

use gaffer_mock_llm::{Conversation, ErrorSpec, Outcome, Script, Stall, Turn};
use serde_json::{Value, json};

use crate::common::{parse_sse, post, post_text, start};

fn one_turn(turn: Turn) -> Script {
    Script::new()
        .with_conversation(Conversation::new("only").with_turn(turn))
        .with_default("only")
}

fn chat(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn anthropic(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn a_429_once_then_success() {
    let turn = Turn::text("made it").with_error(ErrorSpec::once(429).with_retry_after(1));
    let server = start(one_turn(turn)).await;
    let url = format!("{}/v1/messages", server.base_url());

    let response = post(&url, &anthropic(false), &[]).await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("429"));

    let (status, text) = post_text(&url, &anthropic(false), &[]).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["content"][0]["text"], "made it");

    let outcomes: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.attempt, r.outcome.clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some(1), Outcome::Error { status: 429 }),
            (Some(2), Outcome::Answered)
        ]
    );

    // Forgetting the attempts makes the error happen again.
    server.reset_attempts();
    let (status, _) = post_text(&url, &anthropic(false), &[]).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn a_500_every_time() {
    let turn =
        Turn::text("never").with_error(ErrorSpec::always(500).with_message("upstream exploded"));
    let server = start(one_turn(turn)).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    for _ in 0..3 {
        let (status, text) = post_text(&url, &chat(true), &[]).await;
        assert_eq!(status, 500);
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["message"], "upstream exploded");
        assert_eq!(body["error"]["type"], "server_error");
    }
    let attempts: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.attempt.unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[tokio::test]
async fn a_verbatim_error_body() {
    let turn = Turn::text("x").with_error(ErrorSpec::once(503).with_body("overloaded, go away"));
    let server = start(one_turn(turn)).await;
    let url = format!("{}/v1/responses", server.base_url());
    let (status, text) = post_text(&url, &json!({"model": "m", "input": "hi"}), &[]).await;
    assert_eq!((status, text.as_str()), (503, "overloaded, go away"));
}

#[tokio::test]
async fn waits_before_answering() {
    let server = start(one_turn(Turn::text("slow").with_delay_ms(300))).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let started = Instant::now();
    let (status, _) = post_text(&url, &chat(false), &[]).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn waits_between_stream_pieces() {
    let turn = Turn::text("abcdef")
        .with_chunk_chars(1)
        .with_chunk_delay_ms(40);
    let server = start(one_turn(turn)).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let started = Instant::now();
    let (_, text) = post_text(&url, &chat(true), &[]).await;
    // 6 text pieces plus role, finish and [DONE]: 8 pauses of 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(text.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn a_malformed_line_in_the_stream() {
    let turn = Turn::text("still arrives").with_malformed_line("data: {\"oops");
    let server = start(one_turn(turn)).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let (status, text) = post_text(&url, &chat(true), &[]).await;
    assert_eq!(status, 200);
    let events = parse_sse(&text);
    assert_eq!(events[1].data, "{\"oops");
    assert!(serde_json::from_str::<Value>(&events[1].data).is_err());
    // The rest of the stream goes on.
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "still arrives");

    // Not streaming: the body is the malformed line alone.
    let (status, body) = post_text(&url, &chat(false), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, "data: {\"oops");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.outcome == Outcome::Malformed)
    );
}

#[tokio::test]
async fn no_response_until_the_client_gives_up() {
    let server = start(one_turn(Turn::text("never").with_stall(Stall::NoResponse))).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let error = client
        .post(&url)
        .json(&chat(true))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(
        server.requests()[0].outcome,
        Outcome::Stalled {
            stall: Stall::NoResponse
        }
    );
}

#[tokio::test]
async fn shutdown_ends_stalled_requests() {
    let server = start(one_turn(Turn::text("never").with_stall(Stall::NoResponse))).await;
    let url = format!("{}/v1/messages", server.base_url());
    let pending = tokio::spawn(async move { post_text(&url, &anthropic(true), &[]).await });
    while server.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    let (status, _) = pending.await.unwrap();
    assert_eq!(status, 503);
}

#[tokio::test]
async fn stops_mid_stream_and_holds_the_connection() {
    let turn = Turn::text("a fairly long answer in many pieces")
        .with_chunk_chars(3)
        .with_stall(Stall::MidStream);
    let server = start(one_turn(turn)).await;
    let url = format!("{}/v1/messages", server.base_url());
    let mut response = post(&url, &anthropic(true), &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut received = String::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(500), response.chunk()).await {
            Ok(Ok(Some(bytes))) => received.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => panic!("the stream ended instead of stalling: {received}"),
            Ok(Err(error)) => panic!("{error}"),
            Err(_) => break, // silence: stalled
        }
    }
    assert!(received.contains("message_start"));
    assert!(received.contains("text_delta"));
    assert!(!received.contains("message_stop"));
}

#[tokio::test]
async fn closes_mid_stream() {
    let turn = Turn::text("a fairly long answer in many pieces")
        .with_chunk_chars(3)
        .with_stall(Stall::CloseMidStream);
    let server = start(one_turn(turn)).await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let (status, text) = post_text(&url, &chat(true), &[]).await;
    assert_eq!(status, 200);
    assert!(text.contains("chat.completion.chunk"));
    assert!(!text.contains("[DONE]"));
    assert!(!text.contains("finish_reason\":\"stop"));

    // Not streaming: half a JSON document.
    let (status, text) = post_text(&url, &chat(false), &[]).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(text.starts_with('{'));
}

#[tokio::test]
async fn refuses_bodies_that_are_not_json_and_unknown_paths() {
    let server = start(Script::new()).await;
    let response = crate::common::client()
        .post(format!("{}/v1/messages", server.base_url()))
        .body("not json at all")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let response = crate::common::client()
        .get(format!("{}/v1/unknown", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    let logged = server.requests();
    assert!(matches!(
        logged[0].outcome,
        Outcome::Rejected { status: 400, .. }
    ));
    assert_eq!(logged[0].raw_body.as_deref(), Some("not json at all"));
    assert!(matches!(
        logged[1].outcome,
        Outcome::Rejected { status: 404, .. }
    ));
    assert_eq!(logged[1].path, "/v1/unknown");
}
