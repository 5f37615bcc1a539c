import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { readRequeueOperation, startRequeueOperation } from '../../delivery-records/requeue-operation';
import { notFound } from '../errors';
import { operationParamsSchema, requeueInputSchema } from '../schemas/operation';
import { route } from '../validate';

/** `/v1/admin/requeue` and `/v1/admin/operations/{id}`: bulk requeue as a durable workflow. */
export function adminRequeueRouter(temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.post(
    '/requeue',
    route({ body: requeueInputSchema }, async ({ body }, _req, res) => {
      const { limit, dryRun, ratePerSecond, ...filter } = body;
      const operationId = await startRequeueOperation(temporal, taskQueue, { filter, limit, dryRun, ratePerSecond });
      res.status(202).json({ operationId });
    }),
  );

  // Every operation, a tenant's recovers included.
  router.get(
    '/operations/:id',
    route({ params: operationParamsSchema }, async ({ params }, _req, res) => {
      const operation = await readRequeueOperation(temporal, params.id);
      if (!operation) throw notFound('operation');
      res.json({ operation });
    }),
  );

  return router;
}
