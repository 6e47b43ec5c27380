//! [`Daemons`]: several daemons sharing one board, as on several machines: one bare remote,
//! a clone, a state directory and a store handle per daemon, one SQLite file for the board,
//! and nothing else in common. Each daemon is an [`EngineHarness`] (start, crash, stop,
//! restart and every look at the board work on each), its board opened as shared with
//! `project.remote = "origin"`.
//!
//! ```text
//! let mut d = EngineHarness::builder()
//!     .agent("writer", Agent::scripted(SCRIPT))
//!     .set("roles.coder", "writer")
//!     .daemons(2);
//! let id = d.daemon(0).add("Write the notes");
//! d.start_all();
//! d.daemon(1).wait_for_status(id, Status::Merged).await;
//! d.stop_all().await;
//! ```

use std::path::{Path, PathBuf};

use super::EngineHarness;
use super::setup::{HarnessBuilder, Sharing, WorkerLink, open_board};
use crate::TestRepo;
use std::sync::Arc;

/// Daemons sharing one board through one remote.
pub struct Daemons {
    daemons: Vec<EngineHarness>,
    /// Remote workers of the board ([`Daemons::add_workers`]), each reaching daemon 0.
    workers: Vec<EngineHarness>,
    builder: HarnessBuilder,
    /// Where the remote and the board's database live (its temporary directory).
    origin: TestRepo,
    remote: PathBuf,
}

impl HarnessBuilder {
    /// `n` daemons sharing one board: the project is pushed to a bare remote, and each daemon
    /// works in a clone of its own with its own state directory, on a store handle of its own
    /// to one SQLite file, its board shared (`project.remote = "origin"`).
    pub fn daemons(self, n: usize) -> Daemons {
        self.labelled_daemons(&vec![&[][..]; n])
    }

    /// [`daemons`](Self::daemons), one per entry of `labels`, each with those machine labels
    /// (`host.labels`).
    pub fn labelled_daemons(self, labels: &[&[&str]]) -> Daemons {
        let n = labels.len();
        let origin = self.project();
        let remote = origin.scratch("remote.git");
        let (from, to) = (
            origin.path().display().to_string(),
            remote.display().to_string(),
        );
        origin.git(&["clone", "-q", "--bare", &from, &to]);
        let sharing = Sharing {
            shared: true,
            database: Some(origin.scratch("board.db")),
            worker: None,
        };
        let builder = self.set("project.remote", "origin");
        let daemons = (0..n)
            .map(|i| {
                let repo = TestRepo::clone_of(&remote);
                let settings = builder
                    .clone()
                    .set("host.labels", &labels[i].join(","))
                    .settings(&repo);
                let board = open_board(&repo, settings, &sharing);
                EngineHarness::from_parts(repo, board, sharing.clone())
            })
            .collect();
        Daemons {
            daemons,
            workers: Vec::new(),
            builder,
            origin,
            remote,
        }
    }
}

impl Daemons {
    /// Adds remote workers, one per entry of `labels`, each granted and claiming those labels:
    /// a clone of the remote and a state directory of its own each, its board's store daemon 0
    /// reached as a worker (token ids 1, 2, …), as `gaffer worker` does over HTTP.
    pub fn add_workers(&mut self, labels: &[&[&str]]) {
        for granted in labels {
            self.add_worker(granted, &[]);
        }
    }

    /// One more remote worker ([`Daemons::add_workers`]) with these settings of its own
    /// (`host.min_free_memory`, …) over the board's.
    pub fn add_worker(&mut self, granted: &[&str], extra: &[(&str, &str)]) {
        {
            let token = self.workers.len() as i64 + 1;
            let daemon = Arc::clone(self.daemons[0].board());
            let identity = gaffer_engine::worker::WorkerIdentity {
                token,
                name: format!("worker-{token}"),
                project: daemon.project().id,
                labels: granted.iter().map(|l| l.to_string()).collect(),
            };
            let repo = TestRepo::clone_of(&self.remote);
            let mut builder = self.builder.clone().set("host.labels", &granted.join(","));
            for (key, value) in extra {
                builder = builder.set(key, value);
            }
            let settings = builder.settings(&repo);
            let sharing = Sharing {
                shared: true,
                database: None,
                worker: Some(WorkerLink {
                    daemon,
                    identity,
                    machine: format!("w{token}"),
                }),
            };
            let board = open_board(&repo, settings, &sharing);
            self.workers
                .push(EngineHarness::from_parts(repo, board, sharing));
        }
    }

    /// Worker `i` (0-based).
    pub fn worker(&mut self, i: usize) -> &mut EngineHarness {
        &mut self.workers[i]
    }

    /// Daemon `i` (0-based).
    pub fn daemon(&mut self, i: usize) -> &mut EngineHarness {
        &mut self.daemons[i]
    }

    /// Every daemon.
    pub fn all(&mut self) -> &mut [EngineHarness] {
        &mut self.daemons
    }

    /// Starts every daemon's engine in the background.
    pub fn start_all(&mut self) {
        for daemon in &mut self.daemons {
            daemon.start();
        }
    }

    /// Stops every daemon whose engine runs, as `gaffer down` does.
    pub async fn stop_all(&mut self) {
        for daemon in self.daemons.iter_mut().chain(self.workers.iter_mut()) {
            if daemon.is_running() {
                daemon.stop().await;
            }
        }
    }

    /// The bare remote every daemon pushes to.
    pub fn remote(&self) -> &Path {
        &self.remote
    }

    /// Runs `git args` in the remote.
    pub fn remote_git(&self, args: &[&str]) -> String {
        self.origin.git_in(&self.remote, args)
    }

    /// The first-parent history of the remote's `branch`, newest first, as commit ids.
    pub fn remote_first_parents(&self, branch: &str) -> Vec<String> {
        self.remote_git(&["rev-list", "--first-parent", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }
}
