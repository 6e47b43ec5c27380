//! The raw shape of `gaffer.toml`: what may be written, before any value is checked.
//!
//! Every section and table rejects unknown keys, so a misspelt key is an error with its line
//! rather than a silently ignored setting. Values that need checking keep their span
//! ([`Spanned`]) so that errors can point at them; enumerations, durations and globs stay text
//! here and are parsed in [`crate::resolve`], where the error message can say what was expected.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

/// A value and where it was written.
pub(crate) type At<T> = Spanned<T>;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub project: RawProject,
    #[serde(default)]
    pub verify: RawVerify,
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub agents: BTreeMap<String, At<RawAgent>>,
    #[serde(default)]
    pub roles: RawRoles,
    #[serde(default)]
    pub review: RawReview,
    #[serde(default)]
    pub risk: RawRisk,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub privacy: RawPrivacy,
    #[serde(default)]
    pub scope: RawScope,
    #[serde(default)]
    pub sandbox: crate::sandbox::RawSandbox,
    #[serde(default)]
    pub secrets: crate::secrets::RawSecrets,
    #[serde(default)]
    pub notify: crate::notify::RawNotify,
    #[serde(default)]
    pub queue: crate::queue::RawQueue,
    #[serde(default)]
    pub host: crate::queue::RawHost,
    #[serde(default)]
    pub prices: BTreeMap<String, At<RawPrice>>,
    #[serde(default)]
    pub budget: crate::budget::RawBudget,
    #[serde(default)]
    pub store: crate::store::RawStore,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    pub name: Option<At<String>>,
    pub target: Option<At<String>>,
    pub state_dir: Option<At<String>>,
    pub remote: Option<At<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVerify {
    pub command: Option<At<String>>,
    pub timeout: Option<At<RawDuration>>,
    pub setup: Option<At<String>>,
    pub skip_identical_candidates: Option<At<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEngine {
    pub concurrency: Option<At<i64>>,
    pub lease: Option<At<RawDuration>>,
    pub heartbeat: Option<At<RawDuration>>,
    pub worktree_pool: Option<At<i64>>,
    pub worktree_watch: Option<At<bool>>,
    pub agent_stagger: Option<At<RawDuration>>,
    pub stall_after: Option<At<RawDuration>>,
    pub idle: Option<At<bool>>,
    pub idle_every: Option<At<RawDuration>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub verify_failures_per_tier: Option<At<i64>>,
    pub review_rounds: Option<At<i64>>,
    pub plan_rounds: Option<At<i64>>,
    pub merge_attempts: Option<At<i64>>,
    pub lost_run_retries: Option<At<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub backend: Option<At<String>>,
    pub model: Option<At<String>>,
    pub family: Option<At<String>>,
    pub base_url: Option<At<String>>,
    pub command: Option<At<String>>,
    pub script: Option<At<String>>,
    pub api_key_env: Option<At<String>>,
    pub max_turns: Option<At<i64>>,
    pub max_output_tokens: Option<At<i64>>,
    pub max_total_tokens: Option<At<i64>>,
    pub timeout: Option<At<RawDuration>>,
    pub permission_mode: Option<At<String>>,
    pub skip_permissions: Option<At<bool>>,
    pub sandbox: Option<At<String>>,
    pub args: Option<At<Vec<At<String>>>>,
    pub env: Option<At<BTreeMap<At<String>, At<String>>>>,
    pub retries: Option<At<i64>>,
    pub needs: Option<At<Vec<At<String>>>>,
}

/// A list of agent names, each with its own span so that an unknown one can be pointed at.
pub(crate) type RawRole = Option<At<Vec<At<String>>>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoles {
    pub coder: RawRole,
    pub reviewer: RawRole,
    pub planner: RawRole,
    pub plan_reviewer: RawRole,
    pub resolver: RawRole,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReview {
    pub enabled: Option<At<bool>>,
    pub cross_family: Option<At<bool>>,
    pub checklist: Option<At<Vec<At<String>>>>,
    #[serde(default)]
    pub paths: Vec<RawReviewPath>,
    #[serde(default)]
    pub extra: Vec<RawExtraReviewer>,
}

/// `[[review.paths]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReviewPath {
    pub glob: At<String>,
    pub checklist: At<Vec<At<String>>>,
}

/// `[[review.extra]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExtraReviewer {
    pub agent: At<String>,
    pub focus: At<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRisk {
    pub approval_at: Option<At<String>>,
    #[serde(default)]
    pub paths: Vec<RawPathRule>,
    #[serde(default)]
    pub labels: Vec<RawLabelRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPathRule {
    pub glob: At<String>,
    pub risk: At<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLabelRule {
    pub label: At<String>,
    pub risk: At<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub port: Option<At<i64>>,
    pub host: Option<At<String>>,
    pub token_env: Option<At<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrivacy {
    pub mode: Option<At<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScope {
    pub enforce: Option<At<String>>,
}

/// `[prices."MODEL"]`: US dollars per million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrice {
    pub input: At<f64>,
    pub output: At<f64>,
    pub cached_input: Option<At<f64>>,
}

/// A duration as written: text such as `"20m"`, or a whole number of seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawDuration {
    Text(String),
    Seconds(i64),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(crate::duration::DURATION_FORMS)
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(
                    i64::try_from(value).unwrap_or(i64::MAX),
                ))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(value.to_string()))
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}
