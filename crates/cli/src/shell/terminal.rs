//! The terminal while the shell runs: raw mode, the alternate screen, bracketed paste, and
//! standard error sent to a log file (a warning or a child's message written to the terminal
//! would break the picture). Everything is put back when [`Screen`] is dropped, and by a panic
//! hook if gaffer panics.

use super::app::App;
use super::view;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::DefaultTerminal;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Mutex;

/// The terminal's standard error while it points at the log file.
static SAVED_STDERR: Mutex<Option<OwnedFd>> = Mutex::new(None);

pub struct Screen {
    terminal: DefaultTerminal,
}

impl Screen {
    /// Takes over the terminal; standard error goes to `log` until the screen is dropped.
    pub fn open(log: &Path) -> std::io::Result<Screen> {
        redirect_stderr(log)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_stderr();
            previous(info);
        }));
        // ratatui's own hook (installed by `try_init`) leaves raw mode and the alternate screen
        // first, then calls the one above.
        let terminal = match ratatui::try_init() {
            Ok(t) => t,
            Err(e) => {
                ratatui::restore();
                restore_stderr();
                return Err(e);
            }
        };
        let _ = crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
        Ok(Screen { terminal })
    }

    pub fn draw(&mut self, app: &mut App) -> std::io::Result<()> {
        self.terminal.draw(|frame| view::draw(frame, app))?;
        Ok(())
    }

    /// Ctrl-L: forget what is on screen and draw everything again.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.terminal.clear()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
        ratatui::restore();
        restore_stderr();
    }
}

fn redirect_stderr(log: &Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let saved = nix::unistd::dup(std::io::stderr())?;
    nix::unistd::dup2_stderr(&file)?;
    *SAVED_STDERR.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
    Ok(())
}

fn restore_stderr() {
    let saved = SAVED_STDERR
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(fd) = saved {
        let _ = nix::unistd::dup2_stderr(&fd);
    }
}
