import type { EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';

/** A bounded map whose entries expire; the oldest entry goes first when it is full. */
class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly ttlMs: number, private readonly maxEntries: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

export interface PageCacheOptions {
  /** How long a webhook read for a page serves that page's first attempts. @default 30 s */
  webhookTtlMs?: number;
  /** Events never change; they are kept for their retries. @default 10 min */
  eventTtlMs?: number;
}

/**
 * What the fan-out read for a page, kept in the worker for that page's first attempts, so a page
 * of 100 deliveries costs one webhook query and one event read instead of 200. Local activities
 * run in the worker that runs their workflow task, so the page's attempts normally find it here;
 * after a worker change they read MongoDB themselves. Retries read the webhook live (its URL,
 * secret or state may have changed) and the event from here.
 */
export class PageCache {
  private readonly webhooks: ExpiringMap<WebhookDoc>;
  private readonly events: ExpiringMap<EventDoc>;

  constructor({ webhookTtlMs = 30_000, eventTtlMs = 600_000 }: PageCacheOptions = {}) {
    this.webhooks = new ExpiringMap(webhookTtlMs, 20_000);
    this.events = new ExpiringMap(eventTtlMs, 2_000);
  }

  webhook(tenantId: string, webhookId: string): WebhookDoc | undefined {
    return this.webhooks.get(`${tenantId}/${webhookId}`);
  }

  putWebhook(webhook: WebhookDoc): void {
    this.webhooks.set(`${webhook.tenantId}/${webhook._id}`, webhook);
  }

  event(key: string): EventDoc | undefined {
    return this.events.get(key);
  }

  putEvent(event: EventDoc): void {
    this.events.set(event._id, event);
  }
}
