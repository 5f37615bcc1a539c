import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { readDelivery } from '../../deliveries/delivery-reader';
import { restartDelivery } from '../../deliveries/delivery-restart';
import { requeues } from '../../metrics/metrics';
import { TenantId } from '../../temporal/search-attributes';
import { ApiError, notFound } from '../errors';
import { deliveryIdParamsSchema } from '../schemas/delivery';
import { route } from '../validate';

/** `/v1/deliveries/{id}`: one delivery, its retry and its cancellation. */
export function deliveriesRouter(temporal: Client): Router {
  const router = Router();

  router.get(
    '/:id',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const delivery = await readDelivery(temporal, params.id, res.locals.tenantId as string);
      if (!delivery) throw notFound('delivery');
      res.json({ delivery });
    }),
  );

  router.post(
    '/:id/retry',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const outcome = await restartDelivery(temporal, params.id, res.locals.tenantId as string);
      if (outcome === 'not_found') throw notFound('delivery');
      if (outcome === 'delivered') throw new ApiError(409, 'already_delivered', 'this delivery was delivered; it is never sent twice');
      if (outcome === 'in_progress') throw new ApiError(409, 'delivery_in_progress', 'this delivery is still pending or retrying');
      requeues.inc({ source: 'retry' });
      res.status(202).json({ id: params.id, status: 'pending' });
    }),
  );

  router.post(
    '/:id/cancel',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const handle = temporal.workflow.getHandle(params.id);
      const description = await handle.describe().catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (!description || description.type !== 'DeliveryWorkflow' || description.typedSearchAttributes.get(TenantId) !== res.locals.tenantId) {
        throw notFound('delivery');
      }
      if (description.status.name !== 'RUNNING') throw new ApiError(409, 'delivery_not_running', 'only a pending or retrying delivery can be canceled');
      await handle.cancel();
      res.status(202).json({ id: params.id, status: 'canceled' });
    }),
  );

  return router;
}
