//! `[scope]`: what happens when a change edits files outside its task's declared write scope.

use std::fmt;

use serde::Serialize;

/// `[scope]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ScopeSettings {
    /// Default: [`ScopeEnforce::Reject`].
    pub enforce: ScopeEnforce,
}

/// `scope.enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeEnforce {
    /// The change goes back to its coder with the paths outside the scope.
    #[default]
    Reject,
    /// The change goes on; the paths are shown to the reviewer, on the task page and its card.
    Review,
    /// Not checked.
    Off,
}

impl ScopeEnforce {
    /// Every mode, in documentation order.
    pub const ALL: [ScopeEnforce; 3] = [
        ScopeEnforce::Reject,
        ScopeEnforce::Review,
        ScopeEnforce::Off,
    ];

    /// The name used in `gaffer.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeEnforce::Reject => "reject",
            ScopeEnforce::Review => "review",
            ScopeEnforce::Off => "off",
        }
    }

    /// The mode with this name, if any.
    pub fn from_name(name: &str) -> Option<ScopeEnforce> {
        ScopeEnforce::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name.trim())
    }
}

impl fmt::Display for ScopeEnforce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for mode in ScopeEnforce::ALL {
            assert_eq!(ScopeEnforce::from_name(mode.as_str()), Some(mode));
        }
        assert_eq!(ScopeEnforce::from_name("strict"), None);
        assert_eq!(ScopeEnforce::default(), ScopeEnforce::Reject);
    }
}
