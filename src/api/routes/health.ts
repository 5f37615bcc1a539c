import { Router } from 'express';
import type { Connection as MongoConnection } from 'mongoose';
import type { Connection } from '@temporalio/client';

/** A readiness probe answers within this bound, even while a server hangs (e.g. frozen). */
const CHECK_TIMEOUT_MS = 3000;

/**
 * Resolves true when `check` succeeds within the bound, false otherwise. A check that runs out
 * of time is aborted, so no call of it outlives the answer: the Temporal client retries a call
 * that a closing connection fails, and that retry would throw on the closed channel.
 */
async function within(check: (signal: AbortSignal) => Promise<unknown>, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(false);
    }, timeoutMs);
  });
  try {
    return await Promise.race([check(abort.signal).then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Temporal answers a health check within the bound; a check that gives up is cancelled. */
export function temporalAnswers(temporal: Connection, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  return within((signal) => temporal.withAbortSignal(signal, () => temporal.healthService.check({})), timeoutMs);
}

/** `/healthz`: the process is up. `/readyz`: Temporal and MongoDB answer. */
export function healthRouter(temporal: Connection, mongo: MongoConnection): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporalUp, mongodb] = await Promise.all([
      temporalAnswers(temporal),
      within(() => (mongo.db ? mongo.db.admin().ping() : Promise.reject(new Error('not connected')))),
    ]);
    res.status(temporalUp && mongodb ? 200 : 503).json({ status: temporalUp && mongodb ? 'ready' : 'unavailable', temporal: temporalUp, mongodb });
  });
  return router;
}
