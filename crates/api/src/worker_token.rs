//! What the worker-token routes carry (`/api/worker-tokens`): the body that makes a token, the
//! answer that brings its secret once, the answer of a revocation. The token row itself is the
//! store's (`gaffer_store::WorkerToken`), which this crate does not know: the answer is generic
//! over it, so the wire format is still written once.

use serde::{Deserialize, Serialize};

/// `POST /api/worker-tokens`: a token for a worker with these machine labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkerTokenBody {
    /// What to call the worker; by default `worker` and its labels (`worker-gpu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The machine labels the worker claims with (each one word; may be empty).
    pub labels: Vec<String>,
}

/// The answer to `POST /api/worker-tokens` (201): the token, and its secret, which is shown this
/// once (only its hash is kept). `T` is the store's token row.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWorkerToken<T> {
    pub token: T,
    /// `gfw_` and 64 hex digits: what `gaffer worker --token` takes.
    pub secret: String,
}

/// Never prints the secret (a debug log of the answer must not leak it).
impl<T: std::fmt::Debug> std::fmt::Debug for CreatedWorkerToken<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWorkerToken")
            .field("token", &self.token)
            .field("secret", &"…")
            .finish()
    }
}

/// The answer to `POST /api/worker-tokens/{id}/revoke`: `false` when it was revoked already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_shows_in_a_debug_print() {
        let created = CreatedWorkerToken {
            token: 7,
            secret: "gfw_0123456789abcdef".to_string(),
        };
        let shown = format!("{created:?}");
        assert!(
            shown.contains('7') && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
    }

    #[test]
    fn a_body_needs_labels_and_takes_a_name() {
        let body: NewWorkerTokenBody = serde_json::from_str(r#"{"labels": ["gpu"]}"#).unwrap();
        assert_eq!(body.name, None);
        assert!(serde_json::from_str::<NewWorkerTokenBody>("{}").is_err());
        assert!(serde_json::from_str::<NewWorkerTokenBody>(r#"{"labels": [], "x": 1}"#).is_err());
        let sent = serde_json::to_value(NewWorkerTokenBody {
            name: None,
            labels: vec![],
        })
        .unwrap();
        assert_eq!(sent, serde_json::json!({"labels": []}));
    }
}
