// The console's only way to the server: same-origin fetch with the CSRF token on every change.

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   */
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    /** @type {string} */
    this.code = body && body.error ? body.error.code : "http_error";
    /** @type {any} */
    this.details = body && body.error ? body.error.details : null;
  }
}

/** @type {{ csrf: string | null, onUnauthorised: (message: string) => void }} */
export const session = { csrf: null, onUnauthorised: () => {} };

/**
 * Call the API; JSON in and out. A 401 (other than a failed login) ends the console session.
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 * @param {boolean} [isForm]
 * @returns {Promise<any>}
 */
export async function api(method, path, body, isForm = false) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/auth/login") session.onUnauthorised("Your session has ended: sign in again.");
    throw new ApiError(response.status, data);
  }
  return data;
}
