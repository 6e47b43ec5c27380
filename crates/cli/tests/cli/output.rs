//! Output to a reader that has gone away (`gaffer … | head`) ends quietly, without a panic.

use crate::common::Project;
use std::process::Stdio;

/// Runs gaffer with its standard output a pipe whose reading end is already closed.
fn run_with_closed_stdout(project: &Project, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = project.std_gaffer();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // The command still holds its copy of the writing end; only the child may keep it open.
    drop(cmd);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_listings_quietly() {
    let project = Project::new();
    project.add_task("Write the notes", &[]);
    for args in [
        &["task", "list", "--json"][..],
        &["task", "list"],
        &["status"],
        &["status", "--json"],
        &["feed", "--json"],
        &["feed"],
        &["task", "show", "1"],
        &["log", "1"],
        &["pending"],
        &["usage"],
        &["budget"],
        &["diff", "1"],
    ] {
        let out = run_with_closed_stdout(&project, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "gaffer {args:?} panicked:\n{stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "gaffer {args:?}: {stderr}");
    }
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
