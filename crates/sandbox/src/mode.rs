//! Which sandbox a person asked for.

use std::fmt;
use std::str::FromStr;

/// How processes started for a task are confined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    /// bubblewrap when it works here, else no sandbox (with a reason to
    /// print loudly).
    #[default]
    Auto,
    /// bubblewrap, or an error.
    Bwrap,
    /// No sandbox: processes run with the user's full rights.
    None,
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Bwrap => "bwrap",
            Self::None => "none",
        })
    }
}

/// A sandbox mode that is not `auto`, `bwrap` or `none`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sandbox mode `{0}` (expected auto, bwrap or none)")]
pub struct UnknownMode(pub String);

impl FromStr for SandboxMode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "bwrap" | "bubblewrap" => Ok(Self::Bwrap),
            "none" | "off" => Ok(Self::None),
            _ => Err(UnknownMode(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_mode() {
        for mode in [SandboxMode::Auto, SandboxMode::Bwrap, SandboxMode::None] {
            assert_eq!(mode.to_string().parse::<SandboxMode>(), Ok(mode));
        }
        assert_eq!(" Bubblewrap ".parse(), Ok(SandboxMode::Bwrap));
        assert_eq!(
            "docker".parse::<SandboxMode>(),
            Err(UnknownMode("docker".into()))
        );
    }

    #[test]
    fn default_is_auto() {
        assert_eq!(SandboxMode::default(), SandboxMode::Auto);
    }
}
