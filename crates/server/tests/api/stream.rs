//! `GET /api/events/stream`: replay, then live, without gap or duplicate.

use crate::harness::{Api, open_board};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gaffer_core::NewTask;
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;

/// How long a test waits for an event before failing.
const PATIENCE: Duration = Duration::from_secs(10);

/// One server-sent event.
#[derive(Debug)]
struct Message {
    id: i64,
    event: String,
    data: Value,
}

/// Reads server-sent events off a response body.
struct Reader {
    body: Body,
    buffer: String,
}

impl Reader {
    async fn open(api: &Api, uri: &str, last_event_id: Option<&str>) -> Reader {
        let mut request = Request::get(uri);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = api.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert_eq!(content_type, "text/event-stream");
        Reader {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event; `None` when the stream ended.
    async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(PATIENCE, self.next_inner())
            .await
            .unwrap_or_else(|_| panic!("no event within {PATIENCE:?}; buffered: {:?}", self.buffer))
    }

    async fn next_inner(&mut self) -> Option<Message> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(message) = parse(&block) {
                    return Some(message);
                }
            }
            let frame = self.body.frame().await?.unwrap();
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    async fn take(&mut self, n: usize) -> Vec<Message> {
        let mut messages = Vec::new();
        for _ in 0..n {
            messages.push(self.next().await.expect("the stream ended early"));
        }
        messages
    }

    /// Asserts that no event arrives for a while.
    async fn quiet(&mut self, for_: Duration) {
        if let Ok(message) = tokio::time::timeout(for_, self.next_inner()).await {
            panic!("unexpected event: {message:?}");
        }
    }
}

/// An event block, or `None` for a comment (keep-alive).
fn parse(block: &str) -> Option<Message> {
    let (mut id, mut event, mut data) = (None, None, None);
    for line in block.lines() {
        if let Some(v) = line
            .strip_prefix("id: ")
            .or_else(|| line.strip_prefix("id:"))
        {
            id = Some(v.parse().unwrap());
        } else if let Some(v) = line
            .strip_prefix("event: ")
            .or_else(|| line.strip_prefix("event:"))
        {
            event = Some(v.to_string());
        } else if let Some(v) = line
            .strip_prefix("data: ")
            .or_else(|| line.strip_prefix("data:"))
        {
            data = Some(serde_json::from_str(v).unwrap());
        }
    }
    Some(Message {
        id: id?,
        event: event.unwrap(),
        data: data.unwrap(),
    })
}

fn ids(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn the_stream_replays_then_goes_live() {
    let api = Api::new();
    api.add_task("Before one").await;
    api.add_task("Before two").await;
    let stored = api.event_seqs().await;

    let mut reader = Reader::open(&api, "/api/events/stream?after=0", None).await;
    let replayed = reader.take(stored.len()).await;
    assert_eq!(ids(&replayed), stored);
    for message in &replayed {
        assert_eq!(message.data["seq"], message.id);
        assert_eq!(message.data["kind"], message.event.as_str());
    }

    let id = api.add_task("Live").await;
    let live = reader.next().await.unwrap();
    assert!(live.id > *stored.last().unwrap());
    assert_eq!(live.event, "task.created");
    assert_eq!(live.data["task"], id);

    // Exactly the stored log, in order, nothing twice.
    let stored = api.event_seqs().await;
    let mut seen = ids(&replayed);
    seen.push(live.id);
    seen.extend(ids(&reader.take(stored.len() - seen.len()).await));
    assert_eq!(seen, stored);
    reader.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn last_event_id_resumes_where_the_client_stopped() {
    let api = Api::new();
    for title in ["a", "b", "c"] {
        api.add_task(title).await;
    }
    let stored = api.event_seqs().await;
    assert!(stored.len() >= 3);
    let resume_after = stored[1];

    // The header wins over `after`.
    let mut reader = Reader::open(
        &api,
        "/api/events/stream?after=0",
        Some(&resume_after.to_string()),
    )
    .await;
    let replayed = reader.take(stored.len() - 2).await;
    assert_eq!(ids(&replayed), stored[2..]);

    let id = api.add_task("d").await;
    let live = reader.next().await.unwrap();
    assert_eq!(live.data["task"], id);
    assert!(!stored.contains(&live.id));
}

#[tokio::test]
async fn without_a_position_the_stream_starts_at_the_end() {
    let api = Api::new();
    api.add_task("Old news").await;
    let stored = api.event_seqs().await;

    let mut reader = Reader::open(&api, "/api/events/stream", None).await;
    reader.quiet(Duration::from_millis(300)).await;
    let id = api.add_task("Fresh").await;
    let first = reader.next().await.unwrap();
    assert_eq!(first.event, "task.created");
    assert_eq!(first.data["task"], id);
    assert!(first.id > *stored.last().unwrap());
}

#[tokio::test]
async fn events_written_by_another_process_arrive() {
    let api = Api::new();
    let mut reader = Reader::open(&api, "/api/events/stream", None).await;

    // A second board on the same repository: its own store connection, as the CLI has when it
    // writes the database directly.
    let cli = open_board(&api.repo);
    let task = cli
        .add_task(NewTask {
            title: "Added by the CLI".into(),
            ..NewTask::default()
        })
        .unwrap();
    let message = reader.next().await.unwrap();
    assert_eq!(message.event, "task.created");
    assert_eq!(message.data["task"], task.id.0);
}

#[tokio::test]
async fn the_stream_can_follow_one_task() {
    let api = Api::new();
    let mine = api.add_task("Mine").await;
    api.add_task("Other").await;
    let mut reader = Reader::open(
        &api,
        &format!("/api/events/stream?after=0&task={mine}"),
        None,
    )
    .await;
    let first = reader.next().await.unwrap();
    assert_eq!(first.data["task"], mine);

    api.add_task("Another other").await;
    api.post(&format!("/api/tasks/{mine}/cancel"), "").await;
    // Who acted comes first, then the change it caused; nothing of the other tasks.
    let notice = reader.next().await.unwrap();
    assert_eq!(notice.data["task"], mine);
    assert_eq!(notice.event, "task.notice");
    assert_eq!(notice.data["data"]["action"], "cancel");
    let next = reader.next().await.unwrap();
    assert_eq!(next.data["task"], mine);
    assert_eq!(next.event, "task.status");
}

#[tokio::test]
async fn a_bad_last_event_id_is_invalid() {
    let api = Api::new();
    let request = Request::get("/api/events/stream")
        .header("Last-Event-ID", "yesterday")
        .body(Body::empty())
        .unwrap();
    let reply = api.call(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid");
}

#[tokio::test]
async fn the_stream_ends_on_shutdown() {
    let api = Api::new();
    let mut reader = Reader::open(&api, "/api/events/stream?after=0", None).await;
    api.state.shutdown.cancel();
    // Whatever is left of the replay, then the end.
    while reader.next().await.is_some() {}
}

/// Set in the process that `events_from_another_process_arrive_promptly` starts: the board's
/// database, which it writes to.
const WRITER_DB: &str = "GAFFER_API_TEST_WRITER_DB";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_from_another_process_arrive_promptly() {
    // Started again by itself in a process of its own, it is the other process (the CLI, say)
    // writing the board's SQLite file while the daemon runs.
    if let Some(path) = std::env::var_os(WRITER_DB) {
        let store = gaffer_store::SqliteStore::open_default(std::path::Path::new(&path)).unwrap();
        // The daemon's project: its stream holds only that project's events.
        let project = gaffer_store::Store::projects(&store).unwrap()[0].id;
        let event = gaffer_core::NewEvent::new(
            "test.other_process",
            serde_json::json!({ "said": "hello from another process" }),
        )
        .project(project);
        gaffer_store::Store::append_events(&store, &[event]).unwrap();
        return;
    }
    let api = Api::new();
    let mut reader = Reader::open(&api, "/api/events/stream", None).await;
    // The stream is live (its follower runs) before the other process writes.
    api.add_task("Here first").await;
    assert_eq!(reader.next().await.unwrap().event, "task.created");

    let start = std::time::Instant::now();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stream::events_from_another_process_arrive_promptly",
            "--quiet",
        ])
        .env(WRITER_DB, api.board().paths().database())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let written = start.elapsed();
    let message = reader.next().await.unwrap();
    assert_eq!(message.event, "test.other_process");
    assert_eq!(message.data["data"]["said"], "hello from another process");
    // Nothing announces another process's commit: the follower's tick (10 ms) finds it.
    // Generous for a loaded machine; the fan-out bench measures the latency.
    let arrived = start.elapsed() - written;
    assert!(
        arrived < Duration::from_secs(2),
        "arrived after {arrived:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_replaying_while_others_write_misses_and_repeats_nothing() {
    let api = Api::new();
    for title in ["one", "two", "three"] {
        api.add_task(title).await;
    }
    let writer = {
        let cli = open_board(&api.repo);
        std::thread::spawn(move || {
            for i in 0..30 {
                cli.add_task(NewTask {
                    title: format!("concurrent {i}"),
                    ..NewTask::default()
                })
                .unwrap();
            }
        })
    };
    let mut reader = Reader::open(&api, "/api/events/stream?after=0", None).await;
    let mut seen = ids(&reader.take(3).await);
    writer.join().unwrap();
    let stored = api.event_seqs().await;
    seen.extend(ids(&reader.take(stored.len() - seen.len()).await));
    assert_eq!(seen, stored);
    reader.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn resuming_with_after_repeats_nothing() {
    let api = Api::new();
    for title in ["a", "b"] {
        api.add_task(title).await;
    }
    let mut first = Reader::open(&api, "/api/events/stream?after=0", None).await;
    let had = ids(&first.take(2).await);
    // The client goes away; more is written; it comes back after the last event it had.
    drop(first);
    for title in ["c", "d"] {
        api.add_task(title).await;
    }
    let mut again = Reader::open(&api, &format!("/api/events/stream?after={}", had[1]), None).await;
    let stored = api.event_seqs().await;
    let mut seen = had.clone();
    seen.extend(ids(&again.take(stored.len() - 2).await));
    assert_eq!(seen, stored, "each stored event once, in order");
    let id = api.add_task("e").await;
    let live = again.next().await.unwrap();
    assert_eq!(live.data["task"], id);
    again.quiet(Duration::from_millis(300)).await;
}

/// Another project on the same store (a shared PostgreSQL board) writes events: this daemon's
/// stream and list hold only its own project's.
#[tokio::test]
async fn the_stream_and_the_list_hold_only_the_daemons_project() {
    let api = Api::new();
    api.add_task("Mine").await;
    let store = api.board().store();
    let other = store
        .upsert_project(&gaffer_store::NewProject {
            name: "other".into(),
            root: "/elsewhere".into(),
            target: "main".into(),
        })
        .unwrap();
    let foreign: Vec<i64> = store
        .append_events(&[
            gaffer_core::NewEvent::new("task.created", serde_json::json!({})).project(other.id),
            gaffer_core::NewEvent::new("stray", serde_json::json!({})),
        ])
        .unwrap()
        .iter()
        .map(|e| e.seq.0)
        .collect();
    let listed = api.event_seqs().await;
    assert!(!listed.is_empty());
    assert!(
        listed.iter().all(|seq| !foreign.contains(seq)),
        "{listed:?} holds one of {foreign:?}"
    );

    let mut reader = Reader::open(&api, "/api/events/stream?after=0", None).await;
    assert_eq!(ids(&reader.take(listed.len()).await), listed);
    let id = api.add_task("Live").await;
    let live = reader.next().await.unwrap();
    assert_eq!(live.data["task"], id);
    assert!(live.id > foreign[1]);
    store
        .append_events(&[
            gaffer_core::NewEvent::new("task.created", serde_json::json!({})).project(other.id),
        ])
        .unwrap();
    reader.quiet(Duration::from_millis(300)).await;
}

/// A position beyond the log's end (the client saw another board, or the log was restored
/// from an older copy) starts the stream at the end rather than passing over what comes.
#[tokio::test]
async fn a_position_beyond_the_end_starts_at_the_end() {
    let api = Api::new();
    api.add_task("Old").await;
    let stored = api.event_seqs().await;
    for (uri, header) in [
        ("/api/events/stream", Some("1000000")),
        ("/api/events/stream?after=1000000", None),
    ] {
        let mut reader = Reader::open(&api, uri, header).await;
        reader.quiet(Duration::from_millis(100)).await;
        let id = api.add_task("New").await;
        let first = reader.next().await.unwrap();
        assert_eq!(first.event, "task.created");
        assert_eq!(first.data["task"], id);
        assert!(first.id > *stored.last().unwrap());
    }
}
