//! Standard input of an agent CLI that reads its conversation from it (Claude Code's
//! `--input-format stream-json`): the prompt as the first line, then each message of the run's
//! [`Inbox`] as it comes, until the run takes no more (its parser saw its last turn end, or the
//! process is gone). Closing standard input is what lets such a CLI exit.

use crate::inbox::Inbox;
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;
use tokio_util::sync::CancellationToken;

/// What a CLI reads on its standard input.
pub(crate) struct CliInput {
    /// The first line: the prompt, in the CLI's format.
    pub first: String,
    /// A person's message as one line in the CLI's format.
    pub encode: fn(&str) -> String,
}

/// Writes the first line and then the inbox's messages to `stdin` until `done` (the run takes
/// no more input) or a write fails (the process is gone); then closes it. Messages sent before
/// the inbox was closed are still written: the CLI reads what is in the pipe before it exits.
pub(crate) fn feed(mut stdin: ChildStdin, input: CliInput, done: CancellationToken) -> Inbox {
    let (inbox, mut messages) = Inbox::channel();
    tokio::spawn(async move {
        let mut open = line(&mut stdin, &input.first).await;
        while open {
            tokio::select! {
                biased;
                message = messages.recv() => match message {
                    Some(text) => open = line(&mut stdin, &(input.encode)(&text)).await,
                    None => break,
                },
                _ = done.cancelled() => break,
            }
        }
        messages.close();
        while let Ok(text) = messages.try_recv() {
            if !open || !line(&mut stdin, &(input.encode)(&text)).await {
                break;
            }
        }
        // Dropping `stdin` closes it.
    });
    inbox
}

/// Writes `text` and a line break; false when the pipe is closed.
async fn line(stdin: &mut ChildStdin, text: &str) -> bool {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    stdin.write_all(&bytes).await.is_ok() && stdin.flush().await.is_ok()
}
