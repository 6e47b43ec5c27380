// The merge queue, from `GET /api/queue`. A daemon without that route says so, and the page then
// shows the tasks that are queued or merging from the board instead.

import { ApiError, explain, get } from '../api.js';
import { debounce, fill, fmt, h } from '../dom.js';
import { board, statusName } from '../model.js';

export function mount(root) {
  const body = h('div', { class: 'queue' }, h('p', { class: 'empty' }, 'Loading the merge queue…'));
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Merge queue'), h('span', { class: 'muted' }, 'verified work, landing one at a time')), body);
  let alive = true;
  let available = null;

  const load = async () => {
    try {
      const queue = await get('api/queue');
      available = true;
      if (alive) fill(body, renderQueue(queue));
    } catch (e) {
      if (!alive) return;
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
        available = false;
        fill(body, notAvailable());
      } else {
        fill(body, h('p', { class: 'empty' }, explain(e)));
      }
    }
  };
  const reload = debounce(load, 300);
  const onEvent = (e) => {
    const k = e.detail.kind;
    if (k.startsWith('merge.') || k.startsWith('queue.') || k === 'task.status') reload();
  };
  const onTasks = () => { if (available === false) fill(body, notAvailable()); };
  board.addEventListener('event', onEvent);
  board.addEventListener('tasks', onTasks);
  load();
  return {
    resync: reload,
    unmount() {
      alive = false;
      reload.cancel();
      board.removeEventListener('event', onEvent);
      board.removeEventListener('tasks', onTasks);
    },
  };
}

function notAvailable() {
  const waiting = [...board.tasks.values()]
    .filter((t) => t.state.status === 'queued' || t.state.status === 'merging')
    .sort((a, b) => (a.state.status === 'merging' ? -1 : 0) - (b.state.status === 'merging' ? -1 : 0) || b.priority - a.priority || a.id - b.id);
  return [
    h('div', { class: 'panel notice', id: 'queue-unavailable' },
      h('strong', {}, 'The merge queue is not available on this daemon. '),
      'It has no ', h('code', {}, 'GET /api/queue'), ' yet; below are the tasks the board shows as queued or merging.'),
    h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'Queued and merging'), h('span', { class: 'count' }, String(waiting.length))),
      waiting.length
        ? h('ol', { class: 'queue-list' }, waiting.map((t) => h('li', {},
          h('span', { class: ['pill', `st-${t.state.status}`] }, statusName(t.state.status)),
          h('a', { href: `#/task/${t.id}` }, h('span', { class: 'muted' }, `#${t.id} `), t.title),
          h('span', { class: 'muted small' }, ` · ${fmt.ago(t.updated_ms)}`))))
        : h('p', { class: 'muted' }, 'Nothing is waiting to land.')),
  ];
}

/** Whatever shape the queue has: a list, or an object holding lists and figures. */
function renderQueue(queue) {
  const lists = Array.isArray(queue) ? [['Entries', queue]] : Object.entries(queue || {}).filter(([, v]) => Array.isArray(v));
  const figures = Array.isArray(queue) ? [] : Object.entries(queue || {}).filter(([, v]) => v !== null && typeof v !== 'object');
  return [
    figures.length ? h('div', { class: 'stats' }, figures.map(([k, v]) => h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, String(v)), h('div', { class: 'stat-name' }, k.replace(/_/g, ' '))))) : null,
    lists.map(([name, items]) => h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', {}, name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())), h('span', { class: 'count' }, String(items.length))),
      items.length ? h('ol', { class: 'queue-list' }, items.map(entry)) : h('p', { class: 'muted' }, 'Nothing is waiting to land.'))),
  ];
}

function entry(item) {
  if (item === null || typeof item !== 'object') return h('li', {}, String(item));
  const task = item.task && typeof item.task === 'object' ? item.task : null;
  const id = task ? task.id : (typeof item.task === 'number' ? item.task : item.id);
  const title = (task && task.title) || item.title || board.title(id);
  const status = (task && task.state && task.state.status) || item.status || (board.tasks.get(id)?.state.status);
  const rest = Object.entries(item).filter(([k, v]) => !['task', 'id', 'title', 'status'].includes(k) && v !== null && typeof v !== 'object');
  return h('li', {},
    status ? h('span', { class: ['pill', `st-${status}`] }, statusName(status)) : null,
    id != null ? h('a', { href: `#/task/${id}` }, h('span', { class: 'muted' }, `#${id} `), title) : h('span', {}, title || ''),
    rest.map(([k, v]) => h('span', { class: 'chip' }, `${k.replace(/_/g, ' ')}: ${typeof v === 'string' && /^[0-9a-f]{40}$/.test(v) ? fmt.sha(v) : v}`)));
}
