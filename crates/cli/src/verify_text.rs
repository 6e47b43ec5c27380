//! A failed verify as people read it in `gaffer task show`, `gaffer log` and the shell's panes:
//! the sentence with its headline, then the failing tests with their first lines. The output
//! itself only when asked for (`--full`), and never with the escape sequences the command
//! wrote (they would recolour or clear a person's terminal).

use gaffer_core::event::describe;
use gaffer_core::failures::{plain, split_evidence};
use gaffer_core::payload::VerifyFinished;
use gaffer_core::{Event, Payload, event_kind};

/// The lines of a task's note under its `note` label. A failed verify's note (its evidence)
/// shows its headline and command; the failing tests are under "last verify", and the output
/// only with `full`.
pub fn note_lines(note: &str, full: bool) -> Vec<String> {
    let note = note.trim();
    let (lead, output) = split_evidence(note);
    let shown = match output {
        Some(_) if !full => lead.split("\n\n").next().unwrap_or(lead),
        _ => note,
    };
    let mut lines: Vec<String> = if full {
        plain(shown).lines().map(String::from).collect()
    } else {
        shown.lines().map(String::from).collect()
    };
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// `verify.finished` as a payload, when it is one.
fn verify_of(event: &Event) -> Option<VerifyFinished> {
    match event.payload() {
        Ok(Payload::VerifyFinished(p)) => Some(p),
        _ => None,
    }
}

/// The task's last `verify.finished`, when it failed: what it still has to fix.
pub fn last_failure(events: &[Event]) -> Option<&Event> {
    let last = events
        .iter()
        .rev()
        .find(|e| e.kind == event_kind::VERIFY_FINISHED)?;
    verify_of(last).is_some_and(|v| !v.passed).then_some(last)
}

/// How a failure's output is shown: in full, or by naming the command that shows it (none
/// where no command of this surface would).
#[derive(Clone, Copy)]
pub enum Output<'a> {
    Full,
    Elsewhere(Option<&'a str>),
}

/// One verify result: its sentence (with the headline when it failed), then for a failure the
/// failing tests and their first lines (or the lines that look like the cause), and the output
/// as `output` says. Every line starts with `indent`.
pub fn verify_lines(event: &Event, output: Output<'_>, indent: &str) -> Vec<String> {
    let mut lines = vec![format!("{indent}{}", describe(event))];
    let Some(verify) = verify_of(event).filter(|v| !v.passed) else {
        return lines;
    };
    if let Some(failure) = &verify.failure {
        lines.extend(failure.block().lines().map(|l| format!("{indent}  {l}")));
    }
    if verify.tail.trim().is_empty() {
        return lines;
    }
    match output {
        Output::Full => {
            lines.push(format!("{indent}  output:"));
            lines.extend(
                plain(verify.tail.trim_end())
                    .lines()
                    .map(|l| format!("{indent}    {l}")),
            );
        }
        Output::Elsewhere(Some(command)) => {
            lines.push(format!("{indent}  the whole output: `{command}`"));
        }
        Output::Elsewhere(None) => {}
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::failures::summarize;
    use gaffer_core::{NewEvent, ObjectId, Seq, TaskId};

    const OUTPUT: &str =
        "\u{1b}[31mFAILED\u{1b}[0m tests/a.py::test_x - assert 1 == 2\n1 failed in 0.1s\n";

    fn event(passed: bool) -> Event {
        let failure = (!passed).then(|| summarize(OUTPUT));
        let new = NewEvent::of(Payload::VerifyFinished(VerifyFinished {
            commit: ObjectId("1a2b3c4d5e6f".into()),
            tree: ObjectId("9f8e7d6c".into()),
            purpose: gaffer_core::payload::VerifyOf::Branch,
            passed,
            exit_code: Some(if passed { 0 } else { 1 }),
            timed_out: false,
            duration_ms: 100,
            tail: OUTPUT.into(),
            slot: None,
            failure,
        }));
        Event {
            seq: Seq(4),
            at_ms: 0,
            project: None,
            task: Some(TaskId(3)),
            run: None,
            kind: new.kind,
            data: new.data,
        }
    }

    #[test]
    fn a_failure_lists_its_tests_and_says_where_the_output_is() {
        let lines = verify_lines(
            &event(false),
            Output::Elsewhere(Some("gaffer task show 3 --full")),
            "  ",
        );
        assert_eq!(
            lines,
            [
                "  verify FAILED (exit 1) on 1a2b3c4 (branch) in 100 ms: 1 test failed: test_x",
                "    Failing tests:",
                "      tests/a.py::test_x",
                "          assert 1 == 2",
                "    the whole output: `gaffer task show 3 --full`",
            ]
        );
        let full = verify_lines(&event(false), Output::Full, "");
        assert_eq!(
            &full[full.len() - 3..],
            [
                "  output:",
                "    FAILED tests/a.py::test_x - assert 1 == 2",
                "    1 failed in 0.1s",
            ]
        );
        // A pass is its sentence.
        assert_eq!(
            verify_lines(&event(true), Output::Elsewhere(None), "").len(),
            1
        );
        // Where no command shows more, nothing is suggested.
        assert_eq!(
            verify_lines(&event(false), Output::Elsewhere(None), "").len(),
            4
        );
    }

    #[test]
    fn an_evidence_note_shows_its_lead_unless_full() {
        let failure = summarize(OUTPUT);
        let note = failure.evidence("`pytest` exit code 1", OUTPUT);
        assert_eq!(
            note_lines(&note, false),
            ["1 test failed: test_x", "`pytest` exit code 1"]
        );
        let full = note_lines(&note, true);
        assert!(
            full.contains(&"FAILED tests/a.py::test_x - assert 1 == 2".to_string()),
            "{full:?}"
        );
        assert_eq!(note_lines("waits for\nyou", false), ["waits for", "you"]);
    }

    #[test]
    fn the_last_failure_is_the_last_verify_only_if_it_failed() {
        let (failed, passed) = (event(false), event(true));
        assert!(last_failure(std::slice::from_ref(&failed)).is_some());
        assert!(last_failure(&[failed.clone(), passed.clone()]).is_none());
        assert!(last_failure(&[passed, failed]).is_some());
    }
}
