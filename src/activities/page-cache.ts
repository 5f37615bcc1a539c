import { LRUCache } from 'lru-cache';
import type { EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';

/**
 * The webhooks an event's fan-out matched, read in one query (up to a bound) and served to its
 * pages from memory: FerretDB 1.x cannot push `$in`, `$gt` or a sort down to PostgreSQL, so each
 * page query read and sorted every webhook of the tenant, and a fan-out to 10,000 webhooks read
 * 1,000,000 documents. Sorted by id; `from` is the cursor it was read after, `more` whether the
 * read stopped at its bound.
 */
export interface MatchList {
  from: string | null;
  webhooks: WebhookDoc[];
  more: boolean;
}

export interface PageCacheOptions {
  /** How long a webhook read for a page serves that page's first attempts. @default 30 s */
  webhookTtlMs?: number;
  /**
   * How long an event's match list serves its pages (so a page's webhooks are at most this old).
   * Longer than a page's: re-reading 10,000 webhooks takes seconds on FerretDB. @default 60 s
   */
  matchListTtlMs?: number;
  /** Events never change; they are kept for their retries. @default 10 min */
  eventTtlMs?: number;
  /**
   * Payload bytes (about) the kept events may hold: events are up to BODY_LIMIT_BYTES each, and
   * 2,000 of 256 KB would be half a gigabyte. @default 32 MiB
   */
  eventBytes?: number;
}

/**
 * What the fan-out read for a page, kept in the worker for that page's first attempts, so a page
 * of 100 deliveries costs one webhook query and one event read instead of 200. Local activities
 * run in the worker that runs their workflow task, so the page's attempts normally find it here;
 * after a worker change they read MongoDB themselves. Retries read the webhook live (its URL,
 * secret or state may have changed) and the event from here.
 */
export class PageCache {
  private readonly webhooks: LRUCache<string, WebhookDoc>;
  private readonly events: LRUCache<string, EventDoc>;
  private readonly matchLists: LRUCache<string, MatchList>;

  constructor({ webhookTtlMs = 30_000, matchListTtlMs = 60_000, eventTtlMs = 600_000, eventBytes = 32 * 1024 * 1024 }: PageCacheOptions = {}) {
    this.webhooks = new LRUCache({ max: 20_000, ttl: webhookTtlMs });
    // An event larger than the whole budget is not kept (its attempts read it from the database).
    this.events = new LRUCache({ max: 2_000, ttl: eventTtlMs, maxSize: eventBytes, sizeCalculation: (event) => Math.max(1, 2 * event.data.length) });
    // Few at a time, each up to MATCH_READ_LIMIT webhooks.
    this.matchLists = new LRUCache({ max: 4, ttl: matchListTtlMs });
  }

  matchList(key: string): MatchList | undefined {
    return this.matchLists.get(key);
  }

  putMatchList(key: string, list: MatchList): void {
    this.matchLists.set(key, list);
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
