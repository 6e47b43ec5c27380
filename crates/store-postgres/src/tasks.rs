//! Tasks: creation (with its checks), reads, and versioned state writes.

use crate::error::{TxError, TxResult};
use crate::rows::{self, TASK_COLUMNS};
use crate::tx::Tx;
use crate::{events, projects};
use gaffer_core::slug::task_branch;
use gaffer_core::{Event, NewTask, ProjectId, Task, TaskId, TaskState};
use gaffer_store::{StoreError, TaskEdit, TaskFilter, TaskUpdate, rules};
use postgres::types::ToSql;

/// Creates a task and its `task.created` event. Its dependencies and parent must exist in the
/// same project; a task may not depend on itself or on its parent (the parent waits for it).
pub(crate) fn create(
    tx: &mut Tx<'_>,
    project: ProjectId,
    t: &NewTask,
    initial: &TaskState,
    now: i64,
) -> TxResult<Task> {
    let task = insert(tx, project, t, initial, now)?;
    created_event(tx, &task, now)?;
    Ok(task)
}

/// [`create`] without the event, for callers that complete the task before announcing it.
pub(crate) fn insert(
    tx: &mut Tx<'_>,
    project: ProjectId,
    t: &NewTask,
    initial: &TaskState,
    now: i64,
) -> TxResult<Task> {
    rules::input::title(&t.title)?;
    if !projects::exists(tx, project)? {
        return Err(StoreError::ProjectNotFound(project).into());
    }
    if let Some(parent) = t.parent {
        same_project(tx, project, parent, "parent task")?;
        rules::input::not_on_parent(t)?;
    }
    let row = tx.query_one(
        "INSERT INTO tasks (project, title, body, kind, priority, labels, parent, blocked_by,
             write_scope, read_scope, budget_usd, branch, plan, state, status, version,
             created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '', NULL, $12, $13, 1, $14, $14)
         RETURNING id",
        &[
            &project.0,
            &t.title,
            &t.body,
            &t.kind.as_str(),
            &t.priority,
            &rows::to_json(&t.labels)?,
            &t.parent.map(|p| p.0),
            &rows::to_json(&t.blocked_by)?,
            &rows::to_json(&t.write_scope)?,
            &rows::to_json(&t.read_scope)?,
            &t.budget_usd,
            &rows::to_json(initial)?,
            &initial.status.as_str(),
            &now,
        ],
    )?;
    let id = TaskId(row.try_get(0)?);
    for &dep in &t.blocked_by {
        rules::input::not_on_itself(id, dep)?;
        same_project(tx, project, dep, "dependency")?;
        insert_dep(tx, id, dep)?;
    }
    let branch = task_branch(id, &t.title);
    tx.execute(
        "UPDATE tasks SET branch = $2 WHERE id = $1",
        &[&id.0, &branch],
    )?;

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

fn insert_dep(tx: &mut Tx<'_>, task: TaskId, dep: TaskId) -> TxResult<()> {
    tx.execute(
        "INSERT INTO task_deps (task, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&task.0, &dep.0],
    )?;
    Ok(())
}

/// Replaces the dependencies of a task created in this transaction with `blocked_by`, whose
/// new entries are tasks also created in it (known to exist, in the same project, acyclic).
pub(crate) fn set_blocked_by(
    tx: &mut Tx<'_>,
    task: &mut Task,
    blocked_by: Vec<TaskId>,
) -> TxResult<()> {
    for &dep in &blocked_by {
        insert_dep(tx, task.id, dep)?;
    }
    task.blocked_by = blocked_by;
    tx.execute(
        "UPDATE tasks SET blocked_by = $2 WHERE id = $1",
        &[&task.id.0, &rows::to_json(&task.blocked_by)?],
    )?;
    Ok(())
}

/// Writes the `task.created` event of a task as it stands.
pub(crate) fn created_event(tx: &mut Tx<'_>, task: &Task, now: i64) -> TxResult<Event> {
    events::insert(tx, &[rules::events::task_created(task)], now)?
        .pop()
        .ok_or_else(|| StoreError::Database("event insert returned nothing".into()).into())
}

/// Checks that `other` exists and belongs to `project`; `what` names it in the error.
fn same_project(tx: &mut Tx<'_>, project: ProjectId, other: TaskId, what: &str) -> TxResult<()> {
    let found = match events::project_of_task(tx, other) {
        Ok(p) => Some(p),
        Err(TxError::Store(StoreError::TaskNotFound(_))) => None,
        Err(e) => return Err(e),
    };
    Ok(rules::input::same_project(project, other, what, found)?)
}

pub(crate) fn get(tx: &mut Tx<'_>, id: TaskId) -> TxResult<Task> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
    match tx.query_opt(&sql, &[&id.0])? {
        Some(row) => rows::task(&row),
        None => Err(StoreError::TaskNotFound(id).into()),
    }
}

pub(crate) fn list(tx: &mut Tx<'_>, filter: &TaskFilter) -> TxResult<Vec<Task>> {
    let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE TRUE");
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    if let Some(p) = filter.project {
        args.push(Box::new(p.0));
        sql.push_str(&format!(" AND project = ${}", args.len()));
    }
    if let Some(parent) = filter.parent {
        args.push(Box::new(parent.0));
        sql.push_str(&format!(" AND parent = ${}", args.len()));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<String> = filter.statuses.iter().map(|s| s.as_str().into()).collect();
        args.push(Box::new(statuses));
        sql.push_str(&format!(" AND status = ANY(${})", args.len()));
    }
    sql.push_str(" ORDER BY id");
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
    let found = tx.query(&sql, &params)?;
    rows::all(found, rows::task)
}

/// Writes a new state if the task is still at the expected version (a compare-and-swap: two
/// commits from one version cannot both succeed); returns its project.
pub(crate) fn update(tx: &mut Tx<'_>, u: &TaskUpdate, now: i64) -> TxResult<ProjectId> {
    let plan = u.plan.as_ref().map(rows::to_json).transpose()?;
    let row = tx.query_opt(
        "UPDATE tasks SET state = $3, status = $4, version = version + 1, updated_ms = $5,
             plan = coalesce($6, plan), branch = coalesce($7, branch)
         WHERE id = $1 AND version = $2
         RETURNING project",
        &[
            &u.task.0,
            &u.expected_version,
            &rows::to_json(&u.state)?,
            &u.state.status.as_str(),
            &now,
            &plan,
            &u.branch,
        ],
    )?;
    if let Some(row) = row {
        return Ok(ProjectId(row.try_get(0)?));
    }
    let found = tx.query_opt("SELECT version FROM tasks WHERE id = $1", &[&u.task.0])?;
    Err(match found {
        None => StoreError::TaskNotFound(u.task),
        Some(row) => StoreError::VersionConflict {
            task: u.task,
            expected: u.expected_version,
            found: row.try_get(0)?,
        },
    }
    .into())
}

/// Changes what a task asks if it is still at `expected_version`, with a `task.edited` event.
/// The task is read under its row lock, so the version checked is the one overwritten.
pub(crate) fn edit(
    tx: &mut Tx<'_>,
    id: TaskId,
    expected_version: i64,
    e: &TaskEdit,
    now: i64,
) -> TxResult<Task> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 FOR NO KEY UPDATE");
    let mut task = match tx.query_opt(&sql, &[&id.0])? {
        Some(row) => rows::task(&row)?,
        None => return Err(StoreError::TaskNotFound(id).into()),
    };
    rules::edit::check_version(&task, expected_version)?;
    let Some(changed) = rules::edit::apply(&mut task, e)? else {
        return Ok(task);
    };
    if changed.blocked_by.is_some() {
        check_dependencies(tx, &task)?;
    }
    // The status column is not written: an edit never changes it.
    tx.execute(
        "UPDATE tasks SET title = $3, body = $4, labels = $5, priority = $6, state = $7,
             version = version + 1, updated_ms = $8, kind = $9, budget_usd = $10,
             blocked_by = $11, write_scope = $12, read_scope = $13
         WHERE id = $1 AND version = $2",
        &[
            &id.0,
            &expected_version,
            &task.title,
            &task.body,
            &rows::to_json(&task.labels)?,
            &task.priority,
            &rows::to_json(&task.state)?,
            &now,
            &task.kind.as_str(),
            &task.budget_usd,
            &rows::to_json(&task.blocked_by)?,
            &rows::to_json(&task.write_scope)?,
            &rows::to_json(&task.read_scope)?,
        ],
    )?;
    if changed.blocked_by.is_some() {
        tx.execute("DELETE FROM task_deps WHERE task = $1", &[&id.0])?;
        for &dep in &task.blocked_by {
            insert_dep(tx, id, dep)?;
        }
    }
    task.version += 1;
    task.updated_ms = now;
    events::insert(tx, &[rules::events::task_edited(&task, changed)], now)?;
    Ok(task)
}

/// The dependencies an edit gave `task` exist in its project and make no cycle.
fn check_dependencies(tx: &mut Tx<'_>, task: &Task) -> TxResult<()> {
    for &dep in &task.blocked_by {
        same_project(tx, task.project, dep, "dependency")?;
    }
    let graph = list(
        tx,
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
