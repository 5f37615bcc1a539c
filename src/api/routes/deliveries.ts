import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { readDelivery } from '../../delivery-records/delivery-reader';
import { resendDelivery } from '../../delivery-records/delivery-resend';
import { indexedDelivery, restartDelivery } from '../../delivery-records/delivery-restart';
import { requeues } from '../../metrics/metrics';
import type { Models } from '../../models';
import { ApiError, notFound } from '../errors';
import { deliveryIdParamsSchema, deliveryLogQuerySchema } from '../schemas/delivery';
import { deliveryPage } from '../delivery-page';
import { route } from '../validate';

/** `/v1/deliveries`: the tenant's delivery log; `/v1/deliveries/{id}`: one delivery, its retry, resend and cancellation. */
export function deliveriesRouter(temporal: Client, models: Models, taskQueue: string): Router {
  const router = Router();

  router.get(
    '/',
    route({ query: deliveryLogQuerySchema }, async ({ query }, _req, res) => {
      res.json(await deliveryPage(models, { tenantId: res.locals.tenantId as string, webhookId: query.webhookId, eventId: query.eventId }, query));
    }),
  );

  router.get(
    '/:id',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const delivery = await readDelivery(temporal, models, params.id, res.locals.tenantId as string);
      if (!delivery) throw notFound('delivery');
      res.json({ delivery });
    }),
  );

  router.post(
    '/:id/retry',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const outcome = await restartDelivery(temporal, models, params.id, taskQueue, res.locals.tenantId as string);
      if (outcome === 'not_found') throw notFound('delivery');
      if (outcome === 'delivered') throw new ApiError(409, 'already_delivered', 'this delivery was delivered; it is never sent twice');
      if (outcome === 'in_progress') throw new ApiError(409, 'delivery_in_progress', 'this delivery is still pending or retrying');
      requeues.inc({ source: 'retry' });
      res.status(202).json({ id: params.id, status: 'pending' });
    }),
  );

  router.post(
    '/:id/resend',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const outcome = await resendDelivery(temporal, models, params.id, taskQueue, res.locals.tenantId as string);
      if (outcome === 'not_found') throw notFound('delivery');
      if (outcome === 'not_delivered') throw new ApiError(409, 'not_delivered', 'only a delivered delivery can be resent; retry a failed or canceled one');
      if (outcome === 'in_progress') throw new ApiError(409, 'delivery_in_progress', 'this delivery is being sent (a retry or a resend runs)');
      res.status(202).json({ id: params.id, status: 'delivered' });
    }),
  );

  router.post(
    '/:id/cancel',
    route({ params: deliveryIdParamsSchema }, async ({ params }, _req, res) => {
      const delivery = await indexedDelivery(temporal, models, params.id, res.locals.tenantId as string);
      if (!delivery) throw notFound('delivery');
      if (delivery.status !== 'pending' && delivery.status !== 'retrying') {
        throw new ApiError(409, 'delivery_not_running', 'only a pending or retrying delivery can be canceled');
      }
      // Only a delivery being retried is still open: its DeliveryWorkflow records the cancellation.
      const handle = temporal.workflow.getHandle(params.id);
      await handle.cancel().catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // Pending with no run of its own: held by its event's fan-out, or waiting in its FIFO line.
        throw new ApiError(409, 'delivery_in_progress', 'this delivery has no run of its own yet (its first attempt is being made by its event\'s fan-out, or it waits in its FIFO line); it can be canceled once it is retrying');
      });
      res.status(202).json({ id: params.id, status: 'canceled' });
    }),
  );

  return router;
}
