// The admin API from the page: the key lives in sessionStorage (this tab only, gone when it
// closes), goes out as Authorization: Bearer, never in a cookie or a URL.

const KEY = 'otpd.apiKey';

export function getKey() { return sessionStorage.getItem(KEY); }
export function setKey(key) { sessionStorage.setItem(KEY, key); }
export function forgetKey() { sessionStorage.removeItem(KEY); }

// What a failed call says, in words for a person.
const WORDS = {
  InvalidAuthenticationToken: 'The API key was not accepted: it may be mistyped, revoked, or ' +
    'this daemon may not know it. Sign in again with a current key.',
  accessDenied: 'Your key\'s roles do not allow this.',
  itemNotFound: 'It is not there (any more): someone may have removed it. Reload the page.',
  notAllowed: 'It is not in a state that allows this.',
  nameAlreadyExists: 'That already exists.',
  resourceModified: 'It changed while you were working on it; reload and try again.',
  activityLimitReached: 'Too many attempts in a short time; wait a few minutes and try again.',
  quotaLimitReached: 'A limit was reached.',
  serviceNotAvailable: 'The daemon cannot do this right now; try again shortly.',
  generalException: 'Something went wrong in the daemon; its log has the details.',
  notSupported: 'This daemon does not support that.',
};

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }

  // A sentence or two: what happened in plain words, then the daemon's own reason.
  describe() {
    const plain = WORDS[this.code];
    const detail = this.message && this.message !== this.code ? this.message : '';
    if (this.status === 0) return this.message;
    if (this.code === 'invalidRequest' || this.code === 'badRequest') {
      return `The request was refused: ${detail}.`.replace(/\.\.$/, '.');
    }
    if (plain && detail) return `${plain} (${detail})`;
    return plain || detail || `The daemon answered HTTP ${this.status}.`;
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(f) { onUnauthenticated = f; }

// Calls the API. `body`: an object (sent as JSON), a string/Blob/ArrayBuffer (sent as is, with
// `type`), or undefined. Answers {status, body, headers}; throws ApiError on failure.
export async function call(method, path, body, {type, headers = {}, text = false} = {}) {
  const key = getKey();
  const h = {...headers};
  if (key) h.Authorization = `Bearer ${key}`;
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string' || body instanceof Blob || body instanceof ArrayBuffer) {
      payload = body;
      if (type) h['Content-Type'] = type;
    } else {
      payload = JSON.stringify(body);
      h['Content-Type'] = 'application/json';
    }
  }
  let response;
  try {
    response = await fetch(path, {method, headers: h, body: payload, cache: 'no-store',
      credentials: 'omit', referrerPolicy: 'no-referrer'});
  } catch {
    throw new ApiError(0, 'network', 'The daemon could not be reached: is it running?');
  }
  const raw = await response.text();
  let parsed = null;
  if (!text && raw && (response.headers.get('content-type') || '').includes('json')) {
    try { parsed = JSON.parse(raw); } catch { parsed = null; }
  }
  if (!response.ok) {
    const e = parsed && parsed.error ? parsed.error : {};
    const err = new ApiError(response.status, e.code || '', e.message || raw.trim(),
      response.headers.get('request-id'));
    if (response.status === 401) onUnauthenticated(err);
    throw err;
  }
  return {status: response.status, body: text ? raw : parsed, headers: response.headers};
}

export const get = (path, opts) => call('GET', path, undefined, opts);
export const post = (path, body, opts) => call('POST', path, body ?? {}, opts);
export const del = (path) => call('DELETE', path);

// Every page of a list, following @odata.nextLink (only within this origin), up to `limit` items.
export async function getAll(path, limit = 5000) {
  const out = [];
  let next = path;
  while (next && out.length < limit) {
    const r = await get(next);
    out.push(...(r.body.value || []));
    const link = r.body['@odata.nextLink'];
    next = link ? new URL(link, location.href).pathname + new URL(link, location.href).search : null;
  }
  return out;
}

export const enc = encodeURIComponent;
export const userPath = (upn) => `/v1.0/users/${enc(upn)}`;
