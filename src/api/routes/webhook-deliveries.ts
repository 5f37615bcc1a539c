import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { listDeliveries } from '../../deliveries/delivery-list';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { webhookDeliveriesQuerySchema } from '../schemas/delivery';
import { webhookIdParamsSchema } from '../schemas/webhook';
import { route } from '../validate';


/** `GET /v1/webhooks/{id}/deliveries`: newest first, from Temporal visibility. */
export function webhookDeliveriesRouter(models: Models, temporal: Client): Router {
  const router = Router({ mergeParams: true });
  router.get(
    '/',
    route({ params: webhookIdParamsSchema, query: webhookDeliveriesQuerySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      if (!(await models.Webhook.exists({ _id: params.id, tenantId }))) throw notFound('webhook');
      const page = await listDeliveries(
        temporal,
        {
          tenantId,
          webhookId: params.id,
          status: query.status,
          eventType: query.eventType,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
        },
        query.limit,
        query.cursor,
      );
      res.json(page);
    }),
  );
  return router;
}
