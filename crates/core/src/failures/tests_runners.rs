//! Each runner's reading of a captured output in its real format (`fixtures/`, written as the
//! runners print them: pytest 8, libtest, nextest old and new, go test with and without `-v`,
//! jest 29, vitest 2, node 22's TAP and spec reporters, unittest of Python 3.12 and before).

#![allow(clippy::unwrap_used)]

use super::*;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/src/failures/fixtures/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn names(s: &FailureSummary) -> Vec<&str> {
    s.tests.iter().map(|t| t.name.as_str()).collect()
}

fn detail<'a>(s: &'a FailureSummary, name: &str) -> &'a [String] {
    &s.tests
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no test {name} in {s:#?}"))
        .detail
}

#[test]
fn pytest_summary_lines_with_their_sections() {
    let s = summarize(&fixture("pytest"));
    assert_eq!(s.runner, Runner::Pytest);
    assert_eq!(
        names(&s),
        [
            "tests/test_auth.py::test_login",
            "tests/test_auth.py::test_logout",
            "tests/test_cart.py::TestCart::test_total[3]",
            "tests/test_db.py::test_connect",
        ]
    );
    // 3 failed and 1 error.
    assert_eq!(s.total, Some(4));
    assert_eq!(s.headline, "4 tests failed: test_login, test_logout, +2");
    let login = detail(&s, "tests/test_auth.py::test_login");
    assert_eq!(login[0], "assert 401 == 200");
    assert_eq!(
        login.last().unwrap(),
        "tests/test_auth.py:14: AssertionError"
    );
    // The error is where it was raised, not the test's own line.
    let logout = detail(&s, "tests/test_auth.py::test_logout");
    assert_eq!(logout, ["KeyError: 'user_id'", "shop/auth.py:41: KeyError"]);
    // A parametrized test in a class: its section is `TestCart.test_total[3]`.
    let total = detail(&s, "tests/test_cart.py::TestCart::test_total[3]");
    assert_eq!(total[0], "AssertionError: assert 27 == 30");
    // An error at setup: its section is `ERROR at setup of test_connect`.
    let db = detail(&s, "tests/test_db.py::test_connect");
    assert!(db[0].starts_with("psycopg.OperationalError: connection failed"));
    assert_eq!(s.short_names()[2], "test_total[3]");
}

#[test]
fn pytest_in_colour_reads_as_without() {
    let coloured = fixture("pytest_color");
    assert!(coloured.contains('\u{1b}'), "the fixture is coloured");
    let s = summarize(&coloured);
    assert_eq!(s.runner, Runner::Pytest);
    assert_eq!(
        s.headline,
        "2 tests failed: test_parse_iso_date, test_format_duration"
    );
    assert_eq!(s.total, Some(2));
    let first = detail(&s, "tests/test_dates.py::test_parse_iso_date");
    assert_eq!(
        first,
        [
            "AssertionError: assert datetime.date(2024, 3, 1) is None",
            "+  where datetime.date(2024, 3, 1) = parse_date('2024-02-30')",
            "tests/test_dates.py:8: AssertionError",
        ]
    );
    for t in &s.tests {
        for line in t.detail.iter().chain([&t.name]) {
            assert!(
                !line.contains('\u{1b}') && !line.contains("[0m"),
                "{line:?}"
            );
        }
    }
}

#[test]
fn cargo_test_over_two_binaries() {
    let s = summarize(&fixture("cargo"));
    assert_eq!(s.runner, Runner::Cargo);
    assert_eq!(
        names(&s),
        [
            "cart::tests::discount_applies_once",
            "auth::tests::login_rejects_bad_password",
            "refuses_an_empty_cart",
        ]
    );
    // 2 in the library and 1 in tests/checkout.rs.
    assert_eq!(s.total, Some(3));
    assert_eq!(
        s.headline,
        "3 tests failed: discount_applies_once, login_rejects_bad_password, +1"
    );
    assert_eq!(
        detail(&s, "cart::tests::discount_applies_once"),
        [
            "panicked at src/cart.rs:88:9:",
            "assertion `left == right` failed: a 10% discount on 100 twice",
            "  left: 81",
            " right: 90",
        ]
    );
    let checkout = detail(&s, "refuses_an_empty_cart");
    assert!(checkout[1].contains("unwrap_err()"), "{checkout:?}");
}

#[test]
fn nextest_new_and_old_section_headers() {
    let s = summarize(&fixture("nextest"));
    assert_eq!(s.runner, Runner::Nextest);
    assert_eq!(
        names(&s),
        [
            "shop cart::tests::discount_applies_once",
            "shop::checkout refuses_an_empty_cart",
        ]
    );
    assert_eq!(s.total, Some(2));
    assert_eq!(
        s.headline,
        "2 tests failed: discount_applies_once, refuses_an_empty_cart"
    );
    // The panic from standard error, not libtest's lines from standard output.
    assert_eq!(
        detail(&s, "shop cart::tests::discount_applies_once")[0],
        "panicked at src/cart.rs:88:9:"
    );

    let old = summarize(&fixture("nextest_old"));
    assert_eq!(old.runner, Runner::Nextest);
    assert_eq!(names(&old), ["parser tokens::tests::keeps_quotes"]);
    assert_eq!(old.headline, "1 test failed: keeps_quotes");
    assert_eq!(
        detail(&old, "parser tokens::tests::keeps_quotes")[1],
        "assertion `left == right` failed"
    );
}

#[test]
fn go_test_keeps_the_innermost_failures() {
    let s = summarize(&fixture("go"));
    assert_eq!(s.runner, Runner::Go);
    // TestFormat failed only because its subtests did.
    assert_eq!(
        names(&s),
        [
            "TestParseDate",
            "TestFormat/empty",
            "TestFormat/negative",
            "TestCheckout"
        ]
    );
    assert_eq!(s.total, None);
    assert_eq!(
        s.headline,
        "4 tests failed: TestParseDate, TestFormat/empty, +2"
    );
    assert_eq!(
        detail(&s, "TestFormat/empty"),
        ["format_test.go:14: Format(0) = \"\", want \"-\""]
    );
    assert!(detail(&s, "TestCheckout")[0].starts_with("panic: runtime error: index out of range"));

    let verbose = summarize(&fixture("go_verbose"));
    assert_eq!(names(&verbose), ["TestParseDate", "TestFormat/empty"]);
    // With -v the test's lines come before its FAIL line.
    assert_eq!(
        detail(&verbose, "TestParseDate"),
        ["date_test.go:27: ParseDate(\"2024-02-30\") = 2024-03-01, want an error"]
    );
}

#[test]
fn jest_blocks_once_each_and_a_suite_that_failed_to_run() {
    let s = summarize(&fixture("jest"));
    assert_eq!(s.runner, Runner::Jest);
    assert_eq!(
        names(&s),
        [
            "Cart › applies the discount once",
            "Cart › empties",
            "src/auth.test.js"
        ]
    );
    assert_eq!(
        s.headline,
        "3 tests failed: applies the discount once, empties, +1"
    );
    // The message and the values, without the code frame or the stack.
    assert_eq!(
        detail(&s, "Cart › applies the discount once"),
        [
            "expect(received).toBe(expected) // Object.is equality",
            "Expected: 81",
            "Received: 90",
        ]
    );
    assert_eq!(
        detail(&s, "src/auth.test.js")[0],
        "Cannot find module './session' from 'src/auth.js'"
    );
}

#[test]
fn vitest_headings_and_crosses() {
    let s = summarize(&fixture("vitest"));
    assert_eq!(s.runner, Runner::Vitest);
    assert_eq!(
        names(&s),
        [
            "src/cart.test.ts > Cart > applies the discount once",
            "src/cart.test.ts > Cart > empties",
        ]
    );
    assert_eq!(s.total, Some(2));
    assert_eq!(
        s.headline,
        "2 tests failed: applies the discount once, empties"
    );
    assert_eq!(
        detail(&s, "src/cart.test.ts > Cart > applies the discount once"),
        [
            "AssertionError: expected 90 to be 81 // Object.is equality",
            "- 81",
            "+ 90",
            "❯ src/cart.test.ts:14:26",
        ]
    );
    // Only the `×` lines (a reporter without the "Failed Tests" section): read from them.
    let crossed: String = fixture("vitest")
        .lines()
        .take_while(|l| !l.contains("Failed Tests"))
        .map(|l| format!("{l}\n"))
        .collect();
    let s = summarize(&crossed);
    assert_eq!(s.runner, Runner::Vitest);
    assert_eq!(
        names(&s),
        ["Cart > applies the discount once", "Cart > empties"]
    );
    assert_eq!(
        detail(&s, "Cart > empties"),
        ["cart.clear is not a function"]
    );
}

#[test]
fn node_tap_and_spec_reporters() {
    for fixture_name in ["node_tap", "node_spec"] {
        let s = summarize(&fixture(fixture_name));
        assert_eq!(s.runner, Runner::Node, "{fixture_name}");
        // The suite failed because its tests did; the TODO is not a failure.
        assert_eq!(
            names(&s),
            ["applies the discount once", "empties"],
            "{fixture_name}"
        );
        assert_eq!(s.total, Some(2), "{fixture_name}");
        assert_eq!(
            s.headline, "2 tests failed: applies the discount once, empties",
            "{fixture_name}"
        );
        let first = detail(&s, "applies the discount once");
        assert!(
            first.iter().any(|l| l == "90 !== 81"),
            "{fixture_name}: {first:?}"
        );
        assert!(
            first.last().unwrap().starts_with("at ")
                && first.last().unwrap().ends_with("cart.test.js:10:3"),
            "{fixture_name}: {first:?}"
        );
        assert!(
            !first
                .iter()
                .any(|l| l.contains("generatedMessage") || l.contains("runInAsyncScope")),
            "{fixture_name}: {first:?}"
        );
    }
}

#[test]
fn plain_tap_is_tap() {
    let s = summarize(
        "TAP version 13\nok 1 - adds\nnot ok 2 - subtracts\n  ---\n  message: 'expected 1, got 3'\n  ...\n1..2\n# fail 1\n",
    );
    assert_eq!(s.runner, Runner::Tap);
    assert_eq!(names(&s), ["subtracts"]);
    assert_eq!(detail(&s, "subtracts"), ["expected 1, got 3"]);
}

#[test]
fn unittest_blocks_new_and_old() {
    let s = summarize(&fixture("unittest"));
    assert_eq!(s.runner, Runner::Unittest);
    assert_eq!(
        names(&s),
        [
            "tests.test_db.DbTest.test_connect",
            "tests.test_cart.CartTest.test_total"
        ]
    );
    assert_eq!(s.total, Some(2));
    assert_eq!(s.headline, "2 tests failed: test_connect, test_total");
    assert_eq!(
        detail(&s, "tests.test_cart.CartTest.test_total"),
        [
            "AssertionError: 90 != 81",
            "File \"/work/shop/tests/test_cart.py\", line 20, in test_total",
        ]
    );
    assert_eq!(
        detail(&s, "tests.test_db.DbTest.test_connect")[0],
        "ConnectionError: no database at localhost:5432"
    );

    // Before Python 3.11 the header names the class only.
    let old = summarize(&fixture("unittest_old"));
    assert_eq!(names(&old), ["test_strings.StringTest.test_upper"]);
    assert_eq!(old.headline, "1 test failed: test_upper");
    assert_eq!(
        detail(&old, "test_strings.StringTest.test_upper")[0],
        "AssertionError: 'FOO' != 'FOO!'"
    );
}

#[test]
fn a_build_error_is_read_generically() {
    let s = summarize(&fixture("cargo_build_error"));
    assert_eq!(s.runner, Runner::Generic);
    assert!(s.tests.is_empty());
    assert_eq!(
        s.headline,
        "verify failed: error[E0425]: cannot find value `discount` in this scope"
    );
    assert_eq!(
        s.lines.first().unwrap(),
        "error[E0425]: cannot find value `discount` in this scope"
    );
    assert_eq!(
        s.lines.last().unwrap(),
        "error: could not compile `shop` (lib) due to 1 previous error; 1 warning emitted"
    );
    // Warnings are not the cause.
    assert!(
        !s.lines.iter().any(|l| l.starts_with("warning:")),
        "{:?}",
        s.lines
    );
}

#[test]
fn output_that_says_nothing_is_summed_up_by_its_end() {
    let s = summarize(&fixture("plain"));
    assert_eq!(s.runner, Runner::Generic);
    assert_eq!(s.headline, "verify failed; its output ends: wrote 14 pages");
    assert!(s.lines.is_empty() && s.tests.is_empty());
    assert_eq!(summarize("").headline, "verify failed with no output");
    assert_eq!(summarize("\n \n").headline, "verify failed with no output");
}
