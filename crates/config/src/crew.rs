//! Who does what: `[agents]`, `[roles]` and `[review]`, checked together because they refer to
//! one another.
//!
//! Rules enforced here:
//! - each agent is valid on its own (see [`crate::agent`]);
//! - every name in `[roles]` is an agent;
//! - `review.enabled = true` needs a reviewer;
//! - `[[review.paths]]` globs compile and their checklists say something; `[[review.extra]]`
//!   names agents and a focus;
//! - with cross-family review on, every coder has a reviewer of another family, and every planner
//!   a plan reviewer of another family. Cross-family review is on by default exactly when the
//!   agents named in `[roles]` come from two or more families (DESIGN §2.4).

use std::collections::{BTreeMap, BTreeSet};

use crate::agent;
use crate::agent_settings::AgentSettings;
use crate::error::ConfigError;
use crate::file::{At, RawAgent, RawReview, RawReviewPath, RawRole, RawRoles};
use crate::resolve::Check;
use crate::risk::compile_glob;
use crate::settings::{ExtraReviewer, ReviewPathRule, ReviewSettings, RoleSettings};
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
        agents.insert(name.clone(), agent::resolve(check, name, raw)?);
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
        checklist: checklist(check, &raw.checklist, "review.checklist")?,
        paths: review_paths(check, &raw.paths)?,
        extra: extra_reviewers(check, agents, raw, enabled)?,
    })
}

/// A list of checks: none blank.
fn checklist(
    check: &Check<'_>,
    raw: &Option<At<Vec<At<String>>>>,
    key: &str,
) -> Result<Vec<String>, ConfigError> {
    let Some(list) = raw else {
        return Ok(Vec::new());
    };
    let mut items = Vec::with_capacity(list.get_ref().len());
    for at in list.get_ref() {
        let item = at.get_ref().trim();
        if item.is_empty() {
            return Err(check.error(
                at,
                key,
                format!("{key} has an empty item"),
                "write what the reviewer should check, e.g. \"every public function has a test\""
                    .to_string(),
            ));
        }
        items.push(item.to_string());
    }
    Ok(items)
}

/// `[[review.paths]]`: each glob compiles, each checklist says something.
fn review_paths(
    check: &Check<'_>,
    raw: &[RawReviewPath],
) -> Result<Vec<ReviewPathRule>, ConfigError> {
    let mut rules = Vec::with_capacity(raw.len());
    for (i, rule) in raw.iter().enumerate() {
        let key = format!("review.paths[{i}].glob");
        if let Err(error) = compile_glob(rule.glob.get_ref()) {
            return Err(check.error(
                &rule.glob,
                &key,
                format!(
                    "{key} = {} is not a valid glob: {}",
                    check.written(&rule.glob),
                    error.kind()
                ),
                "write a glob over repository paths, e.g. \"migrations/**\" or \"**/*.sql\""
                    .to_string(),
            ));
        }
        let key = format!("review.paths[{i}].checklist");
        let items = checklist(check, &Some(rule.checklist.clone()), &key)?;
        if items.is_empty() {
            return Err(check.error(
                &rule.checklist,
                &key,
                format!("{key} is empty"),
                "list what the reviewer should check when a change touches these paths".to_string(),
            ));
        }
        rules.push(ReviewPathRule {
            glob: rule.glob.get_ref().trim().to_string(),
            checklist: items,
        });
    }
    Ok(rules)
}

/// `[[review.extra]]`: each names an agent and a focus; extra reviewers need review on.
fn extra_reviewers(
    check: &Check<'_>,
    agents: &BTreeMap<String, AgentSettings>,
    raw: &RawReview,
    enabled: bool,
) -> Result<Vec<ExtraReviewer>, ConfigError> {
    let mut extra = Vec::with_capacity(raw.extra.len());
    if let (false, Some(first)) = (enabled, raw.extra.first()) {
        return Err(check.error(
            &first.agent,
            "review.extra[0].agent",
            "[[review.extra]] names extra reviewers, but review is off (no roles.reviewer, or \
             review.enabled = false)"
                .to_string(),
            "extra reviewers run after the main reviewer approves: name one in roles.reviewer"
                .to_string(),
        ));
    }
    for (i, rule) in raw.extra.iter().enumerate() {
        let key = format!("review.extra[{i}].agent");
        let name = rule.agent.get_ref().trim();
        if !agents.contains_key(name) {
            let hint = match closest(name, agents.keys().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("define [agents.{name}] with a backend first"),
            };
            return Err(check.error(
                &rule.agent,
                &key,
                format!("{key} names `{name}`, which is not an agent in [agents]"),
                hint,
            ));
        }
        let key = format!("review.extra[{i}].focus");
        let focus = rule.focus.get_ref().trim();
        if focus.is_empty() {
            return Err(check.error(
                &rule.focus,
                &key,
                format!("{key} is empty"),
                "say what this reviewer looks at, e.g. focus = \"security\"".to_string(),
            ));
        }
        extra.push(ExtraReviewer {
            agent: name.to_string(),
            focus: focus.to_string(),
        });
    }
    Ok(extra)
}

/// The family of the agent `name` (every name in `[roles]` is an agent by now).
fn family_of<'a>(agents: &'a BTreeMap<String, AgentSettings>, name: &'a str) -> &'a str {
    agents.get(name).map_or(name, |agent| agent.family.as_str())
}
