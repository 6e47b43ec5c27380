// Unified diffs: parsed into files and hunks, drawn with line numbers, added and removed lines
// coloured, and a small highlighter for the tokens most languages share (strings, comments,
// numbers, keywords). Review findings are drawn under the line they are about.

import { h } from './dom.js';

/** `git diff` text → `[{path, oldPath, status, added, removed, hunks: [{header, lines}]}]`. */
export function parseDiff(text) {
  const files = [];
  let file = null;
  let hunk = null;
  let oldNo = 0;
  let newNo = 0;
  for (const line of String(text || '').split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      file = { path: m ? m[2] : line.slice(11), oldPath: m ? m[1] : '', status: 'modified', added: 0, removed: 0, hunks: [], binary: false };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (!hunk) {
      if (line.startsWith('new file')) file.status = 'added';
      else if (line.startsWith('deleted file')) file.status = 'deleted';
      else if (line.startsWith('rename from ')) { file.status = 'renamed'; file.oldPath = line.slice(12); }
      else if (line.startsWith('rename to ')) file.path = line.slice(10);
      else if (line.startsWith('Binary files')) file.binary = true;
      else if (line.startsWith('+++ ') && line !== '+++ /dev/null') file.path = line.slice(4).replace(/^b\//, '');
    }
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (header) {
      oldNo = Number(header[1]);
      newNo = Number(header[2]);
      hunk = { header: line, context: header[3].trim(), lines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk) continue;
    const sign = line[0];
    if (sign === '+') {
      hunk.lines.push({ type: 'add', oldNo: null, newNo, text: line.slice(1) });
      newNo += 1;
      file.added += 1;
    } else if (sign === '-') {
      hunk.lines.push({ type: 'del', oldNo, newNo: null, text: line.slice(1) });
      oldNo += 1;
      file.removed += 1;
    } else if (sign === ' ') {
      hunk.lines.push({ type: 'ctx', oldNo, newNo, text: line.slice(1) });
      oldNo += 1;
      newNo += 1;
    } else if (sign === '\\') {
      hunk.lines.push({ type: 'meta', oldNo: null, newNo: null, text: line });
    }
  }
  return files;
}

// ---- highlighting ------------------------------------------------------------------------------

const KEYWORDS = {
  c: 'as async await break case catch class const continue crate default defer delete do dyn else enum export extends false final fn for from func function go if impl import in interface let loop match mod move mut new nil none null package pub return self Self static struct super switch this throw trait true try type typeof undefined unsafe use var void where while with yield',
  py: 'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self',
  sh: 'if then else elif fi for while until do done case esac in function return local export set unset echo printf exit test true false',
  toml: 'true false',
};

const LANG_OF = {
  rs: 'c', js: 'c', mjs: 'c', cjs: 'c', ts: 'c', tsx: 'c', jsx: 'c', go: 'c', java: 'c', kt: 'c', swift: 'c',
  c: 'c', h: 'c', cc: 'c', cpp: 'c', hpp: 'c', cs: 'c', scala: 'c', dart: 'c', php: 'c', json: 'c',
  py: 'py', rb: 'py', sh: 'sh', bash: 'sh', zsh: 'sh', toml: 'toml', yaml: 'toml', yml: 'toml', ini: 'toml', cfg: 'toml',
};

/** The highlighter family for a path, or null for prose (markdown, text) and unknown files. */
export function languageOf(path) {
  const name = String(path || '').split('/').pop();
  if (name === 'Makefile' || name === 'Dockerfile') return 'sh';
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : '';
  return LANG_OF[ext] || null;
}

const RULES = {
  c: /(\/\/.*$|\/\*.*?(?:\*\/|$))|("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.){0,4}'|`(?:[^`\\]|\\.)*`?)|(\b(?:0x[0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?)\b)|([A-Za-z_][A-Za-z0-9_]*)/g,
  py: /(#.*$)|("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g,
  sh: /(#.*$)|("(?:[^"\\]|\\.)*"?|'[^']*'?)|(\$\{?[A-Za-z0-9_@#?*!-]+\}?)|([A-Za-z_][A-Za-z0-9_-]*)/g,
  toml: /(#.*$)|("(?:[^"\\]|\\.)*"?|'[^']*'?)|(\b\d[\d_:.-]*\b)|(^\s*\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_.-]*(?=\s*=)|\b(?:true|false)\b)/g,
};
const KEYWORD_SETS = Object.fromEntries(Object.entries(KEYWORDS).map(([k, v]) => [k, new Set(v.split(' '))]));

/** The nodes of one line of code, with spans for the tokens a language family has. */
export function highlight(text, lang) {
  const rule = lang && RULES[lang];
  if (!rule) return [text];
  const out = [];
  let last = 0;
  rule.lastIndex = 0;
  let m;
  while ((m = rule.exec(text)) !== null) {
    if (m[0] === '') { rule.lastIndex += 1; continue; }
    let cls = null;
    if (m[1]) cls = 'tok-com';
    else if (m[2]) cls = 'tok-str';
    else if (m[3]) cls = lang === 'sh' ? 'tok-var' : 'tok-num';
    else if (m[4]) {
      if (lang === 'toml') cls = 'tok-key';
      else if (KEYWORD_SETS[lang] && KEYWORD_SETS[lang].has(m[4])) cls = 'tok-kw';
      else if (lang === 'c' && /^[A-Z][A-Za-z0-9]*$/.test(m[4]) && m[4].length > 1) cls = 'tok-type';
    }
    if (!cls) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('span', { class: cls }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// ---- drawing -----------------------------------------------------------------------------------

/**
 * The diff as DOM. `findings` are `{file, line, severity, text}`; those on a line of the diff are
 * drawn under it, the others of a file at its top.
 */
export function renderDiff(files, findings = []) {
  if (!files.length) return h('p', { class: 'empty' }, 'No change yet.');
  const byFile = new Map();
  for (const f of findings) {
    if (!f.file) continue;
    if (!byFile.has(f.file)) byFile.set(f.file, []);
    byFile.get(f.file).push(f);
  }
  const totalAdded = files.reduce((n, f) => n + f.added, 0);
  const totalRemoved = files.reduce((n, f) => n + f.removed, 0);
  return h('div', { class: 'diff' },
    h('p', { class: 'diff-stat muted' }, `${files.length} file${files.length === 1 ? '' : 's'} changed, `,
      h('span', { class: 'add-count' }, `+${totalAdded}`), ' ', h('span', { class: 'del-count' }, `−${totalRemoved}`)),
    files.map((file, i) => renderFile(file, byFile.get(file.path) || [], i)));
}

function renderFile(file, findings, index) {
  const lang = languageOf(file.path);
  const placed = new Set();
  const rows = [];
  for (const hunk of file.hunks) {
    rows.push(h('tr', { class: 'hunk' }, h('td', { class: 'ln', colspan: 2 }), h('td', { class: 'code' }, hunk.header)));
    for (const line of hunk.lines) {
      rows.push(h('tr', { class: `line-${line.type}`, dataset: line.newNo != null ? { line: String(line.newNo) } : {} },
        h('td', { class: 'ln' }, line.oldNo ?? ''),
        h('td', { class: 'ln' }, line.newNo ?? ''),
        h('td', { class: 'code' },
          h('span', { class: 'sign', 'aria-hidden': 'true' }, line.type === 'add' ? '+' : line.type === 'del' ? '−' : ' '),
          line.type === 'meta' ? line.text : highlight(line.text, lang))));
      if (line.newNo != null && line.type !== 'del') {
        for (const f of findings) {
          if (f.line === line.newNo && !placed.has(f)) {
            placed.add(f);
            rows.push(h('tr', { class: 'finding-row' }, h('td', { colspan: 2 }), h('td', {}, finding(f))));
          }
        }
      }
    }
  }
  const loose = findings.filter((f) => !placed.has(f));
  return h('details', { class: 'diff-file', open: true, dataset: { key: `diff-${index}-${file.path}`, path: file.path } },
    h('summary', {},
      h('span', { class: ['file-status', `fs-${file.status}`] }, file.status),
      h('span', { class: 'file-path' }, file.status === 'renamed' ? `${file.oldPath} → ${file.path}` : file.path),
      h('span', { class: 'add-count' }, `+${file.added}`),
      h('span', { class: 'del-count' }, `−${file.removed}`)),
    loose.length ? h('div', { class: 'file-findings' }, loose.map(finding)) : null,
    file.binary ? h('p', { class: 'muted pad' }, 'Binary file.') : h('div', { class: 'diff-scroll' }, h('table', { class: 'diff-table' }, h('tbody', {}, rows))));
}

/** One review finding. */
export function finding(f) {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : '';
  return h('div', { class: ['finding', `sev-${f.severity || 'low'}`] },
    h('span', { class: 'finding-sev' }, f.severity || 'note'),
    where ? h('span', { class: 'finding-where' }, where) : null,
    h('span', { class: 'finding-text' }, f.text));
}
