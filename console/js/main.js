// The console's router: #/inbox/<department>, #/case/<id>, #/incidents, #/quiet, #/ops, #/sign-in.
import { h, clear, say, alarm, takeCarried } from './dom.js';
import { api, loadConfig, session } from './api.js';
import { signInPage, finishCognito, signOut } from './auth.js';
import { inboxPage } from './inbox.js';

let leaving = [];
let me = null;

function nav(current) {
  const el = clear(document.getElementById('nav'));
  const links = [['inbox', 'Inbox'], ['incidents', 'Incidents']];
  if (me && me.ops) links.push(['quiet', 'Quiet periods & posts'], ['ops', 'Ops overview']);
  for (const [key, label] of links) el.append(h('a', { href: `#/${key}`, 'aria-current': key === current ? 'page' : null }, label));
  const who = clear(document.getElementById('who'));
  who.append(`${me.name} · ${me.departments.join(', ') || 'no department'}${me.ops ? ' · ops' : ''} `,
    h('button', { type: 'button', id: 'sign-out', onclick: () => { me = null; signOut(); } }, 'Sign out'));
}

async function route() {
  leaving.forEach((fn) => fn());
  leaving = [];
  say(takeCarried());
  const main = document.getElementById('main');
  delete main.dataset.ready;
  const [page, arg] = location.hash.replace(/^#\/?/, '').split('/');
  if (!session() || page === 'sign-in') {
    me = null;
    clear(document.getElementById('nav'));
    clear(document.getElementById('who'));
    await signInPage(main, () => { location.hash = '#/inbox'; route(); });
    return;
  }
  if (!me) {
    try { me = await api('GET', '/me'); } catch (err) { alarm(err.explained || String(err)); return; }
  }
  nav(page || 'inbox');
  const onLeave = (fn) => leaving.push(fn);
  if (page === 'case' && arg) {
    const { casePage } = await import('./case.js');
    await casePage(main, me, decodeURIComponent(arg));
  } else if (page === 'incidents') {
    const { incidentsPage } = await import('./ops.js');
    await incidentsPage(main, me);
  } else if (page === 'quiet') {
    const { quietPage } = await import('./ops.js');
    await quietPage(main, me);
  } else if (page === 'ops') {
    const { overviewPage } = await import('./ops.js');
    await overviewPage(main, me);
  } else {
    inboxPage(main, me, arg && decodeURIComponent(arg), onLeave);
  }
  main.focus({ preventScroll: true });
}

// A new page clears the last page's error; the first route keeps one from the sign-in (a refused answer).
window.addEventListener('hashchange', () => { alarm(''); route(); });
(async () => {
  await loadConfig();
  if (await finishCognito()) location.hash = '#/inbox';
  route();
})();
