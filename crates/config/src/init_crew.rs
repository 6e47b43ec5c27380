//! The crew `gaffer init` writes from the agents a person already has: the `claude` and
//! `codex` CLIs on `PATH`, a local OpenAI-compatible server (Ollama, LM Studio). Finding them is
//! the CLI's job; this turns what was found into `[agents]` tables and `[roles]` that run as
//! they stand, with the alternatives as comments.

/// What `gaffer init` found on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitCrew {
    /// The Claude Code CLI is on `PATH`.
    pub claude: bool,
    /// The Codex CLI is on `PATH`.
    pub codex: bool,
    /// A local OpenAI-compatible server and the model to use there.
    pub local: Option<LocalModel>,
}

/// A model served on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModel {
    /// The API's base URL, e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// A model it lists.
    pub model: String,
    /// What the server is, for the comment ("Ollama").
    pub server: String,
}

impl LocalModel {
    /// The model family, for cross-family review: the model's name without its tag or
    /// namespace (`qwen2.5-coder:32b` → `qwen2.5-coder`).
    pub fn family(&self) -> String {
        let name = self.model.rsplit('/').next().unwrap_or(&self.model);
        name.split(':').next().unwrap_or(name).to_string()
    }
}

/// One agent of the crew: its name, family, and its `[agents.<name>]` table.
struct Member {
    name: &'static str,
    family: String,
    table: String,
}

impl InitCrew {
    pub fn is_empty(&self) -> bool {
        !self.claude && !self.codex && self.local.is_none()
    }

    fn members(&self) -> Vec<Member> {
        let mut members = Vec::new();
        if self.claude {
            members.push(Member {
                name: "claude",
                family: "anthropic".into(),
                table: "[agents.claude]\nbackend = \"claude\"\n# model = \"opus\"\n".into(),
            });
        }
        if self.codex {
            members.push(Member {
                name: "codex",
                family: "openai".into(),
                table: "[agents.codex]\nbackend = \"codex\"\n".into(),
            });
        }
        if let Some(local) = &self.local {
            members.push(Member {
                name: "local",
                family: local.family(),
                table: format!(
                    "# {} on this machine (it needs no key; LOCAL_API_KEY is sent if set).\n[agents.local]\nbackend = \"openai\"\nmodel = {}\n\
                     base_url = {}\nfamily = {}\napi_key_env = \"LOCAL_API_KEY\"\n",
                    local.server,
                    quote(&local.model),
                    quote(&local.base_url),
                    quote(&local.family()),
                ),
            });
        }
        members
    }

    /// The `[agents.*]` tables, to go before `[roles]`.
    pub(crate) fn agent_tables(&self) -> String {
        let members = self.members();
        if members.is_empty() {
            return String::new();
        }
        let mut out = String::from("# The agents `gaffer init` found on this machine.\n");
        for m in &members {
            out.push_str(&m.table);
            out.push('\n');
        }
        out
    }

    /// The role assignments, to go under `[roles]`: the first agent found codes and plans
    /// (Claude, else Codex, else the local model); an agent of another family, when there is
    /// one, reviews diffs and plans.
    pub(crate) fn roles(&self) -> String {
        let members = self.members();
        let Some(lead) = members.first() else {
            return String::new();
        };
        let other = members.iter().find(|m| m.family != lead.family);
        let mut out = format!("coder = [{0}]\nplanner = [{0}]\n", quote(lead.name));
        match other {
            Some(other) => out.push_str(&format!(
                "reviewer = [{0}]\nplan_reviewer = [{0}]\n",
                quote(other.name)
            )),
            None => out.push_str(
                "# Only one model family was found: add an agent of another family to review \
                 diffs and plans, e.g.\n# reviewer = [\"codex\"]\n",
            ),
        }
        let ladder: Vec<String> = members.iter().map(|m| quote(m.name)).collect();
        if ladder.len() > 1 {
            out.push_str(&format!(
                "# Alternatives: a ladder of coders, the next one taking over after repeated \
                 verify failures:\n# coder = [{}]\n",
                ladder.join(", ")
            ));
        }
        out
    }
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn load(crew: &InitCrew) -> crate::Settings {
        let text = crate::init_template_with_crew("p", None, "main", crew);
        crate::parse_str(&text, std::path::Path::new("gaffer.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn one_family_codes_and_plans_without_a_reviewer() {
        let settings = load(&InitCrew {
            claude: true,
            ..InitCrew::default()
        });
        assert_eq!(settings.roles.coder, ["claude"]);
        assert_eq!(settings.roles.planner, ["claude"]);
        assert!(settings.roles.reviewer.is_empty());
        assert!(!settings.review.cross_family);
    }

    #[test]
    fn a_local_model_reviews_the_cli_of_another_family() {
        let settings = load(&InitCrew {
            codex: true,
            local: Some(LocalModel {
                base_url: "http://127.0.0.1:11434/v1".into(),
                model: "library/qwen2.5-coder:32b".into(),
                server: "Ollama".into(),
            }),
            ..InitCrew::default()
        });
        assert_eq!(settings.roles.coder, ["codex"]);
        assert_eq!(settings.roles.reviewer, ["local"]);
        assert_eq!(settings.agents["local"].family, "qwen2.5-coder");
        assert!(settings.review.cross_family);
    }

    #[test]
    fn nothing_found_writes_the_plain_template() {
        assert_eq!(
            crate::init_template_with_crew("p", None, "main", &InitCrew::default()),
            crate::init_template("p", None, "main")
        );
    }
}
