//! Risk levels and the `[risk]` rules that assign them to tasks by the paths they touch and the
//! labels they carry.

use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// How risky a change is. Ordered: `Low < Medium < High < Critical`.
///
/// This is the configuration's own copy; the engine maps it to the core crate's `Risk`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Routine change.
    #[default]
    Low,
    /// Worth a second look.
    Medium,
    /// Waits for a person by default (see `risk.approval_at`).
    High,
    /// Always worth a person's attention.
    Critical,
}

impl Risk {
    /// Every level, lowest first.
    pub const ALL: [Risk; 4] = [Risk::Low, Risk::Medium, Risk::High, Risk::Critical];

    /// The name used in `gaffer.toml`: `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// The level with this name (ASCII case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Risk> {
        Risk::ALL
            .into_iter()
            .find(|risk| risk.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[[risk.paths]]`: a change touching a path that matches `glob` has at least `risk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRiskRule {
    /// A glob over repository-relative paths with `/` separators. `*` stays within one directory;
    /// `**` crosses directories (`migrations/**`, `**/*.sql`).
    pub glob: String,
    /// The risk a matching change has at least.
    pub risk: Risk,
}

/// `[[risk.labels]]`: a task carrying `label` has at least `risk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelRiskRule {
    /// The label, compared ASCII case-insensitively.
    pub label: String,
    /// The risk a task with this label has at least.
    pub risk: Risk,
}

/// The `[risk]` section: when a person must approve a merge, and the rules that raise a task's
/// risk.
#[derive(Debug, Clone, Serialize)]
pub struct RiskSettings {
    /// Tasks at or above this risk wait for a person before merging; `None` (written `"never"`)
    /// means no task waits.
    pub approval_at: Option<Risk>,
    /// Path rules, in file order.
    pub paths: Vec<PathRiskRule>,
    /// Label rules, in file order.
    pub labels: Vec<LabelRiskRule>,
    /// `paths` compiled; index `i` of a match is rule `paths[i]`.
    #[serde(skip)]
    matcher: GlobSet,
}

impl RiskSettings {
    /// Compiles the path rules. Fails on the first glob that does not compile, with its index.
    pub fn new(
        approval_at: Option<Risk>,
        paths: Vec<PathRiskRule>,
        labels: Vec<LabelRiskRule>,
    ) -> Result<RiskSettings, (usize, globset::Error)> {
        let mut builder = GlobSetBuilder::new();
        for (index, rule) in paths.iter().enumerate() {
            builder.add(compile_glob(&rule.glob).map_err(|error| (index, error))?);
        }
        let matcher = builder.build().map_err(|error| (0, error))?;
        Ok(RiskSettings {
            approval_at,
            paths,
            labels,
            matcher,
        })
    }

    /// The highest risk any path rule gives to these repository-relative paths, or `None` when no
    /// rule matches. A leading `./` is ignored.
    pub fn risk_for_paths(&self, paths: &[String]) -> Option<Risk> {
        paths
            .iter()
            .flat_map(|path| {
                let path = path.strip_prefix("./").unwrap_or(path);
                self.matcher.matches(path)
            })
            .filter_map(|index| self.paths.get(index).map(|rule| rule.risk))
            .max()
    }

    /// The highest risk any label rule gives to these labels, or `None` when no rule matches.
    pub fn risk_for_labels(&self, labels: &[String]) -> Option<Risk> {
        self.labels
            .iter()
            .filter(|rule| {
                labels
                    .iter()
                    .any(|label| label.trim().eq_ignore_ascii_case(&rule.label))
            })
            .map(|rule| rule.risk)
            .max()
    }

    /// Whether a task of this risk must wait for a person before it merges.
    pub fn needs_approval(&self, risk: Risk) -> bool {
        self.approval_at.is_some_and(|threshold| risk >= threshold)
    }
}

impl Default for RiskSettings {
    fn default() -> Self {
        RiskSettings {
            approval_at: Some(Risk::High),
            paths: Vec::new(),
            labels: Vec::new(),
            matcher: GlobSet::empty(),
        }
    }
}

/// Equal when the rules are equal; the compiled matcher follows from them.
impl PartialEq for RiskSettings {
    fn eq(&self, other: &Self) -> bool {
        self.approval_at == other.approval_at
            && self.paths == other.paths
            && self.labels == other.labels
    }
}

/// Compiles one rule's glob the way `risk_for_paths` matches it.
pub fn compile_glob(glob: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RiskSettings {
        let paths = vec![
            PathRiskRule {
                glob: "migrations/**".into(),
                risk: Risk::High,
            },
            PathRiskRule {
                glob: "src/*.rs".into(),
                risk: Risk::Medium,
            },
            PathRiskRule {
                glob: "**/secrets.*".into(),
                risk: Risk::Critical,
            },
        ];
        let labels = vec![LabelRiskRule {
            label: "security".into(),
            risk: Risk::Critical,
        }];
        match RiskSettings::new(Some(Risk::High), paths, labels) {
            Ok(settings) => settings,
            Err((index, error)) => panic!("rule {index}: {error}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_highest_matching_path_rule_wins() {
        let risk = rules();
        assert_eq!(risk.risk_for_paths(&strings(&["README.md"])), None);
        assert_eq!(
            risk.risk_for_paths(&strings(&["src/main.rs"])),
            Some(Risk::Medium)
        );
        assert_eq!(risk.risk_for_paths(&strings(&["src/a/b.rs"])), None);
        assert_eq!(
            risk.risk_for_paths(&strings(&["src/lib.rs", "./migrations/001/up.sql"])),
            Some(Risk::High)
        );
        assert_eq!(
            risk.risk_for_paths(&strings(&["config/deep/secrets.toml", "src/lib.rs"])),
            Some(Risk::Critical)
        );
    }

    #[test]
    fn labels_match_case_insensitively() {
        let risk = rules();
        assert_eq!(
            risk.risk_for_labels(&strings(&["Security"])),
            Some(Risk::Critical)
        );
        assert_eq!(risk.risk_for_labels(&strings(&["docs"])), None);
    }

    #[test]
    fn approval_threshold() {
        let risk = rules();
        assert!(!risk.needs_approval(Risk::Medium));
        assert!(risk.needs_approval(Risk::High));
        assert!(risk.needs_approval(Risk::Critical));
        let never = RiskSettings {
            approval_at: None,
            ..RiskSettings::default()
        };
        assert!(!never.needs_approval(Risk::Critical));
    }

    #[test]
    fn risk_levels_are_ordered_and_named() {
        assert!(Risk::Low < Risk::Medium && Risk::High < Risk::Critical);
        assert_eq!(Risk::from_name("HIGH"), Some(Risk::High));
        assert_eq!(Risk::from_name("severe"), None);
        assert_eq!(Risk::Critical.to_string(), "critical");
    }
}
