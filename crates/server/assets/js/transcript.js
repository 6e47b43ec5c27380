// One agent run, readable: what it said, its progress lines, its question, and its tool calls
// folded (each call with its result; long stretches of calls folded once more).

import { h } from './dom.js';

/** Calls in a row beyond which they are folded into one line. */
const FOLD_AFTER = 3;

/** The transcript of a run from its `run.*` events. */
export function renderTranscript(run, events) {
  const items = [];
  let tools = [];
  const flush = () => {
    if (!tools.length) return;
    if (tools.length > FOLD_AFTER) {
      const errors = tools.filter((t) => t.result && t.result.is_error).length;
      items.push(h('details', { class: 'tool-group', dataset: { key: `run-${run.id}-tools-${tools[0].seq}` } },
        h('summary', {}, `⚙ ${tools.length} tool calls`, errors ? h('span', { class: 'bad' }, ` · ${errors} failed`) : null,
          h('span', { class: 'muted' }, ` — ${names(tools)}`)),
        tools.map((t) => toolCall(run, t))));
    } else {
      for (const t of tools) items.push(toolCall(run, t));
    }
    tools = [];
  };
  for (const ev of events) {
    if (ev.kind !== 'run.output') continue;
    const d = ev.data || {};
    if (d.type === 'tool_call') {
      tools.push({ seq: ev.seq, call: d, result: null });
      continue;
    }
    if (d.type === 'tool_result') {
      const open = [...tools].reverse().find((t) => !t.result);
      if (open) open.result = d;
      else tools.push({ seq: ev.seq, call: null, result: d });
      continue;
    }
    if (d.type === 'usage') continue;
    flush();
    if (d.type === 'text') items.push(h('div', { class: 'msg' }, d.text));
    else if (d.type === 'status') items.push(h('div', { class: 'status-line' }, `▸ ${d.text}`));
    else if (d.type === 'question') items.push(h('div', { class: 'question' }, h('strong', {}, 'Asked: '), d.text));
    else items.push(h('div', { class: 'muted small' }, ev.text || d.type));
  }
  flush();
  if (!items.length && (run.status === 'running' || !run.outcome)) {
    items.push(h('p', { class: 'muted' }, run.status === 'running' ? 'Nothing yet: the agent is starting…' : 'No messages or tool calls were recorded.'));
  }
  return h('div', { class: 'transcript' }, items);
}

function names(tools) {
  const counts = new Map();
  for (const t of tools) {
    const n = (t.call && t.call.name) || 'result';
    counts.set(n, (counts.get(n) || 0) + 1);
  }
  return [...counts].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ');
}

function toolCall(run, t) {
  const failed = t.result && t.result.is_error;
  const pending = !t.result && run.status === 'running';
  const name = (t.call && t.call.name) || 'tool';
  return h('details', { class: ['tool', failed ? 'tool-failed' : null], dataset: { key: `run-${run.id}-tool-${t.seq}` } },
    h('summary', {},
      h('span', { class: 'tool-name' }, `⚙ ${name}`),
      h('span', { class: 'tool-summary' }, (t.call && t.call.summary) || ''),
      t.result ? h('span', { class: failed ? 'bad' : 'ok' }, failed ? ' ✗' : ' ✓') : null,
      pending ? h('span', { class: 'muted' }, ' …') : null),
    h('div', { class: 'tool-body' },
      t.call ? h('div', {}, h('span', { class: 'muted' }, 'call: '), t.call.summary || name) : null,
      t.result ? h('div', { class: failed ? 'bad' : '' }, h('span', { class: 'muted' }, 'result: '), t.result.summary || '(empty)') : null,
      !t.result && !pending ? h('div', { class: 'muted' }, 'the agent reported no result') : null));
}

/**
 * A reviewer's verdict from its final message: the JSON object alone, in a fenced block, or
 * within prose. `null` when there is none.
 */
export function parseVerdict(text) {
  if (!text) return null;
  const candidates = [];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  if (fenced) candidates.push(fenced[1]);
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  for (const c of candidates) {
    try {
      const v = JSON.parse(c);
      if (v && typeof v === 'object' && typeof v.verdict === 'string') {
        return { verdict: v.verdict, summary: v.summary || '', findings: Array.isArray(v.findings) ? v.findings : [] };
      }
    } catch (_) {
      // not this one
    }
  }
  return null;
}
