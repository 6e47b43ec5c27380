//! The request log, in memory and as JSON Lines.

use gaffer_mock_llm::{
    Api, Conversation, MockServer, Outcome, REDACTED, RequestRecord, Script, SelectedBy,
    ServerOptions, Turn, Usage,
};
use serde_json::json;

use crate::common::{client, post_text};

fn script() -> Script {
    Script::new().with_conversation(
        Conversation::new("logged")
            .with_marker("MOCK:logged")
            .with_turn(Turn::text("hello").with_usage(1000, 30, 400)),
    )
}

#[tokio::test]
async fn records_every_request_without_secrets() {
    let server = crate::common::start(script()).await;
    let body = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "MOCK:logged"}]});
    let url = format!("{}/v1/messages?beta=true", server.base_url());
    let (status, _) = post_text(
        &url,
        &body,
        &[
            ("x-api-key", "sk-ant-very-secret"),
            ("authorization", "Bearer sk-also-secret"),
            ("anthropic-version", "2023-06-01"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    client()
        .get(format!("{}/healthz", server.base_url()))
        .send()
        .await
        .unwrap();

    let logged = server.requests();
    assert_eq!(logged.len(), 2);
    let record = &logged[0];
    assert_eq!(record.seq, 1);
    assert_eq!(record.method, "POST");
    assert_eq!(record.path, "/v1/messages");
    assert_eq!(record.query.as_deref(), Some("beta=true"));
    assert_eq!(record.api, Api::Messages);
    assert_eq!(record.body, body);
    assert!(record.stream);
    assert_eq!(record.header("x-api-key"), Some(REDACTED));
    assert_eq!(record.header("authorization"), Some(REDACTED));
    assert_eq!(record.header("anthropic-version"), Some("2023-06-01"));
    assert!(!serde_json::to_string(&logged).unwrap().contains("secret"));
    assert_eq!(record.conversation.as_deref(), Some("logged"));
    assert_eq!(record.selected_by, Some(SelectedBy::Marker));
    assert_eq!(record.turn, Some(0));
    assert!(record.scripted);
    assert_eq!(record.attempt, Some(1));
    assert_eq!(record.outcome, Outcome::Answered);
    // The usage the answer reported, as the script gives it.
    assert_eq!(
        record.usage,
        Some(Usage {
            input_tokens: 1000,
            output_tokens: 30,
            cached_tokens: 400
        })
    );

    assert_eq!(logged[1].api, Api::Health);
    assert_eq!(logged[1].usage, None);
    assert_eq!(logged[1].seq, 2);

    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn appends_records_to_a_json_lines_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let server = MockServer::start_with(
        script(),
        ServerOptions {
            addr: None,
            log_path: Some(path.clone()),
        },
    )
    .await
    .unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    for text in ["MOCK:logged one", "MOCK:logged two"] {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": text}]});
        assert_eq!(post_text(&url, &body, &[]).await.0, 200);
    }
    let in_memory = server.requests();
    server.shutdown().await.unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let from_file: Vec<RequestRecord> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(from_file, in_memory);
    assert_eq!(from_file.len(), 2);
    assert_eq!(
        from_file[1].body["messages"][0]["content"],
        "MOCK:logged two"
    );
}

#[tokio::test]
async fn a_log_file_that_cannot_be_opened_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = MockServer::start_with(
        script(),
        ServerOptions {
            addr: None,
            log_path: Some(dir.path().join("missing-dir").join("log.jsonl")),
        },
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("cannot open request log"),
        "{error}"
    );
}

#[tokio::test]
async fn listens_where_asked() {
    let server = crate::common::start(Script::new()).await;
    let taken = server.addr();
    let error = MockServer::start_on(taken, Script::new())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cannot listen"), "{error}");
    let error = gaffer_mock_llm::serve_forever(taken, Script::new(), None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cannot listen"), "{error}");
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        server.openai_base_url(),
        format!("{}/v1", server.base_url())
    );
}
