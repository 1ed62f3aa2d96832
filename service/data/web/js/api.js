// Calls to this page's own server (relative URLs: same origin, also behind a path prefix). The API key,
// when the server wants one, lives only in sessionStorage: gone when the tab closes.

const KEY_STORAGE = "evo2-variant-service.api-key";

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** An error answer of the server, with its own envelope: `type`, `message`, `detail`. */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body.message);
    this.status = status;
    this.type = body.type;
    this.detail = body.detail || {};
    this.retryAfter = retryAfter;
  }
}

function envelope(status, data, statusText) {
  if (data && typeof data === "object" && data.error && typeof data.error.message === "string") {
    return data.error;
  }
  return { type: `http_${status}`, message: `the server answered ${status} ${statusText}`.trim(), detail: {} };
}

/** GET (no body) or POST (JSON body) `path`; the parsed JSON, or an `ApiError`. */
export async function call(path, body, { signal } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { type: "network_error", message: `could not reach the server (${error.message})` });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retry = Number(response.headers.get("retry-after"));
    throw new ApiError(response.status, envelope(response.status, data, response.statusText), retry || null);
  }
  return data;
}
