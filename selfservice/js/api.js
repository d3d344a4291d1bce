// The Security info API from the page. The session is the HttpOnly cookie the daemon sets (the
// page never sees it); the CSRF token from the sign-in answer lives in this module's memory only,
// never in localStorage or sessionStorage, so a reload asks /selfservice/session for it again.

let csrfToken = '';
export function setCsrfToken(token) { csrfToken = token || ''; }

// What a failed call says, in words for a person.
const WORDS = {
  signInFailed: 'The user name, password or code is not right.',
  InvalidAuthenticationToken: 'Your session ended; sign in again.',
  csrfTokenMissing: 'The page lost track of your session; reload it and sign in again.',
  csrfTokenWrong: 'The page lost track of your session; reload it and sign in again.',
  lastSecondFactor: 'This is your last way to prove it is you, so it cannot be deleted.',
  activityLimitReached: 'Too many attempts in a short time; wait a few minutes and try again.',
  serviceNotAvailable: 'The service cannot do this right now; try again shortly.',
  generalException: 'Something went wrong on the server; try again later.',
};

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  // The server's own sentence when it has one (it names the field that is wrong), else plain words.
  describe() {
    if (this.status === 0) return this.message;
    const detail = this.message && this.message !== this.code ? this.message : '';
    const sentence = detail ? detail.charAt(0).toUpperCase() + detail.slice(1) : '';
    const words = sentence ? (/[.!?]$/.test(sentence) ? sentence : `${sentence}.`) : '';
    return words || WORDS[this.code] || `The server answered HTTP ${this.status}.`;
  }
}

// Calls whose 401 is not news of a session that ended: the sign-in (a wrong credential), the
// re-authentication's wrong code, and the session probe (no session yet). The callers handle them.
function endsSession(path, err) {
  if (path === '/selfservice/signin' || path === '/selfservice/session') return false;
  if (path === '/selfservice/reauth') return err.code === 'InvalidAuthenticationToken';
  return true;
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(f) { onUnauthenticated = f; }

// Asked for a fresh second factor (403 reauthenticationRequired); resolves true once the user
// proved it, false when they gave up.
let onReauthenticate = async () => false;
export function setReauthenticateHandler(f) { onReauthenticate = f; }

async function send(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  let response;
  try {
    response = await fetch(path, {method, headers, cache: 'no-store', credentials: 'same-origin',
      referrerPolicy: 'no-referrer',
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {})});
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached; check your connection.');
  }
  const raw = await response.text();
  let parsed = null;
  if (raw && (response.headers.get('content-type') || '').includes('json')) {
    try { parsed = JSON.parse(raw); } catch { parsed = null; }
  }
  if (response.ok) return {status: response.status, body: parsed};
  const e = parsed && parsed.error ? parsed.error : {};
  return {error: new ApiError(response.status, e.code || '', e.message || '',
    response.headers.get('retry-after'))};
}

// Calls the API; answers {status, body} or throws ApiError. A write refused for want of a fresh
// second factor is repeated once after the user re-authenticates.
export async function call(method, path, body) {
  let r = await send(method, path, body);
  if (r.error && r.error.status === 403 && r.error.code === 'reauthenticationRequired') {
    if (!(await onReauthenticate())) {
      throw new ApiError(403, 'reauthenticationRequired',
        'This change needs a fresh code from you; it was not made.');
    }
    r = await send(method, path, body);
  }
  if (r.error) {
    if (r.error.status === 401 && endsSession(path, r.error)) onUnauthenticated(r.error);
    throw r.error;
  }
  return r;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);
export const enc = encodeURIComponent;
