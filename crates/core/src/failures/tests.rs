//! The summary itself: its headline, its text for the machine, its JSON, and its bounds on
//! outputs far larger than any verify prints.

#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn pytest_failures(n: usize) -> String {
    let mut out = String::from("============ short test summary info ============\n");
    for i in 0..n {
        out.push_str(&format!(
            "FAILED tests/test_many.py::test_case_{i} - AssertionError: case {i}\n"
        ));
    }
    out.push_str(&format!(
        "========= {n} failed, 2 passed in 9.12s =========\n"
    ));
    out
}

#[test]
fn the_headline_names_two_tests_and_counts_the_rest() {
    let s = summarize(&pytest_failures(1));
    assert_eq!(s.headline, "1 test failed: test_case_0");
    let s = summarize(&pytest_failures(2));
    assert_eq!(s.headline, "2 tests failed: test_case_0, test_case_1");
    let s = summarize(&pytest_failures(3));
    assert_eq!(s.headline, "3 tests failed: test_case_0, test_case_1, +1");
    // More than are kept: the count is the runner's.
    let s = summarize(&pytest_failures(40));
    assert_eq!(s.tests.len(), MAX_TESTS);
    assert_eq!(s.count(), 40);
    assert_eq!(s.headline, "40 tests failed: test_case_0, test_case_1, +38");
    assert!(s.block().ends_with("  … and 25 more\n"), "{}", s.block());
}

#[test]
fn evidence_leads_with_the_headline_and_keeps_the_output_apart() {
    let output =
        "collected 3 items\n\nFAILED tests/a.py::test_x - assert 1 == 2\n1 failed in 0.1s\n";
    let s = summarize(output);
    let text = s.evidence("`pytest -q` exit code 1", output);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1 test failed: test_x"));
    assert_eq!(lines.next(), Some("`pytest -q` exit code 1"));
    assert!(
        text.contains("\nFailing tests:\n  tests/a.py::test_x\n      assert 1 == 2\n"),
        "{text}"
    );
    let (lead, rest) = split_evidence(&text);
    assert!(lead.ends_with("      assert 1 == 2"), "{lead}");
    assert_eq!(rest, Some(output));
    // A text that is not evidence is all lead.
    assert_eq!(
        split_evidence("the agent made no changes"),
        ("the agent made no changes", None)
    );
}

#[test]
fn generic_evidence_lists_the_telling_lines() {
    let output = "compiling\nerror: expected `;`\n --> src/a.rs:3:9\nerror: aborting due to 1 previous error\n";
    let text = summarize(output).evidence("`cargo build` exit code 101", output);
    assert!(text.starts_with("verify failed: error: expected `;`\n`cargo build` exit code 101\n\nLines that look like the cause:\n  error: expected `;`\n  error: aborting"), "{text}");
}

#[test]
fn the_json_is_compact_and_reads_back() {
    let s = summarize(&pytest_failures(1));
    let value = serde_json::to_value(&s).unwrap();
    assert_eq!(
        value,
        json!({
            "runner": "pytest",
            "headline": "1 test failed: test_case_0",
            "tests": [{"name": "tests/test_many.py::test_case_0", "detail": ["AssertionError: case 0"]}],
            "total": 1,
        })
    );
    assert_eq!(serde_json::from_value::<FailureSummary>(value).unwrap(), s);
    // A runner a newer gaffer knows still reads.
    let newer: FailureSummary = serde_json::from_value(json!({
        "runner": "zig_test", "headline": "1 test failed: x", "tests": [{"name": "x"}]
    }))
    .unwrap();
    assert_eq!(newer.runner, Runner::Other);
    assert_eq!(newer.tests[0].detail, Vec::<String>::new());
}

#[test]
fn short_names_per_runner() {
    assert_eq!(
        Runner::Pytest.short_name("tests/a.py::TestX::test_y[1]"),
        "test_y[1]"
    );
    assert_eq!(Runner::Cargo.short_name("a::tests::b"), "b");
    assert_eq!(
        Runner::Cargo.short_name("src/lib.rs - add (line 5)"),
        "src/lib.rs - add (line 5)"
    );
    assert_eq!(
        Runner::Nextest.short_name("shop::checkout refuses"),
        "refuses"
    );
    assert_eq!(Runner::Jest.short_name("Cart › adds › twice"), "twice");
    assert_eq!(
        Runner::Vitest.short_name("src/a.test.ts > Cart > adds"),
        "adds"
    );
    assert_eq!(
        Runner::Unittest.short_name("pkg.mod.Class.test_x (i=3)"),
        "test_x"
    );
    assert_eq!(Runner::Go.short_name("TestX/sub"), "TestX/sub");
    assert_eq!(
        Runner::Node.short_name("handles 1.5 :: values"),
        "handles 1.5 :: values"
    );
    assert_eq!(Runner::Cargo.short_name("a::"), "a::");
}

#[test]
fn huge_outputs_are_read_by_their_end_and_summed_up_small() {
    // 200,000 failing tests, about 14 MiB: only the last mebibyte is read.
    let huge = pytest_failures(200_000);
    assert!(huge.len() > 10 * MAX_INPUT);
    let s = summarize(&huge);
    assert_eq!(s.runner, Runner::Pytest);
    assert_eq!(s.tests.len(), MAX_TESTS);
    // The runner's own count comes last, so it is read.
    assert_eq!(s.count(), 200_000);
    assert!(
        s.tests[0]
            .name
            .starts_with("tests/test_many.py::test_case_1"),
        "{}",
        s.tests[0].name
    );
    assert!(serde_json::to_string(&s).unwrap().len() < MAX_KEPT + 2048);

    // One line of 20 MiB, no newline.
    let line = "E".repeat(20 << 20);
    let s = summarize(&line);
    assert_eq!(s.runner, Runner::Generic);
    assert!(s.headline.len() <= MAX_HEADLINE);

    // Detail as long as it gets: every test with five lines of the longest kept length.
    let mut long = String::from("=== FAILURES ===\n");
    for i in 0..20 {
        long.push_str(&format!("_____ test_{i} _____\n"));
        for _ in 0..6 {
            long.push_str(&format!("E   {}\n", "x".repeat(5000)));
        }
    }
    let s = summarize(&long);
    assert_eq!(s.tests.len(), MAX_TESTS);
    let kept: usize = s
        .tests
        .iter()
        .map(|t| t.name.len() + t.detail.iter().map(String::len).sum::<usize>())
        .sum();
    assert!(kept <= MAX_KEPT, "{kept}");
    assert!(
        s.tests
            .iter()
            .all(|t| t.detail.len() <= MAX_DETAIL && t.detail.iter().all(|l| l.len() <= MAX_LINE))
    );
    assert!(
        s.tests.last().unwrap().detail.is_empty(),
        "past the budget, names only"
    );
}
