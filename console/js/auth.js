// Sign-in. Locally (`socialcare local up`) a person names themselves and picks departments; the local
// server signs a token with the claims Cognito would give. In AWS: Cognito's hosted sign-in with the
// authorization-code flow and PKCE (no client secret in a browser); the ID token carries
// cognito:username and cognito:groups, which API Gateway's JWT authorizer checks and passes on.
import { h, clear, alarm } from './dom.js';
import { loadConfig, saveSession, dropSession, session } from './api.js';

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function claimsOf(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
}

async function cognitoStart(cfg) {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('socialcare.pkce', JSON.stringify({ verifier, state }));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const q = new URLSearchParams({
    response_type: 'code', client_id: cfg.clientId, redirect_uri: cfg.redirectUri, scope: 'openid email profile',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(`${cfg.signInDomain}/oauth2/authorize?${q}`);
}

// Back from Cognito with ?code=...: trade it for tokens, keep the ID token for the API.
export async function finishCognito() {
  const cfg = await loadConfig();
  const params = new URLSearchParams(location.search);
  if (cfg.mode !== 'cognito' || !params.get('code')) return false;
  const saved = JSON.parse(sessionStorage.getItem('socialcare.pkce') || 'null');
  history.replaceState(null, '', location.pathname);
  if (!saved || saved.state !== params.get('state')) { alarm('Sign-in answer did not match the request; sign in again.'); return false; }
  const res = await fetch(`${cfg.signInDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: cfg.clientId, code: params.get('code'),
      redirect_uri: cfg.redirectUri, code_verifier: saved.verifier }),
  });
  if (!res.ok) { alarm('Cognito refused the sign-in code; sign in again.'); return false; }
  const tokens = await res.json();
  const claims = claimsOf(tokens.id_token);
  saveSession({ token: tokens.id_token, agent: claims['cognito:username'], groups: claims['cognito:groups'] || [] });
  sessionStorage.removeItem('socialcare.pkce');
  return true;
}

export async function signOut() {
  const cfg = await loadConfig();
  dropSession();
  if (cfg.mode === 'cognito') {
    location.assign(`${cfg.signInDomain}/logout?${new URLSearchParams({ client_id: cfg.clientId, logout_uri: cfg.redirectUri })}`);
  } else {
    location.hash = '#/sign-in';
  }
}

export async function signInPage(main, done) {
  const cfg = await loadConfig();
  clear(main);
  if (cfg.mode === 'cognito') {
    main.append(h('section', { class: 'signin' }, h('h1', {}, 'Sign in'),
      h('p', {}, 'You sign in with your organisation\'s console account; your groups decide which departments you see.'),
      h('button', { class: 'primary', type: 'button', id: 'signin-cognito', onclick: () => cognitoStart(cfg) }, 'Sign in')));
    main.dataset.ready = 'sign-in';
    return;
  }
  const name = h('input', { type: 'text', id: 'signin-name', name: 'agent', required: true, autocomplete: 'username', pattern: '[A-Za-z][A-Za-z0-9_.\\-]{0,39}' });
  const boxes = cfg.departments.map((d) => h('label', {}, h('input', { type: 'checkbox', name: 'department', value: d }), ' ', d));
  const ops = h('input', { type: 'checkbox', id: 'signin-ops', name: 'ops' });
  const form = h('form', { class: 'signin', id: 'signin-form' },
    h('h1', {}, 'Sign in (local stack)'),
    h('p', { class: 'muted' }, 'Locally there is no Cognito: name yourself and pick your departments. The server applies the same rules as in AWS: you see and act on your departments\' cases only, and ops pages need ops.'),
    h('p', {}, h('label', { for: 'signin-name' }, 'Your name '), name),
    h('fieldset', {}, h('legend', {}, 'Departments'), ...boxes),
    h('p', {}, h('label', { for: 'signin-ops' }, ops, ' Ops (quiet periods, scheduled posts, overview)')),
    h('button', { class: 'primary', type: 'submit', id: 'signin-submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const departments = [...form.querySelectorAll('input[name=department]:checked')].map((i) => i.value);
    const res = await fetch('local/sign-in', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: name.value.trim(), departments, ops: ops.checked }),
    });
    const body = await res.json();
    if (!res.ok) { alarm(body.message || 'sign-in refused'); return; }
    alarm('');
    saveSession({ token: body.token, agent: body.agent, groups: body.groups });
    done();
  });
  main.append(form);
  main.dataset.ready = 'sign-in';
  name.focus();
}

export function signedIn() { return session(); }
