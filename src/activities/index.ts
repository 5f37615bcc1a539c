import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { SecretBox } from '../crypto/secret-box';
import { DeliveryFailureType } from '../delivery/failure-types';
import type { WebhookHttpClient } from '../delivery/http-client';
import { classifyAttempt } from '../delivery/outcome';
import { delayAfterAttempt, maxAttempts } from '../delivery/retry-schedule';
import { buildSignedRequest } from '../delivery/signed-request';
import type { AttemptRecord, DeliveryInput, DeliveryOutcome, EventEnvelope, MatchPage } from '../delivery/types';
import { patternsMatching } from '../events/event-type';
import { deliveryId } from '../ids';
import { eventKey } from '../models/event';
import { createRequeueActivities } from './requeue';
import { signingSecrets } from '../signing/signing-secrets';
import type { Models } from '../models';

export interface ActivityDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  /** Upper bound on a receiver's `Retry-After`. @default 1 hour */
  retryAfterMaxMs?: number;
}

export interface MatchWebhooksInput {
  tenantId: string;
  eventId: string;
  eventType: string;
  /** Last webhook id of the previous page. */
  after: string | null;
  limit: number;
}

export const createActivities = ({ models, secretBox, http, retryAfterMaxMs = 3_600_000 }: ActivityDeps) => ({
  ...createRequeueActivities(),
  /** One page of the tenant's active webhooks subscribed to `eventType`, in id order. */
  async matchWebhooks({ tenantId, eventId, eventType, after, limit }: MatchWebhooksInput): Promise<MatchPage> {
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
  },

  /**
   * One HTTP attempt of a delivery. The webhook is read live (URL, secret, headers, state), so a
   * change made while a delivery is retrying applies from its next attempt. The attempt log is
   * carried across retries in heartbeat details and returned as the result or failure details.
   */
  async deliver(input: DeliveryInput): Promise<DeliveryOutcome> {
    const { info } = Context.current();
    const attempt = info.attempt;
    const previous = (info.heartbeatDetails as AttemptRecord[] | undefined) ?? [];
    const context = { deliveryId: input.deliveryId, eventId: input.eventId, webhookId: input.webhookId, attempt };

    const webhook = await models.Webhook.findOne({ _id: input.webhookId, tenantId: input.tenantId }).lean();
    if (!webhook || !webhook.active) {
      const reason = !webhook ? 'webhook was deleted' : (webhook.disabledReason ?? 'webhook was deactivated');
      log.info('delivery canceled', { ...context, reason });
      return { status: 'canceled', attempts: previous, reason };
    }
    const event = await models.Event.findById(eventKey(input.tenantId, input.eventId)).lean();
    if (!event) throw new Error(`event ${input.eventId} is missing from storage`);

    const now = new Date();
    const secrets = signingSecrets(webhook, secretBox, now);
    const envelope: EventEnvelope = {
      id: event.eventId,
      type: event.type,
      timestamp: event.acceptedAt.toISOString(),
      tenant_id: event.tenantId,
      data: JSON.parse(event.data),
      metadata: Object.fromEntries(event.metadata.map((m) => [m.name, m.value])),
    };
    const request = buildSignedRequest({
      deliveryId: input.deliveryId,
      envelope,
      secrets,
      customHeaders: webhook.headers.map((h) => ({ name: h.name as string, value: h.value as string })),
      now,
    });
    const result = await http.post(webhook.url, request.headers, request.body, webhook.timeoutSeconds * 1000);

    const record: AttemptRecord = {
      attempt,
      startedAt: now.toISOString(),
      durationMs: result.durationMs,
      statusCode: result.kind === 'response' ? result.statusCode : null,
      error: result.kind === 'error' ? `${result.errorClass}: ${result.message}` : null,
      response: result.kind === 'response' ? result.body : null,
    };
    const attempts = [...previous, record];
    Context.current().heartbeat(attempts);

    const outcome = classifyAttempt(result, Date.now());
    const Webhook = models.Webhook;
    switch (outcome.kind) {
      case 'delivered':
        await Webhook.updateOne(
          { _id: webhook._id },
          { $inc: { deliverySuccessCount: 1 }, $set: { lastTriggeredAt: now, consecutiveFailureCount: 0 } },
        );
        log.info('delivered', { ...context, statusCode: record.statusCode, durationMs: record.durationMs });
        return { status: 'delivered', attempts };
      case 'gone':
        await Webhook.updateOne(
          { _id: webhook._id },
          {
            $inc: { deliveryFailureCount: 1, consecutiveFailureCount: 1 },
            $set: { lastTriggeredAt: now, active: false, disabledReason: 'receiver answered 410 Gone' },
          },
        );
        log.warn('webhook disabled: 410 Gone', context);
        throw ApplicationFailure.create({ type: DeliveryFailureType.Gone, message: 'HTTP 410 Gone', details: [attempts], nonRetryable: true });
      case 'refused':
        await Webhook.updateOne({ _id: webhook._id }, { $inc: { deliveryFailureCount: 1, consecutiveFailureCount: 1 } });
        throw ApplicationFailure.create({ type: DeliveryFailureType.UrlRefused, message: outcome.reason, details: [attempts], nonRetryable: true });
      case 'retry': {
        const last = attempt >= input.maxAttempts;
        await Webhook.updateOne(
          { _id: webhook._id },
          last
            ? { $inc: { deliveryFailureCount: 1, consecutiveFailureCount: 1 }, $set: { lastTriggeredAt: now } }
            : { $set: { lastTriggeredAt: now } },
        );
        const scheduled = delayAfterAttempt(webhook.retrySchedule, attempt) ?? 0;
        const nextRetryDelay = Math.max(scheduled, Math.min(outcome.retryAfterMs ?? 0, retryAfterMaxMs));
        log.info(last ? 'delivery exhausted' : 'attempt failed, retry scheduled', { ...context, reason: outcome.reason, nextRetryDelay });
        throw ApplicationFailure.create({
          type: DeliveryFailureType.Retryable,
          message: outcome.reason,
          details: [attempts],
          nextRetryDelay,
        });
      }
    }
  },
});

export type Activities = ReturnType<typeof createActivities>;
