// The department inbox: open cases by SLA due time (the server's order, never re-sorted), live
// countdowns, tier and breach markers, filters applied by the server (on its index query, so they hold
// for every open case, not only the ones on screen), 100 a page with "show more" (the server's `next`). New cases arrive by polling every 5 s: the console's
// API is API Gateway's HTTP API, which has no push channel, and a WebSocket API would add a second API,
// a connection table and fan-out code for a gain of at most 5 s on clocks measured in minutes.
import { h, clear, countdown, say } from './dom.js';
import { api, session } from './api.js';

const POLL_MS = 5000;
const PAGE = 100;
const MAX_PAGES = 10;
const FILTERS = [
  ['mine', 'Mine'], ['unclaimed', 'Unclaimed'], ['breached', 'Breached'], ['waiting', 'Waiting for customer'], ['incident', 'Linked to an incident'],
];

export function inboxPage(main, me, department, onLeave) {
  const dept = department || me.departments[0];
  clear(main);
  if (!dept) { main.append(h('p', {}, 'You are in no department; ask for a department group.')); return; }
  const state = { cases: [], known: null, filters: new Set(), channel: '', language: '', pages: 1, more: false,
    channels: new Set(), languages: new Set() };
  const picker = h('select', { id: 'inbox-department' }, ...me.departments.map((d) => h('option', { value: d, selected: d === dept }, d)));
  picker.addEventListener('change', () => { location.hash = `#/inbox/${picker.value}`; });
  const channel = h('select', { id: 'filter-channel' }, h('option', { value: '' }, 'any'));
  const language = h('select', { id: 'filter-language' }, h('option', { value: '' }, 'any'));
  channel.addEventListener('change', () => { state.channel = channel.value; reload(); });
  language.addEventListener('change', () => { state.language = language.value; reload(); });
  const checks = FILTERS.map(([key, label]) => {
    const box = h('input', { type: 'checkbox', id: `filter-${key}`, value: key });
    box.addEventListener('change', () => { if (box.checked) state.filters.add(key); else state.filters.delete(key); reload(); });
    return h('label', { for: `filter-${key}` }, box, ' ', label);
  });
  const count = h('span', { id: 'inbox-count', class: 'muted' });
  const body = h('tbody', { id: 'inbox-rows' });
  const moreButton = h('button', { type: 'button', id: 'inbox-more', hidden: true }, `Show ${PAGE} more`);
  moreButton.addEventListener('click', () => { state.pages = Math.min(MAX_PAGES, state.pages + 1); clearTimeout(timer); state.known = null; load(); });
  main.append(
    h('h1', {}, 'Inbox ', h('label', { for: 'inbox-department', class: 'muted' }, 'department'), ' ', picker),
    h('fieldset', { class: 'filters' }, h('legend', {}, 'Filters'), ...checks,
      h('label', { for: 'filter-channel' }, 'Channel ', channel), h('label', { for: 'filter-language' }, 'Language ', language), count),
    h('div', { class: 'scroll' }, h('table', { class: 'inbox' },
      h('caption', {}, 'Open cases, the next SLA deadline first. Followers are shown for information only: they never order or filter this list.'),
      h('thead', {}, h('tr', {}, ...['Due', 'Case', 'Markers', 'Status', 'Owner', 'Channel', 'Lang', 'Followers', 'Opening message'].map((t) => h('th', { scope: 'col' }, t)))),
      body)),
    h('p', {}, moreButton));

  function query() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    const f = state.filters;
    if (f.has('mine')) q.set('owner', session().agent);
    if (f.has('unclaimed')) q.set('unclaimed', 'true');
    if (f.has('breached')) q.set('breached', 'true');
    if (f.has('waiting')) q.set('status', 'waiting_customer');
    if (f.has('incident')) q.set('incident', 'true');
    if (state.channel) q.set('channel', state.channel);
    if (state.language) q.set('language', state.language);
    return q.toString();
  }

  function options(select, seen, values) {
    values.filter(Boolean).forEach((v) => seen.add(v));
    const current = select.value;
    const wanted = ['', ...[...seen].sort()];
    if ([...select.options].map((o) => o.value).join() === wanted.join()) return;
    clear(select);
    for (const v of wanted) select.append(h('option', { value: v, selected: v === current }, v || 'any'));
  }

  function render() {
    const shown = state.cases;
    clear(body);
    for (const c of shown) {
      const markers = [
        c.escalation_tier ? h('span', { class: 'badge bad', title: 'escalation tier' }, `tier ${c.escalation_tier}`) : null,
        c.breaches || (c.seconds_left !== null && c.seconds_left < 0) ? h('span', { class: 'badge bad' }, 'breached') : null,
        c.incident_id ? h('span', { class: 'badge' }, c.incident_id) : null,
        c.isNew ? h('span', { class: 'badge new' }, 'new') : null,
        h('span', { class: 'badge', title: 'priority' }, `p${c.priority}`),
      ];
      body.append(h('tr', { dataset: { case: c.case_id } },
        h('td', {}, countdown(c.seconds_left, c.clock ? c.clock.replace('_', ' ') : '')),
        h('td', {}, h('a', { href: `#/case/${c.case_id}` }, c.case_id)),
        h('td', {}, ...markers),
        h('td', {}, c.status.replace('_', ' ')),
        h('td', {}, c.owner || 'unclaimed'),
        h('td', {}, c.platform || ''),
        h('td', {}, c.language || ''),
        h('td', {}, c.followers === null || c.followers === undefined ? '–' : String(c.followers)),
        h('td', { class: 'summary text' }, c.summary)));
    }
    count.textContent = `${shown.length} shown${state.more ? ', more below' : ''}`;
    moreButton.hidden = !state.more || state.pages >= MAX_PAGES;
  }

  let timer = null;
  let alive = true;
  let loads = 0;
  async function load() {
    loads += 1;
    const seq = loads;
    try {
      const started = performance.now();
      const asked = query();
      // The pages on screen, each from where the one before ended (one index query each).
      const view = { cases: [], more: false };
      let after = null;
      for (let page = 0; page < state.pages; page += 1) {
        const got = await api('GET', `/departments/${encodeURIComponent(dept)}/queue?${asked}${after ? `&after=${after}` : ''}`);
        view.cases.push(...got.cases);
        view.more = got.more;
        after = got.next;
        if (!got.more) break;
      }
      // A newer load started meanwhile (filters, "show more"): its answer is the one to show.
      if (seq !== loads || !alive) return;
      const before = state.known;
      state.known = new Set(view.cases.map((c) => c.case_id));
      const fresh = before ? view.cases.filter((c) => !before.has(c.case_id)) : [];
      for (const c of view.cases) c.isNew = before ? !before.has(c.case_id) : false;
      state.cases = view.cases;
      state.more = view.more;
      options(channel, state.channels, view.cases.map((c) => c.platform));
      options(language, state.languages, view.cases.map((c) => c.language));
      render();
      // For the benchmark: milliseconds from navigation start to the first full render of the list.
      if (!main.dataset.renderedAt) main.dataset.renderedAt = String(Math.round(performance.now()));
      main.dataset.loadedMs = String(Math.round(performance.now() - started));
      main.dataset.ready = 'inbox';
      if (fresh.length) say(`${fresh.length} new case${fresh.length > 1 ? 's' : ''} in ${dept}`);
    } catch (err) {
      say('');
      document.getElementById('alert').textContent = err.explained || String(err);
    }
    if (alive && seq === loads) timer = setTimeout(load, POLL_MS);
  }
  // A filter change: load now, without marking what arrives as new.
  function reload() { clearTimeout(timer); state.known = null; state.pages = 1; load(); }
  onLeave(() => { alive = false; clearTimeout(timer); });
  load();
}
