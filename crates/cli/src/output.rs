//! Printing for people and for programs.

use crate::error::{CliError, CliResult, Kind};
use gaffer_core::{Event, Task};
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
    line(&text)
}

/// `println!` that a closed pipe cannot crash: [`line`] with `format!`'s arguments.
macro_rules! outln {
    () => {
        $crate::output::line("")
    };
    ($($arg:tt)*) => {
        $crate::output::line(&format!($($arg)*))
    };
}

/// `eprintln!` that a closed standard error cannot crash: the line is lost, nothing else.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::error_line(&format!($($arg)*))
    };
}

/// Prints one line on standard error, best effort: when it is closed there is no one left to
/// tell, and `eprintln!` would panic.
pub fn error_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints `text` as it is (no newline added) on standard output; a broken pipe is an error,
/// as in [`line`].
pub fn raw(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints one line on standard output. Unlike `println!`, which panics when the reader has gone
/// (`gaffer feed --json | head`), a broken pipe comes back as an error that `main` turns into a
/// quiet exit.
pub fn line(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// The task table ([`crate::render::task_table`]), printed.
pub fn task_table(tasks: &[Task]) -> CliResult<()> {
    lines(&crate::render::task_table(tasks))
}

/// Prints each of `texts` on its own line.
pub fn lines(texts: &[String]) -> CliResult<()> {
    texts.iter().try_for_each(|t| line(t))
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// One event for the feed, where tasks mix: its place in the log and the whole sentence
/// (`  412  task 3: verify passed on 1a2b3c4 (branch) in 2.1 s`).
pub fn event_line(e: &Event) -> String {
    format!("{:>6}  {}", e.seq, gaffer_core::event::sentence(e))
}

/// One event of a task whose history is shown: its place and what happened (the task is known).
pub fn task_event_line(e: &Event) -> String {
    format!("{:>6}  {}", e.seq, gaffer_core::event::describe(e))
}

pub fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}
