//! Worker tokens ([`crate::Store::create_worker_token`] and its kin): what a token to store must
//! be, and when a use of one is worth writing down.

use crate::{NewWorkerToken, Result, StoreError};

/// A use of a token is recorded when the last one recorded is at least this old: a worker calls
/// the API many times a minute, and each call would otherwise be a write.
pub const USE_RECORDED_EVERY_MS: i64 = 60_000;

/// The longest name a token may have, in bytes.
pub const MAX_NAME: usize = 100;

fn invalid<T>(msg: String) -> Result<T> {
    Err(StoreError::Invalid(msg))
}

/// A token to store has a name (one line, at most [`MAX_NAME`] bytes), machine labels (as
/// [`super::input::needs`] checks them) and a hash that is a SHA-256 digest in lowercase hex:
/// anything else (a secret passed by mistake, say) is refused rather than stored. Returns the
/// labels as stored: sorted, without repeats.
pub fn new_token(token: &NewWorkerToken) -> Result<Vec<String>> {
    let name = token.name.trim();
    if name.is_empty() {
        return invalid("a worker token needs a name (it is empty)".into());
    }
    if token.name.len() > MAX_NAME || token.name.chars().any(char::is_control) {
        return invalid(format!(
            "a worker token's name is one line of at most {MAX_NAME} bytes"
        ));
    }
    hash(&token.hash)?;
    super::input::needs(&token.labels)
}

/// A stored hash is a SHA-256 digest: 64 lowercase hex digits.
pub fn hash(hash: &str) -> Result<()> {
    let digest = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !digest {
        return invalid(
            "a worker token is stored by the SHA-256 of its secret (64 lowercase hex digits), \
             never by anything else"
                .into(),
        );
    }
    Ok(())
}

/// Whether a use at `now` should be written, the last recorded one being `last_used_ms`.
pub fn use_is_due(last_used_ms: Option<i64>, now: i64) -> bool {
    last_used_ms.is_none_or(|last| now - last >= USE_RECORDED_EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::ProjectId;

    fn token(name: &str, hash: &str, labels: &[&str]) -> NewWorkerToken {
        NewWorkerToken {
            project: ProjectId(1),
            name: name.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            hash: hash.into(),
        }
    }

    #[test]
    fn a_token_needs_a_name_a_digest_and_machine_labels() {
        let digest = "ab".repeat(32);
        assert_eq!(
            new_token(&token("gpu box", &digest, &["x", "gpu", "x"])).unwrap(),
            ["gpu", "x"]
        );
        assert!(new_token(&token(" ", &digest, &[])).is_err());
        assert!(new_token(&token("a\nb", &digest, &[])).is_err());
        assert!(new_token(&token(&"n".repeat(MAX_NAME + 1), &digest, &[])).is_err());
        assert!(new_token(&token("w", &digest, &["two words"])).is_err());
        for bad in [
            format!("gfw_{}", "ab".repeat(32)),
            "AB".repeat(32),
            "ab".repeat(31),
            String::new(),
        ] {
            assert!(new_token(&token("w", &bad, &[])).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_use_is_written_at_most_once_a_minute() {
        assert!(use_is_due(None, 0));
        assert!(!use_is_due(Some(1_000), 1_000 + USE_RECORDED_EVERY_MS - 1));
        assert!(use_is_due(Some(1_000), 1_000 + USE_RECORDED_EVERY_MS));
    }
}
