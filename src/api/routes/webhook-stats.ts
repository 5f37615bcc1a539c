import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { deliveryHistogram } from '../../delivery-records/delivery-histogram';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { webhookStatsQuerySchema } from '../schemas/webhook-stats';
import { webhookIdParamsSchema } from '../schemas/webhook';
import { route } from '../validate';

/** `GET /v1/webhooks/{id}/stats`: deliveries per hour by outcome, and recent attempt latency. */
export function webhookStatsRouter(models: Models, temporal: Client): Router {
  const router = Router({ mergeParams: true });
  router.get(
    '/',
    route({ params: webhookIdParamsSchema, query: webhookStatsQuerySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      if (!(await models.Webhook.exists({ _id: params.id, tenantId }))) throw notFound('webhook');
      res.json(await deliveryHistogram(temporal, models, tenantId, params.id, query.hours));
    }),
  );
  return router;
}
