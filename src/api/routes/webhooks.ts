import { Router } from 'express';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/secret-box';
import { UrlGuard, UrlRefusedError } from '../../delivery/url-guard';
import { newId } from '../../ids';
import type { Models } from '../../models';
import type { WebhookDoc } from '../../models/webhook';
import { generateWebhookSecret } from '../../signing/webhook-secret';
import { ApiError, notFound } from '../errors';
import { webhookInputSchema, type WebhookView } from '../schemas/webhook';
import { route } from '../validate';

export interface WebhooksRouterDeps {
  models: Models;
  secretBox: SecretBox;
  urlGuard: UrlGuard;
  defaultTimeoutSeconds: number;
}

const toPairs = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).map(([name, value]) => ({ name, value }));
const fromPairs = (pairs: readonly { name?: string | null; value?: string | null }[]) =>
  Object.fromEntries(pairs.map((p) => [p.name ?? '', p.value ?? '']));

/** The public shape of a webhook: never a secret. */
export function webhookView(doc: WebhookDoc): WebhookView {
  return {
    id: doc._id,
    url: doc.url,
    events: [...doc.events],
    description: doc.description ?? null,
    active: doc.active,
    headers: fromPairs(doc.headers),
    retrySchedule: doc.retrySchedule?.length ? [...doc.retrySchedule] : null,
    timeoutSeconds: doc.timeoutSeconds,
    metadata: fromPairs(doc.metadata),
    deliverySuccessCount: doc.deliverySuccessCount,
    deliveryFailureCount: doc.deliveryFailureCount,
    lastTriggeredAt: doc.lastTriggeredAt?.toISOString() ?? null,
    disabledReason: doc.disabledReason ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

export function webhooksRouter({ models, secretBox, urlGuard, defaultTimeoutSeconds }: WebhooksRouterDeps): Router {
  const router = Router();

  function checkUrl(url: string): void {
    try {
      urlGuard.checkUrl(url);
    } catch (err) {
      if (err instanceof UrlRefusedError) throw new ApiError(400, 'validation_failed', 'request is invalid', [{ path: 'url', message: err.reason }]);
      throw err;
    }
  }

  router.post(
    '/',
    route({ body: webhookInputSchema }, async ({ body }, _req, res) => {
      checkUrl(body.url);
      const secret = generateWebhookSecret();
      const doc = await models.Webhook.create({
        _id: newId('wh'),
        tenantId: res.locals.tenantId as string,
        url: body.url,
        events: body.events,
        description: body.description ?? null,
        active: body.active ?? true,
        headers: toPairs(body.headers),
        metadata: toPairs(body.metadata),
        retrySchedule: body.retrySchedule ?? undefined,
        timeoutSeconds: body.timeoutSeconds ?? defaultTimeoutSeconds,
        secret: secretBox.encrypt(secret),
      });
      res.status(201).json({ webhook: { ...webhookView(doc.toObject() as WebhookDoc), secret } });
    }),
  );

  router.get(
    '/:id',
    route({ params: idParams }, async ({ params }, _req, res) => {
      const doc = await models.Webhook.findOne({ _id: params.id, tenantId: res.locals.tenantId }).lean();
      if (!doc) throw notFound('webhook');
      res.json({ webhook: webhookView(doc as WebhookDoc) });
    }),
  );

  return router;
}
