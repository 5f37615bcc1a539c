import type { Models } from '../../src/models';
import type { WebhookDoc } from '../../src/models/webhook';
import { countersOf, type WebhookCounterDoc, type WebhookCounters } from '../../src/models/webhook-counter';

/** A webhook as stored: its document and its counters document (missing counters: zeros), or null. */
export async function storedWebhook(models: Models, webhookId: string): Promise<(WebhookDoc & WebhookCounters) | null> {
  const [doc, counters] = await Promise.all([
    models.Webhook.findById(webhookId).lean<WebhookDoc>(),
    models.WebhookCounter.findById(webhookId).lean<WebhookCounterDoc>(),
  ]);
  return doc && { ...doc, ...countersOf(counters) };
}
