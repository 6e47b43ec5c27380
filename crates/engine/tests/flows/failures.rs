//! Failures explained: a verify that fails with pytest's output keeps the failing tests with the
//! `verify.finished` event, the machine's summary (the retry's evidence, a failed task's note
//! and notice) leads with the headline, and the coder sent back sees the failing tests and their
//! first lines before the output. A best-of attempt's verify goes through the same reading.

use gaffer_core::payload::{TaskNotice, VerifyFinished, VerifyOf};
use gaffer_core::{Event, Notice, Payload, Status, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

/// What `pytest` printed on a project whose login broke (coloured, as with `--color=yes`).
const PYTEST: &str = "============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-8.3.3, pluggy-1.5.0
rootdir: /work/shop
collected 5 items

tests/test_auth.py \u{1b}[31mF\u{1b}[0m\u{1b}[31mF\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m                                                  [100%]

=================================== FAILURES ===================================
\u{1b}[31m\u{1b}[1m__________________________________ test_login __________________________________\u{1b}[0m

    def test_login(client):
        response = client.post(\"/login\", data={\"user\": \"ada\", \"password\": \"pw\"})
>       assert response.status_code == 200
\u{1b}[1m\u{1b}[31mE       assert 401 == 200\u{1b}[0m

tests/test_auth.py:14: AssertionError
\u{1b}[31m\u{1b}[1m_________________________________ test_logout __________________________________\u{1b}[0m

    def test_logout(client):
>       client.get(\"/logout\")
\u{1b}[1m\u{1b}[31mE       KeyError: 'user_id'\u{1b}[0m

shop/auth.py:41: KeyError
=========================== short test summary info ============================
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_login - assert 401 == 200
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_logout - KeyError: 'user_id'
\u{1b}[31m========================= 2 failed, 3 passed in 0.31s ==========================\u{1b}[0m
";

/// Prints pytest's failure while BROKEN exists.
const VERIFY: &str = "test ! -e BROKEN || { cat .verify/pytest.txt; exit 1; }";

const CODER: &str = r#"
[[task]]
match = "Fix the login"
[[task.attempt]]
summary = "Rewrote the login; the tests may fail."
actions = [{ write = "auth.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Fixed the session handling."
actions = [{ delete = "BROKEN" }, { write = "auth.txt", content = "v2\n" }]
"#;

fn finished(event: &Event) -> VerifyFinished {
    match event.payload().unwrap() {
        Payload::VerifyFinished(p) => p,
        other => panic!("not a verify.finished: {other:?}"),
    }
}

fn harness(limit: &str) -> EngineHarness {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("limits.verify_failures_per_tier", limit)
        .file(".verify/pytest.txt", PYTEST)
        .verify(VERIFY)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failing_tests_ride_on_the_event_and_lead_the_retry_prompt() {
    let mut h = harness("2");
    let id = h.add("Fix the login");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());

    let verifies = h.events_of(id, event_kind::VERIFY_FINISHED);
    let failed = finished(&verifies[0]);
    assert!(!failed.passed);
    let failure = failed.failure.expect("a failed verify carries its summary");
    let names: Vec<&str> = failure.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tests/test_auth.py::test_login",
            "tests/test_auth.py::test_logout"
        ]
    );
    assert_eq!(failure.headline, "2 tests failed: test_login, test_logout");
    assert_eq!(failure.tests[0].detail[0], "assert 401 == 200");
    // The full output stays where it was, colours and all.
    assert!(failed.tail.contains("\u{1b}[31mFAILED"), "{}", failed.tail);
    // A pass carries none.
    let passed = finished(verifies.last().unwrap());
    assert!(passed.passed && passed.failure.is_none());
    assert!(
        gaffer_core::event::describe(&verifies[0])
            .ends_with(": 2 tests failed: test_login, test_logout"),
        "{}",
        gaffer_core::event::describe(&verifies[0])
    );

    // The coder sent back sees the headline, then the failing tests, then the output.
    let runs = h.runs(id);
    let again = h.prompt(&runs[1]);
    let at = |text: &str| {
        again
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} is not in the prompt:\n{again}"))
    };
    let headline = at("2 tests failed: test_login, test_logout");
    let command = at("`test ! -e BROKEN || { cat .verify/pytest.txt; exit 1; }` exit code 1");
    let login = at(
        "  tests/test_auth.py::test_login\n      assert 401 == 200\n      tests/test_auth.py:14: AssertionError",
    );
    let logout = at("  tests/test_auth.py::test_logout\n      KeyError: 'user_id'");
    let output = at("The end of verify's output:");
    let session = at("test session starts");
    assert!(
        headline < command
            && command < login
            && login < logout
            && logout < output
            && output < session,
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_fails_verify_says_which_tests_in_its_note_and_notice() {
    let mut h = harness("1");
    let id = h.add("Fix the login");
    h.settle().await;
    let task = h.task(id);
    assert_eq!(task.status(), Status::Failed, "{}", h.describe());
    let note = task.state.note.unwrap_or_default();
    let mut lines = note.lines();
    assert_eq!(
        lines.next(),
        Some("2 tests failed: test_login, test_logout")
    );
    assert_eq!(
        lines.next(),
        Some("`test ! -e BROKEN || { cat .verify/pytest.txt; exit 1; }` exit code 1")
    );
    // What a person reads first is the lead; the output follows under its heading.
    let (lead, output) = gaffer_core::failures::split_evidence(&note);
    assert!(
        lead.contains("Failing tests:\n  tests/test_auth.py::test_login"),
        "{lead}"
    );
    assert!(!lead.contains("test session starts"), "{lead}");
    assert!(output.is_some_and(|o| o.contains("test session starts")));

    let notices = h.notices(id, "failed");
    let reason = match notices[0].payload().unwrap() {
        Payload::TaskNotice(TaskNotice::Notice(Notice::Failed { reason })) => reason,
        other => panic!("{other:?}"),
    };
    assert!(
        reason.starts_with("2 tests failed: test_login, test_logout\n"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_best_of_attempt_that_fails_verify_is_explained_too() {
    let attempt = |actions: &str| {
        Agent::scripted(&format!(
            "[[task]]\nmatch = \"Fix the login\"\n[[task.attempt]]\nsummary = \"tried\"\nactions = {actions}\n"
        ))
    };
    let mut h = EngineHarness::builder()
        .agent(
            "c1",
            attempt(r#"[{ write = "auth.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]"#),
        )
        .agent("c2", attempt(r#"[{ write = "auth.txt", content = "v2\n" }]"#))
        .agent(
            "critic",
            Agent::scripted(
                "[[task]]\nmatch = \"Fix the login\"\n[[task.attempt]]\nsummary = '{\"verdict\": \"approve\", \"summary\": \"fine\"}'\n",
            ),
        )
        .set("roles.coder", "c1,c2")
        .set("roles.reviewer", "critic")
        .file(".verify/pytest.txt", PYTEST)
        .verify(VERIFY)
        .build();
    let id = h.add_task(gaffer_core::NewTask {
        title: "Fix the login".into(),
        best_of: 2,
        ..gaffer_core::NewTask::default()
    });
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
    let attempts: Vec<VerifyFinished> = h
        .events_of(id, event_kind::VERIFY_FINISHED)
        .iter()
        .map(finished)
        .filter(|v| v.purpose == VerifyOf::Attempt)
        .collect();
    let failed = attempts
        .iter()
        .find(|v| !v.passed)
        .expect("attempt 1 failed verify");
    assert_eq!(failed.slot, Some(1));
    assert_eq!(
        failed.failure.as_ref().map(|f| f.headline.as_str()),
        Some("2 tests failed: test_login, test_logout")
    );
}
