// What waits on a person: questions to answer, changes to approve, proposals to take or leave,
// and failed tasks to retry.

import { explain, post } from '../api.js';
import { fill, fmt, h, keepTyped, openState, toast } from '../dom.js';
import { TERMINAL, board } from '../model.js';
import { answerForm, approvalPanel } from './task.js';
import { evidenceView } from '../failure.js';

export function mount(root) {
  const body = h('div', { class: 'people' });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'People'), h('span', { class: 'muted' }, 'what only a person decides')), body);

  const act = (task) => async (button, path, payload, done) => {
    button.disabled = true;
    try {
      await post(`api/tasks/${task.id}/${path}`, payload);
      toast(done);
      await board.refresh();
    } catch (e) {
      toast(explain(e), 'error');
      button.disabled = false;
    }
  };

  // Re-rendering while someone types would lose their text: keep what was typed per task.
  const render = () => {
    if (!board.loaded) {
      fill(body, h('p', { class: 'empty' }, 'Loading…'));
      return;
    }
    const restoreTyped = keepTyped(body);
    // Nor may it fold an output someone unfolded.
    const restoreOpen = openState(body);
    const tasks = [...board.tasks.values()].sort((a, b) => a.id - b.id);
    const questions = tasks.filter((t) => t.state.status === 'needs_input');
    const approvals = tasks.filter((t) => t.state.status === 'awaiting_approval');
    const proposals = tasks.filter((t) => t.kind === 'proposal' && !TERMINAL.has(t.state.status) && t.state.status !== 'needs_input' && t.state.status !== 'awaiting_approval');
    const failed = tasks.filter((t) => t.state.status === 'failed');

    fill(body,
      group('Questions', 'questions', questions, 'No agent is waiting for an answer.', (t) => item(t, answerForm(t, act(t)))),
      group('Approvals', 'approvals', approvals, 'Nothing waits for approval.', (t) => item(t, approvalPanel(t, act(t)))),
      group('Proposals', 'proposals', proposals, 'No proposals.', (t) => item(t, proposal(t, act(t)))),
      group('Failed', 'failed', failed, 'Nothing failed.', (t) => item(t, retry(t, act(t)))));

    restoreTyped();
    restoreOpen(body);
  };

  board.addEventListener('tasks', render);
  render();
  return { unmount() { board.removeEventListener('tasks', render); } };
}

function group(title, key, tasks, none, draw) {
  return h('section', { class: 'people-group', id: `people-${key}` },
    h('h2', {}, title, ' ', h('span', { class: 'count' }, String(tasks.length))),
    tasks.length ? tasks.map(draw) : h('p', { class: 'muted' }, none));
}

function item(task, body) {
  const cost = board.costByTask.get(task.id);
  return h('article', { class: 'person-item', dataset: { task: String(task.id) } },
    h('header', {},
      h('a', { href: `#/task/${task.id}` }, h('span', { class: 'muted' }, `#${task.id} `), task.title),
      h('span', { class: 'muted small' }, ` · ${fmt.ago(task.updated_ms)}${cost ? ` · ${fmt.cost(cost.usage.cost_usd)}` : ''}`),
      task.state.status === 'awaiting_approval' ? h('a', { class: 'small', href: `#/task/${task.id}` }, ' · see the change →') : null),
    body);
}

/** A proposal: accept it (it becomes a task) or decline it, with a reason if one is given. */
function proposal(task, act) {
  const reason = h('input', { name: 'reason', placeholder: 'Why not (optional)', 'aria-label': `Reason to decline proposal ${task.id}` });
  return h('div', { class: 'panel action-panel proposal', dataset: { task: String(task.id) } },
    task.body ? h('p', { class: 'prose' }, task.body) : null,
    reason,
    h('div', { class: 'actions' },
      h('button', { class: 'primary accept', onclick: (e) => act(e.currentTarget, 'accept', {}, `Proposal #${task.id} is a task now`) }, 'Accept'),
      h('a', { class: 'button', href: `#/task/${task.id}` }, 'Open'),
      h('button', { class: 'danger ghost decline', onclick: (e) => act(e.currentTarget, 'decline', { reason: reason.value.trim() || null }, `Declined proposal #${task.id}`) }, 'Decline')));
}

function retry(task, act) {
  return h('div', { class: 'panel action-panel', dataset: { task: String(task.id) } },
    task.state.note ? evidenceView(task.state.note, `people-note-${task.id}`) : null,
    h('div', { class: 'actions' },
      h('button', { class: 'primary', onclick: (e) => act(e.currentTarget, 'retry', {}, `Task #${task.id} goes again`) }, 'Retry'),
      h('button', { class: 'danger ghost', onclick: (e) => act(e.currentTarget, 'cancel', { reason: 'given up from the dashboard' }, `Cancelled task #${task.id}`) }, 'Give up')));
}
