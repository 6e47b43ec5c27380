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
