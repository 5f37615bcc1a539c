import { Router } from 'express';
import { deliveryPage } from '../delivery-page';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { webhookDeliveriesQuerySchema } from '../schemas/delivery';
import { webhookIdParamsSchema } from '../schemas/webhook';
import { route } from '../validate';

/** `GET /v1/webhooks/{id}/deliveries`: newest first, from the deliveries index. */
export function webhookDeliveriesRouter(models: Models): Router {
  const router = Router({ mergeParams: true });
  router.get(
    '/',
    route({ params: webhookIdParamsSchema, query: webhookDeliveriesQuerySchema }, async ({ params, query }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      // The webhook's existence and the page are read together; the page is only shown if it exists.
      const [exists, page] = await Promise.all([
        models.Webhook.exists({ _id: params.id, tenantId }),
        deliveryPage(models, { tenantId, webhookId: params.id }, query),
      ]);
      if (!exists) throw notFound('webhook');
      res.json(page);
    }),
  );
  return router;
}
