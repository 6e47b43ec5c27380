// Charts drawn as SVG by hand: horizontal bars (by model, role, task, agent), columns (by day)
// and a step line (the running total over time). Callers pass the width they have, so that the
// viewBox matches the screen and text keeps its size.

import { h, svg } from './dom.js';

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#65a30d', '#db2777'];

/** `rows: [{label, value, title?, href?}]`, largest first. */
export function bars(rows, format, { max = 10, width = 640 } = {}) {
  if (!rows.length) return empty();
  const shown = rows.slice(0, max);
  const top = Math.max(...shown.map((r) => r.value), 0) || 1;
  const rowH = 30;
  const labelW = Math.min(200, Math.round(width * 0.38));
  const valueW = 70;
  const room = Math.floor(labelW / 7);
  const barW = width - labelW - valueW;
  const height = shown.length * rowH + 6;
  const chart = svg('svg', { class: 'chart chart-bars', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': shown.map((r) => `${r.label}: ${format(r.value)}`).join(', ') },
    shown.map((r, i) => {
      const y = i * rowH + 4;
      const w = Math.max(2, (r.value / top) * barW);
      const label = r.label.length > room ? `${r.label.slice(0, room - 1)}…` : r.label;
      const text = svg('text', { x: labelW - 8, y: y + 17, 'text-anchor': 'end', class: 'chart-label' }, label);
      return svg('g', {},
        svg('title', {}, r.title || `${r.label}: ${format(r.value)}`),
        r.href ? svg('a', { href: r.href }, text) : text,
        svg('rect', { x: labelW, y: y + 3, width: w, height: rowH - 10, rx: 3, fill: PALETTE[i % PALETTE.length] }),
        svg('text', { x: labelW + w + 6, y: y + 17, class: 'chart-value' }, format(r.value)));
    }));
  return rows.length > max ? h('div', {}, chart, h('p', { class: 'muted small' }, `and ${rows.length - max} more`)) : chart;
}

/** `rows: [{label, value}]` in order (days): vertical columns. */
export function columns(rows, format, { width = 640 } = {}) {
  if (!rows.length) return empty();
  const height = 200;
  const pad = { l: 56, r: 8, t: 12, b: 28 };
  const top = niceMax(Math.max(...rows.map((r) => r.value), 0));
  const slot = (width - pad.l - pad.r) / rows.length;
  const barW = Math.max(3, Math.min(48, slot * 0.7));
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / top);
  const every = Math.ceil(rows.length / Math.max(2, Math.floor(width / 70)));
  return svg('svg', { class: 'chart chart-columns', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': rows.map((r) => `${r.label}: ${format(r.value)}`).join(', ') },
    gridLines(top, y, pad.l, width - pad.r, format),
    rows.map((r, i) => {
      const x = pad.l + slot * i + (slot - barW) / 2;
      return svg('g', {},
        svg('title', {}, `${r.label}: ${format(r.value)}`),
        svg('rect', { x, y: y(r.value), width: barW, height: Math.max(1, y(0) - y(r.value)), rx: 2, fill: PALETTE[0] }),
        i % every === 0 ? svg('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'chart-axis' }, r.label.slice(5)) : null);
    }));
}

/** `points: [{t (ms), value}]` in time order: the running total as a step line with its area. */
export function runningTotal(points, format, { width = 640 } = {}) {
  if (!points.length) return empty();
  const height = 220;
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  let total = 0;
  const steps = points.map((p) => ({ t: p.t, v: (total += p.value) }));
  const t0 = steps[0].t;
  const t1 = Math.max(steps[steps.length - 1].t, t0 + 1000);
  const top = niceMax(total);
  const x = (t) => pad.l + (width - pad.l - pad.r) * ((t - t0) / (t1 - t0));
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / top);
  let d = `M ${x(t0)} ${y(0)}`;
  for (const s of steps) d += ` H ${x(s.t).toFixed(1)} V ${y(s.v).toFixed(1)}`;
  const line = d;
  const area = `${d} H ${x(t1)} V ${y(0)} Z`;
  const ticks = [t0, t0 + (t1 - t0) / 2, t1];
  return svg('svg', { class: 'chart chart-line', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `running total: ${format(total)}` },
    gridLines(top, y, pad.l, width - pad.r, format),
    svg('path', { d: area, class: 'chart-area' }),
    svg('path', { d: line, class: 'chart-stroke', fill: 'none' }),
    steps.map((s) => svg('circle', { cx: x(s.t), cy: y(s.v), r: 2.5, class: 'chart-point' }, svg('title', {}, `${new Date(s.t).toLocaleString()}: ${format(s.v)}`))),
    ticks.map((t, i) => svg('text', { x: x(t), y: height - 8, 'text-anchor': ['start', 'middle', 'end'][i], class: 'chart-axis' }, timeLabel(t, t1 - t0))));
}

function gridLines(top, y, x0, x1, format) {
  return [0, 0.5, 1].map((f) => svg('g', {},
    svg('line', { x1: x0, x2: x1, y1: y(top * f), y2: y(top * f), class: 'chart-grid' }),
    svg('text', { x: x0 - 6, y: y(top * f) + 4, 'text-anchor': 'end', class: 'chart-axis' }, format(top * f))));
}

function timeLabel(t, span) {
  const d = new Date(t);
  if (span < 10 * 60 * 1000) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  if (span < 36 * 3600 * 1000) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** A round number at or above `v`, for an axis. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function empty() {
  return h('p', { class: 'muted chart-empty' }, 'No runs yet.');
}
