//! Who does what: `[agents]`, `[roles]` and `[review]`, checked together because they refer to
//! one another.
//!
//! Rules enforced here:
//! - each agent has a known backend, and what that backend needs (`model` for the API backends,
//!   `command` for `command`, `script` for `scripted`), and nothing another backend uses;
//! - every name in `[roles]` is an agent;
//! - `review.enabled = true` needs a reviewer;
//! - with cross-family review on, every coder has a reviewer of another family, and every planner
//!   a plan reviewer of another family. Cross-family review is on by default exactly when the
//!   agents named in `[roles]` come from two or more families (DESIGN §2.4).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::error::ConfigError;
use crate::file::{At, RawAgent, RawReview, RawRole, RawRoles};
use crate::resolve::Check;
use crate::settings::{AgentSettings, Backend, ReviewSettings, RoleSettings};
use crate::suggest::closest;

/// The resolved `[agents]`, `[roles]` and `[review]`.
pub(crate) struct Crew {
    pub agents: BTreeMap<String, AgentSettings>,
    pub roles: RoleSettings,
    pub review: ReviewSettings,
}

pub(crate) fn resolve(
    check: &Check<'_>,
    raw_agents: &BTreeMap<String, At<RawAgent>>,
    raw_roles: &RawRoles,
    raw_review: &RawReview,
) -> Result<Crew, ConfigError> {
    let mut agents = BTreeMap::new();
    for (name, raw) in raw_agents {
        agents.insert(name.clone(), agent(check, name, raw)?);
    }
    let role = |raw: &RawRole, key: &str| role(check, &agents, raw, key);
    let roles = RoleSettings {
        coder: role(&raw_roles.coder, "roles.coder")?,
        reviewer: role(&raw_roles.reviewer, "roles.reviewer")?,
        planner: role(&raw_roles.planner, "roles.planner")?,
        plan_reviewer: role(&raw_roles.plan_reviewer, "roles.plan_reviewer")?,
        resolver: role(&raw_roles.resolver, "roles.resolver")?,
    };
    let roles = RoleSettings {
        resolver: match raw_roles.resolver {
            Some(_) => roles.resolver,
            None => roles.coder.clone(),
        },
        ..roles
    };
    let review = review(check, &agents, &roles, raw_roles, raw_review)?;
    Ok(Crew {
        agents,
        roles,
        review,
    })
}

fn agent(check: &Check<'_>, name: &str, raw: &At<RawAgent>) -> Result<AgentSettings, ConfigError> {
    let table = format!("agents.{name}");
    let fields = raw.get_ref();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(check.error(
            raw,
            &table,
            format!("agent name `{name}` may only hold letters, digits, `-` and `_`"),
            "rename the agent, e.g. [agents.claude-sonnet]".to_string(),
        ));
    }
    let backend_names = Backend::ALL.map(Backend::as_str);
    let Some(backend_at) = &fields.backend else {
        return Err(check.error(
            raw,
            &format!("{table}.backend"),
            format!("[{table}] has no backend"),
            format!(
                "add backend = \"…\" with one of: {}",
                backend_names.join(", ")
            ),
        ));
    };
    let backend_key = format!("{table}.backend");
    let backend = Backend::from_name(backend_at.get_ref()).ok_or_else(|| {
        let hint = match closest(backend_at.get_ref(), backend_names) {
            Some(near) => format!(
                "did you mean \"{near}\"? backends: {}",
                backend_names.join(", ")
            ),
            None => format!("use one of: {}", backend_names.join(", ")),
        };
        check.error(
            backend_at,
            &backend_key,
            format!(
                "{backend_key} = {} is not a backend",
                check.written(backend_at)
            ),
            hint,
        )
    })?;

    let model = check.text(&fields.model, &format!("{table}.model"))?;
    let family = check.text(&fields.family, &format!("{table}.family"))?;
    let base_url = check.text(&fields.base_url, &format!("{table}.base_url"))?;
    let command = check.text(&fields.command, &format!("{table}.command"))?;
    let script = check.text(&fields.script, &format!("{table}.script"))?;

    if let (Some(at), Some(url)) = (&fields.base_url, &base_url)
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(check.error(
            at,
            &format!("{table}.base_url"),
            format!(
                "{table}.base_url = {} is not an http(s) URL",
                check.written(at)
            ),
            "write the full URL, e.g. base_url = \"http://127.0.0.1:11434/v1\"".to_string(),
        ));
    }

    let needs = |what: &str, example: &str| {
        check.error(
            backend_at,
            &format!("{table}.{what}"),
            format!("[{table}] uses backend \"{backend}\", which needs {what}"),
            format!("add {what} = {example} to [{table}]"),
        )
    };
    let unused = |at: &At<String>, what: &str, owner: &str| {
        check.error(
            at,
            &format!("{table}.{what}"),
            format!("{table}.{what} is only used with backend = \"{owner}\", not \"{backend}\""),
            format!("remove {what} from [{table}], or set backend = \"{owner}\""),
        )
    };
    match backend {
        Backend::Openai | Backend::Anthropic if model.is_none() => {
            return Err(needs("model", "\"<model name>\""));
        }
        Backend::Command if command.is_none() => {
            return Err(needs("command", "\"my-agent --model {model} {prompt}\""));
        }
        Backend::Scripted if script.is_none() => {
            return Err(needs("script", "\"path/to/script.json\""));
        }
        _ => {}
    }
    if let Some(at) = fields
        .command
        .as_ref()
        .filter(|_| backend != Backend::Command)
    {
        return Err(unused(at, "command", "command"));
    }
    if let Some(at) = fields
        .script
        .as_ref()
        .filter(|_| backend != Backend::Scripted)
    {
        return Err(unused(at, "script", "scripted"));
    }

    let family = family
        .or_else(|| backend.default_family().map(str::to_string))
        .unwrap_or_else(|| name.to_string());
    Ok(AgentSettings {
        backend,
        model,
        family,
        base_url,
        command,
        script: script.map(PathBuf::from),
    })
}

fn role(
    check: &Check<'_>,
    agents: &BTreeMap<String, AgentSettings>,
    raw: &RawRole,
    key: &str,
) -> Result<Vec<String>, ConfigError> {
    let Some(list) = raw else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = Vec::with_capacity(list.get_ref().len());
    for at in list.get_ref() {
        let name = at.get_ref();
        if !agents.contains_key(name) {
            let hint = match closest(name, agents.keys().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`?"),
                None if agents.is_empty() => {
                    format!("define the agent first: [agents.{name}] with a backend")
                }
                None => format!(
                    "define [agents.{name}], or use one of: {}",
                    agents.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            };
            return Err(check.error(
                at,
                key,
                format!("{key} names `{name}`, which is not an agent in [agents]"),
                hint,
            ));
        }
        if names.contains(name) {
            return Err(check.error(
                at,
                key,
                format!("{key} names `{name}` twice"),
                format!("remove the second `{name}` from {key}"),
            ));
        }
        names.push(name.clone());
    }
    Ok(names)
}

fn review(
    check: &Check<'_>,
    agents: &BTreeMap<String, AgentSettings>,
    roles: &RoleSettings,
    raw_roles: &RawRoles,
    raw: &RawReview,
) -> Result<ReviewSettings, ConfigError> {
    let enabled = match &raw.enabled {
        Some(at) if *at.get_ref() && roles.reviewer.is_empty() => {
            return Err(check.error(
                at,
                "review.enabled",
                "review.enabled = true, but roles.reviewer names no agent".to_string(),
                "add a reviewer to roles.reviewer, or set review.enabled = false".to_string(),
            ));
        }
        Some(at) => *at.get_ref(),
        None => !roles.reviewer.is_empty(),
    };
    let cross_family = match &raw.cross_family {
        Some(at) => *at.get_ref(),
        None => {
            let families: BTreeSet<&str> = [
                &roles.coder,
                &roles.reviewer,
                &roles.planner,
                &roles.plan_reviewer,
            ]
            .into_iter()
            .flatten()
            .map(|name| family_of(agents, name))
            .collect();
            families.len() >= 2
        }
    };
    if cross_family {
        let pairs = [
            (
                enabled,
                &roles.coder,
                "coder",
                &roles.reviewer,
                "reviewer",
                &raw_roles.reviewer,
            ),
            (
                true,
                &roles.planner,
                "planner",
                &roles.plan_reviewer,
                "plan_reviewer",
                &raw_roles.plan_reviewer,
            ),
        ];
        for (active, authors, author_role, reviewers, reviewer_role, reviewer_at) in pairs {
            if !active || reviewers.is_empty() {
                continue;
            }
            let Some(author) = authors.iter().find(|author| {
                reviewers
                    .iter()
                    .all(|r| family_of(agents, r) == family_of(agents, author))
            }) else {
                continue;
            };
            let key = format!("roles.{reviewer_role}");
            let message = format!(
                "review.cross_family is on, but no agent in {key} is of another family than \
                 {author_role} `{author}` (family \"{}\")",
                family_of(agents, author)
            );
            let hint = format!(
                "add a {} of another family, or set review.cross_family = false",
                reviewer_role.replace('_', " ")
            );
            return Err(match (reviewer_at, &raw.cross_family) {
                (Some(at), _) => check.error(at, &key, message, hint),
                (None, Some(at)) => check.error(at, &key, message, hint),
                (None, None) => check.source.invalid(None, &key, message, hint),
            });
        }
    }
    Ok(ReviewSettings {
        enabled,
        cross_family,
    })
}

/// The family of the agent `name` (every name in `[roles]` is an agent by now).
fn family_of<'a>(agents: &'a BTreeMap<String, AgentSettings>, name: &'a str) -> &'a str {
    agents.get(name).map_or(name, |agent| agent.family.as_str())
}
