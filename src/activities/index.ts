import type { SecretBox } from '../crypto/secret-box';
import type { WebhookHttpClient } from '../delivery/http-client';
import { DEFAULT_AUTO_DISABLE, type AutoDisablePolicy } from '../delivery/webhook-health';
import type { Models } from '../models';
import { deliverActivity } from './deliver';
import { matchWebhooksActivity } from './match-webhooks';
import { recordDeliveryOutcomeActivity } from './record-delivery-outcome';
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
  /** Counters, auto-disable and operational events; returns the reason if it disabled the webhook. */
  recordDeliveryOutcome: recordDeliveryOutcomeActivity(models, autoDisable),
});

export type Activities = ReturnType<typeof createActivities>;
