//! From the raw model to [`Settings`]: defaults filled in, every value checked, every error
//! pointing at the key that caused it.
//!
//! The agents, roles and review rules live in [`crate::crew`]; this module does the rest and the
//! small checks they share.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use crate::crew;
use crate::duration::{DURATION_FORMS, format_duration, parse_duration};
use crate::error::ConfigError;
use crate::file::{
    At, RawConfig, RawDuration, RawEngine, RawLimits, RawPrice, RawPrivacy, RawProject, RawRisk,
    RawScope, RawServer, RawVerify,
};
use crate::prices::Price;
use crate::privacy::{PrivacyMode, PrivacySettings};
use crate::risk::{LabelRiskRule, PathRiskRule, Risk, RiskSettings, compile_glob};
use crate::scope::{ScopeEnforce, ScopeSettings};
use crate::settings::{
    CONCURRENCY_RANGE, EngineSettings, LimitSettings, ProjectSettings, ServerSettings, Settings,
    VerifySettings, WORKTREE_POOL_RANGE,
};
use crate::source::Source;

mod policies;

/// Checks `raw` and fills in defaults. `default_name` is the project name used when the file does
/// not give one.
pub(crate) fn resolve(
    raw: RawConfig,
    source: &Source,
    default_name: String,
) -> Result<Settings, ConfigError> {
    let check = Check { source };
    let project = check.project(&raw.project, default_name)?;
    let verify = check.verify(&raw.verify)?;
    let engine = check.engine(&raw.engine)?;
    let limits = check.limits(&raw.limits)?;
    let crew = crew::resolve(&check, &raw.agents, &raw.roles, &raw.review)?;
    let risk = check.risk(&raw.risk)?;
    let port = match &raw.server.port {
        Some(port) => check.number(port, "server.port", &(0..=i64::from(u16::MAX)))?,
        None => i64::from(ServerSettings::default().port),
    };
    let server = check.server(&raw.server, port)?;
    let privacy = check.privacy(&raw.privacy)?;
    let scope = check.scope(&raw.scope)?;
    let sandbox = crate::sandbox::resolve(&check, &raw.sandbox)?;
    let secrets = crate::secrets::resolve(&check, &raw.secrets)?;
    let notify = crate::notify::resolve(&check, &raw.notify)?;
    let queue = crate::queue::resolve_queue(&check, &raw.queue)?;
    let host = crate::queue::resolve_host(&check, &raw.host)?;
    let prices = check.prices(&raw.prices)?;
    let budget = crate::budget::resolve(&check, &raw.budget)?;
    let store = crate::store::resolve(&check, &raw.store)?;
    let settings = Settings {
        project,
        verify,
        engine,
        limits,
        agents: crew.agents,
        roles: crew.roles,
        review: crew.review,
        risk,
        server,
        privacy,
        scope,
        sandbox,
        secrets,
        notify,
        queue,
        host,
        prices,
        budget,
        store,
        source: source.path().map(PathBuf::from),
    };
    check.local_only(&settings, &raw)?;
    Ok(settings)
}

/// The checks, with the source to point errors at.
pub(crate) struct Check<'a> {
    pub source: &'a Source,
}

impl Check<'_> {
    /// The error for `key`, whose value is `at`.
    pub fn error<T>(&self, at: &At<T>, key: &str, message: String, hint: String) -> ConfigError {
        self.source.invalid(Some(&at.span()), key, message, hint)
    }

    /// How `at` was written, for messages: `"40s"`, `100`, `["a", "b"]`.
    pub fn written<T>(&self, at: &At<T>) -> String {
        self.source.snippet(&at.span()).to_string()
    }

    /// `[server]`: the port (already checked), the address and the token's variable.
    fn server(&self, raw: &RawServer, port: i64) -> Result<ServerSettings, ConfigError> {
        let defaults = ServerSettings::default();
        let host = match &raw.host {
            None => defaults.host,
            Some(at) => at.get_ref().trim().parse::<IpAddr>().map_err(|_| {
                self.error(
                    at,
                    "server.host",
                    format!("server.host = {} is not an IP address", self.written(at)),
                    "write an address: \"127.0.0.1\" (this machine only), \"0.0.0.0\" (every \
                     interface) or one of this machine's addresses"
                        .into(),
                )
            })?,
        };
        let token_env = match &raw.token_env {
            None => defaults.token_env,
            Some(at) => {
                let name = at.get_ref().trim();
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(self.error(
                        at,
                        "server.token_env",
                        format!(
                            "server.token_env = {} is not an environment variable name",
                            self.written(at)
                        ),
                        "name the variable that holds the token, e.g. token_env = \"GAFFER_TOKEN\" \
                         (the token itself never goes in gaffer.toml)"
                            .into(),
                    ));
                }
                name.to_string()
            }
        };
        Ok(ServerSettings {
            port: u16::try_from(port).unwrap_or_default(),
            host,
            token_env,
        })
    }

    /// Text that must not be blank.
    pub fn text(
        &self,
        value: &Option<At<String>>,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        let Some(at) = value else { return Ok(None) };
        if at.get_ref().trim().is_empty() {
            return Err(self.error(
                at,
                key,
                format!("{key} is empty"),
                format!("give {key} a value, or remove the line to use the default"),
            ));
        }
        Ok(Some(at.get_ref().clone()))
    }

    /// A whole number within `range`.
    pub fn number(
        &self,
        at: &At<i64>,
        key: &str,
        range: &RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        let value = *at.get_ref();
        if range.contains(&value) {
            return Ok(value);
        }
        Err(self.error(
            at,
            key,
            format!(
                "{key} = {} must be between {} and {}",
                self.written(at),
                range.start(),
                range.end()
            ),
            format!(
                "set {key} to a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        ))
    }

    /// A duration, longer than zero unless `zero_ok`.
    pub(crate) fn duration(
        &self,
        value: &Option<At<RawDuration>>,
        key: &str,
        default: Duration,
        zero_ok: bool,
    ) -> Result<Duration, ConfigError> {
        let Some(at) = value else { return Ok(default) };
        let parsed = match at.get_ref() {
            RawDuration::Seconds(secs) => u64::try_from(*secs).ok().map(Duration::from_secs),
            RawDuration::Text(text) => parse_duration(text),
        };
        let Some(duration) = parsed else {
            return Err(self.error(
                at,
                key,
                format!("{key} = {} is not a duration", self.written(at)),
                format!("write {DURATION_FORMS}"),
            ));
        };
        if duration.is_zero() && !zero_ok {
            return Err(self.error(
                at,
                key,
                format!("{key} = {} must be longer than zero", self.written(at)),
                format!(
                    "set {key} to a positive duration, e.g. \"{}\"",
                    format_duration(default)
                ),
            ));
        }
        Ok(duration)
    }

    /// A risk level.
    fn risk_level(&self, at: &At<String>, key: &str) -> Result<Risk, ConfigError> {
        Risk::from_name(at.get_ref()).ok_or_else(|| {
            self.error(
                at,
                key,
                format!("{key} = {} is not a risk level", self.written(at)),
                "use one of \"low\", \"medium\", \"high\", \"critical\"".to_string(),
            )
        })
    }

    fn project(
        &self,
        raw: &RawProject,
        default_name: String,
    ) -> Result<ProjectSettings, ConfigError> {
        let defaults = ProjectSettings::default();
        let name = self
            .text(&raw.name, "project.name")?
            .unwrap_or(default_name);
        let target = self.text(&raw.target, "project.target")?;
        if let (Some(at), Some(target)) = (&raw.target, &target)
            && !is_branch_name(target)
        {
            return Err(self.error(
                at,
                "project.target",
                format!("project.target = {} is not a branch name", self.written(at)),
                "name a local branch, e.g. target = \"main\" (not a ref such as refs/heads/main)"
                    .to_string(),
            ));
        }
        Ok(ProjectSettings {
            name,
            target: target.unwrap_or(defaults.target),
            state_dir: self
                .text(&raw.state_dir, "project.state_dir")?
                .map(PathBuf::from),
            remote: self.remote(&raw.remote)?,
        })
    }

    /// `project.remote`: a remote's name as `git remote` lists it.
    fn remote(&self, raw: &Option<At<String>>) -> Result<Option<String>, ConfigError> {
        let Some(name) = self.text(raw, "project.remote")? else {
            return Ok(None);
        };
        let name = name.trim().to_string();
        let valid = !name.starts_with('-')
            && !name.contains("..")
            && !name
                .chars()
                .any(|c| c.is_whitespace() || c.is_ascii_control() || "~^:?*[\\".contains(c));
        if let (false, Some(at)) = (valid, raw) {
            return Err(self.error(
                at,
                "project.remote",
                format!("project.remote = {} is not a remote name", self.written(at)),
                "name a remote as `git remote` lists it, e.g. remote = \"origin\"".to_string(),
            ));
        }
        Ok(Some(name))
    }

    fn verify(&self, raw: &RawVerify) -> Result<VerifySettings, ConfigError> {
        let defaults = VerifySettings::default();
        Ok(VerifySettings {
            command: self.text(&raw.command, "verify.command")?,
            timeout: self.duration(&raw.timeout, "verify.timeout", defaults.timeout, false)?,
            setup: self.text(&raw.setup, "verify.setup")?,
            skip_identical_candidates: raw
                .skip_identical_candidates
                .as_ref()
                .map_or(defaults.skip_identical_candidates, |at| *at.get_ref()),
        })
    }

    fn engine(&self, raw: &RawEngine) -> Result<EngineSettings, ConfigError> {
        let defaults = EngineSettings::default();
        let concurrency = match &raw.concurrency {
            Some(at) => self.number(at, "engine.concurrency", &CONCURRENCY_RANGE)? as usize,
            None => defaults.concurrency,
        };
        let worktree_pool = match &raw.worktree_pool {
            Some(at) => self.number(at, "engine.worktree_pool", &WORKTREE_POOL_RANGE)? as usize,
            None => defaults.worktree_pool,
        };
        let lease = self.duration(&raw.lease, "engine.lease", defaults.lease, false)?;
        let heartbeat = self.duration(
            &raw.heartbeat,
            "engine.heartbeat",
            defaults.heartbeat,
            false,
        )?;
        if heartbeat >= lease {
            let (lease_text, heartbeat_text) = (format_duration(lease), format_duration(heartbeat));
            let hint = "lower engine.heartbeat or raise engine.lease".to_string();
            return Err(match (&raw.heartbeat, &raw.lease) {
                (Some(at), _) => self.error(
                    at,
                    "engine.heartbeat",
                    format!(
                        "engine.heartbeat = {} must be shorter than engine.lease ({lease_text})",
                        self.written(at)
                    ),
                    hint,
                ),
                (None, Some(at)) => self.error(
                    at,
                    "engine.lease",
                    format!(
                        "engine.lease = {} must be longer than engine.heartbeat \
                         ({heartbeat_text}, the default)",
                        self.written(at)
                    ),
                    hint,
                ),
                (None, None) => self.source.invalid(
                    None,
                    "engine.heartbeat",
                    "engine.heartbeat must be shorter than engine.lease".to_string(),
                    hint,
                ),
            });
        }
        Ok(EngineSettings {
            concurrency,
            lease,
            heartbeat,
            worktree_pool,
            worktree_watch: raw
                .worktree_watch
                .as_ref()
                .map_or(defaults.worktree_watch, |at| *at.get_ref()),
            agent_stagger: self.duration(
                &raw.agent_stagger,
                "engine.agent_stagger",
                defaults.agent_stagger,
                true,
            )?,
            stall_after: self.duration(
                &raw.stall_after,
                "engine.stall_after",
                defaults.stall_after,
                false,
            )?,
            idle: raw.idle.as_ref().map_or(defaults.idle, |at| *at.get_ref()),
            idle_every: self.duration(
                &raw.idle_every,
                "engine.idle_every",
                defaults.idle_every,
                true,
            )?,
        })
    }

    fn limits(&self, raw: &RawLimits) -> Result<LimitSettings, ConfigError> {
        let defaults = LimitSettings::default();
        let limit = |value: &Option<At<i64>>, key: &str, least: i64, default: u32| match value {
            Some(at) => self
                .number(at, key, &(least..=MAX_LIMIT))
                .map(|n| u32::try_from(n).unwrap_or(default)),
            None => Ok(default),
        };
        Ok(LimitSettings {
            verify_failures_per_tier: limit(
                &raw.verify_failures_per_tier,
                "limits.verify_failures_per_tier",
                1,
                defaults.verify_failures_per_tier,
            )?,
            review_rounds: limit(
                &raw.review_rounds,
                "limits.review_rounds",
                1,
                defaults.review_rounds,
            )?,
            plan_rounds: limit(
                &raw.plan_rounds,
                "limits.plan_rounds",
                1,
                defaults.plan_rounds,
            )?,
            merge_attempts: limit(
                &raw.merge_attempts,
                "limits.merge_attempts",
                1,
                defaults.merge_attempts,
            )?,
            lost_run_retries: limit(
                &raw.lost_run_retries,
                "limits.lost_run_retries",
                0,
                defaults.lost_run_retries,
            )?,
        })
    }

    fn risk(&self, raw: &RawRisk) -> Result<RiskSettings, ConfigError> {
        let approval_at = match &raw.approval_at {
            None => RiskSettings::default().approval_at,
            Some(at) if at.get_ref().trim().eq_ignore_ascii_case("never") => None,
            Some(at) => Some(Risk::from_name(at.get_ref()).ok_or_else(|| {
                self.error(
                    at,
                    "risk.approval_at",
                    format!(
                        "risk.approval_at = {} is not a risk level",
                        self.written(at)
                    ),
                    "use one of \"low\", \"medium\", \"high\", \"critical\" or \"never\""
                        .to_string(),
                )
            })?),
        };
        let mut paths = Vec::with_capacity(raw.paths.len());
        for (i, rule) in raw.paths.iter().enumerate() {
            let key = format!("risk.paths[{i}].glob");
            if let Err(error) = compile_glob(rule.glob.get_ref()) {
                return Err(self.error(
                    &rule.glob,
                    &key,
                    format!(
                        "{key} = {} is not a valid glob: {}",
                        self.written(&rule.glob),
                        error.kind()
                    ),
                    "write a glob over repository paths, e.g. \"migrations/**\" or \"**/*.sql\""
                        .to_string(),
                ));
            }
            paths.push(PathRiskRule {
                glob: rule.glob.get_ref().clone(),
                risk: self.risk_level(&rule.risk, &format!("risk.paths[{i}].risk"))?,
            });
        }
        let mut labels = Vec::with_capacity(raw.labels.len());
        for (i, rule) in raw.labels.iter().enumerate() {
            let key = format!("risk.labels[{i}].label");
            let label = self
                .text(&Some(rule.label.clone()), &key)?
                .unwrap_or_default();
            labels.push(LabelRiskRule {
                label: label.trim().to_string(),
                risk: self.risk_level(&rule.risk, &format!("risk.labels[{i}].risk"))?,
            });
        }
        RiskSettings::new(approval_at, paths, labels).map_err(|(i, error)| {
            let key = format!("risk.paths[{i}].glob");
            let span = raw.paths.get(i).map(|rule| rule.glob.span());
            self.source.invalid(
                span.as_ref(),
                &key,
                format!("the risk path globs could not be compiled: {error}"),
                "simplify the globs in [[risk.paths]]".to_string(),
            )
        })
    }
}

/// The largest value any `[limits]` key accepts.
const MAX_LIMIT: i64 = 100;

/// Whether `name` is a plausible local branch name (the rules of `git check-ref-format`, in
/// short).
fn is_branch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name.ends_with(".lock")
        && !name.starts_with("refs/")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name != "@"
        && !name
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::is_branch_name;

    #[test]
    fn branch_names() {
        for good in ["main", "release/1.2", "gaffer-target", "dev_x"] {
            assert!(is_branch_name(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            "a..b",
            "a b",
            "refs/heads/main",
            "x.lock",
            "a:b",
            "@",
        ] {
            assert!(!is_branch_name(bad), "{bad}");
        }
    }
}
