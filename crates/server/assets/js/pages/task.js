// One task: what was asked, where it is, what a person can do about it now, the change with the
// reviewer's findings next to its lines, every verify result, and every run's transcript.

import { ApiError, explain, get, getText, post } from '../api.js';
import { debounce, fill, fmt, h, keepTyped, openState, toast } from '../dom.js';
import { parseDiff, renderDiff, finding } from '../diff.js';
import { TERMINAL, board, describe, statusName } from '../model.js';
import { parseVerdict, renderTranscript } from '../transcript.js';
import { evidenceView, folded, headline, summaryView } from '../failure.js';
import { editForm, revertButton } from './redirect.js';

export function mount(root, where) {
  const id = Number(where.arg);
  const runEvents = new Map();
  let alive = true;

  const load = async () => {
    let detail;
    try {
      detail = await get(`api/tasks/${id}`);
    } catch (e) {
      if (!alive) return;
      const missing = e instanceof ApiError && e.status === 404;
      fill(root, h('div', { class: 'page-head' }, h('h1', {}, `Task ${where.arg}`)),
        h('p', { class: 'empty' }, missing ? 'There is no such task.' : explain(e)),
        h('p', {}, h('a', { href: '#/board' }, '← back to the board')));
      return;
    }
    const [events, diff] = await Promise.all([
      get(`api/tasks/${id}/events?limit=10000`).catch(() => []),
      getText(`api/tasks/${id}/diff`).catch(() => ''),
    ]);
    await Promise.all(detail.runs.map(async (run) => {
      const cached = runEvents.get(run.id);
      if (cached && cached.status === run.status && run.status !== 'running') return;
      const evs = await get(`api/runs/${run.id}/events?limit=10000`).catch(() => []);
      runEvents.set(run.id, { status: run.status, events: evs });
    }));
    if (!alive) return;
    const restore = openState(root);
    const restoreTyped = keepTyped(root);
    fill(root, page(detail, events, diff, runEvents, reload));
    restore(root);
    restoreTyped();
  };
  const reload = debounce(load, 250);

  const onEvent = (e) => {
    if (e.detail.task === id) reload();
  };
  board.addEventListener('event', onEvent);
  fill(root, h('p', { class: 'empty' }, 'Loading the task…'));
  load();
  return {
    resync: reload,
    unmount() {
      alive = false;
      reload.cancel();
      board.removeEventListener('event', onEvent);
    },
  };
}

function page(detail, events, diffText, runEvents, reload) {
  const { task, runs } = detail;
  const st = task.state;
  const usage = runs.reduce((u, r) => ({
    input: u.input + r.usage.input_tokens,
    output: u.output + r.usage.output_tokens,
    cached: u.cached + r.usage.cached_tokens,
    cost: u.cost + r.usage.cost_usd,
  }), { input: 0, output: 0, cached: 0, cost: 0 });
  const verdicts = runs
    .filter((r) => r.role === 'reviewer' || r.role === 'plan_reviewer')
    .map((r) => ({ run: r, verdict: parseVerdict(r.outcome) }))
    .filter((v) => v.verdict);
  const findings = verdicts.filter((v) => v.run.role === 'reviewer').flatMap((v) => v.verdict.findings);
  const verifies = events.filter((e) => e.kind === 'verify.finished' || e.kind === 'queue.verified' || (e.kind === 'queue.ejected' && e.data && e.data.summary));
  const outsideScope = latestOutsideScope(events);
  const timeline = events.filter((e) => e.kind === 'scope.outside' || e.kind === 'task.status' || e.kind === 'task.notice' || e.kind === 'task.edited' || e.kind === 'task.revert' || e.kind === 'task.said' || e.kind === 'run.heard' || e.kind.endsWith('.landed') || e.kind === 'queue.joined' || e.kind === 'queue.moved' || e.kind === 'queue.ejected');

  return h('div', { class: 'task-page', dataset: { id: String(task.id), status: st.status } },
    h('p', { class: 'crumbs' }, h('a', { href: '#/board' }, '← Board')),
    h('div', { class: 'task-head' },
      h('h1', {}, h('span', { class: 'muted' }, `#${task.id} `), task.title),
      h('div', { class: 'task-tags' },
        h('span', { class: ['pill', `st-${st.status}`], id: 'task-status' }, statusName(st.status)),
        task.kind !== 'task' ? h('span', { class: 'chip' }, task.kind) : null,
        h('span', { class: ['chip', st.risk === 'high' || st.risk === 'critical' ? 'chip-bad' : st.risk === 'medium' ? 'chip-warn' : null] }, `risk ${st.risk}`),
        task.labels.map((l) => h('span', { class: 'label' }, l)))),
    actionPanel(task, reload),
    h('div', { class: 'task-grid' },
      h('div', { class: 'task-main' },
        task.body ? section('Description', 'description', h('div', { class: 'prose' }, task.body)) : null,
        task.plan ? section('Plan', 'plan', plan(task.plan)) : null,
        verdicts.length ? section('Review', 'review', verdicts.map(({ run, verdict }) => h('div', { class: ['verdict', verdict.verdict === 'approve' ? 'verdict-ok' : 'verdict-changes'] },
          h('div', { class: 'verdict-head' },
            h('strong', {}, verdict.verdict === 'approve' ? '✓ Approved' : '✗ Changes requested'),
            h('span', { class: 'muted' }, ` by ${run.agent} (run ${run.id}, ${run.role.replace('_', ' ')})`)),
          verdict.summary ? h('p', {}, verdict.summary) : null,
          verdict.findings.map(finding)))) : null,
        section('Change', 'diff', renderDiff(parseDiff(diffText), findings), task.branch ? h('code', { class: 'muted' }, task.branch) : null),
        section('Verify', 'verify', verifies.length ? verifies.slice().reverse().map(verify) : h('p', { class: 'muted' }, 'Not verified yet.')),
        section(`Runs (${runs.length})`, 'runs', runs.length
          ? runs.slice().reverse().map((run, i) => runCard(run, (runEvents.get(run.id) || { events: [] }).events, i === 0))
          : h('p', { class: 'muted' }, 'No agent has worked on it yet.'))),
      h('aside', { class: 'task-side' },
        section('At a glance', 'facts', h('dl', { class: 'facts' },
          fact('Status', statusName(st.status)),
          st.note ? fact('Note', st.status === 'failed' ? headline(st.note) : st.note) : null,
          fact('Cost', fmt.cost(usage.cost)),
          fact('Tokens', `${fmt.int(usage.input)} in · ${fmt.int(usage.output)} out${usage.cached ? ` · ${fmt.int(usage.cached)} cached` : ''}`),
          fact('Runs', `${runs.length} (${st.code_runs} coding, ${st.total_failures} attempt${st.total_failures === 1 ? '' : 's'} sent back)`),
          st.review_rounds ? fact('Review rounds', String(st.review_rounds)) : null,
          fact('Tier', String(st.tier)),
          fact('Branch', h('code', {}, task.branch)),
          st.landed ? fact('Landed', h('code', {}, fmt.sha(st.landed.commit))) : null,
          task.write_scope.length ? fact('Writes', task.write_scope.join(', ')) : null,
          task.read_scope.length ? fact('Reads', task.read_scope.join(', ')) : null,
          outsideScope ? fact('Outside scope', h('span', { class: 'bad', id: 'task-outside-scope' }, outsideScope.join(', '))) : null,
          task.blocked_by.length ? fact('After', task.blocked_by.map((b) => h('a', { href: `#/task/${b}` }, `#${b} `))) : null,
          task.parent != null ? fact('Part of', h('a', { href: `#/task/${task.parent}` }, `#${task.parent}`)) : null,
          fact('Created', fmt.datetime(task.created_ms)),
          fact('Updated', fmt.datetime(task.updated_ms)))),
        section('Timeline', 'timeline', h('ol', { class: 'timeline' }, timeline.map((e) => {
          const what = describe(e);
          return h('li', { class: `tone-${what.tone}` }, h('time', {}, fmt.time(e.at_ms)), ' ', what.text);
        }))))));
}

/** The paths the task's latest change edits outside its write scope: the last `scope.outside`
 * event, unless a coder run started after it (its change is judged again). */
function latestOutsideScope(events) {
  let paths = null;
  for (const e of events) {
    const d = e.data || {};
    if (e.kind === 'scope.outside') paths = [].concat(d.paths || []);
    if (e.kind === 'run.started' && (d.role === 'coder' || d.role === 'resolver')) paths = null;
  }
  return paths && paths.length ? paths : null;
}

function section(title, key, body, extra) {
  return h('section', { class: 'panel', id: `task-${key}` },
    h('div', { class: 'panel-head' }, h('h2', {}, title), extra || null),
    body);
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

function plan(value) {
  const subtasks = Array.isArray(value.subtasks) ? value.subtasks : [];
  if (!subtasks.length) return h('pre', { class: 'mono small' }, JSON.stringify(value, null, 2));
  return h('ol', { class: 'plan' }, subtasks.map((s) => h('li', {},
    h('strong', {}, s.title),
    s.risk && s.risk !== 'low' ? h('span', { class: 'chip chip-warn' }, `risk ${s.risk}`) : null,
    s.depends_on && s.depends_on.length ? h('span', { class: 'muted' }, ` after ${s.depends_on.map((d) => d + 1).join(', ')}`) : null,
    s.body ? h('div', { class: 'prose muted' }, s.body) : null,
    s.write_scope && s.write_scope.length ? h('div', { class: 'small muted' }, `writes ${s.write_scope.join(', ')}`) : null)));
}

/** A verify result: `verify.finished` (a failure with the tests it names; its output folded,
 * coloured), a merge-queue candidate's `queue.verified`, or the evidence a `queue.ejected`
 * carries. */
function verify(e) {
  const d = e.data || {};
  const ejected = e.kind === 'queue.ejected';
  const passed = !ejected && d.passed;
  const what = e.kind === 'verify.finished' ? (d.purpose || 'branch') : 'merge candidate';
  const facts = [
    `${what} ${fmt.sha(d.commit)}`,
    d.exit_code != null ? `exit ${d.exit_code}` : null,
    d.duration_ms != null ? fmt.duration(d.duration_ms) : null,
    d.timed_out ? 'timed out' : null,
    d.recheck ? 'second run' : null,
    ejected ? 'ejected from the queue' : null,
    fmt.datetime(e.at_ms),
  ].filter(Boolean).join(' · ');
  const key = `verify-${e.seq}`;
  let body;
  if (ejected) body = evidenceView(d.summary, key);
  else if (d.tail) body = [d.failure && !passed ? summaryView(d.failure) : null, folded(d.tail, key, passed ? 'Output' : 'Full output')];
  else body = e.kind === 'verify.finished' ? h('p', { class: 'muted pad' }, 'No output recorded.') : null;
  return h('div', { class: ['verify', passed ? 'verify-pass' : 'verify-fail'], dataset: { seq: String(e.seq) } },
    h('div', { class: 'verify-head' }, h('strong', {}, passed ? '✓ passed' : '✗ failed'), h('span', { class: 'muted' }, ` ${facts}`)),
    body);
}

function runCard(run, events, open) {
  const duration = run.ended_ms ? fmt.duration(run.ended_ms - run.started_ms) : 'running';
  return h('details', { class: ['run', `run-${run.status}`], open, dataset: { key: `run-${run.id}`, run: String(run.id) } },
    h('summary', {},
      h('span', { class: ['pill', `run-st-${run.status}`] }, run.status),
      h('strong', {}, ` ${run.role.replace('_', ' ')}`),
      h('span', { class: 'muted' }, ` · ${run.agent} · ${run.model || run.backend} · ${duration} · ${fmt.tokens(run.usage.input_tokens)} in / ${fmt.tokens(run.usage.output_tokens)} out · ${fmt.cost(run.usage.cost_usd)}`)),
    renderTranscript(run, events),
    outcome(run));
}

/** How the run ended: a reviewer's verdict in words, anything else as the agent said it. */
function outcome(run) {
  if (!run.outcome) return null;
  const verdict = run.role === 'reviewer' || run.role === 'plan_reviewer' ? parseVerdict(run.outcome) : null;
  if (verdict) {
    return h('div', { class: 'outcome' }, h('span', { class: 'muted' }, 'Verdict: '),
      h('strong', { class: verdict.verdict === 'approve' ? 'ok' : 'bad' }, verdict.verdict.replace('_', ' ')),
      verdict.summary ? ` — ${verdict.summary}` : '',
      verdict.findings.length ? h('div', {}, verdict.findings.map(finding)) : null);
  }
  return h('div', { class: 'outcome' }, h('span', { class: 'muted' }, 'Outcome: '), run.outcome);
}

// ---- what a person can do now --------------------------------------------------------------------

function actionPanel(task, reload) {
  const st = task.state;
  const act = async (button, path, body, done) => {
    button.disabled = true;
    try {
      await post(`api/tasks/${task.id}/${path}`, body);
      toast(done);
      board.refresh().catch(() => {});
      reload();
    } catch (e) {
      toast(explain(e), 'error');
      button.disabled = false;
    }
  };
  if (st.status === 'attached') return attachedPanel(task, act);
  const takeOver = ATTACHABLE.has(st.status) ? h('button', {
    class: 'ghost attach',
    onclick: (e) => {
      if (window.confirm(`Take task #${task.id} over by hand? Its running work stops, and gaffer leaves it alone until you hand it back.`)) act(e.currentTarget, 'attach', {}, `Task #${task.id} is in your hands`);
    },
  }, 'Take over by hand') : null;
  if (st.status === 'needs_input') return withTakeOver(answerForm(task, act), takeOver);
  if (st.status === 'awaiting_approval') return withTakeOver(approvalPanel(task, act), takeOver);
  const buttons = [];
  if (takeOver) buttons.push(takeOver);
  if (st.status === 'failed') {
    buttons.push(h('button', { class: 'primary', onclick: (e) => act(e.currentTarget, 'retry', {}, `Task #${task.id} goes again`) }, 'Retry'));
  }
  // Merged work is undone by a new task, never by moving the target back.
  if (st.status === 'merged' && st.landed) buttons.push(revertButton(task));
  if (!TERMINAL.has(st.status)) {
    buttons.push(h('button', {
      class: 'danger ghost',
      onclick: (e) => {
        if (window.confirm(`Cancel task #${task.id}? Its running work stops.`)) act(e.currentTarget, 'cancel', { reason: 'cancelled from the dashboard' }, `Task #${task.id} cancelled`);
      },
    }, 'Cancel task'));
  }
  const budget = TERMINAL.has(st.status) ? null : budgetForm(task, act);
  // Before work starts, what it waits for, its scopes and priority can change.
  const edit = st.status === 'backlog' || st.status === 'ready' ? editForm(task, reload) : null;
  const say = TERMINAL.has(st.status) ? null : sayForm(task, act);
  if (!buttons.length && !st.note && !budget && !edit) return null;
  const note = st.status === 'failed' ? evidenceView(st.note, `note-${task.id}`) : h('p', { class: 'muted' }, st.note);
  return h('div', { class: 'panel action-panel', id: 'task-note' },
    st.note ? note : null,
    say,
    buttons.length ? h('div', { class: 'actions' }, buttons) : null,
    edit,
    budget);
}

/** Where a person can take a task over by hand (`POST api/tasks/{id}/attach`). */
const ATTACHABLE = new Set(['ready', 'coding', 'verifying', 'reviewing', 'needs_input', 'awaiting_approval', 'failed']);

function withTakeOver(panel, button) {
  if (button) panel.append(h('div', { class: 'actions' }, button));
  return panel;
}

/** A task in a person's hands: where to work on it, how to resume its agent (asked of the
 * daemon: attaching an attached task changes nothing and says where again), and handing it back. */
function attachedPanel(task, act) {
  const where = h('div', { class: 'attached-where' });
  const show = async (button) => {
    button.disabled = true;
    try {
      const a = await post(`api/tasks/${task.id}/attach`, {});
      fill(where,
        h('p', {}, 'Worktree: ', h('code', { class: 'worktree' }, a.worktree), ' on ', h('code', {}, a.branch)),
        a.resume
          ? h('div', {}, h('p', { class: 'muted' }, `Resume ${a.resume.agent}'s session there:`), h('pre', { class: 'mono small resume' }, `cd ${a.worktree} && ${a.resume.command}`))
          : h('p', { class: 'muted' }, 'No agent session to resume by hand.'));
    } catch (e) {
      toast(explain(e), 'error');
      button.disabled = false;
    }
  };
  return h('div', { class: 'panel action-panel needs-you attached-panel', dataset: { task: String(task.id) } },
    h('p', { class: 'ask' }, h('strong', {}, 'In a person\'s hands. '), 'gaffer leaves this task alone until it is handed back; what is left uncommitted in its worktree is then committed as the person\'s, and the task goes on to verify.'),
    where,
    h('div', { class: 'actions' },
      h('button', { class: 'ghost where', onclick: (e) => show(e.currentTarget) }, 'Show worktree and resume command'),
      h('button', { class: 'primary release', onclick: (e) => act(e.currentTarget, 'release', {}, `Task #${task.id} is handed back`) }, 'Hand back')));
}

/** A word to the task's agent: its run going on hears it at its next turn (or stops and resumes
 * with it), else its next run starts with it (`POST api/tasks/{id}/say`). */
function sayForm(task, act) {
  const input = h('textarea', { name: 'say', rows: 2, required: true, placeholder: 'Tell the agent something: a hint, a correction, what matters most', 'aria-label': `Message to the agent of task ${task.id}` });
  const form = h('form', { class: 'say-form', dataset: { task: String(task.id) } },
    input,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'ghost' }, 'Say to the agent')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const button = form.querySelector('button[type=submit]');
    // Sent (the button stays disabled until the page is drawn again): the box empties.
    act(button, 'say', { text }, `Task #${task.id}'s agent hears it at its next turn if it is running, else at its next run`)
      .then(() => { if (button.disabled) input.value = ''; });
  });
  return form;
}

/** The task's own budget in US dollars; empty sets it back to the project's default. */
function budgetForm(task, act) {
  const input = h('input', {
    name: 'budget', type: 'number', min: '0', step: '0.01', inputmode: 'decimal',
    placeholder: 'default', value: task.budget_usd == null ? '' : String(task.budget_usd),
    'aria-label': `Budget of task ${task.id} in US dollars`,
  });
  const form = h('form', { class: 'budget-form', dataset: { task: String(task.id) } },
    h('label', {}, 'Budget $ ', input),
    h('button', { type: 'submit', class: 'ghost' }, 'Set budget'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.validity.badInput) {
      toast('A budget is an amount of US dollars, zero or more', 'error');
      return;
    }
    const text = input.value.trim();
    const usd = text === '' ? null : Number(text);
    if (usd !== null && !(Number.isFinite(usd) && usd >= 0)) {
      toast('A budget is an amount of US dollars, zero or more', 'error');
      return;
    }
    act(form.querySelector('button[type=submit]'), 'budget', { usd }, usd === null ? `Task #${task.id} has the default budget` : `Task #${task.id} may spend ${fmt.cost(usd)}`);
  });
  return form;
}

/** The question a task waits on, and the form to answer it. */
export function answerForm(task, act) {
  const input = h('textarea', { name: 'answer', rows: 3, required: true, placeholder: 'Your answer', 'aria-label': `Answer to task ${task.id}` });
  const form = h('form', { class: 'panel action-panel needs-you answer-form', dataset: { task: String(task.id) } },
    h('p', { class: 'ask' }, h('strong', {}, 'The agent asks: '), task.state.note || '(no question text)'),
    input,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Send answer')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    act(form.querySelector('button[type=submit]'), 'answer', { text }, `Answered task #${task.id}`);
  });
  return form;
}

/** Approve or reject a task that waits for a person before it merges. */
export function approvalPanel(task, act) {
  const reason = h('input', { name: 'reason', placeholder: 'What should change (needed to reject)', 'aria-label': `Reason to reject task ${task.id}` });
  const need = () => {
    const text = reason.value.trim();
    if (!text) { reason.focus(); toast('Say what should change first', 'error'); }
    return text;
  };
  return h('div', { class: 'panel action-panel needs-you approval', dataset: { task: String(task.id) } },
    h('p', { class: 'ask' }, h('strong', {}, 'Waiting for approval. '), task.state.note || `Risk ${task.state.risk}: a person decides before it merges.`),
    h('div', { class: 'actions' },
      h('button', { class: 'primary approve', onclick: (e) => act(e.currentTarget, 'approve', {}, `Approved task #${task.id}`) }, 'Approve'),
      reason,
      h('button', { class: 'ghost reject', onclick: (e) => { const r = need(); if (r) act(e.currentTarget, 'reject', { reason: r }, `Sent task #${task.id} back`); } }, 'Send back'),
      h('button', { class: 'danger ghost', onclick: (e) => { const r = need(); if (r) act(e.currentTarget, 'reject', { reason: r, cancel: true }, `Rejected and cancelled task #${task.id}`); } }, 'Reject and cancel')),
    // Held by its budget: raising the budget lets the held run go.
    task.state.held ? budgetForm(task, act) : null);
}
