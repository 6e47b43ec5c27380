//! `gaffer`: a foreman for AI coding agents.

// First: its `outln!` is used everywhere below.
#[macro_use]
mod output;
mod cli;
mod client;
mod commands;
mod context;
mod daemon;
mod demo;
mod error;
mod render;
mod shell;
mod verify_text;
mod worker;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Crash tests stop the daemon at chosen points (`FAILPOINTS=name=action;…`); a no-op unless
    // the engine's `failpoints` feature is on, which only test builds turn on.
    let _failpoints = fail::FailScenario::setup();
    match commands::run() {
        Ok(code) => code,
        Err(err) => {
            if err.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            err.print();
            err.exit_code()
        }
    }
}
