/**
 * The producer and admin side of the bench: the product's public REST API (shared/API.md)
 * through one keep-alive undici pool, as an outside client would use it.
 */
import { Pool } from 'undici';

/** Thrown when the API answers something other than the expected status. */
export class UnexpectedStatusError extends Error {
  override readonly name = 'UnexpectedStatusError';
  constructor(
    readonly route: string,
    readonly status: number,
    body: string,
  ) {
    super(`${route} answered ${status}: ${body.slice(0, 200)}`);
  }
}

export interface Tenant {
  tenantId: string;
  apiKey: string;
}

export class BenchApiClient {
  private readonly pool: Pool;

  constructor(
    apiUrl: string,
    private readonly adminToken: string,
  ) {
    this.pool = new Pool(apiUrl, { connections: 128, keepAliveTimeout: 60_000 });
  }

  private async call<T>(method: 'GET' | 'POST', path: string, token: string, expected: number, body?: unknown): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== expected) throw new UnexpectedStatusError(`${method} ${path}`, res.statusCode, text);
    return JSON.parse(text) as T;
  }

  async createTenant(name: string): Promise<Tenant> {
    const res = await this.call<{ tenant: { id: string }; apiKey: string }>('POST', '/v1/admin/tenants', this.adminToken, 201, { name });
    return { tenantId: res.tenant.id, apiKey: res.apiKey };
  }

  async createWebhook(
    tenant: Tenant,
    webhook: { url: string; events: string[]; retrySchedule?: string[]; timeoutSeconds?: number; rateLimitPerSecond?: number; transformation?: { code: string } },
  ): Promise<string> {
    const res = await this.call<{ webhook: { id: string } }>('POST', '/v1/webhooks', tenant.apiKey, 201, { timeoutSeconds: 10, ...webhook });
    return res.webhook.id;
  }

  /** A tenant GET that must answer 200, e.g. a page of a list. */
  get<T>(tenant: Tenant, path: string): Promise<T> {
    return this.call<T>('GET', path, tenant.apiKey, 200);
  }

  /** POST /v1/events; resolves with the event id once the API answered 202. */
  async sendEvent(tenant: Tenant, type: string, data: unknown): Promise<string> {
    const res = await this.call<{ id: string }>('POST', '/v1/events', tenant.apiKey, 202, { type, data });
    return res.id;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
