// The dashboard in headless Chromium, against a real daemon running a scripted pipeline.
//
// Started by crates/cli/tests/browser.rs, which builds the repository, starts `gaffer up` (which
// makes its own token) and passes, in the environment:
//   GAFFER_URL, GAFFER_PORT       where the daemon listens
//   GAFFER_DASHBOARD_LINK         the link `gaffer up` printed: GAFFER_URL/?token=<its token>
//   GAFFER_BIN, GAFFER_REPO       the gaffer binary and the repository (to stop and restart it)
//   GAFFER_SCREENSHOTS            where to save a screenshot of each page
//   GAFFER_CHROMIUM               the browser (Debian's /usr/bin/chromium)
//   GAFFER_NODE_MODULES           the node_modules holding playwright-core
// and TMPDIR inside the test's directory, where Playwright makes the browser a new, empty
// profile (user data directory) that goes away with the test.
//
// Exits 0 when every check passed; otherwise prints what failed, saves failure.png and exits 1.

import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
const URL_ = env.GAFFER_URL;
const LINK = env.GAFFER_DASHBOARD_LINK;
const TOKEN = new URL(LINK).searchParams.get('token') ?? '';
const SHOTS = env.GAFFER_SCREENSHOTS;
const require = createRequire(path.join(env.GAFFER_NODE_MODULES, '..', 'resolve-from-here.js'));
const { chromium } = require('playwright-core');

const started = Date.now();
const problems = [];
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`, ...args);

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function waitFor(what, fn, timeoutMs = 60000, everyMs = 150) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The API from outside the browser, with the token. */
async function api(method, p, body) {
  const headers = { Authorization: `Bearer ${TOKEN}`, 'X-Gaffer': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${URL_}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${p}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function statusOf(id) {
  return (await api('GET', `/api/tasks/${id}`)).task.state.status;
}

async function waitForStatus(id, want, timeoutMs = 90000) {
  return waitFor(`task ${id} to be ${want}`, async () => {
    const s = await statusOf(id);
    if (s === want) return true;
    if (['merged', 'failed', 'cancelled'].includes(s) && s !== want) {
      const note = (await api('GET', `/api/tasks/${id}`)).task.state.note;
      throw new Error(`task ${id} ended ${s}, not ${want}: ${note}`);
    }
    return false;
  }, timeoutMs, 200);
}

async function taskIdByTitle(title) {
  return waitFor(`a task titled “${title}”`, async () => {
    const tasks = await api('GET', '/api/tasks');
    const t = tasks.find((x) => x.title === title);
    return t ? t.id : null;
  }, 10000);
}

function gaffer(...args) {
  const out = spawnSync(env.GAFFER_BIN, args, { cwd: env.GAFFER_REPO, env, encoding: 'utf8', timeout: 90000 });
  if (out.status !== 0) throw new Error(`gaffer ${args.join(' ')} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  // Toasts are transient; they would cover the page in the picture.
  await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  // Nothing may stick out sideways: wide content (diffs, output) scrolls in its own box.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) problems.push(`${name}: the page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: file, fullPage: true });
  log(`screenshot ${file}`);
}

function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|404)/.test(m.text())) problems.push(`${label}: console error ${m.text()}`);
  });
}

/** The failure the fixture's pytest prints (browser.rs): its headline and failing tests. */
const LOGIN_HEADLINE = '3 tests failed: test_login, test_logout, +1';
const LOGIN_TESTS = ['tests/test_auth.py::test_login', 'tests/test_auth.py::test_logout', 'tests/test_banner.py::test_greets'];

/** The `<details>` at `sel` is folded: its output is not visible until its summary is clicked. */
async function checkFolded(page, sel, where) {
  const details = page.locator(sel).first();
  const output = details.locator('pre.output');
  check(!(await output.isVisible()), `${where}: the full output is hidden until unfolded`);
  const shown = await page.evaluate(() => [...document.querySelectorAll('pre, p, div')]
    .filter((e) => e.childElementCount === 0 || e.tagName === 'PRE')
    .filter((e) => e.textContent.includes('test session starts') && e.checkVisibility()).length);
  check(shown === 0, `${where}: no line of the output is visible while folded (${shown} shown)`);
  await details.locator('summary').click();
  await output.waitFor({ state: 'visible', timeout: 5000 });
  check((await output.textContent()).includes('test session starts'), `${where}: unfolded, the whole output is there`);
}

async function go(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready, { timeout: 30000 });
}

const browser = await chromium.launch({
  executablePath: env.GAFFER_CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
fs.mkdirSync(SHOTS, { recursive: true });
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
const page = await context.newPage();
watch(page, 'laptop');

try {
  // ---- the token -------------------------------------------------------------------------------
  log('the token keeps the API closed and the health check open');
  check((await fetch(`${URL_}/api/tasks`)).status === 401, 'GET /api/tasks without the token is 401');
  check((await fetch(`${URL_}/healthz`)).status === 200, 'GET /healthz is open');
  check((await fetch(`${URL_}/api/tasks`, { headers: { Authorization: 'Bearer wrong' } })).status === 401, 'a wrong token is 401');
  const noIntent = await fetch(`${URL_}/api/tasks`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/plain' }, body: '{"title":"forged"}' });
  check(noIntent.status === 403, `a POST without X-Gaffer or a JSON body is refused (got ${noIntent.status})`);

  log('opening the link `gaffer up` printed (/?token=…) sets the cookie and leaves the address bar clean');
  check(TOKEN.length >= 32, `the daemon made a long token (${TOKEN.length} characters)`);
  await page.goto(LINK);
  await page.waitForSelector('#board-columns .column', { timeout: 30000 });
  check(!page.url().includes('token='), `the token left the address (${page.url()})`);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  const forged = await page.evaluate(async () => (await fetch('api/tasks', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{"title":"forged"}' })).status);
  check(forged === 403, `a text/plain POST from a page is refused even with the cookie (got ${forged})`);

  await page.evaluate(() => {
    window.__noReload = true;
    window.__seqs = [];
    window.gaffer.live.addEventListener('event', (e) => window.__seqs.push(e.detail.seq));
    window.__moves = {};
    const note = () => {
      for (const card of document.querySelectorAll('.card[data-id]')) {
        const seen = (window.__moves[card.dataset.id] ||= []);
        if (seen[seen.length - 1] !== card.dataset.status) seen.push(card.dataset.status);
      }
    };
    new MutationObserver(note).observe(document.getElementById('view'), { subtree: true, childList: true, attributes: true });
  });

  // ---- the board moves without a reload --------------------------------------------------------
  log('adding a task through the board');
  await page.click('#new-task-button');
  await page.fill('#nt-title', 'Write the release notes');
  await page.fill('#nt-body', 'A notes() function in lib/notes.sh that prints the release and the date.');
  await page.fill('#nt-labels', 'docs');
  await page.click('#new-task button[type=submit]');
  const notes = await taskIdByTitle('Write the release notes');
  await page.waitForSelector(`.card[data-id="${notes}"]`, { timeout: 10000 });
  log(`task #${notes} is on the board`);

  const greeting = (await api('POST', '/api/tasks', { title: 'Pick the greeting', body: 'The banner greets people; ask which greeting.' })).id;
  const deploy = (await api('POST', '/api/tasks', { title: 'Tune the deploy settings', body: 'Three replicas.', labels: ['risky'] })).id;
  const login = (await api('POST', '/api/tasks', { title: 'Fix the login redirect', body: 'Logging in should land on the dashboard.' })).id;
  log(`added #${greeting} (asks a question), #${deploy} (needs approval) and #${login} (fails pytest twice) through the API`);

  await page.waitForSelector(`.column[data-status="merged"] .card[data-id="${notes}"]`, { timeout: 90000 });
  const moves = await page.evaluate((id) => window.__moves[id], String(notes));
  log(`#${notes} went ${moves.join(' → ')} on the page`);
  check(moves.includes('coding') && moves.includes('verifying') && moves[moves.length - 1] === 'merged', `the card moved through the columns (${moves.join(' → ')})`);
  await page.waitForSelector(`.column[data-status="needs_input"] .card[data-id="${greeting}"]`, { timeout: 60000 });
  await page.waitForSelector(`.column[data-status="awaiting_approval"] .card[data-id="${deploy}"]`, { timeout: 60000 });
  check(await page.evaluate(() => window.__noReload === true), 'the page never reloaded');

  // ---- a failed pytest run explains itself on the card ---------------------------------------------
  log(`#${login} fails pytest: its card names the failing tests`);
  await page.waitForSelector(`.column[data-status="failed"] .card[data-id="${login}"]`, { timeout: 90000 });
  const card = await page.evaluate((id) => {
    const el = document.querySelector(`.card[data-id="${id}"]`);
    const note = el.querySelector('.card-note');
    return { note: note ? note.textContent : null, text: el.innerText };
  }, String(login));
  check(card.note === LOGIN_HEADLINE, `the failed card leads with the failing tests (${card.note})`);
  check(!card.text.includes('sh check.sh') && !card.text.includes('test session starts'), `the card shows no command and no output (${card.text})`);
  await shot(page, 'board');

  // ---- a question answered through the page ----------------------------------------------------
  log('answering the question on the people page');
  await page.click('.tabs a[data-page="people"]');
  await page.waitForSelector(`.answer-form[data-task="${greeting}"]`, { timeout: 15000 });
  await page.waitForSelector(`.approval[data-task="${deploy}"]`, { timeout: 15000 });
  const asked = await page.textContent(`.answer-form[data-task="${greeting}"] .ask`);
  check(asked.includes('Which greeting should the banner use?'), `the question is shown (${asked})`);
  check((await page.textContent('#people-badge')).trim() === '2', 'the header counts two things waiting');
  // Runs here are confined (CI installs bubblewrap): no banner says otherwise.
  check(await page.$eval('#unconfined', (e) => e.hidden), 'no "not confined" banner while runs are confined');
  await shot(page, 'people');
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
  const small = await phone.newPage();
  watch(small, 'phone');
  await small.goto(LINK);
  await go(small, '#/people', `.answer-form[data-task="${greeting}"]`);
  await shot(small, 'people-phone');
  await page.fill(`.answer-form[data-task="${greeting}"] textarea`, 'Use “Hello from the dashboard”.');
  await page.click(`.answer-form[data-task="${greeting}"] button[type=submit]`);
  await waitFor(`task ${greeting} to leave needs_input`, async () => (await statusOf(greeting)) !== 'needs_input', 20000);
  await page.waitForSelector(`.answer-form[data-task="${greeting}"]`, { state: 'detached', timeout: 15000 });
  const events = await api('GET', `/api/tasks/${greeting}/events`);
  check(events.some((e) => e.kind === 'task.status' && e.data.input === 'answer'), 'the engine took the answer as an input');
  await waitForStatus(greeting, 'merged');
  log(`#${greeting} merged after the answer`);

  // ---- taken over by hand and handed back, from the task page ---------------------------------
  log('taking the risky change over by hand, then handing it back');
  await go(page, `#/task/${deploy}`, `.approval[data-task="${deploy}"] button.attach`);
  page.once('dialog', (d) => d.accept());
  await page.click(`.approval[data-task="${deploy}"] button.attach`);
  await waitForStatus(deploy, 'attached', 20000);
  await page.waitForSelector(`.attached-panel[data-task="${deploy}"] button.where`, { timeout: 15000 });
  await page.click(`.attached-panel[data-task="${deploy}"] button.where`);
  const worktree = await (await page.waitForSelector(`.attached-panel[data-task="${deploy}"] code.worktree`, { timeout: 15000 })).textContent();
  check(worktree.includes('/.git/gaffer/worktrees/'), `the page says where its worktree is (${worktree})`);
  const attachedEvents = await api('GET', `/api/tasks/${deploy}/events`);
  check(attachedEvents.some((e) => e.kind === 'task.notice' && e.data.action === 'attach' && e.data.by === 'dashboard'), 'the take-over is recorded as the dashboard\'s');
  await shot(page, 'task-attached');
  await page.click(`.attached-panel[data-task="${deploy}"] button.release`);
  await waitFor(`task ${deploy} to be handed back`, async () => (await statusOf(deploy)) !== 'attached', 20000);
  await waitForStatus(deploy, 'awaiting_approval');
  await page.waitForSelector(`.approval[data-task="${deploy}"] button.approve`, { timeout: 15000 });
  log(`#${deploy} was taken over and handed back; it waits for approval again`);

  // ---- a waiting task redirected, a merged one reverted, through the task page --------------------
  log('editing what a waiting task waits for, its scope and priority');
  const changelog = (await api('POST', '/api/tasks', { title: 'Write the changelog', blocked_by: [deploy] })).id;
  await go(page, `#/task/${changelog}`, `.edit-form[data-task="${changelog}"]`);
  await page.fill(`.edit-form[data-task="${changelog}"] input[name="deps"]`, `${deploy}, ${greeting}`);
  await page.fill(`.edit-form[data-task="${changelog}"] input[name="write_scope"]`, 'docs/**');
  await page.fill(`.edit-form[data-task="${changelog}"] input[name="priority"]`, '3');
  await page.click(`.edit-form[data-task="${changelog}"] button[type=submit]`);
  const edited = await waitFor(`task ${changelog} to be edited`, async () => {
    const t = (await api('GET', `/api/tasks/${changelog}`)).task;
    return t.priority === 3 ? t : null;
  }, 15000);
  check(JSON.stringify(edited.blocked_by) === JSON.stringify([deploy, greeting]), `the dependency was added (${JSON.stringify(edited.blocked_by)})`);
  check(JSON.stringify(edited.write_scope) === '["docs/**"]', `the scope was set (${JSON.stringify(edited.write_scope)})`);
  check(edited.state.status === 'backlog', `it still waits for #${deploy} (${edited.state.status})`);
  await api('POST', `/api/tasks/${changelog}/cancel`, { reason: 'only here to be edited' });

  log(`reverting #${greeting} from its task page`);
  await go(page, `#/task/${greeting}`, '.action-panel button.revert');
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('.action-panel button.revert');
  const revert = await waitFor('the page to show the revert task', async () => {
    const m = /#\/task\/(\d+)/.exec(page.url());
    return m && Number(m[1]) !== greeting ? Number(m[1]) : null;
  }, 15000);
  const reverting = (await api('GET', `/api/tasks/${revert}`)).task;
  check(reverting.title === 'Revert "Pick the greeting"' && reverting.labels.includes(`reverts:${greeting}`), `the new task reverts #${greeting} (${reverting.title})`);
  await waitForStatus(revert, 'merged');
  const revertRuns = (await api('GET', `/api/tasks/${revert}`)).runs;
  check(revertRuns.length === 0, `no agent ran for the revert (${revertRuns.length} runs)`);
  check((await api('GET', `/api/tasks/${greeting}/events`)).some((e) => e.kind === 'task.revert' && e.data.by === 'dashboard'), 'the revert is recorded as the dashboard\'s');
  log(`#${revert} reverted #${greeting} through verify and the merge queue`);

  // ---- an approval given through the page ------------------------------------------------------
  log('approving the risky change');
  await go(page, '#/people', `.approval[data-task="${deploy}"]`);
  await page.click(`.approval[data-task="${deploy}"] button.approve`);
  await waitForStatus(deploy, 'merged');
  await page.waitForSelector(`.approval[data-task="${deploy}"]`, { state: 'detached', timeout: 15000 });
  log(`#${deploy} merged after the approval`);

  // ---- proposals and a budget decided through the pages --------------------------------------------
  log('setting a budget, accepting one proposal and declining another');
  const cache = (await api('POST', '/api/tasks', { title: 'Cache the parsed config', body: 'It is parsed twice.', kind: 'proposal' })).id;
  const rename = (await api('POST', '/api/tasks', { title: 'Rename every module', kind: 'proposal' })).id;
  const shown = async (id) => (await api('GET', `/api/tasks/${id}`)).task;
  await go(page, `#/task/${rename}`, `.budget-form[data-task="${rename}"]`);
  await page.fill(`.budget-form[data-task="${rename}"] input`, '2.5');
  await page.click(`.budget-form[data-task="${rename}"] button[type=submit]`);
  await waitFor(`task ${rename}'s budget to be set`, async () => (await shown(rename)).budget_usd === 2.5, 15000);
  // A word to its agent, from the task page's text box: on the board as the dashboard's.
  await page.waitForSelector(`.say-form[data-task="${rename}"] textarea`, { timeout: 15000 });
  await page.fill(`.say-form[data-task="${rename}"] textarea`, 'Keep the old names as aliases.');
  await page.click(`.say-form[data-task="${rename}"] button[type=submit]`);
  await waitFor(`task ${rename}'s message to be recorded`, async () => (await api('GET', `/api/tasks/${rename}/events`))
    .some((e) => e.kind === 'task.said' && e.data.by === 'dashboard' && e.data.text === 'Keep the old names as aliases.'), 15000);
  await page.waitForFunction((id) => [...document.querySelectorAll('#task-timeline li')]
    .some((li) => li.textContent.includes('dashboard said to the agent')), rename, { timeout: 15000 });
  await go(page, '#/people', `.proposal[data-task="${cache}"]`);
  await page.waitForSelector(`.proposal[data-task="${rename}"]`, { timeout: 15000 });
  await page.click(`.proposal[data-task="${cache}"] button.accept`);
  await waitFor(`proposal ${cache} to become a task`, async () => (await shown(cache)).kind === 'task', 15000);
  await page.fill(`.proposal[data-task="${rename}"] input[name="reason"]`, 'too much churn');
  await page.click(`.proposal[data-task="${rename}"] button.decline`);
  await waitForStatus(rename, 'cancelled');
  const declined = await api('GET', `/api/tasks/${rename}/events`);
  check(declined.some((e) => e.kind === 'task.notice' && e.data.action === 'cancel' && e.data.by === 'dashboard'), 'the decline is recorded as a person\'s cancel, from the dashboard');
  const note = (await shown(rename)).state.note;
  check(note === 'declined: too much churn', `the reason is kept (${note})`);
  log(`#${rename} got a budget and was declined; #${cache} was accepted`);

  // ---- the task page -----------------------------------------------------------------------------
  log('the task page shows the transcript, the diff and verify output');
  await go(page, `#/task/${notes}`, '#task-runs details.run');
  await page.waitForSelector('#task-diff .diff-table', { timeout: 15000 });
  await page.waitForSelector('#task-verify .verify-fail', { timeout: 15000 });
  await page.waitForSelector('#task-verify .verify-pass', { timeout: 15000 });
  const facts = await page.evaluate(() => {
    const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent).join('\n');
    return {
      transcript: text('#task-runs .transcript'),
      tools: [...document.querySelectorAll('#task-runs details.tool')].map((d) => ({ open: d.open, summary: d.querySelector('summary').textContent })),
      diffFiles: [...document.querySelectorAll('#task-diff .diff-file')].map((d) => d.dataset.path),
      added: text('#task-diff .line-add .code'),
      tokens: document.querySelectorAll('#task-diff .tok-com, #task-diff .tok-kw, #task-diff .tok-str, #task-diff .tok-var').length,
      finding: text('#task-diff .finding-row'),
      verifyFail: text('#task-verify .verify-fail pre'),
      verifyPass: text('#task-verify .verify-pass pre'),
      review: text('#task-review'),
      status: document.getElementById('task-status').textContent,
      facts: text('#task-facts'),
    };
  });
  check(facts.status === 'Merged', `the task shows as merged (${facts.status})`);
  check(facts.transcript.includes('writing lib/notes.sh'), 'the transcript shows the progress line');
  check(facts.transcript.includes('I wrote lib/notes.sh with a notes function.'), 'the transcript shows what the agent said');
  check(facts.tools.length >= 2 && facts.tools.every((t) => !t.open), `tool calls are folded (${JSON.stringify(facts.tools)})`);
  check(facts.tools.some((t) => t.summary.includes('lib/notes.sh')), 'a tool call names the file it wrote');
  check(facts.diffFiles.includes('lib/notes.sh'), `the diff shows lib/notes.sh (${facts.diffFiles})`);
  check(!facts.diffFiles.includes('BROKEN'), 'the diff is the landed change (no BROKEN marker)');
  check(facts.added.includes('notes() {'), 'the diff shows the added lines');
  check(facts.tokens >= 3, `the diff is coloured (${facts.tokens} highlighted tokens)`);
  check(facts.finding.includes('quote the date format'), 'the review finding sits next to its line');
  check(facts.review.includes('Approved'), 'the review verdict is shown');
  check(facts.verifyFail.includes('FAIL: BROKEN is still there'), 'the failed verify output is shown');
  check(facts.verifyPass.includes('ok: the tree is clean'), 'the passing verify output is shown');
  check(/\$\d/.test(facts.facts) && facts.facts.includes(' in'), 'cost and tokens are shown');
  // Unfold one call of the coder's last run, to see what a folded call holds.
  await page.evaluate(() => {
    const tool = [...document.querySelectorAll('#task-runs details.tool')].pop();
    tool.closest('details.run').open = true;
    tool.open = true;
  });
  await shot(page, 'task');

  // ---- the failed task on the people page and its own page -----------------------------------------
  log(`#${login} on the people page: the failing tests shown, the output folded`);
  await go(page, '#/people', `#people-failed .person-item[data-task="${login}"] .failure`);
  const failedItem = `#people-failed .person-item[data-task="${login}"]`;
  const listed = await page.evaluate((sel) => {
    const item = document.querySelector(sel);
    return {
      headline: item.querySelector('.failure-headline').textContent,
      tests: item.querySelector('.failure-block').textContent,
      open: item.querySelector('details.full-output').open,
    };
  }, failedItem);
  check(listed.headline === LOGIN_HEADLINE, `the people page leads with the failing tests (${listed.headline})`);
  for (const name of LOGIN_TESTS) check(listed.tests.includes(name), `the people page names ${name} (${listed.tests})`);
  check(listed.tests.includes('assert 401 == 200'), `the people page shows the first lines of a failure (${listed.tests})`);
  check(!listed.open, 'the output is folded on the people page');
  await checkFolded(page, `${failedItem} details.full-output`, 'the people page');
  await shot(page, 'people-failed');

  log(`#${login}'s own page: each verify lists its failing tests; the output one click away, coloured`);
  await go(page, `#/task/${login}`, '#task-verify .verify-fail .failure-tests');
  const verifyFacts = await page.evaluate(() => {
    const latest = document.querySelector('#task-verify .verify-fail');
    return {
      headline: latest.querySelector('.failure-headline').textContent,
      names: [...latest.querySelectorAll('.failure-name')].map((n) => n.textContent),
      detail: [...latest.querySelectorAll('.failure-detail')].map((n) => n.textContent).join('\n'),
      failures: document.querySelectorAll('#task-verify .verify-fail').length,
      note: document.querySelector('#task-note .failure-headline')?.textContent,
      noteTests: document.querySelector('#task-note .failure-block')?.textContent || '',
      glance: document.getElementById('task-facts').textContent,
    };
  });
  check(verifyFacts.failures === 2, `both failed verifies are listed (${verifyFacts.failures})`);
  check(verifyFacts.headline === LOGIN_HEADLINE, `the verify result leads with its headline (${verifyFacts.headline})`);
  check(JSON.stringify(verifyFacts.names) === JSON.stringify(LOGIN_TESTS), `the failing tests are listed (${verifyFacts.names})`);
  check(verifyFacts.detail.includes('assert 401 == 200') && verifyFacts.detail.includes("KeyError: 'user_id'"), `each failure's first lines (${verifyFacts.detail})`);
  check(verifyFacts.note === LOGIN_HEADLINE && LOGIN_TESTS.every((n) => verifyFacts.noteTests.includes(n)), `the failed task's note names the tests (${verifyFacts.note} / ${verifyFacts.noteTests})`);
  check(!verifyFacts.glance.includes('test session starts'), 'the facts show the headline, not the output');
  await checkFolded(page, '#task-verify .verify-fail details.full-output', 'the task page');
  const rendered = await page.evaluate(() => {
    const pre = document.querySelector('#task-verify .verify-fail details.full-output pre');
    return {
      text: pre.textContent,
      red: [...pre.querySelectorAll('span.ansi-fg-1')].map((s) => s.textContent),
      bold: pre.querySelectorAll('span.ansi-bold').length,
      markup: pre.querySelectorAll('script, b').length,
    };
  });
  check(!rendered.text.includes('\x1b') && !rendered.text.includes('[31m') && !rendered.text.includes('[0m'), 'no raw escape code is shown');
  check(rendered.red.includes('FAILED') && rendered.bold > 0, `colours are rendered as spans (red: ${rendered.red.slice(0, 5)}, bold: ${rendered.bold})`);
  check(rendered.markup === 0 && rendered.text.includes('<script>window.__xss = 1</script>'), 'markup in the output stays text');
  check(await page.evaluate(() => window.__xss === undefined), 'nothing in the output ran');
  await shot(page, 'task-failed');

  // ---- the feed -----------------------------------------------------------------------------------
  log('the feed filters by task, role and agent');
  await go(page, '#/feed', '#feed-list .event');
  await page.selectOption('#feed-filters select[name="task"]', String(notes));
  await waitFor('the feed to show only the notes task', async () => page.evaluate((id) => {
    const rows = [...document.querySelectorAll('#feed-list .event')];
    return rows.length > 5 && rows.every((r) => r.querySelector('.event-task').textContent.startsWith(`#${id} `));
  }, notes), 10000);
  await page.selectOption('#feed-filters select[name="role"]', 'reviewer');
  await waitFor('the feed to show only the reviewer', async () => page.evaluate(() => {
    const rows = [...document.querySelectorAll('#feed-list .event')];
    return rows.length >= 2 && rows.every((r) => r.querySelector('.event-who').textContent.startsWith('reviewer'));
  }), 10000);
  await page.selectOption('#feed-filters select[name="role"]', '');
  await page.selectOption('#feed-filters select[name="agent"]', 'scripted-coder');
  await waitFor('the feed to show only the coder agent', async () => page.evaluate(() => {
    const rows = [...document.querySelectorAll('#feed-list .event')];
    return rows.length >= 4 && rows.every((r) => r.querySelector('.event-who').textContent.includes('scripted-coder'));
  }), 10000);
  check(page.url().includes(`task=${notes}`) && page.url().includes('agent=scripted-coder'), `the filters are in the address (${page.url()})`);
  await page.selectOption('#feed-filters select[name="agent"]', '');
  await page.selectOption('#feed-filters select[name="task"]', '');
  await shot(page, 'feed');

  // ---- usage and the merge queue -------------------------------------------------------------------
  log('usage charts');
  await go(page, '#/usage', '#usage-by-model svg.chart');
  const charts = await page.evaluate(() => document.querySelectorAll('.charts svg.chart').length);
  check(charts >= 6, `six charts are drawn (${charts})`);
  const byTask = await page.evaluate(() => document.querySelectorAll('#usage-by-task svg rect').length);
  check(byTask >= 3, `cost by task has a bar per task (${byTask})`);
  await shot(page, 'usage');

  log('merge queue');
  await go(page, '#/queue', '#queue-unavailable, .queue-list, .queue .panel');
  // The daemon itself is a machine taking jobs, up, on the queue page.
  await page.waitForSelector('#queue-workers li[data-machine]', { timeout: 15000 });
  const machine = await page.textContent('#queue-workers li[data-machine]');
  if (!machine.startsWith('up')) throw new Error(`the daemon is not shown up: ${machine}`);
  await shot(page, 'queue');

  // ---- the live connection drops and comes back ------------------------------------------------
  log('stopping the daemon under the page');
  await go(page, '#/board', '#board-columns .column');
  const before = await page.evaluate(() => ({ ...window.gaffer.live.stats }));
  gaffer('down');
  await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 20000 });
  const farewellOut = gaffer('task', 'add', 'Write the farewell', '--json');
  const farewell = JSON.parse(farewellOut).id;
  log(`added #${farewell} while the daemon was down; starting it again on port ${env.GAFFER_PORT}`);
  const restarted = gaffer('up', '--detach', '--port', env.GAFFER_PORT);
  check(restarted.includes(`dashboard: ${LINK}`), `the restarted daemon kept its token, so the page stays signed in (${restarted})`);
  check(gaffer('dashboard').trim() === LINK, '`gaffer dashboard` prints the same link');
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 30000 });
  await page.waitForSelector(`.card[data-id="${farewell}"]`, { timeout: 15000 });
  await page.waitForSelector(`.column[data-status="merged"] .card[data-id="${farewell}"]`, { timeout: 90000 });
  const after = await page.evaluate(() => ({ stats: { ...window.gaffer.live.stats }, seqs: window.__seqs, noReload: window.__noReload === true }));
  check(after.noReload, 'the page never reloaded');
  check(after.stats.reconnects > before.reconnects, `the stream reconnected (${JSON.stringify(after.stats)})`);
  const first = after.seqs[0];
  const last = after.seqs[after.seqs.length - 1];
  const logged = (await api('GET', `/api/events?after=${first - 1}&limit=10000`)).map((e) => e.seq).filter((s) => s <= last);
  check(JSON.stringify(logged) === JSON.stringify(after.seqs),
    `the page got every event once, in order: ${after.seqs.length} delivered, ${logged.length} in the log (${first}..${last}); duplicates dropped: ${after.stats.duplicates}`);
  log(`${after.seqs.length} events delivered once each across the restart (${after.stats.duplicates} repeats dropped, ${after.stats.reconnects} reconnects)`);
  check(await page.evaluate(() => document.querySelectorAll('.event, .card').length > 0), 'the page still renders');

  // ---- a phone --------------------------------------------------------------------------------------
  log('a phone-sized screen');
  await go(small, '#/board', '#board-columns .card');
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the board fits the phone's width (overflow ${overflow}px)`);
  await shot(small, 'board-phone');
  await go(small, `#/task/${notes}`, '#task-diff .diff-table');
  await small.waitForSelector('#task-runs details.run');
  await shot(small, 'task-phone');
  await phone.close();

  // ---- without the token ----------------------------------------------------------------------------
  log('a browser without the token is asked for it');
  const stranger = await browser.newContext({ viewport: { width: 1000, height: 700 }, reducedMotion: 'reduce' });
  const outside = await stranger.newPage();
  await outside.goto(`${URL_}/?token=not-it`);
  await outside.waitForSelector('#token-gate', { timeout: 15000 });
  check((await outside.textContent('#token-gate')).includes('not accepted'), 'a wrong token is said to be wrong');
  await shot(outside, 'token');
  await stranger.close();

  check(problems.length === 0, `the pages logged no errors:\n${problems.join('\n')}`);
  log('all checks passed');
  await browser.close();
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e.stack || e}`);
  if (problems.length) console.error(`page problems:\n${problems.join('\n')}`);
  try {
    await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true });
    console.error(`page at failure: ${page.url()} (screenshot ${path.join(SHOTS, 'failure.png')})`);
  } catch (_) {
    // the page is gone
  }
  await browser.close().catch(() => {});
  process.exit(1);
}
