//! From what was typed to an opened project: the repository, its settings (file, then
//! `GAFFER_*` environment, then `--set` flags), the board, and the daemon if one runs.

use crate::cli::Cli;
use crate::client::Client;
use crate::daemon::{self, Running};
use crate::error::{CliError, CliResult, Kind};
use gaffer_config::{Overrides, Settings};
use gaffer_engine::{Board, BoardOptions};
use std::path::{Path, PathBuf};

pub struct Context {
    dir: PathBuf,
    config: Option<PathBuf>,
    set: Vec<String>,
}

impl Context {
    pub fn from_cli(cli: &Cli) -> CliResult<Context> {
        let dir = match &cli.dir {
            Some(d) => d.clone(),
            None => std::env::current_dir()?,
        };
        // `-C` means "as if started there": a relative `--config` is relative to that directory.
        let config = cli.config.as_ref().map(|c| dir.join(c));
        Ok(Context {
            dir,
            config,
            set: cli.set.clone(),
        })
    }

    /// This context in another directory (its `--config` and `--set` as typed): a worker's
    /// clone.
    pub fn at(&self, dir: PathBuf) -> Context {
        Context {
            dir,
            config: self.config.clone(),
            set: self.set.clone(),
        }
    }

    /// This context with one more `--set key=value` (after those typed, so it wins).
    pub fn with_set(&self, set: String) -> Context {
        let mut more = self.set.clone();
        more.push(set);
        Context {
            dir: self.dir.clone(),
            config: self.config.clone(),
            set: more,
        }
    }

    /// `--config` and `--set` as typed, for a gaffer started on this one's behalf (the detached
    /// daemon), so that it runs with the same settings.
    pub fn settings_args(&self) -> Vec<std::ffi::OsString> {
        let mut args = Vec::new();
        if let Some(config) = &self.config {
            // Absolute: the other gaffer gets `-C` too and would apply it a second time.
            let config = std::path::absolute(config).unwrap_or_else(|_| config.clone());
            args.push("--config".into());
            args.push(config.into_os_string());
        }
        for set in &self.set {
            args.push("--set".into());
            args.push(set.into());
        }
        args
    }

    /// The directory gaffer was started in (or `-C`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The top level of the repository containing the directory.
    pub fn repo_root(&self) -> CliResult<PathBuf> {
        Ok(gaffer_git::Git::open(&self.dir)?.top_level().to_path_buf())
    }

    /// The configuration file in use: `--config`, else `gaffer.toml` at the repository root.
    pub fn config_path(&self) -> CliResult<PathBuf> {
        match &self.config {
            Some(p) => Ok(p.clone()),
            None => Ok(self.repo_root()?.join("gaffer.toml")),
        }
    }

    pub fn settings(&self) -> CliResult<Settings> {
        let path = self.config_path()?;
        if self.config.is_some() && !path.exists() {
            return Err(CliError::new(
                Kind::Config,
                format!("the configuration file {} does not exist", path.display()),
            ));
        }
        let env = Overrides::from_env(std::env::vars());
        let flags = Overrides::from_flags(&self.set)?;
        Ok(gaffer_config::load(Some(&path), &env, &flags)?)
    }

    pub fn board(&self) -> CliResult<Board> {
        let settings = self.settings()?;
        Ok(Board::open(&self.dir, settings, BoardOptions::default())?)
    }

    /// A client for the running daemon of this board, if one answers.
    pub fn daemon(&self, board: &Board) -> Option<Client> {
        let info = daemon::read(board.paths())?;
        if !info.is_alive() {
            return None;
        }
        Some(info.client(&board.settings().server))
    }
}
