import { patched, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EventRef, FirstAttemptResult, MatchedWebhook } from '../delivery/types';

/**
 * The patch that hands a FIFO webhook's delivery to its line instead of making an inline first
 * attempt. Asked only for a page with such a webhook: a fan-out with none records no marker.
 */
export const FIFO_LINES = 'fifo-lines';

/** What a delivery waiting in its line shows as its reason. */
export const FIFO_QUEUED_REASON = "waiting for its turn in the webhook's FIFO line (not an attempt)";

/** The hand-over: the database being down must delay it, never drop a delivery, so retried without a limit. */
const { joinFifoLines } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Splits a page's deliveries: those of FIFO webhooks join their lines (no attempt here; each
 * line's sequencer runs them in acceptance order) and come back as `queued` results for the
 * page's record; the rest get their inline first attempts as before.
 */
export async function handOverOrdered(event: EventRef, todo: MatchedWebhook[]): Promise<{ inline: MatchedWebhook[]; queued: FirstAttemptResult[] }> {
  const ordered = todo.filter((webhook) => webhook.ordering === 'fifo');
  if (!ordered.length || !patched(FIFO_LINES)) return { inline: todo, queued: [] };
  const { tenantId, eventId, eventType } = event;
  const deliveries = ordered.map(({ deliveryId, webhookId, maxAttempts, host }) => ({ deliveryId, webhookId, maxAttempts, host }));
  await joinFifoLines({ tenantId, eventId, eventType, deliveries });
  return {
    inline: todo.filter((webhook) => webhook.ordering !== 'fifo'),
    queued: ordered.map(({ deliveryId, webhookId }) => ({ deliveryId, webhookId, outcome: 'queued', attempt: null, reason: FIFO_QUEUED_REASON })),
  };
}
