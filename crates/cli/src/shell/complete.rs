//! Tab completion of command names, `/task` options and task ids. Pure; unit-tested below.

use super::command::{COMMANDS, IdFor, TASK_OPTIONS, spec};
use gaffer_core::Status;

/// What completion knows about a task.
#[derive(Debug, Clone, Copy)]
pub struct TaskRef<'a> {
    pub id: i64,
    pub status: Status,
    pub title: &'a str,
}

/// The text before the cursor after completing, and the choices when more than one remains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    /// Empty when the completion was unique (or nothing matched: then `text` is unchanged).
    pub candidates: Vec<String>,
}

/// Completes the word that ends at the cursor; `before` is the text before the cursor.
/// `None` when there is nothing to complete there.
pub fn complete(before: &str, tasks: &[TaskRef<'_>]) -> Option<Completion> {
    if !before.contains(char::is_whitespace) {
        let prefix = match before.strip_prefix('/') {
            Some(p) => p,
            None if before.is_empty() => "",
            None => return None,
        };
        let names: Vec<&str> = COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with(prefix))
            .collect();
        return Some(choose("/", &names, |n| format!("/{n}"), before));
    }
    let rest = before.strip_prefix('/')?;
    let (name, args) = rest.split_once(char::is_whitespace)?;
    let args = args.trim_start();
    let spec = spec(name)?;
    let head = &before[..before.len() - args.len()];
    if let Some(kind) = spec.id {
        if args.contains(char::is_whitespace) {
            return None;
        }
        let partial = args.strip_prefix('#').unwrap_or(args);
        let matching: Vec<&TaskRef<'_>> = tasks
            .iter()
            .filter(|t| wanted(kind, t.status) && t.id.to_string().starts_with(partial))
            .collect();
        let ids: Vec<String> = matching.iter().map(|t| t.id.to_string()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut done = choose(head, &ids, |id| id.to_string(), before);
        if !done.candidates.is_empty() {
            done.candidates = matching
                .iter()
                .map(|t| format!("{} {} ({})", t.id, t.title, t.status))
                .collect();
        }
        return Some(done);
    }
    if name != "task" || before.ends_with(char::is_whitespace) {
        return None;
    }
    // `/task …`: an option name, or the value of --risk / --kind.
    let (start, word) = match before.rfind(char::is_whitespace) {
        Some(i) => (i + 1, &before[i + 1..]),
        None => return None,
    };
    let head = &before[..start];
    let previous = head.split_whitespace().last().unwrap_or("");
    let values: &[&str] = match previous {
        "--risk" => &["low", "medium", "high", "critical"],
        "--kind" => &["task", "epic", "question", "proposal"],
        _ if word.starts_with("--") => &[],
        _ => return None,
    };
    let choices: Vec<&str> = if values.is_empty() {
        TASK_OPTIONS
            .iter()
            .map(|(o, _)| *o)
            .filter(|o| o.starts_with(word))
            .collect()
    } else {
        values
            .iter()
            .copied()
            .filter(|v| v.starts_with(word))
            .collect()
    };
    Some(choose(head, &choices, |c| c.to_string(), before))
}

/// Whether a task in `status` is worth offering for a command taking `kind`.
fn wanted(kind: IdFor, status: Status) -> bool {
    match kind {
        IdFor::Any => true,
        IdFor::Approval => status == Status::AwaitingApproval,
        IdFor::Question => status == Status::NeedsInput,
        IdFor::Failed => status == Status::Failed,
        IdFor::Open => !matches!(status, Status::Merged | Status::Cancelled | Status::Failed),
        IdFor::Waiting => matches!(status, Status::Backlog | Status::Ready),
        IdFor::Queued => status == Status::Queued,
        IdFor::Merged => status == Status::Merged,
        IdFor::Attached => status == Status::Attached,
    }
}

/// One choice: `head` + it + a space. Several: `head` + their common prefix, and the list.
/// None: `unchanged`, and no list.
fn choose(
    head: &str,
    choices: &[&str],
    show: impl Fn(&str) -> String,
    unchanged: &str,
) -> Completion {
    match choices {
        [] => Completion {
            text: unchanged.to_string(),
            candidates: Vec::new(),
        },
        [one] => Completion {
            text: format!("{head}{one} "),
            candidates: Vec::new(),
        },
        many => {
            let common = common_prefix(many);
            let text = format!("{head}{common}");
            // Never shorten what was typed.
            let text = if text.len() < unchanged.len() {
                unchanged.to_string()
            } else {
                text
            };
            Completion {
                text,
                candidates: many.iter().map(|c| show(c)).collect(),
            }
        }
    }
}

fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let Some(first) = words.first() else {
        return "";
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(end);
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks() -> Vec<TaskRef<'static>> {
        vec![
            TaskRef {
                id: 1,
                status: Status::AwaitingApproval,
                title: "Write the notes",
            },
            TaskRef {
                id: 12,
                status: Status::Coding,
                title: "Fix the race",
            },
            TaskRef {
                id: 13,
                status: Status::NeedsInput,
                title: "Pick a colour",
            },
            TaskRef {
                id: 2,
                status: Status::Merged,
                title: "Retitle",
            },
        ]
    }

    fn text(before: &str) -> String {
        complete(before, &tasks()).unwrap().text
    }

    #[test]
    fn command_names() {
        assert_eq!(text("/appr"), "/approve ");
        assert_eq!(text("/st"), "/status ");
        let c = complete("/s", &tasks()).unwrap();
        assert_eq!(c.text, "/s");
        assert_eq!(c.candidates, vec!["/status", "/show", "/say", "/scale"]);
        let c = complete("/re", &tasks()).unwrap();
        assert_eq!(c.text, "/re");
        assert_eq!(
            c.candidates,
            vec!["/reject", "/release", "/retry", "/revert"]
        );
        let c = complete("", &tasks()).unwrap();
        assert_eq!(c.text, "/");
        assert_eq!(c.candidates.len(), COMMANDS.len());
        let c = complete("/zz", &tasks()).unwrap();
        assert_eq!(c.text, "/zz");
        assert!(c.candidates.is_empty());
        assert_eq!(complete("hello", &tasks()), None);
    }

    #[test]
    fn task_ids_that_fit_the_command() {
        // Only task 1 waits for approval.
        assert_eq!(text("/approve "), "/approve 1 ");
        assert_eq!(text("/reject #"), "/reject 1 ");
        // Only 13 asks a question.
        assert_eq!(text("/answer "), "/answer 13 ");
        // Any task for diff: 1, 12 and 13 start with 1.
        let c = complete("/diff 1", &tasks()).unwrap();
        assert_eq!(c.text, "/diff 1");
        assert_eq!(
            c.candidates,
            vec![
                "1 Write the notes (awaiting_approval)",
                "12 Fix the race (coding)",
                "13 Pick a colour (needs_input)"
            ]
        );
        assert_eq!(text("/log 12"), "/log 12 ");
        assert_eq!(text("/cancel 1"), "/cancel 1");
        // Nothing failed: nothing to retry.
        let c = complete("/retry ", &tasks()).unwrap();
        assert_eq!(c.text, "/retry ");
        assert!(c.candidates.is_empty());
        // Nothing merged or queued: nothing to revert or move; 12 is coding, not waiting.
        for command in ["/revert ", "/move ", "/edit 12"] {
            let c = complete(command, &tasks()).unwrap();
            assert!(c.candidates.is_empty(), "{command}: {:?}", c.candidates);
        }
        // Past the id, nothing more.
        assert_eq!(complete("/answer 13 Blu", &tasks()), None);
        assert_eq!(complete("/status ", &tasks()), None);
    }

    #[test]
    fn task_options_and_values() {
        assert_eq!(text("/task Write it --la"), "/task Write it --label ");
        assert_eq!(
            text("/task Write it --risk h"),
            "/task Write it --risk high "
        );
        assert_eq!(
            text("/task Write it --kind e"),
            "/task Write it --kind epic "
        );
        let c = complete("/task Write it --p", &tasks()).unwrap();
        assert_eq!(c.candidates, vec!["--priority", "--plan"]);
        assert_eq!(c.text, "/task Write it --p");
        assert_eq!(complete("/task Write it", &tasks()), None);
        assert_eq!(complete("/task Write it ", &tasks()), None);
    }

    #[test]
    fn common_prefixes() {
        assert_eq!(common_prefix(&["reject", "retry"]), "re");
        assert_eq!(common_prefix(&["12", "13"]), "1");
        assert_eq!(common_prefix(&["a", "b"]), "");
        assert_eq!(common_prefix(&["é1", "é2"]), "é");
    }
}
