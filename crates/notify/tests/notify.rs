//! The notifier against local receivers: one message per burst and hook, retries of a failing
//! receiver, no resend after a restart, and command hooks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gaffer_config::{
    CommandHookSettings, NotifyEvent, NotifySettings, WebhookKind, WebhookSettings,
};
use gaffer_core::{NewEvent, NewTask, Project, Task, TaskState, event_kind};
use gaffer_feed::EventFeed;
use gaffer_notify::{NotifierConfig, RetryPolicy};
use gaffer_store::{NewProject, SqliteStore, Store};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// How many requests (from the first) are answered 500.
    failures: Arc<Mutex<usize>>,
    status_when_failing: Arc<Mutex<u16>>,
}

impl Receiver {
    fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn on(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    receiver.got.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut failures = receiver.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        let status = *receiver.status_when_failing.lock().unwrap();
        return (StatusCode::from_u16(status).unwrap(), "not now");
    }
    (StatusCode::OK, "ok")
}

/// A receiver on 127.0.0.1 answering every path; returns it and its base URL.
async fn start_receiver(failures: usize, status: u16) -> (Receiver, String) {
    let receiver = Receiver::default();
    *receiver.failures.lock().unwrap() = failures;
    *receiver.status_when_failing.lock().unwrap() = status;
    let app = Router::new()
        .route("/{*path}", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

struct Board {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    project: Project,
}

impl Board {
    fn new() -> Board {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_default(&dir.path().join("gaffer.db")).unwrap());
        let project = store
            .upsert_project(&NewProject {
                name: "fixture".into(),
                root: dir.path().display().to_string(),
                target: "main".into(),
            })
            .unwrap();
        Board {
            dir,
            store,
            project,
        }
    }

    fn task(&self, title: &str) -> Task {
        let new = NewTask {
            title: title.into(),
            ..NewTask::default()
        };
        let state = TaskState::new(gaffer_core::Flow::default(), gaffer_core::Risk::Low, 0);
        self.store
            .create_task(self.project.id, &new, &state)
            .unwrap()
    }

    fn notice(&self, task: &Task, data: Value) {
        self.store
            .append_events(&[NewEvent::new(event_kind::TASK_NOTICE, data)
                .task(task.id)
                .project(self.project.id)])
            .unwrap();
    }

    /// The board's event log as a daemon follows it.
    fn feed(&self) -> EventFeed {
        EventFeed::new(Arc::clone(&self.store))
    }

    fn config(&self, settings: NotifySettings) -> NotifierConfig {
        let mut config = NotifierConfig::new(
            self.project.id,
            "fixture",
            settings,
            self.dir.path().join("notify.json"),
            self.dir.path().to_path_buf(),
        );
        config.retry = RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
        };
        config.link = Some("http://127.0.0.1:7420".into());
        config
    }
}

fn webhook(url: String, kind: WebhookKind, events: &[NotifyEvent]) -> WebhookSettings {
    WebhookSettings {
        url,
        kind,
        events: events.to_vec(),
        token_env: None,
    }
}

fn settings(batch: Duration, webhooks: Vec<WebhookSettings>) -> NotifySettings {
    NotifySettings {
        batch,
        webhooks,
        commands: Vec::new(),
    }
}

/// Waits until `check` holds, failing after `limit`.
async fn wait_for(what: &str, limit: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Gives the notifier time to (wrongly) send more.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn each_hook_gets_one_message_per_burst() {
    let board = Board::new();
    let (receiver, url) = start_receiver(0, 200).await;
    let [a, b, c] = [
        board.task("Fix the login"),
        board.task("Add dark mode"),
        board.task("Ship it"),
    ];
    // Before the notifier first starts: history, never sent.
    board.notice(&a, json!({"notice": "failed", "reason": "old news"}));

    let shutdown = CancellationToken::new();
    let config = board.config(settings(
        Duration::from_millis(400),
        vec![
            webhook(
                format!("{url}/json"),
                WebhookKind::Json,
                &NotifyEvent::DEFAULT,
            ),
            webhook(
                format!("{url}/slack"),
                WebhookKind::Slack,
                &[NotifyEvent::Merged],
            ),
            webhook(
                format!("{url}/ntfy"),
                WebhookKind::Ntfy,
                &[NotifyEvent::NeedsInput],
            ),
        ],
    ));
    let handle = gaffer_notify::spawn(&board.feed(), config, shutdown.clone()).unwrap();
    // Let it take its starting position.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A burst: a question, an approval, a merge, a person's action, and a cancel nobody hears.
    board.notice(
        &a,
        json!({"notice": "needs_input", "question": "Which provider?"}),
    );
    board.notice(
        &b,
        json!({"notice": "needs_approval", "reason": "risk high"}),
    );
    board.notice(&c, json!({"notice": "merged"}));
    board.notice(&c, json!({"by": "api", "action": "approve"}));
    board.notice(&b, json!({"notice": "cancelled", "reason": "not needed"}));

    wait_for("the burst's messages", Duration::from_secs(10), || {
        receiver.on("/json").len() == 1
            && receiver.on("/slack").len() == 1
            && receiver.on("/ntfy").len() == 1
    })
    .await;
    settle().await;
    assert_eq!(receiver.on("/json").len(), 1, "{:#?}", receiver.requests());

    let json = receiver.on("/json")[0].json();
    assert_eq!(json["source"], "gaffer");
    assert_eq!(json["project"], "fixture");
    assert_eq!(json["count"], 3);
    assert_eq!(json["summary"], "2 tasks need a person, 1 merged");
    let events: Vec<(&str, i64, &str)> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["task"].as_i64().unwrap(),
                e["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("needs_input", a.id.0, "Fix the login"),
            ("needs_approval", b.id.0, "Add dark mode"),
            ("merged", c.id.0, "Ship it"),
        ]
    );
    assert!(
        json["text"].as_str().unwrap().contains(&format!(
            "#{} Fix the login: needs an answer: Which provider?",
            a.id
        )),
        "{json:#}"
    );

    let slack = receiver.on("/slack")[0].json();
    let text = slack["text"].as_str().unwrap();
    assert!(text.starts_with("*gaffer · fixture*: 1 merged"), "{text}");
    assert!(!text.contains("Fix the login"), "{text}");

    let ntfy = &receiver.on("/ntfy")[0];
    assert_eq!(
        ntfy.body,
        format!(
            "#{} Fix the login: needs an answer: Which provider?\nhttp://127.0.0.1:7420",
            a.id
        )
    );
    assert_eq!(
        ntfy.headers["title"],
        "gaffer fixture: 1 task needs a person"
    );
    assert_eq!(ntfy.headers["priority"], "high");

    // A second burst, after a quiet spell, is a second message.
    board.notice(
        &a,
        json!({"notice": "failed", "reason": "verify failed twice"}),
    );
    board.notice(&b, json!({"notice": "budget_exceeded", "spent_usd": 12.5}));
    wait_for("the second burst", Duration::from_secs(10), || {
        receiver.on("/json").len() == 2
    })
    .await;
    settle().await;
    assert_eq!(receiver.on("/json").len(), 2);
    assert_eq!(receiver.on("/slack").len(), 1, "slack hears only merges");
    let second = receiver.on("/json")[1].json();
    assert_eq!(second["count"], 2);
    assert_eq!(second["summary"], "1 budget_exceeded, 1 failed");

    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_a_restart_does_not_resend() {
    let board = Board::new();
    // The first two tries fail: a 503, then another.
    let (receiver, url) = start_receiver(2, 503).await;
    let task = board.task("Fix the login");
    let hooks = || {
        settings(
            Duration::from_millis(100),
            vec![webhook(
                format!("{url}/hook"),
                WebhookKind::Json,
                &[NotifyEvent::Any],
            )],
        )
    };

    let shutdown = CancellationToken::new();
    let handle =
        gaffer_notify::spawn(&board.feed(), board.config(hooks()), shutdown.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    board.notice(&task, json!({"notice": "merged"}));
    wait_for("three tries", Duration::from_secs(10), || {
        receiver.on("/hook").len() == 3
    })
    .await;
    settle().await;
    let tries = receiver.on("/hook");
    assert_eq!(tries.len(), 3, "{tries:#?}");
    assert!(
        tries.iter().all(|t| t.body == tries[0].body),
        "each try sends the same message"
    );
    assert_eq!(tries[0].json()["count"], 1);
    shutdown.cancel();
    handle.await.unwrap();

    // Started again on the same state: nothing is sent again...
    let shutdown = CancellationToken::new();
    let handle =
        gaffer_notify::spawn(&board.feed(), board.config(hooks()), shutdown.clone()).unwrap();
    settle().await;
    assert_eq!(
        receiver.on("/hook").len(),
        3,
        "a delivered batch was sent again"
    );
    // ...but what happens next is.
    board.notice(
        &task,
        json!({"notice": "needs_input", "question": "Again?"}),
    );
    wait_for("the new notice", Duration::from_secs(10), || {
        receiver.on("/hook").len() == 4
    })
    .await;
    assert_eq!(
        receiver.on("/hook")[3].json()["events"][0]["event"],
        "needs_input"
    );
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_notice_missed_while_down_is_sent_after_a_restart() {
    let board = Board::new();
    let (receiver, url) = start_receiver(0, 200).await;
    let task = board.task("Fix the login");
    let hooks = || {
        settings(
            Duration::from_millis(100),
            vec![webhook(
                format!("{url}/hook"),
                WebhookKind::Json,
                &[NotifyEvent::Failed],
            )],
        )
    };
    let shutdown = CancellationToken::new();
    let handle =
        gaffer_notify::spawn(&board.feed(), board.config(hooks()), shutdown.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    shutdown.cancel();
    handle.await.unwrap();

    board.notice(
        &task,
        json!({"notice": "failed", "reason": "while nobody watched"}),
    );
    let shutdown = CancellationToken::new();
    let handle =
        gaffer_notify::spawn(&board.feed(), board.config(hooks()), shutdown.clone()).unwrap();
    wait_for("the missed notice", Duration::from_secs(10), || {
        receiver.on("/hook").len() == 1
    })
    .await;
    settle().await;
    assert_eq!(receiver.on("/hook").len(), 1);
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn a_refused_message_is_not_retried() {
    let board = Board::new();
    let (receiver, url) = start_receiver(1, 404).await;
    let task = board.task("Fix the login");
    let shutdown = CancellationToken::new();
    let config = board.config(settings(
        Duration::from_millis(100),
        vec![webhook(
            format!("{url}/gone"),
            WebhookKind::Json,
            &[NotifyEvent::Any],
        )],
    ));
    let handle = gaffer_notify::spawn(&board.feed(), config, shutdown.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    board.notice(&task, json!({"notice": "merged"}));
    wait_for("one try", Duration::from_secs(10), || {
        receiver.on("/gone").len() == 1
    })
    .await;
    settle().await;
    assert_eq!(receiver.on("/gone").len(), 1);
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn command_hooks_get_the_batch_on_stdin_and_are_retried() {
    let board = Board::new();
    let out = board.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let task = board.task("Fix the login");
    // Fails the first time (no marker yet), then appends its input and summary to a file.
    let command = format!(
        "if [ ! -e {out}/tried ]; then touch {out}/tried; exit 3; fi; \
         cat >> {out}/batches.jsonl; echo >> {out}/batches.jsonl; \
         echo \"$GAFFER_NOTIFY_COUNT $GAFFER_NOTIFY_SUMMARY\" >> {out}/env.txt",
        out = out.display()
    );
    let shutdown = CancellationToken::new();
    let config = board.config(NotifySettings {
        batch: Duration::from_millis(200),
        webhooks: Vec::new(),
        commands: vec![CommandHookSettings {
            command,
            events: vec![NotifyEvent::Merged, NotifyEvent::Failed],
            timeout: Duration::from_secs(10),
        }],
    });
    let handle = gaffer_notify::spawn(&board.feed(), config, shutdown.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    board.notice(&task, json!({"notice": "merged"}));
    board.notice(
        &task,
        json!({"notice": "needs_input", "question": "not for this hook"}),
    );
    let batches = out.join("batches.jsonl");
    wait_for("the command's output", Duration::from_secs(10), || {
        batches.exists()
    })
    .await;
    settle().await;
    let text = std::fs::read_to_string(&batches).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    let batch: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(batch["count"], 1);
    assert_eq!(batch["events"][0]["event"], "merged");
    assert_eq!(batch["events"][0]["title"], "Fix the login");
    assert_eq!(
        std::fs::read_to_string(out.join("env.txt")).unwrap().trim(),
        "1 1 merged"
    );
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test]
async fn no_hook_no_notifier() {
    let board = Board::new();
    let config = board.config(NotifySettings::default());
    assert!(gaffer_notify::spawn(&board.feed(), config, CancellationToken::new()).is_none());
}
