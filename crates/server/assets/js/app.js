// The dashboard's entry point: connects the live stream, keeps the header up to date, and shows
// one page at a time from the address's hash (#/board, #/feed, #/task/12, #/people, #/usage,
// #/queue).

import { get } from './api.js';
import { fill, h } from './dom.js';
import { Live } from './live.js';
import { board } from './model.js';
import * as boardPage from './pages/board.js';
import * as feedPage from './pages/feed.js';
import * as taskPage from './pages/task.js';
import * as peoplePage from './pages/people.js';
import * as usagePage from './pages/usage.js';
import * as queuePage from './pages/queue.js';

const PAGES = {
  board: boardPage,
  feed: feedPage,
  task: taskPage,
  people: peoplePage,
  usage: usagePage,
  queue: queuePage,
};

const live = new Live();
let current = null;

/** `#/task/12?x=1` → `{page: 'task', arg: '12', query: URLSearchParams}`. */
function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search] = raw.split('?');
  const [page, arg] = path.split('/');
  return { page: PAGES[page] ? page : 'board', arg, query: new URLSearchParams(search || '') };
}

function show() {
  const where = route();
  if (current && current.unmount) current.unmount();
  const view = document.getElementById('view');
  fill(view);
  view.className = `page-${where.page}`;
  for (const a of document.querySelectorAll('.tabs a')) {
    a.classList.toggle('active', a.dataset.page === where.page || (where.page === 'task' && a.dataset.page === 'board'));
  }
  current = PAGES[where.page].mount(view, where) || null;
  document.title = `gaffer · ${where.page === 'task' ? `task ${where.arg}` : where.page}`;
}

function showConnection(state) {
  const conn = document.getElementById('conn');
  conn.dataset.state = state;
  conn.querySelector('.conn-text').textContent = { live: 'live', connecting: 'connecting', reconnecting: 'reconnecting…', stopped: 'offline' }[state] || state;
}

function showPeopleCount() {
  const n = board.waiting().length;
  const badge = document.getElementById('people-badge');
  badge.hidden = n === 0;
  badge.textContent = String(n);
}

function askForToken() {
  live.stop();
  if (document.getElementById('token-gate')) return;
  const refused = location.hash === '#token-refused';
  const gate = h('div', { class: 'gate', id: 'token-gate', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'gate-title' },
    h('form', { class: 'gate-box', method: 'get', action: './' },
      h('h2', { id: 'gate-title' }, 'This gaffer needs its token'),
      h('p', {}, 'Every request to this daemon must carry its token. Open the link that ', h('code', {}, 'gaffer up'),
        ' printed, or run ', h('code', {}, 'gaffer dashboard'), ' in the repository for it. If a token is configured, it is the value of the variable named by ',
        h('code', {}, 'server.token_env'), ' (', h('code', {}, 'GAFFER_TOKEN'), ' by default).'),
      refused ? h('p', { class: 'error' }, 'That token was not accepted.') : null,
      h('label', { for: 'gate-token' }, 'Token'),
      h('input', { id: 'gate-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true }),
      h('button', { type: 'submit', class: 'primary' }, 'Open the dashboard')));
  document.body.appendChild(gate);
  gate.querySelector('input').focus();
}

async function start() {
  window.addEventListener('gaffer:unauthorized', askForToken);
  live.addEventListener('state', (e) => showConnection(e.detail));
  live.addEventListener('event', (e) => board.take(e.detail));
  live.addEventListener('resync', () => {
    board.refresh().catch(() => {});
    if (current && current.resync) current.resync();
  });
  board.addEventListener('tasks', showPeopleCount);
  window.addEventListener('hashchange', show);
  // For people poking at the page and for the browser tests.
  window.gaffer = { live, board };

  get('healthz').then((health) => {
    document.getElementById('project').textContent = health.project;
  }).catch(() => {});
  // Runs without a sandbox are never silent: a banner on every page says so.
  get('api/status').then((status) => {
    const banner = document.getElementById('unconfined');
    if (status.sandbox && !status.sandbox.confined) {
      banner.textContent = status.sandbox.description;
      banner.hidden = false;
    }
  }).catch(() => {});
  let after = 0;
  try {
    const recent = await get('api/events/recent?limit=500');
    board.seed(recent.events);
    after = recent.last_seq;
  } catch (_) {
    // unauthorized or unreachable: the gate or the pages say so
  }
  board.refresh().catch(() => {});
  show();
  live.start(after);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
