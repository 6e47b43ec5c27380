// What every page shares: the names of things, one line about each event, and the board as last
// fetched (tasks, cost per task, recent events, what each run is), kept fresh by live events.

import { get } from './api.js';
import { debounce } from './dom.js';

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
  ['attached', 'In a person\'s hands'],
  ['queued', 'Queued'],
  ['merging', 'Merging'],
  ['merged', 'Merged'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
];
export const STATUS_NAME = Object.fromEntries(STATUSES);
export const TERMINAL = new Set(['merged', 'failed', 'cancelled']);
export const WAITS_ON_PERSON = new Set(['needs_input', 'awaiting_approval', 'attached']);
export const ROLES = ['planner', 'plan_reviewer', 'coder', 'reviewer', 'resolver'];

export function statusName(status) {
  return STATUS_NAME[status] || status;
}

// ---- one line per event ------------------------------------------------------------------------

/** `{icon, text, tone}` for an event: what a person reads in the feed and the timeline. The words
 * are the server's (`text`, the sentence `gaffer feed` shows); only the icon and tone are chosen
 * here. */
export function describe(event) {
  const [icon, tone] = look(event.kind, event.data || {});
  return { icon, text: event.text || event.kind, tone };
}

/** The icon and tone of a kind (some depend on how it went). */
function look(kind, d) {
  switch (kind) {
    case 'task.created': return ['+', 'info'];
    case 'task.status': return ['→', toneOf(d.to)];
    case 'task.notice':
      if (d.notice === 'merged') return ['•', 'ok'];
      if (d.notice === 'failed' || d.failed) return ['!', 'bad'];
      return [d.action ? '✎' : '•', d.notice === 'needs_input' || d.notice === 'needs_approval' ? 'warn' : 'info'];
    case 'task.edited': return ['✎', 'info'];
    case 'task.revert': return ['↶', 'warn'];
    case 'task.said': return ['💬', 'info'];
    case 'run.heard': return ['👂', 'ok'];
    case 'task.proposed': return ['✚', 'info'];
    case 'proposal.accepted': return ['✓', 'info'];
    case 'run.started': return ['▶', 'info'];
    case 'run.output': return lookOutput(d);
    case 'run.finished': return ['■', d.status === 'succeeded' ? 'ok' : 'bad'];
    case 'run.lost': return ['!', 'warn'];
    case 'verify.started': return ['◌', 'info'];
    case 'verify.finished': return d.passed ? ['✓', 'ok'] : ['✗', 'bad'];
    case 'scope.outside': return ['⚠', d.enforce === 'reject' ? 'bad' : 'warn'];
    case 'secret.refused': return ['⚠', 'bad'];
    case 'queue.joined': return ['⇢', 'info'];
    case 'queue.moved': return ['⇅', 'info'];
    case 'queue.candidate': return ['⇄', 'info'];
    case 'queue.parked': return ['‖', 'warn'];
    case 'queue.invalidated': return ['↻', 'muted'];
    case 'queue.verified': return d.passed ? ['✓', 'ok'] : ['✗', 'bad'];
    case 'queue.recheck': return ['↻', 'warn'];
    case 'queue.flaky': return ['≈', 'warn'];
    case 'queue.batch_formed': return ['⧉', 'info'];
    case 'queue.batch_failed': return ['✗', 'bad'];
    case 'queue.bisecting': return ['½', 'warn'];
    case 'queue.guilty': return ['⚑', 'bad'];
    case 'queue.acquitted': return ['⚐', 'ok'];
    case 'queue.landing': return ['⬇', 'info'];
    case 'queue.landed': return ['⬇', 'ok'];
    case 'queue.ejected': return ['⏏', 'bad'];
    case 'queue.conflict': return ['⚠', 'warn'];
    case 'queue.target_moved': return ['↻', 'warn'];
    case 'queue.pushed': return ['⇡', 'ok'];
    case 'engine.started': return ['●', 'info'];
    case 'engine.stopped': return ['○', 'warn'];
    case 'engine.recovery': return ['↺', 'info'];
    case 'worktree.cleaned': return ['×', 'muted'];
    case 'job.released': return ['↺', 'muted'];
    case 'idle.survey': return ['☼', 'info'];
    case 'best_of.settled': return ['⚖', 'info'];
    case 'budget.day_stop': return ['$', 'warn'];
    case 'budget.day_resumed': return ['$', 'info'];
    case 'budget.released': return ['$', 'info'];
    case 'worker_token.created': return ['⚿', 'info'];
    case 'worker_token.revoked': return ['⚿', 'warn'];
    default: return ['·', 'muted'];
  }
}

function lookOutput(d) {
  switch (d.type) {
    case 'status': return ['▸', 'info'];
    case 'tool_call': return ['⚙', 'muted'];
    case 'tool_result': return ['↳', d.is_error ? 'bad' : 'muted'];
    case 'question': return ['?', 'warn'];
    case 'stuck': return ['!', 'bad'];
    case 'refused': return ['⊘', 'bad'];
    case 'usage': return ['Σ', 'muted'];
    default: return ['✉', 'muted'];
  }
}

function toneOf(status) {
  if (status === 'merged') return 'ok';
  if (status === 'failed') return 'bad';
  if (WAITS_ON_PERSON.has(status)) return 'warn';
  return 'info';
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
