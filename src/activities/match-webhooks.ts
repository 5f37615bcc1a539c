import { patternsMatching } from '../events/event-type';
import { deliveryId } from '../ids';
import type { Models } from '../models';
import { delayAfterAttempt, maxAttempts } from '../delivery/retry-schedule';
import type { MatchedWebhook, MatchPage } from '../delivery/types';
import { eventKey, type EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import type { PageCache } from './page-cache';

export interface MatchWebhooksInput {
  tenantId: string;
  eventId: string;
  eventType: string;
  /** Last webhook id of the previous page. */
  after: string | null;
  limit: number;
}

/** One page (and one more, to know there is a next) of the tenant's active webhooks subscribed to `eventType`, in id order. */
function findPage(models: Models, { tenantId, eventType, after, limit }: MatchWebhooksInput) {
  return models.Webhook.find({
    tenantId,
    active: true,
    events: { $in: patternsMatching(eventType) },
    ...(after ? { _id: { $gt: after } } : {}),
  })
    .sort({ _id: 1 })
    .limit(limit + 1);
}

function matched(tenantId: string, eventId: string, w: Pick<WebhookDoc, '_id' | 'url' | 'retrySchedule'>): MatchedWebhook {
  return {
    webhookId: w._id,
    deliveryId: deliveryId(tenantId, eventId, w._id),
    maxAttempts: maxAttempts(w.retrySchedule),
    host: new URL(w.url).host,
  };
}

/**
 * The fan-out's page as fan-outs started before first attempts moved inline read it (their
 * histories schedule this activity, so it stays registered while such runs may exist).
 */
export function matchWebhooksActivity(models: Models) {
  return async function matchWebhooks(input: MatchWebhooksInput): Promise<MatchPage> {
    const webhooks = await findPage(models, input).select({ _id: 1, url: 1, retrySchedule: 1 }).lean<WebhookDoc[]>();
    const page = webhooks.slice(0, input.limit);
    return {
      webhooks: page.map((w) => matched(input.tenantId, input.eventId, w)),
      nextCursor: webhooks.length > input.limit ? page[page.length - 1]._id : null,
    };
  };
}

/**
 * A page of the fan-out (local activity): the matching webhooks read whole, once, and kept in the
 * worker with the event for the page's first attempts; and which of the page's deliveries are
 * already recorded (a reset or replayed fan-out), so none of them is sent again.
 */
export function loadFanoutPageActivity(models: Models, cache: PageCache) {
  return async function loadFanoutPage(input: MatchWebhooksInput): Promise<MatchPage> {
    const [webhooks, event] = await Promise.all([
      findPage(models, input).lean<WebhookDoc[]>(),
      models.Event.findById(eventKey(input.tenantId, input.eventId)).lean<EventDoc>(),
    ]);
    if (event) cache.putEvent(event);
    const page = webhooks.slice(0, input.limit);
    for (const webhook of page) cache.putWebhook(webhook);
    const found = page.map((w) => matched(input.tenantId, input.eventId, w));
    // tenantId and eventId lead: FerretDB pushes only equalities down to PostgreSQL, not `$in`.
    const recorded = new Set(
      (
        await models.Delivery.find({ tenantId: input.tenantId, eventId: input.eventId, _id: { $in: found.map((m) => m.deliveryId) } })
          .select({ _id: 1 })
          .lean()
      ).map((d) => d._id),
    );
    return {
      webhooks: found.map((m, i) => ({ ...m, firstDelayMs: delayAfterAttempt(page[i].retrySchedule, 1), recorded: recorded.has(m.deliveryId) })),
      nextCursor: webhooks.length > input.limit ? page[page.length - 1]._id : null,
    };
  };
}
