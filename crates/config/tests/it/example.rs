use std::path::{Path, PathBuf};
use std::time::Duration;

use gaffer_config::{
    Backend, CodexSandbox, NotifyEvent, PermissionMode, Price, PrivacyMode, Risk, WebhookKind,
    parse_str,
};

const EXAMPLE: &str = include_str!("../../gaffer.example.toml");

#[test]
fn the_shipped_example_parses_to_what_it_says() {
    let settings = match parse_str(EXAMPLE, Path::new("gaffer.example.toml")) {
        Ok(settings) => settings,
        Err(error) => panic!("gaffer.example.toml does not parse:\n{error}"),
    };
    assert_eq!(settings.project.name, "myproj");
    assert_eq!(settings.project.target, "main");
    assert_eq!(
        settings.project.state_dir,
        Some(PathBuf::from(".git/gaffer"))
    );
    assert_eq!(
        settings.verify_command().unwrap(),
        "cargo build --workspace && cargo test --workspace"
    );
    assert_eq!(settings.verify.setup.as_deref(), Some("cargo fetch"));
    assert_eq!(settings.engine.agent_stagger, Duration::from_secs(2));

    let names: Vec<&str> = settings.agents.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "aider",
            "claude-opus",
            "claude-sonnet",
            "codex",
            "demo",
            "local-qwen"
        ]
    );
    let local = &settings.agents["local-qwen"];
    assert_eq!(local.kind(), Backend::Openai);
    assert_eq!(local.family, "qwen");
    assert_eq!(local.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
    assert_eq!(
        Some(crate::scripted(&settings.agents["demo"]).script.clone()),
        Some(PathBuf::from("demo/script.json"))
    );
    assert_eq!(settings.agents["aider"].kind(), Backend::Command);

    assert_eq!(settings.roles.coder, ["claude-sonnet", "claude-opus"]);
    assert_eq!(settings.roles.reviewer, ["codex"]);
    assert!(settings.review.enabled && settings.review.cross_family);
    assert_eq!(settings.review.checklist.len(), 2);
    assert_eq!(settings.review.paths[0].glob, "migrations/**");
    assert_eq!(settings.review.extra[0].agent, "local-qwen");
    assert_eq!(settings.engine.stall_after, Duration::from_secs(600));

    assert_eq!(settings.risk.paths.len(), 2);
    assert_eq!(
        settings
            .risk
            .risk_for_paths(&[".github/workflows/ci.yml".to_string()]),
        Some(Risk::Critical)
    );
    assert_eq!(settings.server.port, 7420);
    assert_eq!(settings.server.host.to_string(), "127.0.0.1");
    assert_eq!(settings.server.token_env, "GAFFER_TOKEN");

    let sonnet = &settings.agents["claude-sonnet"];
    assert_eq!(
        crate::claude(sonnet).permission_mode,
        Some(PermissionMode::AcceptEdits)
    );
    assert_eq!(sonnet.max_turns, Some(60));
    assert_eq!(sonnet.timeout, Some(Duration::from_secs(30 * 60)));
    assert_eq!(sonnet.api_key_env(), Some("ANTHROPIC_API_KEY"));
    let opus = crate::claude(&settings.agents["claude-opus"]);
    assert!(opus.skip_permissions);
    assert_eq!(opus.args, ["--add-dir", "../shared-docs"]);
    let codex = &settings.agents["codex"];
    assert_eq!(
        crate::codex(codex).sandbox,
        Some(CodexSandbox::WorkspaceWrite)
    );
    assert_eq!(codex.api_key_env(), Some("CODEX_OPENAI_KEY"));
    assert_eq!(
        (
            local.max_output_tokens,
            local.max_total_tokens,
            local.retries()
        ),
        (Some(8192), Some(2_000_000), Some(5))
    );
    assert_eq!(local.needs, ["gpu"]);
    assert!(settings.agents["claude-sonnet"].needs.is_empty());
    let aider = &settings.agents["aider"];
    assert_eq!(
        Some(crate::command(aider).command.as_str()),
        Some("aider --yes --model {model} --message-file {prompt_file}")
    );
    assert_eq!(aider.env()["OLLAMA_API_BASE"], "http://127.0.0.1:11434");

    assert_eq!(settings.privacy.mode, PrivacyMode::Any);
    let notify = &settings.notify;
    assert_eq!(notify.batch, Duration::from_secs(5));
    assert_eq!(notify.webhooks.len(), 2);
    assert_eq!(notify.webhooks[0].kind, WebhookKind::Ntfy);
    assert_eq!(
        notify.webhooks[0].events,
        [
            NotifyEvent::NeedsInput,
            NotifyEvent::NeedsApproval,
            NotifyEvent::Failed,
            NotifyEvent::Budget
        ]
    );
    assert_eq!(notify.webhooks[1].kind, WebhookKind::Slack);
    assert_eq!(notify.commands.len(), 1);
    assert_eq!(notify.commands[0].command, "./scripts/gaffer-report.sh");
    assert_eq!(notify.commands[0].timeout, Duration::from_secs(120));
    assert_eq!(
        settings.price_for("gpt-5-codex"),
        Some(Price {
            input: 1.25,
            output: 10.0,
            cached_input: Some(0.125)
        })
    );
    assert_eq!(
        settings
            .price_for("qwen2.5-coder:32b")
            .map(|p| p.cost(10, 10, 10)),
        Some(0.0)
    );
}

#[test]
fn the_init_template_mentions_every_key_of_the_example() {
    let template = gaffer_config::init_template("x", None, "main");
    let mut section = String::new();
    for line in EXAMPLE.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if let Some((key, _)) = line.split_once(" = ").filter(|_| !line.starts_with('#')) {
            let section_name = section.trim_matches(['[', ']']);
            let table = if section_name.starts_with("agents.") {
                "# [agents.".to_string()
            } else if section_name.starts_with("prices.") {
                "# [prices.".to_string()
            } else {
                section.clone()
            };
            assert!(
                template.contains(&table),
                "the init template lacks {section}"
            );
            assert!(
                template.contains(&format!("{key} = ")),
                "the init template does not mention {key} of {section}"
            );
        }
    }
}

#[test]
fn the_example_configures_the_merge_queue_the_host_budget_and_the_remote() {
    let settings = parse_str(EXAMPLE, Path::new("gaffer.example.toml")).unwrap();
    assert_eq!(settings.project.remote.as_deref(), Some("origin"));
    assert_eq!(settings.queue.strategy, gaffer_config::QueueStrategy::Merge);
    assert_eq!(settings.queue.max_candidates, 8);
    assert_eq!(settings.queue.batch, gaffer_config::QueueBatch::Auto);
    assert_eq!(settings.host.heavy_slots, 4);
    assert_eq!(settings.host.max_load, Some(6.0));
    assert_eq!(settings.host.min_free_memory, Some(2 << 30));
    assert_eq!(settings.host.labels, ["gpu"]);
    assert_eq!(
        settings.store.url.as_ref().map(|u| u.expose()),
        Some("postgres://gaffer@db-host:5432/gaffer")
    );
    assert_eq!(settings.store.schema.as_deref(), Some("gaffer_demo"));
}

#[test]
fn the_example_sets_budgets_and_idle_mode() {
    let settings = parse_str(EXAMPLE, Path::new("gaffer.example.toml")).unwrap();
    assert_eq!(settings.budget.task_usd, Some(5.0));
    assert_eq!(settings.budget.day_usd, Some(50.0));
    assert_eq!(settings.budget.idle_usd, Some(0.5));
    assert!(settings.engine.idle);
    assert_eq!(settings.engine.idle_every, Duration::from_secs(2 * 60 * 60));
    let defaults = parse_str("", Path::new("gaffer.toml")).unwrap();
    assert_eq!(defaults.budget, gaffer_config::BudgetSettings::default());
    assert_eq!(
        defaults.budget.idle_usd,
        Some(gaffer_config::DEFAULT_IDLE_USD)
    );
    assert!(!defaults.engine.idle);
    let bad = parse_str("[budget]\nday_usd = -1\n", Path::new("gaffer.toml")).unwrap_err();
    assert!(bad.to_string().contains("budget.day_usd"), "{bad}");
}
