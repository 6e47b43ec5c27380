//! Streaming a child's stdout line by line (for agents).

use std::net::TcpListener;
use std::process::Stdio;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::ProcError;
use crate::identity::ProcessIdentity;
use crate::outcome::ProcessOutcome;
use crate::readers;
use crate::spawner::{self, Spawned};
use crate::spec::CommandSpec;
use crate::supervise::{Limits, supervise};

/// How many lines may wait in the channel before reading stdout pauses
/// (and the child eventually blocks writing): backpressure, not loss.
const LINE_CHANNEL_CAPACITY: usize = 256;

/// A running child whose stdout arrives as lines.
///
/// Read `lines` until it yields `None` (stdout closed), then call
/// [`LineProcess::wait`] for the outcome. Dropping a `LineProcess` (or the
/// future of `wait`) before the process ends SIGKILLs its group.
#[derive(Debug)]
pub struct LineProcess {
    /// Who the child is; persist it right away (see [`crate::kill_group`]).
    pub identity: ProcessIdentity,
    /// stdout, one line at a time, without the line break, as lossy UTF-8.
    /// Lines longer than [`CommandSpec::max_line_bytes`] are truncated.
    pub lines: mpsc::Receiver<String>,
    /// With [`CommandSpec::stdin_piped`]: the writing end of the child's stdin (dropping it
    /// closes it); else `None`.
    pub stdin: Option<tokio::process::ChildStdin>,
    /// With [`CommandSpec::private_net`]: gaffer's listeners inside the child's network, one
    /// per port, in the order asked for (else empty). Connections the child makes to
    /// `127.0.0.1:<port>` arrive here: accept them and relay them where they should go (for
    /// Tokio, `set_nonblocking(true)` first). Dropping one refuses that port's connections.
    pub listeners: Vec<(u16, TcpListener)>,
    supervisor: JoinHandle<Result<ProcessOutcome, ProcError>>,
    kill_on_drop: DropGuard,
}

impl LineProcess {
    /// Waits for the process to end and returns its outcome, whose `tail`
    /// and `total_bytes` describe **stderr**.
    ///
    /// Any lines not yet received are discarded (the receiver is dropped),
    /// so the child can never block on a full stdout pipe while we wait.
    pub async fn wait(self) -> Result<ProcessOutcome, ProcError> {
        let LineProcess {
            supervisor,
            kill_on_drop,
            lines,
            ..
        } = self;
        drop(lines);
        let result = supervisor.await;
        // The supervisor is done: nothing left to kill.
        kill_on_drop.disarm();
        result.map_err(|err| ProcError::Supervisor(err.to_string()))?
    }
}

/// Starts `spec` in its own process group and streams its stdout as lines.
///
/// stderr is kept as a tail (see [`LineProcess::wait`]). Timeout, `cancel`
/// and cleanup of the group behave as in [`crate::run`]. Must be called
/// inside a Tokio runtime.
pub fn spawn_lines(
    spec: &CommandSpec,
    cancel: CancellationToken,
) -> Result<LineProcess, ProcError> {
    let started = Instant::now();
    let Spawned {
        mut child,
        guard,
        listeners,
    } = spawner::spawn(spec, Stdio::piped(), Stdio::piped())?;
    let identity = guard.identity().clone();
    let stdin = child.stdin.take();
    let (stdout, stderr) = match (child.stdout.take(), child.stderr.take()) {
        (Some(out), Some(err)) => (out, err),
        // Cannot happen with piped stdio; the guard kills the child.
        _ => return Err(ProcError::Io(std::io::Error::other("child pipes missing"))),
    };

    let (line_tx, lines) = mpsc::channel(LINE_CHANNEL_CAPACITY);
    let tail = readers::shared_tail(spec.tail_bytes);
    let stop = CancellationToken::new();
    let readers = vec![
        readers::spawn_reader(readers::read_lines(
            stdout,
            spec.max_line_bytes,
            line_tx,
            stop.clone(),
        )),
        readers::spawn_reader(readers::copy_into_tail(stderr, tail.clone(), stop.clone())),
    ];

    // Cancelled by the caller's token or by dropping the LineProcess.
    let cancel = cancel.child_token();
    let kill_on_drop = cancel.clone().drop_guard();
    let limits = Limits {
        started,
        timeout: spec.timeout,
        grace: spec.kill_grace,
    };
    let supervisor = tokio::spawn(async move {
        let spawned = Spawned {
            child,
            guard,
            listeners: Vec::new(),
        };
        let finished = supervise(spawned, limits, &cancel).await?;
        readers::drain(readers, &stop).await;
        let (tail, total_bytes) = readers::render_tail(&tail);
        Ok(ProcessOutcome {
            termination: finished.termination,
            duration: finished.duration,
            tail,
            total_bytes,
        })
    });

    Ok(LineProcess {
        identity,
        lines,
        stdin,
        listeners,
        supervisor,
        kill_on_drop,
    })
}
