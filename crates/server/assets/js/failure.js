// A failed verify as a person reads it: which tests failed and the first lines of each, with the
// whole output one click away, folded, its colours rendered.
//
// Two sources. A `verify.finished` event carries the summary the engine read from the output
// (`failure`: runner, headline, tests with their detail, total, or the generic lines) beside the
// output's end (`tail`). A task's note, a failed task's reason and a queue ejection carry the
// evidence text the machine keeps, which `gaffer_core::failures::FailureSummary::evidence`
// writes: the headline, the command, a blank line, the failing tests, and after a blank line
// and `Output:` the output. `splitEvidence` cuts it the way `split_evidence` does in Rust.

import { h } from './dom.js';
import { ansi } from './ansi.js';

/** What `FailureSummary::evidence` puts before the output. */
const OUTPUT_MARK = '\n\nOutput:\n';
/** Lines of a note shown before the rest is folded, when it is not evidence. */
const LEAD_LINES = 3;

/**
 * `{ lead, tests, output, rest }` of an evidence text: the lead (headline and command: up to
 * the first blank line), what follows up to the output (the failing tests), and the output
 * (null when the text holds none). A longer note that is not evidence keeps its first lines as
 * the lead and the others as `rest`.
 */
export function splitEvidence(text) {
  const t = String(text || '').trim();
  const at = t.indexOf(OUTPUT_MARK);
  const before = at < 0 ? t : t.slice(0, at);
  const output = at < 0 ? null : t.slice(at + OUTPUT_MARK.length);
  const blank = before.indexOf('\n\n');
  let lead = blank < 0 ? before : before.slice(0, blank);
  let tests = blank < 0 ? '' : before.slice(blank + 2);
  // A note that is not evidence (or evidence from before): a few lines, the rest folded.
  const lines = lead.split('\n');
  if (lines.length > LEAD_LINES) {
    lead = lines.slice(0, LEAD_LINES).join('\n');
    const rest = lines.slice(LEAD_LINES).join('\n');
    return { lead, tests: '', output: null, rest: [rest, tests, output].filter(Boolean).join('\n\n') };
  }
  return { lead, tests, output, rest: null };
}

/** The first line of a note: a failed verify's headline. */
export function headline(note) {
  return String(note || '').trim().split('\n')[0];
}

/** Output folded behind a click: `<details>` whose `<pre>` renders the colours. */
export function folded(text, key, label = 'Full output') {
  const lines = String(text).replace(/\n+$/, '').split('\n').length;
  return h('details', { class: 'full-output', dataset: { key } },
    h('summary', {}, `${label} (${lines} line${lines === 1 ? '' : 's'})`),
    h('pre', { class: 'output' }, ansi(text)));
}

/** A note or reason made of evidence: its lead, the failing tests, the output folded. */
export function evidenceView(text, key) {
  const { lead, tests, output, rest } = splitEvidence(text);
  const [first, ...then] = lead.split('\n');
  return h('div', { class: 'failure' },
    h('p', { class: 'failure-headline' }, first),
    then.length ? h('p', { class: 'failure-command muted' }, then.join('\n')) : null,
    tests ? h('pre', { class: 'failure-block' }, tests) : null,
    output ? folded(output, key) : null,
    rest ? folded(rest, key, 'The rest') : null);
}

/** The summary a `verify.finished` event carries: the headline and each failing test. */
export function summaryView(failure) {
  const count = Math.max(failure.total || 0, (failure.tests || []).length);
  const more = count - (failure.tests || []).length;
  return h('div', { class: 'failure' },
    h('p', { class: 'failure-headline' }, failure.headline),
    (failure.tests || []).length
      ? h('ol', { class: 'failure-tests' },
        failure.tests.map((t) => h('li', { class: 'failure-test' },
          h('code', { class: 'failure-name' }, t.name),
          (t.detail || []).length ? h('pre', { class: 'failure-detail' }, t.detail.join('\n')) : null)),
        more > 0 ? h('li', { class: 'muted failure-more' }, `… and ${more} more`) : null)
      : null,
    (failure.lines || []).length
      ? h('pre', { class: 'failure-detail failure-lines' }, failure.lines.join('\n'))
      : null);
}
