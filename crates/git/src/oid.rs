//! [`Oid`]: a validated git object id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::GitError;

/// A git object id: 40 hexadecimal digits (SHA-1) or 64 (SHA-256), stored in lower case.
///
/// Serialized as a plain string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Oid(String);

impl Oid {
    /// The id as a hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The all-zero id of the same length (hash algorithm) as `self`. Git uses it to mean
    /// "no object", e.g. "the ref must not exist" in `update-ref`.
    pub fn zero_like(&self) -> Oid {
        Oid("0".repeat(self.0.len()))
    }

    /// Whether this is the all-zero id.
    pub fn is_zero(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }
}

impl FromStr for Oid {
    type Err = GitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid_len = s.len() == 40 || s.len() == 64;
        if valid_len && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Oid(s.to_ascii_lowercase()))
        } else {
            Err(GitError::Parse(format!("not an object id: {s:?}")))
        }
    }
}

impl TryFrom<String> for Oid {
    type Error = GitError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Oid> for String {
    fn from(oid: Oid) -> String {
        oid.0
    }
}

impl AsRef<str> for Oid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sha1_and_sha256_and_lowercases() {
        let sha1 = "A".repeat(40);
        assert_eq!(sha1.parse::<Oid>().unwrap().as_str(), "a".repeat(40));
        assert!("0".repeat(64).parse::<Oid>().unwrap().is_zero());
    }

    #[test]
    fn rejects_bad_ids() {
        for bad in ["", "abc", &"g".repeat(40), &"a".repeat(41), &" ".repeat(40)] {
            assert!(bad.parse::<Oid>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serializes_as_a_plain_validated_string() {
        let oid: Oid = "ab".repeat(20).parse().unwrap();
        let json = serde_json::to_string(&oid).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(20)));
        assert_eq!(serde_json::from_str::<Oid>(&json).unwrap(), oid);
        assert!(serde_json::from_str::<Oid>("\"nothex\"").is_err());
        assert_eq!(oid.to_string(), oid.as_str());
    }

    #[test]
    fn zero_like_matches_length() {
        let oid: Oid = "f".repeat(64).parse().unwrap();
        assert_eq!(oid.zero_like().as_str().len(), 64);
        assert!(!oid.is_zero());
    }
}
