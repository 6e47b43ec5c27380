//! Moving a board between stores ([`crate::Store::import_rows`], [`crate::Store::import_events`]):
//! what an import must be to be taken, checked before anything is written.

use crate::{BoardRows, Result, StoreError};
use gaffer_core::{Event, JobId, ProjectId, Seq, TaskId};
use std::collections::{HashMap, HashSet};

fn invalid<T>(msg: String) -> Result<T> {
    Err(StoreError::Invalid(msg))
}

/// An import goes into an empty store only: `held` is how many rows of each kind (`"projects"`,
/// `"events"`, ...) the store holds; any above zero refuses it with [`StoreError::NotEmpty`].
pub fn into_empty(held: &[(&str, u64)]) -> Result<()> {
    let found: Vec<String> = held
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(StoreError::NotEmpty(found.join(", ")))
    }
}

/// `rows` is a board on its own: ids positive and unique per table; every task, job, run and
/// worker token in one of its projects; parents and dependencies are tasks of the same project;
/// a job's task is in the job's project; a run's task exists, its project is that task's, and
/// its job exists; worker tokens have a name, machine labels and a hash each of their own.
pub fn rows(rows: &BoardRows) -> Result<()> {
    let projects = unique("project", rows.projects.iter().map(|p| p.id.0))?;
    let task_project: HashMap<TaskId, ProjectId> =
        rows.tasks.iter().map(|t| (t.id, t.project)).collect();
    unique("task", rows.tasks.iter().map(|t| t.id.0))?;
    let jobs: HashSet<JobId> = unique("job", rows.jobs.iter().map(|j| j.job.id.0))?
        .into_iter()
        .map(JobId)
        .collect();
    unique("run", rows.runs.iter().map(|r| r.run.id.0))?;

    let in_project = |what: String, project: ProjectId| -> Result<()> {
        if projects.contains(&project.0) {
            Ok(())
        } else {
            invalid(format!(
                "{what} is in project {project}, which is not imported"
            ))
        }
    };
    let same_project = |what: String, task: TaskId, project: ProjectId| -> Result<()> {
        match task_project.get(&task) {
            Some(&p) if p == project => Ok(()),
            Some(&p) => invalid(format!(
                "{what} names task {task} of project {p}, not of project {project}"
            )),
            None => invalid(format!("{what} names task {task}, which is not imported")),
        }
    };
    for t in &rows.tasks {
        in_project(format!("task {}", t.id), t.project)?;
        if let Some(parent) = t.parent {
            same_project(format!("task {} (parent)", t.id), parent, t.project)?;
        }
        for &dep in &t.blocked_by {
            same_project(format!("task {} (dependency)", t.id), dep, t.project)?;
        }
    }
    for j in &rows.jobs {
        let job = &j.job;
        in_project(format!("job {}", job.id), job.project)?;
        if let Some(task) = job.task {
            same_project(format!("job {}", job.id), task, job.project)?;
        }
        if (j.exhausted || j.acknowledged) && !matches!(job.status, gaffer_core::JobStatus::Failed)
        {
            return invalid(format!("job {} is marked exhausted but not failed", job.id));
        }
    }
    unique(
        "worker token",
        rows.worker_tokens.iter().map(|w| w.token.id),
    )?;
    let mut hashes = HashSet::new();
    for w in &rows.worker_tokens {
        let t = &w.token;
        in_project(format!("worker token {}", t.id), t.project)?;
        super::worker_tokens::new_token(&crate::NewWorkerToken {
            project: t.project,
            name: t.name.clone(),
            labels: t.labels.clone(),
            hash: w.hash.clone(),
        })?;
        if !hashes.insert(w.hash.as_str()) {
            return invalid(format!("worker token {} has another token's hash", t.id));
        }
    }
    for r in &rows.runs {
        same_project(format!("run {}", r.run.id), r.run.task, r.project)?;
        if let Some(job) = r.run.job
            && !jobs.contains(&job)
        {
            return invalid(format!(
                "run {} names job {job}, which is not imported",
                r.run.id
            ));
        }
    }
    Ok(())
}

/// Ids of one table, checked positive and unique.
fn unique(table: &str, ids: impl Iterator<Item = i64>) -> Result<HashSet<i64>> {
    let mut seen = HashSet::new();
    for id in ids {
        if id <= 0 {
            return invalid(format!("{table} id {id} is not positive"));
        }
        if !seen.insert(id) {
            return invalid(format!("{table} {id} appears twice"));
        }
    }
    Ok(seen)
}

/// The events to import follow `last` (the store's [`crate::Store::last_seq`]) in strictly
/// increasing order of seq; the first that does not is refused with
/// [`StoreError::SeqOutOfOrder`].
pub fn event_seqs(last: Seq, events: &[Event]) -> Result<()> {
    let mut after = last;
    for e in events {
        if e.seq <= after {
            return Err(StoreError::SeqOutOfOrder { seq: e.seq, after });
        }
        after = e.seq;
    }
    Ok(())
}

/// Whether imported rows hold a job someone could claim now or once its lease expires.
pub fn has_claimable_job(rows: &BoardRows) -> bool {
    use gaffer_core::JobStatus::{Leased, Queued};
    rows.jobs
        .iter()
        .any(|j| matches!(j.job.status, Queued | Leased))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_must_increase_from_the_last() {
        let ev = |seq| Event {
            seq: Seq(seq),
            at_ms: 0,
            project: None,
            task: None,
            run: None,
            kind: "k".into(),
            data: serde_json::Value::Null,
        };
        assert!(event_seqs(Seq(0), &[ev(1), ev(5)]).is_ok());
        assert!(event_seqs(Seq(3), &[]).is_ok());
        assert!(matches!(
            event_seqs(Seq(5), &[ev(5)]),
            Err(StoreError::SeqOutOfOrder {
                seq: Seq(5),
                after: Seq(5)
            })
        ));
        assert!(matches!(
            event_seqs(Seq(0), &[ev(2), ev(2)]),
            Err(StoreError::SeqOutOfOrder {
                seq: Seq(2),
                after: Seq(2)
            })
        ));
    }

    #[test]
    fn only_an_empty_store_takes_an_import() {
        assert!(into_empty(&[("projects", 0), ("events", 0)]).is_ok());
        match into_empty(&[("projects", 2), ("tasks", 0), ("events", 7)]) {
            Err(StoreError::NotEmpty(what)) => assert_eq!(what, "2 projects, 7 events"),
            other => panic!("{other:?}"),
        }
    }
}
