// Terminal colours in command output (a verify's pytest, cargo or jest run), rendered as spans
// instead of raw escape codes. The text always becomes text nodes (see dom.js): a span only
// carries classes, or a colour set through the style object for 256 and 24-bit colours, so
// output holding `<script>` or `&amp;` shows as written and nothing in it is ever markup.
//
// Understood: SGR (`ESC[…m`: reset, bold, dim, italic, underline, inverse, strike, the 16
// colours, 256 colours and 24-bit colours, foreground and background). Every other escape
// sequence (cursor moves, clears, OSC links and titles) is dropped, as are other control
// characters but tabs and newlines. A carriage return inside a line keeps what came after it,
// as a terminal shows a progress line rewritten in place.

/** The six levels of the 256-colour cube. */
const CUBE = [0, 95, 135, 175, 215, 255];

/** `rgb(…)` of a 256-colour index from 16 up (0–15 are classes, themed by the page). */
function rgbOf(n) {
  if (n >= 232) {
    const g = 8 + (n - 232) * 10;
    return `rgb(${g}, ${g}, ${g})`;
  }
  const i = n - 16;
  return `rgb(${CUBE[Math.floor(i / 36)]}, ${CUBE[Math.floor(i / 6) % 6]}, ${CUBE[i % 6]})`;
}

function plainStyle() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false };
}

/** A colour read from `38;5;n` or `38;2;r;g;b` at `codes[i]` (the 5 or 2): [colour, next index]. */
function extended(codes, i) {
  if (codes[i] === 5 && codes[i + 1] >= 0 && codes[i + 1] <= 255) return [codes[i + 1], i + 2];
  if (codes[i] === 2 && codes.slice(i + 1, i + 4).length === 3 && codes.slice(i + 1, i + 4).every((c) => c >= 0 && c <= 255)) {
    return [`rgb(${codes[i + 1]}, ${codes[i + 2]}, ${codes[i + 3]})`, i + 4];
  }
  return [null, codes.length];
}

/** The style after the SGR parameters `params` (`1;31`, `38;5;208`, empty for a reset). */
function apply(style, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let s = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) s = plainStyle();
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 9) s.strike = true;
    else if (c === 22) { s.bold = false; s.dim = false; }
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c === 27) s.inverse = false;
    else if (c === 29) s.strike = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = null;
    else if (c === 38 || c === 48) {
      const [colour, next] = extended(codes, i + 1);
      if (colour !== null) s[c === 38 ? 'fg' : 'bg'] = colour;
      i = next - 1;
    }
  }
  return s;
}

/** A line as a terminal leaves it: what follows its last carriage return. */
function overwritten(line) {
  const at = line.lastIndexOf('\r');
  return at < 0 ? line : line.slice(at + 1);
}

/**
 * `text` as runs of equally styled text: `[{ text, style }]`, escape sequences gone. Pure, so
 * the browser test can check it as it checks the page.
 */
export function segments(text) {
  const runs = [];
  let style = plainStyle();
  const push = (t) => {
    if (!t) return;
    const last = runs[runs.length - 1];
    if (last && last.style === style) last.text += t;
    else runs.push({ text: t, style });
  };
  const lines = String(text).replace(/\r\n/g, '\n').split('\n').map(overwritten);
  // ESC [ params final | ESC ] … (BEL | ESC \) | ESC and one character | a lone ESC.
  const escape = /\x1b\[([0-9;:?<>=]*)([\x20-\x2f]*[\x40-\x7e])|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|\x1b[\s\S]?/g;
  lines.forEach((line, n) => {
    if (n > 0) push('\n');
    let at = 0;
    for (const m of line.matchAll(escape)) {
      push(clean(line.slice(at, m.index)));
      at = m.index + m[0].length;
      if (m[2] === 'm') style = apply(style, m[1]);
    }
    push(clean(line.slice(at)));
  });
  return runs;
}

/** Control characters a terminal would not print, but tabs. */
function clean(text) {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/** The classes of a style (colours 0–15 are themed in style.css). */
function classes(style) {
  let { fg, bg } = style;
  const out = [];
  if (style.inverse) {
    [fg, bg] = [bg, fg];
    if (fg === null) out.push('ansi-fg-inverse');
    if (bg === null) out.push('ansi-bg-inverse');
  }
  if (typeof fg === 'number' && fg < 16) out.push(`ansi-fg-${fg}`);
  if (typeof bg === 'number' && bg < 16) out.push(`ansi-bg-${bg}`);
  for (const flag of ['bold', 'dim', 'italic', 'underline', 'strike']) if (style[flag]) out.push(`ansi-${flag}`);
  return { out, fg, bg };
}

/** `text` as DOM nodes: plain runs as text nodes, styled runs as spans holding a text node. */
export function ansi(text) {
  return segments(text).map(({ text: t, style }) => {
    const { out, fg, bg } = classes(style);
    const custom = (c) => (typeof c === 'number' && c >= 16 ? rgbOf(c) : typeof c === 'string' ? c : null);
    if (!out.length && custom(fg) === null && custom(bg) === null) return document.createTextNode(t);
    const span = document.createElement('span');
    if (out.length) span.className = out.join(' ');
    if (custom(fg) !== null) span.style.color = custom(fg);
    if (custom(bg) !== null) span.style.backgroundColor = custom(bg);
    span.textContent = t;
    return span;
  });
}
