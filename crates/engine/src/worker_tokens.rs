//! Worker tokens: what a remote worker (`gaffer worker --server URL --token T`) presents to take
//! this project's jobs. A person makes one ([`Board::create_worker_token`]), is shown its secret
//! once, and may revoke it ([`Board::revoke_worker_token`]); the server asks
//! [`Board::worker_by_token`] whose a bearer token is.
//!
//! The secret is `gfw_` and 64 hex digits (256 random bits). Only its SHA-256 is stored: a dump
//! or a copy of the database must not give anyone a worker's powers. A plain hash suffices (no
//! salt, no slow key derivation) because the secret is random, not chosen: there is nothing to
//! guess from its hash. The secret never reaches the store, the event log or gaffer's log.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::run_access::random_secret;
use gaffer_core::payload::WorkerTokenChanged;
use gaffer_core::{NewEvent, Payload};
use gaffer_store::rules::worker_tokens::MAX_NAME;
use gaffer_store::{NewWorkerToken, WorkerToken};
use sha2::{Digest, Sha256};

/// What every worker token's secret starts with: a bearer token the server can tell from its
/// own and from a run's without a lookup, and that a person or a secret scanner recognises.
pub const WORKER_TOKEN_PREFIX: &str = "gfw_";

/// The name a token gets when it is given none.
const DEFAULT_NAME: &str = "worker";

/// How a secret is stored: the SHA-256 of the whole secret (its prefix included), in lowercase
/// hex.
pub fn worker_token_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Board {
    /// Makes a worker token of this project for a worker with machine `labels` (each one word,
    /// as a task's `--needs`), named `name`; a blank name becomes `worker`, then the labels:
    /// `worker-gpu-linux`. Returns the token and its secret (`gfw_` and 64 hex digits), which is
    /// shown this once: only its hash is kept. Says so on the board (`worker_token.created`,
    /// without the secret).
    pub fn create_worker_token(
        &self,
        name: &str,
        labels: &[String],
    ) -> Result<(WorkerToken, String)> {
        let labels = gaffer_store::rules::input::needs(labels).map_err(|e| {
            let message = match e {
                gaffer_store::StoreError::Invalid(m) => m,
                other => other.to_string(),
            };
            EngineError::InvalidInput {
                message,
                hint: "a machine label is one word without spaces or commas, e.g. --label gpu \
                       (repeat --label, or separate labels with commas)"
                    .to_string(),
            }
        })?;
        let name = token_name(name, &labels)?;
        let secret = format!(
            "{WORKER_TOKEN_PREFIX}{}",
            random_secret().map_err(|e| EngineError::io(
                "cannot make a worker token's secret",
                std::io::Error::other(e.to_string())
            ))?
        );
        let token = self.store.create_worker_token(&NewWorkerToken {
            project: self.project.id,
            name,
            labels,
            hash: worker_token_hash(&secret),
        })?;
        self.say(Payload::WorkerTokenCreated(changed(&token)));
        Ok((token, secret))
    }

    /// Every worker token of this project, revoked ones included, by id.
    pub fn worker_tokens(&self) -> Result<Vec<WorkerToken>> {
        Ok(self.store.worker_tokens(self.project.id)?)
    }

    /// Revokes token `id` of this project: its worker is refused from now on. `false` when it
    /// was revoked already; [`EngineError::NotFound`] when the project has no such token. Says
    /// so on the board (`worker_token.revoked`).
    pub fn revoke_worker_token(&self, id: i64) -> Result<bool> {
        let Some(token) = self.worker_tokens()?.into_iter().find(|t| t.id == id) else {
            return Err(EngineError::NotFound(format!(
                "there is no worker token {id} in this project"
            )));
        };
        let revoked = self.store.revoke_worker_token(self.project.id, id)?;
        if revoked {
            self.say(Payload::WorkerTokenRevoked(changed(&token)));
        }
        Ok(revoked)
    }

    /// The live token of this project whose secret `secret` is, recording its use; `None` for
    /// anything else (a revoked or unknown token, another project's, a string that is not a
    /// worker token at all: without the `gfw_` prefix the store is not asked).
    pub fn worker_by_token(&self, secret: &str) -> Result<Option<WorkerToken>> {
        if !secret.starts_with(WORKER_TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self
            .store
            .worker_token_by_hash(&worker_token_hash(secret))?
            .filter(|t| t.project == self.project.id))
    }

    /// Records `payload` on the project's log; a failure is logged, not returned: the token
    /// was made or revoked either way, and its caller must learn so.
    fn say(&self, payload: Payload) {
        let event = NewEvent::of(payload).project(self.project.id);
        if let Err(e) = self.store.append_events(&[event]) {
            tracing::warn!("could not record a worker token's change on the board: {e}");
        }
    }
}

/// The name a token is stored with: `name` trimmed, or the default from its labels.
fn token_name(name: &str, labels: &[String]) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        let named = std::iter::once(DEFAULT_NAME)
            .chain(labels.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        return Ok(if named.len() <= MAX_NAME {
            named
        } else {
            DEFAULT_NAME.to_string()
        });
    }
    if name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(EngineError::InvalidInput {
            message: format!("a worker token's name is one line of at most {MAX_NAME} bytes"),
            hint: "name the machine the worker runs on, e.g. --name gpu-box".to_string(),
        });
    }
    Ok(name.to_string())
}

fn changed(token: &WorkerToken) -> WorkerTokenChanged {
    WorkerTokenChanged {
        id: token.id,
        name: token.name.clone(),
        labels: token.labels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_in_lowercase_hex() {
        assert_eq!(
            worker_token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_blank_name_comes_from_the_labels() {
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(token_name("  ", &[]).unwrap(), "worker");
        assert_eq!(
            token_name("", &labels(&["gpu", "linux"])).unwrap(),
            "worker-gpu-linux"
        );
        assert_eq!(
            token_name("", &labels(&[&"x".repeat(64), &"y".repeat(64)])).unwrap(),
            "worker"
        );
        assert_eq!(token_name(" gpu box ", &[]).unwrap(), "gpu box");
        assert!(matches!(
            token_name("two\nlines", &[]),
            Err(EngineError::InvalidInput { .. })
        ));
    }
}
