// Undo and redirect, on the task and queue pages: revert a merged task (a new task carries the
// revert through verify and the merge queue), change what a waiting task waits for, its scopes
// and priority (`PATCH api/tasks/{id}`), and move a task in the merge queue's waiting line.

import { explain, patch, post } from '../api.js';
import { h, toast } from '../dom.js';
import { board } from '../model.js';

/** The button that reverts a merged task; on success the page goes to the new task. */
export function revertButton(task) {
  return h('button', {
    class: 'ghost revert',
    onclick: async (e) => {
      const button = e.currentTarget;
      if (!window.confirm(`Revert task #${task.id}? A new task undoes its change and lands through verify and the merge queue.`)) return;
      button.disabled = true;
      try {
        const revert = await post(`api/tasks/${task.id}/revert`, {});
        toast(`Task #${revert.id} reverts task #${task.id}`);
        board.refresh().catch(() => {});
        window.location.hash = `#/task/${revert.id}`;
      } catch (err) {
        toast(explain(err), 'error');
        button.disabled = false;
      }
    },
  }, 'Revert');
}

/** Ids or globs typed as a list: split at commas and spaces, blanks dropped. */
function list(text) {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/** What a waiting task waits for, the paths it writes and reads, and its priority. */
export function editForm(task, reload) {
  const field = (name, label, value, placeholder) => h('label', {}, label, ' ',
    h('input', { name, value, placeholder, 'aria-label': `${label} of task ${task.id}` }));
  const form = h('form', { class: 'edit-form', dataset: { task: String(task.id) } },
    field('deps', 'After', task.blocked_by.join(', '), 'task ids, e.g. 3, 4'),
    field('write_scope', 'Writes', task.write_scope.join(', '), 'globs, e.g. src/**'),
    field('read_scope', 'Reads', task.read_scope.join(', '), 'globs'),
    h('label', {}, 'Priority ', h('input', { name: 'priority', type: 'number', step: '1', value: String(task.priority), 'aria-label': `Priority of task ${task.id}` })),
    h('button', { type: 'submit', class: 'ghost' }, 'Save changes'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (name) => form.querySelector(`[name="${name}"]`).value;
    const deps = [];
    for (const d of list(value('deps'))) {
      const id = Number(d.replace(/^#/, ''));
      if (!Number.isInteger(id) || id <= 0) {
        toast(`"${d}" is not a task id`, 'error');
        return;
      }
      deps.push(id);
    }
    const changes = {};
    const add = deps.filter((d) => !task.blocked_by.includes(d));
    const remove = task.blocked_by.filter((d) => !deps.includes(d));
    if (add.length) changes.add_deps = add;
    if (remove.length) changes.remove_deps = remove;
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    const writes = list(value('write_scope'));
    const reads = list(value('read_scope'));
    if (!same(writes, task.write_scope)) changes.write_scope = writes;
    if (!same(reads, task.read_scope)) changes.read_scope = reads;
    const priority = Number(value('priority'));
    if (!Number.isInteger(priority)) {
      toast('A priority is a whole number', 'error');
      return;
    }
    if (priority !== task.priority) changes.priority = priority;
    if (!Object.keys(changes).length) {
      toast('Nothing changed');
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const edited = await patch(`api/tasks/${task.id}`, changes);
      toast(`Task #${task.id} changed${edited.state.status !== task.state.status ? `: ${edited.state.status.replace('_', ' ')}` : ''}`);
      board.refresh().catch(() => {});
      reload();
    } catch (err) {
      toast(explain(err), 'error');
      button.disabled = false;
    }
  });
  return form;
}

/** Buttons that move a waiting task to the head of the line, or one place up or down. */
export function moveButtons(waiting, index, reload) {
  const entry = waiting[index];
  const move = async (button, body, what) => {
    button.disabled = true;
    try {
      await post(`api/tasks/${entry.task}/move`, body);
      toast(`Task #${entry.task} ${what}`);
      reload();
    } catch (err) {
      toast(explain(err), 'error');
      button.disabled = false;
    }
  };
  const button = (label, title, body, what, enabled) => h('button', {
    class: 'ghost small move',
    title,
    'aria-label': `${title}: task ${entry.task}`,
    disabled: !enabled,
    onclick: (e) => move(e.currentTarget, body, what),
  }, label);
  const before = waiting[index - 1];
  const after = waiting[index + 1];
  return h('span', { class: 'move-buttons' },
    button('⤒', 'Move to the head of the line', { to: 1 }, 'moved to the head of the line', index > 0),
    button('↑', 'Move up one place', before ? { before: before.task } : { to: 1 }, 'moved up', index > 0),
    button('↓', 'Move down one place', after ? { after: after.task } : { to: waiting.length }, 'moved down', Boolean(after)));
}
