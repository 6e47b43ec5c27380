//! One `[agents.<name>]` table: its backend, the keys every backend reads, and the keys only
//! its backend reads (`backends.rs`).
//!
//! Rules enforced here:
//! - the name is made of letters, digits, `-` and `_`, and the backend is known;
//! - each backend has what it needs and sets no key only other backends read (both from the
//!   table in `crate::backends`: `model` for `openai` and `anthropic`, `command` for `command`,
//!   `script` for `scripted`; `command`, `script`, `api_key_env` (not `scripted`),
//!   `permission_mode` and `skip_permissions` (`claude`), `sandbox` (`codex`), `args`
//!   (`claude`, `codex`), `env` (not `scripted`), `retries` (`openai`, `anthropic`));
//! - `base_url` is an `http(s)://` URL with a host;
//! - a `command` template passes the prompt (`{prompt}` or `{prompt_file}`), uses no unknown
//!   `{name}` placeholder, and uses `{model}` only when `model` is set;
//! - `needs` holds machine labels, the rule of `[host] labels` (one word each, no commas);
//! - numbers are within their bounds, `timeout` is a positive duration, `api_key_env` and the
//!   names in `env` are environment variable names, `skip_permissions = true` does not
//!   contradict `permission_mode`.

mod backends;
mod checks;

use std::time::Duration;

use crate::agent_settings::{AgentSettings, MAX_TURNS_RANGE};
use crate::backends::Backend;
use crate::error::ConfigError;
use crate::file::{At, RawAgent};
use crate::privacy::url_host;
use crate::resolve::Check;
use crate::suggest::closest;
use checks::{Agent, Span};

/// Bounds of `agents.<name>.max_output_tokens`.
const MAX_OUTPUT_TOKENS_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
/// Bounds of `agents.<name>.max_total_tokens`.
const MAX_TOTAL_TOKENS_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000_000_000;
/// The timeout shown in the hint of a zero `timeout`.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The keys some backends read and others do not, in the order they are checked.
const OWNED_KEYS: [&str; 9] = [
    "command",
    "script",
    "api_key_env",
    "permission_mode",
    "skip_permissions",
    "sandbox",
    "args",
    "env",
    "retries",
];

pub(crate) fn resolve(
    check: &Check<'_>,
    name: &str,
    raw: &At<RawAgent>,
) -> Result<AgentSettings, ConfigError> {
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
    let (backend_at, backend) = backend_of(check, &table, raw)?;
    let agent = Agent {
        check,
        table: &table,
        backend,
    };

    let model = check.text(&fields.model, &agent.key("model"))?;
    let family = check.text(&fields.family, &agent.key("family"))?;
    let base_url = check.text(&fields.base_url, &agent.key("base_url"))?;
    let command = check.text(&fields.command, &agent.key("command"))?;
    let script = check.text(&fields.script, &agent.key("script"))?;

    if let (Some(at), Some(url)) = (&fields.base_url, &base_url)
        && url_host(url.trim()).is_none()
    {
        return Err(check.error(
            at,
            &agent.key("base_url"),
            format!(
                "{table}.base_url = {} is not an http(s) URL with a host",
                check.written(at)
            ),
            "write the full URL, e.g. base_url = \"http://127.0.0.1:11434/v1\"".to_string(),
        ));
    }

    for (what, example) in backend.info().needs {
        let given = match *what {
            "model" => model.is_some(),
            "command" => command.is_some(),
            "script" => script.is_some(),
            _ => true,
        };
        if !given {
            return Err(check.error(
                backend_at,
                &agent.key(what),
                format!("[{table}] uses backend \"{backend}\", which needs {what}"),
                format!("add {what} = {example} to [{table}]"),
            ));
        }
    }
    for key in OWNED_KEYS {
        agent.only_for(span_of(fields, key), key)?;
    }

    let texts = backends::Texts {
        model: model.as_deref(),
        command,
        script,
    };
    let backend_settings = backends::resolve(&agent, fields, texts)?;
    let max_turns = agent
        .number(&fields.max_turns, "max_turns", &MAX_TURNS_RANGE)?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let max_output_tokens = agent
        .number(
            &fields.max_output_tokens,
            "max_output_tokens",
            &MAX_OUTPUT_TOKENS_RANGE,
        )?
        .map(|n| u64::try_from(n).unwrap_or(0));
    let max_total_tokens = agent
        .number(
            &fields.max_total_tokens,
            "max_total_tokens",
            &MAX_TOTAL_TOKENS_RANGE,
        )?
        .map(|n| u64::try_from(n).unwrap_or(0));
    let needs = agent.needs(&fields.needs)?;
    let timeout = match &fields.timeout {
        Some(_) => Some(check.duration(
            &fields.timeout,
            &agent.key("timeout"),
            EXAMPLE_TIMEOUT,
            false,
        )?),
        None => None,
    };

    let family = family
        .or_else(|| backend.default_family().map(str::to_string))
        .unwrap_or_else(|| name.to_string());
    Ok(AgentSettings {
        backend: backend_settings,
        model,
        family,
        base_url: base_url.map(|url| url.trim().to_string()),
        max_turns,
        max_output_tokens,
        max_total_tokens,
        timeout,
        needs,
    })
}

/// The agent's `backend`: where it is written, and which it is.
fn backend_of<'a>(
    check: &Check<'_>,
    table: &str,
    raw: &'a At<RawAgent>,
) -> Result<(&'a At<String>, Backend), ConfigError> {
    let backend_names = Backend::ALL.map(Backend::as_str);
    let Some(backend_at) = &raw.get_ref().backend else {
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
    Ok((backend_at, backend))
}

/// Where `key`, one of [`OWNED_KEYS`], is written in the table; `None` when it is not set.
fn span_of(fields: &RawAgent, key: &str) -> Option<Span> {
    match key {
        "command" => fields.command.as_ref().map(At::span),
        "script" => fields.script.as_ref().map(At::span),
        "api_key_env" => fields.api_key_env.as_ref().map(At::span),
        "permission_mode" => fields.permission_mode.as_ref().map(At::span),
        "skip_permissions" => fields.skip_permissions.as_ref().map(At::span),
        "sandbox" => fields.sandbox.as_ref().map(At::span),
        "args" => fields.args.as_ref().map(At::span),
        "env" => fields.env.as_ref().map(At::span),
        "retries" => fields.retries.as_ref().map(At::span),
        _ => None,
    }
}
