/**
 * The portal's one way to the service: the public API's own routes under /portal/api/v1,
 * authenticated by the HttpOnly session cookie, with the session's CSRF token on every change.
 * Every failure becomes an ApiFailure whose `words` say what happened.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly retryAfter: string | null = null,
  ) {
    super(message);
  }

  /** What went wrong, in words a customer understands. */
  get words(): string {
    switch (this.code) {
      case 'network':
        return 'The service could not be reached. Check your connection, then try again.';
      case 'portal_session_invalid':
      case 'unauthorized':
        return 'Your portal session has expired or was ended. Open the portal again from the application that sent you here.';
      case 'portal_link_invalid':
        return 'This portal link has expired or was already used. Links work once and only for a few minutes: open the portal again from the application that sent you here.';
      case 'read_only_session':
        return 'This is a read-only session: you can look at everything, but not change anything.';
      case 'csrf_failed':
        return 'The request was refused because it could not be confirmed as coming from this page. Reload the page and try again.';
      case 'not_found':
        return `Not found: ${this.message}. It may have been deleted, or the link is wrong.`;
      case 'validation_failed':
        return 'Some values are not valid; see the notes below.';
      case 'rate_limited':
        return `Too many requests right now. Wait ${this.retryAfter ?? 'a few'} seconds and try again.`;
      case 'service_unavailable':
        return 'The delivery service is unavailable for a moment. Try again shortly.';
      case 'internal_error':
        return 'Something went wrong on the server. Try again; if it keeps happening, contact the provider of this service.';
      default:
        return this.message.charAt(0).toUpperCase() + this.message.slice(1) + (this.message.endsWith('.') ? '' : '.');
    }
  }
}

let csrfToken = '';
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiFailure(0, 'network', 'network error');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | undefined)?.error;
  throw new ApiFailure(
    res.status,
    error?.code ?? (res.status >= 500 ? 'service_unavailable' : 'http_error'),
    error?.message ?? `the service answered HTTP ${res.status}`,
    error?.details ?? [],
    res.headers.get('retry-after'),
  );
}

/** A call of the public API (path as in API.md, without /v1). */
export const api = <T>(method: string, path: string, body?: unknown): Promise<T> => request<T>(method, `/portal/api/v1${path}`, body);

/** The portal's own session endpoints. */
export const sessionApi = <T>(method: string, body?: unknown): Promise<T> => request<T>(method, '/portal/api/session', body);
