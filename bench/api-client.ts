/**
 * The producer and admin side of the bench: the product's public REST API through its typed client
 * (packages/client), over one keep-alive undici pool, as an outside client would use it. Without
 * the client's retries: a 503 or 429 during a run is an error of the run, not a hidden wait.
 */
import { Pool } from 'undici';
import { WebhookClient, type NewWebhook } from '../packages/client/src';
import { poolFetch } from './pool-fetch';

export interface Tenant {
  tenantId: string;
  apiKey: string;
}

export class BenchApiClient {
  private readonly pool: Pool;
  private readonly fetch: (request: Request) => Promise<Response>;
  private readonly clients = new Map<string, WebhookClient>();

  constructor(
    private readonly apiUrl: string,
    private readonly adminToken: string,
  ) {
    this.pool = new Pool(apiUrl, { connections: 128, keepAliveTimeout: 60_000 });
    this.fetch = poolFetch(this.pool);
  }

  /** The typed client with `token` (a tenant's API key, or the admin token), over the pool. */
  client(token: string): WebhookClient {
    let client = this.clients.get(token);
    if (!client) {
      client = new WebhookClient({ baseUrl: this.apiUrl, token, fetch: this.fetch, retry: false });
      this.clients.set(token, client);
    }
    return client;
  }

  async createTenant(name: string): Promise<Tenant> {
    const { tenant, apiKey } = await this.client(this.adminToken).createTenant({ name });
    return { tenantId: tenant.id, apiKey };
  }

  async createWebhook(tenant: Tenant, webhook: NewWebhook): Promise<string> {
    return (await this.client(tenant.apiKey).createWebhook({ timeoutSeconds: 10, ...webhook })).id;
  }

  /** POST /v1/events; resolves with the event id once the API answered 202. */
  async sendEvent(tenant: Tenant, type: string, data: unknown): Promise<string> {
    return (await this.client(tenant.apiKey).sendEvent({ type, data })).id;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
