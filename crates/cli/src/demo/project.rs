//! The throwaway project `gaffer demo` works on: a few shell functions with their own tests,
//! a gaffer.toml, and the script the demo's agent follows.

/// Files of the initial commit.
pub const FILES: &[(&str, &str)] = &[
    (
        "README.md",
        "# greeter\n\nA tiny shell project that gaffer's demo works on. `sh tests/run.sh` tests it.\n",
    ),
    (
        "lib/greet.sh",
        "greet() { printf 'Hello, %s!\\n' \"$1\"; }\n",
    ),
    (
        "tests/run.sh",
        r#"#!/bin/sh
# Runs every tests/test_*.sh; fails if any fails.
fail=0
for t in tests/test_*.sh; do
    if sh "$t"; then echo "ok   $t"; else echo "FAIL $t"; fail=1; fi
done
exit $fail
"#,
    ),
    (
        "tests/test_greet.sh",
        r#". lib/greet.sh
got=$(greet World)
[ "$got" = "Hello, World!" ] || { echo "greet World gave: $got"; exit 1; }
"#,
    ),
    ("gaffer.toml", GAFFER_TOML),
    ("demo/script.toml", SCRIPT),
];

const GAFFER_TOML: &str = r#"# gaffer's demo configuration: one agent (gaffer's own agent loop, speaking the OpenAI API)
# and the project's own tests as verify.
#
# `gaffer demo` points the agent at an in-process scripted model server. To run this repository
# again by hand, start that server and point the agent at it:
#   gaffer mock-llm --script demo/script.toml --port 8787 &
#   gaffer --set agents.demo-agent.base_url=http://127.0.0.1:8787/v1 up
[project]
name = "greeter"
target = "main"

[verify]
command = "sh tests/run.sh"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0

[agents.demo-agent]
backend = "openai"
model = "demo-model"

[roles]
coder = ["demo-agent"]

[prices.demo-model]
input = 3.0
output = 15.0
"#;

/// The scripted model's answers, one conversation per task (chosen by the task's title in the
/// prompt). The add task's first answer has a bug the tests catch; resumed with the failing
/// output, the same conversation continues with the fix.
pub const SCRIPT: &str = r#"
[[conversations]]
name = "farewell"
marker = "Add a farewell function"
[[conversations.turns]]
text = "STATUS: writing lib/farewell.sh"
tool_calls = [
  { name = "write_file", arguments = { path = "lib/farewell.sh", content = "farewell() { printf 'Goodbye, %s!\\n' \"$1\"; }\n" } },
  { name = "write_file", arguments = { path = "tests/test_farewell.sh", content = ". lib/farewell.sh\ngot=$(farewell Ada)\n[ \"$got\" = \"Goodbye, Ada!\" ] || { echo \"farewell Ada gave: $got\"; exit 1; }\n" } },
]
usage = { input_tokens = 1200, output_tokens = 180 }
[[conversations.turns]]
text = "Added farewell() in lib/farewell.sh with a test."
usage = { input_tokens = 1500, output_tokens = 40 }

[[conversations]]
name = "goodbye"
marker = "Add a goodbye command"
[[conversations.turns]]
text = "STATUS: writing bin/goodbye.sh"
tool_calls = [
  { name = "write_file", arguments = { path = "bin/goodbye.sh", content = ". lib/greet.sh\n. lib/farewell.sh\ngreet \"$1\"\nfarewell \"$1\"\n" } },
  { name = "write_file", arguments = { path = "tests/test_goodbye.sh", content = "got=$(sh bin/goodbye.sh Ada | tail -n 1)\n[ \"$got\" = \"Goodbye, Ada!\" ] || { echo \"goodbye.sh Ada ended with: $got\"; exit 1; }\n" } },
]
usage = { input_tokens = 1300, output_tokens = 170 }
[[conversations.turns]]
text = "Added bin/goodbye.sh, which greets and says goodbye, with a test."
usage = { input_tokens = 1600, output_tokens = 40 }

[[conversations]]
name = "add"
marker = "Add an add function"
[[conversations.turns]]
text = "STATUS: writing lib/math.sh"
tool_calls = [
  { name = "write_file", arguments = { path = "lib/math.sh", content = "add() { echo $(( $1 - $2 )); }\n" } },
  { name = "write_file", arguments = { path = "tests/test_math.sh", content = ". lib/math.sh\ngot=$(add 2 3)\n[ \"$got\" = \"5\" ] || { echo \"add 2 3 gave: $got\"; exit 1; }\n" } },
]
usage = { input_tokens = 1100, output_tokens = 150 }
[[conversations.turns]]
text = "Added add() in lib/math.sh with a test."
usage = { input_tokens = 1400, output_tokens = 30 }
[[conversations.turns]]
text = "STATUS: the test says add 2 3 gave -1: fixing the operator"
tool_calls = [{ name = "edit_file", arguments = { path = "lib/math.sh", old = "$1 - $2", new = "$1 + $2" } }]
usage = { input_tokens = 1900, output_tokens = 60 }
[[conversations.turns]]
text = "Fixed add(): it subtracted."
usage = { input_tokens = 2100, output_tokens = 20 }
"#;

/// The tasks the demo adds: title, body, write scope, and the index of a dependency.
pub const TASKS: &[(&str, &str, &[&str], Option<usize>)] = &[
    (
        "Add a farewell function",
        "Add farewell NAME to lib/farewell.sh, printing `Goodbye, NAME!`, with a test.",
        &["lib/farewell.sh", "tests/test_farewell.sh"],
        None,
    ),
    (
        "Add a goodbye command",
        "Add bin/goodbye.sh NAME that greets NAME and then says goodbye, with a test.",
        &["bin/**", "tests/test_goodbye.sh"],
        Some(0),
    ),
    (
        "Add an add function",
        "Add add A B to lib/math.sh, printing the sum, with a test.",
        &["lib/math.sh", "tests/test_math.sh"],
        None,
    ),
];
