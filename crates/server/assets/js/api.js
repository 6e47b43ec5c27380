// The daemon's JSON API. Paths are relative ("api/tasks"), so the dashboard also works behind a
// proxy that serves it under a sub-path. Every request carries `X-Gaffer: 1`: the daemon refuses
// state-changing requests without it, and a page on another site cannot send it.

export class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

async function request(method, path, body) {
  const headers = { 'X-Gaffer': '1', 'X-Gaffer-Client': 'dashboard', Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'unreachable', 'the gaffer daemon does not answer', 'is `gaffer up` running?');
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent('gaffer:unauthorized'));
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch (_) {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, error.code || 'http', error.message || `HTTP ${response.status}`, error.hint);
  }
  return response;
}

export async function get(path) {
  return (await request('GET', path)).json();
}

export async function getText(path) {
  return (await request('GET', path)).text();
}

export async function post(path, body = {}) {
  return (await request('POST', path, body)).json();
}

export async function patch(path, body) {
  return (await request('PATCH', path, body)).json();
}

/** The message to show a person for a failed call. */
export function explain(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  return error.hint ? `${error.message} (${error.hint})` : error.message;
}
