//! Failures explained in the terminal: a task that failed pytest says which tests failed, with
//! their first lines, in `task list`, `task show` and `log`; the whole output (without its escape
//! sequences) only with `--full`.

use crate::common::{Project, stderr_of, stdout_of};
use crate::crew::{config, scripted};

/// pytest's output on a broken login, coloured as with `--color=yes`.
const PYTEST: &str = "============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-8.3.3, pluggy-1.5.0
collected 4 items

tests/test_auth.py \u{1b}[31mFF\u{1b}[0m\u{1b}[32m..\u{1b}[0m                                                   [100%]

=================================== FAILURES ===================================
__________________________________ test_login __________________________________

    def test_login(client):
>       assert client.post(\"/login\").status_code == 200
\u{1b}[1m\u{1b}[31mE       assert 401 == 200\u{1b}[0m

tests/test_auth.py:9: AssertionError
_________________________________ test_logout __________________________________

    def test_logout(client):
>       client.get(\"/logout\")
\u{1b}[1m\u{1b}[31mE       KeyError: 'user_id'\u{1b}[0m

shop/auth.py:41: KeyError
=========================== short test summary info ============================
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_login - assert 401 == 200
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_logout - KeyError: 'user_id'
========================= 2 failed, 2 passed in 0.12s ==========================
";

const CODER: &str = r#"
[[task]]
match = "login"
[[task.attempt]]
summary = "Rewrote the login."
actions = [{ write = "BROKEN", content = "1\n" }]
"#;

fn failed_task() -> (Project, String) {
    let toml = config(
        "",
        &format!(
            "{}[roles]\ncoder = [\"writer\"]\n\n[limits]\nverify_failures_per_tier = 1\n",
            scripted("writer")
        ),
    );
    let project = Project::bare();
    project.repo.write("gaffer.toml", &toml);
    project.repo.write(
        "verify.sh",
        "if [ -e BROKEN ]; then cat pytest-output.txt; exit 1; fi\n",
    );
    project.repo.write("pytest-output.txt", PYTEST);
    project.repo.write("scripts/writer.toml", CODER);
    project.repo.commit_all("failures fixture");
    let id = {
        let _daemon = project.start_daemon();
        let id = project.add_task("Fix the login", &[]);
        project.wait_for_status(id, "failed");
        id
    };
    (project, id.to_string())
}

fn run(project: &Project, args: &[&str]) -> String {
    let out = project.gaffer().args(args).output().unwrap();
    assert!(out.status.success(), "gaffer {args:?}: {}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn show_list_and_log_name_the_failing_tests_and_fold_the_output() {
    let (project, id) = failed_task();
    let headline = "2 tests failed: test_login, test_logout";

    let list = run(&project, &["task", "list"]);
    assert!(
        list.contains(&format!("Fix the login  — {headline}")),
        "{list}"
    );

    let show = run(&project, &["task", "show", &id]);
    assert!(
        show.contains(&format!("  note      {headline}\n")),
        "{show}"
    );
    assert!(
        show.contains("            `sh verify.sh` exit code 1\n"),
        "{show}"
    );
    assert!(
        show.contains(
            "last verify:\n  verify FAILED (exit 1) on "
        ) && show.contains(&format!(": {headline}\n    Failing tests:\n      tests/test_auth.py::test_login\n          assert 401 == 200\n          tests/test_auth.py:9: AssertionError\n      tests/test_auth.py::test_logout\n          KeyError: 'user_id'\n")),
        "{show}"
    );
    assert!(
        show.contains(&format!("the whole output: `gaffer task show {id} --full`")),
        "{show}"
    );
    assert!(
        !show.contains("test session starts"),
        "the output is folded: {show}"
    );

    let full = run(&project, &["task", "show", &id, "--full"]);
    assert!(
        full.contains("    output:\n      ============================= test session starts"),
        "{full}"
    );
    assert!(
        full.contains("      FAILED tests/test_auth.py::test_login - assert 401 == 200"),
        "{full}"
    );
    assert!(
        !full.contains('\u{1b}'),
        "no escape sequence reaches the terminal: {full:?}"
    );
    assert_eq!(
        full.matches("test session starts").count(),
        1,
        "printed once: {full}"
    );

    let log = run(&project, &["log", &id]);
    let run_at = log.find("── run ").unwrap();
    let tests_at = log
        .find("      tests/test_auth.py::test_login\n          assert 401 == 200")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(run_at < tests_at, "{log}");
    assert!(
        log.contains(&format!("the whole output: `gaffer log {id} --full`")),
        "{log}"
    );
    assert!(!log.contains("test session starts"), "{log}");
    let log_full = run(&project, &["log", &id, "--full"]);
    assert!(
        log_full.contains("test session starts") && !log_full.contains('\u{1b}'),
        "{log_full}"
    );

    // `--json` stays the stored data: the summary is in the event.
    let shown = project.show(id.parse().unwrap());
    let verify = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "verify.finished")
        .unwrap()
        .clone();
    assert_eq!(verify["data"]["failure"]["headline"], headline);
    assert_eq!(verify["data"]["failure"]["runner"], "pytest");
    assert_eq!(
        verify["data"]["failure"]["tests"][1]["name"],
        "tests/test_auth.py::test_logout"
    );
}
