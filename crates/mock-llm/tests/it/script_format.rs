//! The script format: the README's examples, files, JSON, and errors that help.

use gaffer_mock_llm::{Conversation, ErrorSpec, Script, Stall, ToolCall, Turn, Usage};
use serde_json::json;

const README: &str = include_str!("../../README.md");

/// The fenced blocks of the README in the given language.
fn blocks(language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    let mut out = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find(&fence) {
        let after = &rest[start + fence.len()..];
        let end = after.find("\n```").expect("closed fence");
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn every_readme_example_is_a_valid_script() {
    let toml_blocks = blocks("toml");
    assert!(toml_blocks.len() >= 5, "{}", toml_blocks.len());
    for block in toml_blocks {
        Script::from_toml_str(&block).unwrap_or_else(|e| panic!("{e}\n---\n{block}"));
    }
    let json_blocks = blocks("json");
    assert!(!json_blocks.is_empty());
    for block in json_blocks {
        Script::from_json_str(&block).unwrap_or_else(|e| panic!("{e}\n---\n{block}"));
    }
}

#[test]
fn the_reference_example_means_what_it_says() {
    let script = Script::from_toml_str(&blocks("toml")[0]).unwrap();
    assert_eq!(script.default.as_deref(), Some("main"));
    let main = script.conversation("main").unwrap();
    assert_eq!(main.marker.as_deref(), Some("MOCK:main"));
    assert_eq!(main.turns.len(), 2);
    assert_eq!(
        main.turns[0].tool_calls[0],
        ToolCall::new("read_file", json!({"path": "src/main.rs"}))
    );
    assert_eq!(
        main.turns[0].usage,
        Some(Usage {
            input_tokens: 1200,
            output_tokens: 40,
            cached_tokens: 1000
        })
    );
    assert_eq!(
        main.turns[1].errors,
        vec![ErrorSpec::once(429).with_retry_after(1)]
    );
}

#[test]
fn the_builders_make_what_toml_makes() {
    let parsed = Script::from_toml_str(
        r#"
        default = "c"
        [[conversations]]
        name = "c"
        marker = "M"
        [[conversations.turns]]
        text = "hi"
        tool_calls = [{ name = "Bash", arguments = { command = "ls" } }]
        usage = { input_tokens = 10, output_tokens = 2, cached_tokens = 5 }
        errors = [{ status = 429, times = 1, retry_after = 2 }, { status = 500 }]
        delay_ms = 5
        stall = "mid_stream"
        malformed_line = "data: {"
        [[conversations.turns]]
        tool_calls = [{ name = "apply_patch", input = "*** Begin Patch" }]
        "#,
    )
    .unwrap();
    let built = Script::new()
        .with_conversation(
            Conversation::new("c")
                .with_marker("M")
                .with_turn(
                    Turn::text("hi")
                        .with_tool_call("Bash", json!({"command": "ls"}))
                        .with_usage(10, 2, 5)
                        .with_error(ErrorSpec::once(429).with_retry_after(2))
                        .with_error(ErrorSpec::always(500))
                        .with_delay_ms(5)
                        .with_stall(Stall::MidStream)
                        .with_malformed_line("data: {"),
                )
                .with_turn(Turn::default().with_custom_tool_call("apply_patch", "*** Begin Patch")),
        )
        .with_default("c");
    assert_eq!(parsed, built);
    // And back: a script serializes to JSON that loads to the same script.
    let json = serde_json::to_string(&built).unwrap();
    assert_eq!(Script::from_json_str(&json).unwrap(), built);
}

#[test]
fn loads_files_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("s.toml");
    std::fs::write(
        &toml_path,
        "[[conversations]]\nname = \"a\"\nturns = [{ text = \"x\" }]\n",
    )
    .unwrap();
    let json_path = dir.path().join("s.json");
    std::fs::write(
        &json_path,
        r#"{"conversations": [{"name": "a", "turns": [{"text": "x"}]}]}"#,
    )
    .unwrap();
    assert_eq!(
        Script::load(&toml_path).unwrap(),
        Script::load(&json_path).unwrap()
    );

    let missing = Script::load(dir.path().join("nope.toml")).unwrap_err();
    assert!(missing.to_string().contains("nope.toml"), "{missing}");
}

#[test]
fn mistakes_are_reported_with_their_place() {
    let typo =
        Script::from_toml_str("[[conversations]]\nname = \"a\"\nturns = [{ txet = \"x\" }]\n")
            .unwrap_err();
    let message = typo.to_string();
    assert!(
        message.contains("txet") && message.contains("line 3"),
        "{message}"
    );

    let bad_stall = Script::from_toml_str(
        "[[conversations]]\nname = \"a\"\nturns = [{ stall = \"forever\" }]\n",
    )
    .unwrap_err();
    assert!(bad_stall.to_string().contains("forever"), "{bad_stall}");

    let bad_status = Script::from_toml_str(
        "[[conversations]]\nname = \"a\"\nturns = [{ errors = [{ status = 302 }] }]\n",
    )
    .unwrap_err();
    assert!(bad_status.to_string().contains("302"), "{bad_status}");

    let no_default = Script::from_json_str(r#"{"default": "x"}"#).unwrap_err();
    assert!(no_default.to_string().contains("\"x\""), "{no_default}");
}
