//! The checks of one agent's table shared by every backend's keys: ownership of a key, numbers,
//! choices, environment variable names, command templates.

use std::ops::Range;

use crate::agent_settings::COMMAND_PLACEHOLDERS;
use crate::backends::Backend;
use crate::error::ConfigError;
use crate::file::At;
use crate::resolve::Check;
use crate::suggest::closest;

/// Where a value was written in the file.
pub(super) type Span = Range<usize>;

/// The checks of one agent's table.
pub(super) struct Agent<'a> {
    pub check: &'a Check<'a>,
    pub table: &'a str,
    pub backend: Backend,
}

impl Agent<'_> {
    /// `agents.<name>.<what>`.
    pub(super) fn key(&self, what: &str) -> String {
        format!("{}.{what}", self.table)
    }

    /// An error when `key` is set (at `span`) but this agent's backend does not read it.
    pub(super) fn only_for(&self, span: Option<Span>, what: &str) -> Result<(), ConfigError> {
        let Some(span) = span else { return Ok(()) };
        let owners = Backend::reading(what);
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
        Err(self
            .check
            .source
            .invalid(Some(&span), &self.key(what), message, hint))
    }

    /// An optional whole number within `range`.
    pub(super) fn number(
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
    pub(super) fn choice<T, const N: usize>(
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
    pub(super) fn env_name<T>(
        &self,
        at: &At<T>,
        name: &str,
        what: &str,
    ) -> Result<(), ConfigError> {
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

    /// `needs`: machine labels, each pointed at when it is not one (the rule of `[host] labels`).
    pub(super) fn needs(
        &self,
        value: &Option<At<Vec<At<String>>>>,
    ) -> Result<Vec<String>, ConfigError> {
        let Some(list) = value else {
            return Ok(Vec::new());
        };
        crate::labels::labels(list.get_ref().iter().map(|at| at.get_ref().as_str())).map_err(
            |(index, label)| {
                let key = self.key("needs");
                let bad = list.get_ref().get(index).map_or(list.span(), At::span);
                self.check.source.invalid(
                    Some(&bad),
                    &key,
                    format!("{key}: `{label}` is not a machine label"),
                    format!(
                        "write labels of {}, e.g. needs = [\"gpu\"]",
                        crate::labels::LABEL_FORM
                    ),
                )
            },
        )
    }

    /// The checks of a `command` template (see the module documentation).
    pub(super) fn command_template(
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
