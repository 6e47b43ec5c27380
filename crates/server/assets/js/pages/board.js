// The board: one column per status, cards that move as the engine works, and a form to add a
// task.

import { explain, post } from '../api.js';
import { fill, fmt, h, toast } from '../dom.js';
import { STATUSES, board } from '../model.js';
import { headline, splitEvidence } from '../failure.js';

/** Columns shown even when empty, so the board keeps its shape. */
const ALWAYS = new Set(['coding', 'verifying', 'queued', 'merged']);
/** Columns of finished work show the most recent few. */
const FINISHED = new Set(['merged', 'cancelled']);
const FINISHED_SHOWN = 12;

export function mount(root) {
  const columns = h('div', { class: 'columns', id: 'board-columns' });
  const summary = h('p', { class: 'muted board-summary' });
  const form = newTaskForm();
  fill(root,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Board'),
      summary,
      h('button', { class: 'primary', id: 'new-task-button', onclick: () => toggle(form) }, '+ New task')),
    form,
    columns);

  const expanded = new Set();
  const render = () => {
    if (!board.loaded) {
      fill(columns, h('p', { class: 'empty' }, 'Loading the board…'));
      return;
    }
    const byStatus = new Map(STATUSES.map(([s]) => [s, []]));
    for (const t of board.tasks.values()) {
      if (!byStatus.has(t.state.status)) byStatus.set(t.state.status, []);
      byStatus.get(t.state.status).push(t);
    }
    const total = board.tasks.size;
    const waiting = board.waiting().length;
    summary.textContent = `${total} task${total === 1 ? '' : 's'}${waiting ? ` · ${waiting} waiting on a person` : ''}`;
    const cols = [];
    for (const [status, name] of STATUSES) {
      const tasks = byStatus.get(status) || [];
      if (!tasks.length && !ALWAYS.has(status)) continue;
      tasks.sort((a, b) => (FINISHED.has(status) ? b.updated_ms - a.updated_ms : b.priority - a.priority || a.id - b.id));
      const limit = FINISHED.has(status) && !expanded.has(status) ? FINISHED_SHOWN : Infinity;
      const shown = tasks.slice(0, limit);
      cols.push(h('section', { class: ['column', `col-${status}`], dataset: { status }, 'aria-label': name },
        h('header', {}, h('span', { class: ['dot', `st-${status}`] }), h('h2', {}, name), h('span', { class: 'count' }, String(tasks.length))),
        h('div', { class: 'cards' },
          shown.length ? shown.map(card) : h('p', { class: 'column-empty' }, '—'),
          tasks.length > shown.length
            ? h('button', { class: 'link', onclick: () => { expanded.add(status); render(); } }, `show ${tasks.length - shown.length} more`)
            : null)));
    }
    fill(columns, cols);
  };

  const onTasks = () => render();
  const onEvent = (e) => {
    // Activity lines (what an agent is doing) change without the task changing.
    const ev = e.detail;
    if (ev.task != null && (ev.kind === 'run.output' || ev.kind === 'run.started' || ev.kind === 'verify.started')) {
      const line = columns.querySelector(`.card[data-id="${ev.task}"] .activity`);
      if (line) line.textContent = board.activity.get(ev.task) || '';
    }
  };
  board.addEventListener('tasks', onTasks);
  board.addEventListener('event', onEvent);
  const clock = setInterval(() => {
    for (const el of columns.querySelectorAll('[data-ago]')) el.textContent = fmt.ago(Number(el.dataset.ago));
  }, 15000);
  render();
  return {
    unmount() {
      board.removeEventListener('tasks', onTasks);
      board.removeEventListener('event', onEvent);
      clearInterval(clock);
    },
  };
}

function card(t) {
  const st = t.state;
  const cost = board.costByTask.get(t.id);
  const activity = board.activity.get(t.id);
  const risky = st.risk === 'high' || st.risk === 'critical';
  const outside = board.outsideScope.get(t.id);
  return h('a', { class: ['card', `card-${st.status}`], href: `#/task/${t.id}`, dataset: { id: String(t.id), status: st.status } },
    h('div', { class: 'card-top' },
      h('span', { class: 'card-id' }, `#${t.id}`),
      t.kind !== 'task' ? h('span', { class: 'chip' }, t.kind) : null,
      st.risk !== 'low' ? h('span', { class: ['chip', risky ? 'chip-bad' : 'chip-warn'] }, `risk ${st.risk}`) : null,
      h('span', { class: 'card-ago', dataset: { ago: String(t.updated_ms) } }, fmt.ago(t.updated_ms))),
    h('div', { class: 'card-title' }, t.title),
    st.note && (st.status === 'needs_input' || st.status === 'awaiting_approval')
      ? h('div', { class: 'card-note warn' }, st.note)
      : null,
    // A failure leads with its headline (which tests failed); the rest is on the task page.
    st.note && st.status === 'failed'
      ? h('div', { class: 'card-note bad', title: splitEvidence(st.note).lead }, headline(st.note))
      : null,
    outside && outside.length && !['merged', 'cancelled'].includes(st.status)
      ? h('div', { class: 'card-note warn scope-outside', title: outside.join('\n') }, `outside its write scope: ${outside.join(', ')}`)
      : null,
    h('div', { class: 'activity' }, activity && !['merged', 'cancelled', 'failed'].includes(st.status) ? activity : ''),
    h('div', { class: 'card-foot' },
      t.labels.map((l) => h('span', { class: 'label' }, l)),
      st.total_failures ? h('span', { class: 'chip chip-warn', title: 'attempts sent back (verify failed, no change, or a failed run)' }, `${st.total_failures} sent back`) : null,
      cost ? h('span', { class: 'card-cost', title: `${fmt.int(cost.usage.input_tokens)} in, ${fmt.int(cost.usage.output_tokens)} out` }, fmt.cost(cost.usage.cost_usd)) : null));
}

function toggle(form) {
  form.hidden = !form.hidden;
  if (!form.hidden) form.querySelector('input').focus();
}

function newTaskForm() {
  const form = h('form', { class: 'panel new-task', id: 'new-task', hidden: true },
    h('div', { class: 'field' },
      h('label', { for: 'nt-title' }, 'Title'),
      h('input', { id: 'nt-title', name: 'title', required: true, placeholder: 'Fix the login redirect', autocomplete: 'off' })),
    h('div', { class: 'field' },
      h('label', { for: 'nt-body' }, 'Details'),
      h('textarea', { id: 'nt-body', name: 'body', rows: 3, placeholder: 'What should change, and how to tell it worked' })),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' },
        h('label', { for: 'nt-labels' }, 'Labels'),
        h('input', { id: 'nt-labels', name: 'labels', placeholder: 'docs, ui', autocomplete: 'off' })),
      h('div', { class: 'field' },
        h('label', { for: 'nt-risk' }, 'Risk'),
        h('select', { id: 'nt-risk', name: 'risk' }, ['low', 'medium', 'high', 'critical'].map((r) => h('option', { value: r }, r)))),
      h('div', { class: 'field' },
        h('label', { for: 'nt-priority' }, 'Priority'),
        h('input', { id: 'nt-priority', name: 'priority', type: 'number', value: '0', step: '1' }))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Add task'),
      h('button', { type: 'button', class: 'ghost', onclick: () => { form.hidden = true; } }, 'Close')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = {
      title: String(data.get('title') || '').trim(),
      body: String(data.get('body') || '').trim(),
      labels: String(data.get('labels') || '').split(',').map((s) => s.trim()).filter(Boolean),
      risk: String(data.get('risk') || 'low'),
      priority: Math.trunc(Number(data.get('priority')) || 0),
    };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const task = await post('api/tasks', body);
      toast(`Added task #${task.id}`);
      form.reset();
      form.hidden = true;
      board.refresh().catch(() => {});
    } catch (err) {
      toast(explain(err), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
