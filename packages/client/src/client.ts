/**
 * The typed client of the webhook service: every route of its OpenAPI document through
 * openapi-fetch (`client.api`, and `client.get`/`post`/... answering the body), one error type for
 * every non-2xx answer, retries by the retry policy, and convenience methods for the common calls.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type {
  AcceptedEvent,
  BatchAcceptedEvent,
  CreatedTenant,
  CreatedWebhook,
  Delivery,
  DeliveryAction,
  DeliveryList,
  DeliveryListQuery,
  DeliveryLog,
  DeliveryLogQuery,
  EventList,
  EventListQuery,
  EventQuery,
  EventWithDeliveries,
  IdentifiedEvent,
  NewEvent,
  NewTenant,
  NewWebhook,
  Operation,
  OperationStarted,
  RecoverWindow,
  SecretRotation,
  Tenant,
  TenantList,
  TenantListQuery,
  Webhook,
  WebhookList,
  WebhookListQuery,
  WebhookPatch,
} from './api-types';
import { EventBatcher, type BatcherOptions } from './batcher';
import { WebhookApiError } from './errors';
import { newEventId } from './event-id';
import type { paths } from './openapi';
import { DEFAULT_RETRY, type RetryOptions } from './retry-policy';
import { retryingFetch, type Fetch } from './transport';
import type { DataMethod, HttpMethod } from './typed-methods';

export interface WebhookClientOptions {
  /** The service's address, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** A tenant API key (`whk_...`), or the admin token for `/v1/admin` routes. @default none (public routes only) */
  token?: string;
  /** The fetch requests go through (e.g. one over an undici Pool for keep-alive at load). @default globalThis.fetch */
  fetch?: Fetch;
  /** When to try a request again; `false` never does. @default DEFAULT_RETRY */
  retry?: RetryOptions | false;
  /** Headers sent with every request. @default none */
  headers?: Record<string, string>;
}

/** Answers every non-2xx response by throwing its WebhookApiError. */
const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await WebhookApiError.fromResponse(response);
    return undefined;
  },
};

export class WebhookClient {
  /** openapi-fetch over every route of the document: `{ data, response }`; a non-2xx answer throws WebhookApiError. */
  readonly api: Client<paths>;
  /** GET any path of the document; resolves with the answer's body. */
  readonly get: DataMethod<'get'>;
  readonly post: DataMethod<'post'>;
  readonly put: DataMethod<'put'>;
  readonly patch: DataMethod<'patch'>;
  readonly delete: DataMethod<'delete'>;
  /** The fetch for requests that are safe to send twice (events with ids): network errors are retried too. */
  private readonly idempotentFetch: Fetch;
  /** The fetch without retries, for callers that retry themselves (the batcher). */
  private readonly singleFetch: Fetch;

  constructor(options: WebhookClientOptions) {
    const base: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    const policy = options.retry === false ? { ...DEFAULT_RETRY, maxAttempts: 1 } : { ...DEFAULT_RETRY, ...options.retry };
    this.singleFetch = base;
    this.idempotentFetch = retryingFetch(base, policy, true);
    this.api = createClient<paths>({
      baseUrl: options.baseUrl,
      fetch: retryingFetch(base, policy),
      headers: { ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    });
    this.api.use(throwOnError);
    const data = (method: HttpMethod) =>
      ((url: string, init?: object) => this.api.request(method, url as never, init as never).then((r: { data?: unknown }) => r.data)) as never;
    this.get = data('get');
    this.post = data('post');
    this.put = data('put');
    this.patch = data('patch');
    this.delete = data('delete');
  }

  async createWebhook(webhook: NewWebhook): Promise<CreatedWebhook> {
    return (await this.post('/v1/webhooks', { body: webhook })).webhook;
  }

  async getWebhook(id: string): Promise<Webhook> {
    return (await this.get('/v1/webhooks/{id}', { params: { path: { id } } })).webhook;
  }

  listWebhooks(query: WebhookListQuery = {}): Promise<WebhookList> {
    return this.get('/v1/webhooks', { params: { query } });
  }

  async updateWebhook(id: string, patch: WebhookPatch): Promise<Webhook> {
    return (await this.patch('/v1/webhooks/{id}', { params: { path: { id } }, body: patch })).webhook;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.delete('/v1/webhooks/{id}', { params: { path: { id } } });
  }

  rotateSecret(id: string): Promise<SecretRotation> {
    return this.post('/v1/webhooks/{id}/rotate-secret', { params: { path: { id } } });
  }

  /**
   * POST /v1/events. An event without an id gets one here, before the first try, so that a retry
   * (after a 503, a 429 or a lost connection) is the same event: accepted once, fanned out once.
   */
  async sendEvent(event: NewEvent): Promise<AcceptedEvent> {
    const body: IdentifiedEvent = { ...event, id: event.id ?? newEventId() };
    return this.post('/v1/events', { body, fetch: this.idempotentFetch });
  }

  /** POST /v1/events/batch (at most 100), each event given an id before the first try as in sendEvent. */
  async sendEvents(events: readonly NewEvent[]): Promise<BatchAcceptedEvent[]> {
    return this.postBatch(events.map((event) => ({ ...event, id: event.id ?? newEventId() })), this.idempotentFetch);
  }

  getEvent(id: string, query: EventQuery = {}): Promise<EventWithDeliveries> {
    return this.get('/v1/events/{id}', { params: { path: { id }, query } });
  }

  /** The tenant's events, newest first, each with its deliveries' counts by status, a page at a time (`nextCursor`). */
  listEvents(query: EventListQuery = {}): Promise<EventList> {
    return this.get('/v1/events', { params: { query } });
  }

  /** The tenant-wide delivery log, newest first, a page at a time (`nextCursor`). */
  listDeliveries(query: DeliveryLogQuery = {}): Promise<DeliveryLog> {
    return this.get('/v1/deliveries', { params: { query } });
  }

  /** Requeues the webhook's failed deliveries of the window, as a durable operation (see getOperation). */
  recoverWebhook(webhookId: string, window: RecoverWindow): Promise<OperationStarted> {
    return this.post('/v1/webhooks/{id}/recover', { params: { path: { id: webhookId } }, body: window });
  }

  async getOperation(id: string): Promise<Operation> {
    return (await this.get('/v1/operations/{id}', { params: { path: { id } } })).operation;
  }

  /** A webhook's deliveries, newest first, a page at a time (`nextCursor`). */
  listWebhookDeliveries(webhookId: string, query: DeliveryListQuery = {}): Promise<DeliveryList> {
    return this.get('/v1/webhooks/{id}/deliveries', { params: { path: { id: webhookId }, query } });
  }

  async getDelivery(id: string): Promise<Delivery> {
    return (await this.get('/v1/deliveries/{id}', { params: { path: { id } } })).delivery;
  }

  /** Requeues a failed delivery (409 `WebhookApiError` for a delivered one). */
  retryDelivery(id: string): Promise<DeliveryAction> {
    return this.post('/v1/deliveries/{id}/retry', { params: { path: { id } } });
  }

  cancelDelivery(id: string): Promise<DeliveryAction> {
    return this.post('/v1/deliveries/{id}/cancel', { params: { path: { id } } });
  }

  /** Sends a delivered delivery again, on purpose (audited as a new attempt). */
  resendDelivery(id: string): Promise<DeliveryAction> {
    return this.post('/v1/deliveries/{id}/resend', { params: { path: { id } } });
  }

  /** Admin: a tenant and its first API key (shown once). Needs the admin token. */
  createTenant(tenant: NewTenant): Promise<CreatedTenant> {
    return this.post('/v1/admin/tenants', { body: tenant });
  }

  /** Admin: live tenants, newest first, a page at a time; `name` matches a prefix in any case. */
  listTenants(query: TenantListQuery = {}): Promise<TenantList> {
    return this.get('/v1/admin/tenants', { params: { query } });
  }

  async getTenant(id: string): Promise<Tenant> {
    return (await this.get('/v1/admin/tenants/{tenantId}', { params: { path: { tenantId: id } } })).tenant;
  }

  async renameTenant(id: string, name: string): Promise<Tenant> {
    return (await this.patch('/v1/admin/tenants/{tenantId}', { params: { path: { tenantId: id } }, body: { name } })).tenant;
  }

  /** Admin: deletes a tenant (its keys stop at once, its retrying deliveries end canceled). */
  async deleteTenant(id: string): Promise<void> {
    await this.delete('/v1/admin/tenants/{tenantId}', { params: { path: { tenantId: id } } });
  }

  /**
   * A batcher of events: `add` them one at a time, it sends them to /v1/events/batch by size or
   * interval, retries failed sends and never drops one (see EventBatcher).
   */
  batcher(options: BatcherOptions = {}): EventBatcher {
    return new EventBatcher((events) => this.postBatch(events, this.singleFetch), options);
  }

  private async postBatch(events: IdentifiedEvent[], fetch: Fetch): Promise<BatchAcceptedEvent[]> {
    return (await this.post('/v1/events/batch', { body: { events }, fetch })).events;
  }
}
