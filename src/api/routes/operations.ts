import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { readRequeueOperation } from '../../delivery-records/requeue-operation';
import { notFound } from '../errors';
import { operationParamsSchema } from '../schemas/operation';
import { route } from '../validate';

/** `GET /v1/operations/{id}`: an operation the tenant started (a recover); any other answers 404. */
export function operationsRouter(temporal: Client): Router {
  const router = Router();
  router.get(
    '/:id',
    route({ params: operationParamsSchema }, async ({ params }, _req, res) => {
      const operation = await readRequeueOperation(temporal, params.id, { tenantId: res.locals.tenantId as string });
      if (!operation) throw notFound('operation');
      res.json({ operation });
    }),
  );
  return router;
}
