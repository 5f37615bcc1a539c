import { Router } from 'express';
import type { Connection as MongoConnection } from 'mongoose';
import type { Connection } from '@temporalio/client';

/** `/healthz`: the process is up. `/readyz`: Temporal and MongoDB answer. */
export function healthRouter(temporal: Connection, mongo: MongoConnection): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporalUp, mongodb] = await Promise.all([
      temporal.healthService
        .check({})
        .then(() => true)
        .catch(() => false),
      (mongo.db ? mongo.db.admin().ping() : Promise.reject(new Error('not connected'))).then(() => true).catch(() => false),
    ]);
    res.status(temporalUp && mongodb ? 200 : 503).json({ status: temporalUp && mongodb ? 'ready' : 'unavailable', temporal: temporalUp, mongodb });
  });
  return router;
}
