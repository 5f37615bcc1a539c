import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { listDeliveries } from '../../deliveries/delivery-list';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { route } from '../validate';

export const deliveryStatusSchema = z.enum(['pending', 'retrying', 'delivered', 'failed', 'canceled']);
export const cursorSchema = z.string().max(4096).regex(/^[A-Za-z0-9_-]+$/, 'expected a cursor returned by a previous page');

const querySchema = z.strictObject({
  status: deliveryStatusSchema.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

/** `GET /v1/webhooks/{id}/deliveries`: newest first, from Temporal visibility. */
export function webhookDeliveriesRouter(models: Models, temporal: Client): Router {
  const router = Router({ mergeParams: true });
  router.get(
    '/',
    route({ params: z.object({ id: z.string().min(1).max(64) }), query: querySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      if (!(await models.Webhook.exists({ _id: params.id, tenantId }))) throw notFound('webhook');
      const page = await listDeliveries(
        temporal,
        {
          tenantId,
          webhookId: params.id,
          status: query.status,
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
