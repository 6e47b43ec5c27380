//! The shell's slash commands: what can be typed, and parsing a line into a [`Command`].
//!
//! Pure: no I/O, unit-tested below. `/help` prints [`help`], which documents every command.

use gaffer_core::{NewTask, Risk, TaskKind};

/// A command line, understood.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `/task Title words… [--label L]… [--risk R] [--priority P] [--dep N]… [--scope GLOB]…
    /// [--kind K] [--plan] [--body text…]`.
    Task(Box<NewTask>),
    Status,
    Show(i64),
    Diff(i64),
    Log(i64),
    Pending,
    Approve(i64),
    Reject {
        id: i64,
        reason: String,
        cancel: bool,
    },
    Answer {
        id: i64,
        text: String,
    },
    Say {
        id: i64,
        text: String,
    },
    Attach(i64),
    Release(i64),
    Cancel {
        id: i64,
        reason: String,
    },
    Retry {
        id: i64,
        fresh: bool,
    },
    Accept(i64),
    Decline {
        id: i64,
        reason: Option<String>,
    },
    Budget {
        id: i64,
        usd: Option<f64>,
    },
    /// `/revert N`: a merged task undone by a new task.
    Revert(i64),
    /// `/edit N [--dep M]… [--no-dep M]… [--scope GLOB]… …`.
    Edit {
        id: i64,
        changes: gaffer_api::TaskChanges,
    },
    /// `/move N --to P | --before M | --after M`.
    Move {
        id: i64,
        to: gaffer_api::Place,
    },
    Usage,
    Scale(usize),
    Help,
    Quit,
}

/// What an argument of a command is, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFor {
    /// Any task.
    Any,
    /// A task waiting at the approval gate.
    Approval,
    /// A task asking a question.
    Question,
    /// A failed task.
    Failed,
    /// A task that has not ended.
    Open,
    /// A task that has not started (backlog or ready).
    Waiting,
    /// A task waiting to join the merge train.
    Queued,
    /// A merged task.
    Merged,
    /// A task a person has in hand.
    Attached,
}

/// One slash command: its name, whether its first argument is a task id, and its help line.
pub struct Spec {
    pub name: &'static str,
    pub id: Option<IdFor>,
    pub usage: &'static str,
    pub about: &'static str,
}

/// Every command, in the order `/help` lists them.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "task",
        id: None,
        usage: "/task TITLE [--label L] [--risk R] [--priority P] [--dep N] [--scope GLOB] [--kind K] [--plan] [--body TEXT]",
        about: "add a task; the title runs up to the first option",
    },
    Spec {
        name: "status",
        id: None,
        usage: "/status",
        about: "the board at a glance",
    },
    Spec {
        name: "show",
        id: Some(IdFor::Any),
        usage: "/show N",
        about: "one task with its runs and history (Enter on the board does the same)",
    },
    Spec {
        name: "diff",
        id: Some(IdFor::Any),
        usage: "/diff N",
        about: "a task's change",
    },
    Spec {
        name: "log",
        id: Some(IdFor::Any),
        usage: "/log N",
        about: "what the agents of a task did, run by run",
    },
    Spec {
        name: "pending",
        id: None,
        usage: "/pending",
        about: "tasks waiting for a person",
    },
    Spec {
        name: "approve",
        id: Some(IdFor::Approval),
        usage: "/approve N",
        about: "approve a task at the approval gate",
    },
    Spec {
        name: "reject",
        id: Some(IdFor::Approval),
        usage: "/reject N [--cancel] REASON",
        about: "send it back to its coder with REASON (or cancel it)",
    },
    Spec {
        name: "answer",
        id: Some(IdFor::Question),
        usage: "/answer N TEXT",
        about: "answer a task's question; its agent resumes",
    },
    Spec {
        name: "say",
        id: Some(IdFor::Open),
        usage: "/say N TEXT",
        about: "tell a task's agent something: its run stops and goes on with it (else its next run)",
    },
    Spec {
        name: "attach",
        id: Some(IdFor::Open),
        usage: "/attach N",
        about: "take a task over by hand: its work stops; shows its worktree and how to resume its agent",
    },
    Spec {
        name: "release",
        id: Some(IdFor::Attached),
        usage: "/release N",
        about: "hand a task back: what you left is committed as yours, then verify, review, queue",
    },
    Spec {
        name: "cancel",
        id: Some(IdFor::Open),
        usage: "/cancel N [REASON]",
        about: "cancel a task; its running work stops",
    },
    Spec {
        name: "retry",
        id: Some(IdFor::Failed),
        usage: "/retry N [--fresh]",
        about: "retry a failed task (--fresh: from scratch on a new branch)",
    },
    Spec {
        name: "accept",
        id: Some(IdFor::Open),
        usage: "/accept N",
        about: "accept a proposal: it becomes a task",
    },
    Spec {
        name: "decline",
        id: Some(IdFor::Open),
        usage: "/decline N [REASON]",
        about: "decline a proposal: it is cancelled",
    },
    Spec {
        name: "budget",
        id: Some(IdFor::Open),
        usage: "/budget N USD|none",
        about: "set a task's own budget (`none`: the default); a held task starts again",
    },
    Spec {
        name: "edit",
        id: Some(IdFor::Waiting),
        usage: "/edit N [--dep M] [--no-dep M] [--scope GLOB] [--no-scope] [--read-scope GLOB] [--priority P] [--label L]",
        about: "change what a task waits for, its scopes, priority or labels before it starts",
    },
    Spec {
        name: "move",
        id: Some(IdFor::Queued),
        usage: "/move N --to PLACE | --before M | --after M",
        about: "reorder the tasks waiting to join the merge train",
    },
    Spec {
        name: "revert",
        id: Some(IdFor::Merged),
        usage: "/revert N",
        about: "undo a merged task: a new task lands its revert through verify and the queue",
    },
    Spec {
        name: "usage",
        id: None,
        usage: "/usage",
        about: "tokens and cost, in total and by task, role, model, agent and day",
    },
    Spec {
        name: "scale",
        id: None,
        usage: "/scale N",
        about: "run up to N agents at once (needs the daemon: `gaffer up`)",
    },
    Spec {
        name: "help",
        id: None,
        usage: "/help",
        about: "this help",
    },
    Spec {
        name: "quit",
        id: None,
        usage: "/quit",
        about: "leave the shell (Ctrl-C and Ctrl-D too); the daemon keeps running",
    },
];

/// The options `/task` takes, with whether each takes a value.
pub const TASK_OPTIONS: &[(&str, bool)] = &[
    ("--label", true),
    ("--risk", true),
    ("--priority", true),
    ("--dep", true),
    ("--scope", true),
    ("--kind", true),
    ("--plan", false),
    ("--body", true),
];

pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Parses one line. Errors are messages for the person, naming what to type instead.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('/') else {
        return Err(format!(
            "`{line}` is not a command: commands start with `/` (`/help` lists them)"
        ));
    };
    let (name, args) = match rest.split_once(char::is_whitespace) {
        Some((name, args)) => (name, args.trim()),
        None => (rest, ""),
    };
    let Some(spec) = spec(name) else {
        let first = name.chars().next();
        let near: Vec<&str> = COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|c| first.is_some_and(|f| c.starts_with(f)))
            .collect();
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(" (did you mean /{}?)", near.join(", /"))
        };
        return Err(format!(
            "unknown command `/{name}`{hint}; `/help` lists them"
        ));
    };
    let usage = || format!("usage: {}", spec.usage);
    match spec.name {
        "task" => parse_task(args).map(|t| Command::Task(Box::new(t))),
        "status" => no_args(args, Command::Status, spec),
        "pending" => no_args(args, Command::Pending, spec),
        "usage" => no_args(args, Command::Usage, spec),
        "help" => Ok(Command::Help),
        "quit" => Ok(Command::Quit),
        "scale" => {
            let n: usize = args.parse().map_err(|_| usage())?;
            if n == 0 {
                return Err("/scale needs at least 1; `gaffer down` stops all work".into());
            }
            Ok(Command::Scale(n))
        }
        _ => {
            let (id, rest) = split_id(args).ok_or_else(usage)?;
            match spec.name {
                "show" => only_id(rest, Command::Show(id), spec),
                "diff" => only_id(rest, Command::Diff(id), spec),
                "log" => only_id(rest, Command::Log(id), spec),
                "approve" => only_id(rest, Command::Approve(id), spec),
                "attach" => only_id(rest, Command::Attach(id), spec),
                "release" => only_id(rest, Command::Release(id), spec),
                "retry" => match rest {
                    "" => Ok(Command::Retry { id, fresh: false }),
                    "--fresh" => Ok(Command::Retry { id, fresh: true }),
                    _ => Err(usage()),
                },
                "accept" => only_id(rest, Command::Accept(id), spec),
                "revert" => only_id(rest, Command::Revert(id), spec),
                "edit" => {
                    super::redirect::parse_edit(rest).map(|changes| Command::Edit { id, changes })
                }
                "move" => super::redirect::parse_move(rest).map(|to| Command::Move { id, to }),
                "decline" => Ok(Command::Decline {
                    id,
                    reason: (!rest.is_empty()).then(|| rest.to_string()),
                }),
                "budget" if rest.is_empty() => Err(usage()),
                "budget" => Ok(Command::Budget {
                    id,
                    usd: gaffer_api::parse_budget(rest).map_err(|e| format!("{e}; {}", usage()))?,
                }),
                "say" if rest.is_empty() => Err(usage()),
                "say" => Ok(Command::Say {
                    id,
                    text: rest.to_string(),
                }),
                "answer" if rest.is_empty() => Err(usage()),
                "answer" => Ok(Command::Answer {
                    id,
                    text: rest.to_string(),
                }),
                "cancel" => Ok(Command::Cancel {
                    id,
                    reason: if rest.is_empty() {
                        gaffer_api::DEFAULT_CANCEL_REASON.into()
                    } else {
                        rest.to_string()
                    },
                }),
                _ => {
                    let (cancel, reason) = match rest.strip_prefix("--cancel") {
                        Some(r) if r.is_empty() || r.starts_with(char::is_whitespace) => {
                            (true, r.trim())
                        }
                        _ => (false, rest),
                    };
                    if reason.is_empty() {
                        return Err(format!(
                            "{}: say why, so that the coder knows what to change",
                            usage()
                        ));
                    }
                    Ok(Command::Reject {
                        id,
                        reason: reason.to_string(),
                        cancel,
                    })
                }
            }
        }
    }
}

fn no_args(args: &str, command: Command, spec: &Spec) -> Result<Command, String> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(format!("usage: {} (it takes no arguments)", spec.usage))
    }
}

fn only_id(rest: &str, command: Command, spec: &Spec) -> Result<Command, String> {
    no_args(rest, command, spec)
}

/// A task id (`12` or `#12`) at the start of `args`, and what follows it.
fn split_id(args: &str) -> Option<(i64, &str)> {
    let (first, rest) = match args.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (args, ""),
    };
    let id = parse_id(first)?;
    Some((id, rest))
}

/// `12` or `#12`.
pub fn parse_id(text: &str) -> Option<i64> {
    text.strip_prefix('#')
        .unwrap_or(text)
        .parse()
        .ok()
        .filter(|id| *id > 0)
}

/// `/task`'s arguments: the title is the text before the first option; options follow.
fn parse_task(args: &str) -> Result<NewTask, String> {
    let words = words(args);
    let first_option = words
        .iter()
        .position(|(_, w)| TASK_OPTIONS.iter().any(|(o, _)| o == w));
    let title_end = first_option.map_or(args.len(), |i| words[i].0);
    let title = args[..title_end].trim();
    if title.is_empty() {
        return Err("usage: /task TITLE [options]: the title comes first".into());
    }
    let mut task = NewTask {
        title: title.to_string(),
        ..NewTask::default()
    };
    let mut i = first_option.unwrap_or(words.len());
    while i < words.len() {
        let (at, option) = words[i];
        if option == "--plan" {
            task.plan = true;
            i += 1;
            continue;
        }
        if !TASK_OPTIONS.iter().any(|(o, _)| *o == option) {
            return Err(format!(
                "unknown option `{option}` for /task; options: {}",
                TASK_OPTIONS
                    .iter()
                    .map(|(o, _)| *o)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        if option == "--body" {
            let body = args[at + option.len()..].trim();
            if body.is_empty() {
                return Err("--body needs the description after it".into());
            }
            task.body = body.to_string();
            break;
        }
        let Some(&(_, value)) = words.get(i + 1) else {
            return Err(format!("{option} needs a value"));
        };
        match option {
            "--label" => task.labels.push(value.to_string()),
            "--risk" => task.risk = value.parse::<Risk>()?,
            "--kind" => task.kind = value.parse::<TaskKind>()?,
            "--priority" => {
                task.priority = value
                    .parse()
                    .map_err(|_| format!("--priority takes a number, not `{value}`"))?;
            }
            "--dep" => {
                task.blocked_by
                    .push(gaffer_core::TaskId(parse_id(value).ok_or_else(|| {
                        format!("--dep takes a task id, not `{value}`")
                    })?))
            }
            _ => task.write_scope.push(value.to_string()),
        }
        i += 2;
    }
    Ok(task)
}

/// The whitespace-separated words of `text` with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// `/help`: every command, the keys, and how `/task` takes its options.
pub fn help() -> Vec<String> {
    let mut lines = vec!["Slash commands".to_string(), String::new()];
    let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
    for c in COMMANDS {
        if c.usage.len() > 40 {
            lines.push(format!("  {}", c.usage));
            lines.push(format!("  {:width$}  {}", "", c.about, width = 40));
        } else {
            lines.push(format!("  {:<w$}  {}", c.usage, c.about, w = width.min(40)));
        }
    }
    lines.extend(
        [
            "",
            "/task takes the rest of the line as the title, up to the first option:",
            "  /task Write the release notes --label docs --label risky --priority 2",
            "  /task Fix the login race --dep 3 --scope src/auth/** --body Users see …",
            "  --label is repeatable; labels can raise the risk ([[risk.labels]] in gaffer.toml).",
            "  --body takes everything after it as the description.",
            "",
            "Keys",
            "  ↑ ↓ or j k       select a task (with an empty command line)",
            "  Enter            open the selected task (with an empty command line)",
            "  ↑ ↓ while typing, Ctrl-P Ctrl-N   command history",
            "  Tab              complete a command name, a /task option, or a task id",
            "  PgUp PgDn Home End, ↑ ↓ ← →   scroll an open pane (diff, log, help…)",
            "  Esc              close the pane, or clear the command line",
            "  Ctrl-U Ctrl-K Ctrl-W   clear the line, to its end, the word before",
            "  Ctrl-L           redraw",
            "  Ctrl-C Ctrl-D    quit",
            "",
            "Actions go through the daemon when it runs (it acts at once); otherwise they are",
            "written to the board and happen when `gaffer up` starts it. The feed follows the",
            "daemon's event stream, or the store when no daemon runs.",
        ]
        .map(String::from),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::TaskId;

    #[test]
    fn task_title_is_the_rest_of_the_line() {
        let Command::Task(t) = parse("/task  Write the   notes ").unwrap() else {
            panic!()
        };
        assert_eq!(t.title, "Write the   notes");
        assert!(t.labels.is_empty());
        assert_eq!(t.risk, Risk::Low);
    }

    #[test]
    fn task_options_follow_the_title() {
        let Command::Task(t) = parse(
            "/task Write the notes --label risky --label docs --risk medium --priority -2 \
             --dep #3 --scope src/** --kind task --plan --body Say what --label means",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(t.title, "Write the notes");
        assert_eq!(t.labels, vec!["risky", "docs"]);
        assert_eq!(t.risk, Risk::Medium);
        assert_eq!(t.priority, -2);
        assert_eq!(t.blocked_by, vec![TaskId(3)]);
        assert_eq!(t.write_scope, vec!["src/**"]);
        assert!(t.plan);
        assert_eq!(t.body, "Say what --label means");
    }

    #[test]
    fn task_errors_say_what_to_type() {
        assert!(parse("/task").unwrap_err().contains("title"));
        assert!(parse("/task --label x").unwrap_err().contains("title"));
        assert!(
            parse("/task T --label")
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(parse("/task T --risk huge").is_err());
        assert!(
            parse("/task T --plan --nope")
                .unwrap_err()
                .contains("--nope")
        );
        assert!(parse("/task T --dep x").unwrap_err().contains("task id"));
        // An unknown `--word` inside the title is part of the title.
        let Command::Task(t) = parse("/task Use --force-with-lease").unwrap() else {
            panic!()
        };
        assert_eq!(t.title, "Use --force-with-lease");
    }

    #[test]
    fn ids_and_texts() {
        assert_eq!(parse("/approve 3").unwrap(), Command::Approve(3));
        assert_eq!(parse("/approve #3").unwrap(), Command::Approve(3));
        assert_eq!(parse("/diff 12").unwrap(), Command::Diff(12));
        assert_eq!(parse("/log 1").unwrap(), Command::Log(1));
        assert_eq!(parse("/show 1").unwrap(), Command::Show(1));
        assert_eq!(
            parse("/retry 1").unwrap(),
            Command::Retry {
                id: 1,
                fresh: false
            }
        );
        assert_eq!(
            parse("/retry #2 --fresh").unwrap(),
            Command::Retry { id: 2, fresh: true }
        );
        assert!(parse("/retry 2 --fast").is_err());
        assert_eq!(parse("/accept #4").unwrap(), Command::Accept(4));
        assert_eq!(
            parse("/decline 4 not now").unwrap(),
            Command::Decline {
                id: 4,
                reason: Some("not now".into())
            }
        );
        assert_eq!(
            parse("/decline 4").unwrap(),
            Command::Decline {
                id: 4,
                reason: None
            }
        );
        assert_eq!(
            parse("/budget 2 $1.50").unwrap(),
            Command::Budget {
                id: 2,
                usd: Some(1.5)
            }
        );
        assert_eq!(
            parse("/budget 2 none").unwrap(),
            Command::Budget { id: 2, usd: None }
        );
        assert!(parse("/budget 2 lots").unwrap_err().contains("US dollars"));
        assert!(parse("/budget 2").is_err());
        assert_eq!(
            parse("/answer 4 Use the  blue one").unwrap(),
            Command::Answer {
                id: 4,
                text: "Use the  blue one".into()
            }
        );
        assert_eq!(
            parse("/reject 2 too broad").unwrap(),
            Command::Reject {
                id: 2,
                reason: "too broad".into(),
                cancel: false
            }
        );
        assert_eq!(
            parse("/reject 2 --cancel not now").unwrap(),
            Command::Reject {
                id: 2,
                reason: "not now".into(),
                cancel: true
            }
        );
        assert_eq!(
            parse("/cancel 2").unwrap(),
            Command::Cancel {
                id: 2,
                reason: "cancelled by a person".into()
            }
        );
        assert!(parse("/reject 2").unwrap_err().contains("say why"));
        assert!(parse("/reject 2 --cancel").unwrap_err().contains("say why"));
        assert!(parse("/answer 2").unwrap_err().contains("usage"));
        assert!(parse("/say 2").unwrap_err().contains("usage"));
        assert_eq!(parse("/attach 4").unwrap(), Command::Attach(4));
        assert_eq!(parse("/release #4").unwrap(), Command::Release(4));
        assert!(
            parse("/release 4 now")
                .unwrap_err()
                .contains("no arguments")
        );
        assert_eq!(
            parse("/say #2 use the v2 API").unwrap(),
            Command::Say {
                id: 2,
                text: "use the v2 API".into()
            }
        );
        assert!(parse("/approve").unwrap_err().contains("usage: /approve N"));
        assert!(parse("/approve x").is_err());
        assert!(parse("/approve 0").is_err());
        assert!(parse("/approve 1 2").unwrap_err().contains("no arguments"));
    }

    #[test]
    fn plain_commands() {
        assert_eq!(parse("/status").unwrap(), Command::Status);
        assert_eq!(parse(" /pending ").unwrap(), Command::Pending);
        assert_eq!(parse("/usage").unwrap(), Command::Usage);
        assert_eq!(parse("/help").unwrap(), Command::Help);
        assert_eq!(parse("/quit").unwrap(), Command::Quit);
        assert_eq!(parse("/scale 4").unwrap(), Command::Scale(4));
        assert!(parse("/scale 0").unwrap_err().contains("at least 1"));
        assert!(parse("/scale many").unwrap_err().contains("usage"));
        assert!(parse("/status now").is_err());
    }

    #[test]
    fn unknown_lines_point_at_help() {
        let e = parse("hello").unwrap_err();
        assert!(e.contains("start with `/`"), "{e}");
        let e = parse("/aprove 1").unwrap_err();
        assert!(e.contains("/approve") && e.contains("/answer"), "{e}");
        assert!(parse("/").unwrap_err().contains("/help"));
        assert!(
            parse("/été")
                .unwrap_err()
                .contains("unknown command `/été`")
        );
    }

    #[test]
    fn help_lists_every_command_and_the_task_options() {
        let help = help().join("\n");
        for c in COMMANDS {
            assert!(help.contains(&format!("/{}", c.name)), "{}", c.name);
        }
        for (o, _) in TASK_OPTIONS {
            assert!(help.contains(o), "{o}");
        }
    }
}
