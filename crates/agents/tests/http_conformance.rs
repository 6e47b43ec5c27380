#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Conformance of gaffer's own agent loop (`openai` and `anthropic` backends) against the
//! scripted model server, over real HTTP on 127.0.0.1. Every scenario runs against both APIs.

use gaffer_agents::http::{
    AnthropicBackend, HttpAgentOptions, OpenAiBackend, ProviderGate, RetryPolicy,
};
use gaffer_agents::{AgentBackend, AgentError, AgentEvent, Outcome, RunHandle, RunRequest};
use gaffer_core::Role;
use gaffer_mock_llm::{Conversation, ErrorSpec, MockServer, Script, Stall, Turn};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Api {
    OpenAi,
    Anthropic,
}

const APIS: [Api; 2] = [Api::OpenAi, Api::Anthropic];

/// Options for the mock: fast retries, a gate of its own, a short request timeout.
fn options(api: Api, server: &MockServer) -> HttpAgentOptions {
    let base_url = match api {
        Api::OpenAi => server.openai_base_url(),
        Api::Anthropic => server.base_url(),
    };
    HttpAgentOptions {
        base_url,
        api_key: Some("test-key".into()),
        model: "mock-model".into(),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        },
        gate: Arc::new(ProviderGate::new()),
        ..HttpAgentOptions::default()
    }
}

fn backend(api: Api, options: HttpAgentOptions) -> Box<dyn AgentBackend> {
    match api {
        Api::OpenAi => Box::new(OpenAiBackend::new(options).unwrap()),
        Api::Anthropic => Box::new(AnthropicBackend::new(options).unwrap()),
    }
}

/// A temporary directory with a worktree `wt`, a data directory `data`, and a sibling
/// `outside` holding `secret`.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wt")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret"), "TOP SECRET\n").unwrap();
        Place { dir }
    }
    fn wt(&self) -> PathBuf {
        self.dir.path().join("wt")
    }
    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }
    fn request(&self, prompt: &str) -> RunRequest {
        RunRequest {
            role: Role::Coder,
            prompt: prompt.into(),
            system_prompt: "You are a coder. Print STATUS: lines.".into(),
            worktree: self.wt(),
            model: String::new(),
            resume_session: None,
            env: vec![],
            max_wall: Duration::from_secs(60),
            script_key: String::new(),
            attempt: 0,
            data_dir: self.dir.path().join("data"),
            run_dir: self.dir.path().join("run"),
            confine: Default::default(),
        }
    }
}

async fn drain(mut handle: RunHandle) -> Vec<AgentEvent> {
    let mut events = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = handle.events.recv() => match event {
                Some(event) => events.push(event),
                None => break,
            },
            _ = &mut deadline => panic!("the run did not end: {events:#?}"),
        }
    }
    events
}

/// The run's outcome, checking that `Started` came first and `Finished` exactly once, last.
fn finished(events: &[AgentEvent]) -> Outcome {
    assert!(
        matches!(
            events.first(),
            Some(AgentEvent::Started {
                session_id: Some(_),
                ..
            })
        ),
        "{events:#?}"
    );
    let finished = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Finished { .. }))
        .count();
    assert_eq!(finished, 1, "{events:#?}");
    match events.last() {
        Some(AgentEvent::Finished { outcome }) => outcome.clone(),
        other => panic!("the last event is {other:?}"),
    }
}

async fn run(backend: &dyn AgentBackend, request: RunRequest) -> (Vec<AgentEvent>, Outcome) {
    let events = drain(backend.start(request, CancellationToken::new()).unwrap()).await;
    let outcome = finished(&events);
    (events, outcome)
}

fn kind(event: &AgentEvent) -> &'static str {
    match event {
        AgentEvent::Started { .. } => "started",
        AgentEvent::Text { .. } => "text",
        AgentEvent::ToolCall { .. } => "tool_call",
        AgentEvent::ToolResult { .. } => "tool_result",
        AgentEvent::Status { .. } => "status",
        AgentEvent::Question { .. } => "question",
        AgentEvent::Stuck { .. } => "stuck",
        AgentEvent::Refused { .. } => "refused",
        AgentEvent::Usage { .. } => "usage",
        AgentEvent::Heard { .. } => "heard",
        AgentEvent::Finished { .. } => "finished",
    }
}

fn statuses(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Status { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn one(conversation: Conversation) -> Script {
    let name = conversation.name.clone();
    Script::new()
        .with_conversation(conversation)
        .with_default(name)
}

#[tokio::test]
async fn a_file_edit_lands_and_events_arrive_in_order_with_usage() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("edit")
            .with_turn(
                Turn::text("STATUS: writing the greeting\nI'll write it.")
                    .with_tool_call(
                        "write_file",
                        json!({"path": "src/hello.txt", "content": "hello\n"}),
                    )
                    .with_usage(1000, 50, 600),
            )
            .with_turn(Turn::tool_call(
                "edit_file",
                json!({"path": "src/hello.txt", "old": "hello", "new": "goodbye"}),
            ))
            .with_turn(Turn::text("Done: the greeting says goodbye."))))
        .await
        .unwrap();
        let place = Place::new();
        let backend = backend(api, options(api, &server));
        let (events, outcome) = run(&*backend, place.request("Fix the greeting")).await;

        assert_eq!(
            std::fs::read_to_string(place.wt().join("src/hello.txt")).unwrap(),
            "goodbye\n",
            "{api:?}"
        );
        let kinds: Vec<_> = events.iter().map(kind).collect();
        assert_eq!(
            kinds,
            [
                "started",
                "text",
                "status",
                "usage",
                "tool_call",
                "tool_result",
                "usage",
                "tool_call",
                "tool_result",
                "text",
                "usage",
                "finished"
            ],
            "{api:?}: {events:#?}"
        );
        assert_eq!(statuses(&events), ["writing the greeting"]);
        assert!(matches!(&events[0], AgentEvent::Started { model, .. } if model == "mock-model"));
        assert!(
            matches!(&events[4], AgentEvent::ToolCall { name, summary } if name == "write_file" && summary.contains("src/hello.txt"))
        );
        assert!(matches!(
            &events[5],
            AgentEvent::ToolResult {
                is_error: false,
                ..
            }
        ));
        assert!(
            matches!(&events[3], AgentEvent::Usage { usage } if usage.input_tokens == 400 && usage.cached_tokens == 600 && usage.output_tokens == 50),
            "{api:?}: {:?}",
            events[3]
        );

        assert!(outcome.success, "{api:?}: {outcome:?}");
        assert_eq!(outcome.turns, 3);
        assert_eq!(outcome.usage.input_tokens, 400 + 100 + 100, "{api:?}");
        assert_eq!(outcome.usage.output_tokens, 50 + 20 + 20);
        assert_eq!(outcome.usage.cached_tokens, 600);
        assert_eq!(outcome.usage.cost_usd, 0.0);
        assert_eq!(outcome.final_text, "Done: the greeting says goodbye.");
        assert!(outcome.session_id.is_some());

        let requests = server.requests();
        assert_eq!(requests.len(), 3, "{api:?}");
        let first = &requests[0];
        assert!(first.stream);
        assert!(
            first
                .header("authorization")
                .or(first.header("x-api-key"))
                .is_some()
        );
        let tools = first.body["tools"].to_string();
        for tool in [
            "read_file",
            "write_file",
            "edit_file",
            "list_dir",
            "search",
            "run_command",
            "ask_person",
        ] {
            assert!(tools.contains(tool), "{api:?} offers {tool}");
        }
        assert!(requests[1].body.to_string().contains("wrote src/hello.txt"));
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn resume_continues_the_same_session() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("ask")
            .with_turn(Turn::tool_call(
                "ask_person",
                json!({"question": "Which greeting do you want?"}),
            ))
            .with_turn(Turn::tool_call(
                "write_file",
                json!({"path": "greeting.txt", "content": "hi\n"}),
            ))
            .with_turn(Turn::text("Wrote the greeting you chose."))))
        .await
        .unwrap();
        let place = Place::new();
        let backend = backend(api, options(api, &server));

        let (events, first) = run(&*backend, place.request("Write a greeting")).await;
        assert!(first.success, "{api:?}: {first:?}");
        let question = events.iter().find_map(|e| match e {
            AgentEvent::Question { text } => Some(text.clone()),
            _ => None,
        });
        assert_eq!(question.as_deref(), Some("Which greeting do you want?"));
        assert!(!place.wt().join("greeting.txt").exists());
        let session = first.session_id.clone().unwrap();
        assert!(
            place
                .dir
                .path()
                .join(format!("data/sessions/{session}.json"))
                .exists()
        );

        let mut again = place.request("The person answered: use `hi`.");
        again.resume_session = Some(session.clone());
        let (events, second) = run(&*backend, again).await;
        assert!(second.success, "{api:?}: {second:?}");
        assert_eq!(second.session_id.as_deref(), Some(session.as_str()));
        assert!(
            matches!(&events[0], AgentEvent::Started { session_id: Some(s), .. } if *s == session)
        );
        assert_eq!(
            std::fs::read_to_string(place.wt().join("greeting.txt")).unwrap(),
            "hi\n"
        );
        assert_eq!(second.final_text, "Wrote the greeting you chose.");

        let requests = server.requests();
        assert_eq!(requests.len(), 3, "{api:?}");
        let resumed = requests[1].body.to_string();
        for part in [
            "Write a greeting",
            "Which greeting do you want?",
            "use `hi`",
            "answer follows",
        ] {
            assert!(
                resumed.contains(part),
                "{api:?}: the resumed request lacks {part}: {resumed}"
            );
        }
        assert_eq!(requests[1].turn, Some(1));
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_question_line_ends_the_run_waiting_for_an_answer() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("q").with_turn(Turn::text(
            "I looked around.\nQUESTION: Should the port be 8080 or 9090?",
        ))))
        .await
        .unwrap();
        let place = Place::new();
        let (events, outcome) = run(
            &*backend(api, options(api, &server)),
            place.request("Pick a port"),
        )
        .await;
        assert!(outcome.success);
        let kinds: Vec<_> = events.iter().map(kind).collect();
        assert_eq!(
            kinds,
            ["started", "text", "usage", "question", "finished"],
            "{api:?}"
        );
        assert!(
            matches!(&events[3], AgentEvent::Question { text } if text == "Should the port be 8080 or 9090?")
        );
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn cancel_stops_a_slow_run_and_leaves_no_process() {
    for api in APIS {
        let server = MockServer::start(
            Script::new()
                .with_conversation(
                    Conversation::new("sleep")
                        .with_marker("MOCK:sleep")
                        .with_turn(Turn::tool_call(
                            "run_command",
                            json!({"command": "sleep 300 & echo $! > child.pid; echo $$ > shell.pid; wait"}),
                        )),
                )
                .with_conversation(
                    Conversation::new("slow")
                        .with_marker("MOCK:slow")
                        .with_turn(Turn::text("too late").with_delay_ms(60_000)),
                ),
        )
        .await
        .unwrap();
        let place = Place::new();
        let backend = backend(api, options(api, &server));

        // A slow model.
        let cancel = CancellationToken::new();
        let handle = backend
            .start(place.request("MOCK:slow"), cancel.clone())
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        cancel.cancel();
        let events = drain(handle).await;
        assert!(start.elapsed() < Duration::from_secs(5));
        let outcome = finished(&events);
        assert!(!outcome.success);
        assert_eq!(outcome.error.as_deref(), Some("cancelled"));

        // A slow command: its whole process group goes.
        let cancel = CancellationToken::new();
        let handle = backend
            .start(place.request("MOCK:sleep"), cancel.clone())
            .unwrap();
        let pids = [place.wt().join("child.pid"), place.wt().join("shell.pid")];
        let begun = Instant::now();
        while !pids
            .iter()
            .all(|p| std::fs::read_to_string(p).is_ok_and(|t| t.ends_with('\n')))
        {
            assert!(
                begun.elapsed() < Duration::from_secs(20),
                "the command never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let start = Instant::now();
        cancel.cancel();
        let events = drain(handle).await;
        assert!(start.elapsed() < Duration::from_secs(5), "{api:?}");
        let outcome = finished(&events);
        assert!(!outcome.success && outcome.error.as_deref() == Some("cancelled"));
        for pid in &pids {
            let pid: u32 = std::fs::read_to_string(pid)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            wait_gone(pid).await;
        }
        std::fs::remove_file(&pids[0]).unwrap();
        std::fs::remove_file(&pids[1]).unwrap();
        server.shutdown().await.unwrap();
    }
}

/// Waits until `pid` is gone or a zombie (dead, waiting to be reaped).
async fn wait_gone(pid: u32) {
    let begun = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        if stat.is_empty() || matches!(state, Some("Z" | "X")) {
            return;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "process {pid} is still running: {stat}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_429_then_success_is_retried_and_pauses_the_provider() {
    for api in APIS {
        let server = MockServer::start(
            Script::new()
                .with_conversation(
                    Conversation::new("limited")
                        .with_marker("MOCK:limited")
                        .with_turn(
                            Turn::text("after the 429")
                                .with_error(ErrorSpec::times(429, 1).with_retry_after(1)),
                        ),
                )
                .with_conversation(
                    Conversation::new("other")
                        .with_marker("MOCK:other")
                        .with_turn(Turn::text("second run")),
                ),
        )
        .await
        .unwrap();
        let place = Place::new();
        let options = options(api, &server);
        let gate = Arc::clone(&options.gate);
        let backend = backend(api, options);

        let mut first = backend
            .start(place.request("MOCK:limited"), CancellationToken::new())
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let event = first.events.recv().await.unwrap();
            let limited =
                matches!(&event, AgentEvent::Status { text } if text.contains("HTTP 429"));
            seen.push(event);
            if limited {
                break;
            }
        }
        let paused = gate.remaining().expect("a 429 pauses the provider");
        assert!(paused > Duration::from_millis(500), "{paused:?}");

        // A new run on the same provider waits for the pause before its first request.
        let started = Instant::now();
        let (events, second) = run(&*backend, place.request("MOCK:other")).await;
        assert!(second.success);
        assert!(started.elapsed() >= Duration::from_millis(500), "{api:?}");
        assert!(
            statuses(&events)
                .iter()
                .any(|s| s.contains("rate-limiting")),
            "{api:?}: {events:#?}"
        );

        seen.extend(drain(first).await);
        let outcome = finished(&seen);
        assert!(outcome.success, "{api:?}: {outcome:?}");
        assert_eq!(outcome.final_text, "after the 429");
        let limited: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.conversation.as_deref() == Some("limited"))
            .collect();
        assert_eq!(limited.len(), 2, "{api:?}");
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_persistent_500_fails_the_run_with_the_providers_message() {
    for api in APIS {
        let server =
            MockServer::start(one(Conversation::new("broken")
                .with_turn(Turn::text("never").with_error(
                    ErrorSpec::always(500).with_message("upstream exploded"),
                ))))
            .await
            .unwrap();
        let place = Place::new();
        let (events, outcome) =
            run(&*backend(api, options(api, &server)), place.request("go")).await;
        assert!(!outcome.success);
        let error = outcome.error.unwrap_or_default();
        assert!(
            error.contains("HTTP 500") && error.contains("upstream exploded"),
            "{api:?}: {error}"
        );
        assert_eq!(outcome.turns, 0);
        assert_eq!(
            statuses(&events).len(),
            3,
            "one status per retry: {events:#?}"
        );
        assert_eq!(server.requests().len(), 4, "1 attempt + 3 retries");
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    for api in APIS {
        let server =
            MockServer::start(one(Conversation::new("denied")
                .with_turn(Turn::text("never").with_error(
                    ErrorSpec::always(401).with_message("invalid x-api-key"),
                ))))
            .await
            .unwrap();
        let place = Place::new();
        let (_, outcome) = run(&*backend(api, options(api, &server)), place.request("go")).await;
        assert!(
            outcome
                .error
                .unwrap_or_default()
                .contains("invalid x-api-key")
        );
        assert_eq!(server.requests().len(), 1);
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn malformed_cut_and_stalled_streams_fail_cleanly() {
    for api in APIS {
        let cases: [(&str, Turn, &str); 4] = [
            (
                "garbled",
                Turn::text("still arrives").with_malformed_line("data: {\"oops"),
                "not valid JSON",
            ),
            (
                "garbage",
                Turn::text("still arrives").with_malformed_line("this is not an event"),
                "unexpected line",
            ),
            (
                "cut",
                Turn::text("a long answer that stops halfway").with_stall(Stall::CloseMidStream),
                "ended",
            ),
            (
                "stall",
                Turn::text("a long answer that stops halfway").with_stall(Stall::MidStream),
                "sent nothing",
            ),
        ];
        for (name, turn, expected) in cases {
            let server = MockServer::start(one(Conversation::new(name).with_turn(turn)))
                .await
                .unwrap();
            let place = Place::new();
            let mut options = options(api, &server);
            if name == "stall" {
                options.request_timeout = Duration::from_millis(300);
            }
            options.retry.max_retries = 1;
            let (events, outcome) = run(&*backend(api, options), place.request("go")).await;
            assert!(!outcome.success, "{api:?} {name}");
            let error = outcome.error.unwrap_or_default();
            assert!(error.contains(expected), "{api:?} {name}: {error}");
            assert_eq!(server.requests().len(), 2, "{api:?} {name}: retried once");
            assert!(statuses(&events).iter().any(|s| s.contains("retrying")));
            server.shutdown().await.unwrap();
        }
    }
}

#[tokio::test]
async fn confinement_refuses_reads_and_writes_outside_the_worktree() {
    for api in APIS {
        let place = Place::new();
        std::os::unix::fs::symlink(place.outside(), place.wt().join("link")).unwrap();
        let secret = place.outside().join("secret").display().to_string();
        let pwned = place.outside().join("pwned").display().to_string();
        let calls = [
            ("read_file", json!({"path": "../outside/secret"})),
            ("read_file", json!({"path": secret})),
            ("read_file", json!({"path": "link/secret"})),
            (
                "write_file",
                json!({"path": "../outside/pwned", "content": "x"}),
            ),
            ("write_file", json!({"path": pwned, "content": "x"})),
            ("write_file", json!({"path": "link/pwned", "content": "x"})),
            (
                "edit_file",
                json!({"path": "link/secret", "old": "TOP", "new": "NO"}),
            ),
            ("list_dir", json!({"path": "link"})),
            ("search", json!({"pattern": "SECRET", "path": ".."})),
        ];
        let mut turn = Turn::text("Let me try.");
        for (name, args) in &calls {
            turn = turn.with_tool_call(*name, args.clone());
        }
        let server = MockServer::start(one(Conversation::new("escape")
            .with_turn(turn)
            .with_turn(Turn::text("I could not."))))
        .await
        .unwrap();
        let (events, outcome) = run(
            &*backend(api, options(api, &server)),
            place.request("escape"),
        )
        .await;
        assert!(
            outcome.success,
            "a refused path is the model's problem, not a crash"
        );
        let results: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolResult { summary, is_error } => Some((summary.clone(), *is_error)),
                _ => None,
            })
            .collect();
        assert_eq!(results.len(), calls.len());
        for (summary, is_error) in &results {
            assert!(
                *is_error && summary.starts_with("refusing"),
                "{api:?}: {summary}"
            );
        }
        let mut outside: Vec<_> = std::fs::read_dir(place.outside())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        outside.sort();
        assert_eq!(outside, ["secret"]);
        assert_eq!(
            std::fs::read_to_string(place.outside().join("secret")).unwrap(),
            "TOP SECRET\n"
        );
        let second = server.requests()[1].body.to_string();
        assert!(
            second.contains("refusing") && !second.contains("TOP SECRET"),
            "{api:?}"
        );
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn privacy_local_refuses_a_public_endpoint_and_accepts_a_local_one() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("hi").with_turn(Turn::text("hi"))))
            .await
            .unwrap();
        let place = Place::new();
        let public = match api {
            Api::OpenAi => "https://api.openai.com/v1",
            Api::Anthropic => "https://api.anthropic.com",
        };
        let mut refused = options(api, &server);
        refused.base_url = public.into();
        refused.privacy_local = true;
        let err = match backend(api, refused).start(place.request("hi"), CancellationToken::new()) {
            Err(err) => err,
            Ok(_) => panic!("{api:?}: a public endpoint was accepted"),
        };
        assert!(matches!(err, AgentError::Start(_)));
        let message = err.to_string();
        assert!(
            message.contains(public) && message.contains("privacy"),
            "{message}"
        );

        let mut local = options(api, &server);
        local.privacy_local = true;
        let (_, outcome) = run(&*backend(api, local), place.request("hi")).await;
        assert!(outcome.success, "{api:?}: {outcome:?}");
        assert_eq!(
            server.requests().len(),
            1,
            "only the local run reached a server"
        );
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn turn_token_and_wall_time_limits_fail_the_run() {
    for api in APIS {
        let server = MockServer::start(
            Script::new()
                .with_conversation(
                    Conversation::new("busy")
                        .with_marker("MOCK:busy")
                        .with_turn(Turn::tool_call("list_dir", json!({"path": "."})))
                        .with_turn(Turn::tool_call("list_dir", json!({"path": "."})))
                        .with_turn(Turn::tool_call("list_dir", json!({"path": "."}))),
                )
                .with_conversation(
                    Conversation::new("slow")
                        .with_marker("MOCK:slow")
                        .with_turn(Turn::text("late").with_delay_ms(30_000)),
                ),
        )
        .await
        .unwrap();
        let place = Place::new();

        let mut turns = options(api, &server);
        turns.max_turns = 2;
        let (_, outcome) = run(&*backend(api, turns), place.request("MOCK:busy")).await;
        assert!(!outcome.success);
        assert!(
            outcome.error.unwrap_or_default().contains("turn limit (2"),
            "{api:?}"
        );
        assert_eq!(outcome.turns, 2);

        let mut tokens = options(api, &server);
        tokens.max_total_tokens = Some(150);
        let (_, outcome) = run(&*backend(api, tokens), place.request("MOCK:busy")).await;
        let error = outcome.error.unwrap_or_default();
        assert!(
            error.contains("240 tokens") && error.contains("limit of 150"),
            "{api:?}: {error}"
        );
        assert_eq!(outcome.turns, 2);

        let mut wall = place.request("MOCK:slow");
        wall.max_wall = Duration::from_millis(300);
        let started = Instant::now();
        let (_, outcome) = run(&*backend(api, options(api, &server)), wall).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            outcome
                .error
                .unwrap_or_default()
                .contains("wall-time limit"),
            "{api:?}"
        );
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_missing_session_starts_afresh_with_the_same_id_and_says_so() {
    let server = MockServer::start(one(Conversation::new("hi").with_turn(Turn::text("hello"))))
        .await
        .unwrap();
    let place = Place::new();
    let mut request = place.request("hi");
    request.resume_session = Some("gaffer-gone".into());
    let (events, outcome) = run(
        &*backend(Api::OpenAi, options(Api::OpenAi, &server)),
        request,
    )
    .await;
    assert!(outcome.success);
    assert_eq!(outcome.session_id.as_deref(), Some("gaffer-gone"));
    assert!(
        statuses(&events)
            .iter()
            .any(|s| s.contains("cannot resume session gaffer-gone"))
    );

    let mut bad = place.request("hi");
    bad.resume_session = Some("../../etc/passwd".into());
    let backend = backend(Api::OpenAi, options(Api::OpenAi, &server));
    assert!(backend.start(bad, CancellationToken::new()).is_err());
    server.shutdown().await.unwrap();
}

/// A person's message sent while gaffer's own loop runs joins the conversation before the next
/// request to the model (after the tool's result), with `Heard`; one sent while the model gives
/// its last answer makes one more turn, the earlier answer kept.
#[tokio::test]
async fn messages_join_the_conversation_at_the_next_turn() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("listen")
            .with_turn(Turn::tool_call(
                "run_command",
                json!({"command": "echo started > started.txt; sleep 2; echo slept"}),
            ))
            .with_turn(Turn::text("first answer").with_delay_ms(2_000))
            .with_turn(Turn::text("second answer"))))
        .await
        .unwrap();
        let place = Place::new();
        let backend = backend(api, options(api, &server));
        let mut handle = backend
            .start(place.request("Write it."), CancellationToken::new())
            .unwrap();
        let inbox = handle
            .inbox
            .clone()
            .expect("gaffer's own loop takes messages");
        let mut events = Vec::new();
        // While the command runs: the first message.
        while !place.wt().join("started.txt").exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        inbox.send("one: use French").unwrap();
        // Once it was heard, the model is answering: the second.
        loop {
            let event = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
                .await
                .expect("no event")
                .expect("the run ended before hearing the message");
            let heard = matches!(&event, AgentEvent::Heard { .. });
            events.push(event);
            if heard {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        inbox.send("two: and sign it").unwrap();
        events.extend(drain(handle).await);
        let outcome = finished(&events);
        assert!(outcome.success, "{api:?} {outcome:?}");
        assert_eq!(outcome.final_text, "second answer");
        assert_eq!(outcome.earlier_answers, ["first answer"]);
        let heard: Vec<&AgentEvent> = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Heard { .. }))
            .collect();
        assert_eq!(
            heard,
            [
                &AgentEvent::Heard {
                    text: "one: use French".into()
                },
                &AgentEvent::Heard {
                    text: "two: and sign it".into()
                }
            ],
            "{api:?}"
        );
        let bodies: Vec<String> = server
            .requests()
            .into_iter()
            .map(|r| r.body.to_string())
            .collect();
        assert_eq!(bodies.len(), 3, "{api:?}: {bodies:#?}");
        assert!(!bodies[0].contains("use French"));
        assert!(bodies[1].contains("use French") && bodies[1].contains("slept"));
        assert!(!bodies[1].contains("sign it"));
        assert!(bodies[2].contains("sign it") && bodies[2].contains("first answer"));
        // The run is over: its inbox takes nothing more.
        assert!(inbox.send("too late").is_err());
        server.shutdown().await.unwrap();
    }
}

/// A message that comes while the model gives its answer on the last turn it is allowed is not
/// taken in (there is no turn left to answer it): the run ends as it would have, the message
/// left unheard for the engine to give to the next run.
#[tokio::test]
async fn a_message_after_the_last_allowed_turn_is_left_unheard() {
    for api in APIS {
        let server = MockServer::start(one(Conversation::new("last")
            .with_turn(Turn::text("all done").with_delay_ms(1_500))
            .with_turn(Turn::text("never asked"))))
        .await
        .unwrap();
        let place = Place::new();
        let options = HttpAgentOptions {
            max_turns: 1,
            ..options(api, &server)
        };
        let backend = backend(api, options);
        let handle = backend
            .start(place.request("Finish."), CancellationToken::new())
            .unwrap();
        let inbox = handle.inbox.clone().expect("an inbox");
        tokio::time::sleep(Duration::from_millis(300)).await;
        inbox.send("one more thing").unwrap();
        let events = drain(handle).await;
        let outcome = finished(&events);
        assert!(outcome.success, "{api:?} {outcome:?}");
        assert_eq!(outcome.final_text, "all done");
        assert!(
            !events.iter().any(|e| matches!(e, AgentEvent::Heard { .. })),
            "{events:#?}"
        );
        assert_eq!(server.requests().len(), 1);
        server.shutdown().await.unwrap();
    }
}
