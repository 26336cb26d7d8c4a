// Incidents, quiet periods & scheduled posts, and the ops overview.
import { h, clear, when, say, alarm } from './dom.js';
import { api, session } from './api.js';

function fail(err) { alarm(err.explained || String(err)); }
function table(id, headers, rows) {
  return h('div', { class: 'scroll' }, h('table', { id }, h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)));
}

export async function incidentsPage(main, me) {
  clear(main);
  main.append(h('h1', {}, 'Incidents'));
  let list;
  try { list = await api('GET', '/incidents'); } catch (err) { fail(err); return; }
  if (!list.length) main.append(h('p', { class: 'muted' }, 'No open incidents.'));
  for (const inc of list) {
    const cases = h('ul', { class: 'linked' });
    const linkId = h('input', { type: 'text', id: `link-${inc.id}`, placeholder: 'SC-XXXXXXXX', pattern: 'SC-[A-Z0-9]{8}', required: true });
    const linkForm = h('form', { class: 'action', id: `link-form-${inc.id}` }, h('label', { for: `link-${inc.id}` }, 'Link a case '), linkId, h('button', { type: 'submit' }, 'Link'));
    const text = h('textarea', { id: `update-${inc.id}`, required: true, maxlength: 4000 });
    const resolveForm = h('form', { class: 'action', id: `resolve-form-${inc.id}` },
      h('label', { for: `update-${inc.id}` }, 'One update to every linked customer, each on their own channel; their cases are resolved'), text,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Send update and resolve')));
    const card = h('section', { class: 'card', id: `incident-${inc.id}`, 'aria-labelledby': `h-${inc.id}` },
      h('h2', { id: `h-${inc.id}` }, `${inc.id}: ${inc.title || ''}`),
      h('p', { class: 'muted' }, `${inc.department} · opened ${when(inc.opened_at)} · ${inc.cases} cases · ${inc.customers} customers · ${inc.members} mentions · `,
        Object.entries(inc.channels || {}).map(([k, v]) => `${k} ${v}`).join(', ')),
      h('h3', {}, 'Linked cases'), cases, linkForm, resolveForm);
    main.append(card);
    const refresh = async () => {
      const full = await api('GET', `/incidents/${inc.id}`);
      clear(cases);
      for (const id of full.linked_cases) {
        cases.append(h('li', {}, h('a', { href: `#/case/${id}` }, id), ' ',
          h('button', { type: 'button', 'aria-label': `Unlink ${id}`, onclick: async () => {
            try { await api('POST', `/incidents/${inc.id}/unlink`, { agent: session().agent, case_id: id }); say(`${id} unlinked`); refresh(); } catch (err) { fail(err); }
          } }, 'Unlink')));
      }
      if (!full.linked_cases.length) cases.append(h('li', { class: 'muted' }, 'no cases (mentions only)'));
    };
    linkForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { const r = await api('POST', `/incidents/${inc.id}/link`, { agent: session().agent, case_ids: [linkId.value.trim()] }); say(`${r.linked} case linked to ${inc.id}`); alarm(''); refresh(); } catch (err) { fail(err); }
    });
    resolveForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const r = await api('POST', `/incidents/${inc.id}/resolve`, { agent: session().agent, text: text.value });
        alarm('');
        await incidentsPage(main, me);
        say(`${inc.id} resolved: update sent to ${r.sent} of ${r.customers} customers (${r.already_sent} had it already)`);
      } catch (err) { fail(err); }
    });
    refresh().catch(fail);
  }
  main.dataset.ready = 'incidents';
}

function minutesFromNow(n) { return new Date(Date.now() + Number(n) * 60000).toISOString(); }

export async function quietPage(main) {
  clear(main);
  const operator = session().agent;
  let periods; let held; let posts; let crisis;
  try {
    [periods, held, posts, crisis] = await Promise.all([api('GET', '/quiet-periods'), api('GET', '/held'), api('GET', '/posts'), api('GET', '/crisis-suggestions')]);
  } catch (err) { fail(err); return; }
  const reload = async (message) => { alarm(''); await quietPage(main); say(message); };
  const region = h('input', { type: 'text', id: 'quiet-region', required: true, maxlength: 64 });
  const minutes = h('input', { type: 'number', id: 'quiet-minutes', min: 1, value: 120, required: true });
  const reason = h('input', { type: 'text', id: 'quiet-reason', required: true, maxlength: 500 });
  const start = h('form', { class: 'action', id: 'quiet-start' }, h('h2', {}, 'Start a quiet period'),
    h('div', { class: 'row' }, h('label', { for: 'quiet-region' }, 'Region '), region, h('label', { for: 'quiet-minutes' }, 'Minutes '), minutes),
    h('label', { for: 'quiet-reason' }, 'Reason'), reason, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Start quiet period')));
  start.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { const p = await api('POST', '/quiet-periods', { region: region.value.trim(), until: minutesFromNow(minutes.value), reason: reason.value, operator }); await reload(`quiet period ${p.id} started for ${p.region}`); } catch (err) { fail(err); }
  });
  const settle = async (action, ids) => {
    try { const r = await api('POST', `/held/${action}`, { operator, ids }); await reload(`${r.count} held item(s) ${action === 'release' ? 'released' : 'cancelled'}`); } catch (err) { fail(err); }
  };
  const postText = h('textarea', { id: 'post-text', required: true, maxlength: 4000 });
  const postRegion = h('input', { type: 'text', id: 'post-region', maxlength: 64 });
  const postMinutes = h('input', { type: 'number', id: 'post-minutes', min: 0, value: 0 });
  const schedule = h('form', { class: 'action', id: 'post-schedule' }, h('h3', {}, 'Schedule a promotional post'),
    h('label', { for: 'post-text' }, 'Text'), postText,
    h('div', { class: 'row' }, h('label', { for: 'post-region' }, 'Region '), postRegion, h('label', { for: 'post-minutes' }, 'In minutes '), postMinutes,
      h('button', { type: 'submit' }, 'Schedule')));
  schedule.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { const p = await api('POST', '/posts', { text: postText.value, region: postRegion.value.trim() || null, at: minutesFromNow(postMinutes.value), operator }); await reload(`post ${p.id} scheduled`); } catch (err) { fail(err); }
  });
  // main.append, unlike h(), writes a null child as the text "null": the crisis card is spread in only when there is one.
  main.append(h('h1', {}, 'Quiet periods and scheduled posts'),
    ...(crisis.length ? [h('section', { class: 'card', id: 'crisis' }, h('h2', {}, 'Crisis suggestions awaiting a human'),
      ...crisis.map((c) => h('p', {}, `${c.region}: ${c.mentions} mentions in ${Math.round(c.window_s / 60)} min (suggested ${when(c.suggested_at)}) `,
        h('button', { type: 'button', onclick: () => { region.value = c.region; reason.focus(); } }, `Prepare a quiet period for ${c.region}`))))] : []),
    h('section', { class: 'card' }, h('h2', {}, 'Quiet periods'),
      table('quiet-periods', ['Region', 'Until', 'Reason', 'By', 'State', ''], periods.map((p) => h('tr', {},
        h('td', {}, p.region), h('td', {}, when(p.until)), h('td', { class: 'text' }, p.reason), h('td', {}, p.started_by),
        h('td', {}, p.ended_at ? `ended ${when(p.ended_at)}` : (new Date(p.until) > new Date() ? 'active' : 'expired')),
        h('td', {}, p.ended_at ? '' : h('button', { type: 'button', onclick: async () => {
          try { await api('POST', `/quiet-periods/${p.id}/end`, { operator }); await reload(`quiet period for ${p.region} ended`); } catch (err) { fail(err); }
        } }, `End ${p.region}`))))), start),
    h('section', { class: 'card' }, h('h2', {}, 'Held posts and automatic messages'),
      held.length ? table('held', ['Kind', 'Region', 'Text', 'Held by', ''], held.map((x) => {
        const id = x.type === 'post' ? x.id : x.idempotency_key;
        return h('tr', {}, h('td', {}, `${x.type} (${x.kind})`), h('td', {}, x.region || ''), h('td', { class: 'text' }, x.text), h('td', {}, x.quiet_id || ''),
          h('td', {}, h('button', { type: 'button', onclick: () => settle('release', [id]) }, 'Release'), ' ', h('button', { type: 'button', onclick: () => settle('cancel', [id]) }, 'Cancel')));
      })) : h('p', { class: 'muted', id: 'held-empty' }, 'Nothing held.')),
    h('section', { class: 'card' }, h('h2', {}, 'Scheduled posts'),
      table('posts', ['At', 'Region', 'Kind', 'Status', 'Text'], posts.map((p) => h('tr', {}, h('td', {}, when(p.at)), h('td', {}, p.region || 'everywhere'), h('td', {}, p.kind), h('td', {}, p.status), h('td', { class: 'text' }, p.text)))),
      schedule));
  main.dataset.ready = 'quiet';
}

export async function overviewPage(main) {
  clear(main);
  let o;
  try { o = await api('GET', '/ops/overview'); } catch (err) { fail(err); return; }
  const pct = (met, all) => (all ? `${Math.round((100 * met) / all)}% (${met}/${all})` : '–');
  main.append(h('h1', {}, 'Ops overview'), h('p', { class: 'muted' }, `As of ${when(o.at)}. Parity is the same report, from the same tally, as "socialcare report parity" and its CloudWatch metrics.`),
    h('h2', {}, 'Departments'),
    table('ops-departments', ['Department', 'Open', 'Oldest open', 'First response met today', 'Resolution met today', 'Breached (open)', 'Escalated (open)'],
      o.departments.map((d) => h('tr', {}, h('td', {}, h('a', { href: `#/inbox/${d.department}` }, d.department)), h('td', {}, String(d.open)),
        h('td', {}, d.oldest_case ? [h('a', { href: `#/case/${d.oldest_case}` }, d.oldest_case), ` ${when(d.oldest_opened_at)}`] : '–'),
        h('td', {}, pct(d.first_response_met_today, d.first_responses_today)), h('td', {}, pct(d.resolution_met_today, d.resolved_today)),
        h('td', {}, String(d.breached_open)), h('td', {}, String(d.escalated_open))))),
    h('h2', {}, `Parity per follower band (gap ${o.parity.gap_pct} points, limit ${o.parity.max_gap_pct}${o.parity.alarm ? ', ALARM' : ''})`),
    table('ops-parity', ['Band', 'Cases', 'SLA met %', 'First response p50 (s)', 'Resolution p50 (s)'],
      Object.entries(o.parity.bands).map(([band, r]) => h('tr', {}, h('td', {}, band), h('td', {}, String(r.cases)), h('td', {}, r.sla_met_pct ?? '–'),
        h('td', {}, r.first_response_p50_s ?? '–'), h('td', {}, r.resolution_p50_s ?? '–')))),
    h('h2', {}, 'Dead letters'),
    table('ops-dlq', ['Queue', 'Messages', ''], Object.entries(o.dead_letters).map(([q, n]) => h('tr', {}, h('td', {}, q), h('td', {}, String(n)),
      h('td', {}, h('button', { type: 'button', disabled: n === 0, onclick: async () => {
        try { const r = await api('POST', `/ops/dead-letters/${q}/redrive`); await overviewPage(main); say(`${q}: ${r.returned} returned, ${r.kept} kept for a human`); } catch (err) { fail(err); }
      } }, `Redrive ${q}`))))),
    h('h2', {}, 'Sources'),
    table('ops-sources', ['Source', 'Healthy', 'Note', 'Last update'], o.sources.map((s) => h('tr', {}, h('td', {}, s.source),
      h('td', {}, s.disabled ? 'disabled' : (s.healthy === false ? 'no' : 'yes')), h('td', { class: 'text' }, s.unhealthy_reason || ''),
      h('td', {}, s.updated_at ? when(new Date(Number(s.updated_at) * 1000).toISOString()) : '–')))));
  main.dataset.ready = 'ops';
}
