// Usage: what the agents cost and how many tokens they used, over time and by model, role, task
// and agent. Figures come from `GET /api/usage`, `GET /api/usage/breakdown?by=…` and, for the
// running total, the `run.finished` events.

import { explain, get } from '../api.js';
import { debounce, fill, fmt, h } from '../dom.js';
import { bars, columns, runningTotal } from '../chart.js';
import { board } from '../model.js';

const METRICS = {
  cost: { name: 'Cost', of: (u) => u.cost_usd, format: (v) => fmt.cost(v) },
  tokens: { name: 'Tokens', of: (u) => u.input_tokens + u.output_tokens + u.cached_tokens, format: (v) => fmt.tokens(Math.round(v)) },
};

export function mount(root, where) {
  let metric = where.query.get('metric') === 'tokens' ? 'tokens' : 'cost';
  const body = h('div', { class: 'usage' }, h('p', { class: 'empty' }, 'Loading usage…'));
  const toggle = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Measure' },
    Object.entries(METRICS).map(([key, m]) => h('button', {
      class: key === metric ? 'active' : null,
      dataset: { metric: key },
      onclick: () => {
        metric = key;
        history.replaceState(null, '', `#/usage${key === 'cost' ? '' : '?metric=tokens'}`);
        for (const b of toggle.children) b.classList.toggle('active', b.dataset.metric === key);
        draw();
      },
    }, m.name)));
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Usage'), toggle), body);

  let data = null;
  let alive = true;
  const load = async () => {
    try {
      const dims = ['day', 'model', 'role', 'task', 'agent'];
      const [totals, finished, ...rows] = await Promise.all([
        get('api/usage'),
        get('api/events?kind=run.finished&limit=10000'),
        ...dims.map((by) => get(`api/usage/breakdown?by=${by}`)),
      ]);
      data = { totals, finished, by: Object.fromEntries(dims.map((d, i) => [d, rows[i].rows])) };
      if (alive) draw();
    } catch (e) {
      if (alive) fill(body, h('p', { class: 'empty' }, explain(e)));
    }
  };
  const draw = () => {
    if (!data) return;
    const m = METRICS[metric];
    const { totals, finished, by } = data;
    const u = totals.usage;
    const rowsOf = (dim, label = (k) => k, href = null) => by[dim]
      .map((r) => ({ label: label(r.key), value: m.of(r.usage), href: href ? href(r.key) : null, title: `${label(r.key)}: ${fmt.cost(r.usage.cost_usd)} · ${fmt.int(r.usage.input_tokens)} in · ${fmt.int(r.usage.output_tokens)} out · ${r.runs} run${r.runs === 1 ? '' : 's'}` }))
      .sort((a, b) => b.value - a.value);
    const days = by.day.map((r) => ({ label: r.key, value: m.of(r.usage) })).sort((a, b) => (a.label < b.label ? -1 : 1));
    const points = finished.filter((e) => e.data && e.data.usage).map((e) => ({ t: e.at_ms, value: m.of(e.data.usage) }));
    fill(body,
      h('div', { class: 'stats' },
        stat('Cost', fmt.cost(u.cost_usd)),
        stat('Input tokens', fmt.int(u.input_tokens)),
        stat('Output tokens', fmt.int(u.output_tokens)),
        stat('Cached tokens', fmt.int(u.cached_tokens)),
        stat('Runs', fmt.int(totals.runs))),
      h('div', { class: 'charts' },
        chart(`${m.name} over time`, 'over-time', (width) => runningTotal(points, m.format, { width }), 'running total of finished runs'),
        chart(`${m.name} by day`, 'by-day', (width) => columns(days, m.format, { width }), 'UTC days'),
        chart(`${m.name} by model`, 'by-model', (width) => bars(rowsOf('model', (k) => k || '(unknown)'), m.format, { width })),
        chart(`${m.name} by role`, 'by-role', (width) => bars(rowsOf('role', (k) => k.replace('_', ' ')), m.format, { width })),
        chart(`${m.name} by task`, 'by-task', (width) => bars(rowsOf('task', (k) => `#${k} ${board.tasks.get(Number(k))?.title || ''}`.trim(), (k) => `#/task/${k}`), m.format, { width })),
        chart(`${m.name} by agent`, 'by-agent', (width) => bars(rowsOf('agent'), m.format, { width }))));
    // Draw each chart at the width its panel got, so that its text keeps its size.
    for (const panel of body.querySelectorAll('.chart-panel')) {
      const width = Math.max(280, Math.floor(panel.querySelector('.chart-body').clientWidth));
      fill(panel.querySelector('.chart-body'), panel.draw(width));
    }
  };
  const reload = debounce(load, 1000);
  const onEvent = (e) => { if (e.detail.kind === 'run.finished') reload(); };
  const onResize = debounce(draw, 150);
  board.addEventListener('event', onEvent);
  board.addEventListener('tasks', draw);
  window.addEventListener('resize', onResize);
  load();
  return {
    resync: reload,
    unmount() {
      alive = false;
      reload.cancel();
      board.removeEventListener('event', onEvent);
      board.removeEventListener('tasks', draw);
      window.removeEventListener('resize', onResize);
      onResize.cancel();
    },
  };
}

function stat(name, value) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-name' }, name));
}

function chart(title, key, draw, note) {
  const panel = h('section', { class: 'panel chart-panel', id: `usage-${key}` },
    h('div', { class: 'panel-head' }, h('h2', {}, title), note ? h('span', { class: 'muted small' }, note) : null),
    h('div', { class: 'chart-body' }));
  panel.draw = draw;
  return panel;
}
