import { portalSessionCreatedResponseSchema, portalSessionStateSchema } from '../../src/api/schemas/portal-session';
import type { Harness } from './harness';
import { valid } from './shapes';

/** A browser's side of a portal session, over plain HTTP: the cookie jar of one cookie and the CSRF token. */
export class PortalClient {
  cookie = '';
  csrfToken = '';
  setCookie = '';

  constructor(private readonly harness: Harness) {}

  /** Asks for a link with the tenant's API key (as a producer's backend does); returns its token and answer. */
  static async link(harness: Harness, apiKey: string, body?: Record<string, unknown>) {
    const res = await harness.call('POST', '/v1/portal-sessions', { token: apiKey, body });
    if (res.status !== 201) throw new Error(`portal session refused: ${res.status} ${JSON.stringify(res.body)}`);
    const created = valid(portalSessionCreatedResponseSchema, res.body);
    return { ...created, token: new URL(created.url).hash.slice(1) };
  }

  /** Opens a link as the portal page does: posts the token from the fragment, keeps the cookie. */
  async open(token: string) {
    const res = await this.harness.call('POST', '/portal/api/session', { body: { token } });
    if (res.status === 201) {
      this.setCookie = res.headers.get('set-cookie') ?? '';
      this.cookie = this.setCookie.split(';')[0];
      this.csrfToken = valid(portalSessionStateSchema, res.body).csrfToken;
    }
    return res;
  }

  /** A call through the portal's API with the session cookie, and the CSRF token unless told otherwise. */
  call(method: string, path: string, options: { body?: unknown; csrf?: string | null; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { cookie: this.cookie, ...options.headers };
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    if (csrf !== null) headers['x-csrf-token'] = csrf;
    return this.harness.call(method, path, { body: options.body, headers });
  }
}
