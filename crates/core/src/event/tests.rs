//! Every kind: today's JSON reads as its typed payload and writes back unchanged, and reads as a
//! sentence with no JSON in it.

use super::{Event, Payload, event_kind, sentence};
use crate::ids::{RunId, Seq, TaskId};
use serde_json::{Value, json};

const C: &str = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";
const T: &str = "9f8e7d6c5b4a39281706f9e8d7c6b5a493827160";

/// The data each kind is written with today, every shape of it (as the engine, the store and
/// the server write them).
fn samples() -> Vec<(&'static str, Value)> {
    use event_kind::*;
    vec![
        (
            TASK_CREATED,
            json!({"title": "Fix the login", "kind": "task", "priority": 0, "parent": null, "blocked_by": [], "status": "ready"}),
        ),
        (
            TASK_CREATED,
            json!({"title": "Part two", "kind": "proposal", "priority": 2, "parent": 1, "blocked_by": [2, 3], "status": "backlog"}),
        ),
        (
            TASK_STATUS,
            json!({"from": "coding", "to": "verifying", "input": "run_finished", "note": null, "tier": 0}),
        ),
        (
            TASK_STATUS,
            json!({"from": "merging", "to": "merged", "input": "landed", "note": "landed on main", "tier": 1}),
        ),
        (
            TASK_NOTICE,
            json!({"notice": "needs_input", "question": "Which provider?"}),
        ),
        (
            TASK_NOTICE,
            json!({"notice": "needs_approval", "reason": "high risk"}),
        ),
        (TASK_NOTICE, json!({"notice": "escalated", "tier": 1})),
        (TASK_NOTICE, json!({"notice": "merged"})),
        (
            TASK_NOTICE,
            json!({"notice": "failed", "reason": "out of retries"}),
        ),
        (
            TASK_NOTICE,
            json!({"notice": "cancelled", "reason": "cancelled by a person"}),
        ),
        (
            TASK_NOTICE,
            json!({"notice": "budget_stop", "reason": "the task's budget is spent"}),
        ),
        (TASK_NOTICE, json!({"by": "cli", "action": "approve"})),
        (
            TASK_NOTICE,
            json!({"ignored": "verify_finished", "why": "not allowed in cancelled"}),
        ),
        (
            TASK_NOTICE,
            json!({"job": 4, "kind": "land", "failed": "the push was refused"}),
        ),
        (
            TASK_EDITED,
            json!({"changed": ["labels", "title"], "title": "New", "labels": ["ui", "auth"]}),
        ),
        (
            TASK_EDITED,
            json!({"changed": ["budget_usd", "kind", "priority", "risk"], "budget_usd": null, "kind": "task", "priority": 3, "risk": "high"}),
        ),
        (
            TASK_EDITED,
            json!({"changed": ["body", "budget_usd"], "body": "More words", "budget_usd": 2.5}),
        ),
        (
            TASK_EDITED,
            json!({"changed": ["blocked_by", "read_scope", "write_scope"], "blocked_by": [3, 4], "write_scope": ["src/**"], "read_scope": []}),
        ),
        (
            TASK_REVERT,
            json!({"reverts": 3, "revert_task": 9, "landed": C, "commit": T, "onto": C, "by": "cli"}),
        ),
        (
            TASK_SAID,
            json!({"by": "cli", "text": "Use the new API, not the old one."}),
        ),
        (
            TASK_PROPOSED,
            json!({"proposal": 9, "title": "Add a cache", "proposed_by": {"agent": "claude", "run": 7, "task": 3}}),
        ),
        (
            TASK_PROPOSED,
            json!({"proposal": 9, "title": "Add a cache", "proposed_by": {"agent": null, "run": null, "task": 3}, "via": "api"}),
        ),
        (PROPOSAL_ACCEPTED, json!({"by": "cli"})),
        (
            RUN_STARTED,
            json!({"job": 5, "role": "coder", "tier": 0, "agent": "claude", "backend": "claude", "model": "sonnet", "worktree": "task-3"}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "text", "text": "Looking at the code."}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "tool_call", "name": "Edit", "summary": "src/main.rs"}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "tool_result", "summary": "ok", "is_error": false}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "status", "text": "writing notes.txt"}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "status", "text": "halfway", "via": "api"}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "question", "text": "Which provider?", "via": "api"}),
        ),
        (RUN_OUTPUT, json!({"type": "stuck", "text": "no network"})),
        (
            RUN_OUTPUT,
            json!({"type": "refused", "tool": "Write", "reason": "not permitted"}),
        ),
        (
            RUN_OUTPUT,
            json!({"type": "usage", "usage": {"input_tokens": 1200, "output_tokens": 300, "cached_tokens": 100, "cost_usd": 0.01}}),
        ),
        (
            RUN_FINISHED,
            json!({"status": "succeeded", "outcome": "Wrote notes.txt.", "usage": {"input_tokens": 1, "output_tokens": 2, "cached_tokens": 0, "cost_usd": 0.5}, "session_id": "abc", "duration_ms": 2100}),
        ),
        (
            RUN_FINISHED,
            json!({"status": "succeeded", "outcome": "{\"verdict\": \"request_changes\", \"summary\": \"Tests missing.\"}", "usage": {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0, "cost_usd": 0.0}, "session_id": null, "duration_ms": 0}),
        ),
        (RUN_LOST, json!({"reason": "the daemon stopped during it"})),
        (
            RUN_HEARD,
            json!({"said": 41, "text": "Use the new API, not the old one."}),
        ),
        (
            VERIFY_STARTED,
            json!({"commit": C, "purpose": "branch", "command": "cargo test", "recheck": false}),
        ),
        (
            VERIFY_STARTED,
            json!({"commit": C, "purpose": "attempt", "slot": 2, "command": "cargo test"}),
        ),
        (
            VERIFY_FINISHED,
            json!({"commit": C, "tree": T, "passed": true, "exit_code": 0, "timed_out": false, "duration_ms": 2100, "tail": "ok", "purpose": "branch"}),
        ),
        (
            VERIFY_FINISHED,
            json!({"commit": C, "tree": T, "passed": false, "exit_code": null, "timed_out": true, "duration_ms": 90000, "tail": "", "purpose": "attempt", "slot": 1}),
        ),
        (
            VERIFY_FINISHED,
            json!({"commit": C, "tree": T, "passed": false, "exit_code": 1, "timed_out": false, "duration_ms": 870, "tail": "FAILED tests/test_auth.py::test_login - assert 401 == 200\n1 failed in 0.87s\n", "purpose": "branch", "failure": {"runner": "pytest", "headline": "1 test failed: test_login", "tests": [{"name": "tests/test_auth.py::test_login", "detail": ["assert 401 == 200"]}], "total": 1}}),
        ),
        (
            QUEUE_JOINED,
            json!({"position": 3, "priority": 0, "since_ms": 1000}),
        ),
        (
            QUEUE_MOVED,
            json!({"place": 1, "order": [7, 3, 5], "by": "dashboard"}),
        ),
        (
            QUEUE_CANDIDATE,
            json!({"commit": C, "tree": T, "onto": T, "position": 3, "ahead": [4, 5], "strategy": "merge", "verified_already": false}),
        ),
        (
            QUEUE_PARKED,
            json!({"onto": T, "files": ["a.txt"], "ahead": [4]}),
        ),
        (
            QUEUE_INVALIDATED,
            json!({"commit": C, "onto": T, "reason": "what it was built on is no longer ahead of it"}),
        ),
        (
            QUEUE_VERIFIED,
            json!({"commit": C, "tree": T, "passed": true, "recheck": false, "duration_ms": 800, "position": null}),
        ),
        (QUEUE_RECHECK, json!({"commit": C})),
        (
            QUEUE_BATCH_FORMED,
            json!({"commit": C, "tree": T, "onto": T, "tasks": [3, 4, 5], "ahead": [2], "strategy": "merge", "bisecting": C}),
        ),
        (
            QUEUE_BATCH_FAILED,
            json!({"commit": C, "tree": T, "tasks": [3, 4], "acquitted": [5], "summary": "1 failed"}),
        ),
        (
            QUEUE_BISECTING,
            json!({"group": C, "commit": C, "tasks": [3, 4], "rest": [5, 6]}),
        ),
        (
            QUEUE_GUILTY,
            json!({"group": C, "commit": C, "acquitted": [5]}),
        ),
        (
            QUEUE_ACQUITTED,
            json!({"group": C, "reason": "failed_alone", "by": [4]}),
        ),
        (
            QUEUE_ACQUITTED,
            json!({"group": C, "reason": "within", "by": [3, 4]}),
        ),
        (
            QUEUE_ACQUITTED,
            json!({"group": C, "reason": "left", "by": [4]}),
        ),
        (
            QUEUE_ACQUITTED,
            json!({"group": C, "reason": "not_reproduced"}),
        ),
        (
            QUEUE_FLAKY,
            json!({"commit": C, "tree": T, "detail": "verify failed, then passed on the same tree"}),
        ),
        (
            QUEUE_LANDING,
            json!({"commit": C, "tree": T, "onto": T, "tasks": [3, 4]}),
        ),
        (
            QUEUE_LANDED,
            json!({"commit": C, "tree": T, "branch": "gaffer/landed/main", "target": "main", "redirected": true, "user_checkout": "/home/me/repo", "landed_to": C, "landed_tree": T, "batch": 2, "index": 0, "position": 3, "flaky": false, "pushed_to": null, "time_in_queue_ms": 65000}),
        ),
        (
            QUEUE_LANDED,
            json!({"commit": C, "tree": T, "branch": "main", "target": "main", "redirected": false, "user_checkout": null, "landed_to": C, "landed_tree": T, "batch": 2, "index": 1, "position": 4, "flaky": false, "pushed_to": null, "time_in_queue_ms": 1000, "change": C}),
        ),
        (
            QUEUE_EJECTED,
            json!({"reason": "verify_failed", "commit": C, "tree": T, "detail": "verify failed twice", "summary": "exit 1"}),
        ),
        (
            QUEUE_EJECTED,
            json!({"reason": "conflict", "files": ["a.txt", "b.txt"], "onto": T, "detail": "the branch no longer applies"}),
        ),
        (
            QUEUE_EJECTED,
            json!({"reason": "dependency", "detail": "a task it depends on left the train"}),
        ),
        (
            QUEUE_EJECTED,
            json!({"reason": "error", "detail": "could not apply the branch"}),
        ),
        (
            QUEUE_CONFLICT,
            json!({"predicted": true, "files": ["a.txt"], "onto": T, "detail": "would conflict"}),
        ),
        (
            QUEUE_TARGET_MOVED,
            json!({"expected": T, "actual": C, "remote": "origin", "why": "stale info"}),
        ),
        (
            QUEUE_TARGET_MOVED,
            json!({"expected": T, "actual": null, "remote": null, "landing": C, "why": "the train changed before it landed"}),
        ),
        (
            QUEUE_PUSHED,
            json!({"remote": "origin", "branch": "main", "commit": C}),
        ),
        (
            JOB_RELEASED,
            json!({"job": 12, "kind": "verify", "owner": "local:1", "process": {"pid": 4}, "reason": "its owner is gone"}),
        ),
        (
            JOB_UNROUTABLE,
            json!({"job": 7, "kind": "run", "needs": ["gpu"], "machines": ["daemon:a [gtk]"]}),
        ),
        (
            RECOVERY,
            json!({"jobs_released": 1, "processes_killed": 2, "runs_lost": 1, "runs_brought_back": 1, "worktrees_removed": 0, "branches_deleted": ["gaffer/3-x"]}),
        ),
        (
            RECOVERY,
            json!({"jobs_released": 0, "processes_killed": 0, "runs_lost": 0, "runs_brought_back": 0, "worktrees_removed": 0, "branches_deleted": []}),
        ),
        (ENGINE_STARTED, json!({"owner": "local:1"})),
        (ENGINE_STOPPED, json!({"owner": "local:1"})),
        (
            WORKTREE_CLEANED,
            json!({"branch": "gaffer/3-fix", "branch_deleted": true}),
        ),
        (
            WORKTREE_CLEANED,
            json!({"skipped": "the task is active again", "status": "coding"}),
        ),
        (
            SCOPE_OUTSIDE,
            json!({"paths": ["notes/other.txt"], "scope": ["alpha.txt"], "enforce": "reject", "run": 7}),
        ),
        (
            SECRET_REFUSED,
            json!({"found": ["a.txt:3: an AWS key"], "run": 7}),
        ),
        (
            IDLE_SURVEY,
            json!({"detail": "nothing is ready or running", "budget_left_usd": 1.5}),
        ),
        (
            BEST_OF_SETTLED,
            json!({"kept": 2, "kept_attempt": {"slot": 2, "branch": "gaffer/3-b", "agents": ["claude"], "runs": 1, "cost_usd": 0.2}, "branch": "gaffer/3", "branch_made_at": null, "worktree": "task-3", "discarded": [{"slot": 1, "branch": "gaffer/3-a", "agents": ["codex"], "runs": 2, "cost_usd": 0.3}], "discarded_cost_usd": 0.3}),
        ),
        (
            BUDGET_DAY_STOP,
            json!({"reason": "spent $5.00 of $5.00 today", "limit_usd": 5.0, "detail": "no new task starts", "waiting": [3, 4]}),
        ),
        (
            BUDGET_DAY_RESUMED,
            json!({"detail": "the day's budget allows runs again"}),
        ),
        (
            BUDGET_RELEASED,
            json!({"by": "engine", "spent_usd": 0.4, "budget_usd": 1.0, "detail": "the budgets allow the held run now"}),
        ),
        (
            WORKER_TOKEN_CREATED,
            json!({"id": 3, "name": "gpu box", "labels": ["gpu", "linux"]}),
        ),
        (
            WORKER_TOKEN_CREATED,
            json!({"id": 4, "name": "worker", "labels": []}),
        ),
        (
            WORKER_TOKEN_REVOKED,
            json!({"id": 3, "name": "gpu box", "labels": ["gpu"]}),
        ),
    ]
}

fn event(kind: &str, data: Value) -> Event {
    Event {
        seq: Seq(1),
        at_ms: 0,
        project: None,
        task: Some(TaskId(3)),
        run: Some(RunId(7)),
        kind: kind.to_string(),
        data,
    }
}

#[test]
fn every_kind_has_a_sample() {
    let sampled: Vec<&str> = samples().iter().map(|(k, _)| *k).collect();
    for kind in event_kind::ALL {
        assert!(sampled.contains(kind), "no sample of {kind}");
    }
}

#[test]
fn every_kind_round_trips_between_its_payload_and_todays_json() {
    for (kind, data) in samples() {
        let payload = Payload::parse(kind, &data).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(
            !matches!(payload, Payload::Unknown { .. }),
            "{kind} is unknown"
        );
        assert_eq!(payload.kind(), kind);
        assert_eq!(payload.data(), data, "{kind} wrote other JSON");
        assert_eq!(Payload::parse(kind, &payload.data()).unwrap(), payload);
        let new = super::NewEvent::of(payload);
        assert_eq!((new.kind.as_str(), &new.data), (kind, &data));
    }
}

#[test]
fn every_kind_reads_as_a_sentence_without_json() {
    for (kind, data) in samples() {
        let text = sentence(&event(kind, data));
        assert!(text.starts_with("task 3: "), "{text}");
        assert!(
            !text.contains(['{', '}', '"', '\n']),
            "{kind} shows JSON or breaks the line: {text}"
        );
        assert!(text.len() > "task 3: ".len() + 5, "{kind}: {text}");
    }
}

#[test]
fn sentences_say_what_happened() {
    let say = |kind: &str, data: Value| sentence(&event(kind, data));
    let samples = samples();
    let of = |kind: &str| samples.iter().find(|(k, _)| *k == kind).unwrap().1.clone();
    assert_eq!(
        say(event_kind::VERIFY_FINISHED, of(event_kind::VERIFY_FINISHED)),
        "task 3: verify passed on 1a2b3c4 (branch) in 2.1 s"
    );
    let failed = samples
        .iter()
        .filter(|(k, _)| *k == event_kind::VERIFY_FINISHED)
        .map(|(_, d)| d.clone())
        .next_back()
        .unwrap();
    assert_eq!(
        say(event_kind::VERIFY_FINISHED, failed),
        "task 3: verify FAILED (exit 1) on 1a2b3c4 (branch) in 870 ms: 1 test failed: test_login"
    );
    assert_eq!(
        say(
            event_kind::RUN_OUTPUT,
            json!({"type": "question", "text": "Which one?"})
        ),
        "task 3: run 7 asked: Which one?"
    );
    assert_eq!(
        say(event_kind::TASK_SAID, of(event_kind::TASK_SAID)),
        "task 3: cli said to the agent: “Use the new API, not the old one.”"
    );
    assert_eq!(
        say(event_kind::RUN_HEARD, of(event_kind::RUN_HEARD)),
        "task 3: run 7 heard a person's message at its next turn: “Use the new API, not the old one.”"
    );
    assert_eq!(
        say(event_kind::RUN_STARTED, of(event_kind::RUN_STARTED)),
        "task 3: run 7 started: coder, claude (sonnet), tier 0"
    );
    assert_eq!(
        say(event_kind::TASK_STATUS, of(event_kind::TASK_STATUS)),
        "task 3: coding → verifying (run finished)"
    );
    // A step within one status is not a move.
    let mut within = of(event_kind::TASK_STATUS);
    within["from"] = json!("merging");
    within["to"] = json!("merging");
    within["input"] = json!("candidate_ready");
    assert_eq!(
        say(event_kind::TASK_STATUS, within),
        "task 3: merging: candidate ready"
    );
    assert_eq!(
        say(
            event_kind::QUEUE_ACQUITTED,
            json!({"group": C, "reason": "left", "by": [4]})
        ),
        "task 3: cleared of bisecting 1a2b3c4: task 4 left it without landing, so nothing is \
         known to fail any more; batched as usual again"
    );
    assert_eq!(
        say(
            event_kind::QUEUE_GUILTY,
            json!({"group": C, "commit": C, "acquitted": []})
        ),
        "task 3: found guilty by bisecting 1a2b3c4: it fails alone, twice"
    );
    assert_eq!(
        say(event_kind::QUEUE_GUILTY, of(event_kind::QUEUE_GUILTY)),
        "task 3: found guilty by bisecting 1a2b3c4: it fails alone, twice; task 5 cleared"
    );
    let made = sentence(&Event {
        task: None,
        run: None,
        ..event(
            event_kind::WORKER_TOKEN_CREATED,
            of(event_kind::WORKER_TOKEN_CREATED),
        )
    });
    assert_eq!(
        made,
        "worker token 3 (gpu box) made, for a worker labelled gpu, linux"
    );
}

#[test]
fn unknown_kinds_and_unreadable_data_still_read_as_words() {
    let unknown = event(
        "custom.thing",
        json!({"count": 2, "name": "x", "nested": {"a": 1}}),
    );
    assert!(matches!(unknown.payload(), Ok(Payload::Unknown { .. })));
    assert_eq!(
        sentence(&unknown),
        "task 3: custom.thing (count: 2, name: x)"
    );
    let broken = event(event_kind::TASK_STATUS, json!({"to": 5}));
    assert!(broken.payload().is_err());
    assert_eq!(
        sentence(&broken),
        "task 3: task.status, with data this version cannot read"
    );
}
