//! Every check, with the line and key its error points at. The full messages are pinned in one
//! snapshot, `snapshots/it__errors__messages.snap`, so their wording can be reviewed in one place.

use gaffer_config::ConfigError;

use crate::parse_err;

const AGENTS: &str = "\
[agents.claude]
backend = \"claude\"
[agents.opus]
backend = \"claude\"
model = \"opus\"
[agents.codex]
backend = \"codex\"
";

/// `(name, file, line, key)`: the file must be rejected with an error at `line` about `key`.
fn cases() -> Vec<(&'static str, String, usize, &'static str)> {
    let with_agents = |rest: &str| format!("{AGENTS}{rest}");
    vec![
        (
            "syntax",
            "[verify]\ncommand = cargo test\n".into(),
            2,
            "",
        ),
        (
            "duplicate table",
            "[engine]\nconcurrency = 3\n\n[engine]\nlease = 3\n".into(),
            4,
            "",
        ),
        (
            "list of tables instead of a table",
            "[[agents]]\nbackend = \"claude\"\n".into(),
            1,
            "agents",
        ),
        (
            "unknown key",
            "[project]\nname = \"x\"\n\n[engine]\nconcurency = 8\n".into(),
            5,
            "engine.concurency",
        ),
        (
            "unknown section",
            "[verfy]\ncommand = \"make\"\n".into(),
            1,
            "verfy",
        ),
        (
            "unknown agent key",
            "[agents.claude]\nbackend = \"claude\"\nmodle = \"opus\"\n".into(),
            3,
            "agents.claude.modle",
        ),
        (
            "wrong type",
            "[engine]\nconcurrency = \"four\"\n".into(),
            2,
            "engine.concurrency",
        ),
        (
            "concurrency out of range",
            "[engine]\nconcurrency = 100\n".into(),
            2,
            "engine.concurrency",
        ),
        (
            "heartbeat not shorter than lease",
            "# gaffer\n\n[project]\nname = \"x\"\n\n[engine]\nheartbeat = \"40s\"\nlease = \"30s\"\n"
                .into(),
            7,
            "engine.heartbeat",
        ),
        (
            "lease shorter than the default heartbeat",
            "[engine]\nlease = \"5s\"\n".into(),
            2,
            "engine.lease",
        ),
        (
            "bad duration",
            "[verify]\ntimeout = \"20 minutes\"\n".into(),
            2,
            "verify.timeout",
        ),
        (
            "zero duration",
            "[engine]\nlease = 0\n".into(),
            2,
            "engine.lease",
        ),
        (
            "empty verify command",
            "[verify]\ncommand = \"  \"\n".into(),
            2,
            "verify.command",
        ),
        (
            "bad target",
            "[project]\ntarget = \"refs/heads/main\"\n".into(),
            2,
            "project.target",
        ),
        (
            "limit out of range",
            "[limits]\nmerge_attempts = 0\n".into(),
            2,
            "limits.merge_attempts",
        ),
        (
            "unknown backend",
            "[agents.claude]\nbackend = \"claud\"\n".into(),
            2,
            "agents.claude.backend",
        ),
        (
            "missing backend",
            "[agents.claude]\nmodel = \"sonnet\"\n".into(),
            1,
            "agents.claude.backend",
        ),
        (
            "scripted without script",
            "[agents.demo]\nbackend = \"scripted\"\n".into(),
            2,
            "agents.demo.script",
        ),
        (
            "command without command",
            "[agents.aider]\nbackend = \"command\"\n".into(),
            2,
            "agents.aider.command",
        ),
        (
            "api backend without model",
            "[agents.local]\nbackend = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n"
                .into(),
            2,
            "agents.local.model",
        ),
        (
            "command on another backend",
            "[agents.claude]\nbackend = \"claude\"\ncommand = \"claude -p {prompt}\"\n".into(),
            3,
            "agents.claude.command",
        ),
        (
            "bad base url",
            "[agents.local]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"localhost:11434\"\n"
                .into(),
            4,
            "agents.local.base_url",
        ),
        (
            "bad agent name",
            "[agents.\"my agent\"]\nbackend = \"claude\"\n".into(),
            1,
            "agents.my agent",
        ),
        (
            "role names an unknown agent",
            with_agents("[roles]\ncoder = [\n  \"claude\",\n  \"opsu\",\n]\n"),
            11,
            "roles.coder",
        ),
        (
            "role names an agent twice",
            with_agents("[roles]\nreviewer = [\"codex\", \"codex\"]\n"),
            9,
            "roles.reviewer",
        ),
        (
            "review enabled without a reviewer",
            with_agents("[roles]\ncoder = [\"claude\"]\n[review]\nenabled = true\n"),
            11,
            "review.enabled",
        ),
        (
            "no reviewer of another family",
            with_agents("[roles]\ncoder = [\"claude\", \"codex\"]\nreviewer = [\"codex\"]\n"),
            10,
            "roles.reviewer",
        ),
        (
            "cross family forced on with one family",
            with_agents(
                "[roles]\ncoder = [\"claude\"]\nreviewer = [\"opus\"]\n[review]\ncross_family = true\n",
            ),
            10,
            "roles.reviewer",
        ),
        (
            "no plan reviewer of another family",
            with_agents(
                "[roles]\ncoder = [\"claude\"]\nreviewer = [\"codex\"]\nplanner = [\"opus\"]\nplan_reviewer = [\"claude\"]\n",
            ),
            12,
            "roles.plan_reviewer",
        ),
        (
            "bad approval level",
            "[risk]\napproval_at = \"always\"\n".into(),
            2,
            "risk.approval_at",
        ),
        (
            "bad glob",
            "[risk]\n[[risk.paths]]\nglob = \"src/[abc\"\nrisk = \"high\"\n".into(),
            3,
            "risk.paths[0].glob",
        ),
        (
            "bad risk level",
            "[[risk.paths]]\nglob = \"a/**\"\nrisk = \"high\"\n[[risk.paths]]\nglob = \"b/**\"\nrisk = \"severe\"\n"
                .into(),
            6,
            "risk.paths[1].risk",
        ),
        (
            "rule missing its risk",
            "[[risk.labels]]\nlabel = \"security\"\n".into(),
            1,
            "risk.labels[0]",
        ),
        (
            "port out of range",
            "[server]\nport = 70000\n".into(),
            2,
            "server.port",
        ),
        (
            "host that is not an address",
            "[server]\nhost = \"my-laptop.local\"\n".into(),
            2,
            "server.host",
        ),
        (
            "token variable that is not a name",
            "[server]\ntoken_env = \"$GAFFER_TOKEN\"\n".into(),
            2,
            "server.token_env",
        ),
        (
            "base url without a host",
            "[agents.local]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"http:///v1\"\n"
                .into(),
            4,
            "agents.local.base_url",
        ),
        (
            "max turns out of range",
            "[agents.claude]\nbackend = \"claude\"\nmax_turns = 1001\n".into(),
            3,
            "agents.claude.max_turns",
        ),
        (
            "zero max output tokens",
            "[agents.claude]\nbackend = \"claude\"\nmax_output_tokens = 0\n".into(),
            3,
            "agents.claude.max_output_tokens",
        ),
        (
            "negative max total tokens",
            "[agents.claude]\nbackend = \"claude\"\nmax_total_tokens = -5\n".into(),
            3,
            "agents.claude.max_total_tokens",
        ),
        (
            "zero agent timeout",
            "[agents.claude]\nbackend = \"claude\"\ntimeout = \"0s\"\n".into(),
            3,
            "agents.claude.timeout",
        ),
        (
            "bad agent timeout",
            "[agents.claude]\nbackend = \"claude\"\ntimeout = \"half an hour\"\n".into(),
            3,
            "agents.claude.timeout",
        ),
        (
            "bad permission mode",
            "[agents.claude]\nbackend = \"claude\"\npermission_mode = \"acceptedits\"\n".into(),
            3,
            "agents.claude.permission_mode",
        ),
        (
            "permission mode on another backend",
            "[agents.codex]\nbackend = \"codex\"\npermission_mode = \"plan\"\n".into(),
            3,
            "agents.codex.permission_mode",
        ),
        (
            "skip permissions on another backend",
            "[agents.local]\nbackend = \"openai\"\nmodel = \"m\"\nskip_permissions = true\n"
                .into(),
            4,
            "agents.local.skip_permissions",
        ),
        (
            "skip permissions contradicting the permission mode",
            "[agents.claude]\nbackend = \"claude\"\npermission_mode = \"plan\"\nskip_permissions = true\n"
                .into(),
            4,
            "agents.claude.skip_permissions",
        ),
        (
            "bad sandbox",
            "[agents.codex]\nbackend = \"codex\"\nsandbox = \"workspace_write\"\n".into(),
            3,
            "agents.codex.sandbox",
        ),
        (
            "sandbox on another backend",
            "[agents.claude]\nbackend = \"claude\"\nsandbox = \"read-only\"\n".into(),
            3,
            "agents.claude.sandbox",
        ),
        (
            "args on a backend without a CLI",
            "[agents.local]\nbackend = \"anthropic\"\nmodel = \"m\"\nargs = [\"--x\"]\n".into(),
            4,
            "agents.local.args",
        ),
        (
            "args that are not text",
            "[agents.claude]\nbackend = \"claude\"\nargs = [\"--max\", 3]\n".into(),
            3,
            "agents.claude.args[1]",
        ),
        (
            "env on a scripted agent",
            "[agents.demo]\nbackend = \"scripted\"\nscript = \"s.json\"\nenv = { A = \"1\" }\n"
                .into(),
            4,
            "agents.demo.env",
        ),
        (
            "env with a bad variable name",
            "[agents.claude]\nbackend = \"claude\"\n[agents.claude.env]\nOK = \"1\"\n\"2BAD\" = \"x\"\n"
                .into(),
            5,
            "agents.claude.env",
        ),
        (
            "env value that is not text",
            "[agents.claude]\nbackend = \"claude\"\nenv = { DEBUG = 1 }\n".into(),
            3,
            "agents.claude.env.DEBUG",
        ),
        (
            "api key variable on a scripted agent",
            "[agents.s]\nbackend = \"scripted\"\nscript = \"s.toml\"\napi_key_env = \"KEY\"\n"
                .into(),
            4,
            "agents.s.api_key_env",
        ),
        (
            "api key variable that is not a variable name",
            "[agents.claude]\nbackend = \"claude\"\napi_key_env = \"sk-ant-123\"\n".into(),
            3,
            "agents.claude.api_key_env",
        ),
        (
            "retries on a CLI backend",
            "[agents.claude]\nbackend = \"claude\"\nretries = 2\n".into(),
            3,
            "agents.claude.retries",
        ),
        (
            "retries out of range",
            "[agents.local]\nbackend = \"openai\"\nmodel = \"m\"\nretries = 21\n".into(),
            4,
            "agents.local.retries",
        ),
        (
            "unknown placeholder in a command",
            "[agents.aider]\nbackend = \"command\"\nmodel = \"m\"\ncommand = \"aider --model {modle} {prompt}\"\n"
                .into(),
            4,
            "agents.aider.command",
        ),
        (
            "unknown placeholder unlike any",
            "[agents.aider]\nbackend = \"command\"\ncommand = \"aider {prompt} --since {yesterday}\"\n"
                .into(),
            3,
            "agents.aider.command",
        ),
        (
            "command without the prompt",
            "[agents.aider]\nbackend = \"command\"\ncommand = \"aider --yes --dir {dir}\"\n".into(),
            3,
            "agents.aider.command",
        ),
        (
            "command using the model without one",
            "[agents.aider]\nbackend = \"command\"\ncommand = \"aider --model {model} {prompt}\"\n"
                .into(),
            3,
            "agents.aider.command",
        ),
        (
            "bad privacy mode",
            "[privacy]\nmode = \"offline\"\n".into(),
            2,
            "privacy.mode",
        ),
        (
            "bad sandbox mode",
            "[sandbox]\nmode = \"docker\"\n".into(),
            2,
            "sandbox.mode",
        ),
        (
            "relative sandbox path",
            "[sandbox]\nread = [\"/ok\", \"relative/dir\"]\n".into(),
            2,
            "sandbox.read",
        ),
        (
            "bad scope mode",
            "[scope]\nenforce = \"strict\"\n".into(),
            2,
            "scope.enforce",
        ),
        (
            "agents off this machine in local mode",
            "[privacy]\nmode = \"local\"\n\n[agents.claude]\nbackend = \"claude\"\n\
             [agents.remote]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"https://8.8.8.8/v1\"\n\
             [agents.named]\nbackend = \"anthropic\"\nmodel = \"m\"\nbase_url = \"http://gpu-box:8080\"\n\
             [agents.local]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n"
                .into(),
            2,
            "privacy.mode",
        ),
        (
            "negative price",
            "[prices.\"gpt-4o\"]\ninput = -2.5\noutput = 10\n".into(),
            2,
            "prices.gpt-4o.input",
        ),
        (
            "infinite price",
            "[prices.m]\ninput = 1\noutput = 2\ncached_input = inf\n".into(),
            4,
            "prices.m.cached_input",
        ),
        (
            "price missing its output",
            "[prices.m]\ninput = 1\n".into(),
            1,
            "prices.m",
        ),
        (
            "price that is not a number",
            "[prices.m]\ninput = \"$3\"\noutput = 15\n".into(),
            2,
            "prices.m.input",
        ),
        (
            "unknown price key",
            "[prices.m]\ninput = 1\noutput = 2\ncache_read = 0.1\n".into(),
            4,
            "prices.m.cache_read",
        ),
    ]
}

#[test]
fn each_error_points_at_its_line_and_key() {
    for (name, text, line, key) in cases() {
        let error = parse_err(&text);
        assert_eq!(error.line(), Some(line), "{name}: {error}");
        if key.is_empty() {
            assert!(
                matches!(error, ConfigError::Syntax { .. }),
                "{name}: {error:?}"
            );
        } else {
            assert_eq!(error.key(), Some(key), "{name}: {error}");
        }
        assert!(error.to_string().contains("\n  hint: "), "{name}: {error}");
    }
}

#[test]
fn messages() {
    let rendered: Vec<String> = cases()
        .into_iter()
        .map(|(name, text, _, _)| format!("## {name}\n{}", parse_err(&text)))
        .collect();
    insta::assert_snapshot!(rendered.join("\n\n"));
}

#[test]
fn the_documented_example_message() {
    let error = parse_err(
        "# gaffer\n\n[project]\nname = \"x\"\n\n[engine]\nheartbeat = \"40s\"\nlease = \"30s\"\n",
    );
    assert_eq!(
        error.to_string(),
        "gaffer.toml:7: engine.heartbeat = \"40s\" must be shorter than engine.lease (30s)\n  \
         hint: lower engine.heartbeat or raise engine.lease"
    );
}
