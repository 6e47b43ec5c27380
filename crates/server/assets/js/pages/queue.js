// The merge queue, from `GET /api/queue`. A daemon without that route says so, and the page then
// shows the tasks that are queued or merging from the board instead.

import { ApiError, explain, get } from '../api.js';
import { debounce, fill, fmt, h } from '../dom.js';
import { board, statusName } from '../model.js';
import { moveButtons } from './redirect.js';

export function mount(root) {
  const body = h('div', { class: 'queue' }, h('p', { class: 'empty' }, 'Loading the merge queue…'));
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Merge queue'), h('span', { class: 'muted' }, 'verified work, landing one at a time')), body);
  let alive = true;
  let available = null;

  const load = async () => {
    try {
      const queue = await get('api/queue');
      // The machines are a daemon's newer route: without it, the page shows the rest.
      const workers = await get('api/workers').catch(() => null);
      available = true;
      if (alive) fill(body, renderQueue(queue, reload), workers ? renderWorkers(workers) : null);
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

/** The queue report: figures, the train in landing order, who waits to join, who left and why. */
function renderQueue(queue, reload) {
  if (!queue || !Array.isArray(queue.train)) return renderAnyShape(queue);
  const m = queue.metrics || {};
  const host = queue.host || {};
  const landing = queue.landing || {};
  return [
    h('p', { class: 'muted queue-where' },
      'Lands on ', h('code', {}, landing.branch || landing.target || '?'),
      queue.tip ? [' at ', h('code', {}, fmt.sha(queue.tip))] : null,
      queue.strategy ? ` · ${queue.strategy}` : null,
      queue.max_candidates ? ` · up to ${queue.max_candidates} candidates at once` : null,
      queue.batch ? ` · batches: ${queue.batch === 'auto' ? `auto (up to ${queue.batch_now ?? '?'} branches now)` : `up to ${queue.batch}`}` : null,
      queue.remote ? [' · pushed to ', h('code', {}, queue.remote)] : null),
    h('div', { class: 'stats' },
      stat('In the train', m.in_train ?? queue.train.length),
      stat('Waiting to join', m.waiting ?? (queue.waiting || []).length),
      stat('Landed in the last hour', m.landed_last_hour ?? 0),
      stat('Landings per hour', m.landings_per_hour != null ? Number(m.landings_per_hour).toFixed(1) : '–'),
      stat('Mean time in queue', m.mean_time_in_queue_ms != null ? fmt.duration(m.mean_time_in_queue_ms) : '–'),
      stat('Landed · ejected · flaky', `${m.landed_total ?? 0} · ${m.ejected_total ?? 0} · ${m.flaky_total ?? 0}`)),
    queue.landing_now ? h('div', { class: 'panel notice' }, h('strong', {}, 'Landing now: '),
      `${fmt.sha(queue.landing_now.commit)}${queue.landing_now.tasks ? ` (${[].concat(queue.landing_now.tasks).map((t) => `#${t}`).join(', ')})` : ''}`) : null,
    (queue.bisecting || []).map((b) => h('div', { class: 'panel notice queue-bisecting', dataset: { group: b.group } },
      h('strong', {}, `Bisecting failed batch ${fmt.sha(b.group)}: `),
      `suspects ${(b.suspects || []).map((t) => `#${t}`).join(' ')}`,
      b.testing && b.testing.length ? ` · testing ${b.testing.map((t) => `#${t}`).join(' ')} now` : '')),
    h('section', { class: 'panel', id: 'queue-train' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'The train'), h('span', { class: 'muted small' }, 'in landing order')),
      queue.train.length ? h('ol', { class: 'queue-list' }, trainItems(queue.train)) : h('p', { class: 'muted' }, 'Nothing is waiting to land.')),
    (queue.waiting || []).length ? h('section', { class: 'panel', id: 'queue-waiting' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'Waiting to join'), h('span', { class: 'count' }, String(queue.waiting.length)),
        h('span', { class: 'muted small' }, 'in the order they join; move them to change it')),
      h('ol', { class: 'queue-list' }, queue.waiting.map((e, i, all) => trainEntry(e, moveButtons(all, i, reload))))) : null,
    (queue.left || []).length ? h('section', { class: 'panel', id: 'queue-left' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'Left the queue lately')),
      h('ul', { class: 'queue-list' }, queue.left.map((x) => h('li', {},
        h('span', { class: 'pill qs-failed' }, String(x.reason || '').replace(/_/g, ' ')),
        x.task != null ? h('a', { href: `#/task/${x.task}` }, h('span', { class: 'muted' }, `#${x.task} `), x.title) : h('span', {}, x.title),
        h('span', { class: 'muted small' }, ` · ${fmt.ago(x.at_ms)}`),
        x.detail ? h('div', { class: 'small queue-detail' }, x.detail) : null,
        x.evidence ? h('details', { class: 'queue-evidence' }, h('summary', {}, 'evidence'), h('pre', { class: 'output' }, x.evidence)) : null)))) : null,
    h('section', { class: 'panel', id: 'queue-host' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'This machine')),
      h('p', { class: 'small' },
        `${host.heavy_slots ?? '?'} heavy slot${host.heavy_slots === 1 ? '' : 's'} · verify ${host.verify_running ?? 0} running, ${host.verify_waiting ?? 0} waiting`,
        host.held_back ? h('span', { class: 'warn' }, ` · held back: ${host.held_back}`) : null)),
  ];
}

/** The machines that take jobs (`GET /api/workers`): labels, jobs held, load, last heard. */
function renderWorkers(workers) {
  const up = workers.filter((w) => w.live).length;
  return h('section', { class: 'panel', id: 'queue-workers' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Machines'), h('span', { class: 'count' }, `${up} up`)),
    workers.length
      ? h('ul', { class: 'queue-list' }, workers.map((w) => h('li', { dataset: { machine: w.name } },
        h('span', { class: ['pill', w.live ? 'qs-passed' : 'qs-failed'] }, w.live ? 'up' : 'gone'), ' ',
        h('code', {}, w.name),
        (w.labels || []).map((l) => h('span', { class: 'chip' }, l)),
        h('span', { class: 'muted small' }, ` · ${w.running} job${w.running === 1 ? '' : 's'}`,
          w.load != null ? ` · load ${Number(w.load).toFixed(2)}` : '',
          ` · heard ${fmt.ago(w.seen_ms)}`))))
      : h('p', { class: 'muted' }, 'No machine has taken jobs yet.'));
}

function stat(name, value) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, String(value)), h('div', { class: 'stat-name' }, name));
}

/** The train's entries, each batch (tasks tested as one candidate) grouped under its heading. */
function trainItems(train) {
  const items = [];
  for (let i = 0; i < train.length; i++) {
    const e = train[i];
    const batch = e.batch || [];
    if (batch.length > 1 && batch[0] === e.task) {
      const members = train.slice(i, i + batch.length);
      items.push(h('li', { class: 'queue-batch', dataset: { batch: batch.join(' ') } },
        h('div', { class: 'small' },
          h('strong', {}, e.suspect ? 'Bisecting: ' : 'Batch: '),
          `${batch.length} branches tested as one candidate`,
          e.suspect ? ` (a part of failed batch ${fmt.sha(e.suspect)})` : ''),
        h('ol', { class: 'queue-list' }, members.map((m) => trainEntry(m)))));
      i += members.length - 1;
    } else {
      items.push(trainEntry(e));
    }
  }
  return items;
}

function trainEntry(e, controls) {
  const c = e.candidate;
  return h('li', { dataset: { task: String(e.task) } },
    controls || null,
    h('span', { class: ['pill', `qs-${e.state}`] }, String(e.state || '').replace(/_/g, ' ')),
    h('a', { href: `#/task/${e.task}` }, h('span', { class: 'muted' }, `#${e.task} `), e.title),
    c ? h('span', { class: 'chip', title: `candidate ${c.commit} on ${c.onto}` }, `candidate ${fmt.sha(c.commit)}`) : null,
    e.ahead && e.ahead.length ? h('span', { class: 'muted small' }, `with ${e.ahead.map((t) => `#${t}`).join(' ')} ahead`) : null,
    e.verify_job_status ? h('span', { class: 'chip' }, `verify ${e.verify_job_status}`) : null,
    e.lead ? h('span', { class: 'chip', title: 'runs the verify of its batch' }, 'runs verify') : null,
    e.suspect ? h('span', { class: 'chip warn', title: `a suspect of failed batch ${e.suspect}` }, 'suspect') : null,
    e.waiting_on && e.waiting_on.length ? h('span', { class: 'muted small' }, `waits on ${e.waiting_on.map((t) => `#${t}`).join(' ')}`) : null,
    e.in_queue_ms != null ? h('span', { class: 'muted small' }, fmt.duration(e.in_queue_ms)) : null,
    e.place != null ? h('span', { class: 'chip', title: 'a person put it here' }, `placed ${e.place}`) : null,
    e.note ? h('div', { class: 'small queue-detail' }, e.note) : null);
}

/** Any other shape: a list, or an object holding lists and figures. */
function renderAnyShape(queue) {
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
