//! Tasks: creation (with its checks), reads, and versioned state writes.

use super::events;
use super::projects;
use super::retry::TxResult;
use super::rows::{self, TASK_COLUMNS};
use crate::{StoreError, TaskEdit, TaskFilter, TaskUpdate};
use gaffer_core::slug::task_branch;
use gaffer_core::{Event, NewEvent, NewTask, ProjectId, Task, TaskId, TaskState, event_kind};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::json;

fn invalid(msg: String) -> StoreError {
    StoreError::Invalid(msg)
}

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
    if t.title.trim().is_empty() {
        return Err(invalid("a task needs a title (it is empty)".into()).into());
    }
    if !projects::exists(conn, project)? {
        return Err(StoreError::ProjectNotFound(project).into());
    }
    if let Some(parent) = t.parent {
        same_project(conn, project, parent, "parent task")?;
        if t.blocked_by.contains(&parent) {
            return Err(invalid(format!(
                "a task cannot depend on its parent {parent}: the parent waits for its children"
            ))
            .into());
        }
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
        if dep == id {
            return Err(invalid(format!("task {id} cannot depend on itself")).into());
        }
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
    let event = NewEvent::new(
        event_kind::TASK_CREATED,
        json!({
            "title": task.title,
            "kind": task.kind,
            "priority": task.priority,
            "parent": task.parent,
            "blocked_by": task.blocked_by,
            "status": task.state.status,
        }),
    )
    .project(task.project)
    .task(task.id);
    events::insert(conn, &[event], now)?
        .pop()
        .ok_or_else(|| StoreError::Database("event insert returned nothing".into()).into())
}

/// Checks that `other` exists and belongs to `project`; `what` names it in the error.
fn same_project(conn: &Connection, project: ProjectId, other: TaskId, what: &str) -> TxResult<()> {
    match events::project_of_task(conn, other) {
        Ok(p) if p == project => Ok(()),
        Ok(p) => Err(invalid(format!(
            "{what} {other} belongs to project {p}, not to project {project}"
        ))
        .into()),
        Err(super::retry::TxError::Store(StoreError::TaskNotFound(_))) => {
            Err(invalid(format!("{what} {other} does not exist")).into())
        }
        Err(e) => Err(e),
    }
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
             plan = coalesce(?6, plan)
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
                plan
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
    if task.version != expected_version {
        return Err(StoreError::VersionConflict {
            task: id,
            expected: expected_version,
            found: task.version,
        }
        .into());
    }
    let mut changed = serde_json::Map::new();
    if let Some(title) = &e.title {
        let title = title.trim();
        if title.is_empty() {
            return Err(invalid("a task needs a title (it is empty)".into()).into());
        }
        if title != task.title {
            task.title = title.to_string();
            changed.insert("title".into(), json!(task.title));
        }
    }
    if let Some(body) = &e.body
        && *body != task.body
    {
        task.body = body.clone();
        changed.insert("body".into(), json!(task.body));
    }
    if let Some(labels) = &e.labels
        && *labels != task.labels
    {
        task.labels = labels.clone();
        changed.insert("labels".into(), json!(task.labels));
    }
    if let Some(priority) = e.priority
        && priority != task.priority
    {
        task.priority = priority;
        changed.insert("priority".into(), json!(task.priority));
    }
    if let Some(risk) = e.risk
        && risk != task.state.risk
    {
        task.state.risk = risk;
        changed.insert("risk".into(), json!(task.state.risk));
    }
    if let Some(kind) = e.kind
        && kind != task.kind
    {
        task.kind = kind;
        changed.insert("kind".into(), json!(task.kind));
    }
    if let Some(budget) = e.budget_usd {
        if budget.is_some_and(|b| !(b.is_finite() && b >= 0.0)) {
            return Err(invalid("a budget is an amount of US dollars, zero or more".into()).into());
        }
        if budget != task.budget_usd {
            task.budget_usd = budget;
            changed.insert("budget_usd".into(), json!(task.budget_usd));
        }
    }
    if changed.is_empty() {
        return Ok(task);
    }
    let fields: Vec<String> = changed.keys().cloned().collect();
    changed.insert("changed".into(), json!(fields));
    conn.prepare_cached(
        "UPDATE tasks SET title = ?3, body = ?4, labels = ?5, priority = ?6, state = ?7,
             version = version + 1, updated_ms = ?8, kind = ?9, budget_usd = ?10
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
    ])?;
    task.version += 1;
    task.updated_ms = now;
    let event = NewEvent::new(event_kind::TASK_EDITED, serde_json::Value::Object(changed))
        .project(task.project)
        .task(id);
    events::insert(conn, &[event], now)?;
    Ok(task)
}
