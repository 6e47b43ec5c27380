// What every page shares: the names of things, one line about each event, and the board as last
// fetched (tasks, cost per task, recent events, what each run is), kept fresh by live events.

import { get } from './api.js';
import { debounce, fmt } from './dom.js';
import { parseVerdict } from './transcript.js';

/** Every task status, in pipeline order, with the words people see. */
export const STATUSES = [
  ['backlog', 'Backlog'],
  ['ready', 'Ready'],
  ['planning', 'Planning'],
  ['plan_review', 'Plan review'],
  ['delegated', 'Delegated'],
  ['coding', 'Coding'],
  ['verifying', 'Verifying'],
  ['reviewing', 'Reviewing'],
  ['needs_input', 'Needs input'],
  ['awaiting_approval', 'Awaiting approval'],
  ['queued', 'Queued'],
  ['merging', 'Merging'],
  ['merged', 'Merged'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
];
export const STATUS_NAME = Object.fromEntries(STATUSES);
export const TERMINAL = new Set(['merged', 'failed', 'cancelled']);
export const WAITS_ON_PERSON = new Set(['needs_input', 'awaiting_approval']);
export const ROLES = ['planner', 'plan_reviewer', 'coder', 'reviewer', 'resolver'];

export function statusName(status) {
  return STATUS_NAME[status] || status;
}

// ---- one line per event ------------------------------------------------------------------------

/** `{icon, text, tone}` for an event: what a person reads in the feed. */
export function describe(event) {
  const d = event.data || {};
  switch (event.kind) {
    case 'task.created':
      return { icon: '+', text: `created “${d.title || ''}”`, tone: 'info' };
    case 'task.status': {
      const note = d.note ? ` — ${d.note}` : '';
      return { icon: '→', text: `${statusName(d.from)} → ${statusName(d.to)} (${d.input})${note}`, tone: toneOf(d.to) };
    }
    case 'task.notice':
      if (d.action) return { icon: '✎', text: `${d.action} by ${d.by || 'someone'}`, tone: 'info' };
      return { icon: '•', text: String(d.notice || JSON.stringify(d)).replace(/_/g, ' '), tone: d.notice === 'merged' ? 'ok' : 'info' };
    case 'run.started':
      return { icon: '▶', text: `${d.role || 'agent'} run started: ${d.agent || ''}${d.model ? ` (${d.model})` : ''}`, tone: 'info' };
    case 'run.output':
      return describeOutput(d);
    case 'run.finished': {
      const cost = d.usage ? ` · ${fmt.cost(d.usage.cost_usd)}` : '';
      const verdict = parseVerdict(d.outcome);
      const text = verdict ? verdictLine(verdict) : d.outcome || d.error || '';
      return { icon: '■', text: `run ${d.status || 'finished'}${cost}${text ? ` — ${firstLine(text)}` : ''}`, tone: d.status === 'succeeded' ? 'ok' : 'bad' };
    }
    case 'run.lost':
      return { icon: '!', text: 'run lost (the daemon stopped during it); it runs again', tone: 'warn' };
    case 'verify.started':
      return { icon: '◌', text: `verify (${d.purpose || 'branch'}) started: ${d.command || ''}`, tone: 'info' };
    case 'verify.finished':
      return {
        icon: d.passed ? '✓' : '✗',
        text: `verify ${d.passed ? 'passed' : 'failed'} (${d.purpose || 'branch'} ${fmt.sha(d.commit)}, exit ${d.exit_code ?? '?'}, ${fmt.duration(d.duration_ms)})`,
        tone: d.passed ? 'ok' : 'bad',
      };
    case 'scope.outside':
      return { icon: '⚠', text: `edits outside its write scope (${[].concat(d.scope || []).join(', ')}): ${[].concat(d.paths || []).join(', ')}${d.enforce === 'reject' ? ' — sent back to the coder' : ' — shown to the reviewer'}`, tone: d.enforce === 'reject' ? 'bad' : 'warn' };
    case 'task.edited':
      return { icon: '✎', text: `edited: ${[].concat(d.changed || []).join(', ')}`, tone: 'info' };
    case 'queue.joined':
      return { icon: '⇢', text: `joined the merge queue${d.position != null ? ` (position ${d.position})` : ''}`, tone: 'info' };
    case 'queue.candidate':
      return { icon: '⇄', text: `candidate ${fmt.sha(d.commit)} built on ${fmt.sha(d.onto)}${d.ahead && d.ahead.length ? ` with ${d.ahead.length} ahead` : ''}${d.verified_already ? ' (already verified)' : ''}`, tone: 'info' };
    case 'queue.parked':
      return { icon: '‖', text: `parked: conflicts with the train ahead${d.files ? ` in ${[].concat(d.files).join(', ')}` : ''}`, tone: 'warn' };
    case 'queue.invalidated':
      return { icon: '↻', text: `candidate ${fmt.sha(d.commit)} dropped${d.reason ? `: ${d.reason}` : ''}`, tone: 'muted' };
    case 'queue.verified':
      return { icon: d.passed ? '✓' : '✗', text: `candidate verify ${d.passed ? 'passed' : 'failed'} (${fmt.sha(d.commit)}${d.duration_ms != null ? `, ${fmt.duration(d.duration_ms)}` : ''})`, tone: d.passed ? 'ok' : 'bad' };
    case 'queue.recheck':
      return { icon: '↻', text: `verify runs again on ${fmt.sha(d.commit)} before blaming the branch`, tone: 'warn' };
    case 'queue.flaky':
      return { icon: '≈', text: `flaky verify on ${fmt.sha(d.commit)}: failed, then passed`, tone: 'warn' };
    case 'queue.landing':
      return { icon: '⬇', text: `landing ${[].concat(d.tasks || []).length || ''} task(s) at ${fmt.sha(d.commit)}`, tone: 'info' };
    case 'queue.landed':
      return { icon: '⬇', text: `landed ${fmt.sha(d.commit)} on ${d.branch || d.target || ''}${Number(d.batch) > 1 ? ` in a batch of ${d.batch}` : ''}${d.time_in_queue_ms != null ? ` after ${fmt.duration(d.time_in_queue_ms)} in the queue` : ''}`, tone: 'ok' };
    case 'queue.ejected':
      return { icon: '⏏', text: `left the merge queue: ${String(d.reason || '').replace(/_/g, ' ')}${d.files ? ` (${[].concat(d.files).join(', ')})` : ''}`, tone: 'bad' };
    case 'queue.conflict':
      return { icon: '⚠', text: `would conflict with the landing tip${d.files ? ` in ${[].concat(d.files).join(', ')}` : ''}; a resolver merges first`, tone: 'warn' };
    case 'queue.target_moved':
      return { icon: '↻', text: 'the target moved; the train is rebuilt', tone: 'warn' };
    case 'queue.pushed':
      return { icon: '⇡', text: `pushed ${fmt.sha(d.commit)} to ${d.remote || ''} ${d.branch || ''}`, tone: 'ok' };
    case 'merge.candidate':
      return { icon: '⇄', text: `merge candidate ${fmt.sha(d.commit)}${d.fast_forward ? ' (fast-forward)' : ''} onto ${fmt.sha(d.onto)}`, tone: 'info' };
    case 'merge.landed':
      return { icon: '⬇', text: `landed ${fmt.sha(d.commit)} on ${d.branch || d.target || ''}`, tone: 'ok' };
    case 'merge.conflict':
      return { icon: '⚠', text: `merge conflict${d.paths ? ` in ${[].concat(d.paths).join(', ')}` : ''}`, tone: 'bad' };
    case 'merge.target_moved':
      return { icon: '↻', text: 'the target moved; the merge starts again', tone: 'warn' };
    case 'engine.started':
      return { icon: '●', text: 'engine started', tone: 'info' };
    case 'engine.stopped':
      return { icon: '○', text: 'engine stopped', tone: 'warn' };
    case 'engine.recovery':
      return { icon: '↺', text: `recovery: ${d.jobs_released || 0} jobs released, ${d.runs_lost || 0} runs lost`, tone: 'info' };
    case 'worktree.cleaned':
      return { icon: '×', text: `worktree cleaned${d.branch ? ` (${d.branch})` : ''}`, tone: 'muted' };
    case 'job.released':
      return { icon: '↺', text: 'job released', tone: 'muted' };
    default:
      return { icon: '·', text: compact(d), tone: 'muted' };
  }
}

function describeOutput(d) {
  switch (d.type) {
    case 'text':
      return { icon: '✉', text: firstLine(d.text), tone: 'muted' };
    case 'status':
      return { icon: '▸', text: d.text, tone: 'info' };
    case 'tool_call':
      return { icon: '⚙', text: d.summary || d.name, tone: 'muted' };
    case 'tool_result':
      return { icon: '↳', text: d.summary || '', tone: d.is_error ? 'bad' : 'muted' };
    case 'question':
      return { icon: '?', text: `asked: ${d.text}`, tone: 'warn' };
    case 'refused':
      return { icon: '⊘', text: `refused ${d.tool}: ${firstLine(d.reason || '')}`, tone: 'bad' };
    case 'usage':
      return { icon: 'Σ', text: `${fmt.tokens(d.usage?.input_tokens)} in, ${fmt.tokens(d.usage?.output_tokens)} out`, tone: 'muted' };
    default:
      return { icon: '·', text: d.text || d.summary || compact(d), tone: 'muted' };
  }
}

function toneOf(status) {
  if (status === 'merged') return 'ok';
  if (status === 'failed') return 'bad';
  if (WAITS_ON_PERSON.has(status)) return 'warn';
  return 'info';
}

/** `approve: Looks right. (1 finding)` */
export function verdictLine(v) {
  const n = v.findings.length;
  return `${v.verdict.replace('_', ' ')}${v.summary ? `: ${v.summary}` : ''}${n ? ` (${n} finding${n === 1 ? '' : 's'})` : ''}`;
}

export function firstLine(text) {
  const line = String(text || '').trim().split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function compact(value) {
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

// ---- the shared board --------------------------------------------------------------------------

const FEED_CAP = 2000;

class Board extends EventTarget {
  constructor() {
    super();
    this.tasks = new Map();
    this.costByTask = new Map();
    this.events = [];
    this.runs = new Map();
    this.activity = new Map();
    /** Task id → paths its latest change edits outside its write scope. */
    this.outsideScope = new Map();
    this.loaded = false;
    this.refreshSoon = debounce(() => this.refresh(), 200);
  }

  /** Fetches every task and the cost of each. */
  async refresh() {
    const [tasks, costs] = await Promise.all([
      get('api/tasks'),
      get('api/usage/breakdown?by=task').catch(() => ({ rows: [] })),
    ]);
    this.tasks = new Map(tasks.map((t) => [t.id, t]));
    this.costByTask = new Map(costs.rows.map((r) => [Number(r.key), r]));
    this.loaded = true;
    this.dispatchEvent(new Event('tasks'));
  }

  /** Takes the recent events the page starts with. */
  seed(events) {
    for (const e of events) this.remember(e);
  }

  /** A live event: kept for the feed, and the tasks fetched again when one changed. */
  take(event) {
    this.remember(event);
    if (event.kind.startsWith('task.') || event.kind === 'run.finished' || event.kind.endsWith('.landed')) {
      this.refreshSoon();
    }
    this.dispatchEvent(new CustomEvent('event', { detail: event }));
  }

  remember(event) {
    this.events.push(event);
    if (this.events.length > FEED_CAP) this.events.splice(0, this.events.length - FEED_CAP);
    const d = event.data || {};
    if (event.kind === 'run.started' && event.run != null) {
      this.runs.set(event.run, { role: d.role, agent: d.agent, model: d.model, task: event.task });
    }
    if (event.task != null) {
      if (event.kind === 'run.output' && d.type === 'status') this.activity.set(event.task, d.text);
      if (event.kind === 'run.started') this.activity.set(event.task, `${d.role || 'agent'} started (${d.agent || ''})`);
      if (event.kind === 'verify.started') this.activity.set(event.task, 'verifying…');
      // A new coder run makes a new change: what was outside the scope is judged again.
      if (event.kind === 'run.started' && (d.role === 'coder' || d.role === 'resolver')) this.outsideScope.delete(event.task);
      if (event.kind === 'scope.outside') this.outsideScope.set(event.task, [].concat(d.paths || []));
      // A new status makes the last activity stale; the next run's lines set it again.
      if (event.kind === 'task.status' && d.from !== d.to) this.activity.delete(event.task);
    }
  }

  /** Who ran `run` (role, agent, model), fetching it once when no event said. */
  async runInfo(run) {
    if (this.runs.has(run)) return this.runs.get(run);
    try {
      const r = await get(`api/runs/${run}`);
      const info = { role: r.role, agent: r.agent, model: r.model, task: r.task };
      this.runs.set(run, info);
      return info;
    } catch (_) {
      return null;
    }
  }

  title(id) {
    const t = this.tasks.get(id);
    return t ? t.title : `task ${id}`;
  }

  /** Tasks that wait on a person: questions and approvals. */
  waiting() {
    return [...this.tasks.values()].filter((t) => WAITS_ON_PERSON.has(t.state.status));
  }
}

export const board = new Board();
