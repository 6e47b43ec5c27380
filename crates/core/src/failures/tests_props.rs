//! Whatever the output, reading it neither panics nor returns more than the bounds allow, and
//! the summary and its evidence text keep their shape.

#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

/// Pieces of every runner's output, escape sequences and noise, so that random outputs reach
/// deep into each reading rather than only its first check.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("FAILED tests/a.py::test_x - boom".to_string()),
        Just("ERROR tests/b.py".to_string()),
        Just("===== FAILURES =====".to_string()),
        Just("_____ test_x _____".to_string()),
        Just("E   assert 1 == 2".to_string()),
        Just("tests/a.py:3: AssertionError".to_string()),
        Just("== 2 failed, 1 error in 0.1s ==".to_string()),
        Just("test a::b ... FAILED".to_string()),
        Just("---- a::b stdout ----".to_string()),
        Just("failures:".to_string()),
        Just("    a::b".to_string()),
        Just("thread 'a::b' panicked at src/a.rs:1:2:".to_string()),
        Just("test result: FAILED. 1 passed; 4294967295 failed;".to_string()),
        Just("        FAIL [   0.003s] shop a::b".to_string()),
        Just("──── STDERR:  shop a::b".to_string()),
        Just("     Summary [   0.01s] 3 tests run: 1 passed, 2 failed".to_string()),
        Just("--- FAIL: TestX/sub (0.00s)".to_string()),
        Just("=== RUN   TestX".to_string()),
        Just("panic: boom".to_string()),
        Just(" FAIL  src/a.test.js".to_string()),
        Just("  ● Suite › test".to_string()),
        Just("Tests:       2 failed, 1 total".to_string()),
        Just(" FAIL  src/a.test.ts > Suite > test".to_string()),
        Just("   × Suite > test 3ms".to_string()),
        Just("     → expected 1".to_string()),
        Just("⎯⎯⎯⎯[1/2]⎯".to_string()),
        Just("      Tests  1 failed | 2 passed (3)".to_string()),
        Just("not ok 1 - test # TODO".to_string()),
        Just("    not ok 2 - nested".to_string()),
        Just("      ---".to_string()),
        Just("      error: |-".to_string()),
        Just("      failureType: 'subtestsFailed'".to_string()),
        Just("      ...".to_string()),
        Just("# Subtest: x".to_string()),
        Just("# fail 3".to_string()),
        Just("✖ failing tests:".to_string()),
        Just("✖ a test (1.2ms)".to_string()),
        Just("test at a.js:1:2".to_string()),
        Just("  {".to_string()),
        Just("ℹ fail 2".to_string()),
        Just("======================================================================".to_string()),
        Just("----------------------------------------------------------------------".to_string()),
        Just("FAIL: test_x (m.C.test_x)".to_string()),
        Just("Traceback (most recent call last):".to_string()),
        Just("  File \"a.py\", line 3, in test_x".to_string()),
        Just("FAILED (failures=2, errors=1)".to_string()),
        Just("error[E0425]: nope".to_string()),
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]8;;x\u{7}".to_string()),
        Just("\u{1b}".to_string()),
        Just("\r".to_string()),
        Just("\t".to_string()),
        Just(" ".repeat(9)),
        "[ -~]{0,40}",
        "\\PC{0,20}",
        any::<String>(),
    ]
}

fn output() -> impl Strategy<Value = String> {
    prop::collection::vec((piece(), prop::bool::ANY), 0..120).prop_map(|parts| {
        let mut out = String::new();
        for (part, newline) in parts {
            out.push_str(&part);
            if newline {
                out.push('\n');
            }
        }
        out
    })
}

fn check_bounds(s: &FailureSummary) {
    assert!(s.headline.len() <= MAX_HEADLINE, "{}", s.headline);
    assert!(!s.headline.contains('\n') && !s.headline.is_empty());
    assert!(s.tests.len() <= MAX_TESTS);
    let mut kept = 0;
    for t in &s.tests {
        assert!(!t.name.trim().is_empty());
        assert!(t.name.len() <= MAX_LINE && t.detail.len() <= MAX_DETAIL);
        for line in t.detail.iter().chain([&t.name]) {
            assert!(line.len() <= MAX_LINE);
            assert!(
                !line.chars().any(|c| c.is_control() && c != '\t'),
                "{line:?}"
            );
        }
        kept += t.name.len() + t.detail.iter().map(String::len).sum::<usize>();
    }
    assert!(kept <= MAX_KEPT);
    assert!(s.lines.len() <= 7 && s.lines.iter().all(|l| l.len() <= MAX_LINE));
    assert!(s.count() >= s.tests.len());
    if s.runner == Runner::Generic {
        assert!(s.tests.is_empty());
    } else {
        assert!(
            !s.tests.is_empty(),
            "a runner is named only when it found failing tests"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_output_gives_a_bounded_summary(out in output()) {
        let s = summarize(&out);
        check_bounds(&s);
        let json = serde_json::to_string(&s).unwrap();
        prop_assert!(json.len() <= 2 * (MAX_KEPT + MAX_HEADLINE + 8 * MAX_LINE) + 512);
        prop_assert_eq!(serde_json::from_str::<FailureSummary>(&json).unwrap(), s.clone());
        // The evidence text: headline first, the output after the heading, whole.
        let text = s.evidence("`verify` exit code 1", &out);
        prop_assert_eq!(text.lines().next(), Some(s.headline.as_str()));
        let (_, rest) = split_evidence(&text);
        if !out.trim_end().is_empty() {
            prop_assert_eq!(rest.map(str::trim_end), Some(out.trim_end()));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4000)) {
        check_bounds(&summarize(&String::from_utf8_lossy(&bytes)));
    }
}
