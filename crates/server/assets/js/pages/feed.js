// The feed: every event as it happens, newest first, filterable by task, role, agent and kind.
// The filters live in the address (#/feed?task=3&role=coder), so a filtered feed can be shared.

import { fill, fmt, h } from '../dom.js';
import { ROLES, board, describe } from '../model.js';

const SHOWN = 400;
const KINDS = [
  ['', 'Everything'],
  ['task.', 'Tasks'],
  ['run.', 'Agent runs'],
  ['verify.', 'Verify'],
  ['queue.', 'Merge queue'],
  ['merge.', 'Merges'],
  ['engine.', 'Engine'],
];

export function mount(root, where) {
  const filters = {
    task: where.query.get('task') || '',
    role: where.query.get('role') || '',
    agent: where.query.get('agent') || '',
    kind: where.query.get('kind') || '',
    quiet: where.query.get('quiet') !== '0',
  };
  const list = h('ol', { class: 'feed', id: 'feed-list', 'aria-live': 'off' });
  const count = h('span', { class: 'muted' });
  const bar = h('form', { class: 'filters', id: 'feed-filters' });
  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Feed'), count),
    bar,
    list);

  const pending = new Set();
  const agents = new Set();
  const learnRun = (run) => {
    if (run == null || board.runs.has(run) || pending.has(run)) return;
    pending.add(run);
    board.runInfo(run).then(() => { pending.delete(run); renderSoon(); });
  };

  const matches = (ev) => {
    if (filters.task && String(ev.task) !== filters.task) return false;
    if (filters.kind && !ev.kind.startsWith(filters.kind)) return false;
    if (filters.quiet && ev.kind === 'run.output' && ev.data && ev.data.type === 'usage') return false;
    if (filters.role || filters.agent) {
      if (ev.run == null) return false;
      const info = board.runs.get(ev.run);
      if (!info) { learnRun(ev.run); return false; }
      if (filters.role && info.role !== filters.role) return false;
      if (filters.agent && info.agent !== filters.agent) return false;
    }
    return true;
  };

  const row = (ev) => {
    const what = describe(ev);
    const info = ev.run != null ? board.runs.get(ev.run) : null;
    if (ev.run != null && !info) learnRun(ev.run);
    return h('li', { class: ['event', `tone-${what.tone}`], dataset: { seq: String(ev.seq), kind: ev.kind } },
      h('time', { datetime: new Date(ev.at_ms).toISOString(), title: fmt.datetime(ev.at_ms) }, fmt.time(ev.at_ms)),
      h('span', { class: 'event-icon', 'aria-hidden': 'true' }, what.icon),
      h('span', { class: 'event-kind' }, ev.kind),
      ev.task != null ? h('a', { class: 'event-task', href: `#/task/${ev.task}` }, `#${ev.task} ${board.title(ev.task)}`) : h('span', { class: 'event-task muted' }, 'engine'),
      info ? h('span', { class: 'event-who' }, `${info.role} · ${info.agent}`) : h('span', { class: 'event-who' }),
      h('span', { class: 'event-text' }, what.text));
  };

  const renderBar = () => {
    for (const info of board.runs.values()) if (info.agent) agents.add(info.agent);
    const tasks = [...board.tasks.values()].sort((a, b) => b.id - a.id);
    const select = (name, label, options) => h('label', { class: 'filter' }, h('span', {}, label),
      h('select', { name, onchange: (e) => { filters[name] = e.target.value; sync(); } },
        options.map(([value, text]) => h('option', { value, selected: filters[name] === value }, text))));
    fill(bar,
      select('task', 'Task', [['', 'All tasks'], ...tasks.map((t) => [String(t.id), `#${t.id} ${t.title}`])]),
      select('role', 'Role', [['', 'All roles'], ...ROLES.map((r) => [r, r.replace('_', ' ')])]),
      select('agent', 'Agent', [['', 'All agents'], ...[...agents].sort().map((a) => [a, a])]),
      select('kind', 'Kind', KINDS),
      h('label', { class: 'filter check' },
        h('input', { type: 'checkbox', name: 'quiet', checked: filters.quiet, onchange: (e) => { filters.quiet = e.target.checked; sync(); } }),
        h('span', {}, 'hide token counts')));
  };

  const render = () => {
    const shown = [];
    for (let i = board.events.length - 1; i >= 0 && shown.length < SHOWN; i -= 1) {
      const ev = board.events[i];
      if (matches(ev)) shown.push(ev);
    }
    count.textContent = `${shown.length}${shown.length === SHOWN ? '+' : ''} events`;
    fill(list, shown.length ? shown.map(row) : h('li', { class: 'empty' }, 'No events yet for this filter.'));
  };
  let timer = null;
  const renderSoon = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; render(); }, 100);
  };

  const sync = () => {
    const q = new URLSearchParams();
    for (const key of ['task', 'role', 'agent', 'kind']) if (filters[key]) q.set(key, filters[key]);
    if (!filters.quiet) q.set('quiet', '0');
    const hash = `#/feed${q.toString() ? `?${q}` : ''}`;
    history.replaceState(null, '', hash);
    render();
  };

  const onEvent = (e) => {
    const ev = e.detail;
    if (ev.kind === 'run.started' && ev.data && ev.data.agent && !agents.has(ev.data.agent)) renderBar();
    if (!matches(ev)) return;
    list.querySelector('.empty')?.remove();
    list.prepend(row(ev));
    while (list.children.length > SHOWN) list.lastElementChild.remove();
    count.textContent = `${list.children.length}${list.children.length === SHOWN ? '+' : ''} events`;
  };
  const onTasks = () => { renderBar(); renderSoon(); };
  board.addEventListener('event', onEvent);
  board.addEventListener('tasks', onTasks);
  renderBar();
  render();
  return {
    unmount() {
      board.removeEventListener('event', onEvent);
      board.removeEventListener('tasks', onTasks);
      clearTimeout(timer);
    },
  };
}
