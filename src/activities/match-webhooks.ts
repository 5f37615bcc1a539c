import { patternsMatching } from '../events/event-type';
import { deliveryId } from '../ids';
import type { Models } from '../models';
import { maxAttempts } from '../delivery/retry-schedule';
import type { MatchPage } from '../delivery/types';

export interface MatchWebhooksInput {
  tenantId: string;
  eventId: string;
  eventType: string;
  /** Last webhook id of the previous page. */
  after: string | null;
  limit: number;
}

/** One page of the tenant's active webhooks subscribed to `eventType`, in id order. */
export function matchWebhooksActivity(models: Models) {
  return async function matchWebhooks({ tenantId, eventId, eventType, after, limit }: MatchWebhooksInput): Promise<MatchPage> {
    const webhooks = await models.Webhook.find({
      tenantId,
      active: true,
      events: { $in: patternsMatching(eventType) },
      ...(after ? { _id: { $gt: after } } : {}),
    })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .select({ _id: 1, url: 1, retrySchedule: 1 })
      .lean();
    const page = webhooks.slice(0, limit);
    return {
      webhooks: page.map((w) => ({
        webhookId: w._id,
        deliveryId: deliveryId(tenantId, eventId, w._id),
        maxAttempts: maxAttempts(w.retrySchedule),
        host: new URL(w.url).host,
      })),
      nextCursor: webhooks.length > limit ? page[page.length - 1]._id : null,
    };
  };
}
