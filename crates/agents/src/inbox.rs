//! A run's inbox: what a person says reaches the agent while it runs, at its next turn, where
//! the backend can take messages then (Claude Code reads them from its standard input; gaffer's
//! own loop before its next request to the model; the `scripted` backend at its `listen`
//! actions). A run whose backend cannot has no inbox, and the
//! engine stops it and resumes its session with the message instead.
//!
//! The backend tells when the agent took a message into its conversation with
//! [`crate::AgentEvent::Heard`], carrying the text as it was sent. A message sent and never
//! heard (the run ended first) was not delivered: the engine gives it again.

use tokio::sync::mpsc;

/// The sending side, held by the engine while the run goes on. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Inbox {
    tx: mpsc::UnboundedSender<String>,
}

/// The run takes no more messages: its last turn ended, or it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxClosed;

impl std::fmt::Display for InboxClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run takes no more messages")
    }
}

impl std::error::Error for InboxClosed {}

impl Inbox {
    /// A new inbox and the backend's receiving side. The backend closes the receiver
    /// (`close()`) when the run will take no more: later sends fail, while what was sent
    /// before can still be received (and must be handed to the agent or left unheard).
    pub fn channel() -> (Inbox, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Inbox { tx }, rx)
    }

    /// Hands `text` to the run; it reaches the agent at its next turn.
    pub fn send(&self, text: &str) -> Result<(), InboxClosed> {
        self.tx.send(text.to_string()).map_err(|_| InboxClosed)
    }

    /// True once the run takes no more messages.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_sent_before_the_close_are_still_received_and_later_ones_refused() {
        let (inbox, mut rx) = Inbox::channel();
        inbox.send("one").unwrap();
        rx.close();
        assert!(inbox.is_closed());
        assert_eq!(inbox.send("two"), Err(InboxClosed));
        assert_eq!(rx.recv().await.as_deref(), Some("one"));
        assert_eq!(rx.recv().await, None);
    }
}
