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

const GAFFER_TOML: &str = r#"# gaffer's demo configuration: one scripted agent, the project's own tests as verify.
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
backend = "scripted"
script = "demo/script.toml"

[roles]
coder = ["demo-agent"]
"#;

/// The scripted agent's work. The add task's first attempt has a bug the tests catch.
const SCRIPT: &str = r#"
[[task]]
match = "farewell function"
[[task.attempt]]
delay_ms = 150
summary = "Added farewell() in lib/farewell.sh with a test."
actions = [
  { status = "writing lib/farewell.sh" },
  { write = "lib/farewell.sh", content = "farewell() { printf 'Goodbye, %s!\\n' \"$1\"; }\n" },
  { write = "tests/test_farewell.sh", content = ". lib/farewell.sh\ngot=$(farewell Ada)\n[ \"$got\" = \"Goodbye, Ada!\" ] || { echo \"farewell Ada gave: $got\"; exit 1; }\n" },
]

[[task]]
match = "goodbye command"
[[task.attempt]]
delay_ms = 150
summary = "Added bin/goodbye.sh, which greets and says goodbye, with a test."
actions = [
  { status = "writing bin/goodbye.sh" },
  { write = "bin/goodbye.sh", content = ". lib/greet.sh\n. lib/farewell.sh\ngreet \"$1\"\nfarewell \"$1\"\n" },
  { write = "tests/test_goodbye.sh", content = "got=$(sh bin/goodbye.sh Ada | tail -n 1)\n[ \"$got\" = \"Goodbye, Ada!\" ] || { echo \"goodbye.sh Ada ended with: $got\"; exit 1; }\n" },
]

[[task]]
match = "add function"
[[task.attempt]]
delay_ms = 150
summary = "Added add() in lib/math.sh with a test."
actions = [
  { status = "writing lib/math.sh" },
  { write = "lib/math.sh", content = "add() { echo $(( $1 - $2 )); }\n" },
  { write = "tests/test_math.sh", content = ". lib/math.sh\ngot=$(add 2 3)\n[ \"$got\" = \"5\" ] || { echo \"add 2 3 gave: $got\"; exit 1; }\n" },
]
[[task.attempt]]
delay_ms = 150
summary = "Fixed add(): it subtracted."
actions = [
  { status = "the test says add 2 3 gave -1: fixing the operator" },
  { replace = "lib/math.sh", from = "$1 - $2", to = "$1 + $2" },
]
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
