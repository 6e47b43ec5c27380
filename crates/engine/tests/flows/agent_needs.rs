//! Agents that need machine labels (`[agents.<name>] needs = ["gpu"]`, a local model only one
//! machine serves): the jobs that run such an agent carry its labels besides the task's, so
//! only a machine with them takes those jobs; verify is no agent and goes to any machine.

use std::path::Path;

use gaffer_core::{Job, JobKind, JobStatus, Role, Status, TaskId, event_kind};
use gaffer_store::JobFilter;
use gaffer_test_support::{Agent, EngineHarness};

/// A coder that writes `<name>.txt` for a task titled `Write <name>`.
const WRITER: &str = r#"
[[task]]
match = "alpha"
[[task.attempt]]
summary = "Wrote alpha."
actions = [{ write = "alpha.txt", content = "alpha\n" }]
[[task]]
match = "charlie"
[[task.attempt]]
summary = "Wrote charlie."
actions = [{ write = "charlie.txt", content = "charlie\n" }]
"#;

const APPROVE: &str =
    "[[task]]\nmatch = \"alpha\"\n[[task.attempt]]\nsummary = '{\"verdict\": \"approve\"}'\n";

/// A scripted agent of the shared family `scripted`, needing `labels` (none when empty).
fn agent(script: &str, labels: &[&str]) -> Agent {
    let quoted: Vec<String> = labels.iter().map(|l| format!("\"{l}\"")).collect();
    Agent::scripted(script)
        .with("family = \"scripted\"")
        .with(&format!("needs = [{}]", quoted.join(", ")))
}

fn jobs_of(h: &EngineHarness, id: TaskId) -> Vec<Job> {
    h.board()
        .store()
        .jobs(&JobFilter {
            task: Some(id),
            statuses: vec![],
        })
        .unwrap()
}

/// The coder needs `gpu`: its runs happen only on the daemon labelled gpu, while the same task's
/// verify goes to any machine (once the coder has run, the gpu daemon dies and the other
/// verifies and lands the task alone). A task whose coder (the second rung) needs `gtk`, which
/// no machine has, is started by no daemon, and the board says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_s_labels_route_its_runs_and_not_verify() {
    let mut d = EngineHarness::builder()
        .agent("writer", agent(WRITER, &["gpu"]))
        .agent("nowhere", agent(WRITER, &["gtk"]))
        .set("roles.coder", "writer,nowhere")
        .verify("for f in *.txt; do test -s \"$f\"; done")
        .set("engine.lease", "2s")
        .set("engine.heartbeat", "300ms")
        .labelled_daemons(&[&[], &["gpu"]]);
    let alpha = d.daemon(0).add("Write alpha");
    let charlie = d.daemon(0).add_task(gaffer_core::NewTask {
        title: "Write charlie".into(),
        tier: 1,
        ..Default::default()
    });
    d.start_all();
    // Once the coder's run is recorded as ended, its job is complete and its branch pushed.
    d.daemon(0)
        .wait_until("the gpu daemon's coder run to end", |h| {
            h.runs(alpha)
                .iter()
                .any(|r| r.role == Role::Coder && r.status != gaffer_core::RunStatus::Running)
                .then_some(())
        })
        .await;
    d.daemon(1).crash().await;
    d.daemon(0).wait_for_status(alpha, Status::Merged).await;
    d.daemon(0)
        .wait_until("the board to say no machine has gtk", |h| {
            h.events_of(charlie, event_kind::JOB_UNROUTABLE)
                .first()
                .cloned()
        })
        .await;
    d.stop_all().await;

    let (plain, gpu) = (
        d.daemon(0).board().owner_prefix().to_string(),
        d.daemon(1).board().owner_prefix().to_string(),
    );
    let held_by = |job: &Job, prefix: &str| {
        job.lease_owner
            .as_deref()
            .is_some_and(|owner| owner.starts_with(prefix))
    };
    // The coder ran on the gpu daemon only, in its clone.
    let gpu_clone = d.daemon(1).repo().path().to_path_buf();
    let runs = d.daemon(0).runs(alpha);
    assert!(!runs.is_empty());
    for run in &runs {
        assert!(
            Path::new(&run.worktree).starts_with(&gpu_clone),
            "run {} of alpha was in {}",
            run.id,
            run.worktree
        );
    }
    let jobs = jobs_of(d.daemon(0), alpha);
    let of = |kind: JobKind| jobs.iter().filter(move |j| j.spec.kind() == kind);
    assert!(of(JobKind::Run).count() > 0);
    for job in of(JobKind::Run) {
        assert_eq!(job.needs, ["gpu"], "{job:?}");
        assert!(held_by(job, &gpu), "{job:?}");
    }
    // Verify needs only the task's labels (none), and the daemon without gpu ran it.
    for job in of(JobKind::Verify) {
        assert!(job.needs.is_empty(), "{job:?}");
    }
    assert!(
        of(JobKind::Verify).any(|j| j.status == JobStatus::Done && held_by(j, &plain)),
        "no verify of alpha ran on the daemon without gpu: {jobs:?}"
    );

    // Charlie's coder would be `nowhere`: nobody started it; the board says what it needs.
    assert_eq!(d.daemon(0).task(charlie).status(), Status::Ready);
    assert!(jobs_of(d.daemon(0), charlie).is_empty());
    let said = d.daemon(0).events_of(charlie, event_kind::JOB_UNROUTABLE);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].data["kind"], "task", "{:?}", said[0].data);
    assert_eq!(said[0].data["job"], serde_json::Value::Null);
    assert_eq!(said[0].data["needs"], serde_json::json!(["gtk"]));
}

/// Alone on its board, a daemon starts a task whose coder needs a label it lacks: the run job
/// waits with the task's labels and the agent's, and the board names that job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_no_machine_can_take_is_said_unroutable() {
    let mut h = EngineHarness::builder()
        .agent("writer", agent(WRITER, &["gtk"]))
        .set("roles.coder", "writer")
        .set("host.labels", "gpu")
        .set("engine.lease", "2s")
        .set("engine.heartbeat", "300ms")
        .build();
    let id = h.add_task(gaffer_core::NewTask {
        title: "Write alpha".into(),
        labels: vec!["needs:gpu".into()],
        ..Default::default()
    });
    h.start();
    let said = h
        .wait_until("the board to say no machine has gtk", |h| {
            h.events_of(id, event_kind::JOB_UNROUTABLE).first().cloned()
        })
        .await;
    h.stop().await;

    let jobs = jobs_of(&h, id);
    let run = jobs
        .iter()
        .find(|j| j.spec.kind() == JobKind::Run)
        .unwrap_or_else(|| panic!("no run job: {jobs:?}"));
    assert_eq!(run.needs, ["gpu", "gtk"]);
    assert_eq!(run.status, JobStatus::Queued);
    assert_eq!(
        said.data["job"],
        serde_json::json!(run.id.0),
        "{:?}",
        said.data
    );
    assert_eq!(said.data["kind"], "run");
    assert_eq!(said.data["needs"], serde_json::json!(["gpu", "gtk"]));
    assert!(
        said.data["machines"].to_string().contains("gpu"),
        "{:?}",
        said.data
    );
    assert!(h.runs(id).is_empty());
    assert_eq!(h.task(id).status(), Status::Coding);
}

/// A review job runs its extra reviewers too, so it needs their labels: the coder's job and
/// verify need nothing, the review needs the extra reviewer's `gpu`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_needs_its_extra_reviewers_labels() {
    let mut h = EngineHarness::builder()
        .agent("writer", agent(WRITER, &[]))
        .agent("critic", agent(APPROVE, &[]))
        .agent("local", agent(APPROVE, &["gpu"]))
        .set("roles.coder", "writer")
        .set("roles.reviewer", "critic")
        .toml("[[review.extra]]\nagent = \"local\"\nfocus = \"security\"\n")
        .set("host.labels", "gpu")
        .build();
    let id = h.add("Write alpha");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
    let who: Vec<(Role, String)> = h.runs(id).into_iter().map(|r| (r.role, r.agent)).collect();
    assert_eq!(
        who,
        [
            (Role::Coder, "writer".to_string()),
            (Role::Reviewer, "critic".to_string()),
            (Role::Reviewer, "local".to_string()),
        ]
    );
    // (the role of an agent job, `None` for verify, and what it needs)
    let needs: Vec<(Option<Role>, Vec<String>)> = jobs_of(&h, id)
        .into_iter()
        .filter_map(|j| match j.spec {
            gaffer_core::JobSpec::Run { role, .. } => Some((Some(role), j.needs)),
            gaffer_core::JobSpec::Verify { .. } => Some((None, j.needs)),
            _ => None,
        })
        .collect();
    for (role, needs) in &needs {
        let expected: &[&str] = if *role == Some(Role::Reviewer) {
            &["gpu"]
        } else {
            &[]
        };
        assert_eq!(needs, expected, "{role:?}: {needs:?}");
    }
    assert!(
        needs.iter().any(|(role, _)| *role == Some(Role::Reviewer))
            && needs.iter().any(|(role, _)| role.is_none()),
        "{needs:?}"
    );
}
