//! One `[agents.<name>]` table: its backend, what that backend needs, and the keys only some
//! backends use.
//!
//! Rules enforced here:
//! - the name is made of letters, digits, `-` and `_`, and the backend is known;
//! - each backend has what it needs (`model` for `openai` and `anthropic`, `command` for
//!   `command`, `script` for `scripted`) and nothing only other backends use: `command`,
//!   `script`, `api_key_env` (not `scripted`), `permission_mode` and
//!   `skip_permissions` (`claude`), `sandbox` (`codex`), `args` (`claude`, `codex`), `env` (not
//!   `scripted`), `retries` (`openai`, `anthropic`);
//! - `base_url` is an `http(s)://` URL with a host;
//! - a `command` template passes the prompt (`{prompt}` or `{prompt_file}`), uses no unknown
//!   `{name}` placeholder, and uses `{model}` only when `model` is set;
//! - numbers are within their bounds, `timeout` is a positive duration, `api_key_env` and the
//!   names in `env` are environment variable names, `skip_permissions = true` does not
//!   contradict `permission_mode`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::ConfigError;
use crate::file::{At, RawAgent};
use crate::privacy::url_host;
use crate::resolve::Check;
use crate::settings::{
    AgentSettings, Backend, COMMAND_PLACEHOLDERS, CodexSandbox, DEFAULT_RETRIES, MAX_TURNS_RANGE,
    PermissionMode, RETRIES_RANGE,
};
use crate::suggest::closest;

/// Bounds of `agents.<name>.max_output_tokens`.
const MAX_OUTPUT_TOKENS_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000_000;
/// Bounds of `agents.<name>.max_total_tokens`.
const MAX_TOTAL_TOKENS_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000_000_000;
/// The timeout shown in the hint of a zero `timeout`.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

use Backend::{Anthropic, Claude, Codex, Command, Openai, Scripted};

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

    let needs = |what: &str, example: &str| {
        check.error(
            backend_at,
            &agent.key(what),
            format!("[{table}] uses backend \"{backend}\", which needs {what}"),
            format!("add {what} = {example} to [{table}]"),
        )
    };
    match backend {
        Openai | Anthropic if model.is_none() => {
            return Err(needs("model", "\"<model name>\""));
        }
        Command if command.is_none() => {
            return Err(needs("command", "\"my-agent --model {model} {prompt}\""));
        }
        Scripted if script.is_none() => {
            return Err(needs("script", "\"path/to/script.json\""));
        }
        _ => {}
    }

    agent.only_for(&fields.command, "command", &[Command])?;
    agent.only_for(&fields.script, "script", &[Scripted])?;
    agent.only_for(
        &fields.api_key_env,
        "api_key_env",
        &[Claude, Codex, Openai, Anthropic, Command],
    )?;
    agent.only_for(&fields.permission_mode, "permission_mode", &[Claude])?;
    agent.only_for(&fields.skip_permissions, "skip_permissions", &[Claude])?;
    agent.only_for(&fields.sandbox, "sandbox", &[Codex])?;
    agent.only_for(&fields.args, "args", &[Claude, Codex])?;
    agent.only_for(
        &fields.env,
        "env",
        &[Claude, Codex, Openai, Anthropic, Command],
    )?;
    agent.only_for(&fields.retries, "retries", &[Openai, Anthropic])?;

    if let (Some(at), Some(template)) = (&fields.command, &command) {
        agent.command_template(at, template, model.is_some())?;
    }

    let api_key_env = match (
        &fields.api_key_env,
        check.text(&fields.api_key_env, &agent.key("api_key_env"))?,
    ) {
        (Some(at), Some(var)) => {
            agent.env_name(at, &var, "api_key_env")?;
            Some(var.trim().to_string())
        }
        _ => backend.default_api_key_env().map(str::to_string),
    };
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
    let timeout = match &fields.timeout {
        Some(_) => Some(check.duration(
            &fields.timeout,
            &agent.key("timeout"),
            EXAMPLE_TIMEOUT,
            false,
        )?),
        None => None,
    };
    let permission_mode = match &fields.permission_mode {
        Some(at) => Some(agent.choice(
            at,
            "permission_mode",
            PermissionMode::ALL.map(PermissionMode::as_str),
            PermissionMode::from_name,
        )?),
        None => None,
    };
    let skip_permissions = fields
        .skip_permissions
        .as_ref()
        .is_some_and(|at| *at.get_ref());
    if let (Some(at), Some(mode)) = (&fields.skip_permissions, permission_mode)
        && skip_permissions
        && mode != PermissionMode::BypassPermissions
    {
        return Err(check.error(
            at,
            &agent.key("skip_permissions"),
            format!(
                "{table}.skip_permissions = true skips every permission prompt, which \
                 contradicts permission_mode = \"{mode}\""
            ),
            "remove one of skip_permissions and permission_mode".to_string(),
        ));
    }
    let sandbox = match &fields.sandbox {
        Some(at) => Some(agent.choice(
            at,
            "sandbox",
            CodexSandbox::ALL.map(CodexSandbox::as_str),
            CodexSandbox::from_name,
        )?),
        None => None,
    };
    let args = fields
        .args
        .as_ref()
        .map(|list| {
            list.get_ref()
                .iter()
                .map(|at| at.get_ref().clone())
                .collect()
        })
        .unwrap_or_default();
    let mut env = BTreeMap::new();
    if let Some(table_at) = &fields.env {
        for (var, value) in table_at.get_ref() {
            agent.env_name(var, var.get_ref(), "env")?;
            env.insert(var.get_ref().clone(), value.get_ref().clone());
        }
    }
    let retries = match agent.number(&fields.retries, "retries", &RETRIES_RANGE)? {
        Some(n) => Some(u32::try_from(n).unwrap_or(DEFAULT_RETRIES)),
        None if backend.is_http() => Some(DEFAULT_RETRIES),
        None => None,
    };

    let family = family
        .or_else(|| backend.default_family().map(str::to_string))
        .unwrap_or_else(|| name.to_string());
    Ok(AgentSettings {
        backend,
        model,
        family,
        base_url: base_url.map(|url| url.trim().to_string()),
        command,
        script: script.map(PathBuf::from),
        api_key_env,
        max_turns,
        max_output_tokens,
        max_total_tokens,
        timeout,
        permission_mode,
        skip_permissions,
        sandbox,
        args,
        env,
        retries,
    })
}

/// The checks of one agent's table.
struct Agent<'a> {
    check: &'a Check<'a>,
    table: &'a str,
    backend: Backend,
}

impl Agent<'_> {
    /// `agents.<name>.<what>`.
    fn key(&self, what: &str) -> String {
        format!("{}.{what}", self.table)
    }

    /// An error when `value` is set but this agent's backend is not one of `owners`.
    fn only_for<T>(
        &self,
        value: &Option<At<T>>,
        what: &str,
        owners: &[Backend],
    ) -> Result<(), ConfigError> {
        let Some(at) = value else { return Ok(()) };
        if owners.contains(&self.backend) {
            return Ok(());
        }
        let (table, backend) = (self.table, self.backend);
        let quoted: Vec<String> = owners.iter().map(|b| format!("\"{b}\"")).collect();
        let (message, hint) = match quoted.as_slice() {
            [owner] => (
                format!("{table}.{what} is only used with backend = {owner}, not \"{backend}\""),
                format!("remove {what} from [{table}], or set backend = {owner}"),
            ),
            [first @ .., last] => (
                format!(
                    "{table}.{what} is only used with backends {} and {last}, not \"{backend}\"",
                    first.join(", ")
                ),
                format!("remove {what} from [{table}]"),
            ),
            [] => (
                format!("{table}.{what} is not used with backend \"{backend}\""),
                format!("remove {what} from [{table}]"),
            ),
        };
        Err(self.check.error(at, &self.key(what), message, hint))
    }

    /// An optional whole number within `range`.
    fn number(
        &self,
        value: &Option<At<i64>>,
        what: &str,
        range: &std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ConfigError> {
        value
            .as_ref()
            .map(|at| self.check.number(at, &self.key(what), range))
            .transpose()
    }

    /// One of `names`, read by `parse`.
    fn choice<T, const N: usize>(
        &self,
        at: &At<String>,
        what: &str,
        names: [&str; N],
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        parse(at.get_ref()).ok_or_else(|| {
            let key = self.key(what);
            let list = names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = match closest(at.get_ref(), names) {
                Some(near) => format!("did you mean \"{near}\"? use one of: {list}"),
                None => format!("use one of: {list}"),
            };
            self.check.error(
                at,
                &key,
                format!("{key} = {} is not one of {list}", self.check.written(at)),
                hint,
            )
        })
    }

    /// An error unless `name` (written at `at`) is an environment variable name.
    fn env_name<T>(&self, at: &At<T>, name: &str, what: &str) -> Result<(), ConfigError> {
        let name = name.trim();
        let mut bytes = name.bytes();
        let valid = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            return Ok(());
        }
        let key = self.key(what);
        Err(self.check.error(
            at,
            &key,
            format!("{key}: `{name}` is not an environment variable name"),
            "use letters, digits and `_`, not starting with a digit, e.g. MY_API_KEY".to_string(),
        ))
    }

    /// The checks of a `command` template (see the module documentation).
    fn command_template(
        &self,
        at: &At<String>,
        template: &str,
        has_model: bool,
    ) -> Result<(), ConfigError> {
        let key = self.key("command");
        let table = self.table;
        let known = COMMAND_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ");
        let used = placeholders(template);
        if let Some(unknown) = used.iter().find(|p| !COMMAND_PLACEHOLDERS.contains(p)) {
            let hint = match closest(unknown, COMMAND_PLACEHOLDERS) {
                Some(near) => format!("did you mean {{{near}}}? placeholders: {known}"),
                None => format!(
                    "use only the placeholders {known}; for other braces the shell needs, \
                     run a wrapper script"
                ),
            };
            return Err(self.check.error(
                at,
                &key,
                format!("{key} uses {{{unknown}}}, which is not a placeholder"),
                hint,
            ));
        }
        if !used.iter().any(|p| *p == "prompt" || *p == "prompt_file") {
            return Err(self.check.error(
                at,
                &key,
                format!(
                    "{key} never passes the prompt: it uses neither {{prompt}} nor {{prompt_file}}"
                ),
                "add {prompt} (the prompt, as one argument) or {prompt_file} (a file holding it), \
                 e.g. command = \"my-agent --message {prompt}\""
                    .to_string(),
            ));
        }
        if !has_model && used.contains(&"model") {
            return Err(self.check.error(
                at,
                &key,
                format!("{key} uses {{model}}, but [{table}] sets no model"),
                format!("add model = \"…\" to [{table}], or remove {{model}} from the command"),
            ));
        }
        Ok(())
    }
}

/// The `{name}` placeholders written in a command template, in order. A name is letters, digits,
/// `_` and `-`, starting with a letter or `_`; `${name}` is a shell variable, not a placeholder,
/// and braces around anything else (`{print $1}`) are left to the shell.
pub(crate) fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for (open, _) in template.match_indices('{') {
        if template[..open].ends_with('$') {
            continue;
        }
        let rest = &template[open + 1..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let name = &rest[..len];
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if starts_well && rest[len..].starts_with('}') {
            found.push(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_in_templates() {
        assert_eq!(
            placeholders("aider --model {model} --message {prompt} --dir={dir}"),
            ["model", "prompt", "dir"]
        );
        assert_eq!(placeholders("x < {prompt_file}"), ["prompt_file"]);
        assert_eq!(placeholders("echo ${HOME} {modle}"), ["modle"]);
        assert_eq!(
            placeholders("awk '{print $1}' {} {{prompt}} {9x}"),
            ["prompt"]
        );
        assert!(placeholders("plain").is_empty());
        assert_eq!(placeholders("{a-b}{_c}"), ["a-b", "_c"]);
    }
}
