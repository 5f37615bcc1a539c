import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { runningRecover, startRequeueOperation } from '../../delivery-records/requeue-operation';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { DEFAULT_REQUEUE_RATE_PER_SECOND, recoverInputSchema } from '../schemas/operation';
import { webhookIdParamsSchema } from '../schemas/webhook';
import { route } from '../validate';

/** Most deliveries one recover starts again (the admin requeue's own bound); a later recover takes the rest. */
export const RECOVER_LIMIT = 100_000;

/**
 * `POST /v1/webhooks/{id}/recover`: the tenant's own bulk requeue of one webhook's failed
 * deliveries in a time window, once its receiver works again: the admin requeue's workflow, at its
 * default rate. While a recover of the webhook runs, asking again answers that one.
 */
export function webhookRecoverRouter(models: Models, temporal: Client, taskQueue: string): Router {
  const router = Router({ mergeParams: true });
  router.post(
    '/',
    route({ params: webhookIdParamsSchema, body: recoverInputSchema }, async ({ params, body }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      if (!(await models.Webhook.exists({ _id: params.id, tenantId }))) throw notFound('webhook');
      const running = await runningRecover(temporal, tenantId, params.id);
      if (running) {
        res.status(202).json({ operationId: running, alreadyRunning: true });
        return;
      }
      // A fixed end: the operation pages from its newest deliveries, so one that fails while it runs would be missed anyway.
      const until = body.until ?? new Date().toISOString();
      const operationId = await startRequeueOperation(
        temporal,
        taskQueue,
        { filter: { tenantId, webhookId: params.id, since: body.since, until }, limit: RECOVER_LIMIT, dryRun: false, ratePerSecond: DEFAULT_REQUEUE_RATE_PER_SECOND },
        { tenantId, webhookId: params.id },
      );
      res.status(202).json({ operationId, alreadyRunning: false });
    }),
  );
  return router;
}
