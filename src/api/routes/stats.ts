import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import type { Models } from '../../models';
import { countDeliveries } from '../../deliveries/delivery-list';
import { deliveryQuery } from '../../deliveries/visibility-query';

/** Deliveries sampled for the average duration: the most recent delivered ones of the window. */
const DURATION_SAMPLE = 200;

/** `GET /v1/stats`: webhook counts from MongoDB, delivery counts of the last 24 h from visibility. */
export function statsRouter(models: Models, temporal: Client): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const tenantId = res.locals.tenantId as string;
    const since = new Date(Date.now() - 24 * 3600 * 1000);
    const [active, total, deliveries, successful, failed, avgDurationMs] = await Promise.all([
      models.Webhook.countDocuments({ tenantId, active: true }),
      models.Webhook.countDocuments({ tenantId }),
      countDeliveries(temporal, { tenantId, since }),
      countDeliveries(temporal, { tenantId, since, status: 'delivered' }),
      countDeliveries(temporal, { tenantId, since, status: 'failed' }),
      averageDeliveredDurationMs(temporal, tenantId, since),
    ]);
    res.json({ webhooks: { active, total }, deliveries24h: { total: deliveries, successful, failed, avgDurationMs } });
  });
  return router;
}

/** Mean time from a delivery's start to its successful end, over the recent delivered ones. */
async function averageDeliveredDurationMs(temporal: Client, tenantId: string, since: Date): Promise<number | null> {
  const { namespace, loadedDataConverter } = temporal.workflow.options;
  const { executions } = await temporal.workflowService.listWorkflowExecutions({
    namespace,
    query: deliveryQuery({ tenantId, since, status: 'delivered' }),
    pageSize: DURATION_SAMPLE,
  });
  const durations = await Promise.all(
    executions.map(async (raw) => {
      const info = await executionInfoFromRaw(raw, loadedDataConverter, raw, namespace);
      return info.closeTime ? info.closeTime.getTime() - info.startTime.getTime() : undefined;
    }),
  );
  const known = durations.filter((d): d is number => d !== undefined);
  return known.length ? Math.round(known.reduce((a, b) => a + b, 0) / known.length) : null;
}
