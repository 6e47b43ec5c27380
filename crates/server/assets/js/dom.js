// Small DOM helpers. Data from the API only ever becomes text nodes or attribute values, never
// markup, so a task title or an agent's output cannot inject anything into the page.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** `h('a', {href: '#/x', class: 'y'}, 'text', otherNode)`: an HTML element. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Like `h`, for SVG elements. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/**
 * What a person typed into the fields under `root` (keyed by their task and name) and which
 * field had focus; the returned function puts both back after `root` is drawn again, so a
 * live re-render never loses what is being typed.
 */
export function keepTyped(root) {
  const key = (field) => `${field.closest('[data-task]')?.dataset.task ?? ''}:${field.name}`;
  const fields = () => root.querySelectorAll('textarea[name], input[name]');
  const typed = new Map();
  for (const field of fields()) {
    if (field.value !== field.defaultValue) typed.set(key(field), field.value);
  }
  const active = document.activeElement;
  const focused = active && root.contains(active) && active.name ? key(active) : null;
  return () => {
    for (const field of fields()) {
      const k = key(field);
      if (typed.has(k)) field.value = typed.get(k);
      if (k === focused) field.focus();
    }
  };
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Remembers which `<details data-key>` under `root` are open, to restore after a re-render. */
export function openState(root) {
  const open = new Map();
  for (const d of root.querySelectorAll('details[data-key]')) open.set(d.dataset.key, d.open);
  return (after) => {
    for (const d of after.querySelectorAll('details[data-key]')) {
      if (open.has(d.dataset.key)) d.open = open.get(d.dataset.key);
    }
  };
}

/** Calls `fn` at most once per `ms`, with the latest call winning. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** A short message in the corner that goes away by itself. */
export function toast(message, tone = 'ok') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('div', { class: ['toast', `toast-${tone}`], role: tone === 'error' ? 'alert' : 'status' }, message);
  box.appendChild(item);
  setTimeout(() => item.classList.add('toast-out'), tone === 'error' ? 6000 : 3000);
  setTimeout(() => item.remove(), tone === 'error' ? 6500 : 3500);
}

// ---- formatting --------------------------------------------------------------------------------

export const fmt = {
  cost(usd) {
    const n = Number(usd) || 0;
    if (n === 0) return '$0';
    if (n < 0.01) return `$${n.toFixed(4)}`;
    if (n < 100) return `$${n.toFixed(2)}`;
    return `$${Math.round(n).toLocaleString('en-US')}`;
  },
  tokens(n) {
    const v = Number(n) || 0;
    if (v < 1000) return String(v);
    if (v < 1e6) return `${(v / 1000).toFixed(v < 10000 ? 1 : 0)}k`;
    return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1)}M`;
  },
  int(n) {
    return (Number(n) || 0).toLocaleString('en-US');
  },
  time(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  },
  datetime(ms) {
    const d = new Date(ms);
    return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${fmt.time(ms)}`;
  },
  ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 5) return 'just now';
    if (s < 60) return `${s}s ago`;
    const m = Math.round(s / 60);
    if (m < 60) return `${m}m ago`;
    const hr = Math.round(m / 60);
    if (hr < 48) return `${hr}h ago`;
    return `${Math.round(hr / 24)}d ago`;
  },
  duration(ms) {
    const v = Number(ms) || 0;
    if (v < 1000) return `${v} ms`;
    const s = v / 1000;
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    const m = Math.floor(s / 60);
    return `${m}m ${Math.round(s - m * 60)}s`;
  },
  sha(id) {
    return id ? String(id).slice(0, 10) : '';
  },
};
