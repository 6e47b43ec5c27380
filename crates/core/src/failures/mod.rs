//! What a failed verify says, read from its output: the failing tests and the first lines of
//! each failure, so that a person (and the coder sent back) sees *which* tests failed and why
//! before wading through the output.
//!
//! [`summarize`] reads the output of the project's verify command (standard output and error
//! together, possibly coloured) the way a terminal shows it and recognises the common test
//! runners: pytest, cargo test and cargo nextest, go test, jest, vitest, node's built-in runner
//! (TAP and its spec reporter), Python's unittest, and any other TAP producer. Output that none
//! of them explains gets the generic reading: the lines that mention an error, a failure, an
//! assertion or a panic. Each runner has its own small module; all of them are tried and the one
//! that recognised the most failing tests wins, so a `make test` running two runners is read by
//! the one that failed most.
//!
//! The work and the result are bounded whatever the output: only the last [`MAX_INPUT`] bytes
//! are read, lines are cut at a few hundred bytes, at most [`MAX_TESTS`] tests are kept with at
//! most [`MAX_DETAIL`] lines each, [`MAX_KEPT`] bytes in all. The summary is computed once, by the engine when verify fails,
//! and stored with the `verify.finished` event; [`FailureSummary::evidence`] makes of it the text
//! the state machine keeps (a task's note, the feedback a coder is sent back with).

mod cargo;
mod generic;
mod go;
mod jest;
mod lines;
mod nextest;
mod node;
mod pytest;
mod tap;
mod unittest;
mod vitest;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_props;
#[cfg(test)]
mod tests_runners;

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub use lines::{clip, plain};

/// How much of the output is read: its last mebibyte (test runners summarise at the end).
pub const MAX_INPUT: usize = 1 << 20;
/// The most failing tests a summary keeps (the count says how many there were).
pub const MAX_TESTS: usize = 15;
/// The most lines of detail kept per failing test.
pub const MAX_DETAIL: usize = 5;
/// The longest line kept (bytes; longer ones are cut with `…`).
pub const MAX_LINE: usize = 200;
/// The most bytes of names and detail a summary keeps: past it, tests are kept by name only.
pub const MAX_KEPT: usize = 8 * 1024;
/// The longest headline (bytes).
pub const MAX_HEADLINE: usize = 160;
/// How many names the headline lists before `+N`.
const HEADLINE_NAMES: usize = 2;

/// Which test runner's output a summary was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runner {
    Pytest,
    Cargo,
    Nextest,
    Go,
    Jest,
    Vitest,
    /// Node's built-in runner (`node --test`), TAP or spec reporter.
    Node,
    /// Any other TAP producer.
    Tap,
    Unittest,
    /// No runner recognised: the lines that look like the cause.
    Generic,
    /// A runner a newer gaffer recognised.
    #[serde(other)]
    Other,
}

impl Runner {
    pub fn as_str(self) -> &'static str {
        match self {
            Runner::Pytest => "pytest",
            Runner::Cargo => "cargo test",
            Runner::Nextest => "cargo nextest",
            Runner::Go => "go test",
            Runner::Jest => "jest",
            Runner::Vitest => "vitest",
            Runner::Node => "node --test",
            Runner::Tap => "TAP",
            Runner::Unittest => "unittest",
            Runner::Generic => "no test runner recognised",
            Runner::Other => "another runner",
        }
    }

    /// The name people know a test by, for the headline: the last part of a path of suites
    /// and modules (`test_login` for `tests/test_auth.py::test_login`).
    pub fn short_name(self, name: &str) -> &str {
        let last = |sep: &str| name.rsplit(sep).next().unwrap_or(name);
        let short = match self {
            // `pkg.module.Class.test_x`, maybe with a subtest's `(i=3)` after it.
            Runner::Unittest => {
                let head = name.split(" (").next().unwrap_or(name);
                head.rsplit('.').next().unwrap_or(head)
            }
            Runner::Go | Runner::Node | Runner::Tap => name,
            // `shop::checkout refuses_an_empty_cart`: the binary, then the test's path.
            Runner::Nextest => {
                let test = name.rsplit(' ').next().unwrap_or(name);
                test.rsplit("::").next().unwrap_or(test)
            }
            Runner::Jest => last(" › "),
            Runner::Vitest => last(" > "),
            _ if name.contains(" - ") => name,
            _ => last("::"),
        };
        if short.trim().is_empty() { name } else { short }
    }
}

/// One failing test: its name as the runner printed it and the first lines of its failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// What a failed verify's output says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSummary {
    pub runner: Runner,
    /// One line: `3 tests failed: test_login, test_logout, +1`, or for output no runner
    /// explains, `verify failed: ` and the line that looks like the cause.
    pub headline: String,
    /// The failing tests, in the order the runner reported them (at most [`MAX_TESTS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<FailedTest>,
    /// How many tests failed, when the runner printed a count (it may exceed `tests`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    /// Generic reading: the lines that mention an error, a failure, an assertion or a panic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
}

/// The heading before the output in [`FailureSummary::evidence`]; [`split_evidence`] cuts there.
pub const OUTPUT_HEADING: &str = "Output:";

/// Reads a failed verify's output (see the module's documentation).
pub fn summarize(output: &str) -> FailureSummary {
    let lines = lines::clean(output);
    let found = [
        pytest::parse(&lines),
        unittest::parse(&lines),
        nextest::parse(&lines),
        cargo::parse(&lines),
        go::parse(&lines),
        jest::parse(&lines),
        vitest::parse(&lines),
        node::parse(&lines),
        tap::parse(&lines),
    ];
    // The most failing tests wins; on a tie, the first in the list above (nextest before
    // cargo test: nextest's output holds libtest's).
    let mut best: Option<Found> = None;
    for f in found.into_iter().flatten() {
        if best.as_ref().is_none_or(|b| f.count() > b.count()) {
            best = Some(f);
        }
    }
    match best {
        Some(found) => found.into_summary(),
        None => generic::summarize(&lines),
    }
}

/// The part of an evidence text (or a note made of one) before its output, and the output.
pub fn split_evidence(text: &str) -> (&str, Option<&str>) {
    let marker = format!("\n\n{OUTPUT_HEADING}\n");
    match text.find(&marker) {
        Some(at) => (&text[..at], Some(&text[at + marker.len()..])),
        None => (text, None),
    }
}

impl FailureSummary {
    /// How many tests failed: the runner's count, or as many as were recognised.
    pub fn count(&self) -> usize {
        let total = self.total.map_or(0, |t| t as usize);
        total.max(self.tests.len())
    }

    /// The short name of each failing test kept.
    pub fn short_names(&self) -> Vec<&str> {
        self.tests
            .iter()
            .map(|t| self.runner.short_name(&t.name))
            .collect()
    }

    /// The text the machine keeps for a failed verify: the headline, `verdict` (the command
    /// and how it ended), the failing tests with their first lines (or the generic lines), then
    /// [`OUTPUT_HEADING`] and `output` (its end, as today).
    pub fn evidence(&self, verdict: &str, output: &str) -> String {
        let mut out = format!("{}\n{}\n", self.headline, verdict.trim());
        let block = self.block();
        if !block.is_empty() {
            out.push('\n');
            out.push_str(&block);
        }
        let output = output.trim_end();
        if !output.is_empty() {
            out.push_str(&format!("\n{OUTPUT_HEADING}\n{output}\n"));
        }
        out
    }

    /// The failing tests and their first lines (or the generic lines), as indented text.
    pub fn block(&self) -> String {
        let mut out = String::new();
        if !self.tests.is_empty() {
            out.push_str("Failing tests:\n");
            for t in &self.tests {
                out.push_str(&format!("  {}\n", t.name));
                for line in &t.detail {
                    out.push_str(&format!("      {line}\n"));
                }
            }
            let more = self.count().saturating_sub(self.tests.len());
            if more > 0 {
                out.push_str(&format!("  … and {more} more\n"));
            }
        } else if !self.lines.is_empty() {
            out.push_str("Lines that look like the cause:\n");
            for line in &self.lines {
                out.push_str(&format!("  {line}\n"));
            }
        }
        out
    }
}

/// What one runner's reading found: the failing tests (deduplicated, the first [`MAX_TESTS`]
/// kept), how many distinct ones there were, and the count the runner printed.
#[derive(Debug)]
pub(crate) struct Found {
    runner: Runner,
    tests: Vec<FailedTest>,
    names: HashSet<String>,
    total: Option<u32>,
    /// Bytes of names and detail kept so far.
    kept: usize,
}

impl Found {
    pub(crate) fn new(runner: Runner) -> Found {
        Found {
            runner,
            tests: Vec::new(),
            names: HashSet::new(),
            total: None,
            kept: 0,
        }
    }

    /// A failing test; a name seen before only gains the detail it lacked.
    pub(crate) fn add(&mut self, name: &str, detail: Vec<String>) {
        let name = clip(name.trim(), MAX_LINE);
        if name.is_empty() {
            return;
        }
        let detail: Vec<String> = detail
            .iter()
            .map(|l| clip(l.trim_end(), MAX_LINE))
            .filter(|l| !l.trim().is_empty())
            .take(MAX_DETAIL)
            .collect();
        if self.names.contains(&name) {
            let bytes: usize = detail.iter().map(String::len).sum();
            if self.kept + bytes <= MAX_KEPT
                && let Some(t) = self.tests.iter_mut().find(|t| t.name == name)
                && t.detail.is_empty()
            {
                t.detail = detail;
                self.kept += bytes;
            }
            return;
        }
        self.names.insert(name.clone());
        if self.tests.len() >= MAX_TESTS || self.kept + name.len() > MAX_KEPT {
            return;
        }
        let detail_bytes: usize = detail.iter().map(String::len).sum();
        let detail = if self.kept + name.len() + detail_bytes > MAX_KEPT {
            Vec::new()
        } else {
            detail
        };
        self.kept += name.len() + detail.iter().map(String::len).sum::<usize>();
        self.tests.push(FailedTest { name, detail });
    }

    /// The count the runner printed (added up over several summaries, e.g. one per binary).
    pub(crate) fn count_printed(&mut self, n: u32) {
        self.total = Some(self.total.unwrap_or(0).saturating_add(n));
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Drops a test recognised earlier (a suite that failed only because a test in it did).
    pub(crate) fn remove(&mut self, name: &str) {
        if self.names.remove(name) {
            self.tests.retain(|t| t.name != name);
        }
    }

    pub(crate) fn set_runner(&mut self, runner: Runner) {
        self.runner = runner;
    }

    fn count(&self) -> usize {
        self.names.len()
    }

    /// `None` when nothing failing was recognised.
    pub(crate) fn done(self) -> Option<Found> {
        (!self.names.is_empty()).then_some(self)
    }

    fn into_summary(self) -> FailureSummary {
        let mut summary = FailureSummary {
            runner: self.runner,
            headline: String::new(),
            total: self.total,
            tests: self.tests,
            lines: Vec::new(),
        };
        // A count below what was recognised (a runner that counts errors apart) is raised.
        let count = summary.count().max(self.names.len());
        if summary.total.is_some_and(|t| (t as usize) < count) {
            summary.total = u32::try_from(count).ok();
        }
        summary.headline = headline(&summary.short_names(), count);
        summary
    }
}

/// `3 tests failed: test_login, test_logout, +1`.
fn headline(names: &[&str], count: usize) -> String {
    let noun = if count == 1 { "test" } else { "tests" };
    let shown: Vec<&str> = names.iter().take(HEADLINE_NAMES).copied().collect();
    let mut line = format!("{count} {noun} failed: {}", shown.join(", "));
    let more = count.saturating_sub(shown.len());
    if more > 0 {
        line.push_str(&format!(", +{more}"));
    }
    clip(&line, MAX_HEADLINE)
}
