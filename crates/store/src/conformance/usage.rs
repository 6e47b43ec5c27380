//! Usage split by task, role, model, agent and day, and how it adds up to the totals.

use super::MakeStore;
use super::fixtures::{fresh, must, project, task};
use super::runs::{new_run, usage};
use crate::{Commit, RunFinish, Store, UsageDimension, UsageRow};
use gaffer_core::{NewRun, ProjectId, Role, Run, RunStatus, TaskId, Usage};

/// One hour, in milliseconds.
const HOUR_MS: i64 = 3_600_000;

fn start(store: &dyn Store, task: TaskId, role: Role, agent: &str, model: &str) -> Run {
    must(
        store.start_run(&NewRun {
            agent: agent.to_string(),
            model: model.to_string(),
            ..new_run(task, role)
        }),
        "start_run",
    )
}

fn finish(store: &dyn Store, run: &Run, status: RunStatus, spent: Usage) {
    must(
        store.commit(&Commit {
            finish_run: Some(RunFinish {
                run: run.id,
                status,
                outcome: None,
                usage: spent,
                session_id: None,
            }),
            ..Commit::default()
        }),
        "finish_run",
    );
}

/// Whether two sums of money are equal up to rounding.
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// `(key, runs, input tokens, cost)` of each row, for comparing with what is expected.
fn summary(rows: &[UsageRow]) -> Vec<(String, u64, u64, f64)> {
    rows.iter()
        .map(|r| {
            (
                r.key.clone(),
                r.runs,
                r.usage.input_tokens,
                r.usage.cost_usd,
            )
        })
        .collect()
}

#[track_caller]
fn assert_rows(
    store: &dyn Store,
    project: Option<ProjectId>,
    by: UsageDimension,
    expected: &[(&str, u64, u64, f64)],
) {
    let rows = must(store.usage_breakdown(project, by), "usage_breakdown");
    let got = summary(&rows);
    let matches = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| g.0 == e.0 && g.1 == e.1 && g.2 == e.2 && near(g.3, e.3));
    assert!(
        matches,
        "usage_breakdown({project:?}, {by}): expected {expected:?}, got {got:?}"
    );
}

/// Every dimension's rows add up exactly to `usage_totals`, name each value once, and come
/// highest cost first, then by key.
#[track_caller]
fn assert_adds_up(store: &dyn Store, project: Option<ProjectId>) {
    let totals = must(store.usage_totals(project), "usage_totals");
    for by in UsageDimension::ALL {
        let rows = must(store.usage_breakdown(project, by), "usage_breakdown");
        let mut sum = Usage::default();
        let mut runs = 0;
        for row in &rows {
            sum.add(&row.usage);
            runs += row.runs;
            assert!(row.runs > 0, "{by}: a row without runs: {row:?}");
        }
        assert_eq!(runs, totals.runs, "{by} ({project:?}): run counts add up");
        assert_eq!(
            (sum.input_tokens, sum.output_tokens, sum.cached_tokens),
            (
                totals.usage.input_tokens,
                totals.usage.output_tokens,
                totals.usage.cached_tokens
            ),
            "{by} ({project:?}): tokens add up"
        );
        assert!(
            near(sum.cost_usd, totals.usage.cost_usd),
            "{by} ({project:?}): cost {} != total {}",
            sum.cost_usd,
            totals.usage.cost_usd
        );
        for pair in rows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let ordered = a.usage.cost_usd > b.usage.cost_usd
                || (a.usage.cost_usd == b.usage.cost_usd && a.key < b.key);
            assert!(ordered, "{by} ({project:?}): {a:?} before {b:?}");
        }
    }
}

/// `usage_breakdown` splits the recorded usage of runs by task, role, model, agent and UTC start
/// day, for one project or all; every split adds up to `usage_totals`. Runs count whatever their
/// status (still running, failed), and a run belongs to the day it started, not the day it ended.
pub fn usage_breakdown(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    for by in UsageDimension::ALL {
        assert!(
            must(store.usage_breakdown(None, by), "usage_breakdown").is_empty(),
            "{by}: no runs, no rows"
        );
    }
    let alpha = project(store, "alpha");
    let beta = project(store, "beta");
    let t = task(store, alpha.id, "T");
    let u = task(store, alpha.id, "U");
    let v = task(store, beta.id, "V");

    // 2023-11-14, 22:13 UTC.
    let r1 = start(store, t.id, Role::Coder, "claude-sonnet", "sonnet");
    finish(store, &r1, RunStatus::Succeeded, usage(100, 10, 1, 0.5));
    let r2 = start(store, t.id, Role::Reviewer, "codex", "gpt-5");
    // Past midnight: r2 ends on the 15th but started on the 14th.
    clock.advance(2 * HOUR_MS);
    finish(store, &r2, RunStatus::Failed, usage(50, 5, 0, 0.25));
    let r3 = start(store, u.id, Role::Coder, "claude-sonnet", "sonnet");
    finish(store, &r3, RunStatus::Succeeded, usage(200, 20, 2, 1.0));
    let r4 = start(store, u.id, Role::Coder, "local", "qwen");
    finish(store, &r4, RunStatus::Succeeded, usage(300, 30, 30, 0.0));
    let r5 = start(store, v.id, Role::Planner, "claude-opus", "opus");
    finish(store, &r5, RunStatus::Succeeded, usage(7, 3, 0, 2.0));
    // Still running: counted, with no usage yet.
    start(store, t.id, Role::Reviewer, "codex", "gpt-5-mini");

    let (day1, day2) = ("2023-11-14", "2023-11-15");
    let (t_key, u_key, v_key) = (t.id.to_string(), u.id.to_string(), v.id.to_string());
    use UsageDimension::{Agent, Day, Model, Role as ByRole, Task as ByTask};

    assert_rows(
        store,
        None,
        ByTask,
        &[
            (&v_key, 1, 7, 2.0),
            (&u_key, 2, 500, 1.0),
            (&t_key, 3, 150, 0.75),
        ],
    );
    assert_rows(
        store,
        None,
        ByRole,
        &[
            ("planner", 1, 7, 2.0),
            ("coder", 3, 600, 1.5),
            ("reviewer", 2, 50, 0.25),
        ],
    );
    // Two models cost nothing: they follow in key order.
    assert_rows(
        store,
        None,
        Model,
        &[
            ("opus", 1, 7, 2.0),
            ("sonnet", 2, 300, 1.5),
            ("gpt-5", 1, 50, 0.25),
            ("gpt-5-mini", 1, 0, 0.0),
            ("qwen", 1, 300, 0.0),
        ],
    );
    assert_rows(
        store,
        None,
        Agent,
        &[
            ("claude-opus", 1, 7, 2.0),
            ("claude-sonnet", 2, 300, 1.5),
            ("codex", 2, 50, 0.25),
            ("local", 1, 300, 0.0),
        ],
    );
    assert_rows(
        store,
        None,
        Day,
        &[(day2, 4, 507, 3.0), (day1, 2, 150, 0.75)],
    );
    let all = must(store.usage_breakdown(None, Agent), "usage_breakdown");
    assert_eq!(
        (
            all[1].usage.output_tokens,
            all[1].usage.cached_tokens,
            all[3].usage.cached_tokens
        ),
        (30, 3, 30),
        "every token count is summed"
    );

    // One project.
    assert_rows(
        store,
        Some(alpha.id),
        ByTask,
        &[(&u_key, 2, 500, 1.0), (&t_key, 3, 150, 0.75)],
    );
    assert_rows(
        store,
        Some(alpha.id),
        ByRole,
        &[("coder", 3, 600, 1.5), ("reviewer", 2, 50, 0.25)],
    );
    assert_rows(
        store,
        Some(alpha.id),
        Day,
        &[(day2, 3, 500, 1.0), (day1, 2, 150, 0.75)],
    );
    assert_rows(store, Some(beta.id), Model, &[("opus", 1, 7, 2.0)]);
    assert_rows(store, Some(beta.id), Day, &[(day2, 1, 7, 2.0)]);
    for by in UsageDimension::ALL {
        assert!(
            must(
                store.usage_breakdown(Some(ProjectId(beta.id.0 + 100)), by),
                "usage_breakdown"
            )
            .is_empty(),
            "{by}: an unknown project has no rows"
        );
    }

    for project in [None, Some(alpha.id), Some(beta.id)] {
        assert_adds_up(store, project);
    }
    let totals = must(store.usage_totals(None), "usage_totals");
    assert_eq!(
        (
            totals.runs,
            totals.usage.input_tokens,
            totals.usage.output_tokens
        ),
        (6, 657, 68)
    );
    assert!(
        near(totals.usage.cost_usd, 3.75),
        "{}",
        totals.usage.cost_usd
    );
}

/// `usage_since` sums the runs that started at or after an instant (of one project, or all),
/// whatever their status and whenever they ended: what a per-day budget counts.
pub fn usage_since(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let alpha = project(store, "alpha");
    let beta = project(store, "beta");
    let t = task(store, alpha.id, "T");
    let v = task(store, beta.id, "V");
    let early = start(store, t.id, Role::Coder, "a", "m");
    clock.advance(HOUR_MS);
    let boundary = super::START_MS + HOUR_MS;
    // Started before the boundary, finished after it: not counted.
    finish(store, &early, RunStatus::Succeeded, usage(10, 1, 0, 0.5));
    let on_time = start(store, t.id, Role::Reviewer, "b", "m");
    finish(store, &on_time, RunStatus::Failed, usage(20, 2, 0, 0.25));
    let other = start(store, v.id, Role::Coder, "a", "m");
    finish(store, &other, RunStatus::Succeeded, usage(30, 3, 0, 1.0));
    start(store, t.id, Role::Coder, "a", "m");

    let since = must(store.usage_since(Some(alpha.id), boundary), "usage_since");
    assert_eq!(
        since.runs, 2,
        "the run on the boundary and the one still going"
    );
    assert!(near(since.usage.cost_usd, 0.25), "{since:?}");
    assert_eq!(since.usage.input_tokens, 20);
    let all = must(store.usage_since(None, boundary), "usage_since");
    assert_eq!(all.runs, 3);
    assert!(near(all.usage.cost_usd, 1.25), "{all:?}");
    let before = must(
        store.usage_since(Some(alpha.id), super::START_MS),
        "usage_since",
    );
    assert_eq!(
        (before.runs, before.usage),
        {
            let totals = must(store.usage_totals(Some(alpha.id)), "usage_totals");
            (totals.runs, totals.usage)
        },
        "from the first run on, it is the totals"
    );
    let later = must(store.usage_since(None, boundary + 1), "usage_since");
    assert_eq!((later.runs, later.usage.cost_usd), (0, 0.0));
}
