import { Router } from 'express';
import type { Connection as MongoConnection } from 'mongoose';
import type { Connection } from '@temporalio/client';

/** A readiness probe answers within this bound, even while a server hangs (e.g. frozen). */
const CHECK_TIMEOUT_MS = 3000;

/** Resolves true when `check` succeeds within the bound, false otherwise. */
function within(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
  return Promise.race([check().then(() => true, () => false), timeout]).finally(() => clearTimeout(timer));
}

/** `/healthz`: the process is up. `/readyz`: Temporal and MongoDB answer. */
export function healthRouter(temporal: Connection, mongo: MongoConnection): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporalUp, mongodb] = await Promise.all([
      within(() => temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => temporal.healthService.check({}))),
      within(() => (mongo.db ? mongo.db.admin().ping() : Promise.reject(new Error('not connected')))),
    ]);
    res.status(temporalUp && mongodb ? 200 : 503).json({ status: temporalUp && mongodb ? 'ready' : 'unavailable', temporal: temporalUp, mongodb });
  });
  return router;
}
