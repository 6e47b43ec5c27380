//! The interactive shell: `gaffer` with no arguments in a terminal.
//!
//! A full-screen view of the board (tasks by state), the live feed and the selected task, with a
//! command line taking slash commands (`/help` lists them). The parts:
//!
//! - [`command`]: what can be typed, parsed into a [`command::Command`] (pure);
//! - [`redirect`]: parsing `/edit` and `/move` (pure);
//! - [`complete`]: Tab completion of command names, `/task` options and task ids (pure);
//! - [`input`]: the line editor and its history (pure);
//! - [`app`]: the state on screen and what keys do to it (pure);
//! - [`view`]: drawing it with ratatui;
//! - [`exec`]: running commands, through the daemon's API when it runs, else on the board;
//! - [`report`]: the text of the panes (status, pending, usage, a task, its log, its diff);
//! - [`live`]: following the event log (the daemon's SSE stream, else polling the store);
//! - [`terminal`]: taking over the terminal and giving it back.

mod app;
mod command;
mod complete;
mod exec;
mod input;
mod live;
mod redirect;
mod report;
mod terminal;
mod view;

use crate::context::Context;
use crate::error::CliResult;
use app::{App, Request};
use crossterm::event::{self, Event};
use exec::{Session, describe};
use live::Live;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use terminal::Screen;

/// Whether a person is at a terminal: the shell needs both its keys and its screen.
pub fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Runs the shell until `/quit`, Ctrl-C or Ctrl-D.
pub fn run(ctx: &Context) -> CliResult<()> {
    let board = ctx.board()?;
    let rt = crate::commands::runtime()?;
    let session = Session { ctx, board, rt };
    let history_file = session.board.paths().root().join("shell_history");
    let mut app = App::new(
        session.board.project().name.clone(),
        load_history(&history_file),
    );
    let mut live = Live::new();
    live.start(&session, &mut app)?;
    let mut screen = Screen::open(&session.board.paths().root().join("shell.log"))?;
    let result = event_loop(&mut screen, &session, &mut app, &mut live, &history_file);
    drop(screen);
    live.stop();
    result
}

fn event_loop(
    screen: &mut Screen,
    session: &Session<'_>,
    app: &mut App,
    live: &mut Live,
    history_file: &Path,
) -> CliResult<()> {
    let mut dirty = true;
    loop {
        if dirty {
            screen.draw(app)?;
            dirty = false;
        }
        if event::poll(Duration::from_millis(50))? {
            loop {
                match event::read()? {
                    Event::Key(key) => {
                        if let Some(request) = app.on_key(key) {
                            handle(request, screen, session, app, history_file)?;
                        }
                    }
                    Event::Paste(text) => app.on_paste(&text),
                    _ => {}
                }
                dirty = true;
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        if app.quit {
            return Ok(());
        }
        let detail_of = app.detail.as_ref().map(|d| d.task.id);
        if detail_of != app.selected {
            if let Err(e) = live::refresh_detail(session, app) {
                app.error(describe(&e));
            }
            dirty = true;
        }
        dirty |= live.tick(session, app);
    }
}

fn handle(
    request: Request,
    screen: &mut Screen,
    session: &Session<'_>,
    app: &mut App,
    history_file: &Path,
) -> CliResult<()> {
    match request {
        Request::Run(line) => {
            append_history(history_file, &line);
            session.run_line(app, &line);
            // Show what the command changed at once.
            if let Err(e) = live::refresh(session, app) {
                app.error(describe(&e));
            }
        }
        Request::Open(id) => {
            if let Err(e) = session.open(app, id) {
                app.error(describe(&e));
            }
        }
        Request::Redraw => screen.clear()?,
    }
    Ok(())
}

/// The last lines of the history file (one command per line).
fn load_history(path: &PathBuf) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    let keep = lines.len().saturating_sub(input::HISTORY_LIMIT);
    let lines = lines[keep..].to_vec();
    if keep > input::HISTORY_LIMIT {
        // Keep the file from growing without bound.
        let _ = std::fs::write(path, lines.join("\n") + "\n");
    }
    lines
}

fn append_history(path: &Path, line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
