// The API client. The token goes in the Authorization header (never a cookie): a page on another site
// cannot make the browser send it, so cross-site request forgery has nothing to ride on.
const KEY = 'socialcare.session';
let config = null;

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && (body.message || body.error)) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body;
  }
  get explained() {
    if (this.status === 409) return `Conflict: ${this.message}`;
    if (this.status === 403) return `Not allowed: ${this.message}`;
    if (this.status === 503) return `Busy: ${this.message} (try again; the same request is safe to repeat)`;
    if (this.status === 401) return 'Your sign-in has expired; sign in again.';
    if (this.status === 422 || this.status === 400) return `Invalid: ${describe(this.body) || this.message}`;
    return this.message;
  }
}

function describe(body) {
  if (body && Array.isArray(body.detail)) return body.detail.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.msg}`).join('; ');
  return body && body.message;
}

export async function loadConfig() {
  if (!config) {
    const res = await fetch('config.json', { cache: 'no-store' });
    config = await res.json();
  }
  return config;
}

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
}
export function saveSession(value) { sessionStorage.setItem(KEY, JSON.stringify(value)); }
export function dropSession() { sessionStorage.removeItem(KEY); }

export function requestId() { return crypto.randomUUID(); }

export async function api(method, path, body) {
  const cfg = await loadConfig();
  const s = session();
  const headers = { Accept: 'application/json' };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(cfg.api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) {
    if (res.status === 401) { dropSession(); location.hash = '#/sign-in'; }
    throw new ApiError(res.status, data);
  }
  return data;
}
