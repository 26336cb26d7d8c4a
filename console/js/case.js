// One case: conversation with tags, clocks, action history, the customer's other cases, incident,
// FAQ suggestions, and every action. Each action carries the state tag shown on screen: if someone
// else changed its status, owner or department meanwhile, the server refuses (409) and the page says so
// instead of overwriting.
import { h, clear, countdown, when, say, alarm, carry } from './dom.js';
import { api, requestId, session } from './api.js';

const TAGS = ['intent', 'sentiment', 'language', 'urgency', 'actionable', 'department'];

function tagBadges(tags) {
  return TAGS.filter((k) => tags && tags[k] && typeof tags[k] === 'object')
    .map((k) => h('span', { class: 'badge', title: `confidence ${tags[k].confidence ?? ''}` }, `${k}: ${tags[k].value}`));
}

export async function casePage(main, me, caseId) {
  clear(main);
  let view;
  try {
    view = await api('GET', `/cases/${encodeURIComponent(caseId)}`);
  } catch (err) {
    main.append(h('h1', {}, caseId), h('p', {}, err.explained || String(err)));
    return;
  }
  const agent = session().agent;
  const pending = {}; // one request id per form until it succeeds: a retry after "busy" is the same request

  async function act(name, body, form) {
    const buttons = form ? [...form.querySelectorAll('button')] : [];
    buttons.forEach((b) => { b.disabled = true; });
    pending[name] = pending[name] || requestId();
    try {
      const out = await api('POST', `/cases/${encodeURIComponent(caseId)}/${name}`,
        { agent, request_id: pending[name], if_state: view.state_tag, ...body });
      delete pending[name];
      const deliveries = (out.detail && out.detail.deliveries) || [];
      const how = deliveries.map((d) => `${d.channel}: ${d.mode}${d.reason ? ` (${d.reason})` : ''}`).join('; ');
      alarm('');
      if (name === 'transfer' && !me.departments.includes(out.detail.to || body.to)) {
        // The case has left this person's departments: back to the inbox it came from.
        carry(`${caseId} transferred to ${body.to}`);
        location.hash = `#/inbox/${view.department}`;
        return;
      }
      await casePage(main, me, caseId);
      say(`${name.replace('-', ' ')} done: case is ${out.status}${how ? ` — ${how}` : ''}`);
    } catch (err) {
      if (err.status !== 503) delete pending[name];
      alarm(err.explained || String(err));
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function form(name, title, controls, submit, collect) {
    const f = h('form', { class: 'action', id: `act-${name}`, 'aria-label': title }, h('h3', {}, title), ...controls,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, submit)));
    f.addEventListener('submit', (ev) => { ev.preventDefault(); act(name, collect(), f); });
    return f;
  }

  // Two buttons, one action: the person's verdict on the classifier's "actionable" tag.
  function labelForm() {
    const f = h('form', { class: 'action', id: 'act-label', 'aria-label': 'Actionable?' }, h('h3', {}, 'Actionable?'),
      h('p', { class: 'muted' }, `The classifier said "${(view.tags.actionable || {}).value || '?'}". Your verdict is kept as a label; a case that needs nothing is then resolved.`));
    const row = h('div', { class: 'row' });
    for (const [value, text] of [[true, 'Mark actionable'], [false, 'Mark not actionable']]) {
      row.append(h('button', { type: 'button', id: `label-${value ? 'yes' : 'no'}`, onclick: () => act('label', { actionable: value }, f) }, text));
    }
    f.append(row);
    return f;
  }

  const open = view.status !== 'resolved';
  const replyText = h('textarea', { id: 'reply-text', required: true, maxlength: 4000 });
  const transferTo = h('select', { id: 'transfer-to' }, ...me.known_departments.filter((d) => d !== view.department).map((d) => h('option', { value: d }, d)));
  const transferNote = h('textarea', { id: 'transfer-note', required: true, maxlength: 2000 });
  const handoffTo = h('select', { id: 'handoff-to' }, h('option', { value: 'dm' }, 'direct message'), h('option', { value: 'email' }, 'email'));
  const handoffText = h('textarea', { id: 'handoff-text', required: true, maxlength: 4000 }, 'Hi, it\'s about your case. Could you send us the details here?');
  const resolveNote = h('textarea', { id: 'resolve-note', required: true, maxlength: 2000 });
  const reopenReason = h('input', { type: 'text', id: 'reopen-reason', value: 'reopened by an agent', maxlength: 2000 });
  const force = h('input', { type: 'checkbox', id: 'claim-force' });

  const actions = open ? [
    form('claim', 'Claim', [h('label', { for: 'claim-force' }, force, ' take over from the current owner')], 'Claim', () => ({ force: force.checked })),
    form('reply', 'Reply to the customer', [h('label', { for: 'reply-text' }, 'Reply (published when the brand has write access to the channel, otherwise kept as a draft)'), replyText], 'Send reply', () => ({ text: replyText.value })),
    form('transfer', 'Transfer to another department', [h('label', { for: 'transfer-to' }, 'To '), transferTo, h('label', { for: 'transfer-note' }, 'Note for the receiving department'), transferNote], 'Transfer', () => ({ to: transferTo.value, note: transferNote.value })),
    form('handoff', 'Hand off to a private channel', [h('label', { for: 'handoff-to' }, 'To '), handoffTo, h('label', { for: 'handoff-text' }, 'Private message'), handoffText], 'Hand off', () => ({ to: handoffTo.value, text: handoffText.value })),
    form('wait-customer', 'Wait for the customer', [h('p', { class: 'muted' }, 'Pauses the next-update clock until the customer writes.')], 'Wait for customer', () => ({})),
    labelForm(),
    form('resolve', 'Resolve', [h('label', { for: 'resolve-note' }, 'Resolution note'), resolveNote], 'Resolve', () => ({ note: resolveNote.value })),
  ] : [
    form('reopen', 'Reopen', [h('label', { for: 'reopen-reason' }, 'Reason '), reopenReason], 'Reopen', () => ({ reason: reopenReason.value })),
  ];

  const suggestions = view.suggestions.length ? h('section', { class: 'card', 'aria-labelledby': 'faq-h' }, h('h2', { id: 'faq-h' }, 'FAQ suggestions'),
    h('p', { class: 'muted' }, 'Never sent automatically: "Use" copies the answer into the reply box.'),
    ...view.suggestions.map((s) => h('div', { class: 'msg' }, h('div', { class: 'meta' }, s.question, ` (score ${s.score.toFixed(2)})`),
      h('div', { class: 'text' }, s.answer),
      h('button', { type: 'button', onclick: () => { replyText.value = s.answer; replyText.focus(); } }, 'Use')))) : null;

  main.append(
    h('h1', { id: 'case-title' }, `${view.case_id} `, h('span', { class: 'badge', id: 'case-status' }, view.status.replace('_', ' ')),
      view.escalation_tier ? h('span', { class: 'badge bad' }, `tier ${view.escalation_tier}`) : null),
    h('p', { class: 'muted' }, h('a', { href: `#/inbox/${view.department}` }, `← ${view.department} inbox`)),
    h('div', { class: 'grid' },
      h('div', {},
        h('section', { class: 'card', 'aria-labelledby': 'conv-h' }, h('h2', { id: 'conv-h' }, 'Conversation'),
          ...view.conversation.map((m) => h('article', { class: `msg ${m.direction}` },
            h('div', { class: 'meta' }, `${when(m.at)} · ${m.direction === 'in' ? 'customer' : 'us'} · ${m.channel}${m.author ? ` · ${m.author}` : ''}${m.delivery ? ` · ${m.delivery}` : ''}${m.delivery_reason ? ` (${m.delivery_reason})` : ''}`),
            h('div', { class: 'text' }, m.text),
            m.direction === 'in' && m.tags ? h('div', {}, ...tagBadges(m.tags)) : null))),
        h('section', { class: 'card', 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'),
          h('table', { id: 'case-history' }, h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'Note'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, ...view.history.map((e) => h('tr', {}, h('td', {}, when(e.at)), h('td', {}, e.actor), h('td', {}, e.type.replace('case.', '').replace('_', ' ')),
              h('td', { class: 'text' }, e.note || (e.detail && e.detail.to ? `to ${e.detail.to}` : '')))))))),
      h('div', {},
        h('section', { class: 'card', 'aria-labelledby': 'facts-h' }, h('h2', { id: 'facts-h' }, 'Case'),
          h('dl', { class: 'kv' },
            h('dt', {}, 'Department'), h('dd', { id: 'case-department' }, view.department),
            h('dt', {}, 'Owner'), h('dd', { id: 'case-owner' }, view.owner || 'unclaimed'),
            h('dt', {}, 'Priority'), h('dd', {}, `p${view.priority}`),
            h('dt', {}, 'Customer'), h('dd', {}, `@${view.author.handle} on ${view.author.platform}`),
            h('dt', {}, 'Followers'), h('dd', {}, view.author.followers === null ? 'unknown' : `${view.author.followers} (information only; never changes priority)`),
            h('dt', {}, 'Departments'), h('dd', {}, view.departments_history.join(' → ') || view.department),
            h('dt', {}, 'Incident'), h('dd', {}, view.incident_id ? h('a', { href: '#/incidents' }, view.incident_id) : 'none'),
            h('dt', {}, 'Tags'), h('dd', {}, ...tagBadges(view.tags))),
          h('h3', {}, 'Clocks'),
          h('ul', {}, ...view.clocks.map((c) => h('li', {}, `${c.name.replace('_', ' ')}: `,
            c.state === 'running' || c.state === 'breached' ? countdown(c.seconds_left) : c.state)))),
        h('section', { class: 'card', 'aria-labelledby': 'acts-h' }, h('h2', { id: 'acts-h' }, 'Actions'), ...actions),
        suggestions,
        h('section', { class: 'card', 'aria-labelledby': 'other-h' }, h('h2', { id: 'other-h' }, 'The customer\'s other cases'),
          view.earlier_cases.length ? h('ul', {}, ...view.earlier_cases.map((c) => h('li', {},
            h('a', { href: `#/case/${c.case_id}` }, c.case_id), ` ${c.platform}, ${c.department}, ${c.status}, opened ${when(c.opened_at)}`))) : h('p', { class: 'muted' }, 'none')))));
  main.dataset.ready = `case:${view.case_id}:${view.state_tag}`;
}
