import type { SecretBox } from '../crypto/secret-box';
import type { WebhookHttpClient } from '../delivery/http-client';
import { DEFAULT_AUTO_DISABLE, recordDeliveryOutcome, type AutoDisablePolicy, type DeliveryOutcomeRecord } from '../delivery/webhook-health';
import type { Models } from '../models';
import { deliverActivity } from './deliver';
import { matchWebhooksActivity } from './match-webhooks';
import { createRequeueActivities } from './requeue';

export type { MatchWebhooksInput } from './match-webhooks';

export interface ActivityDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  /** Upper bound on a receiver's `Retry-After`. @default 1 hour */
  retryAfterMaxMs?: number;
  /** When failing webhooks are disabled. @default 20 consecutive failed deliveries or 5 days failing */
  autoDisable?: AutoDisablePolicy;
}

export const createActivities = ({ models, secretBox, http, retryAfterMaxMs = 3_600_000, autoDisable = DEFAULT_AUTO_DISABLE }: ActivityDeps) => ({
  ...createRequeueActivities(),
  matchWebhooks: matchWebhooksActivity(models),
  deliver: deliverActivity({ models, secretBox, http, retryAfterMaxMs }),
  /** Counters and auto-disable, once per finished delivery; returns the reason if it disabled the webhook. */
  async recordDeliveryOutcome(record: DeliveryOutcomeRecord): Promise<string | null> {
    return recordDeliveryOutcome(models, record, autoDisable, new Date());
  },
});

export type Activities = ReturnType<typeof createActivities>;
