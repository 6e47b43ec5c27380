//! `gaffer task import FILE.md` and `gaffer task import --github`: many tasks at once, from a
//! markdown file or from the repository's GitHub issues through the `gh` CLI.

use super::runtime;
use crate::cli::TaskImportArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_core::{Task, TaskId};
use gaffer_engine::Board;
use gaffer_engine::intake::{Draft, issue_marker, parse_github, parse_markdown};
use std::path::Path;
use std::process::Command;

pub fn run(ctx: &Context, args: &TaskImportArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let (drafts, skipped) = match &args.file {
        Some(file) => (from_file(ctx, file)?, Vec::new()),
        None => from_github(ctx, &board, args)?,
    };
    let created = create(ctx, &board, &drafts)?;
    if args.json {
        return output::json(&serde_json::json!({ "created": created, "skipped": skipped }));
    }
    for task in &created {
        output::line(&format!("added task {}: {}", task.id, task.title))?;
    }
    for (issue, id) in &skipped {
        output::line(&format!("skipped GitHub issue #{issue}: already task {id}"))?;
    }
    if created.is_empty() && skipped.is_empty() {
        output::line("nothing to import")?;
    }
    Ok(())
}

fn from_file(ctx: &Context, file: &Path) -> CliResult<Vec<Draft>> {
    // Relative to `-C`, like every path on the command line.
    let path = ctx.dir().join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::new(
            Kind::NotFound,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    parse_markdown(&file.display().to_string(), &text).map_err(|e| {
        CliError::new(Kind::Usage, e.to_string()).hint(
            "each task starts with `## Title`; lines right under it may set labels:, depends:, \
             scope:, priority: and risk:",
        )
    })
}

/// Creates the drafts in order (through the daemon when it runs), each dependency on an earlier
/// draft turned into the id it got.
fn create(ctx: &Context, board: &Board, drafts: &[Draft]) -> CliResult<Vec<Task>> {
    let client = ctx.daemon(board);
    let rt = match client {
        Some(_) => Some(runtime()?),
        None => None,
    };
    let mut ids: Vec<TaskId> = Vec::new();
    let mut created = Vec::new();
    for draft in drafts {
        let new = draft
            .to_new_task(&ids)
            .map_err(|e| CliError::new(Kind::Usage, e))?;
        let task: Task = match (&client, &rt) {
            (Some(client), Some(rt)) => rt.block_on(client.post(gaffer_api::paths::TASKS, &new))?,
            _ => board.add_task(new)?,
        };
        ids.push(task.id);
        created.push(task);
    }
    Ok(created)
}

/// GitHub issues imported before: `(issue number, its task)`.
type Skipped = Vec<(u64, TaskId)>;

/// The repository's open issues, as drafts, and those imported before (skipped).
fn from_github(
    ctx: &Context,
    board: &Board,
    args: &TaskImportArgs,
) -> CliResult<(Vec<Draft>, Skipped)> {
    let dir = ctx.repo_root()?;
    let gh = |gh_args: &[&str]| {
        Command::new("gh")
            .args(gh_args)
            .current_dir(&dir)
            .env("GH_PROMPT_DISABLED", "1")
            .env("NO_COLOR", "1")
            .output()
    };
    let status = match gh(&["auth", "status"]) {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::new(
                Kind::NotFound,
                "the GitHub CLI `gh` is not installed (it is not on PATH)",
            )
            .hint(
                "install it from https://cli.github.com and run `gh auth login`; or import a \
                 markdown file of tasks: gaffer task import FILE.md",
            ));
        }
        Err(e) => {
            return Err(CliError::new(
                Kind::Internal,
                format!("cannot run `gh`: {e}"),
            ));
        }
    };
    if !status.status.success() {
        return Err(CliError::new(
            Kind::Config,
            format!(
                "the GitHub CLI is not logged in: `gh auth status` says: {}",
                first_line(&status)
            ),
        )
        .hint("run `gh auth login`, then try again"));
    }
    let limit = args.limit.to_string();
    let mut list = vec![
        "issue",
        "list",
        "--state",
        "open",
        "--json",
        "number,title,body,labels",
        "--limit",
        &limit,
    ];
    if let Some(label) = &args.label {
        list.extend(["--label", label]);
    }
    let out = gh(&list)
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot run `gh issue list`: {e}")))?;
    if !out.status.success() {
        return Err(CliError::new(
            Kind::Config,
            format!("`gh issue list` failed: {}", first_line(&out)),
        )
        .hint("run gaffer in a clone of a GitHub repository (`gh repo view` should name it)"));
    }
    let drafts = parse_github(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| CliError::new(Kind::Internal, e))?;
    // An issue imported before is not imported again.
    let existing = board.tasks(&[])?;
    let mut fresh = Vec::new();
    let mut skipped = Vec::new();
    for draft in drafts {
        let done = draft.issue.and_then(|n| {
            let marker = issue_marker(n);
            existing
                .iter()
                .find(|t| t.body.contains(&marker))
                .map(|t| (n, t.id))
        });
        match done {
            Some(pair) => skipped.push(pair),
            None => fresh.push(draft),
        }
    }
    // Oldest issue first, as GitHub numbers them.
    fresh.sort_by_key(|d| d.issue);
    Ok((fresh, skipped))
}

/// What a failed `gh` said, in one line.
fn first_line(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let text = if text.trim().is_empty() {
        String::from_utf8_lossy(&out.stdout)
    } else {
        text
    };
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(nothing)")
        .to_string()
}
