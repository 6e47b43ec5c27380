//! Output to a reader that has gone away (`gaffer … | head`) ends quietly, without a panic:
//! every command that prints, run with its standard output a pipe nobody reads.

use crate::common::{COMMAND_TIMEOUT, Project, Sandbox, pid_alive, stderr_of};
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Runs `cmd` with its standard output a pipe whose reading end is already closed; kills it
/// and fails after [`COMMAND_TIMEOUT`].
fn closed_stdout(mut cmd: Command, what: &str) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The command still holds its copy of the writing end; only the child may keep it open.
    drop(cmd);
    let mut stderr = child.stderr.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gaffer {what} did not end with its reader gone");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: Vec::new(),
        stderr: reading.join().unwrap(),
    }
}

/// Whether a command is expected to succeed, or may refuse (with its own exit code).
#[derive(Clone, Copy, PartialEq)]
enum Ends {
    Ok,
    Refused,
}

/// No panic, not Rust's panic code, and success where the command succeeds.
fn check(out: &Output, what: &str, ends: Ends) {
    let stderr = stderr_of(out);
    assert!(
        !stderr.contains("panicked"),
        "gaffer {what} panicked:\n{stderr}"
    );
    assert_ne!(out.status.code(), Some(101), "gaffer {what}: {stderr}");
    assert!(
        out.status.code().is_some(),
        "gaffer {what} was killed: {stderr}"
    );
    if ends == Ends::Ok {
        assert_eq!(out.status.code(), Some(0), "gaffer {what}: {stderr}");
    }
}

fn run(project: &Project, args: &[&str], ends: Ends) -> Output {
    let mut cmd = project.std_gaffer();
    cmd.args(args);
    let out = closed_stdout(cmd, &format!("{args:?}"));
    check(&out, &format!("{args:?}"), ends);
    out
}

fn task_count(project: &Project) -> usize {
    project
        .json(&["task", "list", "--json"])
        .as_array()
        .unwrap()
        .len()
}

/// Every command of `cli.rs` that prints, with a daemon running where one is needed.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let project = Project::new();
    project
        .repo
        .write("tasks.md", "## Write more notes\n\nMore.\n\n## Another\n");
    project.repo.write("mock.toml", "done_text = \"done\"\n");
    let agent_dir = project.repo.scratch("agent-dir");
    std::fs::create_dir_all(&agent_dir).unwrap();
    let agent_dir = agent_dir.display().to_string();

    // Without a daemon first: the commands that act on the board directly.
    run(
        &project,
        &["task", "add", "Write the notes", "--json"],
        Ends::Ok,
    );
    assert_eq!(task_count(&project), 1, "the task was added once");
    run(&project, &["clean"], Ends::Ok);
    run(&project, &["clean", "--json"], Ends::Ok);
    run(&project, &["down"], Ends::Ok);
    run(&project, &["store", "migrate"], Ends::Ok);
    run(&project, &["worker", "token", "list"], Ends::Ok);

    let daemon = project.start_daemon();
    project.wait_for_status(1, "merged");
    let question = project.add_task("A question", &[]);
    project.wait_for_status(question, "needs_input");
    let q = question.to_string();
    let before = task_count(&project);
    let commands: Vec<(Vec<&str>, Ends)> = vec![
        (vec![], Ends::Ok),
        (vec!["--help"], Ends::Ok),
        (vec!["--version"], Ends::Ok),
        (vec!["help"], Ends::Ok),
        (vec!["task", "--help"], Ends::Ok),
        (vec!["doctor"], Ends::Refused),
        (vec!["doctor", "--json"], Ends::Refused),
        (vec!["dashboard"], Ends::Ok),
        (vec!["status"], Ends::Ok),
        (vec!["status", "--json"], Ends::Ok),
        (vec!["workers"], Ends::Ok),
        (vec!["workers", "--json"], Ends::Ok),
        (vec!["worker"], Ends::Refused),
        (vec!["worker", "--help"], Ends::Ok),
        (vec!["worker", "token", "list"], Ends::Ok),
        (vec!["worker", "token", "list", "--json"], Ends::Ok),
        (vec!["worker", "token", "revoke", "999"], Ends::Refused),
        (vec!["queue"], Ends::Ok),
        (vec!["queue", "--json"], Ends::Ok),
        (vec!["feed"], Ends::Ok),
        (vec!["feed", "--json"], Ends::Ok),
        (vec!["feed", "--task", "1"], Ends::Ok),
        (vec!["feed", "--follow"], Ends::Ok),
        (vec!["feed", "--follow", "--json"], Ends::Ok),
        (vec!["task", "list"], Ends::Ok),
        (vec!["task", "list", "--json"], Ends::Ok),
        (vec!["task", "show", "1"], Ends::Ok),
        (vec!["task", "show", "1", "--json"], Ends::Ok),
        (vec!["log", "1"], Ends::Ok),
        (vec!["log", "1", "--json"], Ends::Ok),
        (vec!["log", "1", "--raw"], Ends::Ok),
        (vec!["diff", "1"], Ends::Ok),
        (vec!["pending"], Ends::Ok),
        (vec!["pending", "--json"], Ends::Ok),
        (vec!["usage"], Ends::Ok),
        (vec!["usage", "--json"], Ends::Ok),
        (vec!["usage", "--by", "role"], Ends::Ok),
        (vec!["budget"], Ends::Ok),
        (vec!["budget", "--json"], Ends::Ok),
        (vec!["task", "budget", &q, "2.5"], Ends::Ok),
        (vec!["budget", "set", &q, "none"], Ends::Ok),
        (vec!["approve", "1"], Ends::Refused),
        (vec!["reject", "1", "--reason", "no"], Ends::Refused),
        (vec!["accept", "1"], Ends::Refused),
        (vec!["decline", "1"], Ends::Refused),
        (vec!["task", "retry", "1"], Ends::Refused),
        (vec!["task", "edit", &q, "--priority", "2"], Ends::Refused),
        (vec!["queue", "move", "1", "--to", "1"], Ends::Refused),
        (vec!["revert", "999"], Ends::Refused),
        (vec!["plan", "A goal"], Ends::Refused),
        (vec!["store", "migrate"], Ends::Refused),
        (vec!["clean"], Ends::Ok),
        (vec!["clean", "--json"], Ends::Ok),
        (vec!["pull"], Ends::Refused),
        (vec!["mcp"], Ends::Refused),
        (vec!["mock-llm", "--script", "mock.toml"], Ends::Ok),
        (
            vec![
                "agent",
                "run",
                "--agent",
                "scripted-agent",
                "--dir",
                &agent_dir,
                "notes",
            ],
            Ends::Refused,
        ),
    ];
    for (args, ends) in &commands {
        run(&project, args, *ends);
    }
    // What acts, acts once: a task added, tasks imported, a question answered.
    run(
        &project,
        &["task", "add", "Write the notes again", "--json"],
        Ends::Ok,
    );
    run(
        &project,
        &["task", "import", "tasks.md", "--json"],
        Ends::Ok,
    );
    assert_eq!(task_count(&project), before + 3);
    run(
        &project,
        &["worker", "token", "create", "--label", "gpu"],
        Ends::Ok,
    );
    run(&project, &["worker", "token", "create", "--json"], Ends::Ok);
    let tokens = project.json(&["worker", "token", "list", "--json"]);
    assert_eq!(tokens.as_array().unwrap().len(), 2, "each token made once");
    run(&project, &["worker", "token", "revoke", "1"], Ends::Ok);
    assert!(project.json(&["worker", "token", "list", "--json"])[0]["revoked_ms"].is_i64());
    run(&project, &["answer", &q, "Hello"], Ends::Ok);
    assert_ne!(project.status_of(question), "needs_input");
    let last = project.add_task("Cancel me", &[]);
    run(&project, &["task", "cancel", &last.to_string()], Ends::Ok);
    assert_eq!(project.status_of(last), "cancelled");
    assert!(pid_alive(daemon.pid), "the daemon lives on");

    // `down` stops the daemon all the way, whoever reads what it says.
    run(&project, &["down"], Ends::Ok);
    assert!(!pid_alive(daemon.pid));
    assert!(!project.daemon_file().exists());
    // `up --detach` starts one, said or not; `down --clean` stops it and cleans.
    run(&project, &["up", "--detach", "--port", "0"], Ends::Ok);
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(project.daemon_file()).unwrap()).unwrap();
    let pid = u32::try_from(info["pid"].as_u64().unwrap()).unwrap();
    assert!(pid_alive(pid));
    run(&project, &["down", "--clean"], Ends::Ok);
    assert!(!pid_alive(pid));
}

/// `gaffer init` writes its whole file before it says so; `gaffer demo` ends at once.
#[test]
fn a_closed_pipe_ends_init_and_demo_quietly() {
    let bare = Project::bare();
    run(&bare, &["init"], Ends::Ok);
    let written = std::fs::read_to_string(bare.path().join("gaffer.toml")).unwrap();
    assert!(written.contains("[verify]"), "{written}");

    let sandbox = Sandbox::new();
    for args in [&["demo"][..], &["demo", "--json"]] {
        let mut cmd = sandbox.std_gaffer();
        cmd.args(args);
        let out = closed_stdout(cmd, &format!("{args:?}"));
        check(&out, &format!("{args:?}"), Ends::Ok);
    }
}

/// A closed pipe fails the first write, so the test above reaches only the first line each
/// command prints: the rest is kept honest here. `println!` and its kin panic when the reader
/// has gone (`eprintln!` when standard error has); the CLI prints with `outln!` and `errln!`.
#[test]
fn no_command_prints_with_a_macro_that_panics() {
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut offenders = Vec::new();
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if code.contains("print!(") || code.contains("println!(") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, code));
                }
            }
        }
    }
    assert!(files > 30, "only {files} source files found");
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// gaffer's own log (GAFFER_LOG) has no terminal colour codes when standard error is not a
/// terminal: it ends up in daemon.log, in CI logs and in captured output.
#[test]
fn the_log_has_no_colour_codes_off_a_terminal() {
    let project = Project::new();
    let out = project
        .gaffer()
        .env("GAFFER_LOG", "debug")
        .args(["task", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DEBUG"),
        "GAFFER_LOG=debug logged nothing: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in the log: {stderr:?}"
    );
}
