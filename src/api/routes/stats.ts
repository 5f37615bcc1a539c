import { Router } from 'express';
import type { Models } from '../../models';
import { countDeliveries } from '../../delivery-records/delivery-list';

/** Delivered deliveries sampled for the average duration: the most recent of the window. */
const DURATION_SAMPLE = 200;

/** `GET /v1/stats`: webhook counts and the last 24 h of deliveries, from MongoDB (deliveries, never runs). */
export function statsRouter(models: Models): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const tenantId = res.locals.tenantId as string;
    const since = new Date(Date.now() - 24 * 3600 * 1000);
    const [active, total, deliveries, successful, failed, avgDurationMs] = await Promise.all([
      models.Webhook.countDocuments({ tenantId, active: true }),
      models.Webhook.countDocuments({ tenantId }),
      countDeliveries(models, { tenantId, since }),
      countDeliveries(models, { tenantId, since, status: 'delivered' }),
      countDeliveries(models, { tenantId, since, status: 'failed' }),
      averageDeliveredDurationMs(models, tenantId, since),
    ]);
    res.json({ webhooks: { active, total }, deliveries24h: { total: deliveries, successful, failed, avgDurationMs } });
  });
  return router;
}

/** Mean duration of the delivered attempt, over the most recent delivered deliveries (no aggregation: FerretDB v1). */
async function averageDeliveredDurationMs(models: Models, tenantId: string, since: Date): Promise<number | null> {
  const docs = await models.Delivery.find({ tenantId, createdAt: { $gte: since }, status: 'delivered' })
    .sort({ createdAt: -1 })
    .limit(DURATION_SAMPLE)
    .select({ durationMs: 1 })
    .lean();
  const known = docs.map((d) => d.durationMs).filter((d): d is number => typeof d === 'number');
  return known.length ? Math.round(known.reduce((a, b) => a + b, 0) / known.length) : null;
}
