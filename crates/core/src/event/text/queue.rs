//! The words for the merge queue.

use super::{duration, first_line, list, short};
use crate::event::Payload;
use crate::event::payload::{
    Acquittal, QueueAcquitted, QueueEjected, QueueLanded, QueueTargetMoved,
};
use crate::ids::TaskId;

/// `tasks 3, 4` / `task 3`.
fn tasks(ids: &[TaskId]) -> String {
    format!(
        "task{} {}",
        if ids.len() == 1 { "" } else { "s" },
        list(ids)
    )
}

/// `then(ids, |t| format!(" with {t}"))`: the clause about `ids`, or nothing when there are
/// none.
fn then(ids: &[TaskId], clause: impl FnOnce(String) -> String) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        clause(tasks(ids))
    }
}

/// The sentence of a merge-queue kind; `None` for other kinds.
pub(super) fn describe(payload: &Payload) -> Option<String> {
    let commit = |c: &Option<crate::ObjectId>| c.as_ref().map_or("?", short).to_string();
    Some(match payload {
        Payload::QueueJoined(p) => format!("joined the merge train at position {}", p.position),
        Payload::QueueMoved(p) => format!(
            "moved to place {} of the waiting line by {} (now {})",
            p.place,
            p.by,
            tasks(&p.order)
        ),
        Payload::QueueCandidate(p) => format!(
            "candidate {} built on {}{} ({}{})",
            short(&p.commit),
            short(&p.onto),
            then(&p.ahead, |t| format!(" with {t}")),
            p.strategy,
            if p.verified_already {
                ", already verified"
            } else {
                ""
            }
        ),
        Payload::QueueBatchFormed(p) => format!(
            "{} {} tested together as candidate {} on {}{}",
            match &p.bisecting {
                Some(group) => format!("bisecting {}:", short(group)),
                None => "batch:".to_string(),
            },
            tasks(&p.tasks),
            short(&p.commit),
            short(&p.onto),
            then(&p.ahead, |t| format!(" with {t}")),
        ),
        Payload::QueueBatchFailed(p) => format!(
            "batch {} ({}) FAILED verify with everything ahead passing: bisecting it{}",
            short(&p.commit),
            tasks(&p.tasks),
            then(&p.acquitted, |t| format!("; {t} cleared")),
        ),
        Payload::QueueBisecting(p) => format!(
            "bisecting {}: testing {}{}",
            short(&p.group),
            tasks(&p.tasks),
            then(&p.rest, |t| format!(", then {t}")),
        ),
        Payload::QueueGuilty(p) => format!(
            "found guilty by bisecting {}: it fails alone, twice{}",
            short(&p.group),
            then(&p.acquitted, |t| format!("; {t} cleared")),
        ),
        Payload::QueueAcquitted(p) => acquitted(p),
        Payload::QueueParked(p) => format!(
            "waits: it conflicts with the branches ahead in {}",
            list(&p.files)
        ),
        Payload::QueueInvalidated(p) => format!(
            "candidate {} dropped: {}",
            commit(&p.commit),
            first_line(&p.reason)
        ),
        Payload::QueueVerified(p) => format!(
            "candidate {} {} verify in {}{}",
            short(&p.commit),
            if p.passed { "passed" } else { "FAILED" },
            duration(p.duration_ms),
            if p.recheck { " (run again)" } else { "" }
        ),
        Payload::QueueRecheck(p) => format!(
            "candidate {} failed with everything ahead passing: running it again",
            commit(&p.commit)
        ),
        Payload::QueueFlaky(p) => format!(
            "flaky verify on {}: failed, then passed on the same tree",
            short(&p.commit)
        ),
        Payload::QueueLanding(p) => {
            format!("landing {} ({})", short(&p.commit), tasks(&p.tasks))
        }
        Payload::QueueLanded(p) => landed(p),
        Payload::QueueEjected(p) => ejected(p),
        Payload::QueueConflict(p) => format!(
            "would conflict with the landing tip in {}: a resolver merges the target into it first",
            list(&p.files)
        ),
        Payload::QueueTargetMoved(p) => moved(p),
        Payload::QueuePushed(p) => format!(
            "pushed {} to {} {}",
            short(&p.commit),
            p.remote.as_deref().unwrap_or("the remote"),
            p.branch
        ),
        _ => return None,
    })
}

fn acquitted(p: &QueueAcquitted) -> String {
    let why = match p.reason {
        Acquittal::FailedAlone => then(&p.by, |t| format!(": {t} fails alone")),
        Acquittal::Within => then(&p.by, |t| format!(": the failure is within {t}")),
        Acquittal::Left => then(&p.by, |t| {
            format!(": {t} left it without landing, so nothing is known to fail any more")
        }),
        Acquittal::NotReproduced => {
            ": every part of it passed, the failure did not reproduce (flaky verify)".to_string()
        }
    };
    format!(
        "cleared of bisecting {}{why}; batched as usual again",
        short(&p.group)
    )
}

fn landed(p: &QueueLanded) -> String {
    let mut text = format!("landed {} on {}", short(&p.commit), p.branch);
    if p.batch > 1 {
        text.push_str(&format!(" (one of {} landed together)", p.batch));
    }
    if let Some(remote) = &p.pushed_to {
        text.push_str(&format!(", pushed to {remote}"));
    }
    text.push_str(&format!(
        ", after {} in the queue",
        duration(p.time_in_queue_ms.max(0) as u64)
    ));
    text
}

fn ejected(p: &QueueEjected) -> String {
    match p {
        QueueEjected::VerifyFailed { detail, .. } => {
            format!("left the queue, verify failed: {}", first_line(detail))
        }
        QueueEjected::Conflict { files, .. } => format!(
            "left the queue, it conflicts with the target in {}: a resolver merges the target into it",
            list(files)
        ),
        QueueEjected::Dependency { detail } => {
            format!("left the queue for a dependency: {}", first_line(detail))
        }
        QueueEjected::Error { detail } => format!("left the queue: {}", first_line(detail)),
    }
}

fn moved(p: &QueueTargetMoved) -> String {
    let now = match (&p.actual, &p.remote) {
        (Some(actual), Some(remote)) => format!(", {remote} has {}", short(actual)),
        (Some(actual), None) => format!(", it is at {}", short(actual)),
        (None, _) => String::new(),
    };
    let why = p
        .why
        .as_deref()
        .map(|w| format!(" ({})", first_line(w)))
        .unwrap_or_default();
    format!(
        "the target was not at {}{now}{why}: the train is rebuilt",
        short(&p.expected)
    )
}
