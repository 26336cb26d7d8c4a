// Every element is built with createElement and every piece of text with a text node: customer text can
// never become markup (a mention containing <script> shows as those characters). No innerHTML anywhere.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function say(text) { document.getElementById('status').textContent = text || ''; }
// A message that survives the next page change (e.g. "transferred" shown on the inbox the agent lands on).
let carried = '';
export function carry(text) { carried = text; }
export function takeCarried() { const t = carried; carried = ''; return t; }
export function alarm(text) { document.getElementById('alert').textContent = text || ''; }

// "-1h05m", "4m09s": time left to a deadline (negative once breached).
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(Math.trunc(seconds));
  const hrs = Math.floor(s / 3600); s -= hrs * 3600;
  const min = Math.floor(s / 60); const sec = s - min * 60;
  return hrs ? `${sign}${hrs}h${String(min).padStart(2, '0')}m` : `${sign}${min}m${String(sec).padStart(2, '0')}s`;
}

// A countdown cell: the deadline is kept as a local monotonic time computed from the server's
// seconds_left when the data arrived, so a skewed client clock does not move it.
export function countdown(secondsLeft, label) {
  const el = h('span', { class: 'due' });
  if (secondsLeft === null || secondsLeft === undefined) { el.textContent = '–'; return el; }
  el.dataset.deadline = String(performance.now() + secondsLeft * 1000);
  if (label) el.dataset.label = label;
  tick(el);
  return el;
}

function tick(el) {
  const left = (Number(el.dataset.deadline) - performance.now()) / 1000;
  el.textContent = (el.dataset.label ? el.dataset.label + ' ' : '') + duration(left);
  el.classList.toggle('breached', left < 0);
  el.classList.toggle('soon', left >= 0 && left < 300);
}

setInterval(() => document.querySelectorAll('[data-deadline]').forEach(tick), 1000);

export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function field(labelText, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('label', { for: id, class: 'fieldlabel' }, labelText, ' ', control, hint ? h('span', { class: 'muted' }, ' ', hint) : null);
}
