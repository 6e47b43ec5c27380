//! What is particular to the PostgreSQL store: opening (and migrating) it, calling it from async
//! code, losing connections, schemas, and the notifications it sends. Each test passes without
//! checking anything when there is no server (after [`server`] said so on stderr).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::{FixedClock, Flow, JobSpec, NewJob, NewTask, Risk, TaskState};
use gaffer_store::{Commit, NewProject, Store, StoreError, SystemClock, TaskFilter};
use gaffer_store_postgres::{PgOptions, PgStore, migrate_schema};
use gaffer_test_support::postgres::{PgServer, server};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

fn project(store: &dyn Store) -> gaffer_core::Project {
    store
        .upsert_project(&NewProject {
            name: "p".into(),
            root: "/srv/p".into(),
            target: "main".into(),
        })
        .unwrap()
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn backlog() -> TaskState {
    TaskState::new(Flow::default(), Risk::Low, 0)
}

fn open(server: &PgServer, schema: &str) -> PgStore {
    PgStore::open_in_schema(server.url(), schema, Arc::new(SystemClock)).unwrap()
}

/// A plain connection to the test server, for looking behind the store's back.
fn raw(server: &PgServer) -> Client {
    Client::connect(server.url(), NoTls).unwrap()
}

fn cleanup_job(project: gaffer_core::ProjectId) -> NewJob {
    NewJob {
        project,
        task: None,
        spec: JobSpec::Cleanup {
            delete_branch: false,
        },
        priority: 0,
        max_attempts: 3,
        needs: vec![],
    }
}

/// Everything a board does first, called from async code on the runtime's own thread.
async fn use_from_async(server: &PgServer) {
    let store = open(server, &server.fresh_schema());
    let p = project(&store);
    let t = store.create_task(p.id, &new_task("t"), &backlog()).unwrap();
    store
        .commit(&Commit {
            enqueue: vec![cleanup_job(p.id)],
            ..Commit::default()
        })
        .unwrap();
    tokio::task::yield_now().await;
    let job = store.claim_job("w", &[], 1_000).unwrap().unwrap();
    assert!(store.heartbeat(job.id, "w", 1_000).unwrap());
    assert_eq!(store.task(t.id).unwrap().title, "t");
    drop(store);
}

#[tokio::test]
async fn works_when_called_from_a_current_thread_runtime() {
    let Some(server) = server() else { return };
    use_from_async(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_when_called_from_a_multi_thread_runtime() {
    let Some(server) = server() else { return };
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(async move { use_from_async(server).await }))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[test]
fn data_survives_reopening_and_the_schema_is_versioned() {
    let Some(server) = server() else { return };
    let schema = server.fresh_schema();
    let id = {
        let store = open(server, &schema);
        let p = project(&store);
        store
            .create_task(p.id, &new_task("kept"), &backlog())
            .unwrap()
            .id
    };
    let store = open(server, &schema);
    assert_eq!(store.task(id).unwrap().title, "kept");
    assert_eq!(store.schema(), schema);
    assert!(!store.server().contains("password"));
    let version: i64 = raw(server)
        .query_one(
            &format!("SELECT max(version) FROM \"{schema}\".schema_version"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, PgStore::schema_version());
}

#[test]
fn migrate_says_what_it_did() {
    let Some(server) = server() else { return };
    let schema = server.fresh_schema();
    let first = migrate_schema(server.url(), &schema).unwrap();
    assert_eq!((first.from, first.to), (0, PgStore::schema_version()));
    assert!(first.changed());
    let again = migrate_schema(server.url(), &schema).unwrap();
    assert_eq!(
        (again.from, again.to),
        (PgStore::schema_version(), PgStore::schema_version())
    );
    assert!(!again.changed());
    assert_eq!(again.schema, schema);
}

#[test]
fn a_schema_from_a_newer_gaffer_is_refused() {
    let Some(server) = server() else { return };
    let schema = server.fresh_schema();
    drop(open(server, &schema));
    let newer = PgStore::schema_version() + 1;
    raw(server)
        .execute(
            &format!("INSERT INTO \"{schema}\".schema_version (version) VALUES ($1)"),
            &[&newer],
        )
        .unwrap();
    match PgStore::open_in_schema(server.url(), &schema, Arc::new(SystemClock)) {
        Err(StoreError::SchemaTooNew { found, known }) => {
            assert_eq!((found, known), (newer, PgStore::schema_version()));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn handles_opening_one_fresh_schema_at_the_same_moment_all_succeed() {
    let Some(server) = server() else { return };
    let schema: Arc<str> = server.fresh_schema().into();
    let start = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (schema, start) = (schema.clone(), start.clone());
            thread::spawn(move || -> Result<(), StoreError> {
                start.wait();
                let store = PgStore::open_in_schema(server.url(), &schema, Arc::new(SystemClock))?;
                let p = project(&store);
                store.create_task(p.id, &new_task(&format!("t{i}")), &backlog())?;
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let store = open(server, &schema);
    assert_eq!(store.projects().unwrap().len(), 1);
    assert_eq!(store.tasks(&TaskFilter::default()).unwrap().len(), 8);
}

#[test]
fn schemas_are_separate_stores() {
    let Some(server) = server() else { return };
    let a = open(server, &server.fresh_schema());
    let b = open(server, &server.fresh_schema());
    let p = project(&a);
    a.create_task(p.id, &new_task("only in a"), &backlog())
        .unwrap();
    assert!(b.projects().unwrap().is_empty());
    assert_eq!(b.last_seq().unwrap().0, 0);
    assert_ne!(a.events_channel(), b.events_channel());
    assert_ne!(a.jobs_channel(), b.jobs_channel());
}

#[test]
fn an_unreachable_server_is_unavailable_and_its_password_is_never_shown() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let url = "postgres://gaffer:hunter2-secret@127.0.0.1:1/board?connect_timeout=5";
    match PgStore::open_default(url) {
        Err(e @ StoreError::Unavailable(_)) => {
            let text = e.to_string();
            assert!(!text.contains("hunter2"), "{text}");
            assert!(
                text.contains("postgres://gaffer@127.0.0.1:1/board"),
                "{text}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(matches!(
        PgStore::open_default("postgres://gaffer:hunter2-secret@127.0.0.1:notaport/board"),
        Err(StoreError::Invalid(m)) if !m.contains("hunter2")
    ));
    assert!(matches!(
        PgStore::open_in_schema(
            "postgres://127.0.0.1:1/x",
            "Bad-Name",
            Arc::new(SystemClock)
        ),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn a_lost_connection_is_replaced() {
    let Some(server) = server() else { return };
    // Its own application name, so that only this store's connections are cut.
    let sep = if server.url().contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{sep}application_name=gaffer_lost_connection",
        server.url()
    );
    let options = PgOptions {
        schema: server.fresh_schema(),
        connections: 2,
        ..PgOptions::default()
    };
    let store = PgStore::open_with(&url, &options, Arc::new(SystemClock)).unwrap();
    let p = project(&store);
    let mut admin = raw(server);
    for round in 0..3 {
        let cut: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = 'gaffer_lost_connection'",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(cut >= 1, "round {round}: no connection to cut");
        // Let the terminations land before the store uses its connections again.
        thread::sleep(Duration::from_millis(100));
        for i in 0..4 {
            store
                .create_task(p.id, &new_task(&format!("r{round} t{i}")), &backlog())
                .unwrap();
        }
    }
    assert_eq!(store.tasks(&TaskFilter::default()).unwrap().len(), 12);
}

#[test]
fn notifications_are_sent_on_commit_only() {
    let Some(server) = server() else { return };
    let clock = Arc::new(FixedClock::new(1_000));
    let store = PgStore::open_in_schema(server.url(), &server.fresh_schema(), clock).unwrap();
    let other = open(server, &server.fresh_schema());
    let mut listener = raw(server);
    listener
        .batch_execute(&format!(
            "LISTEN {}; LISTEN {}; LISTEN {}; LISTEN {}",
            store.events_channel(),
            store.jobs_channel(),
            other.events_channel(),
            other.jobs_channel()
        ))
        .unwrap();
    let mut received = |want: usize| -> Vec<(String, String)> {
        let mut got = Vec::new();
        let mut n = listener.notifications();
        let mut it = n.timeout_iter(Duration::from_millis(500));
        while let Some(note) = it.next().unwrap() {
            got.push((note.channel().to_string(), note.payload().to_string()));
            if got.len() == want {
                break;
            }
        }
        got
    };
    let events = store.events_channel().to_string();
    let jobs = store.jobs_channel().to_string();

    let p = project(&store); // no event, no job: nothing
    let t = store.create_task(p.id, &new_task("t"), &backlog()).unwrap();
    let seq = store.last_seq().unwrap().0;
    assert_eq!(received(1), vec![(events.clone(), seq.to_string())]);

    store
        .commit(&Commit {
            enqueue: vec![cleanup_job(p.id), cleanup_job(p.id)],
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(received(1), vec![(jobs.clone(), String::new())]);

    // A claim and a heartbeat make nothing claimable and write no event.
    let job = store.claim_job("w", &[], 1_000).unwrap().unwrap();
    assert!(store.heartbeat(job.id, "w", 1_000).unwrap());
    assert!(received(1).is_empty());

    // A release gives the job back (jobs) with its `job.released` event (events).
    assert!(store.release_job(job.id, "w").unwrap());
    let seq = store.last_seq().unwrap().0;
    let mut got = received(2);
    got.sort();
    assert_eq!(
        got,
        vec![
            (events.clone(), seq.to_string()),
            (jobs.clone(), String::new())
        ]
    );

    // A refused commit notifies nothing, though it got as far as enqueueing.
    let stale = gaffer_store::TaskUpdate {
        task: t.id,
        expected_version: t.version + 7,
        state: backlog(),
        plan: None,
        branch: None,
    };
    assert!(
        store
            .commit(&Commit {
                task: None,
                enqueue: vec![cleanup_job(p.id)],
                finish_run: Some(gaffer_store::RunFinish {
                    run: gaffer_core::RunId(999),
                    status: gaffer_core::RunStatus::Succeeded,
                    outcome: None,
                    usage: gaffer_core::Usage::default(),
                    session_id: None,
                }),
                ..Commit::default()
            })
            .is_err()
    );
    assert!(
        store
            .commit(&Commit {
                task: Some(stale),
                ..Commit::default()
            })
            .is_err()
    );
    assert!(received(1).is_empty());

    // Another schema's store notifies its own channels only.
    let q = project(&other);
    other
        .create_task(q.id, &new_task("elsewhere"), &backlog())
        .unwrap();
    let seq = other.last_seq().unwrap().0;
    assert_eq!(
        received(2),
        vec![(other.events_channel().to_string(), seq.to_string())]
    );
}

#[test]
fn an_open_store_never_shows_its_password() {
    let Some(server) = server() else { return };
    // The throwaway cluster trusts local connections: any password is accepted (and ignored).
    let Some(rest) = server.url().strip_prefix("postgres://postgres@") else {
        return; // a server of another shape (GAFFER_TEST_PG_URL): nothing to rewrite
    };
    let url = format!("postgres://postgres:hunter2-secret@{rest}");
    let store =
        PgStore::open_in_schema(&url, &server.fresh_schema(), Arc::new(SystemClock)).unwrap();
    for text in [format!("{store:?}"), store.server().to_string()] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("postgres@127.0.0.1"), "{text}");
    }
}

#[test]
fn text_postgresql_cannot_store_is_refused_as_invalid() {
    let Some(server) = server() else { return };
    let store = open(server, &server.fresh_schema());
    let p = project(&store);
    let err = store
        .create_task(p.id, &new_task("a \0 in the title"), &backlog())
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // JSON columns escape it, so an event's data may hold one.
    let e = gaffer_core::NewEvent {
        kind: "agent.output".into(),
        data: serde_json::json!({ "text": "nul \0 here" }),
        project: Some(p.id),
        task: None,
        run: None,
    };
    let written = store.append_events(&[e]).unwrap();
    let read = store
        .events_after(
            gaffer_core::Seq(0),
            10,
            &gaffer_store::EventFilter::default(),
        )
        .unwrap();
    assert_eq!(read, written);
}

/// With `server_clock`, transactions run at the database server's time whatever this
/// machine's clock says (here a fixed clock decades behind): leases agree across machines.
#[test]
fn the_server_clock_overrides_a_wrong_local_clock() {
    let Some(server) = server() else { return };
    let options = PgOptions {
        schema: server.fresh_schema(),
        server_clock: true,
        ..PgOptions::default()
    };
    let wrong = Arc::new(FixedClock::new(1_000));
    let store = PgStore::open_with(server.url(), &options, wrong).unwrap();
    let p = project(&store);
    let task = store
        .create_task(p.id, &new_task("on time"), &backlog())
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (task.created_ms - now).abs() < 60_000,
        "created at {} while the server says about {now}",
        task.created_ms
    );
}
