//! The throwaway project `gaffer demo` works on: a few shell functions with their own tests,
//! a gaffer.toml with a crew of three agents, the work the demo asks for, and the script the
//! scripted model server answers from.

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

/// The agents of the crew, by name: `gaffer demo` points each at its scripted model server
/// (the OpenAI agents at its `/v1`, the Anthropic one at its root).
pub const OPENAI_AGENTS: &[&str] = &["demo-planner", "demo-coder"];
pub const ANTHROPIC_AGENTS: &[&str] = &["demo-reviewer"];

const GAFFER_TOML: &str = r#"# gaffer's demo configuration: a crew of three agents, all gaffer's own agent loop, and the
# project's own tests as verify. The planner and the coder speak the OpenAI API; the reviewer,
# of another family, speaks the Anthropic API and reviews both the plan and every change.
#
# `gaffer demo` points them at an in-process scripted model server. To run this repository
# again by hand, start that server on the port below and start gaffer:
#   gaffer mock-llm --script demo/script.toml --port 8787 &
#   gaffer up
[project]
name = "greeter"
target = "main"

[verify]
command = "sh tests/run.sh"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0

[agents.demo-planner]
backend = "openai"
model = "demo-planner"
base_url = "http://127.0.0.1:8787/v1"

[agents.demo-coder]
backend = "openai"
model = "demo-coder"
base_url = "http://127.0.0.1:8787/v1"

[agents.demo-reviewer]
backend = "anthropic"
model = "demo-reviewer"
base_url = "http://127.0.0.1:8787"

[roles]
planner = ["demo-planner"]
plan_reviewer = ["demo-reviewer"]
coder = ["demo-coder"]
reviewer = ["demo-reviewer"]

[prices.demo-planner]
input = 3.0
output = 15.0

[prices.demo-coder]
input = 3.0
output = 15.0

[prices.demo-reviewer]
input = 1.0
output = 5.0
"#;

/// The goal the demo gives the planner: `gaffer plan`'s epic.
pub const GOAL: (&str, &str) = (
    "Teach the greeter to say goodbye",
    "A farewell function beside greet(), and a bin/goodbye.sh command that uses it, each with \
     its tests.",
);

/// The plain tasks the demo adds beside the goal: title, body, write scope.
pub const TASKS: &[(&str, &str, &[&str])] = &[(
    "Add an add function",
    "Add add A B to lib/math.sh, printing the sum, with a test.",
    &["lib/math.sh", "tests/test_math.sh"],
)];

/// What the demo answers, as a person would, to a question whose text holds the key; any
/// other question gets the last answer.
pub const ANSWERS: &[(&str, &str)] = &[
    ("greet", "Greet first, then say goodbye: two lines."),
    ("", "Do what the task says; keep it small."),
];

/// The answer the demo gives to `question`.
pub fn answer_for(question: &str) -> &'static str {
    ANSWERS
        .iter()
        .find(|(key, _)| question.contains(key))
        .map_or("", |(_, answer)| answer)
}

/// The scripted model's answers.
///
/// The server picks a conversation by the first `marker` found anywhere in a request (system
/// prompt and history included), else by the requested `model`, and a turn by how many answers
/// of the model the history already holds. Every prompt about a task holds its title, its body
/// and, for subtasks, the whole plan, so those cannot tell the crew apart; what can:
///
/// - a reviewer, and only a reviewer, is shown the change as a diff: `+++ b/` claims every
///   review, and a line only the first version of the farewell had (`+farewell() { echo`),
///   listed first, claims that one review, which requests a change. The review of the fixed
///   version no longer holds it, and is approved like the others;
/// - a coder's prompt (and its resumed session's history) says which files its own task may
///   change (`Only change files matching: …`), which no other task's prompt says;
/// - the planner and the plan reviewer see neither: they are told apart by their models.
///
/// A coder resumed after a failed verify, a review or an answer continues its conversation at
/// the next turn, since its history holds its earlier answers.
pub const SCRIPT: &str = r#"
[[conversations]]
name = "review-farewell"
marker = "+farewell() { echo"
[[conversations.turns]]
text = '{"verdict": "request_changes", "summary": "Works, but not the way greet() does it.", "findings": [{"file": "lib/farewell.sh", "line": 1, "severity": "low", "text": "echo treats backslashes and a leading -n differently from shell to shell: use printf, as greet() does"}]}'
usage = { input_tokens = 2400, output_tokens = 90 }

[[conversations]]
name = "review"
marker = "+++ b/"
[[conversations.turns]]
text = '{"verdict": "approve", "summary": "Does what the task asks, with a test, within its scope."}'
usage = { input_tokens = 2200, output_tokens = 30 }

[[conversations]]
name = "farewell"
marker = "Only change files matching: lib/farewell.sh"
[[conversations.turns]]
text = "STATUS: writing lib/farewell.sh"
tool_calls = [
  { name = "write_file", arguments = { path = "lib/farewell.sh", content = "farewell() { echo \"Goodbye, $1!\"; }\n" } },
  { name = "write_file", arguments = { path = "tests/test_farewell.sh", content = ". lib/farewell.sh\ngot=$(farewell Ada)\n[ \"$got\" = \"Goodbye, Ada!\" ] || { echo \"farewell Ada gave: $got\"; exit 1; }\n" } },
]
usage = { input_tokens = 1200, output_tokens = 180 }
[[conversations.turns]]
text = "Added farewell() in lib/farewell.sh with a test."
usage = { input_tokens = 1500, output_tokens = 40 }
[[conversations.turns]]
text = "STATUS: the reviewer asks for printf: changing lib/farewell.sh"
tool_calls = [
  { name = "edit_file", arguments = { path = "lib/farewell.sh", old = 'echo "Goodbye, $1!"', new = "printf 'Goodbye, %s!\\n' \"$1\"" } },
]
usage = { input_tokens = 1900, output_tokens = 60 }
[[conversations.turns]]
text = "farewell() prints with printf now, as greet() does."
usage = { input_tokens = 2100, output_tokens = 20 }

[[conversations]]
name = "goodbye"
marker = "Only change files matching: bin/goodbye.sh"
[[conversations.turns]]
text = "STATUS: reading the task\nQUESTION: Should bin/goodbye.sh greet the person before it says goodbye, or only say goodbye?"
usage = { input_tokens = 1300, output_tokens = 50 }
[[conversations.turns]]
text = "STATUS: writing bin/goodbye.sh: greet, then farewell"
tool_calls = [
  { name = "write_file", arguments = { path = "bin/goodbye.sh", content = ". lib/greet.sh\n. lib/farewell.sh\ngreet \"$1\"\nfarewell \"$1\"\n" } },
  { name = "write_file", arguments = { path = "tests/test_goodbye.sh", content = "got=$(sh bin/goodbye.sh Ada | tr '\\n' ' ')\n[ \"$got\" = \"Hello, Ada! Goodbye, Ada! \" ] || { echo \"goodbye.sh Ada said: $got\"; exit 1; }\n" } },
]
usage = { input_tokens = 1600, output_tokens = 170 }
[[conversations.turns]]
text = "Added bin/goodbye.sh, which greets and then says goodbye (as answered), with a test."
usage = { input_tokens = 1900, output_tokens = 40 }

[[conversations]]
name = "add"
marker = "Only change files matching: lib/math.sh"
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

[[conversations]]
name = "planner"
model = "demo-planner"
[[conversations.turns]]
text = '''{"subtasks": [
  {"title": "Add a farewell function", "body": "Add farewell NAME to lib/farewell.sh, printing `Goodbye, NAME!`, with a test.", "write_scope": ["lib/farewell.sh", "tests/test_farewell.sh"]},
  {"title": "Add a goodbye command", "body": "Add bin/goodbye.sh NAME, built on greet and farewell, with a test.", "depends_on": [0], "write_scope": ["bin/goodbye.sh", "tests/test_goodbye.sh"]}
]}'''
usage = { input_tokens = 3000, output_tokens = 160 }

[[conversations]]
name = "plan-review"
model = "demo-reviewer"
[[conversations.turns]]
text = '{"verdict": "approve", "summary": "Two subtasks in the right order; their write scopes do not overlap."}'
usage = { input_tokens = 1800, output_tokens = 30 }
"#;
