//! Tasks: creation (with its checks), reads, and versioned state writes.

use super::events;
use super::projects;
use super::retry::TxResult;
use super::rows::{self, TASK_COLUMNS};
use crate::{StoreError, TaskEdit, TaskFilter, TaskUpdate, rules};
use gaffer_core::slug::task_branch;
use gaffer_core::{Event, NewTask, ProjectId, Task, TaskId, TaskState};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// Creates a task and its `task.created` event. Its dependencies and parent must exist in the
/// same project; a task may not depend on itself or on its parent (the parent waits for it).
pub(super) fn create(
    conn: &Connection,
    project: ProjectId,
    t: &NewTask,
    initial: &TaskState,
    now: i64,
) -> TxResult<(Task, Event)> {
    let task = insert(conn, project, t, initial, now)?;
    let event = created_event(conn, &task, now)?;
    Ok((task, event))
}

/// [`create`] without the event, for callers that complete the task before announcing it.
pub(super) fn insert(
    conn: &Connection,
    project: ProjectId,
    t: &NewTask,
    initial: &TaskState,
    now: i64,
) -> TxResult<Task> {
    rules::input::title(&t.title)?;
    if !projects::exists(conn, project)? {
        return Err(StoreError::ProjectNotFound(project).into());
    }
    if let Some(parent) = t.parent {
        same_project(conn, project, parent, "parent task")?;
        rules::input::not_on_parent(t)?;
    }
    let state = rows::to_json(initial)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO tasks (project, title, body, kind, priority, labels, parent, blocked_by,
             write_scope, read_scope, budget_usd, branch, plan, state, status, version,
             created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '', NULL, ?12, ?13, 1, ?14, ?14)",
    )?;
    stmt.execute(params![
        project.0,
        t.title,
        t.body,
        t.kind.as_str(),
        t.priority,
        rows::to_json(&t.labels)?,
        t.parent.map(|p| p.0),
        rows::to_json(&t.blocked_by)?,
        rows::to_json(&t.write_scope)?,
        rows::to_json(&t.read_scope)?,
        t.budget_usd,
        state,
        initial.status.as_str(),
        now,
    ])?;
    let id = TaskId(conn.last_insert_rowid());
    for &dep in &t.blocked_by {
        rules::input::not_on_itself(id, dep)?;
        same_project(conn, project, dep, "dependency")?;
        insert_dep(conn, id, dep)?;
    }
    let branch = task_branch(id, &t.title);
    conn.prepare_cached("UPDATE tasks SET branch = ?2 WHERE id = ?1")?
        .execute(params![id.0, branch])?;

    Ok(Task {
        id,
        project,
        title: t.title.clone(),
        body: t.body.clone(),
        kind: t.kind,
        priority: t.priority,
        labels: t.labels.clone(),
        parent: t.parent,
        blocked_by: t.blocked_by.clone(),
        write_scope: t.write_scope.clone(),
        read_scope: t.read_scope.clone(),
        budget_usd: t.budget_usd,
        branch,
        plan: None,
        state: initial.clone(),
        version: 1,
        created_ms: now,
        updated_ms: now,
    })
}

fn insert_dep(conn: &Connection, task: TaskId, dep: TaskId) -> TxResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO task_deps (task, depends_on) VALUES (?1, ?2)")?
        .execute([task.0, dep.0])?;
    Ok(())
}

/// Replaces the dependencies of a task created in this transaction with `blocked_by`, whose
/// new entries are tasks also created in it (known to exist, in the same project, acyclic).
pub(super) fn set_blocked_by(
    conn: &Connection,
    task: &mut Task,
    blocked_by: Vec<TaskId>,
) -> TxResult<()> {
    for &dep in &blocked_by {
        insert_dep(conn, task.id, dep)?;
    }
    task.blocked_by = blocked_by;
    conn.prepare_cached("UPDATE tasks SET blocked_by = ?2 WHERE id = ?1")?
        .execute(params![task.id.0, rows::to_json(&task.blocked_by)?])?;
    Ok(())
}

/// Writes the `task.created` event of a task as it stands.
pub(super) fn created_event(conn: &Connection, task: &Task, now: i64) -> TxResult<Event> {
    events::insert(conn, &[rules::events::task_created(task)], now)?
        .pop()
        .ok_or_else(|| StoreError::Database("event insert returned nothing".into()).into())
}

/// Checks that `other` exists and belongs to `project`; `what` names it in the error.
fn same_project(conn: &Connection, project: ProjectId, other: TaskId, what: &str) -> TxResult<()> {
    let found = match events::project_of_task(conn, other) {
        Ok(p) => Some(p),
        Err(super::retry::TxError::Store(StoreError::TaskNotFound(_))) => None,
        Err(e) => return Err(e),
    };
    Ok(rules::input::same_project(project, other, what, found)?)
}

pub(super) fn get(conn: &Connection, id: TaskId) -> TxResult<Task> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(&mut stmt, [id.0], rows::task)?.ok_or_else(|| StoreError::TaskNotFound(id).into())
}

pub(super) fn list(conn: &Connection, filter: &TaskFilter) -> TxResult<Vec<Task>> {
    let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(p) = filter.project {
        sql.push_str(" AND project = ?");
        args.push(Value::Integer(p.0));
    }
    if let Some(parent) = filter.parent {
        sql.push_str(" AND parent = ?");
        args.push(Value::Integer(parent.0));
    }
    if !filter.statuses.is_empty() {
        let marks = vec!["?"; filter.statuses.len()].join(", ");
        sql.push_str(&format!(" AND status IN ({marks})"));
        args.extend(
            filter
                .statuses
                .iter()
                .map(|s| Value::Text(s.as_str().into())),
        );
    }
    sql.push_str(" ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, params_from_iter(args), rows::task)
}

/// Writes a new state if the task is still at the expected version; returns its project.
pub(super) fn update(conn: &Connection, u: &TaskUpdate, now: i64) -> TxResult<ProjectId> {
    let plan = u.plan.as_ref().map(rows::to_json).transpose()?;
    let mut stmt = conn.prepare_cached(
        "UPDATE tasks SET state = ?3, status = ?4, version = version + 1, updated_ms = ?5,
             plan = coalesce(?6, plan), branch = coalesce(?7, branch)
         WHERE id = ?1 AND version = ?2
         RETURNING project",
    )?;
    let project: Option<i64> = stmt
        .query_row(
            params![
                u.task.0,
                u.expected_version,
                rows::to_json(&u.state)?,
                u.state.status.as_str(),
                now,
                plan,
                u.branch
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(p) = project {
        return Ok(ProjectId(p));
    }
    let found: Option<i64> = conn
        .prepare_cached("SELECT version FROM tasks WHERE id = ?1")?
        .query_row([u.task.0], |r| r.get(0))
        .optional()?;
    Err(match found {
        None => StoreError::TaskNotFound(u.task),
        Some(found) => StoreError::VersionConflict {
            task: u.task,
            expected: u.expected_version,
            found,
        },
    }
    .into())
}

/// Changes what a task asks if it is still at `expected_version`, with a `task.edited` event.
pub(super) fn edit(
    conn: &Connection,
    id: TaskId,
    expected_version: i64,
    e: &TaskEdit,
    now: i64,
) -> TxResult<Task> {
    let mut task = get(conn, id)?;
    rules::edit::check_version(&task, expected_version)?;
    let Some(changed) = rules::edit::apply(&mut task, e)? else {
        return Ok(task);
    };
    if changed.blocked_by.is_some() {
        check_dependencies(conn, &task)?;
    }
    // The status column is not written: an edit never changes it.
    conn.prepare_cached(
        "UPDATE tasks SET title = ?3, body = ?4, labels = ?5, priority = ?6, state = ?7,
             version = version + 1, updated_ms = ?8, kind = ?9, budget_usd = ?10,
             blocked_by = ?11, write_scope = ?12, read_scope = ?13
         WHERE id = ?1 AND version = ?2",
    )?
    .execute(params![
        id.0,
        expected_version,
        task.title,
        task.body,
        rows::to_json(&task.labels)?,
        task.priority,
        rows::to_json(&task.state)?,
        now,
        task.kind.as_str(),
        task.budget_usd,
        rows::to_json(&task.blocked_by)?,
        rows::to_json(&task.write_scope)?,
        rows::to_json(&task.read_scope)?,
    ])?;
    if changed.blocked_by.is_some() {
        conn.prepare_cached("DELETE FROM task_deps WHERE task = ?1")?
            .execute([id.0])?;
        for &dep in &task.blocked_by {
            insert_dep(conn, id, dep)?;
        }
    }
    task.version += 1;
    task.updated_ms = now;
    events::insert(conn, &[rules::events::task_edited(&task, changed)], now)?;
    Ok(task)
}

/// The dependencies an edit gave `task` exist in its project and make no cycle.
fn check_dependencies(conn: &Connection, task: &Task) -> TxResult<()> {
    for &dep in &task.blocked_by {
        same_project(conn, task.project, dep, "dependency")?;
    }
    let graph = list(
        conn,
        &TaskFilter {
            project: Some(task.project),
            ..TaskFilter::default()
        },
    )?
    .into_iter()
    .map(|t| (t.id, t.blocked_by))
    .collect();
    Ok(rules::edit::acyclic(task.id, &task.blocked_by, &graph)?)
}
