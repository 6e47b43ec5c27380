//! Tasks from elsewhere: a markdown file of tasks, or GitHub issues (as `gh issue list --json
//! number,title,body,labels` prints them). Parsing only; the caller creates the tasks in order,
//! turning each draft's dependencies into task ids as it goes.
//!
//! The markdown form: each `## Title` heading starts a task and the text below it is its body.
//! Lines right under the heading may set fields, one per line, before the body starts:
//!
//! ```text
//! ## Add the /health endpoint
//! labels: api, small
//! depends: 1, #12
//! scope: src/health/**, tests/health.rs
//! priority: 2
//! risk: high
//!
//! Return 200 with the build's version.
//! ```
//!
//! `depends` names earlier tasks of the file by their 1-based position, or existing tasks as
//! `#ID`. Anything before the first `##` heading (a `# Title`, an introduction) is ignored, and
//! so is a `##` inside a fenced code block.

use gaffer_core::{NewTask, Risk, TaskId, TaskKind};

/// A task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub depends: Vec<Dependency>,
    pub scope: Vec<String>,
    pub priority: i32,
    pub risk: Risk,
    /// Where it came from, for messages: `tasks.md:12`, `GitHub issue #7`.
    pub origin: String,
    /// The GitHub issue it was made from.
    pub issue: Option<u64>,
}

/// What a draft waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// An earlier draft of the same file (0-based).
    Draft(usize),
    /// A task that exists already.
    Task(TaskId),
}

impl Draft {
    /// The task to add, with the ids of the drafts created before it (`created[i]` is the id of
    /// draft `i`).
    pub fn to_new_task(&self, created: &[TaskId]) -> Result<NewTask, String> {
        let mut blocked_by = Vec::new();
        for dep in &self.depends {
            blocked_by.push(match dep {
                Dependency::Task(id) => *id,
                Dependency::Draft(i) => *created.get(*i).ok_or_else(|| {
                    format!(
                        "{}: depends on task {} of the file, which was not created",
                        self.origin,
                        i + 1
                    )
                })?,
            });
        }
        Ok(NewTask {
            title: self.title.clone(),
            body: self.body.clone(),
            kind: TaskKind::Task,
            priority: self.priority,
            labels: self.labels.clone(),
            blocked_by,
            write_scope: self.scope.clone(),
            risk: self.risk,
            ..NewTask::default()
        })
    }
}

/// A markdown file that cannot be imported: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct IntakeError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The tasks of a markdown file named `file` (for messages).
pub fn parse_markdown(file: &str, text: &str) -> Result<Vec<Draft>, IntakeError> {
    let error = |line: usize, message: String| IntakeError {
        file: file.to_string(),
        line,
        message,
    };
    let mut drafts: Vec<Draft> = Vec::new();
    // The task being read, and whether its field lines are over.
    let mut current: Option<(Draft, bool)> = None;
    let mut fence: Option<&str> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if let Some(title) = line
            .strip_prefix("##")
            .filter(|rest| rest.is_empty() || rest.starts_with(' '))
        {
            if let Some((draft, _)) = current.take() {
                drafts.push(finish(draft));
            }
            let title = title.trim().trim_end_matches('#').trim();
            if title.is_empty() {
                return Err(error(number, "a `## ` heading without a title".into()));
            }
            current = Some((
                Draft {
                    title: title.to_string(),
                    body: String::new(),
                    labels: Vec::new(),
                    depends: Vec::new(),
                    scope: Vec::new(),
                    priority: 0,
                    risk: Risk::Low,
                    origin: format!("{file}:{number}"),
                    issue: None,
                },
                false,
            ));
            continue;
        }
        let Some((draft, body_started)) = current.as_mut() else {
            continue;
        };
        if !*body_started && fence.is_none() {
            if trimmed.is_empty() && draft.body.is_empty() {
                continue;
            }
            if let Some((key, value)) = field(trimmed) {
                let position = drafts.len();
                set_field(draft, key, value, position).map_err(|message| error(number, message))?;
                continue;
            }
        }
        *body_started = true;
        draft.body.push_str(raw);
        draft.body.push('\n');
    }
    if let Some((draft, _)) = current.take() {
        drafts.push(finish(draft));
    }
    if drafts.is_empty() {
        return Err(error(
            1,
            "no tasks: each task starts with a `## Title` heading".into(),
        ));
    }
    Ok(drafts)
}

fn finish(mut draft: Draft) -> Draft {
    draft.body = draft.body.trim().to_string();
    draft
}

/// `key: value` for the keys a task's field lines may set.
fn field(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    ["labels", "depends", "scope", "priority", "risk"]
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key))
        .map(|k| (*k, value.trim()))
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Sets one field of the draft at `position` (0-based) in the file.
fn set_field(draft: &mut Draft, key: &str, value: &str, position: usize) -> Result<(), String> {
    match key {
        "labels" => draft.labels.extend(list(value)),
        "scope" => draft.scope.extend(list(value)),
        "priority" => {
            draft.priority = value
                .parse()
                .map_err(|_| format!("priority: `{value}` is not a whole number"))?;
        }
        "risk" => {
            draft.risk = value.to_ascii_lowercase().parse().map_err(|_| {
                format!("risk: `{value}` is not one of low, medium, high, critical")
            })?;
        }
        _ => {
            for dep in list(value) {
                if let Some(id) = dep.strip_prefix('#') {
                    let id: i64 = id
                        .parse()
                        .map_err(|_| format!("depends: `{dep}` is not a task id"))?;
                    draft.depends.push(Dependency::Task(TaskId(id)));
                    continue;
                }
                let n: usize = dep.parse().map_err(|_| {
                    format!(
                        "depends: `{dep}` is neither the position of a task in this file \
                         (1, 2, …) nor a task id (#12)"
                    )
                })?;
                if n == 0 || n > position {
                    return Err(format!(
                        "depends: {n} is not an earlier task of this file (this is task {}); \
                         put the tasks a task depends on before it",
                        position + 1
                    ));
                }
                draft.depends.push(Dependency::Draft(n - 1));
            }
        }
    }
    Ok(())
}

/// The marker a task made from a GitHub issue carries at the end of its body.
pub fn issue_marker(number: u64) -> String {
    format!("Imported from GitHub issue #{number}.")
}

/// Drafts from the JSON of `gh issue list --json number,title,body,labels`.
pub fn parse_github(json: &str) -> Result<Vec<Draft>, String> {
    #[derive(serde::Deserialize)]
    struct Issue {
        number: u64,
        title: String,
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        labels: Vec<Label>,
    }
    #[derive(serde::Deserialize)]
    struct Label {
        name: String,
    }
    let issues: Vec<Issue> = serde_json::from_str(json)
        .map_err(|e| format!("`gh issue list` printed something gaffer cannot read: {e}"))?;
    Ok(issues
        .into_iter()
        .filter(|i| !i.title.trim().is_empty())
        .map(|issue| {
            let body = issue.body.unwrap_or_default();
            let body = match body.trim() {
                "" => issue_marker(issue.number),
                text => format!("{text}\n\n{}", issue_marker(issue.number)),
            };
            Draft {
                title: issue.title.trim().to_string(),
                body,
                // An issue's own `needs: …` labels ("needs: more info") are the tracker's, not
                // machine labels: kept, but not as routing.
                labels: issue
                    .labels
                    .into_iter()
                    .map(|l| match l.name.strip_prefix(gaffer_core::NEEDS_PREFIX) {
                        Some(rest) => format!("issue-needs:{rest}"),
                        None => l.name,
                    })
                    .collect(),
                depends: Vec::new(),
                scope: Vec::new(),
                priority: 0,
                risk: Risk::Low,
                origin: format!("GitHub issue #{}", issue.number),
                issue: Some(issue.number),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# Sprint 12

Anything up here is an introduction.

## Add the schema
labels: db, small
scope: migrations/**
risk: high

Create the `users` table.

```sql
## not a heading
create table users (id int);
```

## Add the API
depends: 1, #40
priority: 2
Expose it over HTTP.
Note: keep it small.

## Docs ##
";

    #[test]
    fn a_markdown_file_becomes_drafts_with_fields_and_bodies() {
        let drafts = parse_markdown("tasks.md", FILE).unwrap();
        assert_eq!(drafts.len(), 3);
        let schema = &drafts[0];
        assert_eq!(schema.title, "Add the schema");
        assert_eq!(schema.labels, ["db", "small"]);
        assert_eq!(schema.scope, ["migrations/**"]);
        assert_eq!(schema.risk, Risk::High);
        assert_eq!(
            schema.body,
            "Create the `users` table.\n\n```sql\n## not a heading\ncreate table users (id int);\n```"
        );
        assert_eq!(schema.origin, "tasks.md:5");
        let api = &drafts[1];
        assert_eq!(
            api.depends,
            [Dependency::Draft(0), Dependency::Task(TaskId(40))]
        );
        assert_eq!(api.priority, 2);
        assert_eq!(api.body, "Expose it over HTTP.\nNote: keep it small.");
        assert_eq!(drafts[2].title, "Docs");
        assert_eq!(drafts[2].body, "");

        let new = api.to_new_task(&[TaskId(7)]).unwrap();
        assert_eq!(new.blocked_by, [TaskId(7), TaskId(40)]);
        assert!(api.to_new_task(&[]).is_err());
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            (
                "## A\ndepends: 1\n",
                "tasks.md:2: depends: 1 is not an earlier task",
            ),
            (
                "## A\n## B\ndepends: 3\n",
                "tasks.md:3: depends: 3 is not an earlier task",
            ),
            (
                "## A\npriority: high\n",
                "tasks.md:2: priority: `high` is not a whole number",
            ),
            (
                "## A\nrisk: severe\n",
                "tasks.md:2: risk: `severe` is not one of",
            ),
            ("## A\ndepends: x\n", "tasks.md:2: depends: `x` is neither"),
            ("##  \n", "tasks.md:1: a `## ` heading without a title"),
            ("# Only a title\n", "tasks.md:1: no tasks"),
        ];
        for (text, want) in cases {
            let error = parse_markdown("tasks.md", text).unwrap_err().to_string();
            assert!(error.starts_with(want), "{text:?} → {error}");
        }
    }

    #[test]
    fn github_issues_become_drafts_with_their_labels_and_number() {
        let json = r#"[
            {"number": 7, "title": "Crash on start", "body": "Stack trace…", "labels": [{"name": "bug", "color": "f00"}]},
            {"number": 9, "title": "Docs", "body": null, "labels": []}
        ]"#;
        let drafts = parse_github(json).unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].labels, ["bug"]);
        assert_eq!(
            drafts[0].body,
            "Stack trace…\n\nImported from GitHub issue #7."
        );
        assert_eq!(drafts[1].body, "Imported from GitHub issue #9.");
        assert_eq!(drafts[1].issue, Some(9));
        assert!(parse_github("not json").is_err());
    }
}
